"""The kubelet's Topology Manager, ported: hint merging and admission policies.

Pure functions over NUMA masks; no I/O.  Ported from kubernetes
pkg/kubelet/cm/topologymanager (policy.go HintMerger, policy_best_effort.go,
policy_restricted.go, policy_single_numa_node.go, numa_info.go,
bitmask/bitmask.go; main branch, 2024-2025), described in
../shared/reference/kubelet-resource-managers.md section 4.

Vocabulary:

* a *mask* is a set of NUMA node ids, kept as an int bitmask (bit n = node n);
  ``None`` means "any NUMA node" (the kubelet's nil affinity);
* a :class:`Hint` is (mask, preferred);
* a provider returns, per resource name, a list of hints; ``None`` means
  "no preference" and an empty list "cannot be satisfied anywhere".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import combinations

from rmctl.model.value import value

POLICIES = ("none", "best-effort", "restricted", "single-numa-node")

#: The kubelet's default for the max-allowable-numa-nodes policy option
#: (topology_manager.go defaultMaxAllowableNUMANodes, KEP-4622): hints are
#: enumerated over every NUMA mask (2^n), so larger machines are refused
#: unless the option is raised; policy none is never refused.
MAX_ALLOWABLE_NUMA_NODES = 8
#: How far rmctl lets the option be raised: every mask is enumerated per
#: resource, and past this the evaluation would take minutes, not seconds.
MAX_ALLOWABLE_NUMA_NODES_LIMIT = 12


def too_many_numa_nodes(policy: str, nodes: list[int], limit: int = MAX_ALLOWABLE_NUMA_NODES) -> str | None:
    """Return why the Topology Manager refuses this node under ``policy``, or None when it does not.

    The kubelet fails to start with "unsupported on machines with more
    than N NUMA Nodes" when a policy other than none is set on a machine
    with more NUMA nodes than max-allowable-numa-nodes (topology_manager.go NewManager).
    """
    if policy == "none" or len(nodes) <= limit:
        return None
    return (f"the Topology Manager is unsupported on machines with more than {limit} NUMA nodes "
            f"(this node has {len(nodes)}; max-allowable-numa-nodes is {limit}, the kubelet default {MAX_ALLOWABLE_NUMA_NODES}): "
            f"use topologyPolicy none, or raise --max-allowable-numa-nodes "
            f"(up to {MAX_ALLOWABLE_NUMA_NODES_LIMIT})")


# -- bitmask.go ------------------------------------------------------------

def mask_of(nodes: Iterable[int]) -> int:
    """Return the bitmask of NUMA node ids."""
    m = 0
    for n in nodes:
        m |= 1 << int(n)
    return m


def bits(mask: int) -> list[int]:
    """Return the node ids set in ``mask``, ascending."""
    out, i = [], 0
    while mask >> i:
        if mask >> i & 1:
            out.append(i)
        i += 1
    return out


def count(mask: int) -> int:
    return bin(mask).count("1")


def narrower(a: int, b: int) -> bool:
    """bitmask.IsNarrowerThan: fewer nodes, or as many with lower-numbered nodes."""
    if count(a) == count(b):
        return a < b
    return count(a) < count(b)


def iterate_masks(nodes: list[int]) -> Iterable[int]:
    """bitmask.IterateBitMasks: every non-empty subset, by size, then in combination order."""
    for k in range(1, len(nodes) + 1):
        for combo in combinations(nodes, k):
            yield mask_of(combo)


# -- hints -------------------------------------------------------------------

@value(frozen=True)
class Hint:
    """TopologyHint: a NUMA mask (None: any node) and whether it is preferred."""

    mask: int | None
    preferred: bool

    def nodes(self) -> list[int] | None:
        return None if self.mask is None else bits(self.mask)

    def to_data(self) -> dict:
        return {"numa_nodes": self.nodes(), "preferred": self.preferred}


Provided = dict[str, "list[Hint] | None"]


def filter_providers_hints(providers: list[Provided]) -> list[list[Hint]]:
    """policy.go filterProvidersHints: one hint list per resource, with the nil/empty rules."""
    out: list[list[Hint]] = []
    for hints in providers:
        if not hints:  # no map or an empty map: no preference for any resource
            out.append([Hint(None, True)])
            continue
        for resource in hints:  # Go map order is random; ours is insertion order
            h = hints[resource]
            if h is None:
                out.append([Hint(None, True)])
            elif len(h) == 0:
                out.append([Hint(None, False)])
            else:
                out.append(list(h))
    return out


def merge_permutation(default: int, permutation: list[Hint]) -> Hint:
    """policy.go mergePermutation: AND of the masks; preferred only if all are and all masks are equal."""
    preferred = True
    masks: list[int] = []
    for h in permutation:
        if h.mask is not None:
            masks.append(h.mask)
            if h.mask != masks[0]:
                preferred = False
        if not h.preferred:
            preferred = False
    merged = default
    for m in masks:
        merged &= m
    return Hint(merged, preferred)


def _narrowest_count(hints: list[Hint]) -> int | None:
    best = None
    for h in hints:
        if h.mask is None:
            continue
        if best is None or narrower(h.mask, best):
            best = h.mask
    return None if best is None else count(best)


def max_of_min_affinity_counts(filtered: list[list[Hint]]) -> int:
    """policy.go maxOfMinAffinityCounts (BestNonPreferredAffinityCount)."""
    out = 0
    for hints in filtered:
        c = _narrowest_count(hints)
        if c is not None and c > out:
            out = c
    return out


def _merged_mask(h: Hint) -> int:
    """Return the mask of a hint being merged (a merge always has one: None is only a provider's "any")."""
    assert h.mask is not None
    return h.mask


class HintMerger:
    """policy.go HintMerger: walk every permutation and keep the best merged hint."""

    def __init__(self, nodes: list[int], hints: list[list[Hint]], policy: str,
                 distances: dict[int, dict[int, int]] | None = None, prefer_closest: bool = False):
        self.nodes = nodes
        self.hints = hints
        self.best_non_preferred = max_of_min_affinity_counts(hints)
        self.closest = prefer_closest and policy != "single-numa-node" and distances is not None
        self.distances = distances or {}

    def _avg_distance(self, mask: int) -> float:
        ns = bits(mask)
        if not ns:
            return 0.0
        total = sum(self.distances.get(a, {}).get(b, 0) for a in ns for b in ns)
        return total / (len(ns) * len(ns))

    def _compare_masks(self, current: Hint, candidate: Hint) -> Hint:
        # NewHintMerger's compareNumaAffinityMasks (numa_info.go Narrowest/Closest)
        if candidate.mask == current.mask:
            return current
        a, b = _merged_mask(current), _merged_mask(candidate)
        if self.closest and count(a) == count(b):
            da, db = self._avg_distance(a), self._avg_distance(b)
            best = (a if a < b else b) if da == db else (a if da < db else b)
        else:
            best = a if narrower(a, b) else b
        return current if best == a else candidate

    def compare(self, current: Hint | None, candidate: Hint) -> Hint | None:
        """policy.go HintMerger.compare, case by case (numbers as in the Go comments)."""
        if count(_merged_mask(candidate)) == 0:
            return current
        if current is None:
            return candidate
        if not current.preferred and candidate.preferred:
            return candidate
        if current.preferred and not candidate.preferred:
            return current
        if current.preferred and candidate.preferred:
            return self._compare_masks(current, candidate)
        # Both non-preferred: move towards best_non_preferred nodes.
        best, cur, cand = self.best_non_preferred, count(_merged_mask(current)), count(_merged_mask(candidate))
        if cur > best:  # case 1
            return self._compare_masks(current, candidate)
        if cur == best:  # case 2
            return current if cand != best else self._compare_masks(current, candidate)
        if cand > best:  # case 3a
            return current
        if cand == best:  # case 3b
            return candidate
        if cand > cur:  # case 3ca
            return candidate
        if cand < cur:  # case 3cb
            return current
        return self._compare_masks(current, candidate)  # case 3cc

    def merge(self) -> Hint:
        """Return the best merged hint, as walking every permutation would.

        The kubelet walks the full cross product of the providers' hint
        lists (policy.go iterateAllProviderTopologyHints), which is
        (2^n)^k merges for k resources on n NUMA nodes.  ``compare`` is a
        total order over (mask, preferred) (preferred first; then the
        narrowest, or for non-preferred ones the count nearest
        ``best_non_preferred``), so the best merge is the best of the
        *distinct* merged hints.  Those are built provider by provider from
        the distinct partial merges, a state being (AND so far, every hint
        preferred with one equal mask so far, that mask): at most
        2^(n+1)+1 states, whatever the number of permutations.
        ``self.states`` counts the partial merges built (tests use it).
        """
        default = mask_of(self.nodes)
        states: set[tuple[int, bool, int | None]] = {(default, True, None)}
        self.states = 1
        for hints in self.hints:
            nxt = set()
            for merged, pref, first in states:
                for h in hints:
                    m, p, f = merged, pref and h.preferred, first
                    if h.mask is not None:
                        m &= h.mask
                        if f is None:
                            f = h.mask
                        elif h.mask != f:
                            p = False
                    nxt.add((m, p, f if p else None))
            self.states += len(nxt)
            states = nxt
        best: Hint | None = None
        for merged, pref, _ in sorted(states, key=lambda s: (s[0], s[1])):
            best = self.compare(best, Hint(merged, pref))
        return best if best is not None else Hint(default, False)

    def merge_exhaustive(self) -> Hint:
        """Return the best merged hint by walking every permutation (policy.go, verbatim; tests only)."""
        default = mask_of(self.nodes)
        best: Hint | None = None
        for perm in _permutations(self.hints):
            best = self.compare(best, merge_permutation(default, perm))
        return best if best is not None else Hint(default, False)


def _permutations(lists: list[list[Hint]]):
    """iterateAllProviderTopologyHints: the cross product, first list outermost."""
    if not lists:
        yield []
        return

    def rec(i, acc):
        if i == len(lists):
            yield list(acc)
            return
        for h in lists[i]:
            acc.append(h)
            yield from rec(i + 1, acc)
            acc.pop()

    yield from rec(0, [])


def filter_single_numa_hints(filtered: list[list[Hint]]) -> list[list[Hint]]:
    """policy_single_numa_node.go filterSingleNumaHints: keep preferred any-node or one-node hints."""
    out = []
    for hints in filtered:
        out.append([h for h in hints if h.preferred and (h.mask is None or count(h.mask) == 1)])
    return out


@value(frozen=True)
class Admission:
    """The merged hint and whether the policy admits it."""

    policy: str
    hint: Hint
    admit: bool
    reason: str = ""

    def to_data(self) -> dict:
        return {"policy": self.policy, "numa_nodes": self.hint.nodes(), "preferred": self.hint.preferred,
                "admit": self.admit, "reason": self.reason}


def merge(policy: str, nodes: list[int], providers: list[Provided], *,
          distances: dict[int, dict[int, int]] | None = None, prefer_closest: bool = False) -> Admission:
    """Return the Topology Manager's answer for ``policy`` over the providers' hints.

    none: no merge, always admitted (mask None).  best-effort: merged,
    always admitted.  restricted: merged, admitted only when preferred.
    single-numa-node: only preferred one-node (or any-node) hints are
    merged; a result covering all nodes becomes "any" (mask None);
    admitted only when preferred.
    """
    if policy not in POLICIES:
        raise ValueError(policy)
    if policy == "none":
        return Admission(policy, Hint(None, True), True)
    filtered = filter_providers_hints(providers)
    if policy == "single-numa-node":
        filtered = filter_single_numa_hints(filtered)
    best = HintMerger(nodes, filtered, policy, distances, prefer_closest).merge()
    if policy == "single-numa-node" and best.mask == mask_of(nodes):
        best = Hint(None, best.preferred)
    if policy == "best-effort" or best.preferred:
        return Admission(policy, best, True)
    # kubelet: lifecycle.PodAdmitResult{Reason: "TopologyAffinityError"}
    return Admission(policy, best, False,
                     "TopologyAffinityError: resources cannot be allocated with topology locality "
                     f"under the {policy} policy (no preferred NUMA placement satisfies every resource)")


# -- hint generation helpers (cpumanager policy_static.go, devicemanager topology_hints.go) ---

def capacity_hints(nodes: list[int], need: float, available: Callable[[int], float],
                   capacity: Callable[[int], float]) -> list[Hint]:
    """Return hints for an amount: every mask whose available amount covers ``need``.

    The minimum width comes from capacity (what an empty node could hold),
    not from what is free: a hint is preferred only at that width
    (cpumanager generateCPUTopologyHints; reference section 2.7 and rule 5).
    """
    min_width = len(nodes)
    for k in range(1, len(nodes) + 1):
        if any(sum(capacity(n) for n in combo) >= need for combo in combinations(nodes, k)):
            min_width = k
            break
    hints = []
    for m in iterate_masks(nodes):
        if sum(available(n) for n in bits(m)) >= need:
            hints.append(Hint(m, count(m) == min_width))
    return hints
