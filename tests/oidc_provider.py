"""A small but real OpenID Connect provider for the tests (stdlib http.server in a thread).

Serves discovery, JWKS, an authorize endpoint that auto-approves the configured test user and
redirects back with a code, and a token endpoint that checks the code (single use, bound to the
client and redirect URI), the client's credentials (client_secret_basic or _post) and the PKCE
verifier (S256), then returns a signed ID token.

Knobs for attack tests: ``issuer_in_discovery`` (lie about the issuer), ``id_token_hook``
(change the claims/header/key of the next ID tokens), ``auth_methods`` (token endpoint auth),
``requests`` (what was asked, to check caching).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str
    claims: dict
    expires: float
    used: bool = False


@dataclass
class IdpUser:
    sub: str = "user-1"
    email: str = "anna@example.kz"
    email_verified: Any = True
    name: str = "Anna Ivanova"


@dataclass
class Provider:
    client_id: str = "gazportal"
    client_secret: str = "s3cret:with/odd&chars"
    redirect_uri: str = "http://127.0.0.1:9/auth/oidc/callback"
    user: IdpUser = field(default_factory=IdpUser)
    auth_methods: list[str] = field(default_factory=lambda: ["client_secret_basic", "client_secret_post"])
    issuer_in_discovery: str | None = None
    # (header, claims) -> (header, claims, key) for the next ID tokens; None = honest
    id_token_hook: Callable[[dict, dict], tuple[dict, dict, Any]] | None = None

    def __post_init__(self) -> None:
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
        self.ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
        self.grants: dict[str, Grant] = {}
        self.requests: list[str] = []
        self.token_requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "Provider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- tokens ------------------------------------------------------------------------------
    def jwks(self) -> dict:
        return {"keys": [self.rsa.as_dict(private=False), self.ec.as_dict(private=False)]}

    def claims_for(self, nonce: str | None, **extra) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.user.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "email": self.user.email,
            "email_verified": self.user.email_verified,
            "name": self.user.name,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(extra)
        return claims

    def sign(self, claims: dict, *, header: dict | None = None, key: Any = None) -> str:
        """A compact JWS of ``claims``, RS256 with the provider's key unless told otherwise."""
        header = header or {"alg": "RS256", "kid": self.rsa.kid}
        key = self.rsa if key is None else key
        return jwt.encode(header, claims, key, algorithms=[header["alg"]])

    def id_token(self, nonce: str | None, **extra) -> str:
        header, claims, key = {"alg": "RS256", "kid": self.rsa.kid}, self.claims_for(nonce, **extra), self.rsa
        if self.id_token_hook is not None:
            header, claims, key = self.id_token_hook(header, claims)
        return self.sign(claims, header=header, key=key)

    # -- HTTP --------------------------------------------------------------------------------
    def _handler(provider):  # noqa: N805 - the closure's "self" is the provider
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                provider.requests.append(url.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._send(200, provider.discovery())
                if url.path == "/jwks":
                    return self._send(200, provider.jwks())
                if url.path == "/authorize":
                    return self._authorize({k: v[0] for k, v in parse_qs(url.query).items()})
                self._send(404, {"error": "not_found"})

            def _authorize(self, q: dict) -> None:
                if q.get("client_id") != provider.client_id or q.get("redirect_uri") != provider.redirect_uri:
                    # Never redirect to an unregistered URI.
                    return self._send(400, {"error": "invalid_request"})
                back = provider.redirect_uri
                state = q.get("state", "")

                def fail(error: str) -> None:
                    self._send(302, None, {"Location": back + "?" + urlencode({"error": error, "state": state})})

                if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
                    return fail("invalid_request")
                if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                    return fail("invalid_request")
                code = secrets.token_urlsafe(24)
                with provider._lock:
                    provider.grants[code] = Grant(
                        client_id=q["client_id"],
                        redirect_uri=q["redirect_uri"],
                        nonce=q.get("nonce"),
                        code_challenge=q["code_challenge"],
                        claims={},
                        expires=time.time() + 60,
                    )
                self._send(302, None, {"Location": back + "?" + urlencode({"code": code, "state": state})})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                provider.requests.append(url.path)
                if url.path != "/token":
                    return self._send(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.token_requests.append({"form": dict(form), "auth": self.headers.get("Authorization")})
                client_id, secret = provider._client_credentials(self.headers.get("Authorization"), form)
                if client_id != provider.client_id or secret is None or not secrets.compare_digest(
                    secret, provider.client_secret
                ):
                    return self._send(401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"})
                if form.get("grant_type") != "authorization_code":
                    return self._send(400, {"error": "unsupported_grant_type"})
                with provider._lock:
                    grant = provider.grants.get(form.get("code", ""))
                    if grant is None or grant.used or grant.expires < time.time():
                        return self._send(400, {"error": "invalid_grant"})
                    grant.used = True  # single use, even when a check below fails
                if grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri"):
                    return self._send(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier") or ""
                if not secrets.compare_digest(s256(verifier), grant.code_challenge):
                    return self._send(400, {"error": "invalid_grant"})
                access = secrets.token_urlsafe(24)
                from authlib.oidc.core.util import create_half_hash

                id_token = provider.id_token(
                    grant.nonce, at_hash=create_half_hash(access, "RS256").decode()
                )
                self._send(
                    200, {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}
                )

        return Handler

    def _client_credentials(self, authorization: str | None, form: dict) -> tuple[str | None, str | None]:
        if authorization and authorization.startswith("Basic ") and "client_secret_basic" in self.auth_methods:
            try:
                raw = base64.b64decode(authorization[6:]).decode()
            except ValueError:
                return None, None
            cid, _, secret = raw.partition(":")
            return unquote(cid), unquote(secret)
        if "client_secret" in form and "client_secret_post" in self.auth_methods:
            return form.get("client_id"), form.get("client_secret")
        return None, None

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer_in_discovery or self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"],
        }
