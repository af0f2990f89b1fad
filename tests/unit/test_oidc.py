"""Single sign-on through OpenID Connect, against a real local provider (tests/oidc_provider.py)
over real HTTP: the whole flow, the JWT attacks, state/PKCE/code-replay, and the linking rules."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey
from sqlmodel import func, select

from gazportal.db import read_session, write_session
from gazportal.models.auth import AuthSession
from gazportal.models.people import User
from gazportal.services import oidc
from gazportal.services.oidc import (
    OidcCancelled,
    OidcClient,
    OidcError,
    OidcNotConfigured,
    OidcRegisterFirst,
    OidcUnavailable,
    sign_in_oidc,
)
from gazportal.settings import load_utility
from tests.oidc_provider import Provider, IdpUser, s256

PROFILE = load_utility("default")  # e-mail login, confirmed by link
ACCOUNT_PROFILE = load_utility("shygysenergotrade")  # account-number login


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def provider_module():
    p = Provider().start()
    yield p
    p.stop()


@pytest.fixture
def provider(provider_module):
    """The shared provider with its knobs back to honest defaults, and an empty client cache."""
    p = provider_module
    p.user = IdpUser()
    p.auth_methods = ["client_secret_basic", "client_secret_post"]
    p.issuer_in_discovery = None
    p.id_token_hook = None
    p.requests.clear()
    p.token_requests.clear()
    oidc.clear_cache()
    yield p
    oidc.clear_cache()


@pytest.fixture
def client(provider):
    c = OidcClient(provider.issuer, provider.client_id, provider.client_secret, provider.redirect_uri)
    yield c
    c.close()


def browser_login(auth: oidc.AuthRequest) -> str:
    """What the browser does: follow the authorization URL to the provider, which redirects back."""
    r = httpx.get(auth.url, follow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(auth.redirect_uri + "?")
    return location


def add_user(engine, *, login="anna@example.kz", email="anna@example.kz", active=True, verified=True,
             subject=None, role="customer") -> int:
    with write_session(engine) as s:
        u = User(surname="Ivanova", name="Anna", login=login, email=email, password_hash="x", is_active=active,
                 email_verified=verified, oidc_subject=subject, role=role)
        s.add(u)
        s.flush()
        return u.id


def count(engine, model) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def get_user(engine, user_id) -> User:
    with read_session(engine) as s:
        return s.get(User, user_id)


# --------------------------------------------------------------------------------------------
# the whole flow


def test_full_flow_end_to_end(engine, provider, client):
    uid = add_user(engine)
    auth = client.authorization_request()
    callback = browser_login(auth)
    claims = client.complete(callback, state=auth.state, nonce=auth.nonce, code_verifier=auth.code_verifier,
                             now=now())
    assert claims["sub"] == "user-1" and claims["iss"] == provider.issuer and claims["nonce"] == auth.nonce

    from gazportal.models.auth import KnownDevice
    from gazportal.services import throttle

    device = throttle.source("d" * 43, "192.0.2.1")
    signed = sign_in_oidc(engine, PROFILE, claims, now=now(), user_agent="pytest", source=device)
    assert signed.user_id == uid and not signed.remember and len(signed.token) >= 32
    with read_session(engine) as s:  # a single sign-on makes the browser a known device too
        assert [(d.user_id, d.device_hash) for d in s.exec(select(KnownDevice)).all()] == [(uid, device.device)]
    with read_session(engine) as s:
        row = s.exec(select(AuthSession).where(AuthSession.user_id == uid)).one()
        assert signed.token not in row.token_hash and row.revoked_at is None and row.user_agent == "pytest"
    # a real portal session: the session gate (auth.resolve_session) accepts the token
    from gazportal.services.auth import resolve_session

    who = resolve_session(engine, signed.token, now=now())
    assert who is not None and who.user_id == uid and who.session_id == row.id and not who.remember
    user = get_user(engine, uid)
    assert user.oidc_subject == f"{provider.issuer}|user-1" and user.last_login_at is not None

    # The next time the user is found by the subject, even if the provider's e-mail changed.
    provider.user = IdpUser(email="new-address@example.kz", email_verified=False)
    auth2 = client.authorization_request()
    claims2 = client.complete(browser_login(auth2), state=auth2.state, nonce=auth2.nonce,
                              code_verifier=auth2.code_verifier, now=now())
    assert sign_in_oidc(engine, PROFILE, claims2, now=now()).user_id == uid
    assert count(engine, AuthSession) == 2 and count(engine, User) == 1


def test_authorization_url_has_state_nonce_and_pkce_s256(provider, client):
    a, b = client.authorization_request(), client.authorization_request()
    q = {k: v[0] for k, v in parse_qs(urlsplit(a.url).query).items()}
    assert a.url.startswith(provider.issuer + "/authorize?")
    assert q["response_type"] == "code" and q["client_id"] == provider.client_id
    assert q["redirect_uri"] == provider.redirect_uri and "openid" in q["scope"].split()
    assert q["state"] == a.state and q["nonce"] == a.nonce
    assert q["code_challenge_method"] == "S256" and q["code_challenge"] == s256(a.code_verifier)
    assert a.code_verifier not in a.url
    assert 43 <= len(a.code_verifier) <= 128 and len(a.state) >= 32 and len(a.nonce) >= 32
    assert len({a.state, b.state}) == 2 and len({a.nonce, b.nonce}) == 2 and a.code_verifier != b.code_verifier


def test_client_secret_basic_is_used_and_encoded(provider, client):
    auth = client.authorization_request()
    code = client.parse_callback(browser_login(auth), expected_state=auth.state)
    client.exchange_code(code, auth.code_verifier)
    sent = provider.token_requests[-1]
    assert sent["auth"].startswith("Basic ") and "client_secret" not in sent["form"]


def test_client_secret_post_when_the_provider_only_takes_that(provider, client):
    provider.auth_methods = ["client_secret_post"]
    auth = client.authorization_request()
    code = client.parse_callback(browser_login(auth), expected_state=auth.state)
    tokens = client.exchange_code(code, auth.code_verifier)
    assert tokens.id_token and provider.token_requests[-1]["auth"] is None
    assert provider.token_requests[-1]["form"]["client_secret"] == provider.client_secret


# --------------------------------------------------------------------------------------------
# discovery


def test_discovery_is_cached_briefly(provider):
    with OidcClient(provider.issuer, provider.client_id, provider.client_secret, provider.redirect_uri) as c:
        c.metadata(), c.metadata(), c.authorization_request()
    assert provider.requests.count("/.well-known/openid-configuration") == 1
    with OidcClient(provider.issuer, provider.client_id, provider.client_secret, provider.redirect_uri,
                    cache_seconds=0) as c:
        c.metadata(), c.metadata()
    assert provider.requests.count("/.well-known/openid-configuration") == 3


def test_discovery_naming_another_issuer_is_refused(provider, client):
    provider.issuer_in_discovery = "https://evil.example"
    with pytest.raises(OidcError) as e:
        client.authorization_request()
    assert e.value.reason == "issuer_mismatch" and e.value.key == "errors.oidc_failed"


def test_unreachable_provider(provider):
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    with OidcClient(dead, "a", "b", "http://127.0.0.1/cb", timeout=2) as c, pytest.raises(OidcUnavailable) as e:
        c.metadata()
    assert e.value.key == "errors.oidc_unavailable"


def test_not_configured():
    from gazportal.settings import get_settings

    settings = replace(get_settings(), oidc=replace(get_settings().oidc, issuer=None))
    with pytest.raises(OidcNotConfigured) as e:
        OidcClient.from_settings(settings)
    assert e.value.key == "errors.oidc_not_configured"


def test_from_settings_uses_the_public_callback(provider):
    from gazportal.settings import get_settings

    s = get_settings()
    settings = replace(s, public_url="https://portal.example", oidc=replace(
        s.oidc, issuer=provider.issuer, client_id="c", client_secret="x", scopes="email"))
    with OidcClient.from_settings(settings) as c:
        assert c.redirect_uri == "https://portal.example/auth/oidc/callback" and c.scopes == "openid email"


# --------------------------------------------------------------------------------------------
# ID-token attacks (each refused for the reason it should be; the honest token passes)


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def verify(client, token, nonce="n-1"):
    return client.verify_id_token(token, nonce=nonce, now=now())


def test_honest_tokens_pass(provider, client):
    assert verify(client, provider.sign(provider.claims_for("n-1")))["sub"] == "user-1"
    es = provider.sign(provider.claims_for("n-1"), header={"alg": "ES256", "kid": "ec-1"}, key=provider.ec)
    assert verify(client, es)["sub"] == "user-1"
    # several audiences are fine when azp names us
    many = provider.sign(provider.claims_for("n-1", aud=[provider.client_id, "other"], azp=provider.client_id))
    assert verify(client, many)["azp"] == provider.client_id
    # a small clock skew is tolerated
    skewed = provider.sign(provider.claims_for("n-1", iat=int(time.time()) + 30))
    assert verify(client, skewed)


def _alg_none(provider):
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(provider.claims_for('n-1'))}."


def _hs256_with_public_key(provider):
    pem = provider.rsa.as_pem(private=False)
    head, body = b64({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}), b64(provider.claims_for("n-1"))
    sig = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def _tampered(provider):
    head, _, sig = provider.sign(provider.claims_for("n-1")).split(".")
    return f"{head}.{b64(provider.claims_for('n-1', sub='admin'))}.{sig}"


def _other_key_same_kid(provider):
    other = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    return provider.sign(provider.claims_for("n-1"), key=other)


def _unknown_kid(provider):
    other = RSAKey.generate_key(2048, parameters={"kid": "rogue"})
    return provider.sign(provider.claims_for("n-1"), header={"alg": "RS256", "kid": "rogue"}, key=other)


def _rs384(provider):
    """A real RS384 signature by the provider's own key: valid, but not on our allow-list."""
    data = {k: v for k, v in provider.rsa.as_dict(private=True).items() if k != "alg"}
    return provider.sign(provider.claims_for("n-1"), header={"alg": "RS384", "kid": "rsa-1"},
                         key=RSAKey.import_key(data))


def _es256_other_curve_key(provider):
    other = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    return provider.sign(provider.claims_for("n-1"), header={"alg": "ES256", "kid": "ec-1"}, key=other)


def _claims(**extra):
    return lambda p: p.sign(p.claims_for("n-1", **extra))


T = int(time.time())
ATTACKS = {
    "alg_none": (_alg_none, "signature_unsupported_algorithm"),
    "hs256_public_key_as_secret": (_hs256_with_public_key, "signature_unsupported_algorithm"),
    "rs384_not_allowed": (_rs384, "signature_unsupported_algorithm"),
    "tampered_payload": (_tampered, "signature_bad_signature"),
    "other_key_same_kid": (_other_key_same_kid, "signature_bad_signature"),
    "other_ec_key": (_es256_other_curve_key, "signature_bad_signature"),
    "unknown_kid": (_unknown_kid, "signature_invalid_key_id"),
    "wrong_aud": (_claims(aud="someone-else"), "claim_aud"),
    "aud_list_without_us": (_claims(aud=["a", "b"]), "claim_aud"),
    "several_aud_no_azp": (_claims(aud=["gazportal", "other"]), "claim_azp"),
    "azp_other": (_claims(aud=["gazportal", "other"], azp="other"), "claim_azp"),
    "wrong_iss": (_claims(iss="https://evil.example"), "claim_iss"),
    "expired": (_claims(iat=T - 7200, exp=T - 3600), "claim_exp"),
    "future_iat": (_claims(iat=T + 3600, exp=T + 7200), "claim_iat"),
    "not_yet_valid": (_claims(nbf=T + 3600), "claim_nbf"),
    "wrong_nonce": (lambda p: p.sign(p.claims_for("n-2")), "claim_nonce"),
    "no_exp": (lambda p: p.sign({k: v for k, v in p.claims_for("n-1").items() if k != "exp"}), "claim_exp"),
    "no_nonce": (lambda p: p.sign(p.claims_for(None)), "claim_nonce"),
    "nan_exp": (lambda p: p.sign({**p.claims_for("n-1"), "exp": float("nan")}), "claim_exp"),
    "not_a_jwt": (lambda p: "abc.def", "id_token_malformed"),
    "garbage_segments": (lambda p: "e30.e30.e30", "signature_missing_algorithm"),
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_id_token_attack_refused(provider, client, attack):
    make, reason = ATTACKS[attack]
    with pytest.raises(OidcError) as e:
        verify(client, make(provider))
    assert e.value.reason.startswith(reason), e.value.reason
    assert e.value.key == "errors.oidc_failed"


def test_unknown_kid_refetches_the_jwks_once_for_a_rotated_key(provider, client, monkeypatch):
    monkeypatch.setattr(oidc, "JWKS_REFRESH_MIN_SECONDS", 0)
    verify(client, provider.sign(provider.claims_for("n-1")))  # the key set is now cached
    old = provider.rsa
    provider.rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig", "alg": "RS256"})
    try:
        before = provider.requests.count("/jwks")
        assert verify(client, provider.sign(provider.claims_for("n-1")))["sub"] == "user-1"
        assert provider.requests.count("/jwks") == before + 1
    finally:
        provider.rsa = old


def test_bad_id_token_from_the_token_endpoint_is_refused(provider, client):
    """The provider itself hands out a token for another client: refused after the exchange."""
    provider.id_token_hook = lambda h, c: (h, {**c, "aud": "another-client"}, provider.rsa)
    auth = client.authorization_request()
    with pytest.raises(OidcError) as e:
        client.complete(browser_login(auth), state=auth.state, nonce=auth.nonce, code_verifier=auth.code_verifier)
    assert e.value.reason == "claim_aud"


def test_at_hash_mismatch_is_refused(provider, client):
    provider.id_token_hook = lambda h, c: (h, {**c, "at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, provider.rsa)
    auth = client.authorization_request()
    with pytest.raises(OidcError) as e:
        client.complete(browser_login(auth), state=auth.state, nonce=auth.nonce, code_verifier=auth.code_verifier)
    assert e.value.reason == "claim_at_hash"


# --------------------------------------------------------------------------------------------
# callback, PKCE and code replay


def test_state_mismatch_is_refused_before_the_code_is_used(provider, client):
    auth = client.authorization_request()
    callback = browser_login(auth)
    for state in ("forged", "", auth.state + "x"):
        with pytest.raises(OidcError) as e:
            client.complete(callback, state=state, nonce=auth.nonce, code_verifier=auth.code_verifier)
        assert e.value.reason == "state_mismatch"
    assert provider.token_requests == []
    # a callback without any state
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with pytest.raises(OidcError):
        client.parse_callback({"code": code}, expected_state=auth.state)


def test_provider_error_and_cancel(provider, client):
    with pytest.raises(OidcCancelled) as e:
        client.parse_callback({"state": "s", "error": "access_denied"}, expected_state="s")
    assert e.value.key == "errors.oidc_cancelled"
    with pytest.raises(OidcError) as e:
        client.parse_callback("state=s&error=server_error", expected_state="s")
    assert e.value.reason == "provider_error_server_error"


def test_pkce_verifier_mismatch_is_refused_by_the_token_endpoint(provider, client):
    auth = client.authorization_request()
    code = client.parse_callback(browser_login(auth), expected_state=auth.state)
    other = client.authorization_request().code_verifier
    with pytest.raises(OidcError) as e:
        client.exchange_code(code, other)
    assert e.value.reason == "token_invalid_grant"
    # the code is spent: the right verifier does not revive it
    with pytest.raises(OidcError):
        client.exchange_code(code, auth.code_verifier)


def test_replayed_code_is_refused(provider, client):
    auth = client.authorization_request()
    callback = browser_login(auth)
    assert client.complete(callback, state=auth.state, nonce=auth.nonce, code_verifier=auth.code_verifier)
    with pytest.raises(OidcError) as e:
        client.complete(callback, state=auth.state, nonce=auth.nonce, code_verifier=auth.code_verifier)
    assert e.value.reason == "token_invalid_grant"


def test_wrong_client_secret_is_refused(provider):
    with OidcClient(provider.issuer, provider.client_id, "wrong", provider.redirect_uri) as c:
        auth = c.authorization_request()
        code = c.parse_callback(browser_login(auth), expected_state=auth.state)
        with pytest.raises(OidcError) as e:
            c.exchange_code(code, auth.code_verifier)
    assert e.value.reason == "token_invalid_client"


# --------------------------------------------------------------------------------------------
# linking to portal users


def claims_for(provider, **extra) -> dict:
    return {**provider.claims_for("n"), **extra}


def test_first_sign_in_links_by_verified_email_case_insensitive(engine, provider):
    uid = add_user(engine, email="Anna@Example.KZ", login="anna@example.kz")
    signed = sign_in_oidc(engine, PROFILE, claims_for(provider, email="ANNA@example.kz"), now=now())
    assert signed.user_id == uid


@pytest.mark.parametrize("case", [
    "provider_not_verified", "provider_verified_missing", "no_email_claim", "no_such_user", "inactive_user",
    "portal_email_unconfirmed", "two_users_same_email", "already_linked_elsewhere", "operator",
])
def test_refused_links_say_register_first(engine, provider, case):
    claims = claims_for(provider)
    utility = PROFILE
    if case == "provider_not_verified":
        add_user(engine)
        claims["email_verified"] = False
    elif case == "provider_verified_missing":
        add_user(engine)
        del claims["email_verified"]
    elif case == "no_email_claim":
        add_user(engine)
        del claims["email"]
    elif case == "no_such_user":
        add_user(engine, login="boris@example.kz", email="boris@example.kz")
    elif case == "inactive_user":
        add_user(engine, active=False)
    elif case == "portal_email_unconfirmed":
        # account-number login: the e-mail on file was typed in, never proved to the portal
        add_user(engine, login="1234567", verified=False)
        utility = ACCOUNT_PROFILE
    elif case == "two_users_same_email":
        add_user(engine, login="111", email="anna@example.kz")
        add_user(engine, login="222", email="anna@example.kz")
    elif case == "already_linked_elsewhere":
        add_user(engine, subject="https://other-idp|42")
    elif case == "operator":
        add_user(engine, role="operator")
    users_before = count(engine, User)
    with pytest.raises(OidcRegisterFirst) as e:
        sign_in_oidc(engine, utility, claims, now=now())
    assert e.value.key == "errors.oidc_register_first"
    assert count(engine, AuthSession) == 0 and count(engine, User) == users_before
    with read_session(engine) as s:
        assert s.exec(select(User).where(User.oidc_subject == f"{provider.issuer}|user-1")).first() is None


def test_email_login_confirmed_by_link_counts_as_proof(engine, provider):
    """Default profile: login is the e-mail, confirmed by link; an active user owns it."""
    uid = add_user(engine, verified=False)
    assert sign_in_oidc(engine, PROFILE, claims_for(provider), now=now()).user_id == uid


def test_linked_user_later_deactivated_is_refused(engine, provider):
    uid = add_user(engine, subject=f"{provider.issuer}|user-1")
    assert sign_in_oidc(engine, PROFILE, claims_for(provider), now=now()).user_id == uid
    with write_session(engine) as s:
        s.get(User, uid).is_active = False
    with pytest.raises(OidcRegisterFirst):
        sign_in_oidc(engine, PROFILE, claims_for(provider), now=now())


def test_same_sub_from_another_issuer_is_another_identity(engine, provider):
    add_user(engine, verified=False, login="1234567", subject=f"{provider.issuer}|user-1")
    with pytest.raises(OidcRegisterFirst):
        sign_in_oidc(engine, ACCOUNT_PROFILE, claims_for(provider, iss="https://other-idp"), now=now())


def test_parallel_first_sign_ins_link_once(engine, provider):
    from concurrent.futures import ThreadPoolExecutor

    uid = add_user(engine)
    claims = claims_for(provider)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: sign_in_oidc(engine, PROFILE, claims, now=now()), range(4)))
    assert {r.user_id for r in results} == {uid} and len({r.token for r in results}) == 4
    assert get_user(engine, uid).oidc_subject == f"{provider.issuer}|user-1"
    assert count(engine, AuthSession) == 4


# --------------------------------------------------------------------------------------------
# the cache times docs/oidc.md states: discovery and the JWKS kept 5 minutes, an unknown key id
# refetches the JWKS at most every 30 s. A clock of our own stands in for time.monotonic.


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def time(self) -> float:
        return time.time()


@pytest.fixture
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(oidc, "time", c)  # only the oidc module's clock; httpx and the provider keep theirs
    return c


def test_discovery_and_jwks_are_kept_five_minutes(provider, client, clock):
    assert oidc.DISCOVERY_TTL_SECONDS == 300 and client.cache_seconds == 300
    token = provider.sign(provider.claims_for("n-1"))
    verify(client, token)
    assert (provider.requests.count("/.well-known/openid-configuration"), provider.requests.count("/jwks")) == (1, 1)
    clock.t += 299.9
    verify(client, token)
    client.authorization_request()
    assert (provider.requests.count("/.well-known/openid-configuration"), provider.requests.count("/jwks")) == (1, 1)
    clock.t += 0.1  # five minutes after they were fetched: both again
    verify(client, token)
    assert (provider.requests.count("/.well-known/openid-configuration"), provider.requests.count("/jwks")) == (2, 2)


def test_an_unknown_key_id_refetches_the_jwks_at_most_every_30_seconds(provider, client, clock):
    assert oidc.JWKS_REFRESH_MIN_SECONDS == 30
    verify(client, provider.sign(provider.claims_for("n-1")))  # the key set is cached at t0
    old = provider.rsa
    provider.rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig", "alg": "RS256"})
    try:
        rotated = provider.sign(provider.claims_for("n-1"))
        clock.t += 29.9
        with pytest.raises(OidcError):  # too soon to ask the provider again: refused, no request
            verify(client, rotated)
        assert provider.requests.count("/jwks") == 1
        clock.t += 0.1
        assert verify(client, rotated)["sub"] == "user-1"  # 30 s on: the set is fetched once more
        assert provider.requests.count("/jwks") == 2
    finally:
        provider.rsa = old
