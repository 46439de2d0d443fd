"""The rmctl command line: ``main()`` and, lazily, the typer ``app``.

This package's ``__init__`` imports nothing heavy: ``main()`` first tries
the scripted fast path (``rmctl [global options] topology -o json|yaml``,
see :mod:`rmctl.cli.fastpath`), which never imports typer, and only then
imports the typer app (:mod:`rmctl.cli.application`).  ``from rmctl.cli
import app`` still works (module ``__getattr__``, PEP 562).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: fast path, else the typer app; exits."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from rmctl.cli import fastpath

        code = fastpath.run(args, os.environ)
        if code is None:
            from rmctl.cli.application import app

            code = app(args=args, prog_name="rmctl", standalone_mode=False)
    except KeyboardInterrupt:  # while importing, before any handler is in place
        sys.stderr.write("rmctl: error: interrupted\n")
        code = 130
    except BrokenPipeError:
        # The reader went away (rmctl ... | head): not an rmctl error, but not 0.
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, sys.stdout.fileno())
        except OSError:
            pass
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


def __getattr__(name: str):
    # The typer app and its helpers, imported on first use only.
    if name in ("app", "EXIT_EPILOG", "COMMAND_MODULES", "main_callback", "RmctlGroup"):
        from rmctl.cli import application

        return getattr(application, name)
    raise AttributeError(f"module 'rmctl.cli' has no attribute {name!r}")
