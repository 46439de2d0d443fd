"""`rmctl topology`: the node model for people (summary, --tree) and scripts (-o json|yaml).

``-o json|yaml`` without ``--tree`` is usually served by the fast path
(:mod:`rmctl.cli.fastpath`) before typer is imported; both call the one use
case (:func:`rmctl.ops.topology.show`) and render its Outcome with
:func:`rmctl.cli.output.finish`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt


def register(app: typer.Typer) -> None:
    app.command("topology")(topology)


@handle_errors
def topology(
    ctx: typer.Context,
    output: Output = Format.table,
    tree: Annotated[bool, typer.Option("--tree", help="Show package -> NUMA node -> L3 -> core -> CPU as a tree.")] = False,
):
    """Show CPUs, cores, packages, NUMA nodes, caches and hugepage pools.

    The summary follows lscpu (CPUs online and offline, packages, cores,
    threads per core, NUMA nodes, caches, hugepage pools, isolated CPUs);
    -v adds the findings met while reading.  --tree follows lstopo; on
    machines with more than 32 cores it shows each run of like cores as one
    line (-v shows each core).

    Example: rmctl --root node.tar.gz topology --tree
    """
    settings = ctx.obj
    from rmctl.cli.output import finish
    from rmctl.ops.topology import show

    finish(settings, show(settings.root, devices=tree), fmt(output),
           table=_table_tree if tree else _table_summary)


def _table_summary(settings, outcome) -> None:
    from rmctl.cli.fastpath import topology_table  # the one summary renderer of both paths

    topology_table(settings, outcome)


def _table_tree(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render import tables

    console(settings).print(tables.topology_tree(outcome.view, verbose=settings.verbose))
