"""The scripted fast path gives the same bytes and exit codes as the typer path."""

from __future__ import annotations

import json

import pytest

from rmctl.cli import fastpath
from tests import synth
from tests.cli.helpers import run_main, run_typer


@pytest.fixture
def root(tmp_path):
    return synth.build(tmp_path / "node", sockets=2, cores=2, threads=2, offline=(1,))


# (argv with ROOT standing for the root, env) pairs that the fast path takes
SHAPES = [
    (["--root", "ROOT", "topology", "-o", "json"], {}),
    (["--root=ROOT", "topology", "--output", "yaml"], {}),
    (["topology", "-o", "json"], {"RMCTL_ROOT": "ROOT"}),
    (["topology", "--output=JSON"], {"RMCTL_ROOT": "ROOT"}),
    (["--root", "ROOT", "-v", "--debug", "--no-color", "topology", "-ojson"], {}),
    (["--state-dir", "/tmp/x", "--lock-timeout", "3", "--root", "ROOT", "topology", "-o", "table", "-o", "json"], {}),
    (["--root", "ROOT", "-vv", "topology", "-o", "yaml", "-v"], {}),
    # the summary table (issue 14: within 4x of lstopo-no-graphics): the same rich tables, no typer
    (["--root", "ROOT", "topology"], {}),
    (["topology", "-o", "table", "-v"], {"RMCTL_ROOT": "ROOT"}),
    (["--root", "ROOT", "--no-color", "topology", "--output=table"], {}),
]


def _fill(argv, env, root):
    return ([a.replace("ROOT", root) for a in argv], {k: v.replace("ROOT", root) for k, v in env.items()})


@pytest.mark.parametrize("argv,env", SHAPES)
def test_fast_path_equals_typer_path(root, argv, env):
    argv, env = _fill(argv, env, root)
    assert fastpath.parse(argv, env) is not None, "this shape should take the fast path"
    fast = run_main(argv, env)
    slow = run_typer(argv, env)
    assert fast[0] == slow[0] == 0, (fast, slow)
    assert fast[1] == slow[1]
    assert fast[2] == slow[2] == ""


@pytest.mark.parametrize("argv", [
    ["topology", "--tree"], ["topology", "--tree", "-o", "table"], ["topology", "--tree", "-o", "json"],
    ["topology", "-o", "json", "--help"], ["topology", "-o", "xml"], ["topology", "-o"],
    ["--root"], ["--root", "-v", "topology", "-o", "json"], ["--bogus", "topology", "-o", "json"],
    ["--lock-timeout", "-1", "topology", "-o", "json"], ["--version", "topology", "-o", "json"],
    ["topology", "-o", "json", "extra"], ["cpu", "topology", "-o", "json"], [],
    ["--root=", "topology", "-o", "json"], ["topology", "--", "-o", "json"],
])
def test_other_shapes_fall_through_to_typer(argv):
    assert fastpath.parse(argv, {}) is None


def test_completion_requests_never_take_the_fast_path():
    assert fastpath.parse(["topology", "-o", "json"], {"_RMCTL_COMPLETE": "complete_bash"}) is None


ERROR_CASES = [
    # (argv, expected exit code)
    (["--root", "/nonexistent-root", "topology", "-o", "json"], 3),
    (["--root", "/nonexistent-root", "topology", "-o", "yaml"], 3),
    (["--root", "/etc/hostname", "topology", "-o", "json"], 3),
]


@pytest.mark.parametrize("argv,code", ERROR_CASES)
def test_errors_identical_on_both_paths(argv, code):
    assert fastpath.parse(argv, {}) is not None
    fast = run_main(argv)
    slow = run_typer(argv)
    assert fast == slow
    assert fast[0] == code
    assert fast[2].startswith("rmctl: error: ") and "Traceback" not in fast[2]
    if "json" in argv:
        doc = json.loads(fast[1])
        assert doc["kind"] == "Error" and doc["exit_code"] == code


def test_empty_root_dir_errors_the_same(tmp_path):
    argv = ["--root", str(tmp_path), "topology", "-o", "json"]
    fast, slow = run_main(argv), run_typer(argv)
    assert fast == slow and fast[0] == 3


def test_env_root_errors_the_same():
    env = {"RMCTL_ROOT": "/nonexistent-root"}
    fast, slow = run_main(["topology", "-o", "json"], env), run_typer(["topology", "-o", "json"], env)
    assert fast == slow and fast[0] == 3


def test_live_fast_path_matches_typer_apart_from_volatile_counters():
    fast = run_main(["topology", "-o", "json"])
    slow = run_typer(["topology", "-o", "json"])
    assert fast[0] == slow[0] == 0
    a, b = json.loads(fast[1]), json.loads(slow[1])
    for d in (a, b):  # free memory moves between two reads of a live machine
        d.pop("memory")
        for n in d["numa_nodes"]:
            n.pop("memory_free")
            n.pop("hugepages")
        d.pop("hugepages")
    assert a == b


@pytest.mark.parametrize("exc,code", [(KeyboardInterrupt, 130), (ValueError, 1)])
def test_interrupt_and_internal_error_both_paths(root, monkeypatch, exc, code):
    import rmctl.ops.topology

    def boom(*a, **k):
        raise exc("boom")

    monkeypatch.setattr(rmctl.ops.topology, "discover", boom)
    argv = ["--root", root, "topology", "-o", "json"]
    fast, slow = run_main(argv), run_typer(argv)
    assert fast == slow
    assert fast[0] == code
    assert json.loads(fast[1])["exit_code"] == code
    assert "Traceback" not in fast[2]
    dbg = run_main(["--debug", *argv])
    assert dbg[0] == code
    if exc is ValueError:
        assert "Traceback" in dbg[2] and "ValueError: boom" in dbg[2]
