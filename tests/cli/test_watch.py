"""--watch [SECONDS] on cpu list and hugepages show (issue 11, operator views).

A table redrawn on a terminal until Ctrl-C (exit 0, quietly); refused with
a usage error (exit 2) on a pipe or with -o json|yaml.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time

import pytest

from rmctl.cli.options import optional_values
from tests.conftest import NODE_FIXTURES
from tests.journeys.console import RMCTL, environ

DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")
COMMANDS = [("cpu", "list"), ("hugepages", "show")]


@pytest.mark.parametrize("argv,want", [
    (["cpu", "list", "--watch"], ["cpu", "list", "--watch", "2"]),
    (["cpu", "list", "--watch", "5"], ["cpu", "list", "--watch", "5"]),
    (["cpu", "list", "--watch", "0.5", "-o", "table"], ["cpu", "list", "--watch", "0.5", "-o", "table"]),
    (["cpu", "list", "--watch", "-o", "json"], ["cpu", "list", "--watch", "2", "-o", "json"]),
    (["cpu", "list", "--watch=3"], ["cpu", "list", "--watch=3"]),
    (["cpu", "run", "-n", "1", "--", "x", "--watch"], ["cpu", "run", "-n", "1", "--", "x", "--watch"]),
])
def test_watch_takes_an_optional_value(argv, want):
    assert optional_values(argv) == want


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("extra", [(), ("5",)], ids=["default", "5s"])
def test_watch_is_refused_when_stdout_is_not_a_terminal(run_cli, cmd, extra):
    code, out, err = run_cli("--root", DEV_VM, *cmd, "--watch", *extra)
    assert code == 2, err
    assert "--watch needs a terminal on stdout" in err and "hint:" in err
    assert out == ""


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_watch_is_refused_with_a_machine_format(run_cli, cmd, fmt):
    code, out, err = run_cli("--root", DEV_VM, *cmd, "--watch", "-o", fmt)
    assert code == 2, err
    assert f"cannot be combined with -o {fmt}" in err
    assert '"kind": "Error"' in out or "kind: Error" in out  # scripts asked for a document: the error document


def test_watch_interval_has_a_floor(run_cli):
    code, _, err = run_cli("--root", DEV_VM, "cpu", "list", "--watch", "0.01")
    assert code == 2 and "0.01" in err


def _read_until(fd: int, proc, predicate, limit: float = 120.0) -> bytes:
    """Read the pty until ``predicate(output)`` (a guard against a hang, not a timing assertion)."""
    out = b""
    end = time.monotonic() + limit
    while not predicate(out):
        if time.monotonic() > end or proc.poll() is not None:
            break
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
    return out


@pytest.mark.skipif(not os.path.exists(RMCTL) and not os.environ.get("CI"), reason="needs the installed console script")
@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_watch_redraws_on_a_terminal_and_ctrl_c_exits_0(cmd):
    master, slave = pty.openpty()
    proc = subprocess.Popen([RMCTL, "--root", DEV_VM, *cmd, "--watch", "0.2"], stdin=slave, stdout=slave,
                            stderr=slave, env=environ(), start_new_session=True)
    os.close(slave)
    try:
        header = f"Every 0.2s: rmctl {' '.join(cmd)}".encode()
        out = _read_until(master, proc, lambda o: o.count(header) >= 2)
        assert out.count(header) >= 2, out.decode(errors="replace")[-2000:]
        assert out.count(b"\x1b[H\x1b[2J") >= 2  # the screen cleared before each refresh
        want = b"CPU" if cmd[0] == "cpu" else b"Hugepage pools"
        assert want in out
        proc.send_signal(signal.SIGINT)
        rest = _read_until(master, proc, lambda o: False, limit=30)
        assert proc.wait(timeout=30) == 0
        assert b"Traceback" not in out + rest and b"interrupted" not in rest and b"error" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
