"""Issue 11 finding 7: ``cpu run``'s exit status follows env(1) and timeout(1).

``cpu run -- /nonexistent`` exited 2 (usage), and since ``cpu run`` passes
the child's status through, a script could not tell the child's 2 or 4
from rmctl's own.  Now: 125 rmctl itself failed (whatever the error), 126
the command cannot be executed, 127 it is not found, anything else the
child's own status.  Run as a user runs it: the installed console script.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import fixture_tarball
from tests.journeys.console import environ, rmctl


@pytest.fixture
def state(tmp_path, machine_lock):
    # cpu run pins rmctl's own process and reserves a CPU in this state dir for the child's lifetime
    return str(tmp_path / "state")


@pytest.mark.parametrize("status", [0, 1, 2, 4, 5, 42])
def test_the_childs_status_is_passed_through(state, status):
    p = rmctl("--state-dir", state, "cpu", "run", "-n", "1", "--", "sh", "-c", f"exit {status}")
    assert p.returncode == status, p.stderr
    assert p.stderr == ""


def test_a_command_not_found_is_127(state):
    p = rmctl("--state-dir", state, "cpu", "run", "-n", "1", "--", "/nonexistent")
    assert p.returncode == 127
    assert p.stderr.startswith("rmctl: error: /nonexistent: command not found")
    p = rmctl("--state-dir", state, "cpu", "run", "-n", "1", "-o", "json", "--", "no-such-command-here")
    assert p.returncode == 127
    doc = json.loads(p.stdout)
    assert doc["error"]["code"] == "command_not_found" and doc["exit_code"] == 127


def test_a_command_that_cannot_be_executed_is_126(state, tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(script, stat.S_IRUSR | stat.S_IWUSR)  # no x bit: even root may not exec it
    for cmd in (str(script), str(tmp_path)):  # a file without x, a directory
        p = rmctl("--state-dir", state, "cpu", "run", "-n", "1", "--", cmd)
        assert p.returncode == 126, (cmd, p.stderr)
        assert p.stderr.startswith(f"rmctl: error: cannot execute {cmd}")


@pytest.mark.parametrize("argv,code", [
    (["cpu", "run", "-n", "0", "--", "true"], "usage"),                    # rmctl's usage error (was 2)
    (["cpu", "run", "--count", "abc", "--", "true"], "usage"),             # click's usage error (was 2)
    (["--lock-timeout", "x", "cpu", "run", "-n", "1", "--", "true"], "usage"),  # a global option's value
    (["cpu", "run", "-r", "no-such-reservation", "--", "true"], "usage"),  # was 2
    (["cpu", "run", "-n", "64", "--", "true"], "unsatisfiable"),           # was 4, the child's 4 too
    (["cpu", "run", "--", "true"], "usage"),                               # neither -n nor -r
    (["--root", "SNAPSHOT", "cpu", "run", "-n", "1", "--", "true"], "snapshot_root"),
], ids=["count-0", "count-abc", "lock-timeout", "no-reservation", "too-many-cpus", "no-cpus", "snapshot"])
def test_every_error_of_rmctls_own_is_125(state, argv, code):
    argv = [fixture_tarball("utillinux-x86_64-epyc_7451") if a == "SNAPSHOT" else a for a in argv]
    p = rmctl("--state-dir", state, *argv)
    assert p.returncode == 125, p.stderr
    assert p.stderr.startswith("rmctl: error: ") and "Traceback" not in p.stderr
    j = rmctl("--state-dir", state, *argv[:-2], "-o", "json", *argv[-2:])
    assert j.returncode == 125
    doc = json.loads(j.stdout)
    assert doc["kind"] == "Error" and doc["exit_code"] == 125 and doc["error"]["code"] == code


def test_other_commands_keep_their_statuses(state):
    # the wrapper convention is cpu run's alone: cpu reserve still says 2 for bad input
    p = rmctl("--state-dir", state, "cpu", "reserve", "x", "-n", "0")
    assert p.returncode == 2


def test_the_convention_is_in_help_readme_and_man():
    from tests.cli.helpers import REPO

    p = rmctl("cpu", "run", "--help", env=environ())
    assert "125" in p.stdout and "126" in p.stdout and "127" in p.stdout
    for doc in ("README.md", "man/rmctl.1"):
        text = open(os.path.join(REPO, doc), encoding="utf-8").read()
        assert "125" in text and "127" in text, doc
