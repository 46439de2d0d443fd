"""The rmctl command line: ``main()`` and, lazily, the typer ``app``.

This package's ``__init__`` imports nothing heavy: ``main()`` first tries
the typer-free <Tab> (:mod:`rmctl.cli.completefast`), then
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
        code = None
        if os.environ.get("_RMCTL_COMPLETE", "").startswith("complete_"):
            from rmctl.cli import completefast  # a <Tab> on a value, without typer (issue 14)

            code = completefast.run(os.environ)
        if code is None:
            from rmctl.cli import fastpath

            code = fastpath.run(args, os.environ)
        if code is None:
            from rmctl.cli.application import app

            code = app(args=args, prog_name="rmctl", standalone_mode=False)
    except KeyboardInterrupt:  # while importing, before any handler is in place
        sys.stderr.write("rmctl: error: interrupted\n")
        code = 130
    except BrokenPipeError:
        reader_gone()
    sys.exit(code if isinstance(code, int) else 0)


def reader_gone() -> None:
    """End the process as coreutils end when the reader of their output went away: by SIGPIPE, silently.

    ``seq 1 100000 | head -1`` leaves PIPESTATUS[0] = 141 (128 + SIGPIPE),
    no message: seq dies of the signal on its next write.  Python ignores
    SIGPIPE, so rmctl's write fails with EPIPE (BrokenPipeError) instead;
    here the default action is put back and the signal raised, so a shell
    (``set -o pipefail``, PIPESTATUS) and a parent process (``-13`` in
    Python's subprocess) see exactly what they see of coreutils.  Nothing
    is flushed first (the buffered output has nowhere to go) and nothing is
    printed.  Output is printed after a use case has done its work (the
    state written, the plan applied), so no change is cut short.
    """
    import signal

    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPIPE})
        os.kill(os.getpid(), signal.SIGPIPE)
    finally:
        os._exit(128 + signal.SIGPIPE)  # only if the signal could not end us (the shell's number for it)


def __getattr__(name: str):
    # The typer app and its helpers, imported on first use only.
    if name in ("app", "EXIT_EPILOG", "COMMAND_MODULES", "main_callback", "RmctlGroup"):
        from rmctl.cli import application

        return getattr(application, name)
    raise AttributeError(f"module 'rmctl.cli' has no attribute {name!r}")
