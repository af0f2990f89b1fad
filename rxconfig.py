"""Reflex configuration. Everything that differs between machines comes from the environment
(see README.md, "Configuration"); the utility profile is validated here, at start-up."""
from pathlib import Path

import reflex as rx

from gazportal.components.client_token import ClientTokenPlugin
from gazportal.components.icon_chunk import IconChunkPlugin
from gazportal.components.radix import radix_plugin
from gazportal.components.theme import radix_accent
from gazportal.settings import allowed_origins, get_settings

settings = get_settings()  # raises ProfileError naming the bad field of a bad profile

_bun = Path(__file__).parent / ".tools" / "node_modules" / ".bin" / "bun"
_extra = {"bun_path": _bun} if _bun.exists() else {}

config = rx.Config(
    app_name="gazportal",
    db_url=settings.db_url,
    redis_url=settings.redis_url,
    deploy_url=settings.public_url,
    # The public URL, GAZPORTAL_ALLOWED_ORIGINS and, when the public URL is a loopback address,
    # every loopback name on its port; Reflex refuses a websocket from any other origin (403).
    cors_allowed_origins=allowed_origins(settings),
    # X-Forwarded-For is believed only through this many proxies (also gazportal/web/guard.py).
    trusted_proxy_hops=settings.web.trusted_proxy_hops,
    # How long Reflex keeps a client's state after its last event (memory, disk and Redis state
    # managers alike; Reflex's default is an hour). A state holds no credential (the session is
    # checked on every event); a tab idle for longer starts from a fresh state.
    redis_token_expiration=settings.web.state_ttl_minutes * 60,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="system",  # light or dark as the device says; the header has a switch
    # Every profile builds with the same frontend packages, so reflex.lock/ does not depend on
    # which profile was built last (only CAPTCHA profiles render the ALTCHA widget).
    frontend_packages=["altcha@2.3.0"],
    disable_plugins=[rx.plugins.SitemapPlugin],
    plugins=[
        # Radix Themes with only this profile's colour scales in its stylesheet (components/radix.py)
        radix_plugin(radix_accent(settings.utility.colors.primary), appearance="inherit", radius="large"),
        IconChunkPlugin(),  # every icon in one script chunk (components/icon_chunk.py)
        ClientTokenPlugin(),  # client tokens from crypto, not Math.random (components/client_token.py)
    ],
    **_extra,
)
