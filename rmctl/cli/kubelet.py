"""`rmctl kubelet`: what the kubelet's resource managers assigned on this node (read-only)."""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="kubelet", no_args_is_help=True, rich_markup_mode=None,
                      help="The kubelet's CPU, memory, device and DRA assignments, read from its own records.")
    sub.command("show")(show)
    sub.command("check")(check)
    app.add_typer(sub, name="kubelet")


@handle_errors
def show(
    ctx: typer.Context,
    pod: Annotated[str | None, typer.Option(
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


@handle_errors
def check(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option(
        "--config", metavar="FILE", help="The kubelet's config file [default: <kubelet root>/config.yaml].")] = None,
    output: Output = Format.table,
):
    """Check the kubelet against the kernel, rmctl and itself; one line per mismatch with what to change.

    Compared: the CPU Manager checkpoint with the online CPUs and the
    configured policy (the kubelet's own restart validation);
    reservedSystemCPUs with isolcpus=/nohz_full= and the shared pool;
    rmctl's reservations and system CPUs with the kubelet's pods and
    reserved CPUs (live node); the Memory Manager's hugepages with the
    pools.  Nothing is changed.  Exit 0 when all agree, 4 when something
    does not, 5 for a corrupt checkpoint.

    Example: rmctl kubelet check --config /etc/kubernetes/kubelet.yaml
    """
    from rmctl.cli.output import finish
    from rmctl.ops.kubelet import check as check_op

    s = ctx.obj
    finish(s, check_op(s.root, s.kubelet_root, config=config, state_dir=s.state_dir, lock_timeout=s.lock_timeout),
           fmt(output), table=_check_table)


def _check_table(settings, outcome) -> None:
    import sys

    d = outcome.data
    lines = [f"kubelet root {d['kubelet_root']}, config {d['config'] or '(none found)'}"]
    for f in d["findings"]:
        if f["ok"]:
            if settings.verbose:
                lines.append(f"ok    {f['message']}")
            continue
        lines.append(f"FIX   {f['message']}")
        lines.append(f"      -> {f['fix']}")
    if d["ok"]:
        lines.append(f"all {len(d['findings'])} checks agree" + ("" if settings.verbose else " (-v lists them)"))
    sys.stdout.write("\n".join(lines) + "\n")
