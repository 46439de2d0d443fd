"""The kubelet's test topologies (pkg/kubelet/cm/cpumanager/policy_test.go), transcribed.

Each is a kubelet-style CPU details table: cpu -> (core, socket, numa, uncore).
``model_topology(table)`` builds an rmctl model Topology from such a table
(core keys are the kubelet's CoreID, package keys its SocketID) so the
allocator runs through the same conversion as discovered nodes.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.model.topology import Cache, Core, Cpu, NumaNode, Package, Topology
from rmctl.planning.cpus import CpuInfo, KubeTopology


def table(rows):
    """rows: iterable of (cpu, core, socket, numa, uncore) -> {cpu: CpuInfo}."""
    return {cpu: CpuInfo(core=core, socket=s, node=n, uncore=u) for cpu, core, s, n, u in rows}


def kube(rows, **totals) -> KubeTopology:
    return KubeTopology(table(rows), **totals)


# topoSingleSocketHT: 8 CPUs, 4 cores, siblings i and i+4.
SINGLE_SOCKET_HT = [(c, c % 4, 0, 0, 0) for c in range(8)]

# topoDualSocketHT: 12 CPUs, 6 cores; even cores on socket 0, siblings i and i+6.
DUAL_SOCKET_HT = [(c, c % 6, (c % 6) % 2, (c % 6) % 2, 0) for c in range(12)]

# topoDualSocketNoHT: 8 CPUs, 0-3 socket 0, 4-7 socket 1.
DUAL_SOCKET_NO_HT = [(c, c, c // 4, c // 4, 0) for c in range(8)]

# topoTripleSocketHT (fake): 18 CPUs, cores 0-2 socket 1, 3-5 socket 0, 6-8 socket 2; one NUMA node.
TRIPLE_SOCKET_HT = [(c, c // 2, {0: 1, 1: 0, 2: 2}[c // 6], 0, 0) for c in range(18)]

# topoDualSocketMultiNumaPerSocketHT: dual Xeon Gold 6230, 2 sockets x 2 NUMA
# nodes x 10 cores x 2 threads; siblings i and i+40.
DUAL_SOCKET_MULTI_NUMA_HT = [(c, c % 40, (c % 40) // 20, (c % 40) // 10, 0) for c in range(80)]

# fakeTopoMultiSocketDualSocketPerNumaHT: the same CPUs with NUMA nodes and
# sockets flipped (4 sockets, 2 NUMA nodes).
MULTI_SOCKET_DUAL_SOCKET_PER_NUMA_HT = [(c, c % 40, (c % 40) // 10, (c % 40) // 20, 0) for c in range(80)]

# topoQuadSocketFourWayHT: KNL SNC4 (hwloc's KNL.SNC4.H50 picture), 288 CPUs,
# 72 cores of 4 threads with irregular numbering: core id -> threads, per socket.
_QUAD = {
    0: {0: (0, 169, 109, 229), 1: (50, 170, 110, 230), 64: (1, 25, 13, 38), 65: (2, 26, 14, 39),
        72: (9, 33, 21, 46), 73: (10, 34, 22, 47), 8: (57, 177, 117, 237), 9: (58, 178, 118, 238),
        24: (71, 191, 131, 251), 25: (72, 192, 132, 252), 32: (79, 199, 139, 259), 33: (80, 200, 140, 260),
        40: (87, 207, 147, 267), 41: (88, 208, 148, 268), 48: (95, 215, 155, 275), 49: (96, 216, 156, 276),
        56: (103, 223, 163, 283), 57: (104, 224, 164, 284)},
    1: {66: (3, 27, 15, 40), 67: (4, 28, 16, 41), 74: (11, 35, 23, 48), 75: (12, 36, 24, 49),
        2: (51, 171, 111, 231), 3: (52, 172, 112, 232), 10: (59, 179, 119, 239), 11: (60, 180, 120, 240),
        18: (65, 185, 125, 245), 19: (66, 186, 126, 246), 26: (73, 193, 133, 253), 27: (74, 194, 134, 254),
        34: (81, 201, 141, 261), 35: (82, 202, 142, 262), 42: (89, 209, 149, 269), 43: (90, 210, 150, 270),
        50: (97, 217, 157, 277), 51: (98, 218, 158, 278)},
    2: {68: (5, 29, 17, 42), 69: (6, 30, 18, 43), 4: (53, 173, 113, 233), 5: (54, 174, 114, 234),
        12: (61, 181, 121, 241), 13: (62, 182, 122, 242), 20: (67, 187, 127, 247), 21: (68, 188, 128, 248),
        28: (75, 195, 135, 255), 29: (76, 196, 136, 256), 36: (83, 203, 143, 263), 37: (84, 204, 144, 264),
        44: (91, 211, 151, 271), 45: (92, 212, 152, 272), 52: (99, 219, 159, 279), 53: (100, 220, 160, 280),
        60: (105, 225, 165, 285), 61: (106, 226, 166, 286)},
    3: {70: (7, 31, 19, 44), 71: (8, 32, 20, 45), 63: (37, 168, 108, 228), 62: (107, 227, 167, 287),
        6: (55, 175, 115, 235), 7: (56, 176, 116, 236), 14: (63, 183, 123, 243), 15: (64, 184, 124, 244),
        22: (69, 189, 129, 249), 23: (70, 190, 130, 250), 30: (77, 197, 137, 257), 31: (78, 198, 138, 258),
        38: (85, 205, 145, 265), 39: (86, 206, 146, 266), 46: (93, 213, 153, 273), 47: (94, 214, 154, 274),
        54: (101, 221, 161, 281), 55: (102, 222, 162, 282)},
}
QUAD_SOCKET_FOUR_WAY_HT = [(cpu, core, s, s, 0) for s, cores in _QUAD.items()
                           for core, cpus in cores.items() for cpu in cpus]

# Uncore-cache (L3 group) layouts from cpu_assignment_test.go / policy_test.go.
# topoUncoreSingleSocketNoSMT: AMD EPYC-like, 16 cores, 4 per L3, one NUMA node.
UNCORE_SINGLE_SOCKET_NO_SMT = [(c, c, 0, 0, c // 4) for c in range(16)]
# topoUncoreDualSocketNoSMT: 2 sockets = 2 NUMA nodes, 2 L3 groups each.
UNCORE_DUAL_SOCKET_NO_SMT = [(c, c, c // 8, c // 8, c // 4) for c in range(16)]
# topoUncoreSingleSocketMultiNuma: 1 socket, 2 NUMA nodes (NPS2), 4 L3 groups.
UNCORE_SINGLE_SOCKET_MULTI_NUMA = [(c, c, 0, c // 8, c // 4) for c in range(16)]
# topoUncoreSingleSocketSMT: 8 cores x 2 threads (siblings i, i+8), 2 L3 groups.
UNCORE_SINGLE_SOCKET_SMT = [(c, c % 8, 0, 0, (c % 8) // 4) for c in range(16)]


def model_topology(rows) -> Topology:
    """Return an rmctl model Topology for a kubelet-style table (all CPUs online)."""
    rows = list(rows)
    core_cpus: dict[tuple[int, int], list[int]] = {}
    for cpu, core, s, _n, _u in rows:
        core_cpus.setdefault((s, core), []).append(cpu)
    cpus = {}
    for cpu, core, s, n, _u in rows:
        cpus[cpu] = Cpu(id=cpu, online=True, package=s, package_id=s, core=core, core_id=core, node=n,
                        siblings=CpuSet(core_cpus[(s, core)]))
    cores = {core: Core(key=core, core_id=core, package=s, cpus=CpuSet(core_cpus[(s, core)]))
             for (s, core) in core_cpus}
    packages = {s: Package(key=s, package_id=s, cpus=CpuSet(c for c, _, ss, _, _ in rows if ss == s),
                           cores=tuple(sorted(k for (ss, k) in core_cpus if ss == s)))
                for s in sorted({r[2] for r in rows})}
    nodes = {n: NumaNode(id=n, cpus=CpuSet(c for c, _, _, nn, _ in rows if nn == n))
             for n in sorted({r[3] for r in rows})}
    caches = tuple(Cache(level=3, type="unified", size_bytes=None, id=u,
                         cpus=CpuSet(c for c, _, _, _, uu in rows if uu == u))
                   for u in sorted({r[4] for r in rows}))
    return Topology(cpus=cpus, cores=cores, packages=packages, nodes=nodes, caches=caches)
