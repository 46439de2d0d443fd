"""Topology Manager merge: cases transcribed from kubelet policy_test.go / the reference doc section 4;
max-allowable-numa-nodes and the cost of the merge on many nodes."""

import json
import random

import pytest

from rmctl.planning import topology_manager as tm
from rmctl.planning.topology_manager import Hint, HintMerger, capacity_hints, mask_of, merge
from tests import synth
from tests.requests.helpers import FIXTURE_64, request_file

N2 = [0, 1]
N4 = [0, 1, 2, 3]


def H(nodes, preferred):
    return Hint(None if nodes is None else mask_of(nodes), preferred)


def test_none_policy_admits_without_merging():
    a = merge("none", N2, [{"cpu": []}])
    assert a.admit and a.hint.mask is None


def test_no_providers_is_any_preferred():
    a = merge("restricted", N2, [])
    assert a.admit and a.hint.preferred and a.hint.nodes() == [0, 1]


def test_narrowest_preferred_wins():
    a = merge("best-effort", N2, [{"cpu": [H([0], True), H([1], True), H([0, 1], False)]},
                                  {"gpu": [H([0], True), H([1], True), H([0, 1], False)]}])
    assert a.hint == H([0], True) and a.admit


def test_narrow_and_wide_preferred_merge_is_not_preferred():
    # policy.go mergePermutation: preferred only when every mask is equal
    a = merge("restricted", N2, [{"cpu": [H([0, 1], True)]}, {"gpu": [H([0], True), H([1], True), H([0, 1], False)]}])
    assert not a.hint.preferred and not a.admit
    assert a.reason.startswith("TopologyAffinityError")
    b = merge("best-effort", N2, [{"cpu": [H([0, 1], True)]}, {"gpu": [H([0], True), H([1], True), H([0, 1], False)]}])
    # bestNonPreferredAffinityCount = 2: the two-node mask wins among non-preferred
    assert b.admit and b.hint == H([0, 1], False)


def test_empty_hint_list_means_unsatisfiable():
    a = merge("best-effort", N2, [{"cpu": []}])
    assert a.hint == H([0, 1], False) and a.admit
    assert not merge("restricted", N2, [{"cpu": []}]).admit


def test_nil_hints_mean_no_preference():
    a = merge("single-numa-node", N2, [{"gpu": None}, {"cpu": [H([1], True), H([0, 1], False)]}])
    assert a.admit and a.hint == H([1], True)


def test_single_numa_node_drops_wide_hints_and_reports_all_as_any():
    a = merge("single-numa-node", N2, [{"cpu": [H([0, 1], True)]}])
    assert not a.admit
    b = merge("single-numa-node", N2, [{"cpu": None}])
    assert b.admit and b.hint.mask is None


def test_non_preferred_closest_to_best_count():
    # bestNonPreferredAffinityCount (1) of policy_test.go: 4 nodes, every hint non-preferred
    a = merge("best-effort", N4, [{"r1": [H([0, 1, 2, 3], False), H([0, 1], False), H([0, 1, 2], False)]},
                                  {"r2": [H([0, 1, 2, 3], False), H([0, 1], False), H([0, 1, 2], False)]}])
    assert a.hint == H([0, 1], False)


def test_prefer_closest_numa_breaks_ties_by_distance():
    dist = {0: {0: 10, 1: 21, 2: 11, 3: 21}, 1: {0: 21, 1: 10, 2: 21, 3: 11},
            2: {0: 11, 1: 21, 2: 10, 3: 21}, 3: {0: 21, 1: 11, 2: 21, 3: 10}}
    hints = [{"cpu": [H([0, 1], True), H([0, 2], True)]}]
    assert merge("best-effort", N4, hints).hint == H([0, 1], True)
    assert merge("best-effort", N4, hints, distances=dist, prefer_closest=True).hint == H([0, 2], True)


def test_capacity_hints_prefer_by_capacity_not_availability():
    # 6 CPUs per node, 8 wanted: only {0,1}, and it is preferred (min width 2 by capacity)
    h = capacity_hints(N2, 8, available=lambda n: 6, capacity=lambda n: 6)
    assert h == [H([0, 1], True)]
    # busy node 0 (2 free) and 4 wanted: {1} preferred; {0,1} a non-preferred hint
    h = capacity_hints(N2, 4, available=lambda n: 2 if n == 0 else 6, capacity=lambda n: 6)
    assert h == [H([1], True), H([0, 1], False)]
    # kubernetes#84597: fits one node by capacity, only across nodes by availability
    h = capacity_hints(N2, 4, available=lambda n: 3, capacity=lambda n: 6)
    assert h == [H([0, 1], False)]


# -- Topology Manager: max-allowable-numa-nodes and the merge cost -----------------------

def test_too_many_numa_nodes_follows_the_kubelet():
    assert tm.too_many_numa_nodes("none", list(range(64))) is None
    assert tm.too_many_numa_nodes("best-effort", list(range(8))) is None
    msg = tm.too_many_numa_nodes("restricted", list(range(9)))
    assert "more than 8 NUMA nodes" in msg and "this node has 9" in msg
    assert tm.too_many_numa_nodes("restricted", list(range(9)), limit=10) is None


def test_64_node_fixture_is_refused_without_enumerating_hints(run_cli, tmp_path, monkeypatch):
    calls = []
    real = tm.capacity_hints
    monkeypatch.setattr(tm, "capacity_hints", lambda *a, **k: calls.append(1) or real(*a, **k))
    path = request_file(tmp_path, "  topologyPolicy: best-effort\n  cpus: {count: 4}\n  memory: 1Gi\n")
    code, out, err = run_cli("--root", FIXTURE_64, "request", "evaluate", path, "-o", "json")
    assert code == 4, err
    doc = json.loads(out)
    assert doc["fits"] is False and "more than 8 NUMA nodes" in doc["reasons"][0] and "has 64" in doc["reasons"][0]
    assert calls == []  # refused before any 2^64 enumeration
    # policy none is never refused: it fits and computes no hints at all
    path = request_file(tmp_path, "  topologyPolicy: none\n  cpus: {count: 4}\n  memory: 1Gi\n", "n.yaml")
    code, out, err = run_cli("--root", FIXTURE_64, "request", "evaluate", path, "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["fits"] is True and doc["cpus"] == "0-3", err
    assert calls == [] and any("NUMA hints not computed" in n for n in doc["notes"])
    assert all(r["hints"] is None for r in doc["resources"])
    # the long per-node list is summarised
    mem = next(r for r in doc["resources"] if r["resource"] == "memory")
    assert "on each of 64 nodes" in mem["reason"]


def test_max_allowable_numa_nodes_option_range(run_cli, tmp_path):
    path = request_file(tmp_path, "  cpus: {count: 1}\n")
    code, _, err = run_cli("request", "evaluate", path, "--max-allowable-numa-nodes", "13")
    assert code == 2 and "max-allowable-numa-nodes" in err
    code, _, err = run_cli("request", "evaluate", path, "--max-allowable-numa-nodes", "7")
    assert code == 2


def test_raised_limit_evaluates_a_12_node_machine(tmp_path):
    from rmctl.discovery import discover
    from rmctl.discovery.root import Root
    from rmctl.planning.requests import evaluate
    from rmctl.resources.classes import builtin_classes
    from rmctl.resources.request import load_request

    root = synth.build(tmp_path, sockets=12, cores=2, threads=2, devices=[
        synth.Device(f"0000:00:{i + 1:02x}.0", numa_node=i, driver="nvidia") for i in range(12)])
    path = request_file(tmp_path, "  topologyPolicy: best-effort\n  cpus: {count: 6}\n"
                "  devices:\n  - {name: gpu, class: gpu, count: 2}\n")
    node = discover(Root.open(root), devices=True)
    req = load_request(path)
    refused = evaluate(node, req, builtin_classes())
    assert not refused.fits and "more than 8 NUMA nodes" in refused.reasons[0]
    ev = evaluate(node, req, builtin_classes(), max_numa_nodes=12)
    assert ev.fits and ev.numa_nodes == (0, 1) and ev.admission.hint == Hint(mask_of([0, 1]), True)


def test_merge_counts_distinct_states_not_permutations():
    nodes = list(range(8))
    every = [Hint(m, bin(m).count("1") == 1) for m in tm.iterate_masks(nodes)]  # 255 hints
    merger = HintMerger(nodes, [every, every, every, every], "best-effort")
    best = merger.merge()
    assert best == Hint(1, True)
    # 255^4 = 4.2e9 permutations; the distinct partial merges are bounded by 2 * 2^8 + 1 per provider
    assert merger.states <= 4 * (2 * 256 + 1) + 1


@pytest.mark.parametrize("seed", range(40))
def test_deduplicated_merge_equals_the_kubelets_exhaustive_walk(seed):
    rnd = random.Random(seed)
    nodes = list(range(rnd.choice([2, 3, 4])))
    masks = list(tm.iterate_masks(nodes))
    lists = []
    for _ in range(rnd.randint(1, 4)):
        lists.append([Hint(None if rnd.random() < 0.1 else rnd.choice(masks), rnd.random() < 0.5)
                      for _ in range(rnd.randint(0, 4))])
    for policy in ("best-effort", "restricted"):
        dist = {a: {b: (10 if a == b else 20 + rnd.randint(0, 3)) for b in nodes} for a in nodes}
        for closest in (False, True):
            m = HintMerger(nodes, lists, policy, dist, closest)
            assert m.merge() == m.merge_exhaustive(), (lists, policy, closest)
