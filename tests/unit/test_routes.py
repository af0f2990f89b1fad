"""The app's pages are exactly the rows of the route table (gazportal/web/routes.py)."""
from __future__ import annotations

from reflex_base.event import EventHandler, EventSpec

from gazportal.gazportal import app
from gazportal.settings import get_settings
from gazportal.state.i18n import I18nState
from gazportal.state.session import SessionState
from gazportal.web.routes import ROUTES, SIGNED_IN, STAFF, on_load, title


def _key(route: str) -> str:
    return route.strip("/") or "index"


def _name(event) -> str:
    if isinstance(event, EventHandler):
        return event.fn.__qualname__
    assert isinstance(event, EventSpec), event
    return event.handler.fn.__qualname__ + repr([(str(a), str(b)) for a, b in event.args])


def test_the_app_has_the_pages_of_the_table_and_nothing_else():
    assert len({row.route for row in ROUTES}) == len(ROUTES)
    assert set(app._unevaluated_pages) == {_key(row.route) for row in ROUTES}
    # The portal's addresses (links in e-mails and bookmarks point at them).
    assert {row.route for row in ROUTES} == {
        "/", "/signin", "/register", "/confirm", "/recover", "/reset", "/agreement", "/auth/oidc/callback",
        "/dashboard", "/accounts", "/profile", "/password", "/confirm-email", "/email-undo", "/statistics", "/statement",
        "/contacts", "/feedback", "/support", "/messages", "/staff", "/staff/message", "/staff/readings", "/staff/audit",
        "/staff/dashboard", "/staff/view"}


def test_each_page_has_the_component_title_and_on_load_chain_of_its_row():
    for row in ROUTES:
        page = app._unevaluated_pages[_key(row.route)]
        assert page.component is row.page, row.route
        assert str(page.title) == str(title(row)), row.route
        assert [_name(e) for e in app._load_events[_key(row.route)]] == [_name(e) for e in on_load(row)], row.route


def test_the_common_steps_come_first():
    for row in ROUTES:
        chain = [_name(e) for e in app._load_events[_key(row.route)]]
        assert chain[0] == _name(I18nState.sync_document)
        signed_in = _name(SessionState.require_user)
        if row.access == SIGNED_IN:
            assert chain[1] == signed_in, row.route
        else:
            assert signed_in not in chain, row.route
        # the staff console's pages check for staff first (a customer goes to their accounts)
        assert (chain[1:2] == [_name(SessionState.require_staff)]) == (row.access == STAFF), row.route
    assert [_name(e) for e in app._load_events["contacts"]][-1] == "MessagesState.load_contacts[('kind', '\"contact\"')]"
    assert app._unevaluated_pages["index"].image == get_settings().utility.logo
