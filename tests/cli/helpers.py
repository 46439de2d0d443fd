"""Run rmctl both ways: through main() (fast path where it applies) and through typer."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_main(argv, env=None, monkeypatch=None):
    """Call rmctl.cli.main(argv) in-process; return (exit_code, stdout, stderr)."""
    from rmctl.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = dict(os.environ)
    try:
        os.environ.pop("RMCTL_ROOT", None)
        os.environ.update(env or {})
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(argv))
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return code, out.getvalue(), err.getvalue()


def run_typer(argv, env=None):
    """Invoke the typer app (never the fast path); return (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from rmctl.cli import app

    e = {"RMCTL_ROOT": None}
    e.update(env or {})
    r = CliRunner().invoke(app, list(argv), env=e, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def run_process(argv, env=None, **kw):
    """Run ``python -m rmctl`` in a subprocess; return CompletedProcess (text)."""
    e = {k: v for k, v in os.environ.items() if k not in ("RMCTL_ROOT", "NO_COLOR")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "rmctl", *argv], env=e, cwd=REPO,
                          capture_output=True, text=True, timeout=60, **kw)
