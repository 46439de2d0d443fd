"""distribute-cpus-across-numa is bounded (issue 14 item 5).

The kubelet's takeByTopologyNUMADistributed tries every combination of k
NUMA nodes and, for each, every subset of it for the remainder: on the
64-node ia64 fixture ``--count 16`` meant C(64, 4) = 635,376 combinations
(12 s) and ``--count 64`` did not finish.  rmctl examines one combination
per distinct sequence of free-CPU counts.  These tests count combinations
(no timing): every count from 1 to 64 on the 64-node fixture fits in a
budget of a few hundred, the answers are the brute-force search's on random
small topologies, and a search that would pass the budget stops with a
clear error.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmctl.discovery import Root, discover
from rmctl.errors import UnsatisfiableError
from rmctl.planning import cpus as alloc
from rmctl.planning.cpus import CpuInfo, KubeTopology, parse_options

IA64 = "hwloc-256ia64-64n2s2c"
DIST = parse_options(["distribute-cpus-across-numa"])


@pytest.fixture(scope="module")
def ia64(fixture_root):
    return KubeTopology.from_topology(discover(Root.open(fixture_root(IA64))).topology)


def _brute(items, keys, k, budget):
    """The kubelet's enumeration: every combination, in order."""
    for combo in itertools.combinations(items, k):
        budget.spend()
        yield list(combo)


def test_every_count_on_64_nodes_within_a_small_budget(ia64):
    assert ia64.num_nodes == 64 and ia64.num_cpus == 256
    cpus = ia64.cpus()
    for count in range(1, 65):
        # 200 combinations where the kubelet's search examines up to
        # C(64, 16) * 2^16: a count that needed more would raise here
        got = alloc.take_distributed(ia64, cpus, count, max_combinations=200)
        assert len(got) == count
        # spread evenly: no node holds more than ceil(count / nodes used) CPUs
        per_node = {}
        for c in got:
            per_node[ia64.details[c].node] = per_node.get(ia64.details[c].node, 0) + 1
        assert max(per_node.values()) - min(per_node.values()) <= 1, (count, per_node)


def test_partly_used_64_nodes_stay_within_budget(ia64):
    # free counts 0-4 per node after earlier reservations: five distinct keys
    busy = {c for c in ia64.cpus() if (c * 7919) % 5 == 0}
    avail = set(ia64.cpus()) - busy
    for count in (1, 5, 16, 31, 47, 64, 100, 150):
        got = alloc.allocate(ia64, avail, count, DIST)
        assert len(got) == count and set(got) <= avail


def test_count_16_through_the_cli(tmp_path, fixture_root):
    # the command, end to end (dry run: nothing is reserved)
    import json
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "rmctl", "--root", fixture_root(IA64), "--state-dir",
                        str(tmp_path / "state"), "cpu", "reserve", "job", "--count", "16", "--option",
                        "distribute-cpus-across-numa", "--dry-run", "-o", "json"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.dumps(json.loads(p.stdout))  # a document, not an error


def _topology(free_per_node: list[int], sockets_per_node: int = 1, cpus_per_node: int = 4) -> KubeTopology:
    details = {}
    cpu = 0
    for node, _ in enumerate(free_per_node):
        for _ in range(cpus_per_node):
            details[cpu] = CpuInfo(core=cpu, socket=node * sockets_per_node // 2, node=node, uncore=node)
            cpu += 1
    return KubeTopology(details)


def _available(topo: KubeTopology, free_per_node: list[int]) -> set[int]:
    avail = set()
    for node, free in enumerate(free_per_node):
        avail |= set(sorted(topo.by_node[node])[:free])
    return avail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(free=st.lists(st.integers(min_value=0, max_value=4), min_size=2, max_size=7),
       count=st.integers(min_value=1, max_value=28), group=st.sampled_from([1, 2]),
       align=st.booleans())
def test_same_answer_as_the_kubelets_search(free, count, group, align):
    topo = _topology(free)
    avail = _available(topo, free)
    if count > len(avail):
        return

    def run(enumerate_with):
        orig = alloc._distinct_combinations
        alloc._distinct_combinations = enumerate_with
        try:
            return alloc.take_distributed(topo, avail, count, group, align_by_socket=align,
                                          max_combinations=10 ** 9)
        except UnsatisfiableError as e:
            return ("error", e.message)
        finally:
            alloc._distinct_combinations = orig

    assert run(alloc._distinct_combinations) == run(_brute)


def test_distinct_combinations_are_the_first_of_each_class():
    budget = alloc._Budget(1, 10 ** 6)
    items = list(range(7))
    keys = [1, 1, 2, 1, 2, 2, 3]
    got = list(alloc._distinct_combinations(items, keys, 3, budget))
    want = {}
    for combo in itertools.combinations(items, 3):
        want.setdefault(tuple(keys[i] for i in combo), list(combo))
    assert got == list(want.values())  # one per key sequence, first of each, in order
    assert budget.used == len(got)


def test_budget_exceeded_is_a_clear_error():
    # 24 nodes with 24 different free counts: nothing is equivalent, and
    # C(24, 12) = 2.7 million combinations would be weighed
    free = list(range(1, 25))
    details = {}
    cpu = 0
    for node, _n in enumerate(free):
        for _ in range(24):
            details[cpu] = CpuInfo(core=cpu, socket=0, node=node, uncore=node)
            cpu += 1
    topo = KubeTopology(details)
    avail = set()
    for node, n in enumerate(free):
        avail |= set(sorted(topo.by_node[node])[:n])
    with pytest.raises(UnsatisfiableError) as e:
        alloc.take_distributed(topo, avail, 250)
    assert "distribute-cpus-across-numa" in e.value.message
    assert str(alloc.MAX_NUMA_COMBINATIONS) in e.value.message
    assert e.value.details["constraint"] == "distribute-cpus-across-numa"
    assert e.value.hint
    assert math.comb(24, 12) > alloc.MAX_NUMA_COMBINATIONS
