"""The customer's language: a preference kept in the browser, checked on the server.

``I18nState.t`` is the map of every message (plus the profile's own texts) in the current
language; components read ``I18nState.t["index.title"]``. The browser's stored value is only a
wish: anything that is not one of the profile's languages means the profile's default language.

The language is also the signed-in user's: on sign-in the portal switches to the language saved
in the user's profile (:meth:`I18nState._adopt`, called by the sign-in states), and a switch
while signed in is saved to the profile (``auth.update_user_profile``).
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import reflex as rx

from gazportal.db import get_engine
from gazportal.services import auth, i18n
from gazportal.services.errors import DomainError
from gazportal.settings import get_settings
from gazportal.state.contract import PUBLIC, Choice, Ctx, handler

log = logging.getLogger("gazportal.web.i18n")


def _utility():
    return get_settings().utility


def _languages() -> tuple[str, ...]:
    return tuple(_utility().languages)


def _document_script(lang: str) -> str:
    # <html lang> follows the language (screen readers pick their voice from it).
    return f"document.documentElement.lang = {json.dumps(lang)};"


# Pages whose server-made texts (dates, amounts, sentences with numbers) are in the language they
# were made in: route -> the event handler of that page's state that says them again. The page
# states register themselves (resay_on_language_change); I18nState knows no page.
_RESAY: dict[str, Any] = {}


def resay_on_language_change(route: str, handler: Any) -> None:
    """When the language is switched on ``route``, run ``handler`` (an event handler of that page's
    state, taking no arguments) after the switch, so it says its texts again in the new language."""
    _RESAY[route.rstrip("/") or "/"] = handler


class I18nState(rx.State):
    """Language preference and translated messages."""

    lang_pref: str = rx.LocalStorage("", name="gazportal_lang", sync=True)

    @rx.var
    def lang(self) -> str:
        utility = _utility()
        pref = self.lang_pref
        return pref if isinstance(pref, str) and pref in utility.languages else utility.default_language

    @rx.var
    def t(self) -> dict[str, str]:
        return i18n.ui_messages(_utility(), self.lang)

    @rx.event
    @handler(PUBLIC, lang=Choice(_languages))
    def set_language(self, ctx: Ctx, lang: str):
        """Switch the language (one of the profile's). The choice is then saved to the profile of
        whoever is signed in (:meth:`remember_language`), and the page's server-made texts are
        said again in it (:func:`resay_on_language_change`)."""
        self.lang_pref = lang
        events = [rx.call_script(_document_script(lang)), I18nState.remember_language(lang)]
        path = (self.router.url.path if self.router else "") or ""
        resay = _RESAY.get(path.rstrip("/") or "/")
        if resay is not None:
            events.append(resay)
        return events

    @rx.event
    @handler(PUBLIC, lang=Choice(_languages))
    async def remember_language(self, ctx: Ctx, lang: str):
        """Save ``lang`` as the signed-in user's language (nothing for a guest)."""
        user = ctx.user
        if user is None or user.language == lang:
            return
        try:
            await asyncio.to_thread(auth.update_user_profile, get_engine(), _utility(), user.user_id,
                                    {"language": lang})
        except DomainError as e:  # the user vanished meanwhile: the browser keeps the choice
            log.info("language not saved for user %s: %s", user.user_id, e.key)

    # --- helpers (underscore: not callable from the browser) ---------------------------------

    def _adopt(self, lang: Any) -> rx.event.EventSpec | None:
        """Switch to a signed-in user's saved language (a profile's language only); returns the
        script that puts it on <html lang>, or None when nothing changes."""
        if not isinstance(lang, str) or lang not in _utility().languages:
            return None
        self.lang_pref = lang
        return rx.call_script(_document_script(lang))

    @rx.event
    @handler(PUBLIC)
    def sync_document(self, ctx: Ctx):
        """On page load: put the stored language on <html lang>."""
        return rx.call_script(_document_script(self.lang))


async def adopt_user_language(state: rx.State, lang: Any) -> None:
    """Right after a sign-in: the portal speaks ``lang``, the language saved in the user's
    profile (nothing changes for anything but a profile language)."""
    (await state.get_state(I18nState))._adopt(lang)
