"""The Reflex app: pages, head, and the event gate."""
import reflex as rx

import gazportal.models  # noqa: F401  (registers every table for `reflex db`)
from gazportal import pwa
from gazportal.asgi import serve_pages_without_slash_redirect
from gazportal.web.guard import guard
from gazportal.components.theme import stylesheet
from gazportal.pages.index import index
from gazportal.services.i18n import t
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState
from gazportal.pages.agreement import agreement
from gazportal.pages.confirm import confirm
from gazportal.pages.recover import recover
from gazportal.pages.register import register
from gazportal.pages.signin import signin
from gazportal.state.confirm import ConfirmState
from gazportal.state.gate import EventGate
from gazportal.state.oidc import OidcState
from gazportal.state.recover import RecoverState
from gazportal.state.register import RegisterState
from gazportal.state.session import SessionState
from gazportal.state.signin import SignInState

profile = get_settings().profile
lang = profile.default_language
pwa.ensure(profile)  # the manifest and icons of this profile (assets/profiles/<id>/)

app = rx.App(
    html_lang=lang,
    # Toasts for results on every page: at the top (the phone's tab bar is at the bottom), with a
    # close button, in the page's colour mode.
    toaster=rx.toast.provider(position="top-center", close_button=True),
    # /accounts is served as it is asked for, not with a redirect to /accounts/ (gazportal/asgi.py);
    # outermost (the last one), limits before work and the security headers (gazportal/web/guard.py).
    api_transformer=[serve_pages_without_slash_redirect, guard],
    head_components=[
        rx.el.meta(name="description", content=t("index.meta_description", lang)),
        rx.el.meta(name="theme-color", content=profile.colors.primary),
        rx.el.link(rel="icon", href=profile.logo, type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href=pwa.apple_touch_url(profile)),
        # Installable: manifest, iOS home-screen tags, the service worker (assets/sw.js).
        rx.el.link(rel="manifest", href=pwa.manifest_url(profile)),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-title", content=profile.short_name),
        rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="default"),
        rx.el.script(pwa.register_script(profile)),
        rx.el.style(stylesheet(profile)),
    ],
)

app.add_page(
    index,
    route="/",
    title=I18nState.t["profile.name"] + " · " + I18nState.t["index.meta_title"],
    image=profile.logo,
    on_load=I18nState.sync_document,
)

# The event gate: only allow-listed handlers run; user-only ones need a valid session
# (gazportal/state/gate.py).
app.add_middleware(EventGate())


def _title(key: str):
    return I18nState.t[key] + " · " + I18nState.t["profile.name"]


# Sign-in, registration, confirmation, recovery (public pages).
app.add_page(signin, route="/signin", title=_title("auth.signin.title"),
             on_load=[I18nState.sync_document, SessionState.load_guest, SignInState.clear,
                      OidcState.reset_messages])
app.add_page(register, route="/register", title=_title("auth.register.title"),
             on_load=[I18nState.sync_document, SessionState.load_guest, RegisterState.load])
app.add_page(confirm, route="/confirm", title=_title("auth.confirm.title"),
             on_load=[I18nState.sync_document, ConfirmState.load])
app.add_page(recover, route="/recover", title=_title("auth.recover.title"),
             on_load=[I18nState.sync_document, RecoverState.load])
app.add_page(recover, route="/reset", title=_title("auth.recover.title"),  # the e-mailed reset link
             on_load=[I18nState.sync_document, RecoverState.load])
app.add_page(agreement, route="/agreement", title=_title("auth.agreement.title"),
             on_load=I18nState.sync_document)

# Single sign-on: the provider sends the browser back here (gazportal/state/oidc.py).
from gazportal.pages.oidc import CALLBACK_ROUTE, oidc_callback  # noqa: E402

app.add_page(oidc_callback, route=CALLBACK_ROUTE, title=_title("auth.oidc.title"),
             on_load=[I18nState.sync_document, OidcState.callback])

# Signed-in pages: accounts, profile, password; the e-mail change link (gazportal/pages/signed_in.py).
from gazportal.pages.signed_in import add_pages as add_signed_in_pages  # noqa: E402

add_signed_in_pages(app)
