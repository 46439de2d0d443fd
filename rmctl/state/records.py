"""Typed, immutable records of the reservations state, read from and written to the v1 file as it is.

The state file's JSON (``state.json``, version 1; see rmctl.state.ledger)
maps onto these records one to one.  ``from_data`` reads a record from
its JSON object and ``to_data`` writes it back: an unchanged state saves
to the same bytes an older rmctl wrote (tests/fixtures/state/v1), keys
this rmctl does not know included (kept in ``extra``, never dropped).
Records never change: every change is a function or method that returns
a new record (``ReservationState.with_reservation``...), so a state read
under the lock and the state to write are two values, compared to decide
whether anything is written at all.

Identifiers follow the file: a reservation's ``cpus`` are the kernel's
CPU numbers (a CpuSet), ``nodes`` NUMA node ids, ``devices`` PCI
addresses as the kernel names them (``0000:3b:00.0``), hugepage sizes in
bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from rmctl.cpuset import CpuSet

STATE_KIND = "ReservationState"
STATE_API = "rmctl.io/v1alpha1"
#: bumped on incompatible changes; a file of another version is refused (exit 5)
STATE_VERSION = 1

#: the reservation kinds: CPUs reserved by ``cpu reserve`` (and profiles), a request's result
CPU_KIND, REQUEST_KIND = "cpu", "request"

EMPTY: Mapping[str, Any] = MappingProxyType({})


def empty() -> Mapping[Any, Any]:
    """Return the shared empty read-only mapping (a default for mapping fields)."""
    return EMPTY


def freeze(value: Any) -> Any:
    """Return ``value`` (plain JSON data) made immutable: mappings read-only, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Return frozen data as plain JSON data again (dicts and lists)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _extra(d: Mapping[str, Any], known: tuple[str, ...]) -> Mapping[str, Any]:
    rest = {k: v for k, v in d.items() if k not in known}
    return freeze(rest) if rest else EMPTY


def _now_stamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


@dataclass(frozen=True)
class Owner:
    """The process a reservation belongs to: PID plus its start time, so a reused PID is not taken for it.

    ``start_time`` is field 22 of ``/proc/PID/stat`` (clock ticks since
    boot, proc(5)); ``command`` its command line, cut to 200 characters.
    """

    pid: int
    start_time: int | None
    command: str = ""
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("pid", "start_time", "command")

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Owner:
        return cls(pid=int(d["pid"]), start_time=d.get("start_time"), command=str(d.get("command") or ""),
                   extra=_extra(d, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        out = thaw(self.extra)
        out.update(pid=self.pid, start_time=self.start_time, command=self.command)
        return out


@dataclass(frozen=True)
class CgroupRef:
    """A reservation's cpuset cgroup: ``path`` (absolute, ``.../rmctl-NAME``), cgroup ``version`` (1 or 2),
    the ``partition`` type asked (v2 only; None: a plain cgroup), and the hierarchy's ``mount``."""

    path: str
    version: int
    partition: str | None = None
    mount: str | None = None
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("path", "version", "partition", "mount")

    @classmethod
    def of(cls, hierarchy, name: str, partition: str | None) -> CgroupRef:
        """Return the reference to reservation ``name``'s cgroup in ``hierarchy`` (model.cgroup.CpusetHierarchy)."""
        return cls(path=hierarchy.path(name), version=hierarchy.version, partition=partition,
                   mount=hierarchy.mount)

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> CgroupRef:
        return cls(path=str(d["path"]), version=int(d["version"]), partition=d.get("partition"),
                   mount=d.get("mount"), extra=_extra(d, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        out = thaw(self.extra)
        out.update(path=self.path, version=self.version, partition=self.partition)
        if self.mount is not None:
            out["mount"] = self.mount
        return out


@dataclass(frozen=True)
class HugepageHolding:
    """Hugepages a reservation counts on: ``pages`` pages of ``page_size`` bytes on NUMA node ``node``."""

    page_size: int
    node: int
    pages: int


@dataclass(frozen=True)
class Reservation:
    """One named reservation.

    ``kind``: ``cpu`` (cpu reserve, profile reservations) or ``request``
    (request evaluate --reserve, profile requests).  ``cpus`` are held
    exclusively; ``devices`` (PCI addresses) too.  ``hugepages`` (page size
    -> node -> pages) and ``memory`` (node -> bytes; None for CPU
    reservations, which do not record it) are counted on, not allocated.
    ``owner``: the process it belongs to (reconcile drops it once gone), or
    None (kept until released).  ``cgroup``: its cpuset cgroup, or None.
    ``request``: the ResourceRequest it was made for (kind request), so a
    profile applied again can tell "already reserved as asked".
    """

    name: str
    kind: str = CPU_KIND
    cpus: CpuSet = field(default_factory=CpuSet)
    nodes: tuple[int, ...] = ()
    devices: tuple[str, ...] = ()
    hugepages: Mapping[int, Mapping[int, int]] = field(default_factory=empty)
    memory: Mapping[int, int] | None = None
    owner: Owner | None = None
    cgroup: CgroupRef | None = None
    created: str = ""
    created_unix: float = 0.0
    options: Mapping[str, Any] = field(default_factory=empty)
    constraints: Mapping[str, Any] = field(default_factory=empty)
    request: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("name", "kind", "cpus", "nodes", "devices", "hugepages", "memory", "owner", "cgroup", "created",
             "created_unix", "options", "constraints", "request")

    @classmethod
    def new(cls, name: str, *, cpus: CpuSet | None = None, kind: str = CPU_KIND, nodes=(), devices=(),
            hugepages: Mapping[int, Mapping[int, int]] | None = None, memory: Mapping[int, int] | None = None,
            owner: Owner | None = None, options: Mapping[str, Any] | None = None,
            constraints: Mapping[str, Any] | None = None, request: Mapping[str, Any] | None = None,
            created: float | None = None) -> Reservation:
        """Return a new reservation made now (or at ``created``, seconds since the epoch)."""
        now = time.time() if created is None else created
        return cls(name=name, kind=kind, cpus=cpus if cpus is not None else CpuSet(),
                   nodes=tuple(int(n) for n in nodes), devices=tuple(str(a) for a in devices),
                   hugepages=freeze({int(s): {int(n): int(p) for n, p in per.items()}
                                     for s, per in (hugepages or {}).items()}),
                   memory=None if memory is None else freeze({int(n): int(b) for n, b in memory.items()}),
                   owner=owner, created=_now_stamp(now), created_unix=now,
                   options=freeze(dict(options or {})), constraints=freeze(dict(constraints or {})),
                   request=None if request is None else freeze(request))

    # -- reading ----------------------------------------------------------------------
    def hugepage_holdings(self) -> Iterator[HugepageHolding]:
        """Yield the hugepages counted on, by page size then node."""
        for size in sorted(self.hugepages):
            for node in sorted(self.hugepages[size]):
                yield HugepageHolding(size, node, self.hugepages[size][node])

    def with_cgroup(self, cgroup: CgroupRef | None) -> Reservation:
        return replace(self, cgroup=cgroup)

    # -- the file ---------------------------------------------------------------------
    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Reservation:
        """Return the reservation of a state file's JSON object; KeyError/TypeError/ValueError when malformed."""
        hp = d.get("hugepages") or {}
        mem = d.get("memory")
        return cls(
            name=str(d["name"]), kind=str(d.get("kind") or CPU_KIND), cpus=CpuSet.parse(d["cpus"]),
            nodes=tuple(int(n) for n in d.get("nodes") or ()), devices=tuple(str(a) for a in d.get("devices") or ()),
            hugepages=freeze({int(s): {int(n): int(p) for n, p in per.items()} for s, per in hp.items()}),
            memory=None if mem is None else freeze({int(n): int(b) for n, b in mem.items()}),
            owner=Owner.from_data(d["owner"]) if d.get("owner") else None,
            cgroup=CgroupRef.from_data(d["cgroup"]) if d.get("cgroup") else None,
            created=str(d.get("created") or ""), created_unix=d.get("created_unix", 0.0),
            options=freeze(d.get("options") or {}), constraints=freeze(d.get("constraints") or {}),
            request=freeze(d["request"]) if d.get("request") is not None else None,
            extra=_extra(d, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        """Return the JSON object the state file holds for this reservation."""
        out = thaw(self.extra)
        out.update(
            name=self.name, kind=self.kind, cpus=self.cpus.to_list(), nodes=list(self.nodes),
            devices=list(self.devices),
            hugepages={str(s): {str(n): p for n, p in per.items()} for s, per in self.hugepages.items()},
            owner=self.owner.to_data() if self.owner is not None else None,
            cgroup=self.cgroup.to_data() if self.cgroup is not None else None,
            created=self.created, created_unix=self.created_unix,
            options=thaw(self.options), constraints=thaw(self.constraints))
        if self.memory is not None:
            out["memory"] = {str(n): b for n, b in self.memory.items()}
        if self.request is not None:
            out["request"] = thaw(self.request)
        return out

    def view(self) -> dict[str, Any]:
        """Return the reservation for output (cpu list, release documents).

        The same bytes on every run while nothing changes: ``created`` (UTC,
        ISO 8601) and ``created_unix`` say when it was made; the age a table
        shows is computed when the table is printed.  (``age_seconds``,
        which changed on every run, is gone: issue 11 finding 12.)
        """
        return self.to_data()


@dataclass(frozen=True)
class ReservationState:
    """Every reservation of one state dir, the system CPUs and the node they belong to.

    ``fingerprint``: the node's (rmctl.model.fingerprint), None until the
    first change records it.  ``system_cpus``: the kubelet's
    reservedSystemCPUs, never handed out.  ``reservations`` by name.
    ``updated``: when it last changed (UTC, ISO 8601), None for a new state.
    """

    fingerprint: str | None = None
    system_cpus: CpuSet = field(default_factory=CpuSet)
    reservations: Mapping[str, Reservation] = field(default_factory=empty)
    updated: str | None = None
    api_version: str = STATE_API
    kind: str = STATE_KIND
    version: int = STATE_VERSION
    node_extra: Mapping[str, Any] = field(default_factory=empty)
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("apiVersion", "kind", "version", "node", "system_cpus", "reservations", "updated", "checksum")

    # -- reading ----------------------------------------------------------------------
    def get(self, name: str) -> Reservation | None:
        return self.reservations.get(name)

    def names(self) -> list[str]:
        return sorted(self.reservations)

    def reserved_cpus(self, *, exclude: str | None = None) -> CpuSet:
        """Return the CPUs every reservation (but ``exclude``) holds."""
        out = CpuSet()
        for name, rec in self.reservations.items():
            if name != exclude:
                out |= rec.cpus
        return out

    def holder_of(self) -> dict[int, str]:
        """Return {cpu: name of the reservation holding it}."""
        return {c: name for name, rec in self.reservations.items() for c in rec.cpus}

    # -- changes: each returns a new state --------------------------------------------
    def with_reservation(self, rec: Reservation) -> ReservationState:
        """Return this state with ``rec`` added (or replacing the reservation of its name)."""
        res = dict(self.reservations)
        res[rec.name] = rec
        return replace(self, reservations=MappingProxyType(res))

    def without(self, name: str) -> ReservationState:
        """Return this state without reservation ``name`` (unchanged when there is none)."""
        if name not in self.reservations:
            return self
        return replace(self, reservations=MappingProxyType({n: r for n, r in self.reservations.items() if n != name}))

    def with_system_cpus(self, cpus: CpuSet) -> ReservationState:
        return replace(self, system_cpus=cpus)

    def for_node(self, fingerprint: str | None) -> ReservationState:
        """Return this state recording ``fingerprint`` when it records none yet."""
        return self if self.fingerprint is not None else replace(self, fingerprint=fingerprint)

    def stamped(self, now: float | None = None) -> ReservationState:
        """Return this state with ``updated`` set to now."""
        return replace(self, updated=_now_stamp(time.time() if now is None else now))

    # -- the file ---------------------------------------------------------------------
    @classmethod
    def from_data(cls, doc: Mapping[str, Any]) -> ReservationState:
        """Return the state of a checked state file document (rmctl.state.ledger.parse checks it)."""
        node = doc.get("node") or {}
        return cls(
            fingerprint=node.get("fingerprint"), system_cpus=CpuSet.parse(doc.get("system_cpus") or ""),
            reservations=MappingProxyType({name: Reservation.from_data(rec)
                                           for name, rec in sorted(doc["reservations"].items())}),
            updated=doc.get("updated"), api_version=doc.get("apiVersion", STATE_API),
            kind=doc.get("kind", STATE_KIND), version=doc.get("version", STATE_VERSION),
            node_extra=_extra(node, ("fingerprint",)), extra=_extra(doc, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        """Return the state file document, without its checksum (rmctl.state.ledger.dumps adds it)."""
        out = thaw(self.extra)
        node = thaw(self.node_extra)
        node["fingerprint"] = self.fingerprint
        out.update({"apiVersion": self.api_version, "kind": self.kind, "version": self.version, "node": node,
                    "system_cpus": self.system_cpus.to_list(),
                    "reservations": {n: r.to_data() for n, r in self.reservations.items()},
                    "updated": self.updated})
        return out
