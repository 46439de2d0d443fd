"""The one boundary where errors become a message and an exit code."""

from __future__ import annotations

import functools
import sys
import traceback

import typer

from rmctl.errors import ExitCode, RmctlError


def report_error(code: str, message: str, hint: str | None, exit_code: int, fmt: str | None,
                 details: dict | None = None) -> None:
    """Print one line (plus a hint) on stderr; with -o json|yaml also the error document on stdout."""
    sys.stderr.write(f"rmctl: error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    if fmt in ("json", "yaml"):
        from rmctl.render.data import dumps, error_document

        sys.stdout.write(dumps(error_document(code, message, hint, exit_code, details), fmt))
    sys.stdout.flush()
    sys.stderr.flush()


def handle_errors(fn):
    """Wrap a command: RmctlError -> message + exit code; Ctrl-C -> 130; never a traceback.

    ``functools.wraps`` keeps the signature so typer still sees the options.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        fmt = kwargs.get("output")
        fmt = getattr(fmt, "value", fmt)
        try:
            return fn(*args, **kwargs)
        except RmctlError as e:
            report_error(e.code, e.message, e.hint, int(e.exit_code), fmt, e.details)
            raise typer.Exit(int(e.exit_code)) from None
        except KeyboardInterrupt:
            report_error("interrupted", "interrupted", None, int(ExitCode.INTERRUPTED), fmt)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as e:  # an rmctl bug: one line, traceback only with --debug
            ctx = _ctx()
            if ctx is not None and getattr(ctx.obj, "debug", False):
                traceback.print_exc()
            report_error("internal_error", f"internal error: {type(e).__name__}: {e}",
                         "rerun with --debug for a traceback, and report it", int(ExitCode.FAILED), fmt)
            raise typer.Exit(int(ExitCode.FAILED)) from None

    return wrapper


def _ctx():
    # typer >= 0.26 vendors click as typer._click (see performance-baselines.md).
    from typer._click.globals import get_current_context

    return get_current_context(silent=True)
