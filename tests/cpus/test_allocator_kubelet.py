"""The kubelet's own allocation cases, transcribed from kubernetes
pkg/kubelet/cm/cpumanager/cpu_assignment_test.go (TestTakeByTopologyNUMAPacked,
TestTakeByTopologyWithSpreadPhysicalCPUsPreferredOption,
TestTakeByTopologyNUMADistributed, TestCPUAccumulatorFree*) and
policy_static_test.go / the behaviour reference (reserved CPUs, NUMA
affinity, align-by-socket).  Expected CPUs are the kubelet's.
"""

import pytest

from rmctl.cpuset import CpuSet
from rmctl.errors import UnsatisfiableError, UsageError
from rmctl.planning import cpus as alloc
from rmctl.planning.cpus import KubeTopology, parse_options
from tests.cpus import fixtures as fx

C = CpuSet.parse

TOPOS = {
    "SingleSocketHT": fx.SINGLE_SOCKET_HT,
    "DualSocketHT": fx.DUAL_SOCKET_HT,
    "DualSocketNoHT": fx.DUAL_SOCKET_NO_HT,
    "TripleSocketHT": fx.TRIPLE_SOCKET_HT,
    "DualSocketMultiNumaPerSocketHT": fx.DUAL_SOCKET_MULTI_NUMA_HT,
    "MultiSocketDualSocketPerNumaHT": fx.MULTI_SOCKET_DUAL_SOCKET_PER_NUMA_HT,
    "QuadSocketFourWayHT": fx.QUAD_SOCKET_FOUR_WAY_HT,
    "UncoreSingleSocketNoSMT": fx.UNCORE_SINGLE_SOCKET_NO_SMT,
    "UncoreDualSocketNoSMT": fx.UNCORE_DUAL_SOCKET_NO_SMT,
    "UncoreSingleSocketMultiNuma": fx.UNCORE_SINGLE_SOCKET_MULTI_NUMA,
    "UncoreSingleSocketSMT": fx.UNCORE_SINGLE_SOCKET_SMT,
}


def topo(name, via_model=True) -> KubeTopology:
    rows = TOPOS[name]
    if via_model:  # through the rmctl model, as discovered nodes are
        return KubeTopology.from_topology(fx.model_topology(rows))
    return fx.kube(rows)


# commonTakeByTopologyTestCases + TestTakeByTopologyNUMAPacked
PACKED = [
    ("one cpu, single socket HT", "SingleSocketHT", "0-7", 1, "0"),
    ("one cpu, some taken", "SingleSocketHT", "1,3,5,6,7", 1, "6"),
    ("two cpus = a core", "SingleSocketHT", "0-7", 2, "0,4"),
    ("all cpus", "SingleSocketHT", "0-7", 8, "0-7"),
    ("two cpus, one core totally free", "SingleSocketHT", "0-3,6", 2, "2,6"),
    ("a socket of dual socket HT", "DualSocketHT", "0-11", 6, "0,2,4,6,8,10"),
    ("a socket, multi-numa-per-socket", "DualSocketMultiNumaPerSocketHT", "0-79", 40, "0-19,40-59"),
    ("a NUMA node, multi-numa-per-socket", "DualSocketMultiNumaPerSocketHT", "0-79", 20, "0-9,40-49"),
    ("a NUMA node, one already taken", "DualSocketMultiNumaPerSocketHT", "10-39,50-79", 20, "10-19,50-59"),
    ("a socket and a NUMA node", "DualSocketMultiNumaPerSocketHT", "0-79", 60, "0-29,40-69"),
    ("a socket and a NUMA node, a core taken", "DualSocketMultiNumaPerSocketHT", "1-39,41-79", 60, "10-39,50-79"),
    ("one cpu, core from socket 0", "DualSocketHT", "1-5,7-11", 1, "2"),
    ("4 full cores, 3 filling NUMA 0", "DualSocketHT", "0-11", 8, "0,6,2,8,4,10,1,7"),
    ("32 full cores, 3 NUMA nodes + 2", "DualSocketMultiNumaPerSocketHT", "0-79", 64, "0-29,40-69,30,31,70,71"),
]


@pytest.mark.parametrize("via_model", [True, False], ids=["model", "table"])
@pytest.mark.parametrize("desc,name,avail,n,want", PACKED, ids=[p[0] for p in PACKED])
def test_packed(desc, name, avail, n, want, via_model):
    assert alloc.take_packed(topo(name, via_model), C(avail), n) == C(want)


def test_packed_not_enough_message_is_the_kubelets():
    with pytest.raises(UnsatisfiableError) as e:
        alloc.take_packed(topo("SingleSocketHT"), C("0,2,4,6"), 5)
    assert str(e.value) == "not enough cpus available to satisfy request: requested=5, available=4"
    assert alloc.take_packed(topo("SingleSocketHT"), C("0-7"), 0) == CpuSet()


# PreferAlignByUncoreCache cases of TestTakeByTopologyNUMAPacked
UNCORE = [
    ("two full L3 and part of one", "UncoreSingleSocketNoSMT", "1-15", 10, "1,2,4-11"),
    ("one cpu, dual socket HT (single L3)", "DualSocketHT", "1-5,7-11", 1, "1"),
    ("first L3 of first socket", "UncoreDualSocketNoSMT", "0-15", 4, "0-3"),
    ("all L3 of first socket", "UncoreDualSocketNoSMT", "2-15", 6, "2-7"),
    ("first L3 of second socket", "UncoreDualSocketNoSMT", "8-15", 4, "8-11"),
    ("first L3 of available NUMA", "UncoreSingleSocketMultiNuma", "3,4-8,12", 2, "4,5"),
    ("best L3 group, SMT", "UncoreSingleSocketSMT", "2-3,10-11,4-7,12-15", 6, "4-6,12-14"),
    ("several L3 groups, SMT", "UncoreSingleSocketSMT", "1-7,9-15", 10, "4-7,12-15,1,9"),
]


@pytest.mark.parametrize("desc,name,avail,n,want", UNCORE, ids=[u[0] for u in UNCORE])
def test_prefer_align_by_uncorecache(desc, name, avail, n, want):
    opts = parse_options(["prefer-align-cpus-by-uncorecache"])
    assert alloc.allocate(topo(name), C(avail), n, opts) == C(want)


def test_uncore_default_packing_differs():
    # Reference 2.4: default packing picks CPU 2 (fuller NUMA node), uncore picks 1.
    assert alloc.allocate(topo("DualSocketHT"), C("1-5,7-11"), 1) == C("2")


# TestTakeByTopologyWithSpreadPhysicalCPUsPreferredOption
SPREAD = [
    ("single socket HT, 3", "SingleSocketHT", "0-7", 3, "0-2"),
    ("dual socket HT, 2", "DualSocketHT", "0-11", 2, "0,2"),
    ("dual socket HT, 3", "DualSocketHT", "0-11", 3, "0,2,4"),
    ("dual socket HT, 6", "DualSocketHT", "0-11", 6, "0,2,4,6,8,10"),
    ("dual socket HT, 8", "DualSocketHT", "0-11", 8, "0,2,4,6,8,10,1,3"),
    ("dual socket no HT, 2", "DualSocketNoHT", "0-7", 2, "0,1"),
    ("multi numa per socket, 8", "DualSocketMultiNumaPerSocketHT", "0-79", 8, "0-7"),
    ("quad socket four way, 12", "QuadSocketFourWayHT", "0-287", 12, "0-2,9-10,13-14,21-22,25-26,33"),
]


@pytest.mark.parametrize("desc,name,avail,n,want", SPREAD, ids=[s[0] for s in SPREAD])
def test_distribute_cpus_across_cores(desc, name, avail, n, want):
    opts = parse_options(["distribute-cpus-across-cores=true"])
    assert alloc.allocate(topo(name), C(avail), n, opts) == C(want)


# TestTakeByTopologyNUMADistributed (+ commonTakeByTopologyExtendedTestCases)
DISTRIBUTED = [
    ("4 full cores, 2 per NUMA", "DualSocketHT", "0-11", 8, 1, "0,6,2,8,1,7,3,9"),
    ("32 cores, 8 per NUMA", "DualSocketMultiNumaPerSocketHT", "0-79", 64, 1,
     "0-7,10-17,20-27,30-37,40-47,50-57,60-67,70-77"),
    ("24 cores on the first 3 NUMA", "DualSocketMultiNumaPerSocketHT", "0-79", 48, 1,
     "0-7,10-17,20-27,40-47,50-57,60-67"),
    ("24 cores, all but 2 of NUMA 0", "DualSocketMultiNumaPerSocketHT", "1-29,32-39,41-69,72-79", 48, 1,
     "1-8,10-17,20-27,41-48,50-57,60-67"),
    ("24 cores on the last 3 NUMA", "DualSocketMultiNumaPerSocketHT", "2-29,31-39,42-69,71-79", 48, 1,
     "10-17,20-27,31-38,50-57,60-67,71-78"),
    ("8 cores, 2 per NUMA", "DualSocketMultiNumaPerSocketHT", "0-2,10-12,20-22,30-32,40-41,50-51,60-61,70-71",
     16, 1, "0-1,10-11,20-21,30-31,40-41,50-51,60-61,70-71"),
    ("one cpu, socket 0", "DualSocketHT", "1-5,7-11", 1, 1, "1"),
    ("one cpu, group 2 falls back to packed", "DualSocketHT", "1-5,7-11", 1, 2, "2"),
    ("13 cores over 2 NUMA", "DualSocketMultiNumaPerSocketHT", "0-79", 26, 1, "0-6,10-16,40-45,50-55"),
    ("13 cores over 2 NUMA, group 2", "DualSocketMultiNumaPerSocketHT", "0-79", 26, 2, "0-6,10-15,40-46,50-55"),
    ("31 cores, spill to NUMA 0,1", "DualSocketMultiNumaPerSocketHT", "0-79", 62, 1,
     "0-7,10-17,20-27,30-37,40-47,50-57,60-66,70-76"),
    ("31 cores, group 2, spill to 0,1,2", "DualSocketMultiNumaPerSocketHT", "0-79", 62, 2,
     "0-7,10-17,20-27,30-36,40-47,50-57,60-67,70-76"),
    ("31 cores, spill to 2,3 for balance", "DualSocketMultiNumaPerSocketHT",
     "0-8,10-18,20-39,40-48,50-58,60-79", 62, 1, "0-7,10-17,20-27,30-37,40-46,50-56,60-67,70-77"),
    ("31 cores, group 2, spill to 0,2,3", "DualSocketMultiNumaPerSocketHT",
     "0-8,10-18,20-39,40-48,50-58,60-79", 62, 2, "0-7,10-16,20-27,30-37,40-47,50-56,60-67,70-77"),
    ("bestRemainder with enough CPUs", "DualSocketMultiNumaPerSocketHT",
     "0-3,10-13,20-23,30-36,40-43,50-53,60-63,70-76", 34, 1, "0-3,10-13,20-23,30-34,40-43,50-53,60-63,70-74"),
] + [(p[0] + " (common)", p[1], p[2], p[3], 1, p[4]) for p in PACKED[:11]]


@pytest.mark.parametrize("desc,name,avail,n,group,want", DISTRIBUTED, ids=[d[0] for d in DISTRIBUTED])
def test_distribute_cpus_across_numa(desc, name, avail, n, group, want):
    assert alloc.take_distributed(topo(name), C(avail), n, group) == C(want)


def test_distribute_option_uses_core_groups_with_full_pcpus_only():
    opts = parse_options(["distribute-cpus-across-numa", "full-pcpus-only"])
    got = alloc.allocate(topo("DualSocketMultiNumaPerSocketHT"), C("0-79"), 26, opts)
    assert got == C("0-6,10-15,40-46,50-55")


# TestCPUAccumulatorFree* orderings
@pytest.mark.parametrize("name,avail,want", [
    ("DualSocketHT", "0-11", [0, 2, 4, 1, 3, 5]),
    ("DualSocketHT", "1-5,7-11", [2, 4, 1, 3, 5]),
    ("DualSocketHT", "2-5,8-11", [2, 4, 3, 5]),
    ("SingleSocketHT", "0-6", [0, 1, 2]),
])
def test_free_cores_order(name, avail, want):
    assert alloc._Accumulator(topo(name), C(avail), 0).free_cores() == want


@pytest.mark.parametrize("name,avail,want", [
    ("SingleSocketHT", "0-7", [0, 4, 1, 5, 2, 6, 3, 7]),
    ("SingleSocketHT", "3-7", [4, 5, 6, 3, 7]),
    ("DualSocketHT", "1-11", [6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11]),
    ("TripleSocketHT", "0-3,6-13", [12, 13, 0, 1, 2, 3, 6, 7, 8, 9, 10, 11]),
])
def test_free_cpus_order(name, avail, want):
    assert alloc._Accumulator(topo(name), C(avail), 0).sort_cpus_packed() == want


@pytest.mark.parametrize("name,avail,sockets,nodes", [
    ("DualSocketMultiNumaPerSocketHT", "0-79", [0, 1], [0, 1, 2, 3]),
    ("DualSocketMultiNumaPerSocketHT", "1-79", [1], [1, 2, 3]),
    ("DualSocketMultiNumaPerSocketHT", "1-9,11-79", [1], [2, 3]),
    ("DualSocketMultiNumaPerSocketHT", "1-59,61-79", [], [1, 3]),
    ("MultiSocketDualSocketPerNumaHT", "0-19,21-79", [0, 1, 3], [0]),
    ("MultiSocketDualSocketPerNumaHT", "0-9,11-79", [0, 2, 3], [1]),
])
def test_free_sockets_and_nodes(name, avail, sockets, nodes):
    acc = alloc._Accumulator(topo(name), C(avail), 0)
    assert sorted(acc.free_sockets()) == sockets
    assert acc.free_nodes() == nodes


# policy_static.go: reserved CPUs and allocateCPUs with a NUMA affinity.
def test_reserved_cpus_packed():
    t = topo("DualSocketHT")
    assert alloc.reserved_cpus(t, 1) == C("0")
    assert alloc.reserved_cpus(t, 2) == C("0,6")


def test_numa_affinity_takes_aligned_first():
    # affinity NUMA 1, request 8 -> the six socket-1 CPUs plus the whole core 0,6
    got = alloc.allocate(topo("DualSocketHT"), C("0-11"), 8, numa_affinity=[1])
    assert got == C("1,3,5,7,9,11,0,6")


def test_align_by_socket_widens_affinity():
    t = topo("DualSocketMultiNumaPerSocketHT")
    assert alloc.allocate(t, C("2,11,21,22"), 2, numa_affinity=[0, 2]) == C("2,21")
    opts = parse_options(["align-by-socket"])
    assert alloc.allocate(t, C("2,11,21,22"), 2, opts, numa_affinity=[0, 2]) == C("2,11")


def test_full_pcpus_only_errors():
    t = topo("SingleSocketHT")
    opts = parse_options(["full-pcpus-only"])
    with pytest.raises(UnsatisfiableError, match="not multiple cpus per core = 2"):
        alloc.allocate(t, C("0-7"), 3, opts)
    # reserved CPU 0 withholds its sibling 4 from the physical count
    with pytest.raises(UnsatisfiableError, match="available physical CPUs = 6"):
        alloc.allocate(t, C("1-7"), 8, opts, reserved=[0])
    assert alloc.allocate(t, C("1-7"), 4, opts, reserved=[0]) == C("1,5,2,6")


@pytest.mark.parametrize("items", [
    ["no-such-option"], ["full-pcpus-only=maybe"],
    ["full-pcpus-only", "distribute-cpus-across-cores"],
    ["distribute-cpus-across-numa", "distribute-cpus-across-cores"],
    ["prefer-align-cpus-by-uncorecache", "distribute-cpus-across-numa"],
])
def test_bad_options(items):
    with pytest.raises(UsageError):
        parse_options(items)


def test_option_values_are_go_booleans():
    assert parse_options(["full-pcpus-only=True"]).full_pcpus_only
    assert not parse_options(["full-pcpus-only=0"]).full_pcpus_only
    assert parse_options(["align-by-socket=t"]).names() == ["align-by-socket"]


def test_busy_thread_of_uneven_core_never_handed_out():
    # 15 online CPUs on 8 cores: CPUsPerCore = 15 // 8 = 1, so the kubelet counts
    # core 0 (CPU 0 busy, CPU 8 free) as free and would hand out CPU 0 too.
    rows = [(c, c % 8, (c % 8) // 4, 0, 0) for c in range(16) if c != 7]
    t = fx.kube(rows)
    got = alloc.allocate(t, C("1-6,8-15"), 2)
    assert len(got) == 2 and 0 not in got
