"""`rmctl request evaluate|explain|release`: does a ResourceRequest fit this node (or those snapshots)?

The input is rmctl's ResourceRequest or Kubernetes manifests (DeviceClass,
ResourceClaim, ResourceClaimTemplate, a Pod or a workload), in one or
several files; for pods the answer is the kubelet's, under the policies
of ``--kubelet-config`` and the kubelet flags below.
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

from typing import Annotated

import typer

from rmctl.cli.classes import ClassDir
from rmctl.cli.complete import choices, complete_reservations
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, FleetFormat, FleetOutput, Format, Output, fmt

RequestFiles = Annotated[list[str], typer.Argument(
    metavar="FILE...", help="A ResourceRequest file, or Kubernetes manifests (DeviceClass, ResourceClaim, "
                            "ResourceClaimTemplate, Pod, Deployment...) in one or several files ('-' for stdin).")]
MaxNuma = Annotated[int | None, typer.Option(
    "--max-allowable-numa-nodes", metavar="N", min=8, max=12,
    help="The kubelet's Topology Manager option (same as --topology-option max-allowable-numa-nodes=N): "
         "nodes with more NUMA nodes are refused under any policy but none (hints cover every NUMA mask, "
         "2^N). 8 to 12; default 8.")]


Jobs = Annotated[int | None, typer.Option(
    "--jobs", "-j", metavar="N", min=1,
    help="Read at most N nodes at once, each in its own process (default: the CPUs this process may use).")]
RootsFrom = Annotated[str | None, typer.Option(
    "--roots-from", metavar="FILE",
    help="Also evaluate on every root listed in FILE, one per line ('-': standard input; # comments). "
         "A --root that is a directory of snapshots stands for every snapshot in it.")]


_complete_reservation, _choices = complete_reservations, choices


KubeletConfig = Annotated[str | None, typer.Option(
    "--kubelet-config", metavar="FILE",
    help="The kubelet's KubeletConfiguration (kubeadm: /var/lib/kubelet/config.yaml): its CPU, Memory and "
         "Topology Manager policies, reserved CPUs and memory apply to Pods; flags override it.")]
CpuPolicy = Annotated[str | None, typer.Option(
    "--cpu-manager-policy", metavar="none|static", autocompletion=_choices("none", "static"),
    help="The kubelet's CPU Manager policy (default none): static gives Guaranteed pods' whole CPUs exclusively.")]
CpuOption = Annotated[list[str] | None, typer.Option(
    "--cpu-option", metavar="NAME[=VALUE]",
    autocompletion=_choices("full-pcpus-only", "distribute-cpus-across-numa", "align-by-socket",
                            "distribute-cpus-across-cores", "strict-cpu-reservation",
                            "prefer-align-cpus-by-uncorecache"),
    help="A CPU Manager policy option (cpuManagerPolicyOptions), repeatable: full-pcpus-only, "
         "distribute-cpus-across-numa, align-by-socket, distribute-cpus-across-cores, strict-cpu-reservation, "
         "prefer-align-cpus-by-uncorecache.")]
ReservedCpus = Annotated[str | None, typer.Option(
    "--reserved-cpus", metavar="LIST", help="The kubelet's reservedSystemCPUs (kernel list syntax, e.g. 0-1).")]
TopologyPolicy = Annotated[str | None, typer.Option(
    "--topology-policy", metavar="POLICY",
    autocompletion=_choices("none", "best-effort", "restricted", "single-numa-node"),
    help="The Topology Manager policy: none, best-effort, restricted or single-numa-node "
         "(overrides a ResourceRequest's spec.topologyPolicy).")]
TopologyScope = Annotated[str | None, typer.Option(
    "--topology-scope", metavar="container|pod", autocompletion=_choices("container", "pod"),
    help="The Topology Manager scope (default container): align each container, or the pod as a whole.")]
TopologyOption = Annotated[list[str] | None, typer.Option(
    "--topology-option", metavar="NAME=VALUE",
    autocompletion=_choices("prefer-closest-numa-nodes=true", "max-allowable-numa-nodes="),
    help="A Topology Manager policy option, repeatable: prefer-closest-numa-nodes=true, "
         "max-allowable-numa-nodes=N.")]
MemoryPolicy = Annotated[str | None, typer.Option(
    "--memory-manager-policy", metavar="None|Static", autocompletion=_choices("None", "Static"),
    help="The kubelet's Memory Manager policy (default None): Static binds Guaranteed pods' memory and "
         "hugepages to NUMA nodes.")]
ReservedMemory = Annotated[list[str] | None, typer.Option(
    "--reserved-memory", metavar="N:memory=SIZE[,...]",
    help="The kubelet's reservedMemory, as its --reserved-memory flag: 0:memory=1Gi (repeatable, or ';' between "
         "nodes); the Static Memory Manager needs it.")]


def _flags(cpu_policy, cpu_option, reserved_cpus, topology_policy, topology_scope, topology_option,
           max_numa_nodes, memory_policy, reserved_memory):
    from rmctl.ops.requests import kubelet_flags

    return kubelet_flags(cpu_manager_policy=cpu_policy, cpu_options=tuple(cpu_option or ()),
                         reserved_cpus=reserved_cpus, topology_policy=topology_policy,
                         topology_scope=topology_scope, topology_options=tuple(topology_option or ()),
                         max_numa_nodes=max_numa_nodes, memory_manager_policy=memory_policy,
                         reserved_memory=tuple(reserved_memory or ()))


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="request", no_args_is_help=True, rich_markup_mode=None,
                      help="Evaluate, explain and reserve resource requests (CPUs, memory, hugepages, devices).")
    sub.command("evaluate")(evaluate_request)
    sub.command("explain")(explain_request)
    sub.command("release")(release_request)
    sub.command("list")(list_requests)
    app.add_typer(sub, name="request")


@handle_errors
def evaluate_request(
    ctx: typer.Context,
    files: RequestFiles,
    class_dir: ClassDir = None,
    reserve: Annotated[str | None, typer.Option(
        "--reserve", metavar="NAME",
        help="Reserve the result under NAME (CPUs and devices in the state file; hugepage pages recorded).")] = None,
    dry_run: DryRun = False,
    kubelet_config: KubeletConfig = None,
    cpu_policy: CpuPolicy = None,
    cpu_option: CpuOption = None,
    reserved_cpus: ReservedCpus = None,
    topology_policy: TopologyPolicy = None,
    topology_scope: TopologyScope = None,
    topology_option: TopologyOption = None,
    max_numa_nodes: MaxNuma = None,
    memory_policy: MemoryPolicy = None,
    reserved_memory: ReservedMemory = None,
    jobs: Jobs = None,
    roots_from: RootsFrom = None,
    output: FleetOutput = FleetFormat.table,
):
    """Evaluate a request: fits or not, NUMA nodes, CPUs, hugepages and devices chosen.

    A ResourceRequest, or Kubernetes manifests: DeviceClasses and
    ResourceClaims evaluate as a request; a Pod (or a Deployment's pod
    template) gets the kubelet's answer: admitted, or the error it would
    raise (TopologyAffinityError, SMTAlignmentError, insufficient resources).

    Exit 0 when it fits (every pod admitted), 4 when it does not.  Many
    nodes (--root repeated, a directory of snapshots, --roots-from): read
    in parallel (--jobs), one line per node as each is known (-o table or
    jsonl; json and yaml print one document at the end); exit 0 when it
    fits on any node, 4 when it fits on none, else the first unreadable
    node's status (3).

    Example: rmctl request evaluate pod.yaml claim.yaml --cpu-manager-policy static --reserved-cpus 0 --topology-policy single-numa-node
    """
    settings = ctx.obj
    flags = _flags(cpu_policy, cpu_option, reserved_cpus, topology_policy, topology_scope, topology_option,
                   max_numa_nodes, memory_policy, reserved_memory)
    if reserve is not None:
        from rmctl.cli import request_ledger

        root, roots = settings.several_roots()
        return request_ledger.reserve(settings, reserve, files, root=root, roots=roots, class_dir=class_dir,
                                      dry_run=dry_run, output=output, max_numa_nodes=max_numa_nodes or 8)
    from rmctl.cli import evaluate
    from rmctl.cli.output import end

    end(evaluate.run(settings, files, class_dir=class_dir, fmt=fmt(output), jobs=jobs, roots_from=roots_from,
                     flags=flags, kubelet_config=kubelet_config, table=_evaluations_table))


def _evaluations_table(settings, outcome) -> None:
    from rmctl.cli.output import print_renderables
    from rmctl.render.requests import evaluation_renderables, evaluations_renderables

    if outcome.kind.startswith("Pod"):
        from rmctl.render.pods import pods_renderables

        print_renderables(settings, pods_renderables(outcome.view, outcome.data))
        return
    evs = outcome.view
    if len(evs) == 1:
        print_renderables(settings, evaluation_renderables(evs[0]))
        return
    print_renderables(settings, [f"request {outcome.data['request']}: fits on {sum(e.fits for e in evs)} "
                                 f"of {len(evs)} node(s)", *evaluations_renderables(evs)])


@handle_errors
def list_requests(ctx: typer.Context, output: Output = Format.table):
    """List the reservations made by 'request evaluate --reserve' (or a profile's spec.requests).

    Each with its CPUs, NUMA nodes, devices, hugepage pages and memory per
    node; 'rmctl cpu list' shows every reservation's CPUs.

    Example: rmctl request list -o json
    """
    from rmctl.cli.output import finish
    from rmctl.ops.request_reservations import list_requests as list_op

    settings = ctx.obj
    finish(settings, list_op(settings.root, settings.state_dir, lock_timeout=settings.lock_timeout), fmt(output),
           table=_list_table)


def _list_table(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render.requests import reservations_table

    views, now = outcome.view
    console(settings).print(reservations_table(views, now))


@handle_errors
def explain_request(
    ctx: typer.Context,
    files: RequestFiles,
    class_dir: ClassDir = None,
    kubelet_config: KubeletConfig = None,
    cpu_policy: CpuPolicy = None,
    cpu_option: CpuOption = None,
    reserved_cpus: ReservedCpus = None,
    topology_policy: TopologyPolicy = None,
    topology_scope: TopologyScope = None,
    topology_option: TopologyOption = None,
    max_numa_nodes: MaxNuma = None,
    memory_policy: MemoryPolicy = None,
    reserved_memory: ReservedMemory = None,
    jobs: Jobs = None,
    roots_from: RootsFrom = None,
    output: FleetOutput = FleetFormat.table,
):
    """Explain a request: every selector on every device (true/false/error), why each resource fits or not.

    Takes what evaluate takes (a ResourceRequest or Kubernetes manifests, the kubelet's policies).
    Exit 0 when it fits, 4 when it does not (as evaluate); --root may be repeated (as evaluate).

    Example: rmctl request explain deviceclass.yaml claim.yaml --root gpu-node.tar.gz
    """
    from rmctl.cli import evaluate
    from rmctl.cli.output import end

    settings = ctx.obj
    flags = _flags(cpu_policy, cpu_option, reserved_cpus, topology_policy, topology_scope, topology_option,
                   max_numa_nodes, memory_policy, reserved_memory)
    end(evaluate.run(settings, files, explain=True, class_dir=class_dir, fmt=fmt(output), jobs=jobs,
                     roots_from=roots_from, flags=flags, kubelet_config=kubelet_config, table=_explanations_table))


def _explanations_table(settings, outcome) -> None:
    from rmctl.cli.output import print_renderables
    from rmctl.render.requests import evaluation_renderables

    if outcome.kind.startswith("Pod"):
        from rmctl.render.pods import pods_renderables

        print_renderables(settings, pods_renderables(outcome.view, outcome.data, explain=True))
        return
    for ev in outcome.view:
        print_renderables(settings, evaluation_renderables(ev, explain=True))


@handle_errors
def release_request(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Reservation name (as given to --reserve).",
                                        autocompletion=_complete_reservation)],
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Release a reservation made by 'request evaluate --reserve' (the same as 'rmctl cpu release').

    Example: rmctl request release train --dry-run
    """
    from rmctl.cli import request_ledger

    return request_ledger.release(ctx.obj, name, dry_run=dry_run, output=output)
