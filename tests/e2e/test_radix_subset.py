"""The cut of Radix Themes' stylesheet (gazportal/components/radix.py) against the Radix package the
e2e build installed: the committed subset is what scripts/radix_subset.py makes of it, and the gray
scale each accent colour is paired with is the one Radix's own code picks."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from helpers import radix_package

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("radix_subset", ROOT / "scripts" / "radix_subset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_subset_is_what_the_script_makes_of_the_installed_radix(portal):
    from gazportal.components.radix import SUBSET

    script = _script()
    package = radix_package()
    version = script.pinned_version()
    assert f'"version": "{version}"' in (package / "package.json").read_text()
    assert SUBSET.read_text() == script.make(package, version), "run scripts/radix_subset.py"


def test_the_matching_grays_are_radixs_own(portal):
    from gazportal.components.radix import MATCHING_GRAY

    js = (radix_package() / "dist" / "esm" / "helpers" / "get-matching-gray-color.js").read_text()
    radix = {}
    for cases, gray in re.findall(r'((?:case"\w+":)+)return"(\w+)"', js):
        for accent in re.findall(r'case"(\w+)"', cases):
            radix[accent] = gray
    assert radix and radix == MATCHING_GRAY
