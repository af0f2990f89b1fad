"""Routes of the signed-in pages (accounts, profile, password) and the e-mail change link.

``gazportal.gazportal`` calls :func:`add_pages`. The pages' handlers are declared user-only in
the event gate by their state modules; on_load first checks the session (SessionState.require_user
sends a visitor without one to /signin), then loads the page's data.
"""
from __future__ import annotations

import reflex as rx

from gazportal.pages.accounts import accounts_page
from gazportal.pages.change_password import password_page
from gazportal.pages.dashboard import dashboard_page
from gazportal.pages.user_profile import confirm_email_page, profile_page
from gazportal.state.accounts import AccountsState
from gazportal.state.change_password import PasswordState
from gazportal.state.dashboard import DashboardState
from gazportal.state.i18n import I18nState
from gazportal.state.session import SessionState
from gazportal.state.user_profile import ConfirmEmailState, ProfileState


def _title(key: str):
    return I18nState.t[key] + " · " + I18nState.t["profile.name"]


def add_pages(app: rx.App) -> None:
    app.add_page(dashboard_page, route="/dashboard", title=_title("dashboard.title"),
                 on_load=[I18nState.sync_document, SessionState.require_user, DashboardState.load])
    app.add_page(accounts_page, route="/accounts", title=_title("accounts.title"),
                 on_load=[I18nState.sync_document, SessionState.require_user, AccountsState.load])
    app.add_page(profile_page, route="/profile", title=_title("my_profile.title"),
                 on_load=[I18nState.sync_document, SessionState.require_user, ProfileState.load])
    app.add_page(password_page, route="/password", title=_title("change_password.title"),
                 on_load=[I18nState.sync_document, SessionState.require_user, PasswordState.load])
    app.add_page(confirm_email_page, route="/confirm-email", title=_title("confirm_email.title"),
                 on_load=[I18nState.sync_document, ConfirmEmailState.confirm])
    # /statistics (table and charts) and /statement (account state, sent by e-mail)
    from gazportal.pages.statistics import add_pages as add_statistics_pages

    add_statistics_pages(app)
    # /contacts, /feedback, /support (public contacts; the form for customers) and /messages
    from gazportal.pages.messages import add_pages as add_message_pages

    add_message_pages(app)
