"""`rmctl request evaluate|explain|release`: does a ResourceRequest fit this node (or those snapshots)?

``evaluate`` exits 0 when the request fits and 4 when it does not (the
evaluation is printed either way).  With several ``--root`` snapshots it
prints one row per node and exits 0 when at least one node fits.
``--reserve NAME`` records the chosen CPUs and devices (and the hugepage
pages per node) as one reservation in the state file, under the state
lock; ``--dry-run`` shows the plan instead.  ``explain`` adds, for every
device, each selector's true/false/error and hints for attribute names no
device has.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rmctl.cli.classes import ClassDir
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, fmt

RequestFile = Annotated[str, typer.Argument(metavar="FILE", help="ResourceRequest YAML file ('-' for stdin).")]
MaxNuma = Annotated[int, typer.Option(
    "--max-allowable-numa-nodes", metavar="N", min=8, max=12,
    help="The kubelet's Topology Manager option: nodes with more NUMA nodes are refused "
         "under any policy but none (hints cover every NUMA mask, 2^N). 8 to 12.")]


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="request", no_args_is_help=True, rich_markup_mode=None,
                      help="Evaluate, explain and reserve resource requests (CPUs, memory, hugepages, devices).")
    sub.command("evaluate")(evaluate_request)
    sub.command("explain")(explain_request)
    sub.command("release")(release_request)
    app.add_typer(sub, name="request")


@handle_errors
def evaluate_request(
    ctx: typer.Context,
    file: RequestFile,
    class_dir: ClassDir = None,
    reserve: Annotated[Optional[str], typer.Option(
        "--reserve", metavar="NAME",
        help="Reserve the result under NAME (CPUs and devices in the state file; hugepage pages recorded).")] = None,
    dry_run: DryRun = False,
    max_numa_nodes: MaxNuma = 8,
    output: Output = Format.table,
):
    """Evaluate a ResourceRequest: fits or not, NUMA nodes, CPUs, hugepages and devices chosen.

    Exit 0 when it fits, 4 when it does not.  --root (global, before or
    after the command) may be repeated: one evaluation per node, exit 0
    when any node fits.

    Example: rmctl request evaluate train.yaml --root a.tar.gz --root b.tar.gz
    """
    settings = ctx.obj
    root, roots = settings.several_roots()
    if reserve is not None:
        from rmctl.cli import request_ledger

        return request_ledger.reserve(settings, reserve, file, root=root, roots=roots, class_dir=class_dir,
                                      dry_run=dry_run, output=output, max_numa_nodes=max_numa_nodes)
    from rmctl.cli.output import finish
    from rmctl.ops.requests import evaluate_request as evaluate_op

    finish(settings, evaluate_op(root, file, roots=roots, class_dir=class_dir,
                                 state_dir=settings.state_dir, lock_timeout=settings.lock_timeout,
                                 max_numa_nodes=max_numa_nodes, kubelet_root=settings.kubelet_root),
           fmt(output), table=_evaluations_table)


def _evaluations_table(settings, outcome) -> None:
    from rmctl.cli.output import print_renderables
    from rmctl.render.requests import evaluation_renderables, evaluations_renderables

    evs = outcome.view
    if len(evs) == 1:
        print_renderables(settings, evaluation_renderables(evs[0]))
        return
    print_renderables(settings, [f"request {outcome.data['request']}: fits on {sum(e.fits for e in evs)} "
                                 f"of {len(evs)} node(s)", *evaluations_renderables(evs)])


@handle_errors
def explain_request(
    ctx: typer.Context,
    file: RequestFile,
    class_dir: ClassDir = None,
    max_numa_nodes: MaxNuma = 8,
    output: Output = Format.table,
):
    """Explain a request: every selector on every device (true/false/error), why each resource fits or not.

    Exit 0 when it fits, 4 when it does not (as evaluate); --root may be repeated (as evaluate).

    Example: rmctl request explain train.yaml --class-dir ./classes
    """
    from rmctl.cli.output import finish
    from rmctl.ops.requests import explain_request as explain_op

    settings = ctx.obj
    root, roots = settings.several_roots()
    finish(settings, explain_op(root, file, roots=roots, class_dir=class_dir,
                                state_dir=settings.state_dir, lock_timeout=settings.lock_timeout,
                                max_numa_nodes=max_numa_nodes, kubelet_root=settings.kubelet_root),
           fmt(output), table=_explanations_table)


def _explanations_table(settings, outcome) -> None:
    from rmctl.cli.output import print_renderables
    from rmctl.render.requests import evaluation_renderables

    for ev in outcome.view:
        print_renderables(settings, evaluation_renderables(ev, explain=True))


@handle_errors
def release_request(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Reservation name (as given to --reserve).")],
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Release a reservation made by 'request evaluate --reserve' (the same as 'rmctl cpu release').

    Example: rmctl request release train --dry-run
    """
    from rmctl.cli import request_ledger

    return request_ledger.release(ctx.obj, name, dry_run=dry_run, output=output)
