"""CPU reservations: reserve, release, reconcile and list over a ReservationState and a topology.

Each operation takes a state and returns a new one with what it made
(the state is immutable, rmctl.state.records); writing it is
:meth:`rmctl.state.ledger.Ledger.update`'s.  CPU choice is
:mod:`rmctl.planning.cpus`.

Rules (issue 3; the kubelet's pools, kubelet-resource-managers.md 2.1):

* never hand out offline CPUs, CPUs outside this process's allowed set
  (``Cpu.allowed``: the cgroup cpuset / affinity rmctl runs in), system
  CPUs (``reserve-system``: the kubelet's reservedSystemCPUs) or CPUs of
  another reservation;
* an owner is a PID plus its start time (rmctl.state.owners), so a reused
  PID is not taken for the owner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.errors import ConflictError, UsageError
from rmctl.names import NAME_RE
from rmctl.names import check_name as _check_name
from rmctl.planning import cpus as planner
from rmctl.state.records import Owner, Reservation, ReservationState
from rmctl.units import counted

__all__ = ["NAME_RE", "check_name"]


def check_name(name: str) -> str:
    """Return ``name`` if it can name a reservation (and a cgroup ``rmctl-NAME``): rmctl.names' rule."""
    return _check_name(name, "reservation name")


# -- pools ---------------------------------------------------------------------------

def free_cpus(topo, state: ReservationState) -> CpuSet:
    """Return online, allowed CPUs that are neither system nor reserved."""
    return topo.allowed_cpus() - state.system_cpus - state.reserved_cpus()


def cpu_states(topo, state: ReservationState) -> list[dict[str, Any]]:
    """Return one entry per CPU: id, state (offline|system|reserved|isolated|not-allowed|free), reservation..."""
    sysc = state.system_cpus
    held = state.holder_of()
    out = []
    for cpu in sorted(topo.cpus):
        c = topo.cpus[cpu]
        if not c.online:
            st = "offline"
        elif cpu in sysc:
            st = "system"
        elif cpu in held:
            st = "reserved"
        elif c.isolated:
            st = "isolated"
        elif not c.allowed:
            st = "not-allowed"
        else:
            st = "free"
        out.append({"id": cpu, "state": st, "reservation": held.get(cpu), "node": c.node,
                    "core": c.core, "package": c.package_id if c.package_id is not None else c.package,
                    "online": c.online, "allowed": c.allowed, "isolated": c.isolated})
    return out


def get(state: ReservationState, name: str, *, what: str = "cpu") -> Reservation:
    """Return reservation ``name``; UsageError (exit 2) naming where to look when there is none."""
    rec = state.get(check_name(name))
    if rec is None:
        raise UsageError(f"no reservation named {name!r}", hint=f"see rmctl {what} list")
    return rec


# -- operations ------------------------------------------------------------------------

def reserve(topo, state: ReservationState, name: str, *, count: int | None = None, cpus: CpuSet | None = None,
            options=None, constraints=None, owner: Owner | None = None,
            kube=None, exclude: CpuSet | None = None) -> tuple[ReservationState, Reservation]:
    """Return (the state with reservation ``name`` added, the reservation).

    Exactly one of ``count`` (chosen by the allocator) and ``cpus`` (taken
    as given, checked) is set.  A name already used is a ConflictError (5).
    ``exclude``: CPUs the allocator must not choose (the kubelet's pods').
    """
    check_name(name)
    have = state.get(name)
    if have is not None:
        raise ConflictError(f"reservation {name!r} already exists ({have.cpus.to_list()})",
                            hint=f"release it first: rmctl cpu release {name}")
    options = options or planner.Options()
    constraints = constraints or planner.Constraints()
    if (count is None) == (cpus is None):
        raise UsageError("give either --count or --cpus")
    if cpus is not None:
        chosen = check_explicit(topo, state, cpus)
    else:
        assert count is not None  # exactly one of the two, checked above
        kube = kube or planner.KubeTopology.from_topology(topo)
        chosen = planner.choose(kube, free_cpus(topo, state) - (exclude or CpuSet()), count, options, constraints,
                                system=state.system_cpus)
    rec = Reservation.new(name, cpus=chosen, nodes=topo.nodes_of(chosen), owner=owner,
                          options=options.to_data(), constraints=constraints.to_data())
    return state.with_reservation(rec), rec


def check_explicit(topo, state: ReservationState, cpus: CpuSet) -> CpuSet:
    """Return ``cpus`` if they may be reserved as given; else the reason (2 or 5)."""
    if not cpus:
        raise UsageError("--cpus names no CPU")
    missing = CpuSet(c for c in cpus if c not in topo.cpus)
    if missing:
        raise UsageError(f"{missing.phrase('do')} not exist on this node",
                         hint=f"CPUs present: {CpuSet(topo.cpus).to_list()}")
    offline = cpus & topo.offline_cpus()
    if offline:
        raise UsageError(f"{offline.phrase('are')} offline")
    not_allowed = cpus - topo.allowed_cpus()
    if not_allowed:
        raise UsageError(f"{not_allowed.phrase('are')} outside the CPUs this process may use",
                         hint="run rmctl from a cgroup/affinity that includes them")
    sysc = cpus & state.system_cpus
    if sysc:
        raise ConflictError(f"{sysc.phrase('are')} system CPU{'s' if len(sysc) != 1 else ''}", hint="see rmctl cpu list")
    held = state.holder_of()
    clash = sorted({held[c] for c in cpus if c in held})
    if clash:
        taken = CpuSet(c for c in cpus if c in held)
        raise ConflictError(f"{taken.phrase('are')} held by reservation {', '.join(clash)}",
                            hint="see rmctl cpu list")
    return cpus


def release(state: ReservationState, name: str) -> tuple[ReservationState, Reservation]:
    """Return (the state without reservation ``name``, the reservation released)."""
    rec = get(state, name)
    return state.without(name), rec


def reserve_system(topo, state: ReservationState, *, count: int | None = None, cpus: CpuSet | None = None,
                   kube=None) -> tuple[ReservationState, CpuSet]:
    """Return (the state with these system CPUs, the CPUs); with ``count`` in the packed order (reservedSystemCPUs)."""
    if (count is None) == (cpus is None):
        raise UsageError("give either --count or --cpus")
    if cpus is None:
        assert count is not None  # exactly one of the two, checked above
        kube = kube or planner.KubeTopology.from_topology(topo)
        if count > len(kube.details):
            raise planner.UnsatisfiableError(f"cannot make {counted(count, 'CPU')} system CPUs: the node has {len(kube.details)} online")
        cpus = planner.reserved_cpus(kube, count)
    else:
        missing = CpuSet(c for c in cpus if c not in topo.cpus or not topo.cpus[c].online)
        if missing:
            raise UsageError(f"{missing.phrase('are')} not online on this node")
    held = state.holder_of()
    clash = sorted({held[c] for c in cpus if c in held})
    if clash:
        raise ConflictError(f"{CpuSet(c for c in cpus if c in held).phrase('are')} held by reservation "
                            f"{', '.join(clash)}", hint="release it first, or choose other CPUs")
    return state.with_system_cpus(cpus), cpus


@dataclass(frozen=True)
class Problem:
    """A reservation (``name``; None: the system CPUs) holding CPUs that are offline or missing now."""

    name: str | None
    cpus: CpuSet
    offline: CpuSet
    missing: CpuSet

    def to_data(self) -> dict[str, Any]:
        if self.name is None:
            return {"name": None, "system_cpus": self.cpus.to_list(), "offline": self.offline.to_list(),
                    "missing": self.missing.to_list()}
        return {"name": self.name, "cpus": self.cpus.to_list(), "offline": self.offline.to_list(),
                "missing": self.missing.to_list()}


def reconcile(topo, state: ReservationState, alive: Callable[[Owner | None], bool]
              ) -> tuple[ReservationState, list[Reservation], list[Problem]]:
    """Return (the state without reservations whose owner is gone, those dropped, problems found).

    A problem is a reservation (or the system CPUs) holding offline or
    missing CPUs: reported, never dropped (the operator decides).
    """
    dropped: list[Reservation] = []
    problems: list[Problem] = []
    online = topo.online_cpus()
    new = state
    for name in state.names():
        rec = state.reservations[name]
        if not alive(rec.owner):
            dropped.append(rec)
            new = new.without(name)
            continue
        missing = CpuSet(c for c in rec.cpus if c not in topo.cpus)
        offline = rec.cpus & topo.offline_cpus()
        if missing or offline or not rec.cpus.issubset(online | missing | offline):
            problems.append(Problem(name, rec.cpus, offline, missing))
    sysc = state.system_cpus
    bad_sys = CpuSet(c for c in sysc if c not in topo.cpus or not topo.cpus[c].online)
    if bad_sys:
        problems.append(Problem(None, sysc, bad_sys, CpuSet()))
    return new, dropped, problems
