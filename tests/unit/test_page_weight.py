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


# ---------------------------------------------------------------- Radix Themes: the stylesheet's cut

def _radix_tags(component) -> set[str]:
    imports = component._get_all_imports()
    return {i.tag for lib, items in imports.items() if lib.split("@")[1:2] == ["radix-ui/themes"] for i in items
            if i.tag}


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_only_the_radix_components_the_stylesheet_was_cut_for(name):
    from gazportal.components.radix import COMPONENTS

    extra = _radix_tags(PAGES[name]()) - set(COMPONENTS)
    assert not extra, (f"{name} renders Radix {sorted(extra)}: add it to COMPONENTS in gazportal/components/radix.py "
                       "and run scripts/radix_subset.py")


def test_the_app_root_is_radix_theme_only():
    from gazportal.components.radix import COMPONENTS, radix_plugin

    assert _radix_tags(radix_plugin("indigo").theme) <= set(COMPONENTS)


def test_the_subset_is_cut_from_the_radix_version_reflex_pins():
    from reflex_components_radix.plugin import RADIX_THEMES_PACKAGE

    from gazportal.components.radix import SUBSET

    first_line = SUBSET.read_text().splitlines()[0]
    assert f"{RADIX_THEMES_PACKAGE} " in first_line or f"{RADIX_THEMES_PACKAGE}:" in first_line, (
        f"Reflex pins {RADIX_THEMES_PACKAGE}; run scripts/radix_subset.py")


def test_the_stylesheet_imports_the_accents_scales_and_the_subset():
    from gazportal.components.radix import SUBSET, radix_plugin, stylesheets

    assert stylesheets("indigo") == (
        "@radix-ui/themes/tokens/base.css", "@radix-ui/themes/tokens/colors/gray.css",
        "@radix-ui/themes/tokens/colors/slate.css", "@radix-ui/themes/tokens/colors/indigo.css",
        "./radix-themes-subset.css",
    )
    assert stylesheets("gray") == ("@radix-ui/themes/tokens/base.css", "@radix-ui/themes/tokens/colors/gray.css",
                                   "./radix-themes-subset.css")
    plugin = radix_plugin("grass", radius="large")
    plugin.enabled = True
    assert "@radix-ui/themes/tokens/colors/olive.css" in plugin.get_stylesheet_paths()
    assert "@radix-ui/themes/styles.css" not in plugin.get_stylesheet_paths()
    [(path, text)] = plugin.get_static_assets()
    assert str(path) == "styles/radix-themes-subset.css" and text == SUBSET.read_text()
    plugin.enabled = False  # no Radix component on any page: nothing at all
    assert plugin.get_stylesheet_paths() == ()


@pytest.mark.parametrize("utility_id", ["default", "almaty_gas", "karaganda_su", "kremenchukgaz", "shygysenergotrade"])
def test_every_profiles_accent_has_its_scales(utility_id):
    from gazportal.components.radix import colour_scales
    from gazportal.components.theme import radix_accent
    from gazportal.settings import load_utility

    accent = radix_accent(load_utility(utility_id).colors.primary)
    scales = colour_scales(accent)
    assert scales[0] == "gray" and scales[-1] == accent and len(scales) == 3


def test_every_radix_accent_has_a_matching_gray():
    from gazportal.components.radix import MATCHING_GRAY
    from gazportal.components.theme import _RADIX

    assert set(_RADIX) <= set(MATCHING_GRAY)


# ---------------------------------------------------------------- lucide icons: one chunk

def test_the_icons_group_goes_into_reflexs_own_vite_config():
    from reflex.utils import frontend_skeleton
    from reflex_base.config import get_config

    from gazportal.components.icon_chunk import icons_in_one_chunk

    original = frontend_skeleton._compile_vite_config(get_config())
    changed = icons_in_one_chunk(original)
    assert changed != original and 'lucide-react[\\\\/]/, name: "icons" }' in changed
    assert changed.index('name: "icons"') < changed.index('name: "reflex-env"')
    assert icons_in_one_chunk(changed) == changed  # once only
    with pytest.raises(RuntimeError):
        icons_in_one_chunk("export default {}")


def test_client_tokens_come_from_the_browsers_csprng():
    """Reflex's generateUUID (Math.random) is replaced at compile time; a Reflex without it fails."""
    from pathlib import Path

    import reflex_base

    from gazportal.components.client_token import csprng_tokens

    template = Path(reflex_base.__file__).parent / ".templates" / "web" / "utils" / "state.js"
    out = csprng_tokens(template.read_text())
    head = out[out.index("export const generateUUID"):]
    assert head.index("crypto.randomUUID()") < head.index("Math.random")  # crypto first
    assert csprng_tokens(out) == out  # once
    with pytest.raises(RuntimeError):
        csprng_tokens("// no generator here")
