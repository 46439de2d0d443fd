"""Printing for commands: documents to stdout, messages to stderr."""

from __future__ import annotations

import sys

from rmctl.render.data import document, dumps

FORMATS = ("table", "json", "yaml")


def emit(kind: str, data: dict, fmt: str) -> None:
    """Print a versioned document as JSON or YAML on stdout."""
    sys.stdout.write(dumps(document(kind, data), fmt))
    sys.stdout.flush()


def console(settings, *, stderr: bool = False):
    """Return a rich Console (imported here only: tables are the slow path)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    color = settings.use_color(stream)
    return Console(file=stream, no_color=not color, color_system="auto" if color else None,
                   highlight=False, soft_wrap=False, force_terminal=color if color else None)


def warn(message: str) -> None:
    sys.stderr.write(f"rmctl: {message}\n")
