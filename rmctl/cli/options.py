"""Shared option types (sqlite-utils' output_options, as typer Annotated types)."""

from __future__ import annotations

import enum

import typer
from typing import Annotated


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    yaml = "yaml"


Output = Annotated[Format, typer.Option("--output", "-o", help="Output format: table (people), json or yaml (scripts).",
                                        case_sensitive=False)]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan (every write, mount and state change) and change nothing.")]


def fmt(output) -> str:
    """Return the plain format string of an Output value."""
    return getattr(output, "value", output) or "table"
