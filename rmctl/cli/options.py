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


class FleetFormat(str, enum.Enum):
    """The formats of the commands that read many nodes: Format's, and JSON Lines (one node per line)."""

    table = "table"
    json = "json"
    yaml = "yaml"
    jsonl = "jsonl"


FleetOutput = Annotated[FleetFormat, typer.Option(
    "--output", "-o", case_sensitive=False,
    help="Output format: table (people), json or yaml (scripts), jsonl (one JSON document per node, "
         "printed as each node is read).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan (every write, mount and state change) and change nothing.")]


def alias(value, old_value, name: str, old_name: str):
    """Return the value of option ``name``, or of its hidden old spelling ``old_name`` (kept so scripts keep working).

    One spelling per meaning (issue 11 finding 12): a NUMA node is ``--numa``
    everywhere; ``--node`` and ``--nodes`` stay as hidden aliases.  Both
    given with different values is a usage error, never a silent choice.
    """
    if old_value is None:
        return value
    if value is not None and value != old_value:
        from rmctl.errors import UsageError

        raise UsageError(f"{name} and {old_name} (its old name) disagree: give {name} once")
    return old_value


def fmt(output) -> str:
    """Return the plain format string of an Output value."""
    return getattr(output, "value", output) or "table"
