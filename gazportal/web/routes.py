"""Every page of the portal in one table, and the one loop that adds them to the app.

A row is (route, page, title key, its own on_load steps, who may see it). The loop puts the
common steps in front of a row's own: every page first says which language the document is in
(``I18nState.sync_document``); a signed-in page then checks the session
(``SessionState.require_user`` sends a visitor without one to /signin, staff to /staff) — a staff
page checks for staff (``require_staff``: a customer goes to their accounts) — before its own
steps load its data. The pages' handlers are declared in the event gate by their state modules
(``gazportal/state/gate.py``); the table only says which page runs what when it is opened.
``tests/unit/test_routes.py`` compares the app's pages and on_load chains with this table.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import reflex as rx

from gazportal.pages.accounts import accounts_page
from gazportal.pages.agreement import agreement
from gazportal.pages.change_password import password_page
from gazportal.pages.confirm import confirm
from gazportal.pages.dashboard import dashboard_page
from gazportal.pages.index import index
from gazportal.pages.messages import contacts_page, messages_page
from gazportal.pages.oidc import CALLBACK_ROUTE, oidc_callback
from gazportal.pages.recover import recover
from gazportal.pages.register import register
from gazportal.pages.signin import signin
from gazportal.pages.staff import audit_page, inbox_page, message_page
from gazportal.pages.staff_readings import readings_page
from gazportal.pages.staff_dashboard import staff_dashboard_page
from gazportal.pages.staff_view import view_page
from gazportal.pages.statistics import statement_page, statistics_page
from gazportal.pages.user_profile import confirm_email_page, email_undo_page, profile_page
from gazportal.state.accounts import AccountsState
from gazportal.state.change_password import PasswordState
from gazportal.state.confirm import ConfirmState
from gazportal.state.dashboard import DashboardState
from gazportal.state.i18n import I18nState
from gazportal.state.messages import MessagesState
from gazportal.state.oidc import OidcState
from gazportal.state.recover import RecoverState
from gazportal.state.register import RegisterState
from gazportal.state.reviews import StaffReviewState
from gazportal.state.session import SessionState
from gazportal.state.signin import SignInState
from gazportal.state.staff import StaffAuditState, StaffInboxState, StaffMessageState
from gazportal.state.staff_dashboard import StaffDashboardState
from gazportal.state.view_as import StaffViewState
from gazportal.state.statistics import StatementState, StatisticsState
from gazportal.state.user_profile import ConfirmEmailState, EmailUndoState, ProfileState

PUBLIC = "public"
SIGNED_IN = "signed_in"
STAFF = "staff"


@dataclass(frozen=True)
class Route:
    route: str
    page: Callable[[], Any]
    title: str  # a locale key; the tab shows "<title> · <utility>" (the home page: the other way round)
    steps: Sequence[Any] = ()  # the page's own on_load steps, after the common ones
    access: Literal["public", "signed_in", "staff"] = PUBLIC


ROUTES: tuple[Route, ...] = (
    Route("/", index, "index.meta_title"),
    # Sign-in, registration, confirmation, recovery; a signed-in visitor of the first two goes to
    # the accounts (load_guest).
    Route("/signin", signin, "auth.signin.title",
          [SessionState.load_guest, SignInState.clear, OidcState.reset_messages]),
    Route("/register", register, "auth.register.title", [SessionState.load_guest, RegisterState.load]),
    Route("/confirm", confirm, "auth.confirm.title", [ConfirmState.load]),
    Route("/recover", recover, "auth.recover.title", [RecoverState.load]),
    Route("/reset", recover, "auth.recover.title", [RecoverState.load]),  # the e-mailed reset link
    Route("/agreement", agreement, "auth.agreement.title"),
    # Single sign-on: the provider sends the browser back here (gazportal/state/oidc.py).
    Route(CALLBACK_ROUTE, oidc_callback, "auth.oidc.title", [OidcState.callback]),
    # Signed-in pages.
    Route("/dashboard", dashboard_page, "dashboard.title", [DashboardState.load], SIGNED_IN),
    Route("/accounts", accounts_page, "accounts.title", [AccountsState.load], SIGNED_IN),
    Route("/profile", profile_page, "my_profile.title", [ProfileState.load], SIGNED_IN),
    Route("/password", password_page, "change_password.title", [PasswordState.load], SIGNED_IN),
    # The e-mail change link: it proves the new address by its token, whoever opens it.
    Route("/confirm-email", confirm_email_page, "confirm_email.title", [ConfirmEmailState.confirm]),
    # The old address's "it was not me" link of an e-mail change: its token is the proof.
    Route("/email-undo", email_undo_page, "email_undo.title", [EmailUndoState.undo]),
    Route("/statistics", statistics_page, "statistics.title", [StatisticsState.load], SIGNED_IN),
    Route("/statement", statement_page, "statement.title", [StatementState.load], SIGNED_IN),
    # Contacts are public (the form is for a signed-in customer); /feedback and /support are the
    # same page with that kind of message chosen.
    *(Route(path, contacts_page, "messages.contacts.title",
            [SessionState.load_public, MessagesState.load_contacts(kind)])
      for path, kind in (("/contacts", "contact"), ("/feedback", "feedback"), ("/support", "support"))),
    Route("/messages", messages_page, "messages.list.title", [MessagesState.load_list], SIGNED_IN),
    # The staff console (issue 16): staff only; its handlers are declared for a staff role.
    Route("/staff", inbox_page, "staff.inbox.title", [StaffInboxState.load], STAFF),
    Route("/staff/message", message_page, "staff.message.title", [StaffMessageState.load], STAFF),
    Route("/staff/readings", readings_page, "staff.readings.title", [StaffReviewState.load], STAFF),
    Route("/staff/audit", audit_page, "staff.audit.title", [StaffAuditState.load], STAFF),
    Route("/staff/dashboard", staff_dashboard_page, "staff_dashboard.title", [StaffDashboardState.load], STAFF),
    # an account read-only as its customers see it, each look audited (issue 16 point 5)
    Route("/staff/view", view_page, "staff.view.title", [StaffViewState.load], STAFF),
)


def on_load(row: Route) -> list[Any]:
    """The whole on_load chain of a row: the common steps, then the page's own."""
    common = [I18nState.sync_document]
    if row.access == SIGNED_IN:
        common.append(SessionState.require_user)
    elif row.access == STAFF:
        common.append(SessionState.require_staff)
    return [*common, *row.steps]


def title(row: Route):
    t = I18nState.t
    if row.route == "/":
        return t["utility.name"] + " · " + t[row.title]
    return t[row.title] + " · " + t["utility.name"]


def add_routes(app: rx.App, image: str) -> None:
    """Add every page of ROUTES to ``app``; ``image`` is the home page's preview image (the logo)."""
    for row in ROUTES:
        extra = {"image": image} if row.route == "/" else {}
        app.add_page(row.page, route=row.route, title=title(row), on_load=on_load(row), **extra)
