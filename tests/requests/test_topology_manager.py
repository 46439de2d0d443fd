"""Topology Manager merge: cases transcribed from kubelet policy_test.go / the reference doc section 4."""

from rmctl.planning.topology_manager import Hint, capacity_hints, mask_of, merge

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
