"""`rmctl cpu`: reserve CPUs the kubelet's way, list, release, reconcile, pin, run, cpusets.

Exit codes: 2 bad input (cpulists, unknown --option, counts < 1); 4 not
enough CPUs meeting the constraints (the error names the constraint and
the closest fit); 5 lock timeout, name clash, corrupt or foreign state;
6 not permitted (checked before anything is written).
"""

from __future__ import annotations

from typing import List, Optional

import typer
from typing import Annotated

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, fmt
from rmctl.model.fingerprint import fingerprint

cpu_app = typer.Typer(name="cpu", help="Reserve CPUs (the kubelet's static policy), pin processes, make cpusets.",
                      no_args_is_help=True, rich_markup_mode=None)


def register(app) -> None:
    """Add ``rmctl cpu ...`` to the root app."""
    app.add_typer(cpu_app, name="cpu")


# -- completion of live values (rmctl.cli.complete: one file or directory per <Tab>) --------------
def _complete_reservation(ctx: typer.Context, incomplete: str) -> List[str]:
    from rmctl.cli.complete import complete_reservations

    return complete_reservations(ctx, incomplete)


def _complete_numa(ctx: typer.Context, incomplete: str) -> List[str]:
    from rmctl.cli.complete import complete_numa_nodes

    return complete_numa_nodes(ctx, incomplete)


def _complete_pci(ctx: typer.Context, incomplete: str) -> List[str]:
    from rmctl.cli.complete import complete_pci_addresses

    return complete_pci_addresses(ctx, incomplete)


#: the kubelet CPU Manager policy options --option takes (rmctl.planning.cpus.parse_options)
_OPTION_NAMES = ("full-pcpus-only", "distribute-cpus-across-numa", "align-by-socket",
                 "distribute-cpus-across-cores", "prefer-align-cpus-by-uncorecache")


def _complete_option(incomplete: str) -> List[str]:
    return [o for o in _OPTION_NAMES if o.startswith(incomplete)]


def _complete_partition(incomplete: str) -> List[str]:
    return [p for p in ("isolated", "root") if p.startswith(incomplete)]


ReservationName = Annotated[str, typer.Argument(help="Reservation name.", autocompletion=_complete_reservation)]


# -- shared options --------------------------------------------------------------------
Count = Annotated[Optional[int], typer.Option("--count", "-n", help="How many CPUs.")]
Cpus = Annotated[Optional[str], typer.Option("--cpus", help="Exactly these CPUs (kernel list syntax, e.g. 2-3,8).")]
Numa = Annotated[Optional[int], typer.Option("--numa", help="Only CPUs of this NUMA node.",
                                             autocompletion=_complete_numa)]
Socket = Annotated[Optional[int], typer.Option("--socket", help="Only CPUs of this socket (physical package id).")]
Near = Annotated[Optional[str], typer.Option("--near", metavar="PCI_ADDRESS", autocompletion=_complete_pci,
                                             help="Only CPUs local to this PCI device (its NUMA node, or its local_cpulist).")]
From = Annotated[Optional[str], typer.Option("--from", metavar="CPULIST", help="Choose only among these CPUs.")]
PreferNuma = Annotated[Optional[str], typer.Option("--prefer-numa", metavar="NODES",
                                                   help="Soft NUMA affinity (the Topology Manager's): these nodes first, the rest elsewhere.")]
Opt = Annotated[Optional[List[str]], typer.Option("--option", metavar="NAME[=VALUE]", autocompletion=_complete_option,
                                                  help="kubelet CPU Manager policy option: full-pcpus-only, distribute-cpus-across-numa, "
                                                       "align-by-socket, distribute-cpus-across-cores, prefer-align-cpus-by-uncorecache.")]


def _ledger(settings, command: str):
    from rmctl.ledger import Ledger

    return Ledger(settings.state_dir, lock_timeout=settings.lock_timeout, command=command)


def _cpulist(text: str, what: str):
    from rmctl.cpuset import CpuSet

    return CpuSet.parse(text)


def _count(n: int | None) -> int | None:
    from rmctl.errors import UsageError

    if n is not None and n <= 0:
        raise UsageError(f"--count must be at least 1, not {n}")
    return n


def _constraints(settings, node, kube, *, numa, socket, near, from_, prefer_numa):
    """Return planning Constraints from the options, validated against the node."""
    from rmctl.cpuset import CpuSet
    from rmctl.errors import UsageError
    from rmctl.planning.cpus import Constraints

    if numa is not None and numa not in kube.by_node:
        raise UsageError(f"no NUMA node {numa} with online CPUs", hint=f"NUMA nodes: {sorted(kube.by_node)}")
    if socket is not None and socket not in kube.by_socket:
        raise UsageError(f"no socket {socket}", hint=f"sockets: {sorted(kube.by_socket)}")
    near_cpus = None
    if near is not None:
        near, near_cpus = _near(settings.root, kube, near)
    pref = None
    if prefer_numa is not None:
        pref = tuple(CpuSet.parse(prefer_numa))
    return Constraints(numa=numa, socket=socket, near=near, near_cpus=near_cpus,
                       cpus_from=CpuSet.parse(from_) if from_ is not None else None, prefer_numa=pref)


def _near(root, kube, address: str):
    """Return (address, CPUs local to the PCI device): its NUMA node's, else its local CPUs.

    The device is read by the devices model (rmctl.discovery.pci.read_device,
    the same reading as ``rmctl devices show``); the kernel's numa_node -1
    means unknown, and then local_cpulist (or the local_cpus mask) decides.
    """
    import difflib

    from rmctl.cpuset import CpuSet
    from rmctl.discovery import paths
    from rmctl.discovery.pci import read_device
    from rmctl.errors import UsageError
    from rmctl.model.pci import PciAddress

    addr = PciAddress.parse(address)
    name = str(addr)
    dev = read_device(root, name, addr, []) if root.exists(paths.pci_device(name)) else None
    if dev is None:
        known = root.listdir(paths.SYS_PCI_DEVICES)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        raise UsageError(f"no PCI device {name}",
                         hint=("did you mean " + ", ".join(close) + "?") if close else "see rmctl devices list")
    online = CpuSet(kube.details)
    if dev.numa_node is not None and dev.numa_node in kube.by_node:
        return name, CpuSet(kube.by_node[dev.numa_node])
    if dev.local_cpus is not None and dev.local_cpus & online:
        return name, dev.local_cpus & online
    return name, online


def _print_plan(plan) -> None:
    import sys

    from rmctl.render.plan import plan_text

    sys.stdout.write(plan_text(plan))


def _plan_data(plan):
    return plan.to_data() if plan is not None else None


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
    owner_pid: Annotated[Optional[int], typer.Option("--owner-pid", help="Drop the reservation (on reconcile) once this process ends.")] = None,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Reserve CPUs exclusively, chosen as the kubelet's static policy would (or given with --cpus)."""
    from rmctl import reservations as rsv
    from rmctl.errors import UsageError
    from rmctl.planning.cpus import KubeTopology, parse_options

    settings = ctx.obj
    rsv.check_name(name)
    _count(count)
    if (count is None) == (cpus is None):
        raise UsageError("give exactly one of --count and --cpus")
    opts = parse_options(option or [])
    explicit = _cpulist(cpus, "--cpus") if cpus is not None else None
    if explicit is not None and any(v is not None for v in (numa, socket, near, from_, prefer_numa)):
        raise UsageError("--cpus takes the CPUs as given: it cannot be combined with --numa, --socket, --near, --from")
    node = settings.node()
    kube = KubeTopology.from_topology(node.topology)
    cons = _constraints(settings, node, kube, numa=numa, socket=socket, near=near, from_=from_,
                        prefer_numa=prefer_numa)
    owner = None
    if owner_pid is not None:
        settings.require_live("record an owner process", dry_run_helps=False)
        owner = rsv.owner_of(settings.root, owner_pid)
        if owner is None:
            raise UsageError(f"no process {owner_pid}")
    ledger = _ledger(settings, f"rmctl cpu reserve {name}")
    with ledger.transaction(fingerprint(node), dry_run=dry_run, command=f"cpu reserve {name}") as txn:
        rec = rsv.reserve(node.topology, txn.state, name, count=count, cpus=explicit, options=opts,
                          constraints=cons, owner=owner, kube=kube)
        txn.summary = f"reserve {name}: CPUs {rec['cpus']}"
    view = rsv.reservation_view(rec)
    f = fmt(output)
    if f != "table":
        from rmctl.cli.output import emit

        data = {"reservation": view, "dry_run": dry_run}
        if dry_run:
            data["plan"] = _plan_data(txn.plan)
        emit("CpuReservation", data, f)
        return
    import sys

    sys.stdout.write(_reserve_line(node.topology, rec, dry_run) + "\n")
    if dry_run:
        _print_plan(txn.plan)


def _reserve_line(topo, rec, dry_run) -> str:
    """Return `cpu reserve`'s human line: count, cpulist, NUMA nodes, sockets, cores, owner."""
    from rmctl.cpuset import CpuSet

    cpus = CpuSet.parse(rec["cpus"])
    nodes = ",".join(str(n) for n in rec["nodes"]) or "-"
    # sockets by the kernel's physical_package_id, as --socket takes them
    pkgs = sorted({topo.cpus[c].package_id if topo.cpus[c].package_id is not None else topo.cpus[c].package
                   for c in cpus if c in topo.cpus and topo.cpus[c].package is not None})
    cores = {(topo.cpus[c].package, topo.cpus[c].core) for c in cpus if c in topo.cpus}
    owner = rec.get("owner")
    who = f"; owner PID {owner['pid']} ({owner.get('command') or '?'})" if owner else ""
    return (f"{'would reserve' if dry_run else 'reserved'} {rec['name']}: {len(cpus)} CPU{'s' if len(cpus) != 1 else ''} "
            f"{rec['cpus']} on NUMA node{'s' if len(rec['nodes']) != 1 else ''} {nodes}, "
            f"socket{'s' if len(pkgs) != 1 else ''} {','.join(map(str, pkgs)) or '-'}, "
            f"{len(cores)} core{'s' if len(cores) != 1 else ''}{who}")


# -- release ----------------------------------------------------------------------------------
@cpu_app.command("release")
@handle_errors
def release(
    ctx: typer.Context,
    name: ReservationName,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Release a reservation (and remove its cpuset cgroup)."""
    from rmctl.planning import cgroups
    from rmctl import reservations as rsv

    settings = ctx.obj
    rsv.check_name(name)
    node = settings.node()
    ledger = _ledger(settings, f"rmctl cpu release {name}")
    with ledger.transaction(fingerprint(node), dry_run=dry_run, host=_host(settings),
                            command=f"cpu release {name}") as txn:
        rec = rsv.release(txn.state, name)
        if rec.get("cgroup"):
            if not dry_run:
                settings.require_live("remove a cgroup")
            txn.before = cgroups.remove_actions(rec["cgroup"])
        txn.summary = f"release {name}"
    _done("CpuRelease", {"released": rsv.reservation_view(rec), "dry_run": dry_run}, output, txn, dry_run,
          f"{'would release' if dry_run else 'released'} {name}: CPUs {rec['cpus']}")


def _host(settings):
    from rmctl.ops.hosts import state_host

    return state_host(settings.root)


def _done(kind, data, output, txn, dry_run, line):
    import sys

    f = fmt(output)
    if f != "table":
        from rmctl.cli.output import emit

        if dry_run:
            data["plan"] = _plan_data(txn.plan)
        emit(kind, data, f)
        return
    sys.stdout.write(line + "\n")
    if dry_run:
        _print_plan(txn.plan)


# -- list ------------------------------------------------------------------------------------------
@cpu_app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    output: Output = Format.table,
):
    """Show every CPU (free, system, reserved by whom, offline, isolated) and every reservation."""
    from rmctl import reservations as rsv

    settings = ctx.obj
    node = settings.node()
    state = _ledger(settings, "rmctl cpu list").load(fingerprint(node))
    topo = node.topology
    views = [rsv.reservation_view(state["reservations"][n]) for n in sorted(state["reservations"])]
    cpus = rsv.cpu_states(topo, state)
    f = fmt(output)
    data = {"system_cpus": state.get("system_cpus", ""), "free_cpus": rsv.free_cpus(topo, state).to_list(),
            "reservations": views, "cpus": cpus}
    if f != "table":
        from rmctl.cli.output import emit

        emit("CpuList", data, f)
        return
    from rmctl.cli.output import console

    alive = (lambda o: rsv.owner_alive(settings.root, o)) if settings.root.is_live else None
    for t in _list_tables(views, cpus, alive):
        console(settings).print(t)


#: order of the CPU states in the table: what is taken first, free last
_STATE_ORDER = {"system": 0, "reserved": 1, "isolated": 2, "not-allowed": 3, "offline": 4, "free": 5}


def _list_tables(views, cpus, alive=None):
    """Return the rich tables of `cpu list`: reservations, then CPUs grouped by state as ranges.

    A 256-CPU node stays a handful of rows: one per state (one per
    reservation), each with its count, cpulist and NUMA nodes.  ``alive``
    (live roots only) marks owners that are gone (reconcile drops them).
    """
    from rich.table import Table

    from rmctl.cpuset import CpuSet

    t = Table(title=f"reservations ({len(views)})", title_justify="left") if views else "no reservations"
    for col in ("name", "cpus", "count", "numa", "owner", "age", "cgroup"):
        if views:
            t.add_column(col, justify="right" if col == "count" else "left")
    for v in views:
        owner = v.get("owner")
        who = "-"
        if owner:
            who = f"{owner['pid']} {(owner.get('command') or '')[:24]}".rstrip()
            if alive is not None and not alive(owner):
                who += " (gone)"
        cg = v.get("cgroup") or {}
        where = "-"
        if cg.get("path"):
            where = f"{cg['path']} (v{cg.get('version')}{', ' + cg['partition'] if cg.get('partition') else ''})"
        t.add_row(v["name"], v["cpus"] or "-", str(len(CpuSet.parse(v["cpus"] or ""))),
                  ",".join(map(str, v.get("nodes") or [])) or "-", who, _age(v["age_seconds"]), where)
    groups: dict[tuple, list[dict]] = {}
    for c in cpus:
        key = (_STATE_ORDER.get(c["state"], 9), c["state"], c.get("reservation") or "")
        groups.setdefault(key, []).append(c)
    t2 = Table(title=f"CPUs ({len(cpus)}): " + ", ".join(
        f"{sum(len(m) for k, m in groups.items() if k[1] == st)} {st}"
        for st in sorted({k[1] for k in groups}, key=lambda s: _STATE_ORDER.get(s, 9))), title_justify="left")
    for col in ("state", "count", "cpus", "numa"):
        t2.add_column(col, justify="right" if col == "count" else "left")
    for key in sorted(groups):
        members = groups[key]
        label = f"reserved by {key[2]}" if key[1] == "reserved" else key[1]
        isolated = [c["id"] for c in members if c.get("isolated")] if key[1] != "isolated" else []
        if isolated:
            label += f" (isolated: {CpuSet(isolated).to_list()})"
        nodes = sorted({c["node"] for c in members if c.get("node") is not None})
        t2.add_row(label, str(len(members)), CpuSet(c["id"] for c in members).to_list(),
                   CpuSet(nodes).to_list() if nodes else "-")
    return [t, t2]


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


# -- reconcile ----------------------------------------------------------------------------------------
@cpu_app.command("reconcile")
@handle_errors
def reconcile(
    ctx: typer.Context,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Drop reservations whose owner process is gone; report those holding offline or missing CPUs."""
    from rmctl.planning import cgroups
    from rmctl import reservations as rsv

    settings = ctx.obj
    node = settings.node()
    root = settings.root
    # Owners are processes of this machine; a snapshot root's are not checked.
    alive = (lambda o: rsv.owner_alive(root, o)) if root.is_live else (lambda o: True)
    ledger = _ledger(settings, "rmctl cpu reconcile")
    with ledger.transaction(fingerprint(node), dry_run=dry_run, host=_host(settings),
                            command="cpu reconcile") as txn:
        report = rsv.reconcile(node.topology, txn.state, alive)
        for rec in report["dropped"]:
            if rec.get("cgroup") and root.is_live:
                txn.before += cgroups.remove_actions(rec["cgroup"])
        txn.summary = "reconcile: drop " + (", ".join(r["name"] for r in report["dropped"]) or "nothing")
        remaining = [rsv.reservation_view(txn.state["reservations"][n]) for n in sorted(txn.state["reservations"])]
    data = {"dropped": [rsv.reservation_view(r) for r in report["dropped"]], "problems": report["problems"],
            "reservations": remaining, "dry_run": dry_run}
    lines = _reconcile_lines(report, remaining, dry_run)
    _done("CpuReconcile", data, output, txn, dry_run, "\n".join(lines))


def _reconcile_lines(report, remaining, dry_run) -> list[str]:
    """Return the human report of `cpu reconcile`: a summary line, then one line per change or problem."""
    dropped, problems = report["dropped"], report["problems"]
    kept = len(remaining)
    head = (f"reconcile: {len(dropped) + kept} reservation(s) checked, "
            f"{len(dropped)} {'to drop' if dry_run else 'dropped'}, {len(problems)} problem(s)")
    lines = [head]
    for r in dropped:
        o = r.get("owner") or {}
        lines.append(f"  {'would drop' if dry_run else 'dropped'} {r['name']}: CPUs {r['cpus']} "
                     f"(owner PID {o.get('pid')} {o.get('command') or ''} is gone)".replace("  is", " is"))
    for p in problems:
        what = f"reservation {p['name']}" if p["name"] else "the system CPUs"
        parts = [f"offline CPUs {p['offline']}" if p.get("offline") else "",
                 f"missing CPUs {p['missing']}" if p.get("missing") else ""]
        held = " and ".join(x for x in parts if x)
        fix = (f"release it and reserve again (rmctl cpu release {p['name']})" if p["name"]
               else "set them again (rmctl cpu reserve-system)")
        lines.append(f"  problem: {what} holds {held}: {fix}")
    if not dropped and not problems:
        lines.append("  nothing to do: every owner is alive and every reserved CPU is online")
    return lines


# -- reserve-system ------------------------------------------------------------------------------------
@cpu_app.command("reserve-system")
@handle_errors
def reserve_system(
    ctx: typer.Context,
    count: Count = None,
    cpus: Cpus = None,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Set the system CPUs (the kubelet's reservedSystemCPUs): never handed out exclusively."""
    from rmctl import reservations as rsv
    from rmctl.errors import UsageError

    settings = ctx.obj
    _count(count)
    if (count is None) == (cpus is None):
        raise UsageError("give exactly one of --count and --cpus")
    explicit = _cpulist(cpus, "--cpus") if cpus is not None else None
    if explicit is not None and not explicit:
        raise UsageError("--cpus names no CPU")
    node = settings.node()
    ledger = _ledger(settings, "rmctl cpu reserve-system")
    with ledger.transaction(fingerprint(node), dry_run=dry_run, command="cpu reserve-system") as txn:
        chosen = rsv.reserve_system(node.topology, txn.state, count=count, cpus=explicit)
        txn.summary = f"system CPUs {chosen.to_list()}"
    _done("CpuSystem", {"system_cpus": chosen.to_list(), "dry_run": dry_run}, output, txn, dry_run,
          f"{'would set' if dry_run else 'set'} system CPUs: {chosen.to_list()}")


# -- pin -------------------------------------------------------------------------------------------------------
def _reservation_cpus(settings, node, name: str) -> tuple[dict, str]:
    from rmctl import reservations as rsv
    from rmctl.errors import UsageError

    state = _ledger(settings, "rmctl cpu").load(fingerprint(node))
    rec = state["reservations"].get(rsv.check_name(name))
    if rec is None:
        raise UsageError(f"no reservation named {name!r}", hint="see rmctl cpu list")
    return rec, rec["cpus"]


def _check_may_signal(settings, pid: int) -> None:
    """AccessDenied (6) when we may not change another user's process (before any write)."""
    import os

    from rmctl.discovery import paths
    from rmctl.discovery.parse import parse_status_field
    from rmctl.errors import AccessDenied, UsageError

    status = settings.root.read(paths.proc_pid_file(pid, "status"))
    if status is None:
        raise UsageError(f"no process {pid}")
    uid = (parse_status_field(status, "Uid") or "").split()
    if os.geteuid() != 0 and uid and int(uid[0]) != os.geteuid():
        raise AccessDenied(f"not permitted to change process {pid} (owned by uid {uid[0]})", hint="run as root")


@cpu_app.command("pin")
@handle_errors
def pin(
    ctx: typer.Context,
    pid: Annotated[int, typer.Argument(help="Process to pin (every thread).")],
    reservation: Annotated[Optional[str], typer.Option("--reservation", "-r", help="Pin to this reservation's CPUs.", autocompletion=_complete_reservation)] = None,
    cpus: Cpus = None,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Set the CPU affinity of every thread of a process."""
    from rmctl.cpuset import CpuSet
    from rmctl.errors import UsageError
    from rmctl.execute.executor import apply
    from rmctl.execute.host import LiveHost
    from rmctl.ledger import raise_for_report
    from rmctl.model.plan import SetAffinity
    from rmctl.model.plan import Plan

    settings = ctx.obj
    if (reservation is None) == (cpus is None):
        raise UsageError("give exactly one of --reservation and --cpus")
    settings.require_live("pin a process", dry_run_helps=False)
    node = settings.node()
    if reservation is not None:
        _, target = _reservation_cpus(settings, node, reservation)
    else:
        want = _cpulist(cpus, "--cpus")
        bad = want - node.topology.online_cpus()
        if not want or bad:
            raise UsageError(f"--cpus {cpus}: {'no CPU' if not want else f'CPUs {bad} are not online'}")
        target = want.to_list()
    _check_may_signal(settings, pid)
    from rmctl import reservations as rsv

    plan = Plan(actions=[SetAffinity(pid=pid, cpus=target)], fingerprint=fingerprint(node),
                command=f"cpu pin {pid}")
    report = None
    if not dry_run:
        report = apply(plan, LiveHost())
        raise_for_report(report)
    f = fmt(output)
    data = {"pid": pid, "cpus": CpuSet.parse(target).to_list(), "reservation": reservation, "dry_run": dry_run}
    if f != "table":
        from rmctl.cli.output import emit

        if dry_run:
            data["plan"] = plan.to_data()
        else:
            data["changed"] = report.changed
        emit("CpuPin", data, f)
        return
    import sys

    if dry_run:
        _print_plan(plan)
    else:
        sys.stdout.write(f"pinned every thread of PID {pid} to CPUs {target}"
                         f"{'' if report.changed else ' (unchanged)'}\n")


# -- run ---------------------------------------------------------------------------------------------------------
@cpu_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors
def run(
    ctx: typer.Context,
    command: Annotated[Optional[List[str]], typer.Argument(help="The command and its arguments, after --.")] = None,
    reservation: Annotated[Optional[str], typer.Option("--reservation", "-r", help="Run on this reservation's CPUs.", autocompletion=_complete_reservation)] = None,
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
    signals are forwarded; rmctl exits with the command's status.  -o
    json|yaml applies to the --dry-run plan and to rmctl's own errors; the
    command's output is its own.
    """
    import os
    import signal
    import subprocess
    import sys

    from rmctl import reservations as rsv
    from rmctl.cpuset import CpuSet
    from rmctl.errors import UsageError
    from rmctl.execute.executor import apply
    from rmctl.execute.host import LiveHost
    from rmctl.ledger import raise_for_report
    from rmctl.model.cpu_actions import MemBind
    from rmctl.model.plan import SetAffinity
    from rmctl.model.plan import Plan
    from rmctl.planning.cpus import KubeTopology, parse_options

    settings = ctx.obj
    argv = list(command or []) + list(ctx.args or [])
    if not argv:
        raise UsageError("no command given", hint="rmctl cpu run --count 2 -- CMD ARGS")
    if (reservation is None) == (count is None):
        raise UsageError("give exactly one of --reservation and --count")
    _count(count)
    settings.require_live("run a command", dry_run_helps=False)
    node = settings.node()
    me = os.getpid()
    temp_name = None
    plan_actions = []
    if reservation is not None:
        rec, target = _reservation_cpus(settings, node, reservation)
        name = reservation
    else:
        opts = parse_options(option or [])
        kube = KubeTopology.from_topology(node.topology)
        cons = _constraints(settings, node, kube, numa=numa, socket=socket, near=near, from_=from_, prefer_numa=None)
        name = temp_name = f"run-{me}"
        owner = rsv.owner_of(settings.root, me)
        ledger = _ledger(settings, f"rmctl cpu run ({name})")
        with ledger.transaction(fingerprint(node), dry_run=dry_run, command=f"cpu run {name}") as txn:
            rec = rsv.reserve(node.topology, txn.state, name, count=count, options=opts, constraints=cons,
                              owner=owner, kube=kube)
            txn.summary = f"reserve {name}: CPUs {rec['cpus']}"
        plan_actions += txn.plan.actions
        target = rec["cpus"]
    mems = ",".join(str(n) for n in rec.get("nodes") or []) or "0"
    pin_self = SetAffinity(pid=me, cpus=target)
    bind = MemBind(nodes=CpuSet.parse(mems).to_list()) if membind else None
    if dry_run:
        plan = Plan(actions=plan_actions + [pin_self] + ([bind] if bind else []),
                    fingerprint=fingerprint(node), command="cpu run")
        if fmt(output) != "table":
            from rmctl.cli.output import emit

            emit("CpuRun", {"command": argv, "cpus": CpuSet.parse(target).to_list(), "reservation": name,
                            "temporary": temp_name is not None, "membind": mems if membind else None,
                            "dry_run": True, "plan": plan.to_data()}, fmt(output))
            return
        _print_plan(plan)
        sys.stdout.write(f"  - run {' '.join(argv)} on CPUs {target} (it inherits the affinity), "
                         f"then release {temp_name or 'nothing'}\n")
        return
    status = 1
    try:
        # Pin rmctl itself (and bind its memory policy) so the child inherits
        # both from its first instruction, then put rmctl's own back.
        setup = Plan(actions=[pin_self] + ([bind] if bind else []), command="cpu run")
        report = apply(setup, LiveHost())
        try:
            raise_for_report(report)
            env = dict(os.environ, RMCTL_CPUS=target, RMCTL_RESERVATION=name)
            try:
                child = subprocess.Popen(argv, env=env)
            except OSError as e:
                raise UsageError(f"cannot run {argv[0]}: {e.strerror}") from None
        finally:
            from rmctl.execute.executor import undo_plan

            apply(undo_plan(report), LiveHost())
        forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
        previous = {s: signal.getsignal(s) for s in forwarded}

        def forward(signum, _frame):
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass

        for s in forwarded:
            signal.signal(s, forward)
        try:
            rc = child.wait()
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        status = rc if rc >= 0 else 128 - rc
    finally:
        if temp_name is not None:
            ledger = _ledger(settings, f"rmctl cpu run ({temp_name}) release")
            with ledger.transaction(fingerprint(node), command=f"cpu release {temp_name}") as txn:
                txn.state["reservations"].pop(temp_name, None)
                txn.summary = f"release {temp_name}"
    raise typer.Exit(status)


# -- cpuset ---------------------------------------------------------------------------------------------------------
@cpu_app.command("cpuset")
@handle_errors
def cpuset(
    ctx: typer.Context,
    name: ReservationName,
    partition: Annotated[Optional[str], typer.Option("--partition", autocompletion=_complete_partition,
                                                                              help="Make the cgroup a cpuset partition (v2): isolated or root.")] = None,
    move: Annotated[Optional[int], typer.Option("--move", metavar="PID", help="Move this process into the cgroup.")] = None,
    parent: Annotated[Optional[str], typer.Option("--parent", metavar="CGROUP",
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
    import os

    from rmctl import reservations as rsv
    from rmctl.discovery.cgroup import cpuset_hierarchy
    from rmctl.errors import AccessDenied, UsageError
    from rmctl.execute.host import LiveHost
    from rmctl.model.cgroup import PARTITIONS
    from rmctl.planning import cgroups

    settings = ctx.obj
    rsv.check_name(name)
    if not dry_run:
        settings.require_live("create a cgroup")
    node = settings.node()
    h = cpuset_hierarchy(settings.root, parent)
    if partition is not None and partition not in PARTITIONS:
        raise UsageError(f"unknown partition type {partition!r}", hint="use isolated or root")
    if move is not None and settings.root.is_live:
        _check_may_signal(settings, move)
    if not dry_run and not os.access(h.parent_path(), os.W_OK):
        raise AccessDenied(f"cannot create cgroups under {h.parent_path()}", hint="run as root")
    ledger = _ledger(settings, f"rmctl cpu cpuset {name}")
    with ledger.transaction(fingerprint(node), dry_run=dry_run, host=_host(settings),
                            command=f"cpu cpuset {name}", rollback=True) as txn:
        rec = txn.state["reservations"].get(name)
        if rec is None:
            raise UsageError(f"no reservation named {name!r}", hint=f"reserve it first: rmctl cpu reserve {name} --count N")
        mems = ",".join(str(n) for n in rec.get("nodes") or []) or "0"
        txn.before = cgroups.create_actions(h, name, rec["cpus"], mems, partition=partition, move_pid=move)
        rec["cgroup"] = cgroups.record(h, name, partition)
        txn.summary = f"record cgroup of {name}"
    # A second identical call finds every step at its target: say so (idempotent).
    changed = dry_run or txn.report is None or txn.report.changed
    data = {"reservation": rsv.reservation_view(rec), "cgroup": rec["cgroup"], "dry_run": dry_run,
            "changed": bool(changed and not dry_run)}
    verb = "would create" if dry_run else ("created" if changed else "unchanged:")
    _done("CpuCgroup", data, output, txn, dry_run,
          f"{verb} {h.path(name)} (cgroup v{h.version}"
          f"{', ' + partition + ' partition' if partition else ''}): CPUs {rec['cpus']}, "
          f"memory nodes {mems}" + (f", PID {move} moved in" if move is not None else ""))
