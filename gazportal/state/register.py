"""Registration: the fields the profile asks for, checked by auth.register in one go.

Field errors come back as FormErrors and are shown on their fields; the inputs are uncontrolled,
so what the customer typed stays where it was. The ALTCHA challenge is made on the server
(services.captcha) and handed to the widget inline; after any refusal a fresh one is made, since
a solved challenge is single use. Where the profile has no CAPTCHA, the widget appears when the
server asks for it (``errors.captcha_required`` on ``captcha``: the account number is being
guessed from elsewhere) and stays for the rest of the visit.
"""
from __future__ import annotations

import json
from typing import Any

import reflex as rx

from gazportal.services import auth, captcha
from gazportal.services.errors import DomainError, FormErrors
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.confirm import ConfirmState
from gazportal.state.contract import PUBLIC, Choice, Ctx, Form, call, engine, handler, utility

TEXT_FIELDS = ("login", "email", "surname", "name", "phone", "kind", "bin", "account_number", "last_payment")
SECRET_FIELDS = ("password", "password2")
CAPTCHA_FIELD = "altcha"  # the name under which the widget puts its payload into the form
# Which fields a page shows depends on the profile: only the login and passwords are always there.
REGISTER_FORM = Form(
    TEXT_FIELDS + SECRET_FIELDS + (CAPTCHA_FIELD,),
    optional=set(TEXT_FIELDS + (CAPTCHA_FIELD,)) - {"login"},
    secrets=SECRET_FIELDS + (CAPTCHA_FIELD,),
    limits={CAPTCHA_FIELD: 4096},
    checkboxes=("agreement",),
    prefix="reg",
)

RESET_WIDGET = "document.querySelectorAll('altcha-widget').forEach(w => w.reset && w.reset())"


def _challenge_json(needed: bool = False) -> str:
    """A fresh challenge for the widget when the profile (or ``needed``: the server) asks for one."""
    return json.dumps(captcha.new_challenge()) if utility().captcha or needed else ""


def _registration(form: dict[str, Any], lang: str) -> dict[str, Any]:
    """What auth.register takes, from the page's form and the profile's rules."""
    p = utility()
    data = dict(form)
    data["captcha"] = data.pop(CAPTCHA_FIELD)
    if p.login_identifier == "account" and p.proof_by_last_payment:
        data["account_number"] = data["login"]  # the login is the account to prove
    data["language"] = lang
    if p.login_identifier == "phone" and not data["phone"]:
        data["phone"] = data["login"]  # the login is the phone number
    if not p.legal_entities or data["kind"] not in ("person", "legal"):
        data["kind"] = "person"
    return data


class RegisterState(AuthFormState):
    kind: str = "person"  # person | legal: shows the BIN field
    challenge: str = ""  # the ALTCHA challenge JSON for the widget
    captcha_required: bool = False  # the server asked for the CAPTCHA (profiles without one)
    done: bool = False  # registered: the form gives way to "what next"

    @rx.event
    @handler(PUBLIC)
    def load(self, ctx: Ctx):
        """on_load: a fresh form and a fresh challenge."""
        self._reset_messages()
        self.busy = False
        self.done = False
        self.kind = "person"
        self.captcha_required = False
        self.challenge = _challenge_json()

    @rx.event
    @handler(PUBLIC, value=Choice(("person", "legal")))
    def set_kind(self, ctx: Ctx, value: str):
        if utility().legal_entities:
            self.kind = value

    @rx.event
    @handler(PUBLIC)
    def new_challenge(self, ctx: Ctx):
        """The widget's challenge expired (10 minutes): a fresh one."""
        if utility().captcha or self.captcha_required:
            self.challenge = _challenge_json(self.captcha_required)

    @rx.event
    @handler(PUBLIC, creates=True, form_data=REGISTER_FORM)
    async def submit(self, ctx: Ctx, form_data: dict[str, Any]):
        """Register; a repeated submit of the same form registers nothing more."""
        self._reset_messages()
        p = utility()
        data = _registration(form_data, ctx.lang)
        self.kind = data["kind"]
        self.busy = True
        yield
        try:
            await call(auth.register, engine(), p, data, now=ctx.now, source=ctx.source)
        except DomainError as e:
            self._show_error(e, ctx.lang)
            if isinstance(e, FormErrors) and "captcha" in e.fields:
                self.captcha_required = True
            if p.captcha or self.captcha_required:  # a solved challenge is single use
                self.challenge = _challenge_json(self.captcha_required)
                yield rx.call_script(RESET_WIDGET)
            return
        self.done = True
        if p.confirmation == "none":
            self.notice = await self._say("auth.register.done_none")
        elif p.confirmation == "sms_code":
            self.notice = await self._say("auth.register.done_sms")
            # the code form on /confirm starts with the number just registered
            (await self.get_state(ConfirmState)).login_hint = data["login"]
            yield rx.redirect("/confirm")
        else:
            self.notice = await self._say("auth.register.done_email")
