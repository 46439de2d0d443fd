"""CPUs, cores, packages, caches and NUMA nodes.

Vocabulary (as the kernel's, and hwloc's ``os_index``): ``cpu`` is the
kernel's logical CPU number, unique and never renumbered.  Raw sysfs ids
(``core_id``, ``physical_package_id``) repeat across packages, can be sparse
or -1, so cores and packages carry a *key* that is unique on the node: the
lowest CPU id among their CPUs (the kubelet does the same for cores,
pkg/kubelet/cm/cpumanager/topology/topology.go).
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.model.memory import HugepagePool
from rmctl.model.record import field, record

TYPE_CHECKING = False  # the typing module costs ~2 ms on the start-up path; type checkers see True
if TYPE_CHECKING:
    from collections.abc import Mapping


@record
class Cpu:
    """One logical CPU (hardware thread).

    ``id`` is the kernel CPU number.  Topology fields are None when the CPU
    is offline (the kernel removes ``topology/`` of offline CPUs) or the
    kernel does not say.  ``core`` and ``package`` are keys, not raw ids.
    """

    id: int
    online: bool
    present: bool = True
    package: int | None = None  #: package key (lowest CPU id of the package)
    package_id: int | None = None  #: raw physical_package_id (-1 -> None)
    die_id: int | None = None
    cluster_id: int | None = None
    core: int | None = None  #: core key (lowest CPU id of its thread siblings)
    core_id: int | None = None  #: raw core_id, repeats across packages
    node: int | None = None  #: NUMA node, None when no node lists the CPU
    siblings: CpuSet = field(default_factory=CpuSet)  #: thread siblings incl. itself
    core_type: str | None = None  #: "performance"/"efficiency" or the kernel's name
    capacity: int | None = None  #: cpu_capacity (Arm) or highest_perf/max freq
    isolated: bool = False  #: in cpu/isolated or isolcpus=
    nohz_full: bool = False  #: in cpu/nohz_full or nohz_full=
    allowed: bool = True  #: in this process's cpuset (cgroup) / affinity


@record
class Core:
    """A physical core: the CPUs sharing ``thread_siblings``."""

    key: int
    core_id: int | None
    package: int | None
    cpus: CpuSet  #: online threads of the core
    die_id: int | None = None
    cluster_id: int | None = None
    core_type: str | None = None


@record
class Package:
    """A package (socket); ``key`` unique, ``package_id`` the raw id or None."""

    key: int
    package_id: int | None
    cpus: CpuSet  #: online CPUs of the package
    cores: tuple[int, ...] = ()  #: core keys


@record
class Cache:
    """One cache instance: ``cpus`` are the online CPUs sharing it."""

    level: int
    type: str  #: "data" | "instruction" | "unified"
    size_bytes: int | None
    cpus: CpuSet
    id: int | None = None
    line_size: int | None = None
    ways: int | None = None
    #: False when the kernel does not say which CPUs share it (s390 L3/L4,
    #: known only from proc/cpuinfo): ``cpus`` is then every online CPU and
    #: the number of instances is unknown.
    cpus_known: bool = True


@record
class NumaNode:
    """A NUMA node; CPU-less and memory-less nodes are normal."""

    id: int
    cpus: CpuSet  #: online CPUs of the node
    memory_total: int | None = None  #: bytes, MemTotal of nodeN/meminfo
    memory_free: int | None = None
    distances: Mapping[int, int] = field(default_factory=dict)  #: node id -> distance (node/distance)
    hugepages: tuple[HugepagePool, ...] = ()


@record
class Topology:
    """All CPUs, cores, packages, caches and NUMA nodes, with query helpers."""

    cpus: Mapping[int, Cpu]  #: by CPU id
    cores: Mapping[int, Core]  #: by core key
    packages: Mapping[int, Package]  #: by package key
    nodes: Mapping[int, NumaNode]  #: by node id
    caches: tuple[Cache, ...] = ()

    # -- sets ------------------------------------------------------------
    def online_cpus(self) -> CpuSet:
        return CpuSet(c.id for c in self.cpus.values() if c.online)

    def offline_cpus(self) -> CpuSet:
        return CpuSet(c.id for c in self.cpus.values() if c.present and not c.online)

    def allowed_cpus(self) -> CpuSet:
        return CpuSet(c.id for c in self.cpus.values() if c.online and c.allowed)

    def isolated_cpus(self) -> CpuSet:
        return CpuSet(c.id for c in self.cpus.values() if c.isolated)

    # -- queries (kubelet CPUDetails style) -------------------------------
    def cpus_in(self, *, node: int | None = None, package: int | None = None,
                core: int | None = None) -> CpuSet:
        """Return the online CPUs in the given node, package and/or core."""
        out = []
        for c in self.cpus.values():
            if not c.online:
                continue
            if node is not None and c.node != node:
                continue
            if package is not None and c.package != package:
                continue
            if core is not None and c.core != core:
                continue
            out.append(c.id)
        return CpuSet(out)

    def siblings(self, cpu: int) -> CpuSet:
        """Return the online thread siblings of ``cpu`` (itself included)."""
        c = self.cpus[cpu]
        return CpuSet(s for s in c.siblings if s in self.cpus and self.cpus[s].online) or CpuSet([cpu])

    def cores_in(self, *, node: int | None = None, package: int | None = None) -> list[Core]:
        """Return the cores with an online CPU in the node and/or package."""
        return [
            k for k in self.cores.values()
            if any(
                (node is None or self.cpus[c].node == node)
                and (package is None or self.cpus[c].package == package)
                for c in k.cpus
            )
        ]

    def nodes_of(self, cpus: CpuSet) -> list[int]:
        """Return the NUMA nodes that hold any of ``cpus``."""
        return sorted({n for c in cpus if c in self.cpus and (n := self.cpus[c].node) is not None})

    def threads_per_core_max(self) -> int:
        return max((len(k.cpus) for k in self.cores.values()), default=0)

    def summary_caches(self) -> list[dict]:
        """Return caches grouped by (level, type, size) with instance counts.

        ``instances`` is None for caches whose sharing is unknown (s390 L3/L4).
        """
        groups: dict[tuple, int | None] = {}
        for c in self.caches:
            if not c.cpus:
                continue
            key = (c.level, c.type, c.size_bytes)
            if not c.cpus_known:
                groups[key] = None
            elif key not in groups or groups[key] is not None:
                groups[key] = (groups.get(key) or 0) + 1
        order = {"data": 0, "instruction": 1, "unified": 2}
        return [
            {"level": lv, "type": ty, "size_bytes": sz, "instances": n}
            for (lv, ty, sz), n in sorted(
                groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9), kv[0][2] or 0)
            )
        ]
