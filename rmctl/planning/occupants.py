"""Who runs on reserved CPUs, and who should not (``rmctl cpu list -v``; ``cpu pin``'s check).

Pure: the reservations (name, CPUs, owner, cgroup) and the threads
(rmctl.discovery.tasks) in, one row per thread on a reserved CPU out.

A thread *belongs* to reservation R when

- its process is R's owner (``--owner-pid``, still the same process) or a
  descendant of it (``cpu run``'s command is rmctl's child), or
- its process is in R's cpuset cgroup (``cpu cpuset``), or
- R records neither and the thread may run only on R's CPUs (someone
  pinned it there: ``cpu pin --reservation R``).

An *intruder* of R is a user thread that does not belong to R and either
last ran on one of R's CPUs, or may run only on reserved CPUs (its
affinity was narrowed to other owners' CPUs).  A thread allowed
everywhere that last ran on a reserved CPU is an intruder too: nothing
keeps it off (isolcpus=, a cpuset cgroup, or the kubelet's
strict-cpu-reservation would).  Kernel threads are listed but never
intruders: per-CPU ones (ksoftirqd/N, migration/N) run on every CPU by
design, and affinity cannot move them.

"Runs on" is where the thread ran last (``ps -L -o psr``), which for a
sleeping thread is where it will most likely wake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rmctl.cpuset import CpuSet

OWNER, CGROUP, PINNED, INTRUDER, KERNEL = "owner", "cgroup", "pinned", "intruder", "kernel"


@dataclass(frozen=True)
class Holder:
    """A reservation as this module needs it: its name, CPUs, live owner PID and cgroup path."""

    name: str
    cpus: CpuSet
    owner_pid: int | None = None  #: None: none recorded, or the recorded owner is gone
    cgroup: str | None = None  #: the cgroup's path relative to its hierarchy's mount (as proc/PID/cgroup says)


@dataclass(frozen=True)
class Occupant:
    """One thread on a reserved CPU, or allowed only on reserved CPUs."""

    cpu: int | None  #: where it ran last
    reservation: str  #: the reservation of that CPU (or, for a thread confined elsewhere, the first it may use)
    pid: int
    tid: int
    comm: str
    state: str
    allowed: str  #: its CPU affinity, a cpulist
    role: str  #: owner, cgroup, pinned, intruder or kernel

    def to_data(self) -> dict:
        return {"cpu": self.cpu, "reservation": self.reservation, "pid": self.pid, "tid": self.tid,
                "command": self.comm, "state": self.state, "allowed": self.allowed, "role": self.role}


def descendants(parent_of: Mapping[int, int], roots: Iterable[int]) -> set[int]:
    """Return ``roots`` and every process below them, from pid -> ppid."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parent_of.items():
        children.setdefault(ppid, []).append(pid)
    out: set[int] = set()
    todo = [r for r in roots]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo += children.get(p, ())
    return out


def occupants(holders: Sequence[Holder], tasks: Sequence, cgroups: Mapping[int, tuple[str, ...]] | None = None
              ) -> list[Occupant]:
    """Return one Occupant per thread on a reserved CPU (or confined to reserved CPUs), by CPU, role, pid, tid.

    ``tasks``: rmctl.discovery.tasks.Task values; ``cgroups``: pid -> its
    cgroup paths (needed only when a holder has a cgroup).
    """
    by_cpu = {c: h for h in holders for c in h.cpus}
    reserved = CpuSet(by_cpu)
    parent_of = {t.pid: t.ppid for t in tasks}
    tree = {h.name: descendants(parent_of, [h.owner_pid]) for h in holders if h.owner_pid is not None}
    cgroups = cgroups or {}
    out = []
    for t in tasks:
        allowed = t.allowed if t.allowed is not None else CpuSet()
        here = by_cpu.get(t.cpu) if t.cpu is not None else None
        confined = bool(allowed) and allowed.issubset(reserved)
        if here is None and not confined:
            continue
        h = here if here is not None else by_cpu[allowed.first()]
        out.append(Occupant(cpu=t.cpu, reservation=h.name, pid=t.pid, tid=t.tid, comm=t.comm, state=t.state,
                            allowed=allowed.to_list(), role=_role(h, t, allowed, tree, cgroups)))
    order = {INTRUDER: 0, OWNER: 1, CGROUP: 1, PINNED: 1, KERNEL: 2}
    return sorted(out, key=lambda o: (o.cpu if o.cpu is not None else -1, order[o.role], o.pid, o.tid))


def _role(h: Holder, t, allowed: CpuSet, tree: Mapping[str, set[int]], cgroups) -> str:
    if t.kernel:
        return KERNEL
    if t.pid in tree.get(h.name, ()):
        return OWNER
    if h.cgroup is not None and any(_within(p, h.cgroup) for p in cgroups.get(t.pid, ())):
        return CGROUP
    if h.owner_pid is None and h.cgroup is None and allowed and allowed.issubset(h.cpus):
        return PINNED
    return INTRUDER


def _within(path: str, cgroup: str) -> bool:
    return path == cgroup or path.startswith(cgroup.rstrip("/") + "/")


def foreign_holders(holders: Sequence[Holder], cpus: CpuSet, pid: int, ancestors: Iterable[int]) -> list[Holder]:
    """Return the reservations holding some of ``cpus`` that process ``pid`` does not belong to.

    ``pid`` belongs to a reservation whose live owner is ``pid`` itself or
    one of its ``ancestors`` (rmctl.discovery.tasks.parents).  What
    ``cpu pin --cpus`` refuses without ``--force``.
    """
    mine = {pid, *ancestors}
    return [h for h in holders if h.cpus & cpus and (h.owner_pid is None or h.owner_pid not in mine)]
