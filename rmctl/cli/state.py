"""`rmctl state show|reset`: what the state dir holds and whose node it belongs to; clear it.

The use cases are rmctl.ops.statedir's (the one rule of which state dir
holds a root's reservations lives there too).
"""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="state", no_args_is_help=True, rich_markup_mode=None,
                      help="The state dir: what it holds, which node it belongs to; clear it.")
    sub.command("show")(show)
    sub.command("reset")(reset)
    app.add_typer(sub, name="state")


def _text(settings, outcome) -> None:
    from rmctl.cli.output import print_text

    print_text(settings, outcome)


@handle_errors
def show(
    ctx: typer.Context,
    output: Output = Format.table,
):
    """Show the state dir: the node it belongs to (fingerprint, and whether it is --root's), system CPUs,
    reservations, apply journals.

    Never refused, whichever node the state belongs to: this is how to see
    what a state dir "of another node" holds before clearing it.

    Example: rmctl --state-dir /var/lib/rmctl state show
    """
    from rmctl.cli.output import finish
    from rmctl.ops import statedir

    s = ctx.obj
    finish(s, statedir.show(s.root, s.state_dir), fmt(output), table=_text)


@handle_errors
def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Clear it (without --yes: show what would be cleared).")] = False,
    output: Output = Format.table,
):
    """Clear the state dir: every reservation, the system CPUs and the node it belongs to.

    Shows what it holds first; without --yes that is all (a dry run, exit
    0).  With --yes, under the state lock, the reservations' cpuset cgroups
    that still exist are removed and the state file is emptied; the next
    command that reserves stamps it with its node.  Apply journals are kept.
    Use it when a state dir belongs to another node (a snapshot's
    reservations written to this machine's state dir, a CPU added or
    removed): the error names both fingerprints.

    Example: rmctl --state-dir /var/lib/rmctl state reset --yes
    """
    from rmctl.cli.output import finish
    from rmctl.ops import statedir

    s = ctx.obj
    finish(s, statedir.reset(s.root, s.state_dir, yes=yes, lock_timeout=s.lock_timeout), fmt(output), table=_text)
