"""NUMA nodes from ``sys/devices/system/node`` (Documentation/ABI/stable/sysfs-devices-node).

Node ids can be sparse (0-2,33-34,45,72-73); nodes can have no CPUs (HBM,
NVM, POWER) or no memory; node cpumaps can name CPUs that do not exist
(``0-140`` on an s390 LPAR), so they are intersected with the online CPUs.
There may be no ``node/`` directory at all (s390, Arm phones): then there
are no nodes, as lscpu reports (hwloc invents one; rmctl does not).
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.cpu import read_cpumask_or_list
from rmctl.discovery.parse import number_after, parse_distance, parse_meminfo
from rmctl.discovery.root import Root
from rmctl.errors import ParseError
from rmctl.model.memory import HugepagePool
from rmctl.model.node import Finding


class RawNode:
    __slots__ = ("id", "cpus", "memory_total", "memory_free", "distances", "hugepages")

    def __init__(self, node: int):
        self.id = node
        self.cpus = CpuSet()
        self.memory_total: int | None = None
        self.memory_free: int | None = None
        self.distances: dict[int, int] = {}
        self.hugepages: tuple[HugepagePool, ...] = ()


#: the most NUMA nodes a kernel can have: MAX_NUMNODES = 1 << NODES_SHIFT,
#: and NODES_SHIFT is at most 10 (x86-64 MAXSMP, arm64, ia64; arch/*/Kconfig)
MAX_NODES = 1 << 10


def node_ids(root: Root) -> list[int]:
    """Return the NUMA node ids under the root, ascending (ids past MAX_NODES are not nodes)."""
    return sorted(i for n in root.listdir(paths.SYS_NODE)
                  if (i := number_after(n, "node")) is not None and i < MAX_NODES)


def read_nodes(root: Root, online: CpuSet, findings: list[Finding]) -> dict[int, RawNode]:
    """Return every NUMA node with its online CPUs, memory and distances."""
    from rmctl.discovery.memory import read_pools  # one reader for global and node pools

    ids = node_ids(root)
    if not ids:
        findings.append(Finding("no_numa_nodes", "no sys/devices/system/node/nodeN: no NUMA nodes reported "
                                "(as lscpu; hwloc would invent one)", paths.SYS_NODE, "info"))
    elif ids != list(range(len(ids))):
        findings.append(Finding("sparse_node_ids", f"NUMA node ids are sparse: {CpuSet(ids)}", paths.SYS_NODE,
                                "info"))
    nodes: dict[int, RawNode] = {}
    for nid in ids:
        n = RawNode(nid)
        cpus = read_cpumask_or_list(root, paths.node_file(nid, "cpulist"),
                                    paths.node_file(nid, "cpumap"), findings) or CpuSet()
        extra = cpus - online
        if extra:
            findings.append(Finding("node_lists_absent_cpus",
                                    f"node{nid} lists CPUs that are not online: {extra}",
                                    paths.node_file(nid, "cpulist"), "info"))
        n.cpus = cpus & online
        text = root.read(paths.node_file(nid, "meminfo"))
        if text is not None:
            mi = parse_meminfo(text)
            n.memory_total = mi.get("MemTotal")
            n.memory_free = mi.get("MemFree")
        dist = root.read(paths.node_file(nid, "distance"))
        if dist:
            try:
                row = parse_distance(dist)
                if len(row) == len(ids):
                    n.distances = dict(zip(ids, row, strict=True))
                else:
                    findings.append(Finding("bad_distance",
                                            f"node{nid}/distance has {len(row)} entries for {len(ids)} nodes",
                                            paths.node_file(nid, "distance")))
            except ParseError as e:
                findings.append(Finding("bad_distance", str(e), paths.node_file(nid, "distance")))
        n.hugepages = tuple(read_pools(root, paths.node_hugepages(nid), nid, findings))
        nodes[nid] = n
    # Each CPU must be in at most one node.
    seen: dict[int, int] = {}
    for n in nodes.values():
        for c in n.cpus:
            if c in seen:
                findings.append(Finding("cpu_in_two_nodes", f"CPU {c} listed by node{seen[c]} and node{n.id}",
                                        paths.SYS_NODE))
            else:
                seen[c] = n.id
    if nodes:
        orphans = online - CpuSet(seen)
        if orphans:
            findings.append(Finding("cpus_without_node", f"online CPUs in no NUMA node: {orphans}",
                                    paths.SYS_NODE))
    return nodes
