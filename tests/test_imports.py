"""What ``rmctl --help`` and ``rmctl topology`` import (performance-baselines.md section 6).

Each run is a fresh interpreter (``sys.modules`` at exit is the evidence),
so these give the same answer on every run, unlike wall times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests import synth

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HEAVY = ("rich", "yaml", "cpuinfo", "celpy", "pynvml", "pydantic", "psutil")

PROBE = r"""
import json, sys
before = set(sys.modules)
sys.argv = ["rmctl"] + json.loads(sys.argv[1])
from rmctl.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
sys.stdout.flush()
top = sorted({m.split(".")[0] for m in set(sys.modules) - before})
cli = sorted(m[len("rmctl.cli."):] for m in sys.modules if m.startswith("rmctl.cli."))
sys.stderr.write("\nIMPORTED " + json.dumps({"code": code, "top": top, "new": len(set(sys.modules) - before),
                                             "cli": cli}) + "\n")
"""


def imported(argv: list[str], env: dict | None = None) -> dict:
    """Run rmctl in a fresh interpreter; return {code, top (new top-level modules), new (count), cli (rmctl.cli.*)}."""
    e = {k: v for k, v in os.environ.items() if k not in ("RMCTL_ROOT",)}
    e.update(env or {})
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                       cwd=REPO, env=e, timeout=60)
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("IMPORTED ")][-1]
    return json.loads(line[len("IMPORTED "):])


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return synth.build(tmp_path_factory.mktemp("imports") / "node", sockets=2, cores=2, threads=2)


def test_help_imports_no_heavy_module():
    r = imported(["--help"])
    assert r["code"] == 0
    assert "typer" in r["top"]  # help is typer's job...
    bad = [m for m in HEAVY if m in r["top"]]
    assert not bad, f"rmctl --help imported {bad}: import them inside the command that needs them"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("live", [True, False])
def test_topology_machine_output_skips_typer(root, fmt, live):
    argv = ["topology", "-o", fmt] if live else ["--root", root, "topology", "-o", fmt]
    r = imported(argv)
    assert r["code"] == 0
    allowed = {"yaml"} if fmt == "yaml" else set()
    bad = [m for m in ("typer", "click", *HEAVY) if m in r["top"] and m not in allowed]
    assert not bad, f"rmctl {' '.join(argv)} imported {bad}: the fast path must stay stdlib-only"
    # ~5 ms each on the budgeted path: dataclasses (inspect, ast, dis), and the
    # tarball machinery, needed only to unpack a snapshot tarball
    slow = [m for m in ("dataclasses", "inspect", "tarfile", "shutil", "tempfile", "typing") if m in r["top"]]
    assert not slow, f"rmctl {' '.join(argv)} imported {slow}: see rmctl/model/record.py and discovery/root.py"
    # the prototype's fast path added 22 modules (performance-baselines.md s.6);
    # rmctl's model and discovery add more, but a typer import would add ~90
    assert r["new"] < 90 + (40 if fmt == "yaml" else 0), r


def test_topology_env_root_takes_the_fast_path(root):
    r = imported(["topology", "-o", "json"], env={"RMCTL_ROOT": root})
    assert r["code"] == 0 and "typer" not in r["top"]


def test_topology_table_imports_nothing_heavy(root):
    r = imported(["--root", root, "topology"])
    assert r["code"] == 0
    assert "rich" not in r["top"]  # no colour (a pipe): the plain summary (rmctl.render.summary), same bytes
    bad = [m for m in ("yaml", "celpy", "cpuinfo", "pynvml", "pydantic") if m in r["top"]]
    assert not bad, f"rmctl topology imported {bad}"


def test_topology_error_on_fast_path_imports_nothing_heavy():
    r = imported(["--root", "/nonexistent-root", "topology", "-o", "json"])
    assert r["code"] == 3
    assert not [m for m in ("typer", *HEAVY) if m in r["top"]]


def test_console_script_entry_is_cheap():
    """Importing the entry point (rmctl.cli) must not import typer: main() decides."""
    p = subprocess.run([sys.executable, "-c", "import sys, rmctl.cli; print('typer' in sys.modules)"],
                       capture_output=True, text=True, cwd=REPO)
    assert p.stdout.strip() == "False"


@pytest.mark.parametrize("argv, group", [
    (["request", "evaluate", "--help"], "request"),
    (["cpu", "list", "--help"], "cpu"),
    (["plan", "--help"], "profile"),
])
def test_a_command_builds_only_its_group(argv, group):
    """Issue 14 item 3: typer builds the command group that runs, not all of them (application.COMMANDS)."""
    from rmctl.cli.application import COMMAND_MODULES

    r = imported(argv)
    assert r["code"] == 0
    loaded = sorted(m for m in COMMAND_MODULES if m in r["cli"])
    # cli.request reuses cli.classes' --class-dir option; nothing else
    assert loaded == sorted({group, "classes"} if group == "request" else {group}), loaded


def test_every_listed_command_is_registered_by_its_module():
    import typer

    from rmctl.cli.application import COMMANDS, app

    root = typer.main.get_command(app)
    assert list(root.commands) == list(COMMANDS)  # the property loads every module, in --help order


def test_request_evaluate_machine_output_skips_typer(root, tmp_path):
    """Issue 14: request evaluate -o json (one class, one node) under 120 ms: no typer, no state ledger
    (the executor and the Hosts) on a snapshot root, no process pool for one node."""
    req = tmp_path / "r.yaml"
    req.write_text("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec:\n"
                   "  cpus: {count: 1}\n  devices:\n  - {name: g, class: gpu}\n")
    probe = PROBE.replace('top = sorted(', 'full = sorted(set(sys.modules) - before); top = sorted(').replace(
        '"cli": cli}', '"cli": cli, "full": full}')
    e = {k: v for k, v in os.environ.items() if k != "RMCTL_ROOT"}
    for fmt in ("json", "jsonl"):
        argv = ["--root", root, "request", "evaluate", str(req), "-o", fmt]
        p = subprocess.run([sys.executable, "-c", probe, json.dumps(argv)], capture_output=True, text=True,
                           cwd=REPO, env=e, timeout=60)
        r = json.loads([ln for ln in p.stderr.splitlines() if ln.startswith("IMPORTED ")][-1][len("IMPORTED "):])
        assert r["code"] == 4  # no GPU on the synthetic node: evaluated, does not fit
        bad = [m for m in ("typer", "click", "rich", "celpy") if m in r["top"]]
        assert not bad, bad
        slow = [m for m in r["full"] if m.startswith(("rmctl.state.ledger", "rmctl.execute", "rmctl.ops.pool"))]
        assert not slow, f"imported {slow}: lazy-import them where they are needed"


STDLIB_PROBE = r"""
import sys
before = set(sys.modules)
sys.argv = ["rmctl"] + sys.argv[1:]
from rmctl.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write("\nNEW " + " ".join(sorted(m.split(".")[0] for m in set(sys.modules) - before)) + "\n")
"""


@pytest.mark.parametrize("fixture", ["utillinux-x86_64-epyc_7451", None])
def test_topology_fast_path_imports_no_heavy_stdlib(root, fixture_root, fixture):
    """Issue 14: EPYC topology -o json within 2x lscpu.  re (with enum, functools, collections: 22M
    instructions), json's package and ctypes (openat2) stay off the fast path; ``bin/rmctl`` is a
    plain script because pip's entry-point wrapper imports re."""
    where = fixture_root(fixture) if fixture else root  # the EPYC snapshot has links on the way (cpuN/cpufreq)
    e = {k: v for k, v in os.environ.items() if k != "RMCTL_ROOT"}
    # -S: no site, so no editable install's path hook (it imports re itself, hiding what rmctl imports);
    # rmctl comes from the checkout (cwd), and the fast path needs nothing from site-packages
    p = subprocess.run([sys.executable, "-S", "-c", STDLIB_PROBE, "--root", where, "topology", "-o", "json"],
                       capture_output=True, text=True, cwd=REPO, env=e, timeout=60)
    assert p.returncode == 0, p.stderr
    new = set(p.stderr.rsplit("NEW ", 1)[1].split())
    bad = new & {"re", "enum", "json", "ctypes", "collections", "functools", "typing", "dataclasses"}
    assert not bad, f"topology -o json imported {sorted(bad)}"


def test_the_installed_command_is_a_plain_script():
    with open(os.path.join(REPO, "bin", "rmctl"), encoding="utf-8") as f:
        code = [ln for ln in f.read().splitlines() if ln.strip() and not ln.startswith("#")]
    imports = [ln for ln in code if ln.startswith(("import ", "from "))]
    assert imports == ["import sys", "from rmctl.cli import main"], imports
