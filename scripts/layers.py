#!/usr/bin/env python3
"""Print imports that run against the project's one-way flow: page -> state -> service -> model.

Usage: python scripts/layers.py [PROJECT_ROOT]   (default: the current directory)
Reads gazportal/**/*.py with the ast module (nothing is imported or run). A line per import that
breaks a rule, then a last line with the count. Exit 1 when any import breaks a rule.
The rules are the architecture in docs/architecture.md; where the code has a good reason to
differ, change the code or write the reason in docs/, not an exception here.
"""
import ast
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
pkg = root / "gazportal"
# layer of a module path inside gazportal/, and what it must never import
RULES = {
    "models": ("gazportal.services", "gazportal.state", "gazportal.pages", "gazportal.components", "reflex"),
    "services": ("gazportal.state", "gazportal.pages", "gazportal.components", "reflex"),
    "state": ("gazportal.pages", "gazportal.components"),
    "components": ("gazportal.models", "gazportal.db"),
    "pages": ("gazportal.models", "gazportal.db", "gazportal.services"),
}


def layer(path):
    parts = path.relative_to(pkg).parts
    return parts[0] if len(parts) > 1 else path.stem


def imports(tree, modname):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = modname.split(".")[: -node.level]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.lineno, node.module or ""


bad = 0
if not pkg.is_dir():
    print("no gazportal/ package here"); sys.exit(1)
for f in sorted(pkg.rglob("*.py")):
    lay = layer(f)
    banned = RULES.get(lay)
    if not banned:
        continue
    modname = ".".join(("gazportal",) + f.relative_to(pkg).with_suffix("").parts)
    try:
        tree = ast.parse(f.read_text(encoding="utf-8"))
    except SyntaxError as e:
        print(f"{f}: cannot parse ({e})"); bad += 1; continue
    for line, name in imports(tree, modname):
        if any(name == b or name.startswith(b + ".") for b in banned):
            print(f"{f.relative_to(root)}:{line}: {lay} imports {name}")
            bad += 1
print(f"layers: {bad} imports against the flow page -> state -> service -> model")
sys.exit(1 if bad else 0)
