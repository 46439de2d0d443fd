"""The import direction of rmctl, checked by parsing every module with ast.

    cli -> ops -> provision -> reservations/snapshot/exports -> ledger -> discovery | render | planning | execute
        -> profile/resources -> resources.cel -> model -> cpuset/units -> errors

A module may import a module of a LOWER layer, or one of its own group
(the prefix it matched below).  Imports inside functions count too: a lazy
import still couples the layers.  New modules fall in by prefix: a new
``rmctl.planning.x`` is a planner, a new ``rmctl.render.x`` a renderer.  A
new top-level module (``rmctl.foo``) gets DEFAULT_LAYER, the orchestration
layer, until it is listed here.  To change the rules, edit LAYERS, not the
test code.
"""

from __future__ import annotations

import ast
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(REPO, "rmctl")

#: group prefix -> layer (higher imports lower).  Longest prefix wins.
LAYERS = {
    "rmctl.errors": 0,          # imports nothing from rmctl
    "rmctl": 1,                 # the package itself: __version__ only (exact name)
    "rmctl.cpuset": 1,
    "rmctl.units": 1,
    "rmctl.model": 2,           # frozen dataclasses, no I/O
    "rmctl.resources.cel": 3,   # CEL compiler (DRA's dialect), below the resource classes that use it
    "rmctl.resources": 4,       # parsed input: YAML schemas of classes, requests, profiles
    "rmctl.profile": 4,
    "rmctl.discovery": 5,       # reads the machine; these four may not import each other
    "rmctl.render": 5,          # pure: model -> data/tables
    "rmctl.planning": 5,        # pure: (model, request) -> Plan
    "rmctl.execute": 5,         # the only code that changes the machine
    "rmctl.ledger": 6,          # the reservations state file
    "rmctl.reservations": 7,    # orchestration over the layers below
    "rmctl.journal": 7,
    "rmctl.provision": 8,       # node profiles -> plans, over reservations, ledger and planners
    "rmctl.exports": 7,
    "rmctl.ops": 9,             # use cases: plain values in, an Outcome out (no typer, no printing)
    "rmctl.cli": 10,            # nothing imports the CLI
    "rmctl.__main__": 11,       # python -m rmctl
}
DEFAULT_LAYER = 7

#: imports across groups of the same layer that are allowed, and why
SIDEWAYS = {
    ("rmctl.execute", "rmctl.discovery.parse"): "Host.mount_at parses /proc/mounts with the pure parser",
    ("rmctl.request_reservations", "rmctl.reservations"):
        "request reservations (request --reserve, profile spec.requests) use the CPU pools' names and sets",
}

#: known violations in existing code, each to be fixed by its owner (then removed here)
KNOWN = {
}

#: layers whose modules use the standard library only (start-up cost, purity)
STDLIB_ONLY_BELOW = 3  # errors, cpuset, units, model


def group_of(module: str) -> str:
    """Return the LAYERS key a module belongs to (longest matching prefix)."""
    if module == "rmctl":
        return "rmctl"
    best = None
    for prefix in LAYERS:
        if prefix == "rmctl":
            continue
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best):
                best = prefix
    return best or ".".join(module.split(".")[:2])


def layer_of(module: str) -> int:
    return LAYERS.get(group_of(module), DEFAULT_LAYER)


def modules() -> list[tuple[str, str]]:
    out = []
    for dirpath, _, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, REPO)[:-3].replace(os.sep, ".")
                out.append((rel[: -len(".__init__")] if rel.endswith(".__init__") else rel, path))
    return sorted(out)


def imports_of(module: str, path: str) -> list[tuple[str, int]]:
    """Return (imported module, line) for every import in the file, relative ones resolved."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    is_pkg = path.endswith("__init__.py")
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from rmctl.cli import output" imports the submodule rmctl.cli.output
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((sub if os.path.exists(_path_of(sub)) else target, node.lineno))
    return out


def _path_of(module: str) -> str:
    p = os.path.join(REPO, *module.split("."))
    return p + ".py" if os.path.exists(p + ".py") else os.path.join(p, "__init__.py")


ALL = modules()


@pytest.mark.parametrize("module,path", ALL, ids=[m for m, _ in ALL])
def test_import_direction(module, path):
    src_group, src_layer = group_of(module), layer_of(module)
    bad = []
    for target, line in imports_of(module, path):
        if not (target == "rmctl" or target.startswith("rmctl.")):
            continue
        tgt_group, tgt_layer = group_of(target), layer_of(target)
        if tgt_group == src_group or tgt_layer < src_layer:
            continue
        if tgt_layer == src_layer and any(
                group_of(module) == a and (target == b or target.startswith(b + "."))
                for a, b in SIDEWAYS):
            continue
        if any(module == a and (target == b or target.startswith(b + ".")) for a, b in KNOWN):
            continue
        bad.append(f"{path}:{line}: {module} (layer {src_layer}, {src_group}) imports {target} "
                   f"(layer {tgt_layer}, {tgt_group})")
    assert not bad, ("import against the layering (see LAYERS in tests/test_layers.py):\n  "
                     + "\n  ".join(bad))


@pytest.mark.parametrize("module,path", [(m, p) for m, p in ALL if layer_of(m) < STDLIB_ONLY_BELOW],
                         ids=[m for m, _ in ALL if layer_of(m) < STDLIB_ONLY_BELOW])
def test_core_layers_use_the_standard_library_only(module, path):
    third = sorted({t.split(".")[0] for t, _ in imports_of(module, path)
                    if t.split(".")[0] not in sys.stdlib_module_names and t.split(".")[0] != "rmctl"
                    and t != "__future__"})
    assert not third, f"{module} imports {third}: the model and value types stay stdlib-only"


def test_nothing_imports_the_cli():
    users = [(m, t) for m, p in ALL for t, _ in imports_of(m, p)
             if (t == "rmctl.cli" or t.startswith("rmctl.cli.")) and not m.startswith("rmctl.cli")
             and m != "rmctl.__main__"]
    assert not users, users


def test_group_of_examples():
    # the table reads as intended for modules that do not exist yet
    assert group_of("rmctl.planning.newthing") == "rmctl.planning"
    assert layer_of("rmctl.model.newthing") == LAYERS["rmctl.model"]
    assert layer_of("rmctl.newmodule") == DEFAULT_LAYER
    assert group_of("rmctl.cpusetx") == "rmctl.cpusetx"
