"""Optional single sign-on through an OpenID Connect provider (authorization code flow + PKCE).

Pieces, in the order a sign-in uses them:

* :meth:`OidcClient.metadata` — discovery (``{issuer}/.well-known/openid-configuration``), checked
  (the document must name the configured issuer exactly; authlib's metadata rules) and cached
  briefly.
* :meth:`OidcClient.authorization_request` — the URL to send the browser to, with a fresh
  ``state``, ``nonce`` and PKCE ``code_verifier`` (S256) that the caller keeps server-side.
* :meth:`OidcClient.parse_callback` — the provider's redirect back: the state must match.
* :meth:`OidcClient.exchange_code` — the code at the token endpoint (client_secret_basic, or
  client_secret_post when that is all the provider takes), with the PKCE verifier.
* :meth:`OidcClient.verify_id_token` — signature with the provider's JWKS (RS256/ES256 only),
  then iss, aud (= client_id; azp when there are several audiences), exp, iat, nbf, nonce,
  at_hash (joserfc + authlib's OIDC claim rules; ``authlib.jose`` is deprecated in favour of
  joserfc since Authlib 1.7).
* :func:`sign_in_oidc` — finds or links the portal user and opens a portal session.

HTTP goes through :class:`_Http` only (sync httpx with timeouts, no redirects followed). A web
handler should call the blocking methods in a worker thread (``asyncio.to_thread``).
"""
from __future__ import annotations

import base64
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import sqlalchemy as sa
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from gazportal.db import write_session
from gazportal.models.people import User
from gazportal.services.errors import DomainError
from gazportal.settings import get_settings

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256", "ES256")
CLOCK_SKEW_SECONDS = 60  # leeway for exp / iat / nbf between our clock and the provider's
DISCOVERY_TTL_SECONDS = 300  # how long discovery and the JWKS are kept
JWKS_REFRESH_MIN_SECONDS = 30  # an unknown kid refetches the JWKS at most this often
HTTP_TIMEOUT_SECONDS = 5.0
MAX_RESPONSE_BYTES = 256 * 1024
MAX_ID_TOKEN_CHARS = 16 * 1024
CALLBACK_PATH = "/auth/oidc/callback"


# ---------------------------------------------------------------------------------------------
# errors


class OidcError(DomainError):
    """Single sign-on failed. The customer sees one neutral text; ``reason`` (never shown) says
    which check refused, for the log and the tests."""

    key = "errors.oidc_failed"

    def __init__(self, reason: str, key: str | None = None, /) -> None:
        super().__init__(key)
        self.reason = reason

    def __str__(self) -> str:  # pragma: no cover - for logs
        return f"{self.key} ({self.reason})"


class OidcNotConfigured(OidcError):
    key = "errors.oidc_not_configured"


class OidcUnavailable(OidcError):
    """The provider did not answer (network, timeout, 5xx)."""

    key = "errors.oidc_unavailable"


class OidcCancelled(OidcError):
    """The customer declined at the provider (``error=access_denied``)."""

    key = "errors.oidc_cancelled"


class OidcRegisterFirst(OidcError):
    """No portal account is (or can be) linked to this identity: the customer must register with
    the account proof first. The same text whatever the cause, so it reveals no e-mail."""

    key = "errors.oidc_register_first"


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class AuthRequest:
    """Where to send the browser, and what the caller must keep (server-side) until the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


@dataclass(frozen=True)
class TokenResponse:
    id_token: str
    access_token: str | None
    token_type: str
    raw: dict = field(repr=False)


# ---------------------------------------------------------------------------------------------
# the HTTP layer


class _Http:
    """The only place that talks HTTP: GET JSON and POST a form, with timeouts and size limits."""

    def __init__(self, timeout: float = HTTP_TIMEOUT_SECONDS, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "gazportal-oidc"},
        )

    def close(self) -> None:
        self._client.close()

    def _json(self, response: httpx.Response, what: str) -> dict:
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise OidcError(f"{what}_too_large")
        try:
            data = response.json()
        except ValueError:
            raise OidcError(f"{what}_not_json") from None
        if not isinstance(data, dict):
            raise OidcError(f"{what}_not_object")
        return data

    def get_json(self, url: str, what: str) -> dict:
        try:
            response = self._client.get(url)
        except httpx.HTTPError as e:
            log.warning("OIDC %s: %s: %s", what, url, e)
            raise OidcUnavailable(f"{what}_unreachable") from None
        if response.status_code >= 500:
            raise OidcUnavailable(f"{what}_status_{response.status_code}")
        if response.status_code != 200:
            raise OidcError(f"{what}_status_{response.status_code}")
        return self._json(response, what)

    def post_form(self, url: str, data: dict[str, str], headers: dict[str, str], what: str) -> tuple[int, dict]:
        try:
            response = self._client.post(url, data=data, headers=headers)
        except httpx.HTTPError as e:
            log.warning("OIDC %s: %s: %s", what, url, e)
            raise OidcUnavailable(f"{what}_unreachable") from None
        if response.status_code >= 500:
            raise OidcUnavailable(f"{what}_status_{response.status_code}")
        return response.status_code, self._json(response, what)


# ---------------------------------------------------------------------------------------------
# discovery / JWKS cache (per issuer, shared by every client object in the process)


@dataclass
class _Cached:
    metadata: dict | None = None
    metadata_at: float = 0.0
    jwks: KeySet | None = None
    jwks_at: float = 0.0


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every discovery document and key set (tests; a provider's keys rotated)."""
    with _cache_lock:
        _cache.clear()


def _timestamp(now: datetime | None) -> int:
    if now is None:
        return int(time.time())
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return int(now.timestamp())


# ---------------------------------------------------------------------------------------------
# the client


class OidcClient:
    """An OpenID Connect relying party for one provider (issuer) and one client registration."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: str = "openid email profile",
        *,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        cache_seconds: float = DISCOVERY_TTL_SECONDS,
        leeway: int = CLOCK_SKEW_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not issuer or not client_id or not client_secret:
            raise OidcNotConfigured("not_configured")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        scope_list = scopes.split()
        if "openid" not in scope_list:
            scope_list.insert(0, "openid")
        self.scopes = " ".join(scope_list)
        self.cache_seconds = cache_seconds
        self.leeway = leeway
        self._http = _Http(timeout, transport)

    @classmethod
    def from_settings(cls, settings=None, **kwargs) -> "OidcClient":
        """The client for the configured provider; OidcNotConfigured when SSO is off."""
        if settings is None:
            settings = get_settings()
        o = settings.oidc
        if not (o.issuer and o.client_id and o.client_secret):
            raise OidcNotConfigured("not_configured")
        return cls(
            o.issuer,
            o.client_id,
            o.client_secret,
            redirect_uri=settings.public_url + CALLBACK_PATH,
            scopes=o.scopes,
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "OidcClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- discovery -----------------------------------------------------------------------------

    def _entry(self) -> _Cached:
        with _cache_lock:
            return _cache.setdefault(self.issuer, _Cached())

    def metadata(self) -> dict:
        entry = self._entry()
        if entry.metadata is not None and time.monotonic() - entry.metadata_at < self.cache_seconds:
            return entry.metadata
        data = self._http.get_json(self.issuer + "/.well-known/openid-configuration", "discovery")
        # OpenID Connect Discovery 1.0 §4.3: the issuer in the document MUST be identical to the
        # issuer the document was fetched from (else a provider could speak for another one).
        if data.get("issuer") != self.issuer:
            raise OidcError("issuer_mismatch")
        try:
            OpenIDProviderMetadata(data).validate()
        except (ValueError, KeyError, TypeError) as e:
            log.warning("OIDC discovery from %s refused: %s", self.issuer, e)
            raise OidcError("discovery_invalid") from None
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise OidcError("discovery_invalid")
        if "code" not in data.get("response_types_supported", []):
            raise OidcError("discovery_no_code_flow")
        with _cache_lock:
            entry.metadata, entry.metadata_at = data, time.monotonic()
        return data

    def jwks(self, *, refresh: bool = False) -> KeySet:
        entry = self._entry()
        age = time.monotonic() - entry.jwks_at
        if entry.jwks is not None and age < self.cache_seconds and not (refresh and age >= JWKS_REFRESH_MIN_SECONDS):
            return entry.jwks
        data = self._http.get_json(self.metadata()["jwks_uri"], "jwks")
        keys = data.get("keys")
        if not isinstance(keys, list):
            raise OidcError("jwks_invalid")
        # Only public signature keys of the kinds we accept; anything else is ignored.
        usable = [
            k
            for k in keys
            if isinstance(k, dict) and k.get("kty") in ("RSA", "EC") and k.get("use", "sig") == "sig" and "d" not in k
        ]
        try:
            keyset = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError):
            raise OidcError("jwks_invalid") from None
        with _cache_lock:
            entry.jwks, entry.jwks_at = keyset, time.monotonic()
        return keyset

    # -- authorization request / callback ------------------------------------------------------

    def authorization_request(self, *, prompt: str | None = None, ui_locales: str | None = None) -> AuthRequest:
        meta = self.metadata()
        methods = meta.get("code_challenge_methods_supported")
        if methods is not None and "S256" not in methods:
            raise OidcError("pkce_s256_unsupported")
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43..128
        url = prepare_grant_uri(
            meta["authorization_endpoint"],
            client_id=self.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
            prompt=prompt,
            ui_locales=ui_locales,
        )
        return AuthRequest(url, state, nonce, code_verifier, self.redirect_uri)

    @staticmethod
    def parse_callback(params: Mapping[str, Any] | str, *, expected_state: str) -> str:
        """The code from the provider's redirect back (a query string, a URL or a mapping).

        The state must equal the one this browser's sign-in started with (constant-time compare).
        """
        if isinstance(params, str):
            query = urlsplit(params).query if "?" in params or "://" in params else params
            params = dict(parse_qsl(query, keep_blank_values=True))
        state = params.get("state")
        if not isinstance(state, str) or not expected_state or not hmac.compare_digest(
            state.encode(), expected_state.encode()
        ):
            raise OidcError("state_mismatch")
        error = params.get("error")
        if error:
            if error == "access_denied":
                raise OidcCancelled("access_denied")
            raise OidcError(f"provider_error_{str(error)[:40]}")
        code = params.get("code")
        if not isinstance(code, str) or not code or len(code) > 2048:
            raise OidcError("no_code")
        return code

    # -- token endpoint ------------------------------------------------------------------------

    def _client_auth(self, meta: dict) -> tuple[dict[str, str], dict[str, str]]:
        """(extra form fields, headers) for client_secret_basic, or _post when only that is offered."""
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            # RFC 6749 §2.3.1: id and secret are form-encoded before they are base64-encoded.
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            return {}, {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        if "client_secret_post" in methods:
            return {"client_id": self.client_id, "client_secret": self.client_secret}, {}
        raise OidcError("token_auth_unsupported")

    def exchange_code(self, code: str, code_verifier: str) -> TokenResponse:
        meta = self.metadata()
        form, headers = self._client_auth(meta)
        form.update(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=code_verifier,
        )
        status, data = self._http.post_form(meta["token_endpoint"], form, headers, "token")
        if status != 200:
            err = data.get("error")
            if not isinstance(err, str):
                err = "unknown"
            log.info("OIDC token endpoint refused the code: %s %s", status, err)
            raise OidcError(f"token_{err[:40]}")
        id_token = data.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcError("no_id_token")
        token_type = data.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise OidcError("token_type")
        access = data.get("access_token")
        return TokenResponse(id_token, access if isinstance(access, str) else None, token_type, data)

    # -- ID token ------------------------------------------------------------------------------

    def verify_id_token(
        self, id_token: str, *, nonce: str, now: datetime | None = None, access_token: str | None = None
    ) -> dict:
        """The verified claims of an ID token, or OidcError (reason names the failed check)."""
        if not isinstance(id_token, str) or len(id_token) > MAX_ID_TOKEN_CHARS or id_token.count(".") != 2:
            raise OidcError("id_token_malformed")
        if not nonce:
            raise OidcError("nonce_missing")
        keys = self.jwks()
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=list(ALLOWED_ALGORITHMS))
            except JoseError as e:
                if e.error != "invalid_key_id":
                    raise
                # The provider may have rotated its keys: fetch the set again (rate-limited).
                token = jwt.decode(id_token, self.jwks(refresh=True), algorithms=list(ALLOWED_ALGORITHMS))
        except JoseError as e:
            raise OidcError(f"signature_{e.error}") from None
        except (ValueError, TypeError):
            raise OidcError("id_token_malformed") from None
        if token.header.get("alg") not in ALLOWED_ALGORITHMS:  # belt and braces: joserfc checked it
            raise OidcError("signature_alg")

        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "nonce": {"essential": True},
            },
            params={"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
        )
        try:
            claims.validate(now=_timestamp(now), leeway=self.leeway)
        except JoseError as e:
            name = getattr(e, "claim", None) or e.error
            raise OidcError(f"claim_{name}") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255:
            raise OidcError("claim_sub")
        return dict(claims)

    # -- the whole callback --------------------------------------------------------------------

    def complete(
        self,
        params: Mapping[str, Any] | str,
        *,
        state: str,
        nonce: str,
        code_verifier: str,
        now: datetime | None = None,
    ) -> dict:
        """Callback parameters + the values kept from :meth:`authorization_request` -> claims."""
        code = self.parse_callback(params, expected_state=state)
        tokens = self.exchange_code(code, code_verifier)
        return self.verify_id_token(tokens.id_token, nonce=nonce, now=now, access_token=tokens.access_token)


# ---------------------------------------------------------------------------------------------
# signing in to the portal


def oidc_subject(claims: Mapping[str, Any]) -> str:
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or not iss or not isinstance(sub, str) or not sub:
        raise OidcError("claim_sub")
    subject = f"{iss}|{sub}"
    if len(subject) > 300:  # User.oidc_subject's column size
        raise OidcError("claim_sub")
    return subject


def _email_verified(claims: Mapping[str, Any]) -> bool:
    value = claims.get("email_verified")
    # Some providers send the string "true"; anything else is "not verified".
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _owns_email(utility, user: User, email: str) -> bool:
    """The portal itself knows this user controls ``email``: it was confirmed here."""
    if user.email_verified:
        return True
    # A profile that signs in with the e-mail and confirms it by link: an active user has proved it.
    return (
        utility.login_identifier == "email"
        and utility.confirmation == "email_link"
        and (user.login or "").lower() == email
    )


def _find_or_link(session, utility, claims: Mapping[str, Any], *, now: datetime) -> User:
    subject = oidc_subject(claims)
    user = session.exec(select(User).where(User.oidc_subject == subject).with_for_update()).first()
    if user is not None:
        if not user.is_active:
            raise OidcRegisterFirst("user_inactive")
        return user
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise OidcRegisterFirst("no_email")
    if not _email_verified(claims):
        raise OidcRegisterFirst("email_not_verified")
    email = email.strip().lower()
    candidates = session.exec(
        select(User).where(sa.func.lower(User.email) == email).with_for_update()
    ).all()
    candidates = [u for u in candidates if u.is_active and u.role == "customer" and _owns_email(utility, u, email)]
    if len(candidates) != 1:
        # None, or several accounts share the address: the customer links it by registering.
        raise OidcRegisterFirst("no_unique_user")
    user = candidates[0]
    if user.oidc_subject == subject:  # a parallel first sign-in linked it while we waited
        return user
    if user.oidc_subject is not None:  # already linked to another identity at the provider
        raise OidcRegisterFirst("linked_elsewhere")
    user.oidc_subject = subject
    session.add(user)
    log.info("OIDC: linked user %s to %s", user.id, subject)
    return user


def sign_in_oidc(engine, utility, claims: Mapping[str, Any], *, now: datetime, user_agent: str = "",
                 source: Any = None):
    """Sign in with verified ID-token claims: returns auth's ``SignIn`` (token, user_id, ...);
    ``source``'s device (``throttle.Source``) becomes a known device of the user.

    The user is the one whose ``oidc_subject`` is ``iss|sub``. The first time, the identity is
    linked to the one active customer whose e-mail is the same, only when the provider says
    ``email_verified`` and the portal has the e-mail confirmed too; otherwise
    OidcRegisterFirst ("register first"). Users are never created here: registration needs the
    account proof.
    """
    for attempt in (1, 2):
        try:
            with write_session(engine) as session:
                user = _find_or_link(session, utility, claims, now=now)
                return _create_session(session, user, now=now, user_agent=user_agent, source=source)
        except IntegrityError:
            # Two first sign-ins of the same identity at once: the other one linked it; retry.
            if attempt == 2:
                raise OidcError("link_race") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _create_session(session, user: User, *, now: datetime, user_agent: str, source: Any = None):
    """Open a portal session for ``user`` in the caller's transaction (SSO: no "remember me")."""
    from gazportal.services import auth  # lazy: auth pulls in mail, SMS and captcha

    return auth.open_session(session, user, remember=False, now=now, user_agent=user_agent, source=source)
