"""The Reflex app: pages, head, and the event gate."""
import reflex as rx

import gazportal.models  # noqa: F401  (registers every table for `reflex db`)
from gazportal import pwa
from gazportal.asgi import serve_pages_without_slash_redirect
from gazportal.web import connection
from gazportal.web.frontend_errors import log_frontend_exception
from gazportal.web.guard import guard
from gazportal.web.routes import add_routes
from gazportal.session_http import session_routes
from gazportal.web.verify import pay_link_route, verify_route
from gazportal.web.documents import document_routes
from gazportal.web.payments_http import payment_routes
from gazportal.components.forms import ERROR_SUMMARY_JS
from gazportal.components.theme import stylesheet
from gazportal.services.i18n import t
from gazportal.settings import get_settings
from gazportal.state import gate
from gazportal.state.gate import EventGate

utility = get_settings().utility
lang = utility.default_language
pwa.ensure(utility)  # the manifest and icons of this profile (assets/profiles/<id>/)

app = rx.App(
    html_lang=lang,
    # Toasts for results on every page: at the top (the phone's tab bar is at the bottom), with a
    # close button, in the page's colour mode.
    toaster=rx.toast.provider(position="top-center", close_button=True),
    # /accounts is served as it is asked for, not with a redirect to /accounts/ (gazportal/asgi.py);
    # outermost (the last one), limits before work and the security headers (gazportal/web/guard.py).
    # The session cookie is set and cleared by HTTP answers (gazportal/session_http.py); the public
    # check of a certificate of no debt is GET /verify (gazportal/web/verify.py); a customer's own
    # invoice, act or receipt is GET /documents/<kind> (gazportal/web/documents.py); online
    # payments' callbacks and pages are gazportal/web/payments_http.py.
    # A Kazakh invoice's QR is GET /pay?t=... (gazportal/web/verify.py): a valid link goes to the dashboard.
    api_transformer=[serve_pages_without_slash_redirect, session_routes, verify_route, pay_link_route,
                     document_routes, payment_routes, guard],
    # A browser's error report: one escaped, truncated, rate-limited line (gazportal/web/frontend_errors.py).
    frontend_exception_handler=log_frontend_exception,
    head_components=[
        rx.el.meta(name="description", content=t("index.meta_description", lang)),
        rx.el.meta(name="theme-color", content=utility.colors.primary),
        rx.el.link(rel="icon", href=utility.logo, type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href=pwa.apple_touch_url(utility)),
        # Installable: manifest, iOS home-screen tags, the service worker (assets/sw.js).
        rx.el.link(rel="manifest", href=pwa.manifest_url(utility)),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-title", content=utility.short_name),
        rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="default"),
        rx.el.script(pwa.register_script(utility)),
        # A refused submit moves the focus to the form's error summary (gazportal/components/forms.py).
        rx.el.script(ERROR_SUMMARY_JS),
        rx.el.style(stylesheet(utility)),
    ],
)

# A socket that cannot connect shows a translated notice, not Reflex's English toast
# (gazportal/web/connection.py).
connection.install(app)

# Every page, its title and its on_load steps: one table (gazportal/web/routes.py).
add_routes(app, image=utility.logo)

# The event gate: only allow-listed handlers run; user-only ones need a valid session
# (gazportal/state/gate.py).
app.add_middleware(EventGate())
gate.install(app)  # events naming no declared handler are dropped before Reflex's processor;
# socket packets that are no JSON or nest too deep too
