"""Evaluate a ResourceRequest on one node: does it fit, where, and why (not).

Pure: (NodeModel, request, classes, what is already reserved) -> Evaluation.
The steps follow the kubelet's resource managers
(../shared/reference/kubelet-resource-managers.md):

1. Select devices: every device is run through the class selectors, then
   the request's own, in order, stopping at the first that is not true
   (DRA's allocator does the same); a CEL runtime error on a device fails
   the request, naming the device and the selector, as DRA fails the
   allocation ("CEL runtime error"), and is shown per device by ``explain``.
2. Each resource proposes NUMA hints (a mask and "preferred"): CPUs and
   devices as the CPU and device managers do, memory and hugepages as the
   memory manager does; preference is judged on capacity, availability
   only decides which masks appear (reference rule 5).
3. The Topology Manager merges them for the request's policy
   (:mod:`rmctl.planning.topology_manager`) and admits or rejects.
4. Resources are allocated inside the merged affinity: CPUs by the CPU
   allocator, aligned first then spilling out (CPU manager 2.3 step 4, only
   under none/best-effort), devices aligned first (device manager), memory
   and hugepages node by node from free memory and free pool pages.

``firstAvailable`` alternatives are tried in order (DRA's prioritized
list): the first combination that fits wins; if none fits, the first
combination's reasons are reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from rmctl.cpuset import CpuSet
from rmctl.model.pci import RMCTL_DRIVER as DRIVER  # the default DRA driver name (device.driver)
from rmctl.model.record import FrozenDict
from rmctl.model.value import field, replace, value
from rmctl.planning import topology_manager as tm
from rmctl.units import counted, format_size

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

MAX_COMBINATIONS = 64


# --------------------------------------------------------------------------
# Devices as CEL sees them
# --------------------------------------------------------------------------

@value
class DeviceView:
    """One device as requests see it: address, driver, NUMA nodes, attributes, capacity."""

    address: str
    driver: str
    nodes: tuple[int, ...]  #: NUMA nodes it is local to; () = no topology
    attributes: dict[str, Any]
    capacity: dict[str, Any]
    kind: str = ""
    name: str = ""
    dra_name: str = ""  #: the device's name in its driver's ResourceSlice (pci-0000-3b-00-0, gpu-0)
    _activation: dict | None = None

    def activation(self) -> dict:
        if self._activation is None:
            from rmctl.resources.cel import device_activation

            self._activation = device_activation(self.driver, self.attributes, self.capacity)
        return self._activation


def device_views(node, driver: str = DRIVER) -> list[DeviceView]:
    """Return the node's devices as DeviceViews, as DRA drivers would publish them.

    ``device.driver`` is the DRA driver name a device is published under,
    the same offline and in ``export resourceslice``: ``driver`` (rmctl's,
    ``rmctl.io`` by default) for every PCI function, whose kernel driver
    stays the attribute ``rmctl.io/driver``.  A GPU with NVML facts is also
    seen as NVIDIA's DRA driver publishes it (driver ``gpu.nvidia.com``,
    :mod:`rmctl.model.nvidia`), so NVIDIA's DeviceClass and claims written
    for it evaluate unchanged.  Both views of a GPU carry its PCI address,
    and allocation is per address: one GPU is never handed out twice.
    """
    from rmctl.model.nvidia import nvidia_devices
    from rmctl.model.pci import dra_device_name

    out = []
    for d in node.devices:
        attrs = dict(getattr(d, "attributes", {}) or {})
        caps = dict(getattr(d, "capacity", {}) or {})
        if hasattr(d, "local_nodes"):
            nodes = tuple(d.local_nodes(node.topology.nodes))
        else:
            nn = getattr(d, "numa_node", None)
            nodes = (nn,) if nn is not None and nn >= 0 else ()
        out.append(DeviceView(str(d.address), driver, nodes, attrs, caps,
                              getattr(d, "kind", "") or "", getattr(d, "name", "") or "",
                              dra_device_name(str(d.address))))
        for nv in nvidia_devices(d):
            out.append(DeviceView(nv.address, nv.driver, nodes, nv.attributes, nv.capacity,
                                  getattr(d, "kind", "") or "", getattr(d, "name", "") or "", nv.name))
    return out


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

@value(frozen=True)
class SelectorResult:
    """One selector on one device: its value, or the error that made it false."""

    source: str  #: "class gpu" or "request gpu"
    cel: str
    value: bool
    error: str | None = None
    evaluated: bool = True  #: False: an earlier selector was not true, so this one was not run (DRA)

    def to_data(self) -> dict:
        return {"source": self.source, "cel": self.cel, "value": self.value, "error": self.error,
                "evaluated": self.evaluated}


@value(frozen=True)
class DeviceMatch:
    """How one device fared against one device-request choice."""

    address: str
    selectors: Sequence[SelectorResult]  #: kept as a tuple
    reserved_by: str | None = None
    driver: str = DRIVER  #: the DRA driver of the view (rmctl's, or gpu.nvidia.com for NVIDIA's view)
    device: str = ""  #: the view's device name under that driver (gpu-0 for NVIDIA's)

    def __post_init__(self) -> None:
        object.__setattr__(self, "selectors", tuple(self.selectors))

    @property
    def matches(self) -> bool:
        return all(s.value for s in self.selectors)

    def to_data(self) -> dict:
        return {"address": self.address, "driver": self.driver, "device": self.device, "matches": self.matches,
                "reserved_by": self.reserved_by, "selectors": [s.to_data() for s in self.selectors]}


@value(frozen=True)
class ResourceResult:
    """One resource of the request: fits or not, why, and its NUMA hints."""

    resource: str  #: "cpu", "memory", "hugepages-2Mi", "device/gpu"
    wanted: str
    fits: bool
    reason: str
    hints: Sequence[tm.Hint] | None = None  #: None = no NUMA preference; else kept as a tuple

    def __post_init__(self) -> None:
        if self.hints is not None:
            object.__setattr__(self, "hints", tuple(self.hints))

    def to_data(self) -> dict:
        return {"resource": self.resource, "wanted": self.wanted, "fits": self.fits, "reason": self.reason,
                "hints": None if self.hints is None else [h.to_data() for h in self.hints]}


@value(frozen=True)
class Evaluation:
    """The answer for one node; made once, never changed (its sequences are tuples, its maps FrozenDicts)."""

    request: str
    policy: str
    fits: bool
    node: str = ""  #: the root evaluated
    numa_nodes: Sequence[int] = ()
    cpus: CpuSet = field(default_factory=CpuSet)
    devices: Mapping[str, Sequence[str]] = field(default_factory=dict)  #: request name -> addresses
    choices: Mapping[str, str] = field(default_factory=dict)  #: request name -> chosen alternative
    memory: Mapping[int, int] = field(default_factory=dict)  #: NUMA node -> bytes
    hugepages: Mapping[int, Mapping[int, int]] = field(default_factory=dict)  #: page size -> node -> pages
    resources: Sequence[ResourceResult] = ()
    admission: tm.Admission | None = None
    matches: Mapping[str, Sequence[DeviceMatch]] = field(default_factory=dict)  #: "req" or "req/alt" -> per device
    reasons: Sequence[str] = ()
    hints_for_typos: Sequence[str] = ()
    notes: Sequence[str] = ()  #: what was left out of the evaluation, and why
    #: findings of the node that changed the answer, and how (``code: what was used instead``)
    warnings: Sequence[str] = ()
    no_match: Mapping[str, str] = field(default_factory=dict)  #: matches key -> the selector no device passes

    def __post_init__(self) -> None:
        for name in ("numa_nodes", "resources", "reasons", "hints_for_typos", "notes", "warnings"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "devices", FrozenDict({k: tuple(v) for k, v in self.devices.items()}))
        object.__setattr__(self, "matches", FrozenDict({k: tuple(v) for k, v in self.matches.items()}))
        object.__setattr__(self, "hugepages", FrozenDict({k: FrozenDict(v) for k, v in self.hugepages.items()}))
        for name in ("choices", "memory", "no_match"):
            object.__setattr__(self, name, FrozenDict(getattr(self, name)))

    @property
    def device_addresses(self) -> list[str]:
        return sorted({a for addrs in self.devices.values() for a in addrs})

    def to_data(self, *, explain: bool = False) -> dict:
        d = {
            "request": self.request, "node": self.node, "policy": self.policy, "fits": self.fits,
            "numa_nodes": list(self.numa_nodes), "cpus": self.cpus.to_list(),
            "devices": self.device_addresses,
            "device_allocation": {k: list(v) for k, v in self.devices.items()},
            "choices": dict(self.choices),
            "memory": {str(n): b for n, b in sorted(self.memory.items())},
            "hugepages": {str(size): {str(n): p for n, p in sorted(per.items())}
                          for size, per in sorted(self.hugepages.items())},
            "topology": None if self.admission is None else self.admission.to_data(),
            "resources": [r.to_data() for r in self.resources],
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }
        if explain:
            d["selectors"] = {k: [m.to_data() for m in v] for k, v in self.matches.items()}
            d["typo_hints"] = list(self.hints_for_typos)
        return d


# --------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------

@value
class Reserved:
    """What other reservations already hold on this node."""

    cpus: CpuSet = field(default_factory=CpuSet)
    devices: dict[str, str] = field(default_factory=dict)  #: address -> reservation name
    hugepages: dict[tuple[int, int], int] = field(default_factory=dict)  #: (page size, node) -> pages
    memory: dict[int, int] = field(default_factory=dict)  #: node -> bytes


def _free_cpus(node, reserved: Reserved) -> CpuSet:
    topo = node.topology
    return CpuSet(c.id for c in topo.cpus.values() if c.online and c.allowed and c.id not in reserved.cpus)


def _whole_core_cpus(node, free: CpuSet) -> CpuSet:
    """Return the CPUs of cores whose every online thread is free."""
    out: list[int] = []
    for core in node.topology.cores.values():
        if core.cpus and all(c in free for c in core.cpus):
            out.extend(core.cpus)
    return CpuSet(out)


def _node_ids(node) -> list[int]:
    ids = sorted(node.topology.nodes)
    return ids or [0]


def _cpu_node(node, cpu: int) -> int:
    n = node.topology.cpus[cpu].node
    return 0 if n is None else n


def _pool(node, numa: int, size: int):
    n = node.topology.nodes.get(numa)
    if n is None:
        return None
    for p in n.hugepages:
        if p.page_size == size:
            return p
    return None


#: the discovery finding that says the NUMA nodes' meminfo does not account for the machine's memory
#: (rmctl.discovery.assemble.node_memory_check)
MEMORY_NOT_ON_NODES = "node_memory_mismatch"


def machine_memory(node, reserved: Reserved) -> tuple[str | None, int]:
    """Return (why per-node memory is not used, the machine's free bytes) when memory is judged machine-wide.

    Per-node memory is not used when a node does not say its memory, or
    when discovery found that the nodes' MemTotal misses much of
    proc/meminfo's (the ``node_memory_mismatch`` finding: Firecracker
    guests with lazily initialised memory, gpu-node.tar.gz: node0 says
    4.3 GiB of 125.9 GiB).  The answer then uses the machine's
    MemAvailable less what reservations hold, with no NUMA preference, as
    the kubelet does without its Memory Manager (node allocatable only).
    ``why`` is None when per-node memory is used.
    """
    free = max(0, (node.memory.available or node.memory.free or 0) - sum(reserved.memory.values()))
    finding = next((f for f in node.findings if f.code == MEMORY_NOT_ON_NODES), None)
    if finding is not None:
        return (f"{finding.code}: {finding.message}; memory is judged on the machine's available memory "
                f"({format_size(free)} free), with no NUMA preference"), free
    nodes = _node_ids(node)
    if any(_node_memory(node, n, reserved)[0] is None for n in nodes):
        return "", free  # no per-node memory at all: nothing to warn about, the result says so
    return None, free


def _node_memory(node, numa: int, reserved: Reserved) -> tuple[int | None, int | None]:
    """Return (capacity, free) bytes of ordinary memory on a node, hugepages excluded."""
    n = node.topology.nodes.get(numa)
    if n is None or n.memory_total is None:
        return None, None
    huge = sum(p.total * p.page_size for p in n.hugepages)
    cap = max(0, n.memory_total - huge)
    free = max(0, (n.memory_free if n.memory_free is not None else cap) - reserved.memory.get(numa, 0))
    return cap, free


# --------------------------------------------------------------------------
# CPU allocation: the CPU allocator (rmctl.planning.cpus, the kubelet's static policy)
# --------------------------------------------------------------------------

def take_cpus(node, available: CpuSet, count: int, whole_cores: bool,
              numa_affinity: list[int] | None = None) -> CpuSet | None:
    """Return ``count`` CPUs of ``available`` chosen by the CPU allocator, or None when impossible.

    ``numa_affinity``: CPUs on those nodes first, the rest from anywhere
    (policy_static.go allocateCPUs).  ``whole_cores`` is full-pcpus-only.
    """
    from rmctl.errors import UnsatisfiableError
    from rmctl.planning import cpus as allocator

    if count <= 0:
        return CpuSet()
    topo = allocator.KubeTopology.from_topology(node.topology)
    try:
        return allocator.allocate(topo, set(available), count,
                                  allocator.Options(full_pcpus_only=whole_cores),
                                  numa_affinity=numa_affinity)
    except UnsatisfiableError:
        return None


# --------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------

def select_devices(views: list[DeviceView], choice, cls, reserved: Reserved) -> list[DeviceMatch]:
    """Return one DeviceMatch per device for a request choice (class selectors, then its own)."""
    out = []
    sels = [(f"class {cls.name}", s) for s in cls.selectors] + [(f"request {choice.name}", s) for s in choice.selectors]
    for v in views:
        act = v.activation()
        results = []
        alive = True
        for source, s in sels:
            if not alive:  # ANDed, in order: DRA stops at the first selector that is not true
                results.append(SelectorResult(source, s.cel, False, None, evaluated=False))
                continue
            o = s.compiled.evaluate(act)
            results.append(SelectorResult(source, s.cel, o.value, o.error))
            alive = o.value and not o.error
        out.append(DeviceMatch(v.address, results, reserved.devices.get(v.address), v.driver, v.dra_name))
    return out


def runtime_errors(matches: dict[str, list[DeviceMatch]]) -> list[str]:
    """Return one line per CEL runtime error, naming the device and the selector (S1, S2... as explain does)."""
    out = []
    for key, ms in matches.items():
        for m in ms:
            for k, s in enumerate(m.selectors):
                if s.error:
                    dev = m.device if m.device and m.driver != DRIVER else m.address
                    line = (f"device request {key}: CEL runtime error on device {dev}, "
                            f"S{k + 1} ({s.source}) {s.cel}: {s.error}")
                    if s.error.startswith("no such key") and m.driver:
                        line += (f" (the device is published by driver {m.driver}; guard the lookup, e.g. "
                                 f'device.driver == "rmctl.io" && ..., or "name" in device.attributes[...])')
                    out.append(line)
    return out


def _attr_value(view: DeviceView, qualified: str):
    if qualified in view.attributes:
        return view.attributes[qualified]
    if "/" not in qualified:  # a bare name is in rmctl's domain (DRA: the driver's domain)
        return view.attributes.get(f"rmctl.io/{qualified}")
    return None


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------

def evaluate(node, request, classes: dict, *, reserved: Reserved | None = None,
             max_numa_nodes: int = tm.MAX_ALLOWABLE_NUMA_NODES, driver: str = DRIVER,
             prefer_closest: bool = False) -> Evaluation:
    """Return the Evaluation of ``request`` on ``node`` (a NodeModel with devices discovered).

    ``prefer_closest`` is the Topology Manager's prefer-closest-numa-nodes
    option: equally wide masks are ranked by mean NUMA distance.

    ``max_numa_nodes`` is the kubelet's max-allowable-numa-nodes: on a node
    with more NUMA nodes a policy other than none does not fit (the
    Topology Manager refuses the machine), and under none no NUMA hints
    are enumerated (2^n masks).
    """
    reserved = reserved or Reserved()
    views = device_views(node, driver)
    matches: dict[str, list[DeviceMatch]] = {}
    candidates: dict[tuple[int, int], list[DeviceMatch]] = {}
    every: dict[tuple[int, int], list[DeviceMatch]] = {}
    for i, dreq in enumerate(request.devices):
        for j, ch in enumerate(dreq.choices):
            cls = classes.get(ch.class_name) or request.classes.get(ch.class_name)
            ms = select_devices(views, ch, cls, reserved)
            key = dreq.name if not dreq.first_available else f"{dreq.name}/{ch.name}"
            matches[key] = ms
            candidates[(i, j)] = [m for m in ms if m.matches]
            every[(i, j)] = ms

    combos = itertools.islice(itertools.product(*[range(len(d.choices)) for d in request.devices]),
                              MAX_COMBINATIONS)
    first: Evaluation | None = None
    for combo in combos:
        ev = _evaluate_combo(node, request, views, candidates, combo, reserved, max_numa_nodes, every,
                             prefer_closest)
        if ev.fits:
            first = ev
            break
        if first is None:
            first = ev
    assert first is not None
    fits, reasons = first.fits, list(first.reasons)
    errors = runtime_errors(matches)
    if errors:
        # DRA's allocator fails the allocation on a CEL runtime error instead of
        # skipping the device (structured/allocator.go: "CEL runtime error")
        fits = False
        reasons[:0] = errors[:5] + ([f"... and {len(errors) - 5} more CEL runtime errors"]
                                    if len(errors) > 5 else [])
    return replace(
        first, fits=fits, reasons=reasons, matches=matches,
        no_match={k: why for k, ms in matches.items() if (why := failing_selector(ms))},
        node=node.source.root, hints_for_typos=typo_hints(request, classes, views))


def _evaluate_combo(node, request, views, candidates, combo, reserved: Reserved,
                    max_numa_nodes: int = tm.MAX_ALLOWABLE_NUMA_NODES, every=None,
                    prefer_closest: bool = False) -> Evaluation:
    by_addr = {v.address: v for v in views}
    nodes = _node_ids(node)
    # the fields of the Evaluation, filled step by step; it is made once, at each return
    ev: dict[str, Any] = {"request": request.name, "policy": request.policy, "fits": False,
                          "notes": [], "choices": {}, "hugepages": {}}
    refused = tm.too_many_numa_nodes(request.policy, nodes, max_numa_nodes)
    if refused:
        ev["reasons"] = [f"topology: {refused}"]
        return Evaluation(**ev)
    if len(nodes) > max_numa_nodes:  # policy none: no merge, so no 2^n hint enumeration either
        ev["notes"].append(f"NUMA hints not computed: {len(nodes)} NUMA nodes, more than "
                        f"max-allowable-numa-nodes {max_numa_nodes} (policy none does not use them)")
    capacity_hints = tm.capacity_hints if len(nodes) <= max_numa_nodes else (lambda *a, **k: None)
    providers: list[dict] = []
    results: list[ResourceResult] = []
    free = _free_cpus(node, reserved)
    usable = _whole_core_cpus(node, free) if request.whole_cores else free

    # -- hints (step 2) --------------------------------------------------
    if request.cpus:
        tpc = max(1, node.topology.threads_per_core_max())
        want = counted(request.cpus, "CPU") + (" in whole cores" if request.whole_cores else "")
        if request.whole_cores and request.cpus % tpc:
            results.append(ResourceResult("cpu", want, False,
                                          f"{request.cpus} is not a multiple of {tpc} threads per core "
                                          "(the kubelet's SMT alignment error)", []))
            providers.append({"cpu": []})
        else:
            hints = capacity_hints(
                nodes, request.cpus,
                available=lambda n: sum(1 for c in usable if _cpu_node(node, c) == n),
                capacity=lambda n: len(node.topology.cpus_in(node=n)) if node.topology.nodes else len(free))
            ok = len(usable) >= request.cpus
            results.append(ResourceResult(
                "cpu", want, ok,
                f"{len(usable)} {'CPUs in whole free cores' if request.whole_cores else 'free CPUs'}"
                + ("" if ok else f", {request.cpus} wanted")
                + (f" ({len(reserved.cpus)} reserved)" if reserved.cpus else ""), hints))
            providers.append({"cpu": hints})
    if request.memory:
        caps = {n: _node_memory(node, n, reserved) for n in nodes}
        why_machine, total_free = machine_memory(node, reserved)
        if why_machine is not None:
            ok = total_free >= request.memory
            if why_machine:
                ev["warnings"] = [why_machine]
            results.append(ResourceResult("memory", format_size(request.memory), ok,
                                          f"{format_size(total_free)} available on the machine ("
                                          + ("NUMA nodes' memory not all attributed: node_memory_mismatch"
                                             if why_machine else "no per-node memory")
                                          + "): no NUMA preference"
                                          + ("" if ok else f"; {format_size(request.memory)} wanted"),
                                          None))
            providers.append({"memory": None if ok else []})
        else:
            # every node says its memory: (capacity, free) are both known
            known = {n: (cap, free) for n, (cap, free) in caps.items() if cap is not None and free is not None}
            hints = capacity_hints(nodes, request.memory, available=lambda n: known[n][1],
                                      capacity=lambda n: known[n][0])
            total = sum(c[1] for c in known.values())
            ok = total >= request.memory  # the all-nodes mask: a hint exists iff this holds
            results.append(ResourceResult("memory", format_size(request.memory), ok,
                                          "free per node: " + _per_node({n: known[n][1] for n in nodes}, format_size)
                                          + ("" if ok else f"; {format_size(total)} in all, {format_size(request.memory)} wanted"),
                                          hints))
            providers.append({"memory": hints})
    for size, amount in sorted(request.hugepages.items()):
        pages = amount // size
        name = f"hugepages-{format_size(size)}"
        have = {n: ((_pool(node, n, size).free if _pool(node, n, size) else 0) - reserved.hugepages.get((size, n), 0))
                for n in nodes}
        cap = {n: (_pool(node, n, size).total if _pool(node, n, size) else 0) for n in nodes}
        hints = capacity_hints(nodes, pages, available=lambda n: max(0, have[n]),  # noqa: B023 (called here)
                               capacity=lambda n: cap[n])  # noqa: B023
        ok = sum(max(0, have[n]) for n in nodes) >= pages
        if not any(_pool(node, n, size) for n in nodes):
            reason = f"the kernel offers no {format_size(size)} pages on this node"
        else:
            reason = "free pages per node: " + _per_node({n: max(0, have[n]) for n in nodes}, str) \
                + ("" if ok else f"; {pages} wanted (size the pools with 'rmctl hugepages set')")
        results.append(ResourceResult(name, f"{pages} x {format_size(size)}", ok, reason, hints))
        providers.append({name: hints})
    for i, dreq in enumerate(request.devices):
        ch = dreq.choices[combo[i]]
        # a PCI function counts once, whichever of its views matched (rmctl's, NVIDIA's)
        cands = list({m.address: m for m in reversed(candidates[(i, combo[i])])}.values())[::-1]
        free_c = [m for m in cands if m.reserved_by is None]
        need = len(cands) if ch.all else ch.count
        rname = f"device/{dreq.name}"
        want = ("all" if ch.all else str(ch.count)) + f" of class {ch.class_name}"
        if dreq.first_available:
            want += f" (alternative {ch.name})"
        if not cands:
            results.append(ResourceResult(rname, want, False, _no_match_reason((every or {}).get((i, combo[i]), []), ch), []))
            providers.append({rname: []})
            continue
        if ch.all and len(free_c) < len(cands):
            held = sorted({m.reserved_by for m in cands if m.reserved_by})
            results.append(ResourceResult(rname, want, False,
                                          f"allocationMode All needs every matching device; "
                                          f"{len(cands) - len(free_c)} held by {_plural(len(held), 'reservation')} {', '.join(held)}", []))
            providers.append({rname: []})
            continue
        if len(free_c) < need:
            n_held = len(cands) - len(free_c)
            holders = "; ".join(f"{m.address} by {m.reserved_by}" for m in cands if m.reserved_by)
            results.append(ResourceResult(rname, want, False,
                                          f"{counted(len(cands), 'device')} match, {n_held} already reserved ({holders}), "
                                          f"{need} wanted", []))
            providers.append({rname: []})
            continue
        topo = [by_addr[m.address].nodes for m in cands]
        if not any(topo):
            hints = None  # devicemanager: no device reports topology -> no preference
        else:
            def avail(n, pool=free_c):
                return sum(1 for m in pool if not by_addr[m.address].nodes or n in by_addr[m.address].nodes)

            hints = capacity_hints(nodes, need, available=avail,
                                   capacity=lambda n: avail(n, cands))  # noqa: B023 (called here)
            # A mask counts a device once even when it is local to several of its nodes.
            hints = None if hints is None else [h for h in hints
                     if sum(1 for m in free_c if not by_addr[m.address].nodes
                            or set(by_addr[m.address].nodes) & set(h.nodes() or ())) >= need]
        results.append(ResourceResult(rname, want, True,
                                      f"{counted(len(free_c), 'free matching device')}: "
                                      + ", ".join(m.address for m in free_c[:8]) + ("..." if len(free_c) > 8 else ""),
                                      hints))
        providers.append({rname: hints})
        ev["choices"][dreq.name] = ch.name

    ev["resources"] = results
    if not all(r.fits for r in results):
        ev["reasons"] = [f"{r.resource}: {r.reason}" for r in results if not r.fits]
        ev["admission"] = tm.merge(request.policy, nodes, providers) if request.policy != "none" else None
        return Evaluation(**ev)

    # -- merge and admit (step 3) ----------------------------------------
    adm = tm.merge(request.policy, nodes, providers,
                   distances={n: dict(node.topology.nodes[n].distances) for n in node.topology.nodes},
                   prefer_closest=prefer_closest)
    ev["admission"] = adm
    if not adm.admit:
        ev["reasons"] = [adm.reason] + _policy_detail(request.policy, results)
        return Evaluation(**ev)
    strict = request.policy in ("restricted", "single-numa-node")
    affinity = nodes if adm.hint.mask is None else tm.bits(adm.hint.mask)

    # -- allocate (step 4) -----------------------------------------------
    used_nodes: set[int] = set()
    if request.devices:
        alloc = _allocate_devices(request, candidates, combo, by_addr, affinity, strict)
        if alloc is None:
            ev["reasons"] = ["devices: no choice of devices satisfies the constraints"
                          + (f" on {_numa(affinity)}" if strict else "")
                          + ": " + "; ".join(_constraint_detail(c, request, candidates, combo, by_addr)
                                             for c in request.constraints)]
            _mark(results, "device/", False, ev["reasons"][0])
            return Evaluation(**ev)
        ev["devices"] = alloc
        for addrs in alloc.values():
            for a in addrs:
                used_nodes.update(by_addr[a].nodes)
    if request.cpus:
        if strict:  # the merged hint is preferred: the aligned CPUs suffice
            got = take_cpus(node, CpuSet(c for c in usable if _cpu_node(node, c) in affinity),
                            request.cpus, request.whole_cores)
        else:  # aligned first, then spill (CPU manager 2.3 step 4)
            got = take_cpus(node, usable, request.cpus, request.whole_cores, numa_affinity=affinity)
        if got is None or len(got) != request.cpus:
            ev["reasons"] = [f"cpu: the CPU allocator found no {counted(request.cpus, 'CPU')}"
                          + (" in whole cores" if request.whole_cores else "")
                          + f" on {_numa(affinity)}"]
            _mark(results, "cpu", False, ev["reasons"][0])
            return Evaluation(**ev)
        ev["cpus"] = got
        used_nodes.update(_cpu_node(node, c) for c in got)
    if request.memory:
        caps = {n: _node_memory(node, n, reserved) for n in nodes}
        if machine_memory(node, reserved)[0] is not None:
            # judged machine-wide (the hints above); recorded on the first node of the affinity so that
            # a reservation counts it and later evaluations subtract it (machine_memory sums them)
            first_node = affinity[0] if affinity else nodes[0]
            ev["memory"] = {first_node: request.memory}
        elif all(c[0] is not None for c in caps.values()):
            placed = _fill(request.memory, affinity, lambda n: caps[n][1])
            if placed is None and not strict:
                placed = _fill(request.memory, affinity + [n for n in nodes if n not in affinity], lambda n: caps[n][1])
            if placed is None:
                ev["reasons"] = [f"memory: {format_size(request.memory)} does not fit on {_numa(affinity)}"]
                _mark(results, "memory", False, ev["reasons"][0])
                return Evaluation(**ev)
            ev["memory"] = placed
            used_nodes.update(placed)
    for size, amount in sorted(request.hugepages.items()):
        pages = amount // size

        def free_pages(n, size=size):
            p = _pool(node, n, size)
            return max(0, (p.free if p else 0) - reserved.hugepages.get((size, n), 0))

        placed = _fill(pages, affinity, free_pages)
        if placed is None and not strict:
            placed = _fill(pages, affinity + [n for n in nodes if n not in affinity], free_pages)
        if placed is None:
            msg = f"hugepages-{format_size(size)}: {pages} pages do not fit on {_numa(affinity)}"
            ev["reasons"] = [msg]
            _mark(results, f"hugepages-{format_size(size)}", False, msg)
            return Evaluation(**ev)
        ev["hugepages"][size] = placed
        used_nodes.update(placed)

    ev["fits"] = True
    ev["numa_nodes"] = sorted(used_nodes) if used_nodes else (tm.bits(adm.hint.mask) if adm.hint.mask is not None else [])
    return Evaluation(**ev)


def _per_node(values: dict[int, int], show, limit: int = 4) -> str:
    """Return "node 0 6Gi, node 1 2Gi", or a range with the best node past ``limit`` nodes (80 columns)."""
    if len(values) <= limit:
        return ", ".join(f"node {n} {show(v)}" for n, v in values.items())
    best = max(values, key=lambda n: (values[n], -n))
    return (f"{show(min(values.values()))} to {show(values[best])} on each of {len(values)} nodes "
            f"(most on node {best})")


def _constraint_detail(c, request, candidates, combo, by_addr) -> str:
    """Return "matchAttribute X" plus the free candidates that lack X (DRA: they can never satisfy it)."""
    names = set(c.requests) or {d.name for d in request.devices}
    lacking = sorted({m.address for i, d in enumerate(request.devices) if d.name in names
                      for m in candidates[(i, combo[i])]
                      if m.reserved_by is None and _attr_value(by_addr[m.address], c.attribute) is None})
    text = f"matchAttribute {c.attribute}"
    if lacking:
        shown = ", ".join(lacking[:3]) + (f" and {len(lacking) - 3} more" if len(lacking) > 3 else "")
        text += f" ({shown} {'has' if len(lacking) == 1 else 'have'} no such attribute)"
    return text


def _mark(results: list[ResourceResult], prefix: str, fits: bool, reason: str) -> None:
    """Replace, in the list being built, the results of resources starting with ``prefix``."""
    results[:] = [replace(r, fits=fits, reason=reason) if r.resource.startswith(prefix) else r
                  for r in results]


def _fmt_nodes(nodes) -> str:
    return ",".join(str(n) for n in nodes) if nodes else "-"


def _numa(nodes) -> str:
    """Return "NUMA node 0" or "NUMA nodes 0,1" (the noun agreeing with the list)."""
    return f"NUMA {_plural(len(nodes or ()), 'node')} {_fmt_nodes(nodes)}"


def _plural(n: int, noun: str) -> str:
    """Return ``noun`` as it goes with ``n`` of them, without the number ("reservation", "reservations")."""
    return counted(n, noun).split(" ", 1)[1]


def _fill(amount: int, order: list[int], free) -> dict[int, int] | None:
    """Return amount taken node by node in ``order`` (memory manager), or None when short."""
    out: dict[int, int] = {}
    left = amount
    for n in order:
        take = min(left, free(n))
        if take > 0:
            out[n] = take
            left -= take
        if left == 0:
            return out
    return None if left else out


def _policy_detail(policy: str, results: list[ResourceResult]) -> list[str]:
    """Return one line per resource saying which NUMA placements it could use (for the rejection)."""
    out = []
    for r in results:
        if r.hints is None:
            out.append(f"{r.resource}: no NUMA preference")
            continue
        pref = [h for h in r.hints if h.preferred]
        if policy == "single-numa-node":
            single = [h for h in pref if len(h.nodes() or ()) == 1]
            if not single:
                widths = sorted({len(h.nodes() or ()) for h in r.hints})
                out.append(f"{r.resource}: does not fit on any single NUMA node "
                           f"(needs {counted(widths[0], 'node') if widths else '? nodes'})")
            else:
                out.append(f"{r.resource}: fits on node " + " or ".join(_fmt_nodes(h.nodes()) for h in single))
        else:
            out.append(f"{r.resource}: preferred on " + (" or ".join("{" + _fmt_nodes(h.nodes()) + "}" for h in pref) or "nothing"))
    return out


def _no_match_reason(matches: list[DeviceMatch], ch) -> str:
    """Return why no device matches: the first selector that no remaining device passes (S1, S2... as explain numbers them)."""
    head = f"no device matches class {ch.class_name!r}" + (" and the request's selectors" if ch.selectors else "")
    if not matches:
        return head + ": this node has no PCI devices"
    culprit = failing_selector(matches)
    if culprit is None:
        return head + " (see 'rmctl request explain')"
    return head + ": " + culprit + " (see 'rmctl request explain')"


def failing_selector(matches: list[DeviceMatch]) -> str | None:
    """Return which selector leaves no device, as a sentence, or None when some device matches.

    Selectors are ANDed in order (class first, then the request's, as DRA
    does); the culprit is the first one that none of the devices passing
    the earlier ones passes.  Evaluation errors on those devices are
    summarised (the usual cause: an attribute name some devices lack).
    """
    if not matches or any(m.matches for m in matches):
        return None
    alive = list(matches)
    for k in range(len(matches[0].selectors)):
        passed = [m for m in alive if m.selectors[k].value]
        if passed:
            alive = passed
            continue
        sel = alive[0].selectors[k]
        among = f"all {counted(len(alive), 'device')}" if k == 0 else f"the {counted(len(alive), 'device')} passing S1" + (
            f"-S{k}" if k > 1 else "")
        if len(alive) <= 3:
            among += " (" + ", ".join(m.address for m in alive) + ")"
        text = f"S{k + 1} ({sel.source}) is not true on {among}: {sel.cel}"
        errors: dict[str, int] = {}
        for m in alive:
            e = m.selectors[k].error
            if e:
                errors[e] = errors.get(e, 0) + 1
        if errors:
            text += "; " + "; ".join(f"error on {n}: {e}" for e, n in errors.items())
        return text
    return None


def _allocate_devices(request, candidates, combo, by_addr, affinity: list[int], strict: bool) -> dict[str, list[str]] | None:
    """Return request name -> addresses satisfying counts and matchAttribute constraints, or None.

    Devices on the affinity's nodes (or without topology) come first; under
    restricted/single-numa-node only those are used.  Backtracking, like
    DRA's allocator (structured/allocator.go), over few devices per node.
    """
    aff = set(affinity)

    def aligned(a):
        ns = by_addr[a].nodes
        return not ns or bool(set(ns) & aff)

    lists = []
    for i, dreq in enumerate(request.devices):
        ch = dreq.choices[combo[i]]
        # one address once, whichever of its views (rmctl's, NVIDIA's) matched
        cands = list(dict.fromkeys(m.address for m in candidates[(i, combo[i])] if m.reserved_by is None))
        if strict:
            cands = [a for a in cands if aligned(a)]
        cands.sort(key=lambda a: (not aligned(a), a))
        need = len(candidates[(i, combo[i])]) if ch.all else ch.count
        lists.append((dreq.name, cands, need))
    cons = [(c.attribute, set(c.requests) or {d.name for d in request.devices}) for c in request.constraints]
    chosen: dict[str, list[str]] = {}
    used: set[str] = set()
    budget = [20000]

    def consistent(name: str, addrs: list[str]) -> bool:
        for attr, reqs in cons:
            if name not in reqs:
                continue
            vals = set()
            for r in reqs:
                for a in (addrs if r == name else chosen.get(r, [])):
                    v = _attr_value(by_addr[a], attr)
                    if v is None:  # DRA: a device without the attribute cannot satisfy matchAttribute
                        return False
                    vals.add(v)
            if len(vals) > 1:
                return False
        return True

    def rec(k: int) -> bool:
        if k == len(lists):
            return True
        name, cands, need = lists[k]
        pool = [a for a in cands if a not in used]
        for combo_addrs in itertools.combinations(pool, need):
            budget[0] -= 1
            if budget[0] < 0:
                return False
            addrs = list(combo_addrs)
            if not consistent(name, addrs):
                continue
            chosen[name] = addrs
            used.update(addrs)
            if rec(k + 1):
                return True
            used.difference_update(addrs)
            del chosen[name]
        return False

    return dict(chosen) if rec(0) else None


# --------------------------------------------------------------------------
# Explain helpers
# --------------------------------------------------------------------------

#: Names rmctl publishes for some devices only, when the kernel or NVML
#: reports them (rmctl/model/pci.py build_attributes; docs/devices.md): a
#: selector naming one is not a typo when no device here has it.
PUBLISHED_ATTRIBUTES = frozenset(
    ["resource.kubernetes.io/" + n for n in ("pciBusID", "pcieRoot", "numaNode")]
    + ["rmctl.io/" + n for n in (
        "numa", "vendor", "device", "class", "kind", "driver", "vendorName", "deviceName", "virtio",
        "iommuGroup", "sriovRole", "sriovTotalVFs", "physfn", "pcieGeneration", "pcieWidth", "rdma",
        "linkLayer", "interface", "model", "productName", "uuid", "computeCapability", "migMode",
        "driverVersion")])
PUBLISHED_CAPACITY = frozenset("rmctl.io/" + n for n in ("memory", "speed", "storage"))


def typo_hints(request, classes: dict, views: list[DeviceView]) -> list[str]:
    """Return hints for attribute/capacity names that no device has (difflib close matches)."""
    have_attr = {q for v in views for q in v.attributes}
    have_cap = {q for v in views for q in v.capacity}
    used: list[tuple[str, str, str, str]] = []
    seen_cls = set()
    for d in request.devices:
        for ch in d.choices:
            cls = classes.get(ch.class_name) or request.classes.get(ch.class_name)
            sels = list(ch.selectors)
            if cls is not None and cls.name not in seen_cls:
                seen_cls.add(cls.name)
                sels = list(cls.selectors) + sels
            for s in sels:
                for kind, dom, name in s.compiled.references():
                    used.append((kind, dom, name, s.where))
    for c in request.constraints:
        dom, _, name = c.attribute.rpartition("/")
        used.append(("attributes", dom or "rmctl.io", name, c.where))
    out = []
    for kind, dom, name, where in used:
        q = f"{dom}/{name}"
        pool = have_attr if kind == "attributes" else have_cap
        if q in pool:
            continue
        import difflib  # here: only a name no device has needs it (issue 14: request evaluate's start-up)

        close = difflib.get_close_matches(q, sorted(pool), n=3, cutoff=0.6)
        other = have_cap if kind == "attributes" else have_attr
        msg = f"{where}: no device has {kind[:-1] if kind.endswith('s') else kind} {q!r}"
        if q in (PUBLISHED_ATTRIBUTES if kind == "attributes" else PUBLISHED_CAPACITY):
            msg = (f"{where}: no device on this node has {kind[:-1] if kind.endswith('s') else kind} {q!r} "
                   "(not a typo: rmctl publishes it only for devices that report it)")
        elif q in other:
            msg += f"; it is a{'n attribute' if kind == 'capacity' else ' capacity'}: use device.{'attributes' if kind == 'capacity' else 'capacity'}[{dom!r}].{name}"
        elif close:
            msg += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        if msg not in out:
            out.append(msg)
    return out
