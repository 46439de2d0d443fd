"""Issue 11 finding 6: every global option is accepted after the command too, and repeats follow one rule.

- ``rmctl topology --root X`` and ``rmctl cpu list --state-dir S`` said "No
  such option"; ``devices list -v`` failed while its output says "-v shows
  them".  Now every global option works at every level, kubectl style.
- ``rmctl --root A --root B request evaluate R`` evaluated B alone while
  ``request evaluate R --root A --root B`` evaluated both.  Now --root
  accumulates wherever given; a command that reads one node refuses two
  (exit 2) instead of silently reading the last.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from rmctl.cli import fastpath
from rmctl.cli.context import GLOBAL_OPTIONS
from tests import synth
from tests.cli.helpers import run_main, run_typer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "tools"))
from clitree import walk  # noqa: E402

LEAVES = [" ".join(p[1:]) for p, cmd in walk() if len(p) > 1 and not getattr(cmd, "commands", None)]
GROUPS = [" ".join(p[1:]) for p, cmd in walk() if len(p) > 1 and getattr(cmd, "commands", None)]

#: each global option with a value that parses
GIVEN = {"--root": ["--root", "/"], "--state-dir": ["--state-dir", "/tmp/rmctl-unused"],
         "--kubelet-root": ["--kubelet-root", "/var/lib/kubelet"], "--lock-timeout": ["--lock-timeout", "3"],
         "--verbose": ["-v"], "--debug": ["--debug"], "--no-color": ["--no-color"]}


def test_every_global_option_has_a_sample():
    assert sorted(GIVEN) == sorted(o.flags[0] for o in GLOBAL_OPTIONS)


@pytest.mark.parametrize("path", LEAVES + GROUPS)
def test_every_global_option_parses_after_every_command(path):
    # --help is eager: it answers once the command line parses; an unknown option fails parsing first
    args = [a for opt in GIVEN.values() for a in opt]
    code, out, err = run_typer([*path.split(), *args, "--help"])
    assert code == 0, err
    assert "Usage:" in out


def test_no_command_defines_a_global_flag_itself():
    # the rule lives in one place (rmctl.cli.context): a command's own --root or -v would shadow it
    flags = {f for o in GLOBAL_OPTIONS for f in o.flags}
    own = []
    for p, cmd in walk():
        if len(p) == 1:
            continue
        for param in cmd.params:
            if not getattr(param, "hidden", False) and flags.intersection(getattr(param, "opts", ())):
                own.append((" ".join(p[1:]), param.opts))
    assert not own


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    d = tmp_path_factory.mktemp("globals")
    return (synth.build(d / "a", sockets=1, cores=2, threads=2),
            synth.build(d / "b", sockets=2, cores=2, threads=1))


REQUEST = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: two}
spec:
  cpus: {count: 2}
"""


def test_root_after_the_command_is_the_root(roots):
    a, _ = roots
    before = run_typer(["--root", a, "topology", "-o", "json"])
    after = run_typer(["topology", "--root", a, "-o", "json"])
    assert before[0] == after[0] == 0
    assert before[1] == after[1]
    assert json.loads(after[1])["source"]["root"] == a


def test_fast_path_takes_global_options_after_topology(roots):
    a, _ = roots
    argv = ["topology", "-o", "json", "--root", a, "-v"]
    assert fastpath.parse(argv, {}) is not None
    assert run_main(argv) == run_typer(argv)


def test_state_dir_after_the_command(tmp_path, roots):
    a, _ = roots
    state = tmp_path / "s"
    code, _, err = run_typer(["cpu", "reserve", "x", "-n", "1", "--root", a, "--state-dir", str(state)])
    assert code == 0, err
    assert "x" in json.loads((state / "state.json").read_text())["reservations"]
    code, out, err = run_typer(["cpu", "list", "--state-dir", str(state), "--root", a, "-o", "json"])
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["reservations"]] == ["x"]


def test_devices_list_v(roots):
    a, _ = roots
    code, _, err = run_typer(["--root", a, "devices", "list", "-v"])
    assert code == 0, err


def test_verbose_counts_every_occurrence():
    from rmctl.cli.context import Settings

    s = Settings()
    for v in (1, 2):
        s.take("verbose", v)
    assert s.verbose == 3


def test_roots_accumulate_wherever_given(tmp_path, roots):
    a, b = roots
    req = tmp_path / "r.yaml"
    req.write_text(REQUEST)
    shapes = [["--root", a, "--root", b, "request", "evaluate", str(req)],
              ["request", "evaluate", str(req), "--root", a, "--root", b],
              ["--root", a, "request", "evaluate", str(req), "--root", b]]
    outs = []
    for argv in shapes:
        code, out, err = run_typer([*argv, "-o", "json"], env={"RMCTL_STATE_DIR": str(tmp_path / "s")})
        assert code == 0, err
        doc = json.loads(out)
        assert doc["kind"] == "RequestEvaluationList"
        assert [n["node"] for n in doc["nodes"]] == [a, b]
        outs.append(out)
    assert outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("argv", [
    ["--root", "A", "--root", "B", "topology"],
    ["--root", "A", "topology", "--root", "B", "-o", "json"],
    ["cpu", "list", "--root", "A", "--root", "B"],
])
def test_two_roots_where_one_is_read_is_a_usage_error(argv, roots):
    a, b = roots
    argv = [{"A": a, "B": b}.get(x, x) for x in argv]
    code, out, err = run_main(argv)
    assert code == 2
    assert "--root was given 2 times" in err and "this command reads one node" in err


def test_environment_is_the_default_the_command_line_replaces(roots):
    a, b = roots
    code, out, _ = run_typer(["topology", "--root", b, "-o", "json"], env={"RMCTL_ROOT": a})
    assert code == 0 and json.loads(out)["source"]["root"] == b


def test_last_state_dir_wins(tmp_path, roots):
    a, _ = roots
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    code, _, err = run_typer(["--state-dir", str(s1), "--root", a, "cpu", "reserve", "x", "-n", "1",
                              "--state-dir", str(s2)])
    assert code == 0, err
    assert (s2 / "state.json").exists() and not (s1 / "state.json").exists()
