"""Installability and colour modes: the web app manifest and icons of every profile, the service
worker's rules, the page's head tags, and the dark palette's contrast."""
from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from gazportal import pwa
from gazportal.components.theme import DARK_BACKGROUNDS, contrast, dark_palette, palette
from gazportal.settings import available_utilities, load_utility

UTILITIES = available_utilities()


@pytest.fixture(params=UTILITIES)
def utility(request):
    return load_utility(request.param)


def _public(path: str):
    assert path.startswith("/")
    return pwa.ASSETS / path.lstrip("/")


def test_every_profile_has_its_files_committed_and_current(utility):
    # Stale or missing files would be regenerated at app import; in the repository they are current.
    assert pwa.is_current(utility), f"run: python -m gazportal.pwa {utility.id}"


def test_manifest_is_valid_json_with_the_profile_and_the_right_icons(utility):
    raw = (pwa.out_dir(utility) / pwa.MANIFEST_NAME).read_text(encoding="utf-8")
    m = json.loads(raw)
    assert m == pwa.manifest(utility)
    assert m["name"] == getattr(utility.name, utility.default_language)
    assert m["short_name"] == utility.short_name and 0 < len(m["short_name"]) <= 20
    assert m["start_url"] == "/" and m["scope"] == "/" and m["display"] == "standalone"
    assert m["theme_color"] == utility.colors.primary
    assert m["background_color"] == palette(utility)["--gp-page"]
    for colour in (m["theme_color"], m["background_color"]):
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour)
    by_purpose = {(i["purpose"], i["sizes"]) for i in m["icons"]}
    assert by_purpose == {("any", "192x192"), ("any", "512x512"), ("maskable", "192x192"), ("maskable", "512x512")}
    for icon in m["icons"]:
        assert icon["type"] == "image/png"
        w, h = (int(x) for x in icon["sizes"].split("x"))
        with Image.open(_public(icon["src"])) as img:
            assert img.format == "PNG" and img.size == (w, h)
            if icon["purpose"] == "maskable":
                # full bleed: no transparent corner, the corners are the profile's colour
                rgb = img.convert("RGB")
                assert img.mode == "RGB"
                corner = "#%02x%02x%02x" % rgb.getpixel((0, 0))
                assert corner.lower() == utility.colors.primary.lower()
                # the logo stays inside the safe zone: the edge band is plain background
                band = [rgb.getpixel((x, int(h * 0.08))) for x in range(w)]
                assert len(set(band)) == 1
            else:
                # the logo itself, drawn (not an empty picture)
                assert img.convert("RGBA").getextrema()[3][1] == 255


def test_apple_touch_icon_is_180_and_opaque(utility):
    with Image.open(_public(pwa.apple_touch_url(utility))) as img:
        assert img.format == "PNG" and img.size == (180, 180) and img.mode == "RGB"


def test_build_regenerates_a_stale_profile(tmp_path, monkeypatch):
    monkeypatch.setattr(pwa, "ASSETS", tmp_path)
    utility = load_utility("default")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "default.svg").write_bytes((pwa.ROOT / "assets/profiles/default.svg").read_bytes())
    assert not pwa.is_current(utility)
    pwa.ensure(utility)
    assert pwa.is_current(utility)
    (tmp_path / "profiles" / "default" / "icon-512.png").unlink()
    assert not pwa.is_current(utility)
    pwa.ensure(utility)
    with Image.open(tmp_path / "profiles" / "default" / "icon-512.png") as img:
        assert img.size == (512, 512)


def test_service_worker_never_touches_the_socket_or_the_api():
    sw = (pwa.ASSETS / "sw.js").read_text(encoding="utf-8")
    never = sw[sw.index("function neverCache"):sw.index("function isStatic")]
    for prefix in ('"/_"', '"/api"'):
        assert prefix in never
    assert 'request.method !== "GET"' in sw
    assert 'request.mode === "navigate"' in sw and "networkFirst(request)" in sw
    assert "gazportal-shell-" in sw and "caches.delete" in sw  # versioned cache, old ones dropped


def test_register_script_only_in_a_secure_context_and_versioned(utility):
    script = pwa.register_script(utility)
    assert "window.isSecureContext" in script and "serviceWorker" in script
    version = pwa.sw_version(utility)
    assert re.fullmatch(r"[0-9a-f]{12}", version) and f"/sw.js?v={version}" in script


def test_dark_mode_keeps_contrast(utility):
    dark = dark_palette(utility)
    for text in ("--gp-ink", "--gp-muted", "--gp-link", "--gp-error", "--gp-danger", "--gp-ok", "--gp-warn"):
        for bg in DARK_BACKGROUNDS:
            assert contrast(dark[text], dark[bg]) >= 4.5, (utility.id, text, bg)
    assert contrast(dark["--gp-on-hero"], dark["--gp-hero"]) >= 4.5
    light = palette(utility)
    for text in ("--gp-ink", "--gp-muted", "--gp-link"):
        for bg in ("--gp-page", "--gp-surface"):
            assert contrast(light[text], light[bg]) >= 4.5, (utility.id, text, bg)
    assert set(dark) == set(light)


def test_the_app_head_links_the_manifest_and_registers_the_worker():
    import gazportal.gazportal as app_module

    app = app_module.app
    head = "\n".join(str(c.render()) for c in app.head_components)
    utility = app_module.utility
    assert pwa.manifest_url(utility) in head and pwa.apple_touch_url(utility) in head
    assert "apple-mobile-web-app-capable" in head and "serviceWorker" in head
    assert app.toaster is not None  # rx.toast works on every page
