"""Paying the debt online from the dashboard (issue 17 point 3).

One handler: :meth:`PayState.start` creates the order on the server (``services.payments
.create_order``: the customer's own account, the profile's payment window and limits; the amount
the customer typed, parsed there) and sends the browser to ``/_gp/pay/go/<order>``, which hands
it to the provider. Nothing the browser sends later can change the order's amount: the provider
gets it from the server and its callback must match it to be booked.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx

from gazportal.services import payments
from gazportal.settings import get_settings
from gazportal.state.contract import CUSTOMER, BadArguments, Ctx, Form, FormMixin, call, engine, handler, ident, utility

PAY_FORM = Form(("account", "amount"), prefix="pay", limits={"account": 20, "amount": 40})


def now() -> datetime:
    """The time (tests fix it)."""
    return datetime.now(UTC)


class PayState(FormMixin, rx.State):
    """The dashboard's "Pay" form: its busy flag, submission id and refusal."""

    PERSONAL: ClassVar[bool] = True
    BUSY_NAMES: ClassVar[frozenset[str]] = frozenset({"pay"})

    @rx.event
    @handler(CUSTOMER, creates=True, form=PAY_FORM)
    async def start(self, ctx: Ctx, form: dict[str, str]):
        """Create the order for the form's ``account`` and ``amount`` and go to the provider.
        A refusal (not the customer's account, window closed, amount out of limits) is said in the
        form; no order is made."""
        self.error, self.errors = "", {}
        try:
            account_id = ident(form["account"])
        except BadArguments:
            account_id = -1  # refused by the service like another customer's account
        order = await call(payments.create_order, engine(), utility(), user_id=ctx.user_id,
                           account_id=account_id, amount=form["amount"], lang=ctx.lang,
                           provider=get_settings().payments.provider, now=now())
        # A full page load of the hand-over address (it is not a Reflex page; rx.redirect would
        # route it in the app, or open a new tab with is_external).
        return rx.call_script(f"window.location.assign({json.dumps('/_gp/pay/go/' + order.public_id)})")
