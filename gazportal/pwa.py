"""What makes the portal installable ("Add to Home Screen"): the web app manifest and its icons,
per utility profile, generated from the profile's SVG logo and colours.

Output, under ``assets/profiles/<profile id>/`` (served at ``/profiles/<profile id>/...``)::

    manifest.webmanifest
    icon-192.png  icon-512.png                    purpose "any": the logo itself
    icon-maskable-192.png  icon-maskable-512.png  purpose "maskable": the logo inside the 80 % safe
                                                  circle, on the profile's primary colour
    apple-touch-icon.png                          180x180, opaque (iOS paints transparency black)

The files are committed; ``ensure(profile)`` runs at app import and regenerates whatever is
missing or stale (a stamp records the logo's and the manifest's hash), so a new or changed
profile gets its icons without anyone drawing them. By hand::

    python -m gazportal.pwa            # every profile
    python -m gazportal.pwa default    # one

The service worker (``assets/sw.js``) is static; :func:`sw_version` names its cache.
No Reflex here: this runs at build time and in unit tests.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"

ICON_SIZES = (192, 512)
APPLE_SIZE = 180
MASKABLE_SAFE = 0.8  # the maskable safe zone: a circle of 80 % of the icon's width
MANIFEST_NAME = "manifest.webmanifest"
STAMP_NAME = ".stamp"


def out_dir(utility: Any) -> Path:
    return ASSETS / "profiles" / utility.id


def public_base(utility: Any) -> str:
    return f"/profiles/{utility.id}"


def manifest_url(utility: Any) -> str:
    return f"{public_base(utility)}/{MANIFEST_NAME}"


def apple_touch_url(utility: Any) -> str:
    return f"{public_base(utility)}/apple-touch-icon.png"


def logo_file(utility: Any) -> Path:
    return ASSETS / utility.logo.lstrip("/")


def _page_colour(utility: Any) -> str:
    from gazportal.components.theme import palette  # pure Python (no Reflex)

    return palette(utility)["--gp-page"]


def manifest(utility: Any) -> dict[str, Any]:
    """The web app manifest of ``profile`` (a dict, ready for JSON)."""
    base = public_base(utility)
    lang = utility.default_language
    icons = [
        {"src": f"{base}/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
        for n in ICON_SIZES
    ] + [
        {"src": f"{base}/icon-maskable-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "maskable"}
        for n in ICON_SIZES
    ]
    return {
        "id": "/",
        "name": getattr(utility.name, lang),
        "short_name": utility.short_name,
        "lang": lang,
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": utility.colors.primary,
        "background_color": _page_colour(utility),
        "icons": icons,
    }


def _render(svg: bytes, size: int, *, background: str | None, scale: float):
    """The logo at ``scale`` of a ``size`` square, centred, on ``background`` (None: transparent)."""
    import cairosvg
    from PIL import Image

    inner = max(1, round(size * scale))
    png = cairosvg.svg2png(bytestring=svg, output_width=inner, output_height=inner)
    logo = Image.open(io.BytesIO(png)).convert("RGBA")
    canvas = Image.new("RGBA", (size, size), background or (0, 0, 0, 0))
    offset = ((size - logo.width) // 2, (size - logo.height) // 2)
    canvas.alpha_composite(logo, offset)
    return canvas.convert("RGB") if background else canvas


def _save(image, path: Path) -> None:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    path.write_bytes(buf.getvalue())


def _stamp(utility: Any) -> str:
    h = hashlib.sha256()
    h.update(logo_file(utility).read_bytes())
    h.update(json.dumps(manifest(utility), sort_keys=True).encode())
    h.update(b"v1")  # bump when the drawing below changes
    return h.hexdigest()


def _files(utility: Any) -> list[Path]:
    d = out_dir(utility)
    return [d / MANIFEST_NAME, d / "apple-touch-icon.png"] + [
        d / f"icon{kind}-{n}.png" for kind in ("", "-maskable") for n in ICON_SIZES
    ]


def build(utility: Any) -> Path:
    """Write the manifest and icons of ``profile``; returns the directory."""
    d = out_dir(utility)
    d.mkdir(parents=True, exist_ok=True)
    svg = logo_file(utility).read_bytes()
    primary = utility.colors.primary
    for n in ICON_SIZES:
        _save(_render(svg, n, background=None, scale=1.0), d / f"icon-{n}.png")
        # The logo's own rounded square fills ~the safe circle's inscribed square (0.8 / sqrt 2).
        _save(_render(svg, n, background=primary, scale=0.56), d / f"icon-maskable-{n}.png")
    _save(_render(svg, APPLE_SIZE, background=primary, scale=0.82), d / "apple-touch-icon.png")
    (d / MANIFEST_NAME).write_text(json.dumps(manifest(utility), ensure_ascii=False, indent=2) + "\n",
                                   encoding="utf-8")
    (d / STAMP_NAME).write_text(_stamp(utility) + "\n", encoding="utf-8")
    return d


def is_current(utility: Any) -> bool:
    stamp = out_dir(utility) / STAMP_NAME
    if not stamp.is_file() or not all(p.is_file() for p in _files(utility)):
        return False
    return stamp.read_text(encoding="utf-8").strip() == _stamp(utility)


def ensure(utility: Any) -> None:
    """At app import: (re)generate the profile's manifest and icons when missing or stale."""
    if not is_current(utility):
        build(utility)


def sw_version(utility: Any) -> str:
    """The service worker's cache name suffix: changes with the worker, the manifest and the
    package versions, so a new release drops the old app shell."""
    from importlib import metadata

    h = hashlib.sha256()
    h.update((ASSETS / "sw.js").read_bytes())
    h.update(_stamp(utility).encode())
    for dist in ("reflex",):
        try:
            h.update(metadata.version(dist).encode())
        except metadata.PackageNotFoundError:  # pragma: no cover
            pass
    return h.hexdigest()[:12]


def register_script(utility: Any) -> str:
    """The page's small script that registers the service worker: only where the browser allows
    one (a secure context: https, or localhost / 127.0.0.1 while developing)."""
    url = json.dumps(f"/sw.js?v={sw_version(utility)}")
    return (
        "if('serviceWorker' in navigator&&window.isSecureContext){"
        "var r=function(){navigator.serviceWorker.register(" + url + ",{scope:'/'}).catch(function(){});};"
        "document.readyState==='complete'?r():window.addEventListener('load',r);}"
    )


def main(argv: list[str]) -> int:
    from gazportal.settings import available_utilities, load_utility

    for pid in argv or available_utilities():
        utility = load_utility(pid)
        print(build(utility))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
