"""Radix Themes with a stylesheet cut to what the portal shows.

Reflex's ``RadixThemesPlugin`` imports ``@radix-ui/themes/styles.css`` (83 KB gzip, the biggest
thing a page loads before its first paint): the tokens of all 31 colour scales, every component and
every utility class. The portal's pages are plain elements with a stylesheet of their own; of Radix
Themes they render the ``Theme`` root and one confirmation dialog. So this plugin imports

* Radix's token files (the package documents this split): ``tokens/base.css`` and the colour scales
  of the profile's accent and its matching gray (``tokens/colors/<scale>.css``), not the other 28;
* ``radix-themes-subset.css`` beside this file in place of ``components.css`` and ``utilities.css``:
  the rules of those two that can match what the portal renders, cut by ``scripts/radix_subset.py``
  from the Radix version Reflex pins.

The stylesheet goes from 83 KB to 14 KB gzip on every page. tests/unit/test_page_weight.py fails
when a page renders a Radix component the subset was not cut for, or when Reflex pins another Radix
version; the e2e page check fails when an element carries a Radix class that Radix styles and the
page's stylesheet does not.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import reflex as rx

# Radix Themes' getMatchingGrayColor (@radix-ui/themes 3.3.0, helpers/get-matching-gray-color.ts):
# the gray scale a theme with ``gray_color="auto"`` (the default) pairs with an accent colour.
MATCHING_GRAY = {
    **dict.fromkeys(("tomato", "red", "ruby", "crimson", "pink", "plum", "purple", "violet"), "mauve"),
    **dict.fromkeys(("iris", "indigo", "blue", "sky", "cyan"), "slate"),
    **dict.fromkeys(("teal", "jade", "mint", "green"), "sage"),
    **dict.fromkeys(("grass", "lime"), "olive"),
    **dict.fromkeys(("yellow", "amber", "orange", "brown", "gold", "bronze"), "sand"),
    "gray": "gray",
}

SUBSET = Path(__file__).with_name("radix-themes-subset.css")

# What the subset is cut for (scripts/radix_subset.py): the Radix Themes components the portal renders
# (the React names Reflex imports from @radix-ui/themes) and, for each, the CSS class names of its
# parts (``rt-<name>``, a regular expression).
COMPONENTS = {
    "Theme": "",  # the app's root: its rules name no component class
    "AlertDialog": r"BaseDialog\w*|AlertDialog\w*|Heading|Text",  # Title is a Heading, Description a Text
    "Flex": r"Flex",  # Reflex wraps the dialog's buttons in one
}
# The prop classes those parts are given (AlertDialog: Content size="3" align="center" max_width, its
# Title a Heading size="5" mb="3" trim="start" (rt-r-lt-), its Description a Text size="3"), never at
# a breakpoint ("sm:rt-r-size-2").
UTILITIES = r"rt-r-(size-\d|mb-3|lt-(normal|start|end|both)|align-(start|center)|max-w|weight-\w+)"
_PACKAGE = "@radix-ui/themes"


def colour_scales(accent: str) -> tuple[str, ...]:
    """The colour scales a theme with this accent uses: the plain gray (``color="gray"`` parts and
    the gray tokens' own fallbacks), the matching gray and the accent."""
    return tuple(dict.fromkeys(("gray", MATCHING_GRAY[accent], accent)))


def stylesheets(accent: str) -> tuple[str, ...]:
    """What the root stylesheet imports, in Radix's own order: tokens, then components."""
    return (
        f"{_PACKAGE}/tokens/base.css",
        *(f"{_PACKAGE}/tokens/colors/{scale}.css" for scale in colour_scales(accent)),
        f"./{SUBSET.name}",  # written beside the root stylesheet by get_static_assets
    )


@dataclasses.dataclass
class LeanRadixThemesPlugin(rx.plugins.RadixThemesPlugin):
    """``RadixThemesPlugin`` whose stylesheet holds only ``accent``'s colour scales and the rules of
    the components the portal renders."""

    accent: str = "indigo"

    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        return stylesheets(self.accent) if self.enabled else ()

    def get_static_assets(self, **context: Any) -> list[tuple[Path, str]]:
        return [(Path("styles") / SUBSET.name, SUBSET.read_text())]


def radix_plugin(accent: str, **theme: Any) -> LeanRadixThemesPlugin:
    """The plugin for ``rxconfig.py``: the app's theme with ``accent`` as its accent colour."""
    return LeanRadixThemesPlugin(theme=rx.theme(accent_color=accent, **theme), accent=accent)

