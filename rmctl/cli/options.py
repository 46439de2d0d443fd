"""Shared option types (sqlite-utils' output_options, as typer Annotated types)."""

from __future__ import annotations

import enum
from typing import Annotated

import typer


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

#: --watch alone refreshes every this many seconds (watch(1)'s default; rmctl.cli.watch)
WATCH_DEFAULT = "2"
#: options whose value may be left out: option -> the value it then takes (see optional_values)
OPTIONAL_VALUES = {"--watch": WATCH_DEFAULT}

Watch = Annotated[float | None, typer.Option(
    "--watch", metavar="[SECONDS]", min=0.1,
    help=f"Redraw the table every SECONDS (default {WATCH_DEFAULT}) on a terminal until Ctrl-C (exit 0); "
         "refused on a pipe and with -o json|yaml.")]


def optional_values(argv: list[str]) -> list[str]:
    """Return ``argv`` with the value of each OPTIONAL_VALUES option filled in where it was left out.

    click (typer's copy) has no option whose value may be left out;
    ``--watch`` is one (``--watch``, ``--watch 5``, ``--watch=5``), so a
    ``--watch`` not followed by a number gets the default before click
    parses.  Words after ``--`` (a command's own arguments) are left alone.
    """
    out: list[str] = []
    for i, a in enumerate(argv):
        if a == "--":
            return out + argv[i:]
        out.append(a)
        if a in OPTIONAL_VALUES and not (i + 1 < len(argv) and _number(argv[i + 1])):
            out.append(OPTIONAL_VALUES[a])
    return out


def _number(text: str) -> bool:
    """Return True for a non-negative decimal number (``5``, ``0.5``): the value of an optional option."""
    head, _, tail = text.partition(".")
    return bool(head or tail) and (head == "" or head.isdigit()) and (tail == "" or tail.isdigit())


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
