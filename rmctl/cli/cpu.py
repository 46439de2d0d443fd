"""`rmctl cpu`: reserve CPUs the kubelet's way, list, release, reconcile, pin, run, cpusets.

Exit codes: 2 bad input (cpulists, unknown --option, counts < 1); 4 not
enough CPUs meeting the constraints (the error names the constraint and
the closest fit); 5 lock timeout, name clash, corrupt or foreign state;
6 not permitted (checked before anything is written).
"""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.complete import (
    choices,
    complete_numa_list,
    complete_numa_nodes,
    complete_pci_addresses,
    complete_reservations,
)
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, Watch, fmt

cpu_app = typer.Typer(name="cpu", help="Reserve CPUs (the kubelet's static policy), pin processes, make cpusets.",
                      no_args_is_help=True, rich_markup_mode=None)


def register(app) -> None:
    """Add ``rmctl cpu ...`` to the root app."""
    app.add_typer(cpu_app, name="cpu")


# -- completion of live values (rmctl.cli.complete: one file or directory per <Tab>) --------------
#: the kubelet CPU Manager policy options --option takes (rmctl.planning.cpus.parse_options)
_OPTION_NAMES = ("full-pcpus-only", "distribute-cpus-across-numa", "align-by-socket",
                 "distribute-cpus-across-cores", "prefer-align-cpus-by-uncorecache", "strict-cpu-reservation")
_complete_option = choices(*_OPTION_NAMES)
_complete_partition = choices("isolated", "root")
_complete_reservation, _complete_numa = complete_reservations, complete_numa_nodes
_complete_numa_list, _complete_pci = complete_numa_list, complete_pci_addresses


ReservationName = Annotated[str, typer.Argument(help="Reservation name.", autocompletion=_complete_reservation)]


# -- shared options --------------------------------------------------------------------
Count = Annotated[int | None, typer.Option("--count", "-n", help="How many CPUs.")]
Cpus = Annotated[str | None, typer.Option("--cpus", help="Exactly these CPUs (kernel list syntax, e.g. 2-3,8).")]
Numa = Annotated[int | None, typer.Option("--numa", help="Only CPUs of this NUMA node.",
                                             autocompletion=_complete_numa)]
Socket = Annotated[int | None, typer.Option("--socket", help="Only CPUs of this socket (physical package id).")]
Near = Annotated[str | None, typer.Option("--near", metavar="PCI_ADDRESS", autocompletion=_complete_pci,
                                             help="Only CPUs local to this PCI device (its NUMA node, or its local_cpulist).")]
From = Annotated[str | None, typer.Option("--from", metavar="CPULIST", help="Choose only among these CPUs.")]
PreferNuma = Annotated[str | None, typer.Option("--prefer-numa", metavar="NODES", autocompletion=_complete_numa_list,
                                                   help="Soft NUMA affinity (the Topology Manager's): these nodes first, the rest elsewhere.")]
Opt = Annotated[list[str] | None, typer.Option("--option", metavar="NAME[=VALUE]", autocompletion=_complete_option,
                                                  help="kubelet CPU Manager policy option: full-pcpus-only, distribute-cpus-across-numa, "
                                                       "align-by-socket, distribute-cpus-across-cores, prefer-align-cpus-by-uncorecache, "
                                                       "strict-cpu-reservation (keep the CPUs from every pod: export kubelet-config requires the option).")]


#: --force of the commands that would otherwise refuse the kubelet's exclusive CPUs
Force = Annotated[bool, typer.Option("--force", help="Take CPUs the kubelet gave a pod exclusively anyway (recorded).")]
#: --force of cpu pin: the kubelet's CPUs, and CPUs another owner's reservation holds
PinForce = Annotated[bool, typer.Option("--force", help="Pin on CPUs another owner's reservation holds, or the kubelet gave a pod exclusively, anyway.")]


def _state(settings) -> dict:
    """Return the state dir options every cpu use case takes."""
    return {"state_dir": settings.state_dir, "lock_timeout": settings.lock_timeout}


def _text(settings, outcome) -> None:
    from rmctl.cli.output import print_text

    print_text(settings, outcome)


# -- reserve ------------------------------------------------------------------------------
@cpu_app.command("reserve")
@handle_errors
def reserve(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Reservation name.")],
    count: Count = None,
    cpus: Cpus = None,
    numa: Numa = None,
    socket: Socket = None,
    near: Near = None,
    from_: From = None,
    prefer_numa: PreferNuma = None,
    option: Opt = None,
    owner_pid: Annotated[int | None, typer.Option("--owner-pid", help="Drop the reservation (on reconcile) once this process ends.")] = None,
    force: Force = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Reserve CPUs exclusively, chosen as the kubelet's static policy would (or given with --cpus).

    Never chooses CPUs the kubelet gave a pod exclusively; --cpus naming
    them exits 5 unless --force (recorded in the reservation).  CPUs of the
    kubelet's shared pool are warned about.
    """
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    finish(s, ops.reserve(s.root, name=name, count=count, cpus=cpus, numa=numa, socket=socket, near=near,
                          from_=from_, prefer_numa=prefer_numa, options=option or (), owner_pid=owner_pid,
                          dry_run=dry_run, kubelet_root=s.kubelet_root, force=force, **_state(s)), fmt(output),
           table=_text)


# -- release ----------------------------------------------------------------------------------
@cpu_app.command("release")
@handle_errors
def release(
    ctx: typer.Context,
    name: ReservationName,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Release a reservation (and remove its cpuset cgroup).

    A reservation with a cgroup is released on this machine only; --dry-run
    plans it for a snapshot --root too (the same as 'rmctl request release').
    """
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    finish(s, ops.release(s.root, name=name, dry_run=dry_run, **_state(s)), fmt(output), table=_text)


# -- list ------------------------------------------------------------------------------------------
@cpu_app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    output: Output = Format.table,
    watch: Watch = None,
):
    """Show every CPU (free, system, reserved by whom, offline, isolated) and every reservation.

    --watch [SECONDS] redraws it on a terminal until Ctrl-C.
    """
    from rmctl.cli.output import finish, show
    from rmctl.ops import cpu as ops

    s = ctx.obj

    def outcome():
        return ops.list_cpus(s.root, kubelet_root=s.kubelet_root, verbose=s.verbose, **_state(s))

    if watch is not None:
        from rmctl.cli import watch as w

        w.check(watch, fmt(output))
        w.loop(watch, "rmctl cpu list", lambda: show(s, outcome(), "table", table=_list_table))
        return
    finish(s, outcome(), fmt(output), table=_list_table)


def _list_table(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render.cpu import list_tables, occupants_table

    views, cpus, gone, now = outcome.view
    con = console(settings)
    for t in list_tables(views, cpus, gone, now):
        con.print(t)
    if outcome.data.get("occupants"):
        con.print(occupants_table(outcome.data["occupants"], verbose=settings.verbose))


# -- reconcile ----------------------------------------------------------------------------------------
@cpu_app.command("reconcile")
@handle_errors
def reconcile(
    ctx: typer.Context,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Drop reservations whose owner process is gone; report those holding offline or missing CPUs."""
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    finish(s, ops.reconcile(s.root, dry_run=dry_run, **_state(s)), fmt(output), table=_text)


# -- reserve-system ------------------------------------------------------------------------------------
@cpu_app.command("reserve-system")
@handle_errors
def reserve_system(
    ctx: typer.Context,
    count: Count = None,
    cpus: Cpus = None,
    clear: Annotated[bool, typer.Option("--clear", help="Have no system CPUs any more (they become free to reserve).")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Set the system CPUs (the kubelet's reservedSystemCPUs): never handed out exclusively; --clear removes them.

    Example: rmctl cpu reserve-system --count 1
    """
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    finish(s, ops.reserve_system(s.root, count=count, cpus=cpus, clear=clear, dry_run=dry_run, **_state(s)),
           fmt(output), table=_text)


# -- pin -------------------------------------------------------------------------------------------------------
@cpu_app.command("pin")
@handle_errors
def pin(
    ctx: typer.Context,
    pid: Annotated[int, typer.Argument(help="Process to pin (every thread).")],
    reservation: Annotated[str | None, typer.Option("--reservation", "-r", help="Pin to this reservation's CPUs.", autocompletion=_complete_reservation)] = None,
    cpus: Cpus = None,
    force: PinForce = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Set the CPU affinity of every thread of a process.

    --cpus that another owner's reservation holds, or that the kubelet gave
    a pod exclusively, exit 5 unless --force (a warning then names whose
    they are); --reservation NAME joins a reservation.  The kubelet's
    shared pool is warned about.
    """
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    finish(s, ops.pin(s.root, pid=pid, reservation=reservation, cpus=cpus, dry_run=dry_run,
                      kubelet_root=s.kubelet_root, force=force, **_state(s)),
           fmt(output), table=_text)


# -- run ---------------------------------------------------------------------------------------------------------
@cpu_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors(wrapper=True)
def run(
    ctx: typer.Context,
    command: Annotated[list[str] | None, typer.Argument(help="The command and its arguments, after --.")] = None,
    reservation: Annotated[str | None, typer.Option("--reservation", "-r", help="Run on this reservation's CPUs.", autocompletion=_complete_reservation)] = None,
    count: Count = None,
    numa: Numa = None,
    socket: Socket = None,
    near: Near = None,
    from_: From = None,
    option: Opt = None,
    membind: Annotated[bool, typer.Option("--membind", help="Bind memory to the reservation's NUMA nodes.")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Run a command pinned to a reservation (or to CPUs reserved for it, released when it ends).

    The command gets RMCTL_CPUS (and RMCTL_RESERVATION) in its environment;
    signals are forwarded; rmctl exits with the command's status (a signal
    N: 128+N).  As env and timeout: 125 when rmctl itself failed (bad
    option, no such reservation, not enough CPUs...), 126 when the command
    cannot be executed, 127 when it is not found.  -o json|yaml applies to
    the --dry-run plan and to rmctl's own errors; the command's output is
    its own.
    """
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    argv = list(command or []) + list(ctx.args or [])
    finish(s, ops.run(s.root, argv=argv, reservation=reservation, count=count, numa=numa, socket=socket,
                      near=near, from_=from_, options=option or (), membind=membind, dry_run=dry_run,
                      **_state(s)), fmt(output), table=_text)


# -- cpuset ---------------------------------------------------------------------------------------------------------
@cpu_app.command("cpuset")
@handle_errors
def cpuset(
    ctx: typer.Context,
    name: ReservationName,
    partition: Annotated[str | None, typer.Option("--partition", autocompletion=_complete_partition,
                                                                              help="Make the cgroup a cpuset partition (v2): isolated or root.")] = None,
    move: Annotated[int | None, typer.Option("--move", metavar="PID", help="Move this process into the cgroup.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", metavar="CGROUP",
                                                  help="Make the cgroup below this one (relative to the cpuset mount, e.g. rmctl.slice); default: the mount's root.")] = None,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Create a cpuset cgroup (rmctl-NAME) holding a reservation's CPUs and NUMA memory nodes.

    cgroup v2 when the v2 mount offers cpuset (+cpuset is enabled in every
    ancestor's cgroup.subtree_control), else the v1 cpuset hierarchy.  A
    partition the kernel reports invalid is undone and exits 1 with the
    kernel's reason.  With --dry-run it also plans for a snapshot --root.
    """
    from rmctl.cli.output import finish
    from rmctl.ops import cpu as ops

    s = ctx.obj
    finish(s, ops.cpuset(s.root, name=name, partition=partition, move=move, parent=parent, dry_run=dry_run,
                         **_state(s)), fmt(output), table=_text)
