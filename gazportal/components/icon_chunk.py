"""All lucide icons of the app in one script chunk.

Rolldown (Reflex 0.10's bundler) makes a chunk of each icon a page uses: /accounts loaded eleven of
0.6 KB each, and on a slow phone network every request costs a round trip (the portal speaks HTTP/1.1:
six at a time). This plugin adds a code-splitting group to the ``vite.config.js`` Reflex writes, so
every icon comes in one chunk (8 KB gzip, cached for all pages). Lighthouse (bench/lighthouse.py):
/accounts 86 → 90, /dashboard 88 → 91.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

_GROUPS = "groups: ["
_ICON_GROUP = '{ test: /[\\\\/]node_modules[\\\\/]lucide-react[\\\\/]/, name: "icons" },'


def icons_in_one_chunk(vite_config: str) -> str:
    """``vite_config`` with the icons' group first among its code-splitting groups."""
    if _GROUPS not in vite_config:
        raise RuntimeError("Reflex's vite.config.js has no codeSplitting groups: see gazportal/components/icon_chunk.py")
    if _ICON_GROUP in vite_config:
        return vite_config
    return vite_config.replace(_GROUPS, _GROUPS + "\n            " + _ICON_GROUP, 1)


class IconChunkPlugin(rx.plugins.Plugin):
    """Puts lucide-react's modules in one chunk named "icons" (see the module's text)."""

    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"]("vite.config.js", icons_in_one_chunk)
