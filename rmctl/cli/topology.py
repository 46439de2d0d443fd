"""`rmctl topology`: the node model for people (summary, --tree) and scripts (-o json|yaml).

``-o json|yaml`` without ``--tree`` is usually served by the fast path
(:mod:`rmctl.cli.fastpath`) before typer is imported; both call
:func:`rmctl.cli.fastpath.emit_topology`.
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
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="Show findings and detail (as the global -v).")] = 0,
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
    settings.verbose += verbose
    f = fmt(output)
    if f != "table":
        from rmctl.cli.fastpath import emit_topology

        emit_topology(settings, f, tree=tree)
        return
    node = settings.node(devices=tree)
    from rmctl.cli.output import console
    from rmctl.render import tables

    con = console(settings)
    if tree:
        con.print(tables.topology_tree(node, verbose=settings.verbose))
    else:
        tables.print_topology(con, node, verbose=settings.verbose)
