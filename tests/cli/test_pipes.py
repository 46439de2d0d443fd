"""Issue 11 finding 5: a reader that stops early ends rmctl quietly, as it ends coreutils.

``seq 1 100000 | head -1`` leaves PIPESTATUS[0] = 141: seq is killed by
SIGPIPE (128 + 13) on its next write, without a message.  rmctl does the
same, on the fast path (topology -o json), through typer (tables, dry-run
plans, --help) and for errors printed as documents: no "internal error",
no traceback, no exit 1.  tests/journeys/test_d_pipes.py runs every
command this way.
"""

from __future__ import annotations

import signal

import pytest

from tests.conftest import fixture_tarball
from tests.journeys.console import into_closed_pipe, shell

EPYC = fixture_tarball("utillinux-x86_64-epyc_7451")


@pytest.mark.parametrize("argv,stderr", [
    (["topology"], ""),                                         # typer, a rich table
    (["topology", "-o", "json"], ""),                           # the fast path
    (["--root", EPYC, "cpu", "reserve", "a", "-n", "8", "--dry-run"], ""),  # the example
    (["--help"], ""),                                           # click's own help printing
    # an error: its line on stderr (still open), then the document on stdout meets the closed pipe
    (["cpu", "reserve", "a", "-n", "0", "-o", "json"], "rmctl: error: --count must be at least 1, not 0\n"),
], ids=["table", "fastpath", "dry-run", "help", "error-document"])
def test_closed_pipe_ends_by_sigpipe_without_a_word(argv, stderr, tmp_path):
    p = into_closed_pipe("--state-dir", str(tmp_path), *argv)
    assert p.stderr == stderr
    assert p.returncode == -signal.SIGPIPE, p.returncode


def test_head_sees_what_it_sees_of_seq(tmp_path):
    # the shell's view, as the issue typed it: the same status as seq's, nothing on stderr
    p = shell(f"seq 1 100000 | head -1 >/dev/null; echo seq=${{PIPESTATUS[0]}}; "
              f"rmctl --state-dir {tmp_path} --root {EPYC} topology --tree | head -1 >/dev/null; "
              f"echo rmctl=${{PIPESTATUS[0]}}")
    assert p.stderr == ""
    assert "seq=141" in p.stdout
    # head may have read everything before it exited (then rmctl ends normally): 0 or 141, never 1
    assert p.stdout.split("rmctl=")[1].strip() in ("0", "141")
