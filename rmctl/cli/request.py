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

from typing import Annotated, List, Optional

import typer

from rmctl.cli.classes import ClassDir, load
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, fmt

RequestFile = Annotated[str, typer.Argument(metavar="FILE", help="ResourceRequest YAML file ('-' for stdin).")]
MaxNuma = Annotated[int, typer.Option(
    "--max-allowable-numa-nodes", metavar="N", min=8, max=12,
    help="The kubelet's Topology Manager option: nodes with more NUMA nodes are refused "
         "under any policy but none (hints cover every NUMA mask, 2^N). 8 to 12.")]
Roots = Annotated[Optional[List[str]], typer.Option(
    "--root", metavar="PATH",
    help="Node to evaluate on: a snapshot tarball or directory (repeat for several; default: the global --root).")]


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="request", no_args_is_help=True, rich_markup_mode=None,
                      help="Evaluate, explain and reserve resource requests (CPUs, memory, hugepages, devices).")
    sub.command("evaluate")(evaluate_request)
    sub.command("explain")(explain_request)
    sub.command("release")(release_request)
    app.add_typer(sub, name="request")


def _load(file: str, class_dir: str | None):
    from rmctl.resources.request import check_classes, load_request

    classes = load(class_dir)
    req = load_request(file)
    merged = dict(classes)
    merged.update(req.classes)
    check_classes(req, merged)
    return req, merged


def _nodes(settings, roots: list[str] | None):
    """Return [(NodeModel, is_global)] for the roots asked (default: the global root)."""
    if not roots:
        return [settings.node(devices=True)]
    from rmctl.discovery import discover
    from rmctl.discovery.root import Root

    return [discover(Root.open(r), devices=True) for r in roots]


def _reserved(settings, node):
    """Return what existing reservations hold (from the ledger); nothing for a snapshot root."""
    from rmctl.planning.requests import Reserved

    if not node.source.live:
        return Reserved()
    from rmctl.cli import request_ledger

    return request_ledger.reserved(settings)


def _print(settings, renderables) -> None:
    from rmctl.cli.output import console

    con = console(settings)
    for r in renderables:
        if isinstance(r, str):
            con.print(r, highlight=False)
        else:
            con.print(r)


@handle_errors
def evaluate_request(
    ctx: typer.Context,
    file: RequestFile,
    root: Roots = None,
    class_dir: ClassDir = None,
    reserve: Annotated[Optional[str], typer.Option(
        "--reserve", metavar="NAME",
        help="Reserve the result under NAME (CPUs and devices in the state file; hugepage pages recorded).")] = None,
    dry_run: DryRun = False,
    max_numa_nodes: MaxNuma = 8,
    output: Output = Format.table,
):
    """Evaluate a ResourceRequest: fits or not, NUMA nodes, CPUs, hugepages and devices chosen.

    Exit 0 when it fits, 4 when it does not; with several --root, 0 when any node fits.

    Example: rmctl request evaluate train.yaml --root a.tar.gz --root b.tar.gz
    """
    from rmctl.errors import ExitCode, UsageError
    from rmctl.planning.requests import evaluate

    settings = ctx.obj
    req, classes = _load(file, class_dir)
    if reserve is not None and root and len(root) > 1:
        raise UsageError("--reserve takes one node, not several --root",
                         hint="evaluate across nodes first, then reserve on the one chosen")
    nodes = _nodes(settings, root)
    if reserve is not None:
        from rmctl.cli import request_ledger

        return request_ledger.reserve(settings, reserve, req, classes, nodes[0], dry_run=dry_run, output=output,
                                      max_numa_nodes=max_numa_nodes)
    evs = [evaluate(n, req, classes, reserved=_reserved(settings, n), max_numa_nodes=max_numa_nodes) for n in nodes]
    if len(evs) == 1:
        ev = evs[0]
        if fmt(output) != "table":
            from rmctl.cli.output import emit

            emit("RequestEvaluation", ev.to_data(), fmt(output))
        else:
            from rmctl.render.requests import evaluation_renderables

            _print(settings, evaluation_renderables(ev))
        raise typer.Exit(int(ExitCode.OK if ev.fits else ExitCode.UNSATISFIABLE))
    any_fits = any(e.fits for e in evs)
    if fmt(output) != "table":
        from rmctl.cli.output import emit

        emit("RequestEvaluationList", {"request": req.name, "fits": any_fits,
                                       "fitting_nodes": [e.node for e in evs if e.fits],
                                       "nodes": [e.to_data() for e in evs]}, fmt(output))
    else:
        from rmctl.render.requests import evaluations_renderables

        _print(settings, [f"request {req.name}: fits on {sum(e.fits for e in evs)} of {len(evs)} node(s)",
                          *evaluations_renderables(evs)])
    raise typer.Exit(int(ExitCode.OK if any_fits else ExitCode.UNSATISFIABLE))


@handle_errors
def explain_request(
    ctx: typer.Context,
    file: RequestFile,
    root: Roots = None,
    class_dir: ClassDir = None,
    max_numa_nodes: MaxNuma = 8,
    output: Output = Format.table,
):
    """Explain a request: every selector on every device (true/false/error), why each resource fits or not.

    Exit 0 when it fits, 4 when it does not (as evaluate).

    Example: rmctl request explain train.yaml --class-dir ./classes
    """
    from rmctl.errors import ExitCode
    from rmctl.planning.requests import evaluate

    settings = ctx.obj
    req, classes = _load(file, class_dir)
    nodes = _nodes(settings, root)
    evs = [evaluate(n, req, classes, reserved=_reserved(settings, n), max_numa_nodes=max_numa_nodes) for n in nodes]
    if fmt(output) != "table":
        from rmctl.cli.output import emit

        if len(evs) == 1:
            emit("RequestExplanation", evs[0].to_data(explain=True), fmt(output))
        else:
            emit("RequestExplanationList", {"request": req.name, "fits": any(e.fits for e in evs),
                                            "nodes": [e.to_data(explain=True) for e in evs]}, fmt(output))
    else:
        from rmctl.render.requests import evaluation_renderables

        for ev in evs:
            _print(settings, evaluation_renderables(ev, explain=True))
    raise typer.Exit(int(ExitCode.OK if any(e.fits for e in evs) else ExitCode.UNSATISFIABLE))


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
