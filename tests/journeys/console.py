"""Run the installed ``rmctl`` console script as a user types it (journeys and pipe tests).

The journeys drive the entry point pip installed (``.venv/bin/rmctl``, the
console script of pyproject.toml), not ``python -m rmctl`` and not typer's
CliRunner, so what they check is what a shell user gets: argv parsing,
the fast path, signals and exit statuses of a real process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

#: the console script installed beside this interpreter (the venv's), else the one on PATH
RMCTL = os.path.join(os.path.dirname(sys.executable), "rmctl")
if not os.path.exists(RMCTL):
    RMCTL = shutil.which("rmctl") or RMCTL


def environ(**extra: str) -> dict[str, str]:
    """Return the environment of a user's shell for rmctl: no RMCTL_* from the test run, no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMCTL_")}
    env["NO_COLOR"] = "1"
    env["PATH"] = os.path.dirname(RMCTL) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def rmctl(*argv: str, env: dict[str, str] | None = None, input: str | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``rmctl ARGV``; return the CompletedProcess (text, stdout and stderr captured)."""
    assert os.path.exists(RMCTL), f"the rmctl console script is not installed ({RMCTL}): pip install -e ."
    return subprocess.run([RMCTL, *argv], env=env or environ(), input=input, capture_output=True, text=True,
                          timeout=timeout)


def shell(script: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``script`` with bash (rmctl on PATH first), as typed at a prompt."""
    return subprocess.run(["bash", "-c", script], env=env or environ(), capture_output=True, text=True,
                          timeout=timeout)


def into_closed_pipe(*argv: str, env: dict[str, str] | None = None,
                     timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``rmctl ARGV`` with stdout a pipe whose reader has already gone (``| head -1`` at its extreme).

    Deterministic, unlike a real ``| head -1`` (which may read everything
    before it exits): the first write rmctl makes meets EPIPE.
    """
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run([RMCTL, *argv], env=env or environ(), stdin=subprocess.DEVNULL, stdout=w,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)
    finally:
        os.close(w)
