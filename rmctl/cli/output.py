"""Printing for commands: documents to stdout, messages to stderr."""

from __future__ import annotations

import sys

from rmctl.render.data import document, dumps


def emit(kind: str, data: dict, fmt: str) -> None:
    """Print a versioned document as JSON or YAML on stdout."""
    sys.stdout.write(dumps(document(kind, data), fmt))
    sys.stdout.flush()


def console(settings, *, stderr: bool = False):
    """Return a rich Console (imported here only: tables are the slow path)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich's own answer is exit 1; the reader went away, which rmctl.cli.main ends as coreutils do
            raise BrokenPipeError(32, "the reader of the output went away")

    stream = sys.stderr if stderr else sys.stdout
    color = settings.use_color(stream)
    return _Console(file=stream, no_color=not color, color_system="auto" if color else None,
                    highlight=False, soft_wrap=False, force_terminal=color if color else None)


def print_renderables(settings, renderables) -> None:
    """Print rich renderables (tables, trees) and plain strings on stdout, one after another."""
    con = console(settings)
    for r in renderables:
        if isinstance(r, str):
            con.print(r, highlight=False)
        else:
            con.print(r)


def show(settings, outcome, fmt: str, table=None) -> int:
    """Render a use case's Outcome (rmctl.ops.outcome); return its exit status.

    ``-o json|yaml``: the document (``outcome.kind``, ``outcome.data``);
    ``jsonl``: the document on one line; table: ``table(settings,
    outcome)`` prints it for people; ``none``: nothing (what there was to
    print has been, a fleet's nodes as they came).  Then each message on
    stderr.
    """
    if not outcome.kind or fmt == "none":
        pass  # nothing of rmctl's own to print
    elif fmt != "table":
        emit(outcome.kind, outcome.data, fmt)
    elif table is not None:
        table(settings, outcome)
    sys.stdout.flush()
    for m in outcome.messages:
        sys.stderr.write(m.lines())
    sys.stderr.flush()
    return int(outcome.exit_code)


def finish(settings, outcome, fmt: str, table=None) -> None:
    """Render a use case's Outcome (:func:`show`) and end the command with its exit status.

    ``typer.Exit(outcome.exit_code)`` when it is not 0 (typer is imported
    only then: the fast path ends with :func:`show`'s status instead).
    """
    end(show(settings, outcome, fmt, table))


def end(code: int) -> None:
    """End a typer command with ``code`` (nothing to do for 0)."""
    if code:
        import typer

        raise typer.Exit(code)


def print_text(settings, outcome) -> None:
    """Print an Outcome whose view is rmctl.ops.outcome.Text: its lines, then its plan (a dry run's)."""
    text = outcome.view
    for line in text.lines:
        sys.stdout.write(line + "\n")
    if text.plan is not None:
        from rmctl.render.plan import plan_text

        sys.stdout.write(plan_text(text.plan))
    for line in text.after:
        sys.stdout.write(line + "\n")
