"""Single sign-on through OpenID Connect (services/oidc.py) in the browser.

* ``start`` (the button on /signin): asks the provider's discovery for an authorization request
  (fresh state, nonce and PKCE verifier), keeps those server-side in backend-only vars (``_``:
  never sent to the browser, never settable from it), and sends the browser to the provider.
* ``callback`` (on_load of /auth/oidc/callback): takes only ``code``, ``state`` and ``error`` from
  the query string; the pending values are taken out at once (single use, whatever happens next),
  must exist and be younger than :data:`PENDING_MAX_AGE`; the service then compares the state in
  constant time, exchanges the code with the verifier, verifies the ID token against the nonce
  and signs in (or refuses). The session starts exactly as the password sign-in starts it.

The pending values live in this browser tab's backend state (Reflex keys it by the tab's client
token), so a callback opened in another browser or tab has nothing to match and is refused.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import reflex as rx

from gazportal.services import oidc
from gazportal.services.errors import DomainError
from gazportal.services.oidc import OidcClient, OidcError
from gazportal.settings import get_settings
from gazportal.state.auth_forms import AuthFormState
from gazportal.state.contract import PUBLIC, Ctx, call, engine, handler, utility
from gazportal.state.i18n import adopt_user_language
from gazportal.state.session import HOME_ROUTE, hand_over, start_script

log = logging.getLogger("gazportal.web.oidc")

PENDING_MAX_AGE = timedelta(minutes=10)
CALLBACK_ROUTE = oidc.CALLBACK_PATH  # /auth/oidc/callback, the redirect URI registered at the provider
MAX_PARAM_CHARS = 2048  # a code or state longer than this is not one of ours


def oidc_enabled(settings=None) -> bool:
    """Issuer, client id and secret are all configured (the sign-in page shows the button)."""
    o = (settings or get_settings()).oidc
    return bool(o.issuer and o.client_id and o.client_secret)


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    code_verifier: str
    created_at: datetime


def _begin(lang: str) -> oidc.AuthRequest:
    with OidcClient.from_settings() as client:
        return client.authorization_request(ui_locales=lang or None)


def _finish(params: dict[str, str], pending: Pending, *, at: datetime, user_agent: str, source: Any = None):
    with OidcClient.from_settings() as client:
        claims = client.complete(
            params, state=pending.state, nonce=pending.nonce, code_verifier=pending.code_verifier, now=at
        )
    return oidc.sign_in_oidc(engine(), utility(), claims, now=at, user_agent=user_agent, source=source)


def _query(router: Any) -> dict[str, str]:
    """code / state / error from the callback URL, as short strings; nothing else is read.

    Reflex parses the query into a mapping of strings (a name given twice: its last value)."""
    params = router.url.query_parameters if router else {}
    out: dict[str, str] = {}
    for name in ("code", "state", "error"):
        value = params.get(name)
        if isinstance(value, str) and value and len(value) <= MAX_PARAM_CHARS and "\x00" not in value:
            out[name] = value
    return out


class OidcState(AuthFormState):
    """The SSO button's and the callback page's state."""

    working: bool = False  # the callback page: "signing you in ..."
    failed: bool = False  # the callback page: show the message and the way back

    # Backend only (leading underscore): the pending authorization request of this tab.
    _pending_state: str = ""
    _pending_nonce: str = ""
    _pending_verifier: str = ""
    _pending_at: str = ""  # ISO time (aware UTC) the request was made

    def _keep(self, req: oidc.AuthRequest, at: datetime) -> None:
        self._pending_state = req.state
        self._pending_nonce = req.nonce
        self._pending_verifier = req.code_verifier
        self._pending_at = at.isoformat()

    def _take(self) -> Pending | None:
        """The pending request, removed from the state (single use), or None."""
        pending = None
        if self._pending_state and self._pending_nonce and self._pending_verifier and self._pending_at:
            try:
                created = datetime.fromisoformat(self._pending_at)
            except ValueError:
                created = None
            if created is not None and created.tzinfo is not None:
                pending = Pending(self._pending_state, self._pending_nonce, self._pending_verifier, created)
        self._pending_state = self._pending_nonce = self._pending_verifier = self._pending_at = ""
        return pending

    def _show_error(self, err: DomainError, lang: str) -> Any:
        if isinstance(err, OidcError):
            log.info("single sign-on refused: %s", err.reason)
        self.working = False
        self.failed = True
        return super()._show_error(err, lang)

    @rx.event
    @handler(PUBLIC)
    def reset_messages(self, ctx: Ctx):
        """on_load of /signin: no message left over from an earlier attempt."""
        self._reset_messages()
        self.busy = self.working = self.failed = False

    @rx.event
    @handler(PUBLIC)
    async def start(self, ctx: Ctx):
        """The SSO button: a fresh authorization request, kept server-side; off to the provider."""
        self._reset_messages()
        self.failed = False
        if self.busy:
            return
        self.busy = True
        yield
        req = await call(_begin, ctx.lang)
        self._keep(req, ctx.now)
        self.busy = False
        # Same window: a different host makes Reflex's redirect a window.location.assign.
        yield rx.redirect(req.url)

    @rx.event
    @handler(PUBLIC)
    async def callback(self, ctx: Ctx):
        """on_load of /auth/oidc/callback."""
        self._reset_messages()
        self.failed = False
        self.working = True
        params = _query(self.router)
        pending = self._take()  # single use: gone whatever happens below
        at = ctx.now
        yield
        if pending is None:
            raise OidcError("no_pending_request")
        if not timedelta(0) <= at - pending.created_at <= PENDING_MAX_AGE:
            raise OidcError("pending_request_expired")
        user_agent = (self.router.headers.user_agent if self.router else "") or ""
        signed = await call(_finish, params, pending, at=at, user_agent=user_agent[:300], source=ctx.source)
        user, code = await call(hand_over, signed.token)  # single sign-on: no "remember me"
        if user is not None:
            await adopt_user_language(self, user.language)  # the language saved in the profile
        self.working = False
        yield start_script(code, HOME_ROUTE)
