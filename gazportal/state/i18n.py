"""The customer's language: a preference kept in the browser, checked on the server.

``I18nState.t`` is the map of every message (plus the profile's own texts) in the current
language; components read ``I18nState.t["index.title"]``. The browser's stored value is only a
wish: anything that is not one of the profile's languages means the profile's default language.
"""
from __future__ import annotations

import json
from typing import Any

import reflex as rx

from gazportal.services import i18n
from gazportal.settings import get_settings


def _profile():
    return get_settings().profile


def _document_script(lang: str) -> str:
    # <html lang> follows the language (screen readers pick their voice from it).
    return f"document.documentElement.lang = {json.dumps(lang)};"


class I18nState(rx.State):
    """Language preference and translated messages."""

    lang_pref: str = rx.LocalStorage("", name="gazportal_lang", sync=True)

    @rx.var
    def lang(self) -> str:
        profile = _profile()
        pref = self.lang_pref
        return pref if isinstance(pref, str) and pref in profile.languages else profile.default_language

    @rx.var
    def t(self) -> dict[str, str]:
        return i18n.ui_messages(_profile(), self.lang)

    @rx.event
    def set_language(self, lang: Any):
        """Switch the language; ``lang`` comes from the browser, so anything may arrive."""
        if not isinstance(lang, str) or lang not in _profile().languages:
            return None
        self.lang_pref = lang
        return rx.call_script(_document_script(lang))

    @rx.event
    def sync_document(self):
        """On page load: put the stored language on <html lang>."""
        return rx.call_script(_document_script(self.lang))
