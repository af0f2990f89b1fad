"""Client tokens from the browser's CSPRNG.

Reflex keys a tab's server-side state by a client token that its frontend makes with
``Math.random`` (``.web/utils/state.js``, ``generateUUID``) and keeps in sessionStorage. The portal
does not trust that token for identity (the session cookie is read from each request), but a
guessable token would still let a stranger address another tab's state. This plugin makes
``generateUUID`` use ``crypto.randomUUID()`` (secure contexts: https and the loopback addresses)
or, elsewhere, 122 bits from ``crypto.getRandomValues``.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

STATE_JS = "utils/state.js"
_HEAD = "export const generateUUID = () => {"
_MARK = "/* gazportal: CSPRNG client token */"
_BODY = (
    f"{_HEAD} {_MARK}\n"
    "  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();\n"
    "  if (globalThis.crypto && typeof crypto.getRandomValues === 'function') {\n"
    "    const b = crypto.getRandomValues(new Uint8Array(16));\n"
    "    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;\n"
    "    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');\n"
    "    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;\n"
    "  }\n"
)


def csprng_tokens(state_js: str) -> str:
    """``state_js`` with ``generateUUID`` taking its randomness from ``crypto`` first."""
    if _MARK in state_js:
        return state_js
    if _HEAD not in state_js:
        raise RuntimeError("Reflex's state.js has no generateUUID: see gazportal/components/client_token.py")
    return state_js.replace(_HEAD, _BODY, 1)


class ClientTokenPlugin(rx.plugins.Plugin):
    """Client tokens from ``crypto`` instead of ``Math.random`` (see the module's text)."""

    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"](STATE_JS, csprng_tokens)
