"""The CPU allocator: the kubelet's static CPU Manager policy, ported, plus rmctl's constraints.

A pure function of (topology, free CPUs, count, options): no I/O.  Ported
step by step from kubernetes pkg/kubelet/cm/cpumanager:

* ``cpu_assignment.go``: cpuAccumulator, numaFirst/socketsFirst,
  takeByTopologyNUMAPacked (with the CPUSortingStrategy "packed"/"spread" and
  the prefer-align-cpus-by-uncorecache steps takeUncoreCache,
  takeFullUncore, takePartialUncore) and takeByTopologyNUMADistributed
  (KEP-2902), main branch 2024-2025 (the resize variants of 1.34+ are not
  ported: rmctl reservations are not resized);
* ``policy_static.go``: allocateCPUs (NUMA affinity first, then the rest),
  takeByTopology (which algorithm), the full-pcpus-only admission checks
  (SMTAlignmentError) and the reserved CPUs taken with the packed order;
* ``policy_options.go``: option names, boolean values, rejected combinations;
* ``topology/topology.go``: CPUTopology/CPUDetails and the derived "per"
  values, which are integer divisions of totals (CPUsPerCore = NumCPUs /
  NumCores) exactly as the kubelet computes them, hybrid parts included.

Behaviour reference: ../shared/reference/kubelet-resource-managers.md 2.3-2.6.

rmctl's constraints (``--numa``, ``--socket``, ``--near``, ``--from``) narrow
the available set before the kubelet's algorithm runs, the way the kubelet
runs takeByTopology over the "aligned" CPUs; the allocator reports which
constraint left too few CPUs and the closest fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from rmctl.cpuset import CpuSet
from rmctl.errors import UnsatisfiableError, UsageError
from rmctl.units import counted

# -- options (policy_options.go) ----------------------------------------------

FULL_PCPUS_ONLY = "full-pcpus-only"
DISTRIBUTE_CPUS_ACROSS_NUMA = "distribute-cpus-across-numa"
ALIGN_BY_SOCKET = "align-by-socket"
DISTRIBUTE_CPUS_ACROSS_CORES = "distribute-cpus-across-cores"
PREFER_ALIGN_CPUS_BY_UNCORECACHE = "prefer-align-cpus-by-uncorecache"
#: KEP-4540: reserved CPUs also leave the shared pool.  It changes no choice of
#: CPUs; on an rmctl reservation it says its CPUs must be kept from every pod,
#: which ``export kubelet-config`` then requires (docs/exports.md)
STRICT_CPU_RESERVATION = "strict-cpu-reservation"

OPTION_NAMES = (FULL_PCPUS_ONLY, DISTRIBUTE_CPUS_ACROSS_NUMA, ALIGN_BY_SOCKET,
                DISTRIBUTE_CPUS_ACROSS_CORES, PREFER_ALIGN_CPUS_BY_UNCORECACHE, STRICT_CPU_RESERVATION)

# Go's strconv.ParseBool accepts exactly these.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


@dataclass(frozen=True)
class Options:
    """The kubelet's StaticPolicyOptions (all but strict-cpu-reservation change which CPUs are chosen)."""

    full_pcpus_only: bool = False
    distribute_cpus_across_numa: bool = False
    align_by_socket: bool = False
    distribute_cpus_across_cores: bool = False
    prefer_align_cpus_by_uncorecache: bool = False
    strict_cpu_reservation: bool = False

    def names(self) -> list[str]:
        """Return the names of the options that are on, in OPTION_NAMES order."""
        return [n for n in OPTION_NAMES if getattr(self, n.replace("-", "_"))]

    def to_data(self) -> dict[str, bool]:
        return {n: True for n in self.names()}


def parse_options(items: Iterable[str]) -> Options:
    """Return Options from ``NAME`` or ``NAME=VALUE`` strings (values as Go's ParseBool).

    Unknown names, bad values and the combinations the kubelet rejects
    (policy_options.go ValidateStaticPolicyOptions) are UsageError (exit 2).
    """
    values: dict[str, bool] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if name not in OPTION_NAMES:
            raise UsageError(f"unknown CPU option {name!r}",
                             hint="known options: " + ", ".join(OPTION_NAMES))
        if not sep:
            values[name] = True
        elif value in _TRUE:
            values[name] = True
        elif value in _FALSE:
            values[name] = False
        else:
            raise UsageError(f"bad value for option {name!r}: {value!r} is not a boolean",
                             hint="use true or false (or 1/0, t/f)")
    opts = Options(**{k.replace("-", "_"): v for k, v in values.items()})
    # Rejected combinations, as the kubelet refuses to start with them.
    if opts.full_pcpus_only and opts.distribute_cpus_across_cores:
        raise UsageError(f"{FULL_PCPUS_ONLY} and {DISTRIBUTE_CPUS_ACROSS_CORES} cannot be combined")
    if opts.distribute_cpus_across_numa and opts.distribute_cpus_across_cores:
        raise UsageError(f"{DISTRIBUTE_CPUS_ACROSS_NUMA} and {DISTRIBUTE_CPUS_ACROSS_CORES} cannot be combined")
    if opts.prefer_align_cpus_by_uncorecache and (opts.distribute_cpus_across_numa
                                                  or opts.distribute_cpus_across_cores):
        raise UsageError(f"{PREFER_ALIGN_CPUS_BY_UNCORECACHE} cannot be combined with the distribute options")
    return opts


# -- topology (topology/topology.go) ------------------------------------------

@dataclass(frozen=True)
class CpuInfo:
    """One CPU's coordinates, as the kubelet's topology.CPUInfo."""

    core: int
    socket: int
    node: int
    uncore: int


class KubeTopology:
    """The kubelet's CPUTopology: per-CPU coordinates plus declared totals.

    Totals default to the number of distinct ids; a kubelet-style fixture may
    declare them (the hybrid Intel test declares 16 cores for 24 CPUs).
    """

    def __init__(self, details: dict[int, CpuInfo], *, num_cores: int | None = None,
                 num_sockets: int | None = None, num_nodes: int | None = None,
                 num_uncore: int | None = None):
        self.details = dict(details)
        self.num_cpus = len(self.details)
        self.by_core = _index(self.details, "core")
        self.by_socket = _index(self.details, "socket")
        self.by_node = _index(self.details, "node")
        self.by_uncore = _index(self.details, "uncore")
        self.num_cores = num_cores if num_cores is not None else len(self.by_core)
        self.num_sockets = num_sockets if num_sockets is not None else len(self.by_socket)
        self.num_nodes = num_nodes if num_nodes is not None else len(self.by_node)
        self.num_uncore = num_uncore if num_uncore is not None else len(self.by_uncore)

    # Derived "per" values: integer divisions, as CPUTopology.CPUsPer*().
    def cpus_per_core(self) -> int:
        return self.num_cpus // self.num_cores if self.num_cores else 0

    def cpus_per_socket(self) -> int:
        return self.num_cpus // self.num_sockets if self.num_sockets else 0

    def cpus_per_uncore(self) -> int:
        return self.num_cpus // self.num_uncore if self.num_uncore else 0

    def cpus(self) -> frozenset[int]:
        return frozenset(self.details)

    def sockets_of_nodes(self, nodes: Iterable[int]) -> set[int]:
        nodes = set(nodes)
        return {i.socket for i in self.details.values() if i.node in nodes}

    def nodes_in_same_socket(self, nodes: Iterable[int]) -> bool:
        """CPUDetails.AreNUMANodesInSameSocket: every CPU of these nodes on one socket."""
        return len(self.sockets_of_nodes(nodes)) == 1

    @classmethod
    def from_topology(cls, topo) -> KubeTopology:
        """Return the kubelet's view of an rmctl model Topology (online CPUs only).

        As topology.Discover over cAdvisor's MachineInfo: core id = the lowest
        CPU id of the thread siblings (getUniqueCoreID, which is rmctl's core
        key); socket id = physical_package_id (the package key when the kernel
        gives none); NUMA node; uncore cache = the last-level (L3+) cache id,
        or the socket when there is no such cache (getUncoreCacheID).
        """
        online = [c for c in topo.cpus.values() if c.online]
        raw_ids = {}
        for p in topo.packages.values():
            raw_ids[p.key] = p.package_id
        use_raw = (all(v is not None for v in raw_ids.values())
                   and len(set(raw_ids.values())) == len(raw_ids))
        llc: dict[int, int] = {}
        top_level = max((c.level for c in topo.caches if c.level >= 3 and c.cpus), default=None)
        if top_level is not None:
            for cache in topo.caches:
                if cache.level != top_level or not cache.cpus:
                    continue
                cid = cache.id if cache.id is not None else cache.cpus.first()
                for cpu in cache.cpus:
                    llc.setdefault(cpu, cid)
        details = {}
        for c in online:
            pkg = c.package if c.package is not None else 0
            socket = raw_ids.get(pkg, pkg) if use_raw else pkg
            core = c.core if c.core is not None else c.id
            node = c.node if c.node is not None else 0
            details[c.id] = CpuInfo(core=core, socket=socket, node=node, uncore=llc.get(c.id, socket))
        return cls(details)


def _index(details: dict[int, CpuInfo], attr: str) -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = {}
    for cpu, info in details.items():
        out.setdefault(getattr(info, attr), set()).add(cpu)
    return {k: frozenset(v) for k, v in out.items()}


def _unique(seq: Iterable[int]) -> list[int]:
    # The kubelet's nested sorts can name a socket (or core) twice on odd
    # topologies where a unit spans two parents; it then counts a CPU twice.
    # rmctl keeps the first occurrence (identical on every regular topology).
    seen: set[int] = set()
    out = []
    for x in seq:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


# -- the accumulator (cpu_assignment.go cpuAccumulator) ------------------------

class _Accumulator:
    """cpuAccumulator: the free CPUs left (``avail``), the result so far, what is still needed."""

    def __init__(self, topo: KubeTopology, available: Iterable[int], need: int, spread: bool = False):
        self.topo = topo
        self.avail: set[int] = set(available) & set(topo.details)
        self.need = need
        self.result: set[int] = set()
        self.spread = spread
        # newCPUAccumulator: NUMA nodes are the outer level when there are at
        # least as many sockets as NUMA nodes ("numaFirst"), else sockets are.
        self.numa_first = topo.num_sockets >= topo.num_nodes

    # -- bookkeeping ---------------------------------------------------------
    def take(self, cpus: Iterable[int]) -> None:
        cpus = set(cpus)
        self.result |= cpus
        self.avail -= cpus
        self.need -= len(cpus)

    def needs_at_least(self, n: int) -> bool:
        return self.need >= n

    def is_satisfied(self) -> bool:
        return self.need < 1

    def is_failed(self) -> bool:
        return self.need > len(self.avail)

    def _free_in(self, index: dict[int, frozenset[int]], key: int) -> int:
        return len(index[key] & self.avail)

    def _ids(self, attr: str, cpus: Iterable[int]) -> set[int]:
        d = self.topo.details
        return {getattr(d[c], attr) for c in cpus}

    def _sort(self, ids: Iterable[int], index: dict[int, frozenset[int]]) -> list[int]:
        # cpuAccumulator.sort: fewest available CPUs first, ties by ascending id.
        return sorted(ids, key=lambda i: (self._free_in(index, i), i))

    # -- orderings (numaFirst / socketsFirst) ---------------------------------
    def sort_nodes(self) -> list[int]:
        """sortAvailableNUMANodes."""
        t = self.topo
        if self.numa_first:
            return self._sort(self._ids("node", self.avail), t.by_node)
        out: list[int] = []
        for s in self.sort_sockets():
            out.extend(self._sort(self._ids("node", t.by_socket[s] & self.avail), t.by_node))
        return _unique(out)

    def sort_sockets(self) -> list[int]:
        """sortAvailableSockets."""
        t = self.topo
        if not self.numa_first:
            return self._sort(self._ids("socket", self.avail), t.by_socket)
        out: list[int] = []
        for n in self.sort_nodes():
            out.extend(self._sort(self._ids("socket", t.by_node[n] & self.avail), t.by_socket))
        return _unique(out)

    def sort_cores(self) -> list[int]:
        """sortAvailableCores: cores below the inner level, each list sorted."""
        t = self.topo
        out: list[int] = []
        if self.numa_first:
            for s in self.sort_sockets():
                out.extend(self._sort(self._ids("core", t.by_socket[s] & self.avail), t.by_core))
        else:
            for n in self.sort_nodes():
                out.extend(self._sort(self._ids("core", t.by_node[n] & self.avail), t.by_core))
        return _unique(out)

    def sort_uncores(self) -> list[int]:
        """sortAvailableUncoreCaches: NUMA node by NUMA node, each list sorted."""
        t = self.topo
        out: list[int] = []
        for n in self.sort_nodes():
            out.extend(self._sort(self._ids("uncore", t.by_node[n] & self.avail), t.by_uncore))
        return _unique(out)

    def sort_cpus_packed(self) -> list[int]:
        """sortAvailableCPUsPacked: walk the core order, CPUs of a core by id."""
        out: list[int] = []
        for core in self.sort_cores():
            out.extend(sorted(self.topo.by_core[core] & self.avail))
        return out

    def sort_cpus_spread(self) -> list[int]:
        """sortAvailableCPUsSpread: walk the socket order, CPUs of a socket by id."""
        out: list[int] = []
        for s in self.sort_sockets():
            out.extend(sorted(self.topo.by_socket[s] & self.avail))
        return out

    # -- free units ---------------------------------------------------------------
    def free_nodes(self) -> list[int]:
        t = self.topo
        return [n for n in self.sort_nodes() if self._free_in(t.by_node, n) == len(t.by_node[n])]

    def free_sockets(self) -> list[int]:
        # isSocketFree compares with CPUsPerSocket(), a division of totals.
        t = self.topo
        return [s for s in self.sort_sockets() if self._free_in(t.by_socket, s) == t.cpus_per_socket()]

    def free_cores(self) -> list[int]:
        # isCoreFree compares with CPUsPerCore(): on hybrid parts a 1-thread
        # E-core counts as free while a 2-thread P-core never does.
        t = self.topo
        return [c for c in self.sort_cores() if self._free_in(t.by_core, c) == t.cpus_per_core()]

    def free_uncores(self) -> list[int]:
        t = self.topo
        return [u for u in self.sort_uncores() if self._free_in(t.by_uncore, u) == len(t.by_uncore[u])]

    # -- take steps ------------------------------------------------------------------
    # The kubelet takes a "free" unit's CPUs from the topology
    # (topo.CPUDetails.CPUsIn*), trusting that free means all available.  With
    # derived per-unit counts (integer divisions) that is false on uneven
    # topologies, e.g. with an offline CPU: CPUsPerCore = 15 // 8 = 1 makes a
    # core with one busy thread "free", and the kubelet hands out the busy
    # thread (kubernetes issue 124066).  rmctl takes only available CPUs of the
    # unit; on even topologies this is the same set.
    def _unit(self, index: dict[int, frozenset[int]], key: int) -> set[int]:
        return set(index[key]) & self.avail

    def take_full_nodes(self) -> None:
        for n in self.free_nodes():
            cpus = self._unit(self.topo.by_node, n)
            if self.needs_at_least(len(self.topo.by_node[n])):
                self.take(cpus)

    def take_full_sockets(self) -> None:
        for s in self.free_sockets():
            cpus = self._unit(self.topo.by_socket, s)
            if cpus and self.needs_at_least(len(self.topo.by_socket[s])):
                self.take(cpus)

    def take_full_first_level(self) -> None:
        if self.numa_first:
            self.take_full_nodes()
        else:
            self.take_full_sockets()

    def take_full_second_level(self) -> None:
        if self.numa_first:
            self.take_full_sockets()
        else:
            self.take_full_nodes()

    def take_full_uncore(self) -> None:
        """takeFullUncore: every entirely free uncore cache the need still covers."""
        for u in self.free_uncores():
            cpus = self._unit(self.topo.by_uncore, u)
            if self.needs_at_least(len(self.topo.by_uncore[u])):
                self.take(cpus)

    def take_partial_uncore(self, uncore: int) -> None:
        """takePartialUncore: the lowest-numbered available cores of one cache, if they fit exactly."""
        t = self.topo
        per_core = t.cpus_per_core() or 1
        cores_needed = (self.need + per_core - 1) // per_core
        cores = sorted({t.details[c].core for c in self.avail if t.details[c].uncore == uncore})
        chosen = cores[:cores_needed] if len(cores) >= cores_needed else []
        free_cpus: set[int] = set()
        for core in chosen:
            free_cpus |= t.by_core[core] & self.avail
        # An odd need on SMT: drop the highest surplus CPU of the last core.
        if self.need % 2 != 0 and per_core > 1:
            ordered = sorted(free_cpus)
            if len(ordered) > self.need:
                ordered = ordered[:len(free_cpus) - 1]
            free_cpus = set(ordered)
        if self.need == len(free_cpus):
            self.take(free_cpus)

    def take_uncore_cache(self) -> None:
        """takeUncoreCache: whole caches while the need covers one, else a cache that fits."""
        per_uncore = self.topo.cpus_per_uncore()
        for uncore in self.sort_uncores():
            if per_uncore and self.needs_at_least(per_uncore):
                self.take_full_uncore()
            if self.is_satisfied():
                return
            self.take_partial_uncore(uncore)
            if self.is_satisfied():
                return

    def take_full_cores(self) -> None:
        for core in self.free_cores():
            cpus = self._unit(self.topo.by_core, core)
            if cpus and self.needs_at_least(len(self.topo.by_core[core])):
                self.take(cpus)

    def take_remaining_cpus(self) -> None:
        order = self.sort_cpus_spread() if self.spread else self.sort_cpus_packed()
        for cpu in order:
            self.take({cpu})
            if self.is_satisfied():
                return

    def range_nodes_needed(self, group: int) -> tuple[int, int]:
        """rangeNUMANodesNeededToSatisfy: (min, max) NUMA nodes for the need in groups."""
        t = self.topo
        num_nodes = len(t.by_node)
        nodes_available = len(self._ids("node", self.avail))
        groups = (t.num_cpus - 1) // group + 1
        groups_per_node = (groups - 1) // num_nodes + 1
        groups_needed = (self.need - 1) // group + 1
        lo = (groups_needed - 1) // groups_per_node + 1
        hi = min(groups_needed, nodes_available)
        return lo, hi


def _not_enough(requested: int, available: int) -> UnsatisfiableError:
    # The kubelet's message, word for word, so operators can match it.
    return UnsatisfiableError(
        f"not enough cpus available to satisfy request: requested={requested}, available={available}",
        details={"requested": requested, "available": available})


def take_packed(topo: KubeTopology, available: Iterable[int], count: int, *,
                spread: bool = False, uncore: bool = False) -> CpuSet:
    """takeByTopologyNUMAPacked: return ``count`` CPUs of ``available``, packed.

    1. whole outer units, then whole inner units (NUMA nodes / sockets);
    2. with ``uncore`` (prefer-align-cpus-by-uncorecache): whole uncore
       caches, else one cache that fits exactly;
    3. whole cores (skipped in "spread" mode, distribute-cpus-across-cores);
    4. single CPUs in the packed (or spread) order.
    """
    available = set(available)
    acc = _Accumulator(topo, available, count, spread)
    if acc.is_satisfied():
        return CpuSet()
    if acc.is_failed():
        raise _not_enough(count, len(available))
    acc.take_full_first_level()
    if acc.is_satisfied():
        return CpuSet(acc.result)
    acc.take_full_second_level()
    if acc.is_satisfied():
        return CpuSet(acc.result)
    if uncore:
        acc.take_uncore_cache()
        if acc.is_satisfied():
            return CpuSet(acc.result)
    if not spread:
        acc.take_full_cores()
        if acc.is_satisfied():
            return CpuSet(acc.result)
    acc.take_remaining_cpus()
    if acc.is_satisfied():
        return CpuSet(acc.result)
    raise UnsatisfiableError("failed to allocate cpus")


def _round3(x: float) -> float:
    # Go's math.Round(x*1000)/1000 rounds half away from zero; values are >= 0.
    return math.floor(x * 1000 + 0.5) / 1000


def _stddev(xs: list[int]) -> float:
    """standardDeviation in cpu_assignment.go (mean and result rounded to 3 places)."""
    m = _round3(sum(xs) / len(xs))
    s = math.sqrt(sum((x - m) * (x - m) for x in xs) / len(xs))
    return _round3(s)


#: The most NUMA node combinations (and remainder subsets) one
#: distribute-cpus-across-numa allocation may examine.  The kubelet tries
#: every combination of k nodes (C(64, 16) is 4.9e14 on the 64-node ia64
#: fixture); rmctl examines one combination per distinct sequence of free
#: CPU counts (see _distinct_combinations), which is a handful on a machine
#: whose nodes are alike, and stops with UnsatisfiableError past this many
#: (about a second of work) rather than run for minutes (docs/security.md, "Limits").
MAX_NUMA_COMBINATIONS = 20_000


class _Budget:
    """Counts the combinations examined; raises past MAX_NUMA_COMBINATIONS."""

    def __init__(self, count: int, limit: int):
        self.used = 0
        self.limit = limit
        self.count = count

    def spend(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise UnsatisfiableError(
                f"{DISTRIBUTE_CPUS_ACROSS_NUMA}: more than {self.limit} NUMA node combinations to weigh "
                f"for {counted(self.count, 'CPU')} (free CPU counts differ on too many nodes)",
                hint="narrow the request with --numa or --socket, or drop the option to allocate packed",
                details={"constraint": DISTRIBUTE_CPUS_ACROSS_NUMA, "requested": self.count,
                         "combinations_budget": self.limit})


def _distinct_combinations(items: list[int], keys: list, k: int, budget: _Budget):
    """Yield the k-combinations of ``items`` that differ in their sequence of ``keys``.

    Each distinct key sequence comes once, as its lexicographically first
    combination, and in itertools.combinations order.  Combinations with the
    same key sequence are equivalent to the kubelet's search (the keys hold
    everything its balance, remainder and socket tests read: the free CPU
    count of each node, and its sockets under align-by-socket), and it keeps
    the first of equal scores, so it would pick that representative too.
    Pruning: at each position a key already tried there is skipped, since a
    later node with the same key can only reach a subset of what the earlier
    one reaches.
    """
    n = len(items)
    if k < 0 or k > n:
        return
    combo: list[int] = []

    def walk(start: int, depth: int):
        if depth == k:
            budget.spend()
            yield list(combo)
            return
        tried = set()
        for i in range(start, n - (k - depth) + 1):
            if keys[i] in tried:
                continue
            tried.add(keys[i])
            combo.append(items[i])
            yield from walk(i + 1, depth + 1)
            combo.pop()

    yield from walk(0, 0)


def take_distributed(topo: KubeTopology, available: Iterable[int], count: int, group: int = 1, *,
                     spread: bool = False, align_by_socket: bool = False,
                     max_combinations: int = MAX_NUMA_COMBINATIONS) -> CpuSet:
    """takeByTopologyNUMADistributed (KEP-2902): spread ``count`` CPUs evenly over NUMA nodes.

    ``group`` is the CPU group size (1, or CPUs per core with full-pcpus-only).
    Falls back to the packed algorithm when ``count`` is not a multiple of
    ``group`` or no combination of NUMA nodes balances.  Picks what the
    kubelet picks, examining only one combination per equivalence class
    (_distinct_combinations), at most ``max_combinations`` in all.
    """
    available = set(available)
    if count % group != 0:
        return take_packed(topo, available, count, spread=spread)
    acc = _Accumulator(topo, available, count, spread)
    if acc.is_satisfied():
        return CpuSet()
    if acc.is_failed():
        raise _not_enough(count, len(available))
    numas = acc.sort_nodes()
    lo, hi = acc.range_nodes_needed(group)
    budget = _Budget(count, max_combinations)

    def free_in(n: int) -> int:
        return len(topo.by_node[n] & acc.avail)

    free = {n: free_in(n) for n in numas}  # fixed while searching
    if align_by_socket:
        keys: list = [(free[n], frozenset(topo.sockets_of_nodes([n]))) for n in numas]
    else:
        keys = [free[n] for n in numas]

    for k in range(lo, hi + 1):
        best_balance = math.inf
        best_remainder: list[int] | None = None
        best_combo: list[int] | None = None
        best_in_one_socket = False
        for combo in _distinct_combinations(numas, keys, k, budget):
            if best_balance == 0 and (not align_by_socket or best_in_one_socket):
                break
            # Enough CPUs overall, and enough whole groups.
            if sum(free[n] for n in combo) < count:
                continue
            if sum(free[n] // group for n in combo) * group < count:
                continue
            distribution = (count // len(combo) // group) * group
            if align_by_socket:
                for n in combo:
                    distribution = min(distribution, free[n] // group * group)
            if any(free[n] < distribution for n in combo):
                continue
            after = dict(free)
            for n in combo:
                after[n] -= distribution
            remainder = count - distribution * len(combo)
            remainder_combo = [n for n in combo if after[n] >= group]
            best_local = math.inf
            best_local_remainder: list[int] | None = None
            if remainder == 0:
                best_local = _stddev(list(after.values()))
            sub_k = len(remainder_combo)
            remainder_keys = [after[n] for n in remainder_combo]
            while remainder > 0 and sub_k >= 1:
                for subset in _distinct_combinations(remainder_combo, remainder_keys, sub_k, budget):
                    left = remainder
                    local = dict(after)
                    # Leftovers smaller than a group cannot be handed out.
                    if sum(local[n] // group for n in subset) * group < left:
                        continue
                    while left > 0:
                        for n in subset:
                            if left == 0:
                                break
                            if local[n] < group:
                                continue
                            local[n] -= group
                            left -= group
                    balance = _stddev(list(local.values()))
                    if balance < best_local:
                        best_local = balance
                        best_local_remainder = list(subset)
                sub_k -= 1
            in_one_socket = topo.nodes_in_same_socket(combo) if align_by_socket else False
            better = best_local < best_balance
            if align_by_socket and in_one_socket != best_in_one_socket:
                better = in_one_socket
            if better:
                best_balance = best_local
                best_remainder = best_local_remainder
                best_combo = combo
                if align_by_socket:
                    best_in_one_socket = in_one_socket
        if best_combo is None:
            continue
        distribution = (count // len(best_combo) // group) * group
        for n in best_combo:
            distribution = min(distribution, free_in(n) // group * group)
        for n in best_combo:
            acc.take(take_packed(topo, topo.by_node[n] & acc.avail, distribution, spread=spread))
        remainder = count - distribution * len(best_combo)
        while remainder > 0:
            progressed = False
            for n in best_remainder or []:
                if remainder == 0:
                    break
                if free_in(n) < group:
                    continue
                acc.take(take_packed(topo, topo.by_node[n] & acc.avail, group, spread=spread))
                remainder -= group
                progressed = True
            if not progressed:
                break
        if acc.need != 0:
            raise UnsatisfiableError(f"accounting error, remaining: {acc.need}")
        return CpuSet(acc.result)
    return take_packed(topo, available, count, spread=spread)


# -- the policy (policy_static.go) ----------------------------------------------

def take_by_topology(topo: KubeTopology, available: Iterable[int], count: int, opts: Options) -> CpuSet:
    """staticPolicy.takeByTopology: the algorithm the options select."""
    spread = opts.distribute_cpus_across_cores
    if opts.distribute_cpus_across_numa:
        group = topo.cpus_per_core() if opts.full_pcpus_only else 1
        return take_distributed(topo, available, count, max(group, 1), spread=spread,
                                align_by_socket=opts.align_by_socket)
    return take_packed(topo, available, count, spread=spread,
                       uncore=opts.prefer_align_cpus_by_uncorecache)


def aligned_cpus(topo: KubeTopology, numa_affinity: Iterable[int], available: Iterable[int],
                 opts: Options) -> set[int]:
    """staticPolicy.getAlignedCPUs: available CPUs on the affinity's nodes (or sockets)."""
    available = set(available)
    nodes = set(numa_affinity)
    if opts.align_by_socket:
        out: set[int] = set()
        for s in topo.sockets_of_nodes(nodes):
            out |= topo.by_socket[s] & available
        return out
    out = set()
    for n in nodes:
        out |= topo.by_node.get(n, frozenset()) & available
    return out


def allocate(topo: KubeTopology, available: Iterable[int], count: int, opts: Options = Options(), *,
             numa_affinity: Iterable[int] | None = None, reserved: Iterable[int] = ()) -> CpuSet:
    """staticPolicy.Allocate + allocateCPUs: return ``count`` CPUs of ``available``.

    ``numa_affinity`` is the Topology Manager's NUMA affinity: CPUs on those
    nodes are taken first (min(count, aligned)), the rest from anywhere.
    ``reserved`` are the system CPUs, used by full-pcpus-only (their thread
    siblings are not counted as available physical CPUs).
    Raises UnsatisfiableError (exit 4) with the kubelet's messages.
    """
    available = set(available)
    if count <= 0:
        raise UsageError(f"CPU count must be at least 1, not {count}")
    if opts.full_pcpus_only:
        per_core = topo.cpus_per_core()
        if per_core and count % per_core != 0:
            raise UnsatisfiableError(
                f"SMT Alignment Error: requested {count} cpus not multiple cpus per core = {per_core}",
                hint=f"with {FULL_PCPUS_ONLY} ask for a multiple of {per_core} CPUs",
                details={"constraint": FULL_PCPUS_ONLY, "requested": count, "cpus_per_core": per_core})
        reserved_physical: set[int] = set()
        for cpu in reserved:
            if cpu in topo.details:
                reserved_physical |= topo.by_core[topo.details[cpu].core]
        physical = len(available - reserved_physical)
        if count > physical:
            raise UnsatisfiableError(
                f"SMT Alignment Error: not enough free physical CPUs: available physical CPUs = "
                f"{physical}, requested CPUs = {count}, CPUs per core = {per_core}",
                details={"constraint": FULL_PCPUS_ONLY, "requested": count, "available": physical})
    result: set[int] = set()
    if numa_affinity is not None:
        aligned = aligned_cpus(topo, numa_affinity, available, opts)
        result |= set(take_by_topology(topo, aligned, min(count, len(aligned)), opts))
    result |= set(take_by_topology(topo, available - result, count - len(result), opts))
    if len(result) != count or not result <= available:  # never hand out a busy CPU
        raise UnsatisfiableError(f"failed to allocate cpus: chose {CpuSet(result)} for {count} of {CpuSet(available)}")
    return CpuSet(result)


def reserved_cpus(topo: KubeTopology, count: int) -> CpuSet:
    """NewStaticPolicy's reserved set for a CPU count: the packed order over every CPU."""
    if count <= 0:
        raise UsageError(f"CPU count must be at least 1, not {count}")
    return take_packed(topo, topo.cpus(), count)


# -- rmctl's constraints ----------------------------------------------------------

@dataclass(frozen=True)
class Constraints:
    """rmctl's hard constraints; each narrows the candidate CPUs."""

    numa: int | None = None
    socket: int | None = None  #: socket id as printed by ``rmctl topology`` (physical_package_id)
    near: str | None = None  #: PCI address, for messages
    near_cpus: CpuSet | None = None  #: the device's CPUs (its NUMA node's, or local_cpulist)
    cpus_from: CpuSet | None = None  #: --from
    prefer_numa: tuple[int, ...] | None = None  #: soft: the Topology Manager-style affinity

    def to_data(self) -> dict:
        d: dict = {}
        if self.numa is not None:
            d["numa"] = self.numa
        if self.socket is not None:
            d["socket"] = self.socket
        if self.near is not None:
            d["near"] = self.near
        if self.cpus_from is not None:
            d["from"] = self.cpus_from.to_list()
        if self.prefer_numa is not None:
            d["prefer_numa"] = list(self.prefer_numa)
        return d


@dataclass
class Candidates:
    """The candidate CPUs after each constraint, in the order applied."""

    steps: list[tuple[str, str, CpuSet]] = field(default_factory=list)  #: (constraint, description, cpus)

    @property
    def final(self) -> CpuSet:
        return self.steps[-1][2]


def candidates(topo: KubeTopology, free: CpuSet, c: Constraints) -> Candidates:
    """Return the free CPUs narrowed by each constraint in turn."""
    cur = CpuSet(free)
    out = Candidates([("free", "free CPUs (online, allowed, not system, not reserved)", cur)])
    if c.cpus_from is not None:
        cur = cur & c.cpus_from
        out.steps.append(("from", f"--from {c.cpus_from.to_list()}", cur))
    if c.socket is not None:
        cur = cur & CpuSet(topo.by_socket.get(c.socket, frozenset()))
        out.steps.append(("socket", f"--socket {c.socket}", cur))
    if c.numa is not None:
        cur = cur & CpuSet(topo.by_node.get(c.numa, frozenset()))
        out.steps.append(("numa", f"--numa {c.numa}", cur))
    if c.near_cpus is not None:
        cur = cur & c.near_cpus
        out.steps.append(("near", f"--near {c.near}", cur))
    return out


#: no system CPUs (CpuSet is immutable: one shared default)
_NO_CPUS = CpuSet()


def choose(topo: KubeTopology, free: CpuSet, count: int, opts: Options = Options(),
           constraints: Constraints = Constraints(), *, system: CpuSet = _NO_CPUS) -> CpuSet:
    """Return the CPUs a reservation of ``count`` gets, or raise UnsatisfiableError.

    The error names the first constraint that left too few CPUs and the
    closest fit: the CPUs the same request would get without that
    constraint, or else the most CPUs available under all constraints.
    """
    if count <= 0:
        raise UsageError(f"CPU count must be at least 1, not {count}")
    cands = candidates(topo, free, constraints)
    failing = next(((name, desc, cpus) for name, desc, cpus in cands.steps if len(cpus) < count), None)
    affinity = constraints.prefer_numa
    if failing is None:
        try:
            return allocate(topo, set(cands.final), count, opts, numa_affinity=affinity, reserved=system)
        except UnsatisfiableError as e:
            constraint = e.details.get("constraint", "topology")
            raise UnsatisfiableError(
                f"cannot reserve {counted(count, 'CPU')}: {e.message}",
                hint="ask for fewer CPUs or drop the option that failed",
                details={"constraint": constraint, "requested": count,
                         "available": len(cands.final), "closest_fit": _fit(cands.final)}) from None
    name, desc, cpus = failing
    closest: dict = _fit(cpus)
    if name != "free":
        without = Constraints(**{**constraints.__dict__, **_drop(name)})
        wc = candidates(topo, free, without)
        if len(wc.final) >= count:
            try:
                got = allocate(topo, set(wc.final), count, opts, numa_affinity=affinity, reserved=system)
                closest = {"count": count, "cpus": got.to_list(), "without": name}
            except UnsatisfiableError:
                pass
    where = "free" if name == "free" else f"meeting {desc}"
    if closest.get("without"):
        fit = f"closest fit: {CpuSet.parse(closest['cpus']).phrase()} without {desc}"
    elif closest["count"]:
        fit = f"closest fit: {counted(closest['count'], 'CPU')} ({closest['cpus']})"
    else:
        fit = "no CPU fits"
    raise UnsatisfiableError(
        f"not enough CPUs {where}: requested {count}, available {len(cpus)}; {fit}",
        hint="release a reservation, ask for fewer CPUs, or relax the constraint",
        details={"constraint": name, "requested": count, "available": len(cpus),
                 "available_cpus": cpus.to_list(), "closest_fit": closest})


def _fit(cpus: CpuSet) -> dict:
    return {"count": len(cpus), "cpus": cpus.to_list()}


def _drop(name: str) -> dict:
    return {"from": {"cpus_from": None}, "socket": {"socket": None}, "numa": {"numa": None},
            "near": {"near": None, "near_cpus": None}}.get(name, {})


