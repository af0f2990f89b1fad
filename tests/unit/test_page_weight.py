"""What a page pulls into the phone's download. ``rx.icon`` with a name chosen at run time
(a state var) imports lucide's DynamicIcon, which loads the whole icon set (≈55 KB gzip measured
on /accounts); two static icons in an ``rx.cond`` cost ~0.6 KB each."""
from __future__ import annotations

import pytest

from gazportal.pages import (
    accounts, agreement, change_password, confirm, dashboard, index, messages, recover, register, signin,
    statistics, user_profile,
)

PAGES = {
    "index": index.index, "signin": signin.signin, "register": register.register, "confirm": confirm.confirm,
    "recover": recover.recover, "agreement": agreement.agreement, "accounts": accounts.accounts_page,
    "dashboard": dashboard.dashboard_page, "statistics": statistics.statistics_page,
    "statement": statistics.statement_page, "contacts": messages.contacts_page, "messages": messages.messages_page,
    "profile": user_profile.profile_page, "password": change_password.password_page,
}


@pytest.mark.parametrize("name", PAGES)
def test_no_page_loads_the_whole_icon_set(name):
    imports = PAGES[name]()._get_all_imports()
    tags = {i.tag for lib, items in imports.items() if lib.startswith("lucide-react") for i in items}
    assert "DynamicIcon" not in tags, f"{name}: rx.icon with a var name; use rx.cond between static icons"
