"""The one boundary where errors become a message and an exit code.

Used by both paths: ``@handle_errors`` on every typer command, and the
scripted fast path (:mod:`rmctl.cli.fastpath`), which must not import typer;
so typer is imported here only inside the wrapper.
"""

from __future__ import annotations

import functools
import sys

from rmctl.errors import ExitCode, RmctlError, wrapper_status

#: commands that follow the wrapper convention of env(1)/timeout(1) for rmctl's own errors
#: (125 rmctl failed, 126 cannot execute, 127 not found; rmctl.errors.wrapper_status)
WRAPPERS = (("cpu", "run"),)


def report_error(code: str, message: str, hint: str | None, exit_code: int, fmt: str | None,
                 details: dict | None = None) -> None:
    """Print one line (plus a hint) on stderr; with -o json|yaml|jsonl also the error document on stdout."""
    message = " ".join(str(message).split())  # one line, whatever the exception text held
    sys.stderr.write(f"rmctl: error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    if fmt in ("json", "yaml", "jsonl"):
        from rmctl.render.data import dumps, error_document

        sys.stdout.write(dumps(error_document(code, message, hint, exit_code, details), fmt))
    sys.stdout.flush()
    sys.stderr.flush()


def report_exception(e: BaseException, fmt: str | None, debug: bool = False, *, wrapper: bool = False) -> int:
    """Report ``e`` the rmctl way and return the exit code to use.

    RmctlError -> its message, hint and exit code; KeyboardInterrupt -> 130;
    anything else is an rmctl bug: one line, exit 1, the traceback only
    with ``--debug``.  ``wrapper`` (``cpu run``): the status follows
    env(1)'s convention (rmctl.errors.wrapper_status: 125 for any error of
    rmctl's own, 126/127 for a command that cannot run); the error
    document's ``code`` still names the error precisely.
    """
    def status(code: int) -> int:
        return wrapper_status(code) if wrapper else int(code)

    if isinstance(e, RmctlError):
        code = status(e.exit_code)
        report_error(e.code, e.message, e.hint, code, fmt, e.details)
        return code
    if isinstance(e, KeyboardInterrupt):
        report_error("interrupted", "interrupted", None, int(ExitCode.INTERRUPTED), fmt)
        return int(ExitCode.INTERRUPTED)
    if debug:
        import traceback  # --debug only: its import (linecache, tokenize...) is not every start's

        traceback.print_exception(type(e), e, e.__traceback__)
    code = status(ExitCode.FAILED)
    report_error("internal_error", f"internal error: {type(e).__name__}: {e}",
                 "rerun with --debug for a traceback, and report it", code, fmt)
    return code


def is_wrapper(argv: list[str]) -> bool:
    """Return True when ``argv`` runs a command of WRAPPERS (``cpu run``), global options anywhere."""
    from rmctl.cli.context import command_words

    words = command_words(argv)
    return any(words[:len(w)] == w for w in WRAPPERS)


def output_format_in(argv: list[str]) -> str | None:
    """Return the -o/--output value found in ``argv`` (lower case), or None.

    Used where the command's own parameters are not parsed (a usage error):
    ``-o json``, ``-ojson``, ``--output json``, ``--output=json``.
    """
    found = None
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a in ("-o", "--output") and i + 1 < len(argv):
            found = argv[i + 1]
        elif a.startswith("--output="):
            found = a[len("--output="):]
        elif a.startswith("-o") and len(a) > 2 and not a.startswith("--"):
            found = a[2:]
    return found.lower() if found else None


def exit_code_for(e: BaseException, argv: list[str]) -> int:
    """Report an exception that escaped every command handler; return its exit code."""
    fmt = output_format_in(argv)
    words = argv[:argv.index("--")] if "--" in argv else argv
    if any(a in NO_ERROR_DOCUMENT for a in words):
        fmt = None
    return report_exception(e, fmt if fmt in ("json", "yaml", "jsonl") else None, "--debug" in argv, wrapper=is_wrapper(argv))


def report_usage_error(e, argv: list[str]) -> int:
    """Report a click usage error (unknown option, bad value) as one line; return its code (2)."""
    fmt = output_format_in(argv)
    fmt = fmt if fmt in ("json", "yaml", "jsonl") else None
    ctx = getattr(e, "ctx", None)
    path = ctx.command_path if ctx is not None else "rmctl"
    if _no_document(path):
        fmt = None
    hint = f"see '{path} --help'"
    code = int(getattr(e, "exit_code", ExitCode.USAGE) or ExitCode.USAGE)
    if code == 1 and type(e).__name__ == "ClickException":
        code = int(ExitCode.FAILED)
    if is_wrapper(argv):
        code = wrapper_status(code)
    report_error("usage", e.format_message(), hint, code, fmt)
    words = argv[:argv.index("--")] if "--" in argv else argv
    return detailed_status(code) if DETAILED_EXITCODE in words else code


#: Terraform's option: 0 no changes, 2 changes, 1 every error (the error document keeps the precise code)
DETAILED_EXITCODE = "--detailed-exitcode"


def detailed_status(code: int) -> int:
    """Return the exit status of an error under ``--detailed-exitcode``: 1 (Terraform's "error"), so 2 means
    only "changes pending"; Ctrl-C keeps 130 (a signal, not an error of the command)."""
    return code if code in (0, int(ExitCode.INTERRUPTED)) else int(ExitCode.FAILED)


def handle_errors(fn=None, *, document: bool = True, wrapper: bool = False):
    """Wrap a command: RmctlError -> message + exit code; Ctrl-C -> 130; never a traceback.

    ``functools.wraps`` keeps the signature so typer still sees the options.
    ``document=False`` (the exports): never an error document on stdout,
    whatever ``-o`` says, so ``rmctl export ... > file`` cannot write one.
    ``wrapper=True`` (``cpu run``): rmctl's own errors exit 125, a command
    that cannot run 126/127 (:func:`report_exception`).
    Used bare (``@handle_errors``) or called (``@handle_errors(document=False)``).
    """
    if fn is None:
        return functools.partial(handle_errors, document=document, wrapper=wrapper)

    @functools.wraps(fn)
    def handled(*args, **kwargs):
        import typer

        fmt = kwargs.get("output") if document else None
        fmt = getattr(fmt, "value", fmt)
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit, BrokenPipeError):
            raise  # BrokenPipeError: the reader went away (rmctl.cli.reader_gone), not an error of rmctl's
        except (Exception, KeyboardInterrupt) as e:
            ctx = _ctx()
            debug = ctx is not None and bool(getattr(ctx.obj, "debug", False))
            code = report_exception(e, fmt, debug, wrapper=wrapper)
            raise typer.Exit(detailed_status(code) if kwargs.get("detailed_exitcode") else code) from None

    return handled


#: command groups that print foreign documents (Kubernetes objects, feature files): no error document
NO_ERROR_DOCUMENT = ("export",)


def _no_document(path: str) -> bool:
    """Return True when the command path (``rmctl export nfd``) belongs to NO_ERROR_DOCUMENT."""
    parts = path.split()
    return len(parts) > 1 and parts[1] in NO_ERROR_DOCUMENT


def _ctx():
    # typer >= 0.26 vendors click as typer._click (see performance-baselines.md).
    from typer._click.globals import get_current_context

    return get_current_context(silent=True)
