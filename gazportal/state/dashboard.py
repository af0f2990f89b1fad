"""The account dashboard (/dashboard?account=<id>): one of the customer's accounts with its balance,
last month, meters and the reading form of each meter, checked while typing.

Thin: every handler is declared (``state/contract.py``: access and arguments are checked before the
body runs, the user comes in ``ctx``) and calls ``services.dashboard`` / ``services.readings`` with
the customer's own account ids (the services enforce ownership, the window, the monthly limit and
every rule of a reading). The time comes from the module-level :func:`now`, so tests can fix the day.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import dashboard as svc
from gazportal.services import i18n, readings
from gazportal.services import reviews as reviews_svc
from gazportal.services.errors import DomainError
from gazportal.services.readings import ReadingCheck, ReadingRefused, ReadingSentToReview
from gazportal.state.contract import (
    CUSTOMER, BadArguments, Ctx, Flag, Form, FormMixin, Id, Text, call, engine, handler, ident, utility, say,
)
from gazportal.state.i18n import resay_on_language_change
from gazportal.state.views import AccountInfo, AccountOption, MeterView, ReadingRow, Verdict, VolumeLine

MAX_READING_INPUT = 40  # longer than any meter (12 digits) with spaces around it
MAX_READING_DIGITS = 12  # the most digits a meter has (ck_meter_digits)
# The reading form: the meter (hidden) and the value as typed (not stripped: the service says what
# is wrong with it); Reflex's copy of the input comes as rd_<meter id>.
READING_FORM = Form(("meter", "reading"), prefix="rd", strip=False,
                    limits={"meter": 20, "reading": MAX_READING_INPUT})


def now() -> datetime:
    """The clock of this page (tests replace it)."""
    return datetime.now(UTC)


def _sentence(text: str) -> str:
    """A sentence ending in a date whose format ends with a dot (uk "30 лист. 2026 р.") gets one dot."""
    return text[:-1] if text.endswith("..") else text


def _money(amount: Decimal, lang: str) -> str:
    return i18n.format_money(amount, utility().currency.code, lang)


def _volume_text(volume: int | Decimal, unit: str, lang: str) -> str:
    return i18n.format_units(volume, unit, lang)


# The words of the tick box that confirms each kind of warning (services.readings' warning_kind).
CONFIRM_LABELS = {"jump": "dashboard.confirm_jump", "rollover": "dashboard.confirm_rollover",
                  "zero": "dashboard.confirm_zero"}


def live_result(check: ReadingCheck, lang: str) -> Verdict:
    """What the form says under the input for a checked value: kind ok|warning|error and texts."""
    note = "" if check.note is None else say(check.note, lang)
    if check.error is not None:
        return Verdict("error", say(check.error, lang), note=note)
    volume = "" if check.volume is None else _volume_text(check.volume, check.unit, lang)
    cost = "" if check.cost is None else _money(check.cost, lang)
    if check.volume is None:
        ok = i18n.t("dashboard.live.ok_first", lang)
    elif check.cost is None:
        ok = i18n.t("dashboard.live.ok_volume", lang, volume=volume)
    else:
        ok = i18n.t("dashboard.live.ok_cost", lang, volume=volume, cost=cost)
    if check.warning is not None:  # the volume without "looks right": never next to a warning
        facts = "" if check.volume is None else i18n.t(
            "dashboard.live.facts_volume" if check.cost is None else "dashboard.live.facts_cost", lang,
            volume=volume, cost=cost)
        kind = check.warning_kind or ""
        # A reading for review needs no tick: sending it sends it to staff, it is never booked.
        label = "" if kind not in CONFIRM_LABELS else i18n.t(
            CONFIRM_LABELS[kind], lang, top=i18n.format_number(check.max_value, lang))
        return Verdict("warning", say(check.warning, lang), volume, cost, facts, note, kind, label)
    return Verdict("ok", ok, volume, cost, note=note)


class DashboardState(FormMixin, rx.State):
    """What the dashboard shows; nothing here decides who may see or send what."""

    PERSONAL: ClassVar[bool] = True

    loaded: bool = False
    accounts: list[AccountOption] = []
    account_id: str = ""
    info: AccountInfo = AccountInfo()
    last_volumes: list[VolumeLine] = []  # last month's volume of each service, with its unit
    in_debt: bool = False
    window_open: bool = False
    window_text: str = ""
    meters: list[MeterView] = []
    history: dict[str, list[ReadingRow]] = {}  # meter id -> its previous readings
    # meter id -> {status: open|accepted|rejected, text, reason}: its reading's staff review
    review_notes: dict[str, dict[str, str]] = {}
    live: dict[str, Verdict] = {}  # meter id -> the check of what is typed
    confirm: dict[str, bool] = {}
    result: dict[str, Verdict] = {}  # meter id -> kind/text after a submission
    form_key: int = 0
    shown_lang: str = ""  # the language the texts above are in
    _sent: dict[str, str] = {}  # meter id -> the value just stored (backend only)
    # meter id -> (warning kind, value) the tick box was ticked for: a tick confirms that warning
    # of that value only (a quick edit and Enter before the live check never borrows it).
    _confirmed: dict[str, tuple[str, int]] = {}
    _checked: dict[str, tuple[str, int]] = {}  # meter id -> (warning kind, value) of the live check

    # --- helpers ----------------------------------------------------------------------------

    def _meter_ids(self) -> set[str]:
        return {m.id for m in self.meters}

    def _may_be_busy(self, what: str) -> bool:
        """A reading form is busy while it is sent: "reading-<meter id>" of a meter shown."""
        return what.startswith("reading-") and what.removeprefix("reading-") in self._meter_ids()

    def _fill(self, cards: list, dash: svc.Dashboard, lang: str) -> None:
        self.accounts = [AccountOption(str(c.id), c.number, f"{c.number} · {c.address}") for c in cards]
        self.account_id = str(dash.account.id)
        self.shown_lang = lang
        money = _money(abs(dash.balance), lang)
        if dash.in_debt:
            balance = i18n.t("dashboard.balance.debt", lang, amount=money)
        elif dash.balance > 0:
            balance = i18n.t("dashboard.balance.credit", lang, amount=money)
        else:
            balance = i18n.t("dashboard.balance.zero", lang)
        self.in_debt = dash.in_debt
        self.info = AccountInfo(
            number=dash.account.number,
            holder=dash.account.holder_name,
            address=dash.account.address,
            balance=balance,
            last_period=i18n.t("dashboard.last_period", lang, period=i18n.format_period(dash.last_period, lang)),
            last_charged=_money(dash.last_charged, lang),
        )
        self.last_volumes = [VolumeLine(v.service, i18n.t(f"services.{v.service}", lang),
                                        i18n.format_units(v.volume, v.unit, lang)) for v in dash.last_volumes]
        w = dash.window
        self.window_open = w.open
        # the window's dates and the month its readings count for (Kremenchukgaz: sent on 3 December,
        # a reading for November)
        dates = dict(opens=i18n.format_date(w.opens_on, lang), closes=i18n.format_date(w.closes_on, lang),
                     period=_period(w.period, lang))
        self.window_text = _sentence(
            i18n.t("dashboard.window.open" if w.open else "dashboard.window.closed", lang, **dates))
        meters, history = [], {}
        for m in dash.meters:
            st = m.status
            last = m.last
            note = ""
            if not st.can_submit:
                if not st.meter_active:
                    note = i18n.t("errors.meter_inactive", lang, serial=m.serial)
                elif not st.window.open:
                    note = _sentence(i18n.t("dashboard.closed_note", lang, **dates))
                else:
                    note = _sentence(i18n.t(
                        "dashboard.limit_note", lang, used=st.submissions_used, limit=st.submissions_limit,
                        period=_period(st.period, lang),
                        opens=i18n.format_date(readings.next_window(utility(), st.window).opens_on, lang)))
            previous = _reading_row(last, m.unit, lang) if last else ReadingRow()
            meters.append(MeterView(
                id=str(m.id),
                serial=m.serial,
                title=i18n.t("dashboard.meter", lang, service=i18n.t(f"services.{m.service}", lang), serial=m.serial),
                hint=i18n.t("dashboard.reading_hint", lang, digits=m.digits),
                last_value=previous.value,
                last_date=previous.date,
                last_source=previous.source,
                left=i18n.t("dashboard.left", lang, left=st.submissions_left, limit=st.submissions_limit,
                            period=_period(st.period, lang)),
                can_submit=st.can_submit,
                note=note,
                reading_for=i18n.t("dashboard.reading_for", lang, period=_period(st.period, lang)),
                unit=m.unit,
            ))
            history[str(m.id)] = [_reading_row(h, m.unit, lang) for h in m.history]
        self.meters, self.history = meters, history

    async def _show(self, user_id: int, account_id: int | None, lang: str) -> bool:
        """Load the dashboard of ``account_id`` (None: the first account). False when refused."""
        moment = now()

        def read():
            with read_session(engine()) as s:
                from gazportal.services import accounts as acc_svc

                cards = acc_svc.list_accounts(s, user_id)
                aid = account_id if account_id is not None else (cards[0].id if cards else None)
                if aid is None:
                    return cards, None
                return cards, svc.account_dashboard(s, utility(), user_id, aid, now=moment)

        try:
            cards, dash = await call(read)
        except DomainError as e:
            self.error = say(e, lang)
            return False
        if dash is None:
            self._show_nothing()
            return True
        self._fill(cards, dash, lang)
        await self._fill_reviews(lang)
        return True

    async def _fill_reviews(self, lang: str) -> None:
        """Each meter's reading held for staff, or staff's decision on it with their reason
        (``services.reviews.notices_for``; issue 16 point 6), said in ``lang``."""
        ids = [int(m.id) for m in self.meters]
        moment = now()

        def read():
            with read_session(engine()) as s:
                return reviews_svc.notices_for(s, ids, now=moment)

        notes = await call(read)
        self.review_notes = {str(mid): {
            "status": n.status, "reason": n.reason,
            "text": i18n.t(f"review.notice.{n.status}", lang, value=i18n.format_units(n.value, n.unit, lang),
                           period=i18n.format_period(n.period, lang, in_sentence=True)),
        } for mid, n in notes.items()}

    def _show_nothing(self) -> None:
        self.accounts, self.account_id, self.meters, self.history, self.info = [], "", [], {}, AccountInfo()
        self.review_notes = {}
        self.last_volumes = []

    def _reset_forms(self) -> None:
        self.live, self.confirm, self.result, self._sent = {}, {}, {}, {}
        self._confirmed, self._checked = {}, {}
        self.form_key += 1

    # --- handlers ---------------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER)
    async def load(self, ctx: Ctx):
        """on_load of /dashboard: the account from ?account=<id>, else the first one."""
        self.error = ""
        raw = self.router.url.query_parameters.get("account", "") if self.router else ""
        aid = None
        if raw:
            try:
                aid = ident(raw)
            except BadArguments:
                aid = -1  # refused by the service like a foreign id
        self._reset_forms()
        if not await self._show(ctx.user_id, aid, ctx.lang):
            # Not one of theirs (or not an id): say so, and show their first account instead.
            self._show_nothing()
            error = self.error
            await self._show(ctx.user_id, None, ctx.lang)
            self.error = error
        self.loaded = True
        return None

    @rx.event
    @handler(CUSTOMER, account_id=Id())
    async def switch_account(self, ctx: Ctx, account_id: int):
        """The account switcher: another of the customer's accounts (a foreign id shows nothing new)."""
        self.error = ""
        before = self.account_id
        if await self._show(ctx.user_id, account_id, ctx.lang):
            if self.account_id != before:
                self._reset_forms()
            return rx.call_script(f"window.history.replaceState(null, '', '/dashboard?account={account_id}')")
        return None

    @rx.event
    @handler(CUSTOMER)
    async def relang(self, ctx: Ctx):
        """The language was switched on this page (I18nState.set_language runs this next): say it
        all again in the new language. Nothing when the texts are already in it."""
        if not self.account_id or ctx.lang == self.shown_lang:
            return None
        self.live, self.result = {}, {}
        await self._show(ctx.user_id, int(self.account_id), ctx.lang)
        return None

    @rx.event
    @handler(CUSTOMER, meter_id=Id(), raw=Text(MAX_READING_INPUT, strip=False))
    async def type_reading(self, ctx: Ctx, meter_id: int, raw: str):
        """Live check of what is typed (debounced in the browser); writes nothing."""
        mid, value, lang, user_id = meter_id, raw, ctx.lang, ctx.user_id
        key = str(mid)
        if value == self._sent.get(key):
            return None  # a late (debounced) echo of what was just sent: the form is fresh again
        self._sent.pop(key, None)
        shown = self.result.get(key)
        if shown is not None and shown.kind == "error":
            result = dict(self.result)
            result.pop(key, None)
            self.result = result
        if not value.strip():
            live = dict(self.live)
            live.pop(key, None)
            self.live = live
            return None
        moment = now()

        def check():
            with read_session(engine()) as s:
                allowed = svc.allowed_account_ids(s, user_id)
                return readings.check_reading(s, utility(), mid, value, now=moment, allowed_account_ids=allowed)

        try:
            checked = await call(check)
        except DomainError as e:
            self.error = say(e, lang)
            return None
        self._show_check(key, checked, lang)
        return None

    def _forget(self, key: str) -> None:
        """A meter's live check and tick go (after its form was sent)."""
        self.live = {k: v for k, v in self.live.items() if k != key}
        self.confirm = {k: v for k, v in self.confirm.items() if k != key}
        self._confirmed = {k: v for k, v in self._confirmed.items() if k != key}
        self._checked = {k: v for k, v in self._checked.items() if k != key}

    def _show_check(self, key: str, checked: ReadingCheck, lang: str) -> None:
        """Show a check under the input; a tick for another warning or another value goes away."""
        self.live = {**self.live, key: live_result(checked, lang)}
        if checked.warning_kind is not None and checked.value is not None:
            self._checked = {**self._checked, key: (checked.warning_kind, checked.value)}
        else:
            self._checked = {k: v for k, v in self._checked.items() if k != key}
        if self.confirm.get(key) and self._confirmed.get(key) != self._checked.get(key):
            self.confirm = {**self.confirm, key: False}
            self._confirmed = {k: v for k, v in self._confirmed.items() if k != key}

    @rx.event
    @handler(CUSTOMER, meter_id=Id(), checked=Flag())
    def set_confirm(self, ctx: Ctx, meter_id: int, checked: bool):
        """The "I have checked this reading" box for an implausible jump (a meter shown only)."""
        key = str(meter_id)
        if key in self._meter_ids():
            self.confirm = {**self.confirm, key: checked}
            shown = self._checked.get(key)
            if checked and shown is not None:
                self._confirmed = {**self._confirmed, key: shown}
            else:
                self._confirmed = {k: v for k, v in self._confirmed.items() if k != key}

    @rx.event
    @handler(CUSTOMER, creates=True, form=READING_FORM)
    async def submit(self, ctx: Ctx, form: dict[str, str]):
        """Send one meter's reading: the form's ``meter`` and ``reading`` fields (and its
        submission id: a repeat of the same form stores nothing)."""
        mid = ident(form["meter"])
        reading, lang, user_id = form["reading"], ctx.lang, ctx.user_id
        key = str(mid)
        moment = now()
        confirmed = self._confirmed.get(key) if self.confirm.get(key) is True else None
        kind = ""
        if confirmed is not None:
            try:
                typed = readings.parse_reading(reading, MAX_READING_DIGITS)
            except ReadingRefused:
                typed = None
            kind = confirmed[0] if typed == confirmed[1] else ""  # ticked for this very value

        def send():
            with read_session(engine()) as s:
                allowed = svc.allowed_account_ids(s, user_id)
            return readings.submit_reading(
                engine(), utility(), mid, reading, user_id=user_id, now=moment, confirm=kind == "jump",
                rollover=kind == "rollover", confirm_zero=kind == "zero", allowed_account_ids=allowed,
            )

        try:
            sub = await call(send)
        except ReadingSentToReview as e:  # stored for staff, not booked: said so, the form is fresh
            text = say(e, lang)
            self._forget(key)
            self.result = {**self.result, key: Verdict("review", text)}
            self._sent = {**self._sent, key: reading}
            self.form_key += 1
            return rx.toast.info(text)
        except ReadingRefused as e:
            text = say(e, lang)
            self.result = {**self.result, key: Verdict("error", text)}
            if e.check is not None:
                self._show_check(key, e.check, lang)
            return rx.toast.error(text)
        except DomainError as e:
            text = say(e, lang)
            self.error = text
            return rx.toast.error(text)
        serial = next((m.serial for m in self.meters if m.id == key), "")
        unit = next((m.unit for m in self.meters if m.id == key), "")
        text = i18n.t(
            "dashboard.sent", lang, value=i18n.format_units(sub.reading.value, unit, lang) if unit else
            i18n.format_quantity(sub.reading.value, lang), serial=serial,
            left=sub.submissions_left, limit=sub.check.submissions_limit, period=_period(sub.reading.period, lang),
        )
        if sub.check.note is not None:
            text = f"{text} {say(sub.check.note, lang)}"
        if self.account_id:
            await self._show(user_id, int(self.account_id), lang)
        self._forget(key)
        self.result = {**self.result, key: Verdict("ok", text)}
        self._sent = {**self._sent, key: reading}
        self.form_key += 1
        return rx.toast.success(text)


def _reading_row(reading, unit: str, lang: str) -> ReadingRow:
    """A reading as the dashboard lists it: the value with the meter's unit, the date in the
    profile's time zone."""
    return ReadingRow(
        value=i18n.format_units(reading.value, unit, lang),
        date=i18n.format_date(reading.taken_at.astimezone(utility().tz), lang),
        source=i18n.t(f"dashboard.source.{reading.source}", lang),
    )


def _period(period: str, lang: str) -> str:
    """The month a reading counts for, inside a sentence ("за листопад 2026")."""
    return i18n.format_period(period, lang, in_sentence=True)


# A language switch on the dashboard says its texts again (balance, window, meters, history).
resay_on_language_change("/dashboard", DashboardState.relang)
