"""The kubelet's Memory Manager, Static policy: per-NUMA accounting, hints and allocation.

Ported from kubernetes pkg/kubelet/cm/memorymanager/policy_static.go
(getDefaultMachineState, calculateHints, Allocate, extendTopologyManagerHint,
isAffinityViolatingNUMAAllocations, updateMachineState), described in
../shared/reference/kubelet-resource-managers.md section 5.  Pure: a
:class:`Machine` is built from the node model (or from the kubelet's
``memory_manager_state``) and changed in place by :func:`allocate`.

Sizes are bytes.  Resources are the kubelet's names: ``memory`` and
``hugepages-<size>`` (``hugepages-2Mi``, ``hugepages-1Gi``).  Note what the
kubelet counts and what it does not: a node's memory is its MemTotal, not
what is free (the Memory Manager never looks at usage), minus the
``reservedMemory`` for that node and minus every hugepage pre-allocated
on it; a node's hugepages are its pool's total pages, minus the reserved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rmctl.planning import topology_manager as tm


class MemoryManagerError(Exception):
    """An Allocate error; the kubelet reports it as UnexpectedAdmissionError."""


@dataclass
class Table:
    """One resource on one NUMA node (state.MemoryTable)."""

    total: int
    system_reserved: int
    allocatable: int
    reserved: int = 0
    free: int = 0


@dataclass
class NumaState:
    """One NUMA node (state.NUMANodeState): assignments, its group of nodes, one table per resource."""

    assignments: int = 0
    cells: list[int] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)


Machine = dict[int, NumaState]


def hugepage_resource(page_size: int) -> str:
    """Return the kubelet's resource name of a page size: 2097152 -> ``hugepages-2Mi``.

    corehelper.HugePageResourceName(resource.NewQuantity(size, BinarySI)):
    the largest binary suffix that divides the size exactly.
    """
    for suffix, unit in (("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20),
                         ("Ki", 1 << 10)):
        if page_size % unit == 0:
            return f"hugepages-{page_size // unit}{suffix}"
    return f"hugepages-{page_size}"


def default_machine(node, reserved_memory: dict[int, dict[str, int]]) -> Machine:
    """getDefaultMachineState: every NUMA node with its memory and hugepage pools, nothing assigned."""
    out: Machine = {}
    for nid, n in sorted(node.topology.nodes.items()):
        st = NumaState(cells=[nid])
        res = reserved_memory.get(nid, {})
        huge_total = 0
        for p in n.hugepages:
            name = hugepage_resource(p.page_size)
            total = p.total * p.page_size
            sysres = res.get(name, 0)
            st.tables[name] = Table(total, sysres, total - sysres, 0, total - sysres)
            huge_total += total
        mem = n.memory_total or 0
        sysres = res.get("memory", 0)
        alloc = mem - sysres - huge_total
        st.tables["memory"] = Table(mem, sysres, alloc, 0, alloc)
        out[nid] = st
    return out


def machine_from_checkpoint(state) -> Machine:
    """Return the machine state of a ``memory_manager_state`` (rmctl.model.kubelet.MemoryManagerState)."""
    out: Machine = {}
    for n in state.machine:
        out[n.node] = NumaState(n.assignments, list(n.cells) or [n.node],
                                {t.resource: Table(t.total, t.system_reserved, t.allocatable, t.reserved, t.free)
                                 for t in n.tables})
    return out


def _table(machine: Machine, n: int, resource: str) -> Table:
    # a resource the node does not have (a page size without a pool there) has nothing
    return machine[n].tables.get(resource) or Table(0, 0, 0, 0, 0)


def calculate_hints(machine: Machine, requested: dict[str, int],
                    reusable: dict[tuple[int, ...], dict[str, int]] | None = None) -> dict[str, list[tm.Hint]]:
    """calculateHints: every NUMA mask that can hold every requested resource.

    A mask needs the requested allocatable (this sets the minimum width:
    the preferred hints), respects the node groups (a node in a
    multi-node group takes no single-node hint; a node with single-node
    assignments joins no group; a grouped node only with its own group),
    and has the requested free (plus what the pod's init containers leave
    on exactly that mask).  An empty dict when no mask qualifies: to the
    Topology Manager that is "no preference" (policy.go filterProvidersHints),
    and Allocate fails later.
    """
    nodes = sorted(machine)
    reusable = reusable or {}
    min_width = len(nodes)
    hints: dict[str, list[tm.Hint]] = {}
    found: list[int] = []
    for mask in tm.iterate_masks(nodes):
        bits = tm.bits(mask)
        if any(sum(_table(machine, n, r).allocatable for n in bits) < size for r, size in requested.items()):
            continue
        min_width = min(min_width, len(bits))
        single = len(bits) == 1
        if single and len(machine[bits[0]].cells) > 1:
            continue
        bad = False
        for n in bits:
            if not single and machine[n].assignments > 0:
                if len(machine[n].cells) == 1 or sorted(machine[n].cells) != bits:
                    bad = True
                    break
        if bad:
            continue
        again = reusable.get(tuple(bits), {})
        if any(sum(_table(machine, n, r).free for n in bits) + again.get(r, 0) < size for r, size in requested.items()):
            continue
        found.append(mask)
    for r in requested:
        if found:
            hints[r] = [tm.Hint(m, tm.count(m) == min_width) for m in found]
    return hints


def best_hint(hints: list[tm.Hint]) -> tm.Hint:
    """findBestHint: preferred before not, then the narrowest."""
    best: tm.Hint | None = None
    for h in hints:
        if best is None:
            best = h
        elif h.preferred and not best.preferred:
            best = h
        elif h.preferred == best.preferred and tm.narrower(h.mask or 0, best.mask or 0):
            best = h
    assert best is not None
    return best


def _satisfies(machine: Machine, bits: list[int], requested: dict[str, int]) -> bool:
    return all(sum(_table(machine, n, r).free for n in bits) >= size for r, size in requested.items())


def _violates(machine: Machine, bits: list[int]) -> bool:
    """isAffinityViolatingNUMAAllocations: single- and cross-NUMA allocations never share a node."""
    if len(bits) == 1:
        return False
    for n in bits:
        st = machine[n]
        if st.assignments == 0:
            continue
        if len(st.cells) == 1 or sorted(st.cells) != sorted(bits):
            return True
    return False


def allocate(machine: Machine, affinity: tm.Hint, requested: dict[str, int],
             reusable: dict[tuple[int, ...], dict[str, int]] | None = None
             ) -> tuple[list[int], dict[str, dict[int, int]]]:
    """staticPolicy.Allocate for one container: return its NUMA nodes and what it took, resource -> node -> bytes.

    ``affinity`` is what the Topology Manager stored for the container
    (policy none: no mask, not preferred).  The machine is updated; a
    failure raises MemoryManagerError with the kubelet's message.
    """
    reusable = reusable or {}
    best = affinity
    if best.mask is None:
        hints = calculate_hints(machine, requested, reusable)
        if not hints:
            raise MemoryManagerError("[memorymanager] failed to get the default NUMA affinity, "
                                     "no NUMA nodes with enough memory is available")
        default = best_hint(hints.get("memory") or next(iter(hints.values())))
        if not default.preferred and best.preferred:
            raise MemoryManagerError("[memorymanager] failed to find the default preferred hint")
        best = default
    assert best.mask is not None  # calculate_hints gives masks only
    bits = tm.bits(best.mask)
    if not _satisfies(machine, bits, requested):
        hints = calculate_hints(machine, requested, reusable)
        group = [h for h in hints.get("memory") or next(iter(hints.values()), [])
                 if h.mask is not None and set(bits) <= set(tm.bits(h.mask))]
        if not group:
            raise MemoryManagerError("[memorymanager] failed to find NUMA nodes to extend the current topology hint")
        extended = best_hint(group)
        if not extended.preferred and best.preferred:
            raise MemoryManagerError("[memorymanager] failed to find the extended preferred hint")
        best = extended
        bits = tm.bits(best.mask or 0)
    if _violates(machine, bits):
        raise MemoryManagerError("[memorymanager] preferred hint violates NUMA node allocation")
    again = reusable.get(tuple(bits), {})
    taken: dict[str, dict[int, int]] = {}
    for r, size in requested.items():
        left = max(0, size - again.get(r, 0))
        for n in bits:
            st = machine[n]
            st.assignments += 1
            st.cells = list(bits)
            if left == 0:
                continue
            t = st.tables.get(r)
            if t is None or t.free <= 0:
                continue
            take = min(t.free, left)
            t.reserved += take
            t.free -= take
            left -= take
            taken.setdefault(r, {})[n] = take
    return bits, taken
