"""`rmctl topology`: the node model for people (summary, --tree) and scripts (-o json|yaml)."""

from __future__ import annotations

import typer
from typing import Annotated

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
    """Show CPUs, cores, packages, NUMA nodes, caches and hugepage pools."""
    settings = ctx.obj
    node = settings.node(devices=tree)
    f = fmt(output)
    from rmctl.render.topology import topology_data

    if f != "table":
        from rmctl.cli.output import emit

        emit("Topology", topology_data(node), f)
        return
    from rmctl.cli.output import console
    from rmctl.render import tables

    con = console(settings)
    if tree:
        con.print(tables.topology_tree(node))
    else:
        tables.print_topology(con, node, verbose=settings.verbose)
