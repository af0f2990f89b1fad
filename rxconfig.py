"""Reflex configuration. Everything that differs between machines comes from the environment
(see README.md, "Configuration"); the utility profile is validated here, at start-up."""
from pathlib import Path

import reflex as rx

from gazportal.components.client_token import ClientTokenPlugin
from gazportal.components.icon_chunk import IconChunkPlugin
from gazportal.components.radix import radix_plugin
from gazportal.components.theme import radix_accent
from gazportal.settings import get_settings

settings = get_settings()  # raises ProfileError naming the bad field of a bad profile

_bun = Path(__file__).parent / ".tools" / "node_modules" / ".bin" / "bun"
_extra = {"bun_path": _bun} if _bun.exists() else {}

config = rx.Config(
    app_name="gazportal",
    db_url=settings.db_url,
    redis_url=settings.redis_url,
    deploy_url=settings.public_url,
    cors_allowed_origins=[settings.public_url],
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="system",  # light or dark as the device says; the header has a switch
    # Every profile builds with the same frontend packages, so reflex.lock/ does not depend on
    # which profile was built last (only CAPTCHA profiles render the ALTCHA widget).
    frontend_packages=["altcha@2.3.0"],
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        # Radix Themes with only this profile's colour scales in its stylesheet (components/radix.py)
        radix_plugin(radix_accent(settings.profile.colors.primary), appearance="inherit", radius="large"),
        IconChunkPlugin(),  # every icon in one script chunk (components/icon_chunk.py)
        ClientTokenPlugin(),  # client tokens from crypto, not Math.random (components/client_token.py)
    ],
    **_extra,
)
