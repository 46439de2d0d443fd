"""``rmctl cpu ...``: reserve CPUs the kubelet's way, release, list, reconcile, system CPUs, pin, run, cpusets.

Each use case takes the root, the state dir and the options as plain
values and returns an Outcome; the state changes go through
:meth:`rmctl.state.ledger.Ledger.update` (planned before the state lock, committed under it, written by
the executor), machine changes through the executor on the Host of
rmctl.ops.hosts.  Exit statuses: 2 bad input (cpulists, unknown --option,
counts < 1); 4 not enough CPUs meeting the constraints (the error names
the constraint and the closest fit); 5 lock timeout, name clash, corrupt
or foreign state; 6 not permitted (checked before anything is written).

A snapshot root (``--root``) may be planned for with a ``--state-dir`` of
its own: the state is then the only thing written, never the root.
Changes of this machine (cgroups, affinity, owners) need the live root,
except as a ``--dry-run`` plan.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import AccessDenied, CommandNotExecutable, CommandNotFound, UsageError
from rmctl.model.fingerprint import fingerprint
from rmctl.model.node import NodeModel
from rmctl.ops import statedir
from rmctl.ops.hosts import host_for, require_live, state_host
from rmctl.ops.intent import make
from rmctl.ops.near import near_cpus
from rmctl.ops.outcome import Outcome, Text
from rmctl.planning import cpus as planner
from rmctl.render import cpu as render
from rmctl.state import reservations as rsv
from rmctl.state.ledger import Change, Ledger, Updated
from rmctl.state.owners import owner_alive, owner_of
from rmctl.state.records import CgroupRef, Reservation, ReservationState
from rmctl.units import counted

DEFAULT_LOCK_TIMEOUT = 10.0


def ledger(root: Root, state_dir: str, command: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Ledger:
    """Return the Ledger holding ``root``'s reservations in ``state_dir`` (the rule of rmctl.ops.statedir: a
    snapshot never reads or writes the default state dir); ``command`` names the lock holder in a timeout error."""
    return statedir.for_root(root, state_dir, command, lock_timeout)


def check_count(n: int | None) -> int | None:
    if n is not None and n <= 0:
        raise UsageError(f"--count must be at least 1, not {n}")
    return n


def constraints(root: Root, node: NodeModel, kube, *, numa: int | None = None, socket: int | None = None,
                near: str | None = None, from_: str | None = None,
                prefer_numa: str | None = None) -> planner.Constraints:
    """Return planning Constraints from the options, validated against the node."""
    if numa is not None and numa not in kube.by_node:
        raise UsageError(f"no NUMA node {numa} with online CPUs", hint=f"NUMA nodes: {sorted(kube.by_node)}")
    if socket is not None and socket not in kube.by_socket:
        raise UsageError(f"no socket {socket}", hint=f"sockets: {sorted(kube.by_socket)}")
    near_set = None
    if near is not None:
        near, near_set = near_cpus(root, node, near)
    pref = tuple(CpuSet.parse(prefer_numa)) if prefer_numa is not None else None
    return planner.Constraints(numa=numa, socket=socket, near=near, near_cpus=near_set,
                               cpus_from=CpuSet.parse(from_) if from_ is not None else None, prefer_numa=pref)


def _with_plan(data: dict[str, Any], up: Updated, dry_run: bool, intent: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` with, on a dry run, the plan recording ``intent`` (rmctl.ops.intent)."""
    if dry_run:
        data["plan"] = up.plan.with_intent(intent).to_data() if up.plan is not None else None
    return data


# -- reserve ------------------------------------------------------------------------------

def reserve(root: Root, state_dir: str, name: str, *, count: int | None = None, cpus: str | None = None,
            numa: int | None = None, socket: int | None = None, near: str | None = None,
            from_: str | None = None, prefer_numa: str | None = None, options: Sequence[str] = (),
            owner_pid: int | None = None, dry_run: bool = False,
            lock_timeout: float = DEFAULT_LOCK_TIMEOUT, kubelet_root: str | None = None,
            force: bool = False) -> Outcome:
    """Reserve CPUs exclusively, chosen as the kubelet's static policy would (or ``cpus`` as given).

    Never chooses a CPU the kubelet gave a pod exclusively (its CPU Manager
    checkpoint under ``kubelet_root``); ``cpus`` naming one are refused
    (ConflictError, 5) unless ``force``, which the reservation records
    (``kubelet_override``).  CPUs of the kubelet's shared pool are warned about.
    """
    rsv.check_name(name)
    check_count(count)
    if (count is None) == (cpus is None):
        raise UsageError("give exactly one of --count and --cpus")
    opts = planner.parse_options(list(options))
    explicit = CpuSet.parse(cpus) if cpus is not None else None
    if explicit is not None and any(v is not None for v in (numa, socket, near, from_, prefer_numa)):
        raise UsageError("--cpus takes the CPUs as given: it cannot be combined with --numa, --socket, --near, --from")
    node = discover(root)
    kube = planner.KubeTopology.from_topology(node.topology)
    cons = constraints(root, node, kube, numa=numa, socket=socket, near=near, from_=from_, prefer_numa=prefer_numa)
    owner = None
    if owner_pid is not None:
        require_live(root, "record an owner process", dry_run_helps=False)
        owner = owner_of(root, owner_pid)
        if owner is None:
            raise UsageError(f"no process {owner_pid}")

    from rmctl.ops.kubelet import cpu_view, guard_cpus
    from rmctl.planning.kubelet import cpu_roles

    kubelet_state, _ = cpu_view(root, kubelet_root)
    pods = cpu_roles(kubelet_state)["exclusive"] if kubelet_state.cpu and kubelet_state.cpu.policy == "static" \
        else CpuSet()
    if explicit is not None:
        guard_cpus(kubelet_state, explicit, what=f"reserve {name}", force=force)  # refuses before any write

    def change(state: ReservationState) -> Change:
        new, rec = rsv.reserve(node.topology, state, name, count=count, cpus=explicit, options=opts,
                               constraints=cons, owner=owner, kube=kube, exclude=pods)
        messages, override = guard_cpus(kubelet_state, rec.cpus, what=f"reserve {name}", force=force)
        if override is not None:
            import dataclasses

            rec = dataclasses.replace(rec, extra={**dict(rec.extra), "kubelet_override": override})
            new = new.with_reservation(rec)
        return Change(new, summary=f"reserve {name}: CPUs {rec.cpus.to_list()}", value=(rec, messages))

    up = ledger(root, state_dir, f"rmctl cpu reserve {name}", lock_timeout).update(
        fingerprint(node), change, dry_run=dry_run, command=f"cpu reserve {name}")
    rec, messages = up.value
    view = rec.view()
    data = _with_plan({"reservation": view, "dry_run": dry_run}, up, dry_run,
                      make("cpu reserve", name=name, count=count, cpus=cpus, numa=numa, socket=socket, near=near,
                           from_=from_, prefer_numa=prefer_numa, options=list(options), owner_pid=owner_pid,
                           force=force))
    return Outcome(kind="CpuReservation", data=data,
                   messages=tuple(messages) + statedir.dry_run_notes(root, state_dir, dry_run),
                   view=Text((render.reserve_line(node.topology, view, dry_run),), up.plan if dry_run else None))


# -- release (cpu release and request release) ---------------------------------------------

def release_reservation(root: Root, state_dir: str, name: str, *, dry_run: bool, command: str,
                        lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> tuple[Reservation, Updated]:
    """Release reservation ``name`` (any kind) and remove its cpuset cgroup; return (it, the update).

    One behaviour for ``cpu release`` and ``request release`` (issue 10):
    a dry run plans the cgroup's removal and the state change on any root
    (exit 0); a real release of a reservation with a cgroup needs this
    machine (the cgroup is this machine's): on a snapshot root it is
    refused (SnapshotRootError, exit 2, nothing written) before the state
    is touched.  A reservation without a cgroup is released from the state
    on any root.
    """
    from rmctl.planning import cgroups

    rsv.check_name(name)
    node = discover(root)

    def change(state: ReservationState) -> Change:
        new, rec = rsv.release(state, name)
        before: tuple = ()
        if rec.cgroup is not None:
            if not dry_run:
                require_live(root, "remove a cgroup")
            before = tuple(cgroups.remove_actions(rec.cgroup.to_data()))
        return Change(new, summary=f"release {name}", before=before, value=rec)

    up = ledger(root, state_dir, f"rmctl {command}", lock_timeout).update(
        fingerprint(node), change, dry_run=dry_run, host=state_host(root), command=command)
    return up.value, up


def release(root: Root, state_dir: str, name: str, *, dry_run: bool = False,
            lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Release a reservation (and remove its cpuset cgroup): the CpuRelease document."""
    rec, up = release_reservation(root, state_dir, name, dry_run=dry_run, command=f"cpu release {name}",
                                  lock_timeout=lock_timeout)
    data = _with_plan({"released": rec.view(), "dry_run": dry_run}, up, dry_run, make("cpu release", name=name))
    line = f"{'would release' if dry_run else 'released'} {name}: CPUs {rec.cpus.to_list()}"
    return Outcome(kind="CpuRelease", data=data, view=Text((line,), up.plan if dry_run else None),
                   messages=statedir.dry_run_notes(root, state_dir, dry_run))


# -- list -----------------------------------------------------------------------------------

def list_cpus(root: Root, state_dir: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
              kubelet_root: str | None = None, verbose: int = 0) -> Outcome:
    """Return every CPU (free, system, reserved by whom, offline, isolated) and every reservation.

    ``verbose`` (``-v``, this machine only): also ``occupants``, the threads
    on reserved CPUs with their role (owner, cgroup, pinned, intruder,
    kernel: rmctl.planning.occupants) and ``intruders``, their count; a
    warning names the reservations that have intruders.

    ``view``: (reservation views, CPU entries, names whose owner is gone
    (owners are checked on the live root only), now: the time the ages of
    the table are counted to).
    """
    node = discover(root)
    state = ledger(root, state_dir, "rmctl cpu list", lock_timeout).load(fingerprint(node))
    topo = node.topology
    views = [state.reservations[n].view() for n in state.names()]
    cpus = rsv.cpu_states(topo, state)
    free = rsv.free_cpus(topo, state)
    # the kubelet's CPUs (issue #16): a pod's exclusive CPU is not free; each CPU says its kubelet role
    from rmctl.ops.kubelet import cpu_view
    from rmctl.planning.kubelet import cpu_marks

    kubelet_state, reserved = cpu_view(root, kubelet_root)
    marks = cpu_marks(kubelet_state, reserved)
    for c in cpus if marks else ():  # without a kubelet the document is as before
        c["kubelet"] = marks.get(c["id"])
        if c["kubelet"] == "exclusive" and c["state"] == "free":
            c["state"] = "kubelet"
    free = free - CpuSet(c for c, m in marks.items() if m == "exclusive")
    data: dict[str, Any] = {"system_cpus": state.system_cpus.to_list(), "free_cpus": free.to_list(),
                            "reservations": views, "cpus": cpus}
    if marks:
        data["kubelet"] = {
            "exclusive_cpus": CpuSet(c for c, m in marks.items() if m == "exclusive").to_list(),
            "shared_cpus": kubelet_state.cpu.default_cpus.to_list() if kubelet_state.cpu else "",
            "reserved_cpus": reserved.to_list() if reserved is not None else None}
    gone: tuple[str, ...] = ()
    if root.is_live:
        gone = tuple(n for n in state.names() if state.reservations[n].owner is not None
                     and not owner_alive(root, state.reservations[n].owner))
    messages: tuple = ()
    if verbose:
        messages = _occupants(root, state, data)
    return Outcome(kind="CpuList", data=data, view=(views, cpus, gone, time.time()), messages=messages)


def holders(root: Root, state: ReservationState) -> list:
    """Return the reservations as rmctl.planning.occupants takes them: owners only while alive (live root)."""
    from rmctl.planning.occupants import Holder

    out = []
    for name in state.names():
        rec = state.reservations[name]
        pid = rec.owner.pid if rec.owner is not None and root.is_live and owner_alive(root, rec.owner) else None
        out.append(Holder(name=name, cpus=rec.cpus, owner_pid=pid, cgroup=_cgroup_rel(rec.cgroup)))
    return out


def _cgroup_rel(cg: CgroupRef | None) -> str | None:
    """Return a cgroup's path as proc/PID/cgroup writes it (relative to the hierarchy's mount)."""
    if cg is None:
        return None
    if cg.mount and (cg.path + "/").startswith(cg.mount.rstrip("/") + "/"):
        return "/" + cg.path[len(cg.mount.rstrip("/")):].strip("/")
    return "/" + os.path.basename(cg.path)


def _occupants(root: Root, state: ReservationState, data: dict[str, Any]) -> tuple:
    """Add the threads on reserved CPUs to ``data``; return the messages (intruders, or why none are shown)."""
    from rmctl.discovery.tasks import cgroup_paths, read_tasks
    from rmctl.ops.outcome import note, warning
    from rmctl.planning.occupants import INTRUDER, occupants

    if not root.is_live:
        data["occupants"] = None
        return (note("threads on reserved CPUs are read on this machine only: a snapshot holds no processes"),)
    hs = holders(root, state)
    if not hs:
        data["occupants"], data["intruders"] = [], 0
        return ()
    tasks = read_tasks(root)
    cgroups = {}
    if any(h.cgroup for h in hs):
        reserved = CpuSet(c for h in hs for c in h.cpus)
        cgroups = {t.pid: cgroup_paths(root, t.pid) for t in tasks if t.cpu in reserved}
    occ = occupants(hs, tasks, cgroups)
    bad = [o for o in occ if o.role == INTRUDER]
    data["occupants"] = [o.to_data() for o in occ]
    data["intruders"] = len(bad)
    if not bad:
        return ()
    per: dict[str, int] = {}
    for o in bad:
        per[o.reservation] = per.get(o.reservation, 0) + 1
    return (warning(f"{counted(len(bad), 'thread')} of other processes on reserved CPUs: "
                    + ", ".join(f"{n} in {name}" for name, n in sorted(per.items())),
                    hint="pin them elsewhere (rmctl cpu pin PID --cpus ...), or keep them off: a cpuset cgroup "
                         "(rmctl cpu cpuset NAME), isolcpus=, or the kubelet's strict-cpu-reservation"),)


# -- reconcile ----------------------------------------------------------------------------

def reconcile(root: Root, state_dir: str, *, dry_run: bool = False,
              lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Drop reservations whose owner process is gone; report those holding offline or missing CPUs.

    Owners are processes of this machine: a snapshot root's are not checked.
    """
    from rmctl.planning import cgroups

    node = discover(root)

    def alive(owner) -> bool:
        return owner_alive(root, owner) if root.is_live else True

    def change(state: ReservationState) -> Change:
        new, dropped, problems = rsv.reconcile(node.topology, state, alive)
        before: list = []
        for rec in dropped:
            if rec.cgroup is not None and root.is_live:
                before += cgroups.remove_actions(rec.cgroup.to_data())
        summary = "reconcile: drop " + (", ".join(r.name for r in dropped) or "nothing")
        return Change(new, summary=summary, before=tuple(before), value=(dropped, problems))

    up = ledger(root, state_dir, "rmctl cpu reconcile", lock_timeout).update(
        fingerprint(node), change, dry_run=dry_run, host=state_host(root), command="cpu reconcile")
    dropped, problems = up.value
    remaining = [up.state.reservations[n].view() for n in up.state.names()]
    dropped_views = [r.view() for r in dropped]
    problem_data = [p.to_data() for p in problems]
    data = _with_plan({"dropped": dropped_views, "problems": problem_data, "reservations": remaining,
                       "dry_run": dry_run}, up, dry_run, make("cpu reconcile"))
    lines = render.reconcile_lines(dropped_views, problem_data, len(remaining), dry_run)
    return Outcome(kind="CpuReconcile", data=data, view=Text(tuple(lines), up.plan if dry_run else None),
                   messages=statedir.dry_run_notes(root, state_dir, dry_run))


# -- reserve-system -------------------------------------------------------------------------

def reserve_system(root: Root, state_dir: str, *, count: int | None = None, cpus: str | None = None,
                   clear: bool = False, dry_run: bool = False,
                   lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Set the system CPUs (the kubelet's reservedSystemCPUs): never handed out exclusively.

    ``clear``: no system CPUs any more (they become free; ``export
    kubelet-config`` then writes no reservedSystemCPUs).  Clearing what is
    already clear is an unchanged step, as applying any state twice is.
    """
    check_count(count)
    if sum(x is not None and x is not False for x in (count, cpus, clear or None)) != 1:
        raise UsageError("give exactly one of --count, --cpus and --clear")
    explicit = CpuSet.parse(cpus) if cpus is not None else None
    if explicit is not None and not explicit:
        raise UsageError("--cpus names no CPU", hint="to have no system CPUs: rmctl cpu reserve-system --clear")
    node = discover(root)

    def change(state: ReservationState) -> Change:
        if clear:
            return Change(state.with_system_cpus(CpuSet()),
                          summary=f"clear the system CPUs (were {state.system_cpus.to_list() or 'none'})",
                          value=CpuSet())
        new, chosen = rsv.reserve_system(node.topology, state, count=count, cpus=explicit)
        return Change(new, summary=f"system CPUs {chosen.to_list()}", value=chosen)

    up = ledger(root, state_dir, "rmctl cpu reserve-system", lock_timeout).update(
        fingerprint(node), change, dry_run=dry_run, command="cpu reserve-system")
    chosen = up.value
    data = _with_plan({"system_cpus": chosen.to_list(), "dry_run": dry_run}, up, dry_run,
                      make("cpu reserve-system", count=count, cpus=cpus, clear=clear or None))
    if clear:
        line = f"{'would clear' if dry_run else 'cleared'} the system CPUs: every CPU may be reserved"
    else:
        line = f"{'would set' if dry_run else 'set'} system CPUs: {chosen.to_list()}"
    return Outcome(kind="CpuSystem", data=data, view=Text((line,), up.plan if dry_run else None),
                   messages=statedir.dry_run_notes(root, state_dir, dry_run))


# -- pin --------------------------------------------------------------------------------------

def reservation_cpus(root: Root, node: NodeModel, state_dir: str, name: str,
                     lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Reservation:
    """Return reservation ``name`` from the state (UsageError when there is none)."""
    state = ledger(root, state_dir, "rmctl cpu", lock_timeout).load(fingerprint(node))
    return rsv.get(state, name)


def check_may_signal(root: Root, pid: int) -> None:
    """AccessDenied (6) when we may not change another user's process (before any write)."""
    from rmctl.discovery import paths
    from rmctl.discovery.parse import parse_status_field

    status = root.read(paths.proc_pid_file(pid, "status"))
    if status is None:
        raise UsageError(f"no process {pid}")
    uid = (parse_status_field(status, "Uid") or "").split()
    if os.geteuid() != 0 and uid and int(uid[0]) != os.geteuid():
        raise AccessDenied(f"not permitted to change process {pid} (owned by uid {uid[0]})", hint="run as root")


def pin(root: Root, state_dir: str, pid: int, *, reservation: str | None = None, cpus: str | None = None,
        dry_run: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, kubelet_root: str | None = None,
        force: bool = False) -> Outcome:
    """Set the CPU affinity of every thread of a process (to a reservation's CPUs, or ``cpus``).

    CPUs the kubelet gave a pod exclusively are refused (ConflictError, 5)
    unless ``force``; the kubelet's shared pool is warned about.  So are
    ``cpus`` that another owner's reservation holds (the process is not
    its owner nor the owner's descendant; a reservation without an owner
    is always another's): pin to it by name (``reservation``) to join it,
    or ``force`` (a warning says whose CPUs they are).
    """
    from rmctl.execute.executor import apply
    from rmctl.execute.status import raise_for_report
    from rmctl.model.plan import Plan, SetAffinity

    if (reservation is None) == (cpus is None):
        raise UsageError("give exactly one of --reservation and --cpus")
    require_live(root, "pin a process", dry_run_helps=False)
    node = discover(root)
    if reservation is not None:
        target = reservation_cpus(root, node, state_dir, reservation, lock_timeout).cpus
    else:
        want = CpuSet.parse(cpus or "")
        bad = want - node.topology.online_cpus()
        if not want or bad:
            raise UsageError(f"--cpus {cpus}: {'no CPU' if not want else bad.phrase('are') + ' not online'}")
        target = want
    from rmctl.ops.kubelet import cpu_view, guard_cpus

    messages, _ = guard_cpus(cpu_view(root, kubelet_root)[0], target, what=f"pin PID {pid}", force=force)
    if reservation is None:
        state = ledger(root, state_dir, "rmctl cpu pin", lock_timeout).load(fingerprint(node))
        messages += guard_reserved(root, state, target, pid, force=force)
    check_may_signal(root, pid)
    plan = Plan(actions=[SetAffinity(pid=pid, cpus=target.to_list())], fingerprint=fingerprint(node),
                command=f"cpu pin {pid}")
    data: dict[str, Any] = {"pid": pid, "cpus": target.to_list(), "reservation": reservation, "dry_run": dry_run}
    if dry_run:
        data["plan"] = plan.with_intent(make("cpu pin", pid=pid, reservation=reservation, cpus=cpus,
                                             force=force)).to_data()
        return Outcome(kind="CpuPin", data=data, view=Text((), plan), messages=tuple(messages))
    report = apply(plan, host_for(root))
    raise_for_report(report)
    data["changed"] = report.changed
    line = f"pinned every thread of PID {pid} to {target.phrase()}{'' if report.changed else ' (unchanged)'}"
    return Outcome(kind="CpuPin", data=data, view=Text((line,)), messages=tuple(messages))


def guard_reserved(root: Root, state: ReservationState, cpus: CpuSet, pid: int, *, force: bool) -> list:
    """Refuse (ConflictError, 5) moving ``pid`` onto CPUs another owner's reservation holds, unless ``force``.

    The same pattern as the kubelet's CPUs (rmctl.ops.kubelet.guard_cpus):
    the error names the reservations and their owners; ``force`` turns it
    into a warning.
    """
    from rmctl.discovery.tasks import parents
    from rmctl.errors import ConflictError
    from rmctl.ops.outcome import warning
    from rmctl.planning.occupants import foreign_holders

    foreign = foreign_holders(holders(root, state), cpus, pid, parents(root, pid))
    if not foreign:
        return []
    held = CpuSet(c for h in foreign for c in h.cpus & cpus)

    def who(h) -> str:
        rec = state.reservations[h.name]
        if rec.owner is None:
            owner = "no owner recorded"
        elif h.owner_pid is not None:
            owner = f"owner PID {rec.owner.pid} ({rec.owner.command[:40] or '?'})"
        else:
            owner = "its owner is gone"
        return f"{h.name!r} ({owner})"

    holders_text = ", ".join(who(h) for h in foreign)
    if not force:
        raise ConflictError(
            f"cannot pin PID {pid}: {held.phrase('are')} reserved by {holders_text}",
            hint=f"join the reservation by name (rmctl cpu pin {pid} --reservation {foreign[0].name}), choose "
                 "free CPUs ('rmctl cpu list'), or --force to pin there anyway",
            details={"reserved_cpus": held.to_list(), "reservations": [h.name for h in foreign]})
    return [warning(f"--force: PID {pid} pinned on {held.phrase()} reserved by {holders_text}")]


# -- run --------------------------------------------------------------------------------------------

def run(root: Root, state_dir: str, argv: Sequence[str], *, reservation: str | None = None,
        count: int | None = None, numa: int | None = None, socket: int | None = None, near: str | None = None,
        from_: str | None = None, options: Sequence[str] = (), membind: bool = False, dry_run: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Run a command pinned to a reservation (or to CPUs reserved for it, released when it ends).

    The command gets RMCTL_CPUS (and RMCTL_RESERVATION) in its environment;
    signals are forwarded; the Outcome's exit status is the command's (a
    signal N: 128+N), with no document of rmctl's own (the command's
    output is its own).  A dry run returns the plan (CpuRun).  A command
    that does not exist raises CommandNotFound (127), one that cannot be
    executed CommandNotExecutable (126); the CLI reports every other error
    of rmctl's as 125 (rmctl.errors.wrapper_status).
    """
    from rmctl.model.cpu_actions import MemBind
    from rmctl.model.plan import Plan, SetAffinity

    argv = list(argv)
    if not argv:
        raise UsageError("no command given", hint="rmctl cpu run --count 2 -- CMD ARGS")
    if (reservation is None) == (count is None):
        raise UsageError("give exactly one of --reservation and --count")
    check_count(count)
    require_live(root, "run a command", dry_run_helps=False)
    node = discover(root)
    me = os.getpid()
    temp_name = None
    plan_actions: list = []
    if reservation is not None:
        rec = reservation_cpus(root, node, state_dir, reservation, lock_timeout)
        name = reservation
    else:
        opts = planner.parse_options(list(options))
        kube = planner.KubeTopology.from_topology(node.topology)
        cons = constraints(root, node, kube, numa=numa, socket=socket, near=near, from_=from_)
        name = temp_name = f"run-{me}"
        owner = owner_of(root, me)

        def change(state: ReservationState) -> Change:
            new, r = rsv.reserve(node.topology, state, name, count=count, options=opts, constraints=cons,
                                 owner=owner, kube=kube)
            return Change(new, summary=f"reserve {name}: CPUs {r.cpus.to_list()}", value=r)

        up = ledger(root, state_dir, f"rmctl cpu run ({name})", lock_timeout).update(
            fingerprint(node), change, dry_run=dry_run, command=f"cpu run {name}")
        plan_actions += up.plan.actions
        rec = up.value
    target = rec.cpus.to_list()
    mems = ",".join(str(n) for n in rec.nodes) or "0"
    pin_self = SetAffinity(pid=me, cpus=target)
    bind = MemBind(nodes=CpuSet.parse(mems).to_list()) if membind else None
    if dry_run:
        plan = Plan(actions=plan_actions + [pin_self] + ([bind] if bind else []), fingerprint=fingerprint(node),
                    command="cpu run")
        data = {"command": argv, "cpus": target, "reservation": name, "temporary": temp_name is not None,
                "membind": mems if membind else None, "dry_run": True, "plan": plan.to_data()}
        line = (f"  - run {' '.join(argv)} on CPUs {target} (it inherits the affinity), "
                f"then release {temp_name or 'nothing'}")
        return Outcome(kind="CpuRun", data=data, view=Text((), plan, (line,)))
    status = _run_pinned(root, argv, name, target, pin_self, bind, node, state_dir, temp_name, lock_timeout)
    return Outcome(kind="", data={}, exit_code=status)


def _run_pinned(root: Root, argv: list[str], name: str, target: str, pin_self, bind, node: NodeModel,
                state_dir: str, temp_name: str | None, lock_timeout: float) -> int:
    """Run ``argv`` with rmctl's own affinity (and memory policy) set first, so the child inherits both
    from its first instruction; put rmctl's own back; forward signals; release ``temp_name`` at the end.
    Return the child's exit status (a signal N: 128+N)."""
    import signal
    import subprocess

    from rmctl.execute.executor import apply, undo_plan
    from rmctl.execute.status import raise_for_report
    from rmctl.model.plan import Plan

    status = 1
    host = host_for(root)
    try:
        setup = Plan(actions=[pin_self] + ([bind] if bind else []), command="cpu run")
        report = apply(setup, host)
        try:
            raise_for_report(report)
            env = dict(os.environ, RMCTL_CPUS=target, RMCTL_RESERVATION=name)
            try:
                child = subprocess.Popen(argv, env=env)
            except FileNotFoundError:
                raise CommandNotFound(f"{argv[0]}: command not found",
                                      hint="give the command's path, or a name on PATH") from None
            except OSError as e:  # EACCES (no x bit, a directory), ENOEXEC (no #! and no ELF)...
                raise CommandNotExecutable(f"cannot execute {argv[0]}: {e.strerror}") from None
        finally:
            apply(undo_plan(report), host)
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
            ledger(root, state_dir, f"rmctl cpu run ({temp_name}) release", lock_timeout).update(
                fingerprint(node), lambda state: Change(state.without(temp_name), summary=f"release {temp_name}"),
                host=state_host(root), command=f"cpu release {temp_name}")
    return status


# -- cpuset ---------------------------------------------------------------------------------------------

def cpuset(root: Root, state_dir: str, name: str, *, partition: str | None = None, move: int | None = None,
           parent: str | None = None, dry_run: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Create a cpuset cgroup (rmctl-NAME) holding a reservation's CPUs and NUMA memory nodes.

    cgroup v2 when the v2 mount offers cpuset, else the v1 cpuset hierarchy
    (rmctl.discovery.cgroup).  A partition the kernel reports invalid is
    undone (rollback) and exits 1 with the kernel's reason.  With
    ``dry_run`` it also plans for a snapshot root.
    """
    from rmctl.discovery.cgroup import cpuset_hierarchy
    from rmctl.model.cgroup import PARTITIONS
    from rmctl.planning import cgroups

    rsv.check_name(name)
    if not dry_run:
        require_live(root, "create a cgroup")
    node = discover(root)
    h = cpuset_hierarchy(root, parent)
    if partition is not None and partition not in PARTITIONS:
        raise UsageError(f"unknown partition type {partition!r}", hint="use isolated or root")
    if move is not None and root.is_live:
        check_may_signal(root, move)
    if not dry_run and not os.access(h.parent_path(), os.W_OK):
        raise AccessDenied(f"cannot create cgroups under {h.parent_path()}", hint="run as root")

    def change(state: ReservationState) -> Change:
        rec = state.get(name)
        if rec is None:
            raise UsageError(f"no reservation named {name!r}",
                             hint=f"reserve it first: rmctl cpu reserve {name} --count N")
        mems = ",".join(str(n) for n in rec.nodes) or "0"
        before = cgroups.create_actions(h, name, rec.cpus.to_list(), mems, partition=partition, move_pid=move)
        rec = rec.with_cgroup(CgroupRef.of(h, name, partition))
        return Change(state.with_reservation(rec), summary=f"record cgroup of {name}", before=tuple(before),
                      value=(rec, mems))

    up = ledger(root, state_dir, f"rmctl cpu cpuset {name}", lock_timeout).update(
        fingerprint(node), change, dry_run=dry_run, host=state_host(root), command=f"cpu cpuset {name}",
        rollback=True)
    rec, mems = up.value
    # A second identical call finds every step at its target: say so (idempotent).
    changed = dry_run or up.report is None or up.report.changed
    data = _with_plan({"reservation": rec.view(), "cgroup": rec.cgroup.to_data(), "dry_run": dry_run,
                       "changed": bool(changed and not dry_run)}, up, dry_run,
                      make("cpu cpuset", name=name, partition=partition, move=move, parent=parent))
    verb = "would create" if dry_run else ("created" if changed else "unchanged:")
    line = (f"{verb} {h.path(name)} (cgroup v{h.version}"
            f"{', ' + partition + ' partition' if partition else ''}): CPUs {rec.cpus.to_list()}, "
            f"memory nodes {mems}" + (f", PID {move} moved in" if move is not None else ""))
    return Outcome(kind="CpuCgroup", data=data, view=Text((line,), up.plan if dry_run else None))
