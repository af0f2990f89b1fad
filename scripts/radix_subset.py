"""Cut Radix Themes' component and utility stylesheets down to what the portal renders.

    python scripts/radix_subset.py [PACKAGE_DIR]

The portal's pages are built from plain elements and its own stylesheet; of Radix Themes it renders
only the app's ``Theme`` root and the unlink confirmation (``AlertDialog``: a dialog, its heading
and text, and the ``Flex`` Reflex wraps its buttons in). Radix's ``components.css`` and
``utilities.css`` (52 KB gzip, loaded before any page can paint) style every other component too.
This script keeps, from those two files of the Radix version Reflex pins, the rules that can match
what we render, and writes them to ``gazportal/components/radix-themes-subset.css`` (the version in
its first line). ``gazportal/components/radix.py`` imports that file in their place; the colour
tokens still come from the package.

A rule is kept when each of its selectors names only the component classes of ``COMPONENTS`` (or
none: the root theme, the reset) and only the prop classes of ``UTILITIES`` (both in
gazportal/components/radix.py); at-rules (@media, @supports, @keyframes ...) keep what they hold of
that. tests/unit/test_page_weight.py fails when a page renders a Radix component outside
``COMPONENTS`` (add it there and run this again) or when Reflex pins another Radix version; the e2e
page check fails when an element carries a Radix class that the full stylesheet styles and ours does
not; tests/e2e/test_radix_subset.py fails when this file is not what this script makes.

PACKAGE_DIR defaults to the @radix-ui/themes of the e2e build (``$GAZPORTAL_E2E_CACHE``), else
``npm pack`` of the pinned version into a temporary folder. Needs tinycss2 (requirements-dev.txt).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import tinycss2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gazportal.components.radix import COMPONENTS, SUBSET, UTILITIES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Every Radix class as written in the stylesheet, with its breakpoint ("xs\\:rt-r-mb-3") or its
# minus ("-rt-r-m-2") if it has one.
_RADIX_CLASS = re.compile(r"\.((?:\w+\\:)?-?rt-[\w-]+)")
_ALLOWED_COMPONENT = re.compile(r"rt-(?:" + "|".join(p for p in COMPONENTS.values() if p) + r")")
_ALLOWED_UTILITY = re.compile(UTILITIES)
_MODIFIER = re.compile(r"rt-(?!r-)[a-z][\w-]*")  # rt-reset, rt-high-contrast, rt-variant-soft ...


def class_allowed(name: str) -> bool:
    if re.fullmatch(r"rt-[A-Z]\w*", name):
        return bool(_ALLOWED_COMPONENT.fullmatch(name))
    return bool(_ALLOWED_UTILITY.fullmatch(name) or _MODIFIER.fullmatch(name))


def pinned_version() -> str:
    from reflex_components_radix.plugin import RADIX_THEMES_PACKAGE

    return RADIX_THEMES_PACKAGE.rsplit("@", 1)[1]


def selector_allowed(selector: str) -> bool:
    return all(class_allowed(c) for c in _RADIX_CLASS.findall(selector))


def _split_selectors(prelude: str) -> list[str]:
    """Top-level comma-separated selectors (commas inside :where(...) stay)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(prelude):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(prelude[start:i])
            start = i + 1
    out.append(prelude[start:])
    return [s.strip() for s in out if s.strip()]


def _filter(rules) -> list[str]:
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            prelude = tinycss2.serialize(rule.prelude)
            if "{" in prelude:  # never in Radix's output; refuse rather than guess
                raise SystemExit(f"unexpected selector: {prelude[:80]}")
            selectors = [s for s in _split_selectors(prelude) if selector_allowed(s)]
            content = tinycss2.serialize(rule.content).strip()
            if selectors and content:
                # Radix nests rules in rules (a "&"-less child, e.g. @supports inside a rule):
                # those are kept whole with their parent.
                kept.append(f"{','.join(' '.join(s.split()) for s in selectors)}{{{content}}}")
        elif rule.type == "at-rule":
            prelude = " ".join(tinycss2.serialize(rule.prelude).split())
            if rule.content is None:
                kept.append(f"@{rule.at_keyword} {prelude};")
            elif rule.at_keyword in ("media", "supports", "layer", "container"):
                inner = _filter(tinycss2.parse_stylesheet(rule.content, skip_whitespace=True, skip_comments=True))
                if inner:
                    kept.append(f"@{rule.at_keyword} {prelude}{{{''.join(inner)}}}")
            else:  # @keyframes, @font-face, @property: kept as they are
                kept.append(f"@{rule.at_keyword} {prelude}{{{tinycss2.serialize(rule.content).strip()}}}")
    return kept


def subset(css: str) -> str:
    return "\n".join(_filter(tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)))


def make(package: Path, version: str) -> str:
    """The subset file's text, from the @radix-ui/themes package in ``package``."""
    parts = [subset((package / name).read_text()) for name in ("components.css", "utilities.css")]
    return (f"/* @radix-ui/themes@{version}: components.css and utilities.css cut to {', '.join(COMPONENTS)} "
            f"by scripts/radix_subset.py (MIT licence, WorkOS) */\n" + "\n".join(parts) + "\n")


def _package_dir(version: str) -> Path:
    cache = Path(os.environ.get("GAZPORTAL_E2E_CACHE", Path(tempfile.gettempdir()) / "gazportal-e2e"))
    for candidate in sorted(cache.glob("*/web/node_modules/@radix-ui/themes")):
        if f'"version": "{version}"' in (candidate / "package.json").read_text():
            return candidate
    tmp = Path(tempfile.mkdtemp(prefix="radix-"))
    subprocess.run(["npm", "pack", f"@radix-ui/themes@{version}", "--silent"], cwd=tmp, check=True,
                   capture_output=True)
    with tarfile.open(next(tmp.glob("*.tgz"))) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def main() -> None:
    version = pinned_version()
    package = Path(sys.argv[1]) if len(sys.argv) > 1 else _package_dir(version)
    SUBSET.write_text(make(package, version))
    print(f"{SUBSET.relative_to(ROOT)}: {SUBSET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
