"""`rmctl kubelet`: what the kubelet's resource managers assigned on this node (read-only)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="kubelet", no_args_is_help=True, rich_markup_mode=None,
                      help="The kubelet's CPU, memory, device and DRA assignments, read from its own records.")
    sub.command("show")(show)
    app.add_typer(sub, name="kubelet")


@handle_errors
def show(
    ctx: typer.Context,
    pod: Annotated[Optional[str], typer.Option(
        "--pod", metavar="NS/NAME|UID", help="Only this pod (NAMESPACE/NAME needs the live API's names).")] = None,
    no_api: Annotated[bool, typer.Option(
        "--no-api", help="Do not ask the PodResources API (checkpoints only, pods by UID).")] = False,
    output: Output = Format.table,
):
    """Show per pod and container the CPUs, NUMA nodes, memory, hugepages and devices the kubelet assigned.

    Read from the kubelet's checkpoints under --kubelet-root (CPU Manager,
    Memory Manager, device manager, DRA manager), each checksum checked as
    the kubelet checks it; on the live node the PodResources API
    (pod-resources/kubelet.sock, rmctl[kubelet]) adds pod names.  Nothing is
    changed.  Exit 5 when a checkpoint is corrupt or of an unknown layout.

    Example: rmctl kubelet show --pod default/web-0 -o json
    """
    from rmctl.cli.output import finish
    from rmctl.ops.kubelet import show as show_op

    s = ctx.obj
    finish(s, show_op(s.root, s.kubelet_root, api=not no_api, pod=pod), fmt(output), table=_table)


def _table(settings, outcome) -> None:
    from rmctl.cli.output import print_renderables
    from rmctl.render.kubelet import table

    print_renderables(settings, table(outcome.data))
