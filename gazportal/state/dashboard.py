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
from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import dashboard as svc
from gazportal.services import i18n, payments, readings
from gazportal.services import corrections as corrections_svc
from gazportal.services import reviews as reviews_svc
from gazportal.services.errors import DomainError
from gazportal.services.readings import ReadingCheck, ReadingRefused, ReadingSentToReview
from gazportal.state.contract import (
    CUSTOMER, BadArguments, Ctx, Flag, Form, FormMixin, Id, Text, address_of, call, engine, handler, ident, utility,
    say,
)
from gazportal.state.i18n import resay_on_language_change
from gazportal.state.session import KEEP_PREFIX  # one prefix: a sign-out forgets what is kept under it
from gazportal.state.views import (
    AccountInfo, AccountOption, MeterView, ReadingRow, Verdict, VolumeLine, balance_text, refusal,
)

MAX_READING_INPUT = 40  # longer than any meter (12 digits) with spaces around it
MAX_READING_DIGITS = 12  # the most digits a meter has (ck_meter_digits)
# The reading form: the meter (hidden) and the value as typed (not stripped: the service says what
# is wrong with it); Reflex's copy of the input comes as rd_<meter id>.
READING_FORM = Form(("meter", "reading"), prefix="rd", strip=False,
                    limits={"meter": 20, "reading": MAX_READING_INPUT})
# a customer disputes a booked reading of a meter of theirs (issue 16 point 6)
DISPUTE_FORM = Form(("meter", "reading", "reason"), long=("reason",), prefix="dp",
                    limits={"meter": 20, "reading": 20, "reason": 1000})


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


# What a prefix of the number being typed may be told, and more typing may put right: "5" on the
# way to "55" is below the last reading, "12 3" on the way to "12 345" is a bad digit group, and
# near the top of the dial or at the base a prefix is offered as a roll-over or as no use. While
# the customer types, the check keeps these until a pause, the blur or the submit (issue 14 point 8).
PREFIX_ERRORS = frozenset({"errors.reading_below_previous", "errors.reading_groups"})
PREFIX_WARNINGS = frozenset({"rollover", "zero"})


def _may_be_a_prefix(check: ReadingCheck) -> bool:
    """Whether what the check says could be about a number still being typed."""
    if check.error is not None:
        return check.error.key in PREFIX_ERRORS
    return check.warning_kind in PREFIX_WARNINGS


def reading_of(value: int, taken_at: datetime, unit: str, lang: str) -> str:
    """A reading said with its unit and date, in the profile's time zone ("75 m³ of 25 Oct 2026")."""
    return i18n.t("dashboard.reading_of", lang, value=i18n.format_units(value, unit, lang),
                  date=i18n.format_date(taken_at.astimezone(utility().tz), lang))


def replaces_text(check: ReadingCheck, lang: str, user_id: int, after: bool = False) -> str:
    """What a correction says (issue 14 point 7), before it is sent (``after=False``) or once it is
    stored: which of this month's readings it replaces — "your reading" only when ``user_id`` sent
    it; "" for the month's first reading."""
    if check.replaces_value is None or check.replaces_taken_at is None:
        return ""
    key = "dashboard.replaced" if after else "dashboard.replaces"
    if check.replaces_user_id != user_id:
        key += "_other"
    return _sentence(i18n.t(key, lang, period=_period(check.period, lang),
                            reading=reading_of(check.replaces_value, check.replaces_taken_at, check.unit, lang)))


def live_result(check: ReadingCheck, lang: str) -> Verdict:
    """What the form says under the input for a checked value: kind ok|warning|error and texts.
    The volume is said with the reading it is counted from (for a correction: the one before the
    reading it replaces, never the replaced one)."""
    note = "" if check.note is None else say(check.note, lang)
    if check.error is not None:
        return Verdict("error", say(check.error, lang), note=note)
    volume = "" if check.volume is None else _volume_text(check.volume, check.unit, lang)
    cost = "" if check.cost is None else _money(check.cost, lang)
    base = "" if check.base_value is None or check.base_taken_at is None else reading_of(
        check.base_value, check.base_taken_at, check.unit, lang)
    if check.volume is None:
        ok = i18n.t("dashboard.live.ok_first", lang)
    elif check.cost is None:
        ok = _sentence(i18n.t("dashboard.live.ok_volume", lang, volume=volume, base=base))
    else:
        ok = i18n.t("dashboard.live.ok_cost", lang, volume=volume, cost=cost, base=base)
    if check.warning is not None:  # the volume without "looks right": never next to a warning
        facts = "" if check.volume is None else i18n.t(
            "dashboard.live.facts_volume" if check.cost is None else "dashboard.live.facts_cost", lang,
            volume=volume, cost=cost, base=base)
        facts = _sentence(facts)
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
    pay_default: str = ""  # the debt, as the "Pay" form's amount is pre-filled (state/payments.py)
    pay_open: bool = False  # online payment is open today (the profile's payment window)
    pay_text: str = ""  # when it is closed: from which day it opens
    window_open: bool = False
    window_text: str = ""
    meters: list[MeterView] = []
    history: dict[str, list[ReadingRow]] = {}  # meter id -> its previous readings
    # meter id -> {status: open|accepted|rejected, text, reason}: its reading's staff review
    review_notes: dict[str, dict[str, str]] = {}
    live: dict[str, Verdict] = {}  # meter id -> the check of what is typed
    confirm: dict[str, bool] = {}
    result: dict[str, Verdict] = {}  # meter id -> kind/text after a submission
    # meter id -> refusals of its submits so far (issue 14 point 16): the message under the input is
    # an alert, focused and scrolled into view when this changes (components/forms.ERROR_SUMMARY_JS)
    refused: dict[str, int] = {}
    disputed: dict[str, Verdict] = {}  # meter id -> the answer to a dispute of one of its readings
    alerting: dict[str, bool] = {}  # meter id -> its message under the input is a submit's refusal
    form_key: int = 0
    shown_lang: str = ""  # the language the texts above are in
    # meter id -> the value just sent (stored, or refused with the reason shown): the input's late,
    # debounced change with that value changes nothing (backend only)
    _sent: dict[str, str] = {}
    # meter id -> (warning kind, value) the tick box was ticked for: a tick confirms that warning
    # of that value only (a quick edit and Enter before the live check never borrows it).
    _confirmed: dict[str, tuple[str, int]] = {}
    _checked: dict[str, tuple[str, int]] = {}  # meter id -> (warning kind, value) of the live check
    # meter id -> an error of a possible prefix, checked while typing and kept until a pause
    # (settle_reading), the blur or the submit says it (issue 14 point 8)
    _held: dict[str, ReadingCheck] = {}

    # --- helpers ----------------------------------------------------------------------------

    def _meter_ids(self) -> set[str]:
        return {m.id for m in self.meters}

    def _may_be_busy(self, what: str) -> bool:
        """A reading form (or a dispute form) is busy while it is sent: "reading-<meter id>"
        ("dispute-<meter id>") of a meter shown."""
        for prefix in ("reading-", "dispute-"):
            if what.startswith(prefix) and what.removeprefix(prefix) in self._meter_ids():
                return True
        return False

    def _fill(self, cards: list, dash: svc.Dashboard, lang: str, user_id: int) -> None:
        self.accounts = [AccountOption(str(c.id), c.number, f"{c.number} · {c.address}", c.address) for c in cards]
        self.shown_lang = lang
        for name, value in dashboard_vars(dash, lang, user_id).items():
            setattr(self, name, value)
        debt = -dash.balance if dash.balance < 0 else Decimal("0.00")
        self.pay_default = i18n.format_number(debt, lang, places=2) if debt > 0 else ""
        self.pay_open = payments.window_open(utility(), now())
        self.pay_text = "" if self.pay_open else i18n.t("errors.payment_window", lang, day=utility().payment_from_day)

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
        self._fill(cards, dash, lang, user_id)
        await self._fill_reviews(lang)
        return True

    async def _fill_reviews(self, lang: str) -> None:
        """Each meter's reading held for staff, or staff's decision on it with their reason
        (``services.reviews.notices_for``; issue 16 point 6), said in ``lang``."""
        ids = [int(m.id) for m in self.meters]
        moment = now()

        def read():
            with read_session(engine()) as s:
                return reviews_svc.notices_for(s, ids, now=moment), corrections_svc.notices_for(s, ids, now=moment)

        notes, disputes = await call(read)
        self.review_notes = review_notes_of(notes, disputes, lang)

    def _show_nothing(self) -> None:
        self.accounts, self.account_id, self.meters, self.history, self.info = [], "", [], {}, AccountInfo()
        self.review_notes = {}
        self.last_volumes = []

    def _reset_forms(self, *, remount: bool = True) -> None:
        """Forget the forms' checks, ticks and results; ``remount`` also empties their inputs."""
        self.live, self.confirm, self.result, self._sent, self.disputed = {}, {}, {}, {}, {}
        self._confirmed, self._checked, self._held = {}, {}, {}
        if remount:
            self.form_key += 1

    # --- handlers ---------------------------------------------------------------------------

    @rx.event
    @handler(CUSTOMER)
    async def load(self, ctx: Ctx):
        """on_load of /dashboard: the account from ?account=<id>, else the first one. When the page
        shows another account than the address names (not the customer's, not a number), the
        address is rewritten to the one shown: a reload or a shared link shows what is on screen."""
        self.error = ""
        params = self.router.url.query_parameters if self.router else {}
        raw = params.get("account", "")
        aid = None
        if raw:
            try:
                aid = ident(raw)
            except BadArguments:
                aid = -1  # refused by the service like a foreign id
        # A page visit renders its inputs anew (and a form's key names its meter): what a person
        # began to type while this load was on its way stays, and its check comes after this.
        self._reset_forms(remount=False)
        if not await self._show(ctx.user_id, aid, ctx.lang):
            # Not one of theirs (or not an id): say so, and show their first account instead.
            self._show_nothing()
            error = self.error
            await self._show(ctx.user_id, None, ctx.lang)
            self.error = error
        self.loaded = True
        # What was typed before a session ended is back in its form (issue 14 point 10).
        keep = rx.call_script(keep_script(ctx.user_id))
        if "account" in params and raw != self.account_id:
            return [address_of(self.account_id), keep]
        return keep

    @rx.event
    @handler(CUSTOMER, account_id=Id())
    async def switch_account(self, ctx: Ctx, account_id: int):
        """The account switcher: another of the customer's accounts (a foreign id shows nothing new)."""
        self.error = ""
        before = self.account_id
        if await self._show(ctx.user_id, account_id, ctx.lang):
            if self.account_id != before:
                self._reset_forms()
            return address_of(self.account_id)
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
    @handler(CUSTOMER, meter_id=Id(), raw=Text(MAX_READING_INPUT, strip=False), typing=Flag().optional(False))
    async def type_reading(self, ctx: Ctx, meter_id: int, raw: str, typing: bool):
        """Live check of what is typed (debounced in the browser); writes nothing.

        ``typing=True`` (the input's change, while keys may still come): an error that more digits
        can put right (:data:`PREFIX_ERRORS`, :data:`PREFIX_WARNINGS`) is kept, not shown, until
        :meth:`settle_reading`
        (a pause), the blur (``typing=False``) or the submit."""
        mid, value, lang, user_id = meter_id, raw, ctx.lang, ctx.user_id
        key = str(mid)
        self._held = {k: v for k, v in self._held.items() if k != key}
        if value == self._sent.get(key):
            return None  # a late (debounced) echo of what was just sent: the form is fresh again
        self._sent.pop(key, None)
        self._calm(key)
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
        if typing and _may_be_a_prefix(checked):
            self._held = {**self._held, key: checked}
            self.live = {k: v for k, v in self.live.items() if k != key}  # nothing stale meanwhile
            return None
        self._show_check(key, checked, lang)
        return None

    @rx.event
    @handler(CUSTOMER, meter_id=Id())
    def settle_reading(self, ctx: Ctx, meter_id: int):
        """The customer paused typing (``pages.dashboard.PAUSE_MS`` after the last input): the kept
        check of what they typed (an error or a warning a prefix may get) is shown now. Nothing
        when none is kept."""
        key = str(meter_id)
        held = self._held.get(key)
        if held is not None:
            self._held = {k: v for k, v in self._held.items() if k != key}
            self._show_check(key, held, ctx.lang)

    def _refuse(self, key: str) -> None:
        """A submit of this meter's form was refused: its message is an alert and takes the focus."""
        self.refused = {**self.refused, key: self.refused.get(key, 0) + 1}
        self.alerting = {**self.alerting, key: True}

    def _calm(self, key: str) -> None:
        """Typing again: the message under the input is a polite live result again."""
        if key in self.alerting:
            self.alerting = {k: v for k, v in self.alerting.items() if k != key}

    def _forget(self, key: str) -> None:
        """A meter's live check and tick go (after its form was sent)."""
        self._calm(key)
        self.live = {k: v for k, v in self.live.items() if k != key}
        self.confirm = {k: v for k, v in self.confirm.items() if k != key}
        self._confirmed = {k: v for k, v in self._confirmed.items() if k != key}
        self._checked = {k: v for k, v in self._checked.items() if k != key}
        self._held = {k: v for k, v in self._held.items() if k != key}

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

        # The customer sees this answer: what was kept of the form in the browser goes.
        kept = rx.call_script(forget_script(user_id, mid))
        self._held = {k: v for k, v in self._held.items() if k != key}
        try:
            sub = await call(send)
        except ReadingSentToReview as e:  # stored for staff, not booked: said so, the form is fresh
            text = say(e, lang)
            self._forget(key)
            self.result = {**self.result, key: Verdict("review", text)}
            self._sent = {**self._sent, key: reading}
            self.form_key += 1
            return kept  # said once, in the form's box (issue 14 point 8), not in a toast as well
        except ReadingRefused as e:
            # Said once, in the form, under the input (no toast, no second box): issue 14 point 8.
            self._drop_result(key)
            text = say(e, lang)
            if e.check is not None:
                self._show_check(key, e.check, lang)  # an error, or the warning with its tick box
            if key not in self.live or self.live[key].text != text:  # the check says something else
                self.live = {**self.live, key: Verdict("error", text)}
            self._sent = {**self._sent, key: reading}
            self._refuse(key)
            return kept
        except DomainError as e:  # a meter not (or no longer) theirs: said in the form as well
            self._drop_result(key)
            self._forget(key)
            self.live = {**self.live, key: Verdict("error", say(e, lang))}
            self._sent = {**self._sent, key: reading}
            self._refuse(key)
            return kept
        serial = next((m.serial for m in self.meters if m.id == key), "")
        unit = next((m.unit for m in self.meters if m.id == key), "")
        text = i18n.t(
            "dashboard.sent", lang, value=i18n.format_units(sub.reading.value, unit, lang) if unit else
            i18n.format_quantity(sub.reading.value, lang), serial=serial,
            left=sub.submissions_left, limit=sub.check.submissions_limit, period=_period(sub.reading.period, lang),
        )
        replaced = replaces_text(sub.check, lang, user_id, after=True)
        if replaced:
            text = f"{text} {replaced}"
        if sub.check.note is not None:
            text = f"{text} {say(sub.check.note, lang)}"
        if self.account_id:
            await self._show(user_id, int(self.account_id), lang)
        self._forget(key)
        self.result = {**self.result, key: Verdict("ok", text)}
        self._sent = {**self._sent, key: reading}
        self.form_key += 1
        return [kept, rx.toast.success(text)]

    @rx.event
    @handler(CUSTOMER, creates=True, form=DISPUTE_FORM)
    async def dispute(self, ctx: Ctx, form: dict[str, str]):
        """Dispute a booked reading of one of the customer's meters with a reason
        (``services.corrections.dispute``); staff see it in the review queue's "disputed" tab. The
        answer is said under the meter's dispute form (``disputed``, by meter id)."""
        mid = ident(form["meter"])
        key, lang, user_id, moment = str(mid), ctx.lang, ctx.user_id, now()
        try:
            rid = ident(form["reading"])
        except BadArguments:  # none chosen (or not an id)
            self.disputed = {**self.disputed, key: Verdict("error", i18n.t("dispute.pick", lang))}
            return

        def send():
            with read_session(engine()) as s:
                allowed = svc.allowed_account_ids(s, user_id)
            return corrections_svc.dispute(engine(), user_id, allowed, rid, form["reason"], now=moment)

        try:
            await call(send)
        except DomainError as e:
            errors, line = refusal(e, lang)
            self.disputed = {**self.disputed, key: Verdict("error", line or next(iter(errors.values()), ""))}
            return
        self.disputed = {**self.disputed, key: Verdict("ok", i18n.t("dispute.sent", lang))}
        self.form_key += 1
        await self._fill_reviews(lang)

    def _drop_result(self, key: str) -> None:
        self.result = {k: v for k, v in self.result.items() if k != key}


def dashboard_vars(dash: svc.Dashboard, lang: str, user_id: int) -> dict[str, Any]:
    """What the dashboard shows of ``dash`` in ``lang``, as its vars by name (``account_id``, ``info``,
    ``in_debt``, ``last_volumes``, ``window_open``, ``window_text``, ``meters``, ``history``): one
    composition for the customer's dashboard and the staff's read-only view of it (issue 16 point 5).
    ``user_id``: whose readings say "sent by you" (0: nobody's, for staff)."""
    out: dict[str, Any] = {}
    out["account_id"] = str(dash.account.id)
    balance, out["in_debt"] = balance_text(dash.balance, lang)
    out["info"] = AccountInfo(
        number=dash.account.number,
        holder=dash.account.holder_name,
        address=dash.account.address,
        balance=balance,
        last_period=i18n.t("dashboard.last_period", lang, period=i18n.format_period(dash.last_period, lang)),
        last_charged=_money(dash.last_charged, lang),
    )
    out["last_volumes"] = [VolumeLine(v.service, i18n.t(f"services.{v.service}", lang),
                                    i18n.format_units(v.volume, v.unit, lang)) for v in dash.last_volumes]
    w = dash.window
    out["window_open"] = w.open
    # the window's dates and the month its readings count for (Kremenchukgaz: sent on 3 December,
    # a reading for November)
    dates = dict(opens=i18n.format_date(w.opens_on, lang), closes=i18n.format_date(w.closes_on, lang),
                 period=_period(w.period, lang))
    out["window_text"] = _sentence(
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
        previous = _reading_row(last, m.unit, lang, user_id) if last else ReadingRow()
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
            replaces=replaces_text(st, lang, user_id) if st.can_submit else "",
        ))
        history[str(m.id)] = [_reading_row(h, m.unit, lang, user_id) for h in m.history]
    out["meters"], out["history"] = meters, history
    return out


def review_notes_of(notes: dict, disputes: dict, lang: str) -> dict[str, dict[str, str]]:
    """Each meter's note in ``lang``: its reading's staff review (``reviews.notices_for``) or, when
    newer or alone, the customer's dispute of a reading and its outcome (``corrections.notices_for``)
    — {meter id: {status, text, reason}}; a dismissal shows like a rejection."""
    out: dict[str, dict[str, str]] = {}
    for mid, n in notes.items():
        out[str(mid)] = {"status": n.status, "reason": n.reason,
                         "text": i18n.t(f"review.notice.{n.status}", lang,
                                        value=i18n.format_units(n.value, n.unit, lang),
                                        period=i18n.format_period(n.period, lang, in_sentence=True))}
    for mid, d in disputes.items():
        if str(mid) in out and out[str(mid)]["status"] == "open":
            continue  # a held reading is the meter's news
        out[str(mid)] = {"status": "rejected" if d.status == "dismissed" else d.status, "reason": d.reason,
                         "text": i18n.t(f"dispute.notice.{d.status}", lang,
                                        value=i18n.format_units(d.value, d.unit, lang),
                                        period=i18n.format_period(d.period, lang, in_sentence=True),
                                        corrected=i18n.format_units(d.corrected_to, d.unit, lang)
                                        if d.corrected_to is not None else "")}
    return out


def _reading_row(reading: readings.HistoryEntry, unit: str, lang: str, user_id: int) -> ReadingRow:
    """A reading as the dashboard lists it: the value with the meter's unit, the date in the
    profile's time zone, who took it — "sent by you" only for what this user sent (not a reading
    from before they linked the account, nor another holder's) — and, for a customer reading
    corrected later in its month, the value that replaced it (issue 14 point 7)."""
    source = reading.source
    if source == "customer" and reading.user_id != user_id:
        source = "customer_other"
    replaced = reading.replaced_by is not None
    said = i18n.t(f"dashboard.source.{source}", lang)
    if reading.corrects:
        said = i18n.t("dashboard.source.correction", lang)
    return ReadingRow(
        value=i18n.format_units(reading.value, unit, lang),
        date=i18n.format_date(reading.taken_at.astimezone(utility().tz), lang),
        source=said,
        replaced=replaced,
        replaced_by="" if not replaced else i18n.t(
            "dashboard.replaced_by", lang, value=i18n.format_units(reading.replaced_by, unit, lang)),
        id=str(reading.id), corrects=reading.corrects, counts=not replaced,
    )


# Kept in the browser (sessionStorage: this tab only, never on the server) while the form is open,
# so that a reading typed when the session ended is back in its form after the customer signs in
# again (issue 14 point 10): saved on every change and submit of a reading input (``data-keep`` =
# the meter id), put back by the dashboard's load into an empty input (an input event, so the live
# check runs), and forgotten when the server has answered a submit of it (success or refusal: the
# customer saw the answer). Keys name the user, so another person signing in on the tab gets none.
# A value put back is marked "not sent yet" (``#rd-kept-<meter>``) until the server answers its send.


def keep_script(user_id: int) -> str:
    """The dashboard load's script: keep the typed readings of ``user_id`` and put back the kept ones."""
    prefix = f"{KEEP_PREFIX}{int(user_id)}-"
    return (
        "(() => {"
        f"window.__gpKeep = {prefix!r};"
        "if (!window.__gpKeepOn) { window.__gpKeepOn = true;"
        " const save = (el) => { const k = window.__gpKeep + el.dataset.keep;"
        "  if (el.value) sessionStorage.setItem(k, el.value); else sessionStorage.removeItem(k); };"
        " document.addEventListener('input', (e) => { const t = e.target;"
        "  if (t && t.matches && t.matches('input[data-keep]')) save(t); }, true);"
        " document.addEventListener('submit', (e) => { const t = e.target;"
        "  const i = t && t.querySelector ? t.querySelector('input[data-keep]') : null; if (i) save(i); }, true); }"
        "let tries = 0;"
        "const back = () => { const boxes = document.querySelectorAll('input[data-keep]');"
        " if (!boxes.length) { if (tries++ < 50) setTimeout(back, 100); return; }"
        " const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        " boxes.forEach((el) => { const kept = sessionStorage.getItem(window.__gpKeep + el.dataset.keep);"
        "  if (kept && !el.value) { set.call(el, kept); el.dispatchEvent(new Event('input', {bubbles: true}));"
        "   const note = document.getElementById('rd-kept-' + el.dataset.keep);"
        "   if (note) { note.hidden = false; el.setAttribute('aria-describedby',"
        "    (el.getAttribute('aria-describedby') || '') + ' ' + note.id); } } }); };"
        "back(); })()"
    )


def forget_script(user_id: int, meter_id: int) -> str:
    """Forget the kept reading of ``meter_id``: the server answered its submit (the note that
    the value was put back and not sent yet goes too)."""
    return (f"sessionStorage.removeItem({f'{KEEP_PREFIX}{int(user_id)}-{int(meter_id)}'!r});"
            f"(() => {{ const n = document.getElementById('rd-kept-{int(meter_id)}'); if (n) n.hidden = true; }})()")


def _period(period: str, lang: str) -> str:
    """The month a reading counts for, inside a sentence ("за листопад 2026")."""
    return i18n.format_period(period, lang, in_sentence=True)


# A language switch on the dashboard says its texts again (balance, window, meters, history).
resay_on_language_change("/dashboard", DashboardState.relang)
