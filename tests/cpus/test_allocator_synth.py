"""The kubelet's cases again, on synthetic sysfs trees read by discovery.

tests/synth.py numbers CPUs as x86 Linux does (all first threads, then all
second threads), which is exactly how the kubelet's fixtures for these
machines are numbered, so the kubelet's expected CPUs apply unchanged:

* sockets=1 cores=4 threads=2            -> topoSingleSocketHT
* sockets=2 cores=4 threads=1            -> topoDualSocketNoHT
* sockets=2 cores=20 threads=2 numa=2    -> topoDualSocketMultiNumaPerSocketHT (dual Xeon 6230)
* sockets=1 cores=16 threads=1 l3=4      -> topoUncoreSingleSocketNoSMT
* sockets=1 cores=8 threads=2 l3=2       -> topoUncoreSingleSocketSMT

Every option is also run on each tree and compared with the same request
on the transcribed kubelet table (same CPUs, same order of ids).
"""

import random

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery import Root, discover
from rmctl.errors import UnsatisfiableError
from rmctl.planning import cpus as alloc
from rmctl.planning.cpus import KubeTopology, parse_options
from tests import synth
from tests.cpus import fixtures as fx
from tests.cpus.test_allocator_kubelet import DISTRIBUTED, PACKED, SPREAD, UNCORE

C = CpuSet.parse

TREES = {
    "SingleSocketHT": dict(sockets=1, cores=4, threads=2),
    "DualSocketNoHT": dict(sockets=2, cores=4, threads=1),
    "DualSocketMultiNumaPerSocketHT": dict(sockets=2, cores=20, threads=2, numa_per_socket=2),
    "UncoreSingleSocketNoSMT": dict(sockets=1, cores=16, threads=1, l3_per_socket=4),
    "UncoreSingleSocketSMT": dict(sockets=1, cores=8, threads=2, l3_per_socket=2),
}
def _l3_per_socket(rows):
    # The kubelet fixtures give every CPU uncore 0; real (and synth) sockets have an L3 each.
    return [(cpu, core, s, n, s) for cpu, core, s, n, _ in rows]


TABLES = {
    "SingleSocketHT": fx.SINGLE_SOCKET_HT,
    "DualSocketNoHT": _l3_per_socket(fx.DUAL_SOCKET_NO_HT),
    "DualSocketMultiNumaPerSocketHT": _l3_per_socket(fx.DUAL_SOCKET_MULTI_NUMA_HT),
    "UncoreSingleSocketNoSMT": fx.UNCORE_SINGLE_SOCKET_NO_SMT,
    "UncoreSingleSocketSMT": fx.UNCORE_SINGLE_SOCKET_SMT,
}
_cache = {}


@pytest.fixture(scope="module")
def discovered(tmp_path_factory):
    def get(name):
        if name not in _cache:
            root = synth.build(tmp_path_factory.mktemp(name), **TREES[name])
            _cache[name] = KubeTopology.from_topology(discover(Root.open(root)).topology)
        return _cache[name]
    return get


def test_discovered_topology_matches_kubelet_shape(discovered):
    t = discovered("DualSocketMultiNumaPerSocketHT")
    assert (t.num_cpus, t.num_cores, t.num_sockets, t.num_nodes) == (80, 40, 2, 4)
    assert t.cpus_per_core() == 2 and t.by_node[1] == frozenset(C("10-19,50-59"))
    u = discovered("UncoreSingleSocketSMT")
    assert u.num_uncore == 2 and u.by_uncore[1] == frozenset(C("4-7,12-15"))


@pytest.mark.parametrize("desc,name,avail,n,want", [p for p in PACKED if p[1] in TREES], ids=lambda v: str(v))
def test_packed_on_synth(discovered, desc, name, avail, n, want):
    assert alloc.take_packed(discovered(name), C(avail), n) == C(want)


@pytest.mark.parametrize("desc,name,avail,n,want", [u for u in UNCORE if u[1] in TREES], ids=lambda v: str(v))
def test_uncore_on_synth(discovered, desc, name, avail, n, want):
    assert alloc.allocate(discovered(name), C(avail), n, parse_options(["prefer-align-cpus-by-uncorecache"])) == C(want)


@pytest.mark.parametrize("desc,name,avail,n,want", [s for s in SPREAD if s[1] in TREES], ids=lambda v: str(v))
def test_spread_on_synth(discovered, desc, name, avail, n, want):
    assert alloc.allocate(discovered(name), C(avail), n, parse_options(["distribute-cpus-across-cores"])) == C(want)


@pytest.mark.parametrize("desc,name,avail,n,group,want", [d for d in DISTRIBUTED if d[1] in TREES],
                         ids=lambda v: str(v))
def test_distributed_on_synth(discovered, desc, name, avail, n, group, want):
    assert alloc.take_distributed(discovered(name), C(avail), n, group) == C(want)


OPTION_SETS = [[], ["full-pcpus-only"], ["distribute-cpus-across-numa"],
               ["distribute-cpus-across-numa", "full-pcpus-only"], ["align-by-socket"],
               ["distribute-cpus-across-cores"], ["prefer-align-cpus-by-uncorecache"],
               ["prefer-align-cpus-by-uncorecache", "full-pcpus-only"]]


@pytest.mark.parametrize("name", sorted(TREES))
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "+".join(o) or "default")
def test_every_option_agrees_with_kubelet_table(discovered, name, options):
    """Same request on the discovered tree and on the kubelet table -> same CPUs (or same failure)."""
    opts = parse_options(options)
    disc, table = discovered(name), fx.kube(TABLES[name])
    rng = random.Random(f"{name}{options}")
    all_cpus = sorted(table.details)
    for _ in range(12):
        free = CpuSet(c for c in all_cpus if rng.random() < 0.75)
        n = rng.randint(1, max(1, len(free)))
        affinity = rng.choice([None, [0], sorted(table.by_node)[-1:]])
        results = []
        for t in (disc, table):
            try:
                results.append(alloc.allocate(t, free, n, opts, numa_affinity=affinity))
            except UnsatisfiableError as e:
                results.append(str(e))
        assert results[0] == results[1], (free, n, affinity)
        if isinstance(results[0], CpuSet):
            assert len(results[0]) == n and results[0].issubset(free)
