"""/statistics (monthly table and charts for a range of months) and /statement (the account state
for one month, sent to the customer's e-mail on request).

Thin: every handler checks what the browser sent, takes the user from the session and calls
``gazportal.services.charts`` / ``statements``, which check ownership and periods. Texts, figures
and money are formatted by the services for every language of the profile, so switching the
language shows them at once without another round trip.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import accounts as accounts_svc
from gazportal.services import charts, i18n, statements
from gazportal.services.errors import DomainError, InvalidInput
from gazportal.state import signed_in as si
from gazportal.state.signed_in import BadArguments


def _account_options(user_id: int) -> list[dict[str, str]]:
    with read_session(si.engine()) as s:
        cards = accounts_svc.list_accounts(s, user_id)
    return [{"id": str(c.id), "number": c.number, "label": f"{c.number} · {c.address}"[:120]} for c in cards]


def _languages() -> list[str]:
    return list(si.profile().languages)


class _AccountChoice(rx.State, mixin=True):
    """The account select both pages share (each page keeps its own choice)."""

    loaded: bool = False
    accounts: list[dict[str, str]] = []
    account_id: str = ""
    error: str = ""

    async def _start(self):
        """The signed-in user and a valid choice of account ('' when they have none)."""
        user = await si.current_user(self)
        self.accounts = await si.call(_account_options, user.user_id)
        ids = [a["id"] for a in self.accounts]
        if self.account_id not in ids:
            self.account_id = ids[0] if ids else ""
        return user

    def _chosen(self, value: Any) -> str | None:
        """``value`` if it is one of the accounts shown (the service checks ownership again)."""
        if not isinstance(value, str) or len(value) > 20:
            return None
        try:
            si.ident(value)
        except BadArguments:
            return None
        return value if value in {a["id"] for a in self.accounts} else None

    async def _switch_account(self, value: Any):
        """The account select changed: the signed-in user once ``value`` is taken as the choice,
        or None (nothing changes) when it is not one of the accounts shown."""
        chosen = self._chosen(value)
        if chosen is None:
            return None
        user = await si.current_user(self)
        self.account_id = chosen
        return user


class StatisticsState(_AccountChoice, si.BusyMixin, rx.State):
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"apply"})

    first: str = ""
    last: str = ""
    form_key: int = 0
    errors: dict[str, str] = {}
    year: str = ""
    service: str = ""
    services: list[str] = []
    table: dict[str, list[dict[str, str]]] = {}
    figures: dict[str, dict[str, Any]] = {}
    summaries: dict[str, dict[str, str]] = {}

    async def _show(self, user, first: str, last: str) -> str | None:
        """Load the table and figures; the refusal's text, or None."""
        lang = await si.language(self)

        def load():
            with read_session(si.engine()) as s:
                return charts.load_statistics(s, si.profile(), user.user_id, int(self.account_id), first, last,
                                              now=si.now(), languages=_languages(), service=self.service or None)

        try:
            st = await si.call(load)
        except DomainError as e:
            return si.error_text(e, lang)
        self.first, self.last, self.year = st.first, st.last, str(st.year)
        self.service, self.services = st.service, list(st.services)
        self.table, self.figures, self.summaries = st.table, st.figures, st.summaries
        return None

    def _clear(self) -> None:
        self.table, self.figures, self.summaries = {}, {}, {}

    @rx.event
    @si.handler
    async def load(self):
        """on_load: the chosen (or first) account, the last twelve complete months."""
        user = await self._start()
        self.error, self.errors = "", {}
        if not self.first or not self.last:
            self.first, self.last = charts.default_range(si.profile(), si.now())
        if self.account_id:
            err = await self._show(user, self.first, self.last)
            if err is not None and self.service:  # e.g. a service the account no longer has
                self.service = ""
                err = await self._show(user, self.first, self.last)
            if err is not None:  # e.g. a range remembered from another month
                self.first, self.last = charts.default_range(si.profile(), si.now())
                self.error = await self._show(user, self.first, self.last) or ""
        else:
            self._clear()
        self.form_key += 1
        self.loaded = True
        return None

    @rx.event
    @si.handler
    async def pick_account(self, value: Any):
        user = await self._switch_account(value)
        if user is None:
            return None
        self.service = ""
        self.error = await self._show(user, self.first, self.last) or ""
        if self.error:
            self._clear()
        return None

    @rx.event
    @si.handler
    async def pick_service(self, value: Any):
        """Volumes of another of the account's services (one of those shown)."""
        if not isinstance(value, str) or value not in self.services:
            return None
        user = await si.current_user(self)
        previous = self.service
        self.service = value
        err = await self._show(user, self.first, self.last)
        if err is not None:
            self.service, self.error = previous, err
        return None

    @rx.event
    @si.handler
    async def apply(self, form_data: Any):
        """The from/to month inputs: each checked, then the range (reversed, too long)."""
        data = si.form(form_data, ("first", "last"), max_len=20, prefix="stats")
        user = await si.current_user(self)
        lang = await si.language(self)
        self.error = ""
        errors: dict[str, str] = {}
        profile, now = si.profile(), si.now()
        for name in ("first", "last"):
            try:
                charts.check_period(data[name], profile, now)
            except InvalidInput as e:
                errors[name] = si.error_text(e, lang)
        if not errors:
            try:
                charts.check_range(data["first"], data["last"], profile, now)
            except InvalidInput as e:
                errors["last"] = si.error_text(e, lang)
        self.errors = errors
        if errors or not self.account_id:
            return None
        err = await self._show(user, data["first"], data["last"])
        if err is not None:
            self.error = err
        return None


class StatementState(_AccountChoice, rx.State):
    period: str = ""
    periods: dict[str, list[dict[str, str]]] = {}  # language -> [{value, label}]
    info: dict[str, dict[str, str]] = {}  # language -> texts
    charges: dict[str, list[dict[str, str]]] = {}
    payments: dict[str, list[dict[str, str]]] = {}
    in_debt: bool = False
    email_status: str = ""  # ok | unconfirmed | none
    notice: str = ""
    sending: bool = False

    async def _show(self, user) -> None:
        lang = await si.language(self)

        def load():
            with read_session(si.engine()) as s:
                status = statements.email_status(s, user.user_id)
                if not self.account_id:
                    return status, None
                return status, statements.view(s, si.profile(), user.user_id, int(self.account_id), self.period,
                                               now=si.now(), languages=_languages())

        try:
            self.email_status, views = await si.call(load)
        except DomainError as e:
            self.error = si.error_text(e, lang)
            views = None
        if not views:
            self.info, self.charges, self.payments, self.in_debt = {}, {}, {}, False
            return
        self.info = {
            lg: {"period": v.period, "number": v.number, "holder": v.holder, "address": v.address,
                 "opening": v.opening, "charged": v.charged, "paid": v.paid, "closing": v.closing,
                 "debt": i18n.t("statement.debt_text", lg, amount=v.debt) if v.in_debt
                 else i18n.t("statement.no_debt", lg)}
            for lg, v in views.items()
        }
        self.charges = {lg: [{"service": c[0], "volume": c[1], "amount": c[2]} for c in v.charges]
                        for lg, v in views.items()}
        self.payments = {lg: [{"date": p[0], "amount": p[1], "receipt": p[2]} for p in v.payments]
                         for lg, v in views.items()}
        self.in_debt = next(iter(views.values())).in_debt

    @rx.event
    @si.handler
    async def load(self):
        """on_load: the chosen (or first) account, the current month."""
        user = await self._start()
        self.error = self.notice = ""
        self.sending = False
        recent = statements.recent_periods(si.profile(), si.now())
        self.periods = {lg: [{"value": p, "label": i18n.format_period(p, lg)} for p in recent] for lg in _languages()}
        if self.period not in recent:
            self.period = recent[0]
        await self._show(user)
        self.loaded = True
        return None

    @rx.event
    @si.handler
    async def pick_account(self, value: Any):
        user = await self._switch_account(value)
        if user is None:
            return None
        self.error = self.notice = ""
        await self._show(user)
        return None

    @rx.event
    @si.handler
    async def pick_period(self, value: Any):
        if not isinstance(value, str) or len(value) > 20:
            return None
        if value not in {p["value"] for opts in self.periods.values() for p in opts}:
            return None
        user = await si.current_user(self)
        self.period = value
        self.error = self.notice = ""
        await self._show(user)
        return None

    @rx.event
    @si.handler
    async def send(self):
        """Send the shown account state to the customer's e-mail (the service limits it)."""
        user = await si.current_user(self)
        lang = await si.language(self)
        self.error = self.notice = ""
        if not self.account_id or not self.period:
            return
        self.sending = True
        yield
        try:
            sent = await si.call(statements.send_statement, si.engine(), si.profile(), user.user_id,
                                 int(self.account_id), self.period, now=si.now())
        except (statements.NoEmail, statements.EmailNotConfirmed) as e:
            self.email_status = "none" if isinstance(e, statements.NoEmail) else "unconfirmed"
            self.error = si.error_text(e, lang)
        except DomainError as e:
            self.error = si.error_text(e, lang)
        else:
            self.notice = i18n.t("statement.sent", lang, email=sent.to)
        finally:
            self.sending = False


from gazportal.state import gate  # noqa: E402

gate.allow(StatisticsState, "load", "pick_account", "pick_service", "begin", "apply", access=gate.USER)
gate.allow(StatementState, "load", "pick_account", "pick_period", "send", access=gate.USER)
