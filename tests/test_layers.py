"""The import direction of rmctl, checked by parsing every module with ast.

    cli -> ops -> exports -> state -> discovery | render | planning | execute
        -> profile/resources -> resources.cel -> model -> cpuset/units/names -> errors

plus: no import cycles; and the CLI only parses, calls one use case and
renders (below: it imports ops, render and errors only, decides no exit
status and reads no files).  docs/architecture.md describes the layers.

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
    "rmctl.names": 1,           # the one name rule (reservations, profiles, classes, cgroups, state keys)
    "rmctl.model": 2,           # frozen dataclasses, no I/O
    "rmctl.resources.cel": 3,   # CEL compiler (DRA's dialect), below the resource classes that use it
    "rmctl.resources.yamlio": 3,  # the one bounded YAML loader (issue 15), for resources, profiles and discovery
    "rmctl.resources": 4,       # parsed input: YAML schemas of classes, requests, profiles
    "rmctl.profile": 4,
    "rmctl.discovery": 5,       # reads the machine; these four may not import each other
    "rmctl.render": 5,          # pure: model -> data/tables
    "rmctl.planning": 5,        # pure: (model, request) -> Plan
    "rmctl.execute": 5,         # the only code that changes the machine
    "rmctl.state": 6,           # the state dir: reservations file (typed records), journals
    "rmctl.exports": 7,
    "rmctl.ops": 9,             # use cases: plain values in, an Outcome out (no typer, no printing)
    "rmctl.cli": 10,            # nothing imports the CLI
    "rmctl.__main__": 11,       # python -m rmctl
}
DEFAULT_LAYER = 7

#: imports across groups of the same layer that are allowed, and why
SIDEWAYS = {
    ("rmctl.execute", "rmctl.discovery.parse"): "Host.mount_at parses /proc/mounts with the pure parser",
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
    # imports under ``if TYPE_CHECKING:`` never run (typing_extensions for the checker only)
    checker_only = _type_checking_lines(path)
    third = sorted({t.split(".")[0] for t, line in imports_of(module, path)
                    if t.split(".")[0] not in sys.stdlib_module_names and t.split(".")[0] != "rmctl"
                    and t != "__future__" and line not in checker_only})
    assert not third, f"{module} imports {third}: the model and value types stay stdlib-only"


def _type_checking_lines(path: str) -> set[int]:
    """Return the line numbers inside ``if TYPE_CHECKING:`` blocks (their imports never run)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                out.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return out


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


def test_no_import_cycles():
    """No two rmctl modules import each other, directly or around a loop (lazy imports included)."""
    cycles = import_cycles(import_graph())
    assert not cycles, "import cycles (break them by moving the shared piece down a layer):\n  " + \
        "\n  ".join(" -> ".join(c + [c[0]]) for c in cycles)


def import_graph() -> dict[str, set[str]]:
    """Return module -> the rmctl modules it imports (a package's submodule counts as the submodule)."""
    names = {m for m, _ in ALL}
    graph: dict[str, set[str]] = {}
    for m, p in ALL:
        deps = set()
        for t, _ in imports_of(m, p):
            while t and t not in names:
                t = t.rpartition(".")[0]
            if t and t != m:
                deps.add(t)
        graph[m] = deps
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_import_cycles_finds_a_loop():
    # the detector itself: a loop of three is one component, a chain none
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


# -- the CLI only parses, calls one use case and renders ------------------------------
#
# A command module (rmctl/cli/<group>.py) imports, from the rest of rmctl,
# the use cases (rmctl.ops), the renderers (rmctl.render), the error types
# and the version; nothing that reads the machine (discovery), builds plans
# (planning), changes the machine (execute) or keeps state.  It never picks
# an exit status: the use case's Outcome carries it and cli.output.finish
# (or the error boundary, cli.errors) ends the process with it.

#: what a CLI module may import from rmctl
CLI_MAY_IMPORT = ("rmctl.cli", "rmctl.ops", "rmctl.render", "rmctl.errors")

#: (CLI module, rmctl module) -> why the CLI needs it
CLI_EXCEPTIONS = {
    ("rmctl.cli.context", "rmctl.discovery.root"):
        "Settings.root turns the --root option into a Root once per process (Root.open)",
    ("rmctl.cli.application", "rmctl"): "--version prints rmctl.__version__",
}

#: the boundary: where an exit status becomes the process's (errors -> status, Outcome -> status, main)
EXIT_BOUNDARY = {"rmctl.cli", "rmctl.cli.application", "rmctl.cli.errors", "rmctl.cli.output", "rmctl.cli.fastpath"}

CLI = [(m, p) for m, p in ALL if m == "rmctl.cli" or m.startswith("rmctl.cli.")]


@pytest.mark.parametrize("module,path", CLI, ids=[m for m, _ in CLI])
def test_cli_imports_only_use_cases_and_renderers(module, path):
    bad = [f"{path}:{line}: imports {t}" for t, line in imports_of(module, path)
           if (t == "rmctl" or t.startswith("rmctl.")) and (module, t) not in CLI_EXCEPTIONS
           and not any(t == a or t.startswith(a + ".") for a in CLI_MAY_IMPORT)]
    assert not bad, ("a CLI module calls a use case (rmctl.ops) instead of discovery, planning, execute or "
                     "state (see CLI_MAY_IMPORT in tests/test_layers.py):\n  " + "\n  ".join(bad))


def _exit_decisions(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, what) for every exit-status decision in a module's syntax tree."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and (getattr(node, "id", None) == "ExitCode"
                                                           or getattr(node, "attr", None) == "ExitCode"):
            out.append((node.lineno, "ExitCode"))
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("Exit", "exit", "_exit") and node.args and not (
                    isinstance(node.args[0], ast.Constant) and node.args[0].value == 0):
                out.append((node.lineno, f"{name}({ast.unparse(node.args[0])})"))
    return out


@pytest.mark.parametrize("module,path", CLI, ids=[m for m, _ in CLI])
def test_cli_makes_no_exit_decisions(module, path):
    if module in EXIT_BOUNDARY:
        return
    with open(path, encoding="utf-8") as f:
        found = _exit_decisions(ast.parse(f.read(), path))
    assert not found, (f"{module} decides an exit status (the use case's Outcome does; "
                       "cli.output.finish ends the command):\n  " + "\n  ".join(f"{path}:{n}: {w}" for n, w in found))


def test_machine_read_detector():
    tree = ast.parse("open('/x')\nos.listdir(d)\nRoot.open(spec)\nos.open(os.devnull, 1)\np = 'sys/bus/pci'\n")
    assert [w for _, w in _machine_reads(tree)] == ["open()", "os.listdir()", "'sys/bus/pci'"]


def test_exit_decision_detector():
    tree = ast.parse("import sys, typer\nraise typer.Exit(4)\nraise typer.Exit(0)\nsys.exit(code)\nx = ExitCode.OK\n")
    assert [w for _, w in _exit_decisions(tree)] == ["Exit(4)", "exit(code)", "ExitCode"]


_MACHINE_FILES = ("sys/", "/sys/", "proc/", "/proc/", "dev/", "/dev/")
_FILE_CALLS = {"open", "listdir", "scandir", "stat", "lstat", "readlink", "read_text", "read_bytes", "iterdir"}


def _machine_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, what) for every path under /sys, /proc or /dev and every file read in a module."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(_MACHINE_FILES):
            out.append((node.lineno, repr(node.value)))
        elif isinstance(node, ast.Call):
            f = node.func
            # open(...), os.listdir(...), path.read_text(): not Root.open (a Root reads through discovery)
            is_file_call = (isinstance(f, ast.Name) and f.id in _FILE_CALLS) or (
                isinstance(f, ast.Attribute) and f.attr in _FILE_CALLS
                and not (isinstance(f.value, ast.Name) and f.value.id == "Root"))
            to_devnull = bool(node.args) and ast.unparse(node.args[0]) == "os.devnull"
            if is_file_call and not to_devnull:
                out.append((node.lineno, f"{ast.unparse(f)}()"))
    return out


@pytest.mark.parametrize("module,path", CLI, ids=[m for m, _ in CLI])
def test_cli_reads_no_machine_files(module, path):
    with open(path, encoding="utf-8") as f:
        found = _machine_reads(ast.parse(f.read(), path))
    assert not found, (f"{module} reads files itself (discovery reads under a Root; the state package "
                       "reads the state dir):\n  " + "\n  ".join(f"{path}:{n}: {w}" for n, w in found))


def test_cli_exceptions_name_existing_modules():
    # an entry outlives its module only by mistake
    names = {m for m, _ in CLI}
    assert not [m for m, _ in CLI_EXCEPTIONS if m not in names]
