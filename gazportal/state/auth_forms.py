"""What the sign-in, registration, confirmation and recovery states share: a form-level message,
per-field messages and a "please wait" flag, shown by the handler frame (``state/contract.py``).

Handlers are declared with ``@handler(PUBLIC, form=Form(...))``: the form's fields are checked
before the body runs; a :class:`DomainError` raised by the body is shown on the form.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

from gazportal.services.errors import DomainError, FormErrors
from gazportal.state.contract import field_texts, new_submission_id, say


class AuthFormState(rx.State):
    """Base of the auth page states: a form-level message and per-field messages."""

    error: str = ""  # form-level, role=alert
    notice: str = ""  # form-level, role=status (success / "we have sent ...")
    field_errors: dict[str, str] = {}
    busy: bool = False
    refusals: int = 0  # raised at each refusal: the error summary takes the focus (components/forms.py)
    submission: str = rx.field(default_factory=new_submission_id)  # a create form's id
    _used_submissions: list[str] = []  # "" once a form sent before the page was ready was taken

    async def _say(self, key: str, **params: Any) -> str:
        """``key`` in the page's language."""
        from gazportal.services import i18n
        from gazportal.state.contract import language

        return i18n.t(key, await language(self), **params)

    def _reset_messages(self) -> None:
        self.error = ""
        self.notice = ""
        self.field_errors = {}

    def _show_refusal(self, text: str) -> None:
        self.field_errors = {}
        self.error = text
        self.refusals += 1

    def _show_error(self, err: DomainError, lang: str) -> Any:
        """A refusal: field errors marked on their fields, anything else as one message."""
        self.field_errors = field_texts(err, lang) if isinstance(err, FormErrors) else {}
        self.error = say(err, lang)
        self.refusals += 1
        return None
