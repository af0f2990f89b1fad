"""/statistics (monthly table and charts for a range of months) and /statement (the account state
for one month, sent to the customer's e-mail on request).

Thin: every handler is declared (``state/contract.py``: access and arguments are checked before the
body runs; the user comes in ``ctx``) and calls
``gazportal.services.charts`` / ``statements``, which check ownership and periods. Texts, figures
and money are formatted by the services for every language of the profile, so switching the
language shows them at once without another round trip. Sending the statement by e-mail is a
create form (the account, the month and the submission id): a repeated click sends one e-mail.
"""
from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx

from gazportal.db import read_session
from gazportal.services import accounts as accounts_svc
from gazportal.services import charts, i18n, statements
from gazportal.services.errors import DomainError, InvalidInput
from gazportal.state.contract import (
    CUSTOMER, Ctx, Form, FormMixin, Id, Text, address_of, call, query_param, engine, handler, utility, say,
)
from gazportal.state.views import AccountOption, ChargeRow, MonthRow, PaymentRow, PeriodOption, StatementInfo


def _account_options(user_id: int) -> list[AccountOption]:
    with read_session(engine()) as s:
        cards = accounts_svc.list_accounts(s, user_id)
    return [AccountOption(str(c.id), c.number, f"{c.number} · {c.address}", c.address) for c in cards]


def _month_row(row: dict[str, str]) -> MonthRow:
    """A row of ``charts.table_rows`` (a dict of texts, "1"/"" for debt and no data) as the page shows it."""
    return MonthRow(period=row["period"], label=row["label"], volume=row["volume"], charged=row["charged"],
                    paid=row["paid"], balance=row["balance"], debt=row["debt"] == "1", nodata=row["nodata"] == "1")


def _languages() -> list[str]:
    return list(utility().languages)


class _AccountChoice(rx.State, mixin=True):
    """The account select both pages share (each page keeps its own choice)."""

    PERSONAL: ClassVar[bool] = True

    loaded: bool = False
    accounts: list[AccountOption] = []
    account_id: str = ""

    _asked: str | None = None  # the address's ?account= at the last load (None: none asked)

    async def _start(self, ctx: Ctx):
        """The signed-in user and a valid choice of account ('' when they have none): the one the
        address asks for (``?account=``) when it is theirs, else the one chosen before or the first."""
        self.accounts = await call(_account_options, ctx.user_id)
        ids = [a.id for a in self.accounts]
        self._asked = query_param(self, "account")
        if self._asked in ids:
            self.account_id = self._asked
        if self.account_id not in ids:
            self.account_id = ids[0] if ids else ""
        return ctx.user

    async def _address(self, ctx: Ctx, path: str) -> Any:
        """After a load: when the address asked for an account this page does not show (not theirs,
        not a number), say so and put the account shown in the address."""
        if self._asked is None or self._asked == self.account_id:
            return None
        if not self.error:
            self.error = i18n.t("errors.account_not_found", ctx.lang)
        return address_of(self.account_id, path)

    async def _account_picked(self, ctx: Ctx) -> None:
        """Show what the page shows for the account just chosen."""
        raise NotImplementedError

    @rx.event
    @handler(CUSTOMER, value=Id())
    async def pick_account(self, ctx: Ctx, value: int):
        """The account select changed: nothing happens unless ``value`` is one of the accounts
        shown (the service checks ownership again)."""
        chosen = str(value)
        if chosen not in {a.id for a in self.accounts}:
            return None
        self.account_id = chosen
        await self._account_picked(ctx)
        return None


class StatisticsState(_AccountChoice, FormMixin, rx.State):
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"apply"})

    first: str = ""
    last: str = ""
    form_key: int = 0
    year: str = ""
    service: str = ""
    services: list[str] = []
    table: dict[str, list[MonthRow]] = {}  # language -> the months
    captions: dict[str, str] = {}  # language -> what the table's columns cover (the service's, all services)
    shown: dict[str, str] = {}  # language -> the months the table and charts show
    figures: dict[str, dict[str, Any]] = {}  # language -> chart name -> plotly figure
    summaries: dict[str, dict[str, str]] = {}  # language -> chart name -> its text

    async def _show(self, ctx: Ctx, first: str, last: str) -> str | None:
        """Load the table and figures; the refusal's text, or None."""
        lang, user_id, account_id, service = ctx.lang, ctx.user_id, int(self.account_id), self.service or None

        def load():
            with read_session(engine()) as s:
                return charts.load_statistics(s, utility(), user_id, account_id, first, last,
                                              now=ctx.now, languages=_languages(), service=service)

        try:
            st = await call(load)
        except DomainError as e:
            return say(e, lang)
        self.first, self.last, self.year = st.first, st.last, str(st.year)
        self.service, self.services = st.service, list(st.services)
        self.table = {lg: [_month_row(r) for r in rows] for lg, rows in st.table.items()}
        self.captions, self.shown = st.captions, st.shown
        self.figures, self.summaries = st.figures, st.summaries
        return None

    def _clear_figures(self) -> None:
        self.table, self.figures, self.summaries, self.captions, self.shown = {}, {}, {}, {}, {}

    @rx.event
    @handler(CUSTOMER)
    async def load(self, ctx: Ctx):
        """on_load: the chosen (or first) account, the last twelve complete months."""
        await self._start(ctx)
        self.error, self.errors = "", {}
        if not self.first or not self.last:
            self.first, self.last = charts.default_range(utility(), ctx.now)
        if self.account_id:
            err = await self._show(ctx, self.first, self.last)
            if err is not None and self.service:  # e.g. a service the account no longer has
                self.service = ""
                err = await self._show(ctx, self.first, self.last)
            if err is not None:  # e.g. a range remembered from another month
                self.first, self.last = charts.default_range(utility(), ctx.now)
                self.error = await self._show(ctx, self.first, self.last) or ""
        else:
            self._clear_figures()
        self.form_key += 1
        self.loaded = True
        return await self._address(ctx, "/statistics")

    async def _account_picked(self, ctx: Ctx) -> None:
        self.service = ""
        self.error = await self._show(ctx, self.first, self.last) or ""
        if self.error:
            self._clear_figures()

    @rx.event
    @handler(CUSTOMER, value=Text(40))
    async def pick_service(self, ctx: Ctx, value: str):
        """Volumes of another of the account's services (one of those shown)."""
        if value not in self.services:
            return None
        previous = self.service
        self.service = value
        err = await self._show(ctx, self.first, self.last)
        if err is not None:
            self.service, self.error = previous, err
        return None

    @rx.event
    @handler(CUSTOMER, form=Form(("first", "last"), max_len=20, prefix="stats"))
    async def apply(self, ctx: Ctx, form: dict[str, str]):
        """The from/to month inputs: each checked, then the range (reversed, too long). A refused
        range clears the table and charts: what was shown before must not look like its answer."""
        data, lang = form, ctx.lang
        self.error = ""
        errors: dict[str, str] = {}
        prof, now = utility(), ctx.now
        for name in ("first", "last"):
            try:
                charts.check_period(data[name], prof, now)
            except InvalidInput as e:
                errors[name] = say(e, lang)
        if not errors:
            try:
                charts.check_range(data["first"], data["last"], prof, now)
            except InvalidInput as e:
                errors["last"] = say(e, lang)
        self.errors = errors
        if errors:
            self._clear_figures()
            return None
        if not self.account_id:
            return None
        err = await self._show(ctx, data["first"], data["last"])
        if err is not None:
            self._clear_figures()
            self.error = err
        return None


class StatementState(_AccountChoice, FormMixin, rx.State):
    period: str = ""
    periods: dict[str, list[PeriodOption]] = {}  # language -> the months to choose from
    info: dict[str, StatementInfo] = {}  # language -> texts
    charges: dict[str, list[ChargeRow]] = {}  # language -> rows
    payments: dict[str, list[PaymentRow]] = {}
    in_debt: bool = False
    email_status: str = ""  # ok | unconfirmed | none
    sending: bool = False
    _picked: bool = False  # the customer chose the month (else: the account's last billed month)

    async def _open_on_last_billed(self, ctx: Ctx) -> None:
        """Unless the customer chose a month: the account's last billed month (not the current,
        empty one)."""
        if self._picked or not self.account_id:
            return
        user_id, account_id = ctx.user_id, int(self.account_id)

        def find():
            with read_session(engine()) as s:
                return statements.last_billed_period(s, utility(), user_id, account_id, now=ctx.now)

        try:
            self.period = await call(find)
        except DomainError:
            pass  # the view says why

    async def _show(self, ctx: Ctx) -> None:
        lang, user_id, account_id, period = ctx.lang, ctx.user_id, self.account_id, self.period

        def load():
            with read_session(engine()) as s:
                status = statements.email_status(s, user_id)
                if not account_id:
                    return status, None
                return status, statements.view(s, utility(), user_id, int(account_id), period,
                                               now=ctx.now, languages=_languages())

        try:
            self.email_status, views = await call(load)
        except DomainError as e:
            self.error = say(e, lang)
            views = None
        if not views:
            self.info, self.charges, self.payments, self.in_debt = {}, {}, {}, False
            return
        self.info = {
            lg: StatementInfo(
                period=v.period, number=v.number, holder=v.holder, address=v.address, opening=v.opening,
                charged=v.charged, paid=v.paid, closing=v.closing,
                debt=i18n.t("statement.debt_text", lg, amount=v.debt) if v.in_debt
                else i18n.t("statement.no_debt", lg))
            for lg, v in views.items()
        }
        self.charges = {lg: [ChargeRow(*c) for c in v.charges]
                        for lg, v in views.items()}
        self.payments = {lg: [PaymentRow(*p) for p in v.payments]
                         for lg, v in views.items()}
        self.in_debt = next(iter(views.values())).in_debt

    @rx.event
    @handler(CUSTOMER)
    async def load(self, ctx: Ctx):
        """on_load: the chosen (or first) account, the month chosen before or else the account's
        last billed month."""
        await self._start(ctx)
        self.error = self.notice = ""
        self.sending = False
        recent = statements.recent_periods(utility(), ctx.now)
        self.periods = {lg: [PeriodOption(p, i18n.format_period(p, lg)) for p in recent] for lg in _languages()}
        if self.period not in recent:
            self.period, self._picked = recent[1], False
        await self._open_on_last_billed(ctx)
        await self._show(ctx)
        self.loaded = True
        return await self._address(ctx, "/statement")

    async def _account_picked(self, ctx: Ctx) -> None:
        self.error = self.notice = ""
        await self._open_on_last_billed(ctx)
        await self._show(ctx)

    @rx.event
    @handler(CUSTOMER, value=Text(20))
    async def pick_period(self, ctx: Ctx, value: str):
        if value not in {p.value for opts in self.periods.values() for p in opts}:
            return None
        self.period, self._picked = value, True
        self.error = self.notice = ""
        await self._show(ctx)
        return None

    @rx.event
    @handler(CUSTOMER, creates=True, form=Form(("account_id", "period"), max_len=20))
    async def send(self, ctx: Ctx, form: dict[str, str]):
        """Send the shown account state to the customer's e-mail (the service limits it). The form
        names the account and month shown and carries the submission id: a repeated click, or a
        form for what is no longer shown, sends nothing."""
        lang = ctx.lang
        self.error = self.notice = ""
        if not self.account_id or not self.period:
            return
        if (form["account_id"], form["period"]) != (self.account_id, self.period):
            return
        self.sending = True
        yield
        try:
            sent = await call(statements.send_statement, engine(), utility(), ctx.user_id,
                              int(self.account_id), self.period, now=ctx.now)
        except (statements.NoEmail, statements.EmailNotConfirmed) as e:
            self.email_status = "none" if isinstance(e, statements.NoEmail) else "unconfirmed"
            self.error = say(e, lang)
        except DomainError as e:
            self.error = say(e, lang)
        else:
            self.notice = i18n.t("statement.sent", lang, email=sent.to)
        finally:
            self.sending = False
