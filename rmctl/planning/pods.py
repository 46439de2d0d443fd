"""The kubelet's answer for a Pod on one node: admitted, or the error it would raise.

Pure: (NodeModel, pods, their claims and classes, the kubelet's policies,
what the kubelet already holds) -> one :class:`PodEvaluation` per pod.
The path a pod takes to a node, in order (each step cites its source):

1. The scheduler's resource fit (NodeResourcesFit): the pod's effective
   requests (component-helpers/resource PodRequests: app containers and
   sidecars, or the largest init container with the sidecars before it,
   plus overhead) against the node's allocatable (capacity minus
   systemReserved, kubeReserved and the hard eviction threshold; memory
   also minus every hugepage pool) minus what is used.  Refused:
   ``Unschedulable`` with "Insufficient <resource>".
2. The scheduler's DRA plugin allocates the pod's claims on this node's
   devices (rmctl.planning.requests, DRA's selectors, counts and
   matchAttribute; no NUMA alignment: the structured allocator knows
   none).  Refused: ``Unschedulable``, "cannot allocate all claims".
3. The kubelet's Topology Manager admit handler, per container (scope
   container: init containers first, each allocated before the next is
   considered) or once for the pod (scope pod): hints from the CPU
   Manager (static policy, Guaranteed pod, integer CPUs), the Memory
   Manager (Static policy, Guaranteed pod) and the device manager; no
   hints from the DRA manager (it is no HintProvider: pkg/kubelet/cm/
   container_manager_linux.go registers the device, CPU and memory
   managers only), so claimed devices are never NUMA-aligned by the
   kubelet.  Merged under the policy (rmctl.planning.topology_manager):
   ``TopologyAffinityError`` ("Resources cannot be allocated with
   Topology locality").  Then each manager allocates: the CPU Manager's
   ``SMTAlignmentError`` (full-pcpus-only) or, for any other failure,
   ``UnexpectedAdmissionError`` ("Allocate failed due to ..., which is
   unexpected", pkg/kubelet/cm/admission/errors.go).

Pods are admitted one after the other: what an admitted pod takes (CPUs,
memory per NUMA node, devices) is gone for the next pod of the input.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.errors import RmctlError, UnsatisfiableError
from rmctl.model.record import FrozenDict
from rmctl.model.value import field as value_field
from rmctl.model.value import replace, value
from rmctl.planning import memory_manager as mm
from rmctl.planning import topology_manager as tm
from rmctl.planning.requests import Evaluation, Reserved, ResourceResult, evaluate
from rmctl.units import format_size

#: pkg/kubelet/cm/admission/errors.go
UNEXPECTED = "UnexpectedAdmissionError"
TOPOLOGY_AFFINITY = "TopologyAffinityError"  # topologymanager/topology_manager.go ErrorTopologyAffinity
SMT_ALIGNMENT = "SMTAlignmentError"  # cpumanager/policy_static.go ErrorSMTAlignment
TOPOLOGY_AFFINITY_MESSAGE = "Resources cannot be allocated with Topology locality"


class KubeletStartError(RmctlError):
    """The kubelet would refuse to start with these policies on this node (it admits nothing)."""


@dataclass(frozen=True)
class Verdict:
    """The pod's fate: admitted, or refused at ``stage`` with the Kubernetes reason and message."""

    admitted: bool
    stage: str = ""  #: "scheduler" | "kubelet" | "kubelet-start" ("" when admitted)
    reason: str = ""  #: Unschedulable, TopologyAffinityError, SMTAlignmentError, UnexpectedAdmissionError...
    message: str = ""
    container: str | None = None  #: the container whose admission failed

    def to_data(self) -> dict:
        return {"admitted": self.admitted, "stage": self.stage or None, "reason": self.reason or None,
                "message": self.message or None, "container": self.container}


@dataclass(frozen=True)
class ContainerResult:
    """What one container got: exclusive CPUs or the shared pool, NUMA affinity, memory nodes."""

    name: str
    kind: str  #: init | sidecar | app
    cpu: Fraction
    memory: int
    hugepages: Mapping[str, int]
    exclusive: int  #: CPUs the static policy gives it exclusively (0: shared pool)
    pool: str  #: "exclusive" | "shared" | "none" (CPU Manager none: every CPU)
    cpus: CpuSet = field(default_factory=CpuSet)
    affinity: Sequence[int] | None = None  #: the Topology Manager's NUMA affinity (None: any)
    memory_nodes: Sequence[int] | None = None  #: Memory Manager Static: the nodes its memory is bound to
    hints: Mapping[str, Sequence[tm.Hint] | None] = field(default_factory=dict)
    admission: tm.Admission | None = None
    claims: Sequence[str] = ()
    why: str = ""  #: why exclusive or shared

    def __post_init__(self) -> None:
        object.__setattr__(self, "hugepages", FrozenDict(self.hugepages))
        object.__setattr__(self, "claims", tuple(self.claims))
        object.__setattr__(self, "hints", FrozenDict({k: None if v is None else tuple(v) for k, v in self.hints.items()}))
        for name in ("affinity", "memory_nodes"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))

    def to_data(self) -> dict:
        return {"name": self.name, "type": self.kind, "cpu": _cores(self.cpu), "memory": self.memory,
                "hugepages": dict(sorted(self.hugepages.items())), "exclusive_cpus": self.exclusive,
                "pool": self.pool, "cpus": self.cpus.to_list(),
                "numa_affinity": None if self.affinity is None else list(self.affinity),
                "memory_nodes": None if self.memory_nodes is None else list(self.memory_nodes),
                "claims": list(self.claims), "why": self.why,
                "hints": {r: None if h is None else [x.to_data() for x in h] for r, h in self.hints.items()},
                "topology": None if self.admission is None else self.admission.to_data()}


@value(frozen=True)  # as Evaluation, its base (rmctl.model.value)
class PodEvaluation(Evaluation):
    """The kubelet's answer for one pod; ``fits`` is ``verdict.admitted``; made once, never changed."""

    pod: str = ""
    origin: str = ""
    qos: str = ""
    scope: str = "container"
    verdict: Verdict | None = None
    containers: Sequence[ContainerResult] = ()
    kubelet: Mapping[str, Any] = value_field(default_factory=dict)  #: the policies, KubeletPolicies.to_data()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "containers", tuple(self.containers))
        object.__setattr__(self, "kubelet", FrozenDict(self.kubelet))

    def to_data(self, *, explain: bool = False) -> dict:
        d = super().to_data(explain=explain)
        d.update({"pod": self.pod, "from": self.origin, "qos": self.qos, "scope": self.scope,
                  "admitted": self.fits,
                  "verdict": (self.verdict or Verdict(self.fits)).to_data(),
                  "containers": [c.to_data() for c in self.containers], "kubelet": dict(self.kubelet)})
        return d


class _ContainerDraft:
    """A ContainerResult while the kubelet's managers fill it in."""

    def __init__(self, name, kind, cpu, memory, hugepages, exclusive, pool, *, why="", claims=()):
        self.name, self.kind, self.cpu, self.memory, self.hugepages = name, kind, cpu, memory, hugepages
        self.exclusive, self.pool, self.why, self.claims = exclusive, pool, why, list(claims)
        self.cpus = CpuSet()
        self.affinity: list[int] | None = None
        self.memory_nodes: list[int] | None = None
        self.hints: dict[str, list | None] = {}
        self.admission: tm.Admission | None = None

    def build(self) -> ContainerResult:
        return ContainerResult(self.name, self.kind, self.cpu, self.memory, self.hugepages, self.exclusive,
                               self.pool, self.cpus, self.affinity, self.memory_nodes, self.hints, self.admission,
                               self.claims, self.why)


class _Draft:
    """A PodEvaluation while it is being worked out (the Evaluation is made once, by :meth:`build`)."""

    def __init__(self, **kw):
        self.request, self.policy, self.fits, self.node = kw["request"], kw["policy"], False, kw["node"]
        self.pod, self.origin, self.qos, self.scope, self.kubelet = (kw["pod"], kw["origin"], kw["qos"],
                                                                     kw["scope"], kw["kubelet"])
        self.numa_nodes: list[int] = []
        self.cpus = CpuSet()
        self.devices: dict[str, list[str]] = {}
        self.choices: dict[str, str] = {}
        self.memory: dict[int, int] = {}
        self.hugepages: dict[int, dict[int, int]] = {}
        self.resources: list[ResourceResult] = []
        self.admission: tm.Admission | None = None
        self.matches: Mapping = {}
        self.reasons: list[str] = []
        self.hints_for_typos: list[str] = []
        self.notes: list[str] = []
        self.no_match: Mapping = {}
        self.verdict: Verdict | None = None
        self.containers: list[_ContainerDraft] = []
        self.fit_errors: list[tuple] = []  #: (resource, requested, used, allocatable) in the kubelet's units

    def build(self) -> PodEvaluation:
        return PodEvaluation(
            request=self.request, policy=self.policy, fits=self.fits, node=self.node, numa_nodes=self.numa_nodes,
            cpus=self.cpus, devices=self.devices, choices=self.choices, memory=self.memory,
            hugepages=self.hugepages, resources=self.resources, admission=self.admission, matches=self.matches,
            reasons=self.reasons, hints_for_typos=self.hints_for_typos, notes=self.notes, no_match=self.no_match,
            pod=self.pod, origin=self.origin, qos=self.qos, scope=self.scope, verdict=self.verdict,
            containers=[c.build() for c in self.containers], kubelet=self.kubelet)


def _cores(v: Fraction) -> str:
    """Return a CPU quantity as Kubernetes writes it: ``8``, ``500m``, ``1.5``."""
    if v.denominator == 1:
        return str(v.numerator)
    milli = v * 1000
    if milli.denominator == 1:
        return f"{milli.numerator}m"
    return str(float(v))


def _ceil(v: Fraction) -> int:
    return -(-v.numerator // v.denominator)


# --------------------------------------------------------------------------
# The kubelet's configuration, checked as it checks it before starting
# --------------------------------------------------------------------------

def check_config(policies) -> None:
    """Raise InputError for policies the kubelet refuses on any node (it would not start).

    cpumanager/cpu_manager.go (static needs reserved CPUs), policy_none.go
    (no options without static), policy_options.go (incompatible
    options), memorymanager/memory_manager.go validateReservedMemory.
    """
    from rmctl.planning import cpus as allocator
    from rmctl.resources.yamlio import InputError

    p = policies
    if p.cpu_manager_policy == "static" and p.reserved_cpu_count() == 0:
        raise InputError("the kubelet refuses to start: the static policy requires systemreserved.cpu + "
                         "kubereserved.cpu to be greater than zero",
                         hint="give --reserved-cpus, or systemReserved/kubeReserved cpu in --kubelet-config")
    on = [k for k, v in p.cpu_options.items() if v]
    if on and p.cpu_manager_policy != "static":
        raise InputError(f"the kubelet refuses to start: None policy: received unsupported options={on}",
                         hint="CPU Manager options need --cpu-manager-policy static")
    try:
        allocator.parse_options([f"{k}=true" for k in on if k in allocator.OPTION_NAMES])
    except RmctlError as e:
        raise InputError(f"the kubelet refuses to start: {e.message}", hint=e.hint) from None
    if p.option("align-by-socket") and p.topology_policy == "single-numa-node":
        raise InputError("the kubelet refuses to start: Topology manager single-numa-node policy is incompatible "
                         "with CPUManager align-by-socket policy option")
    if p.memory_manager_policy == "Static":
        if sum(v.get("memory", 0) for v in p.reserved_memory.values()) <= 0:
            raise InputError("the kubelet refuses to start: [memorymanager] you should specify the system "
                             "reserved memory",
                             hint="give --reserved-memory 0:memory=SIZE (the Static policy needs it)")
        for limits in p.reserved_memory.values():
            for r, v in limits.items():
                if r.startswith("hugepages-") and v:
                    raise InputError(f"the kubelet refuses to start: the total amount of type {r} in reservedMemory "
                                     "is not equal to the value 0 determined by Node Allocatable feature",
                                     hint="hugepages cannot be reserved per NUMA node (docs/exports.md)")


def _eviction(policies, capacity: int) -> int:
    if policies.eviction_memory_percent is not None:
        return _ceil(Fraction(capacity) * policies.eviction_memory_percent / 100)
    return policies.eviction_memory or 0


def check_node(node, policies) -> str | None:
    """Return why the kubelet would not start with these policies on this node, or None."""
    p = policies
    nodes = sorted(node.topology.nodes) or [0]
    why = tm.too_many_numa_nodes(p.topology_policy, nodes, p.max_numa_nodes)
    if why:
        return why
    online = node.topology.online_cpus()
    if p.cpu_manager_policy == "static" and p.reserved_cpus is not None and len(p.reserved_cpus):
        off = p.reserved_cpus - online
        if off:
            return (f"reservedSystemCPUs {p.reserved_cpus.to_list()}: CPUs {off.to_list()} are not online CPUs "
                    f"of this node (online: {online.to_list()})")
        if len(p.reserved_cpus) >= len(online):
            return f"reservedSystemCPUs {p.reserved_cpus.to_list()} leave no CPU for pods"
    if p.cpu_manager_policy == "static" and p.reserved_cpu_count() >= len(online):
        return f"{p.reserved_cpu_count()} reserved CPUs leave no CPU for pods ({len(online)} online)"
    if p.memory_manager_policy == "Static":
        missing = sorted(set(p.reserved_memory) - set(node.topology.nodes or {0: None}))
        if missing:
            return f"reservedMemory names NUMA node(s) {missing}, which this node does not have"
        want = _ceil(p.system_reserved.get("memory", Fraction(0)) + p.kube_reserved.get("memory", Fraction(0))) \
            + _eviction(p, node.memory.total or 0)
        have = sum(v.get("memory", 0) for v in p.reserved_memory.values())
        if have != want:
            return (f"the total amount {format_size(have)} of type memory in reservedMemory is not equal to the value "
                    f"{format_size(want)} determined by Node Allocatable feature (systemReserved + kubeReserved + "
                    "evictionHard memory.available)")
    return None


# --------------------------------------------------------------------------
# What the kubelet holds and how much it offers
# --------------------------------------------------------------------------

@dataclass
class NodeState:
    """The kubelet's state on this node, changed by each admitted pod."""

    reserved: CpuSet
    reserved_physical: CpuSet
    shared: CpuSet  #: the default CPU set (the shared pool)
    assignments: dict[tuple[str, str], CpuSet]
    machine: mm.Machine | None  #: Memory Manager Static only
    devices: dict[str, str]  #: PCI address -> who holds it (the kubelet's pods, earlier pods of the input)
    claims: dict[tuple[str, str], dict[str, list[str]]]  #: ResourceClaims allocated by earlier pods
    used: dict[str, Fraction]  #: requests already counted on the node (a lower bound, see notes)
    allocatable: dict[str, Fraction]
    capacity: dict[str, Fraction]
    notes: list[str] = field(default_factory=list)


def build_state(node, policies, kubelet=None, held: Reserved | None = None) -> NodeState:
    """Return the kubelet's view of ``node``: pools, Memory Manager machine, what is held, allocatable.

    ``kubelet`` is the KubeletState read from its checkpoints (None: none
    found, the node is taken as empty); ``held`` what it holds in rmctl's
    terms (PCI devices by holder).
    """
    from rmctl.planning import cpus as allocator

    p = policies
    notes: list[str] = []
    online = node.topology.online_cpus()
    topo = allocator.KubeTopology.from_topology(node.topology)
    reserved = CpuSet()
    if p.cpu_manager_policy == "static":
        n = p.reserved_cpu_count()
        reserved = p.reserved_cpus if p.reserved_cpus is not None and len(p.reserved_cpus) \
            else allocator.take_by_topology(topo, topo.cpus(), n, _options(p))
    phys: set[int] = set()
    for c in reserved:
        if c in topo.details:
            phys |= topo.by_core[topo.details[c].core]
    strict = p.option("strict-cpu-reservation")
    shared = online - reserved if strict else online
    assignments: dict[tuple[str, str], CpuSet] = {}
    used: dict[str, Fraction] = {}
    ck = kubelet.cpu if kubelet is not None else None
    if ck is not None and p.cpu_manager_policy == "static":
        if ck.policy != "static":
            notes.append(f"the kubelet's cpu_manager_state says policy {ck.policy}: with static it refuses to start "
                         "until the file is deleted; evaluated on a fresh state")
        else:
            shared = (ck.default_cpus & online) if len(ck.default_cpus) else shared
            for a in ck.assignments:
                assignments[(a.pod_uid or a.container_id or "", a.container)] = a.cpus
            exclusive = ck.exclusive_cpus()
            if len(exclusive):
                used["cpu"] = Fraction(len(exclusive))
                notes.append(f"the kubelet's pods hold CPUs {exclusive.to_list()} exclusively (cpu_manager_state)")
    machine = None
    if p.memory_manager_policy == "Static":
        km = kubelet.memory if kubelet is not None else None
        if km is not None and km.policy == "Static" and km.machine:
            machine = mm.machine_from_checkpoint(km)
            for b in km.blocks:
                used[b.resource] = used.get(b.resource, Fraction(0)) + b.size
            notes.append("Memory Manager state from the kubelet's memory_manager_state")
        else:
            machine = mm.default_machine(node, p.reserved_memory)
    devices = dict(held.devices) if held is not None else {}
    # allocatable (pkg/kubelet/cm/node_container_manager_linux.go, nodestatus MachineInfo)
    mem_cap = node.memory.total or 0
    capacity: dict[str, Fraction] = {"cpu": Fraction(len(online)), "memory": Fraction(mem_cap)}
    huge_total = 0
    for pool in node.hugepages:
        name = mm.hugepage_resource(pool.page_size)
        capacity[name] = Fraction(pool.total * pool.page_size)
        huge_total += pool.total * pool.page_size
    alloc = dict(capacity)
    if p.reserved_cpus is not None and len(p.reserved_cpus):
        alloc["cpu"] -= len(p.reserved_cpus)  # --reserved-cpus overrides kube/system reserved cpu
    else:
        alloc["cpu"] -= p.system_reserved.get("cpu", Fraction(0)) + p.kube_reserved.get("cpu", Fraction(0))
    alloc["memory"] -= (p.system_reserved.get("memory", Fraction(0)) + p.kube_reserved.get("memory", Fraction(0))
                        + _eviction(p, mem_cap) + huge_total)
    alloc = {k: max(Fraction(0), v) for k, v in alloc.items()}
    return NodeState(reserved, CpuSet(phys), shared, assignments, machine, devices, {}, used, alloc, capacity, notes)


def _options(p):
    from rmctl.planning import cpus as allocator

    return allocator.Options(**{k.replace("-", "_"): True for k, v in p.cpu_options.items()
                                if v and k in allocator.OPTION_NAMES})


# --------------------------------------------------------------------------
# Hint providers
# --------------------------------------------------------------------------

def guaranteed_cpus(qos: str, cpu: Fraction) -> int:
    """policy_static.go guaranteedCPUs: whole CPUs of a Guaranteed pod's container, else 0 (shared pool)."""
    if qos != "Guaranteed" or cpu.denominator != 1:
        return 0
    return int(cpu)


def cpu_hints(node, topo, available: CpuSet, reusable: CpuSet, request: int, align_by_socket: bool) -> list[tm.Hint]:
    """policy_static.go generateCPUTopologyHints: masks with enough CPUs; preferred at the minimum width."""
    nodes = sorted(topo.by_node) or [0]
    min_width = len(nodes)
    found: list[int] = []
    for mask in tm.iterate_masks(nodes):
        bits = set(tm.bits(mask))
        in_mask = sum(len(topo.by_node.get(n, ())) for n in bits)
        if in_mask >= request and len(bits) < min_width:
            min_width = len(bits)
        if any(topo.details[c].node not in bits for c in reusable if c in topo.details):
            continue
        matching = len(reusable) + sum(1 for c in available if c in topo.details and topo.details[c].node in bits)
        if matching >= request:
            found.append(mask)
    hints = []
    per_socket = (len(topo.by_node) // max(1, len(topo.by_socket))) if topo.by_socket else 0
    for m in found:
        pref = tm.count(m) == min_width
        if align_by_socket and per_socket:
            min_sockets = -(-min_width // per_socket)
            if len(topo.sockets_of_nodes(tm.bits(m))) == min_sockets:
                pref = True
        hints.append(tm.Hint(m, pref))
    return hints


def _mem_requested(requests: dict[str, Fraction]) -> dict[str, int]:
    return {r: _ceil(v) for r, v in requests.items() if r == "memory" or r.startswith("hugepages-")}


# --------------------------------------------------------------------------
# One pod
# --------------------------------------------------------------------------

def evaluate_pods(node, pods: list, classes: dict, claims_of, policies, *, kubelet=None,
                  held: Reserved | None = None, rmctl_held: Reserved | None = None,
                  driver: str | None = None) -> list[PodEvaluation]:
    """Return the kubelet's answer for each pod, in order, each seeing what the previous ones took.

    ``claims_of(pod)`` returns the pod's claims as (pod claim name, Claim,
    shared key or None) triples (a ResourceClaim is shared by the pods
    naming it; a template makes one claim per pod).  ``held`` is what the
    kubelet already holds (its checkpoints); ``rmctl_held`` what rmctl's
    own reservations hold, which the kubelet does not know: overlaps are
    noted, not avoided.
    """
    state = build_state(node, policies, kubelet, held)
    out: list[PodEvaluation] = []
    why = check_node(node, policies)
    for pod in pods:
        if why:
            d = _blank(node, pod, policies)
            d.verdict = Verdict(False, "kubelet-start", "KubeletStartError", why)
            d.reasons = [f"the kubelet would not start: {why}"]
            out.append(d.build())
            continue
        trial = copy.deepcopy(state)
        d = _evaluate_pod(node, pod, classes, claims_of, policies, trial, rmctl_held, driver)
        if not out:
            d.notes = state.notes + d.notes
        if d.fits:
            state = trial
        out.append(d.build())
    return out


def _blank(node, pod, policies) -> _Draft:
    from rmctl.resources.kube.pod import qos_class

    return _Draft(request=pod.name, policy=policies.topology_policy, node=node.source.root, pod=pod.ref(),
                  origin=pod.origin, qos=qos_class(pod), scope=policies.topology_scope, kubelet=policies.to_data())


def _refuse(ev: _Draft, stage: str, reason: str, message: str, container: str | None = None) -> _Draft:
    ev.verdict = Verdict(False, stage, reason, message, container)
    ev.fits = False
    where = f" (container {container})" if container else ""
    ev.reasons = [f"{reason}{where}: {message}"] + ev.reasons
    return ev


def _fmt_amount(resource: str, v: Fraction) -> str:
    if resource == "cpu":
        return _cores(v)
    return format_size(_ceil(v)) if v else "0"


def _scheduler_fit(ev: _Draft, pod, state: NodeState) -> list[str]:
    """NodeResourcesFit: return "Insufficient X" for every resource the node cannot give the pod."""
    from rmctl.resources.kube.pod import requests_of

    reqs = requests_of(pod)
    short = []
    for r, want in sorted(reqs.items()):
        if want == 0:
            continue
        if r == "ephemeral-storage" or "/" in r:
            ev.notes.append(f"{r}: not checked (rmctl does not know this node's {r} capacity"
                            + (": a device plugin's resource)" if "/" in r else ")"))
            continue
        alloc = state.allocatable.get(r, Fraction(0))
        used = state.used.get(r, Fraction(0))
        ok = want <= alloc - used
        why = (f"allocatable {_fmt_amount(r, alloc)}" + (f", {_fmt_amount(r, used)} used" if used else "")
               + ("" if ok else f": Insufficient {r}"))
        if r.startswith("hugepages-") and r not in state.capacity:
            why = f"this node has no {r[len('hugepages-'):]} hugepage pool: Insufficient {r}"
        elif r.startswith("hugepages-") and state.capacity.get(r) == 0:
            why = f"the {r[len('hugepages-'):]} pool is empty (0 pages): Insufficient {r}"
        ev.resources.append(ResourceResult(r, _fmt_amount(r, want), ok, why, None))
        if not ok:
            short.append(f"Insufficient {r}")
            scale = 1000 if r == "cpu" else 1  # the kubelet counts cpu in millicores
            ev.fit_errors.append((r, _ceil(want * scale), _ceil(used * scale), _ceil(alloc * scale)))
    return short


def _evaluate_pod(node, pod, classes, claims_of, policies, state: NodeState, rmctl_held, driver) -> _Draft:
    from rmctl.planning import cpus as allocator
    from rmctl.resources.request import ResourceRequest

    ev = _blank(node, pod, policies)
    qos = ev.qos
    p = policies
    # -- what each container is to the kubelet's managers ------------------------------
    nodes = sorted(node.topology.nodes) or [0]
    distances = {n: dict(node.topology.nodes[n].distances) for n in node.topology.nodes}
    topo = allocator.KubeTopology.from_topology(node.topology)
    opts = _options(p)
    static = p.cpu_manager_policy == "static"
    mem_static = p.memory_manager_policy == "Static" and qos == "Guaranteed"
    reuse_cpus = CpuSet()
    reuse_mem: dict[tuple[int, ...], dict[str, int]] = {}
    results = []
    for c in pod.containers:
        n = guaranteed_cpus(qos, c.requests.get("cpu", Fraction(0))) if static else 0
        if not static:
            pool, why = "none", "CPU Manager policy none: every CPU of the node"
        elif n:
            pool, why = "exclusive", f"Guaranteed pod, {n} whole CPUs: exclusive CPUs (static policy)"
        else:
            cpu = c.requests.get("cpu", Fraction(0))
            pool = "shared"
            why = ("shared pool: " + (f"{qos} pod" if qos != "Guaranteed" else
                                      f"{_cores(cpu)} CPUs is not a whole number" if cpu else "no CPU request"))
        results.append(_ContainerDraft(c.name, c.kind, c.requests.get("cpu", Fraction(0)),
                                       _ceil(c.requests.get("memory", Fraction(0))),
                                       {r: _ceil(v) for r, v in c.requests.items() if r.startswith("hugepages-")},
                                       n, pool, why=why, claims=[cl if rq is None else f"{cl}/{rq}"
                                                                 for cl, rq in c.claims]))
    ev.containers = results
    # -- 1. the scheduler's resource fit -----------------------------------------
    direct = pod.node_name is not None
    short = _scheduler_fit(ev, pod, state)
    fit_errors = list(ev.fit_errors)
    if direct:
        # spec.nodeName: the scheduler is bypassed and the kubelet's own predicate checks the
        # resources, after the Topology Manager (kubelet.go admit handler order)
        ev.notes.append(f"spec.nodeName is set ({pod.node_name}): the scheduler is bypassed; the kubelet checks "
                        "the resources itself (OutOf<resource>)")
        short = []
    # -- 2. the scheduler's DRA allocation -------------------------------------------
    devices_req, constraints, shared_claims = [], [], {}
    for pcname, claim, key in claims_of(pod):
        if key is not None and key in state.claims:
            for rname, addrs in state.claims[key].items():
                ev.devices[f"{pcname}/{rname}"] = list(addrs)
            ev.notes.append(f"{claim.ref()} is already allocated to an earlier pod of the input: shared")
            continue
        from rmctl.resources.kube import prefixed

        r, c = prefixed(claim, pcname)
        devices_req += r
        constraints += c
        if key is not None:
            shared_claims[key] = (pcname, [x.name for x in claim.requests])
        ev.notes += [f"{claim.ref()}: {n}" for n in claim.notes]
    if devices_req:
        creq = ResourceRequest(name=pod.name, policy="none", devices=devices_req, constraints=constraints)
        kwargs = {"driver": driver} if driver else {}
        dra = evaluate(node, creq, classes, reserved=Reserved(devices=dict(state.devices)), **kwargs)
        ev.matches, ev.no_match, ev.hints_for_typos = dra.matches, dra.no_match, list(dra.hints_for_typos)
        ev.choices = dict(dra.choices)
        for rr in dra.resources:
            # the DRA allocator is not NUMA-aware: no hints reach the Topology Manager
            ev.resources.append(replace(rr, hints=None))
        if not dra.fits:
            short.append("cannot allocate all claims")
            ev.reasons += list(dra.reasons)
        else:
            ev.devices.update({k: list(v) for k, v in dra.devices.items()})
    if short:
        for res in results:
            res.cpus = CpuSet()
        # the scheduler's message (framework/types.go FitError), for this one node
        return _refuse(ev, "scheduler", "Unschedulable",
                       "0/1 nodes are available: " + ", ".join(f"1 {s}" for s in short) + ".")
    # -- 3. the kubelet: Topology Manager admission, then allocation ------------------

    def providers_for(cpu_n: int, mem_req: dict[str, int], extended: list[str], reusable: CpuSet) -> list:
        prov: list = []
        avail = state.shared - state.reserved
        if static and cpu_n:
            prov.append({"cpu": cpu_hints(node, topo, avail, reusable, cpu_n, p.option("align-by-socket"))})
        else:
            prov.append(None)
        if mem_static and state.machine is not None and mem_req:
            prov.append(mm.calculate_hints(state.machine, mem_req, reuse_mem))
        else:
            prov.append(None)
        prov.append({r: None for r in extended} or None)  # device plugins: rmctl knows none (no preference)
        return prov

    def merge(prov: list) -> tm.Admission:
        return tm.merge(p.topology_policy, nodes, [x for x in prov], distances=distances,
                        prefer_closest=p.prefer_closest_numa)

    def record_hints(res: _ContainerDraft, prov: list) -> None:
        for x in prov:
            if x:
                res.hints.update(x)

    def allocate(res: _ContainerDraft, c, affinity: tm.Hint) -> Verdict | None:
        nonlocal reuse_cpus
        res.affinity = None if affinity.mask is None else tm.bits(affinity.mask)
        if static and res.exclusive:
            avail = (state.shared - state.reserved) | reuse_cpus
            try:
                got = allocator.allocate(topo, set(avail), res.exclusive, opts,
                                         numa_affinity=res.affinity, reserved=state.reserved)
            except UnsatisfiableError as e:
                if e.message.startswith("SMT Alignment Error"):
                    return Verdict(False, "kubelet", SMT_ALIGNMENT, e.message, c.name)
                return Verdict(False, "kubelet", UNEXPECTED, f"Allocate failed due to {e.message}, which is unexpected",
                               c.name)
            state.shared = state.shared - got
            state.assignments[(pod.ref(), c.name)] = got
            res.cpus = got
            if c.kind == "init":
                reuse_cpus = reuse_cpus | got
            else:
                reuse_cpus = reuse_cpus - got
        elif static:
            res.cpus = state.shared
        else:
            res.cpus = node.topology.online_cpus()
        mem_req = _mem_requested(c.requests)
        if mem_static and state.machine is not None and mem_req:
            hint = affinity if p.topology_policy != "none" else tm.Hint(None, False)
            try:
                bits, taken = mm.allocate(state.machine, hint, mem_req, reuse_mem)
            except mm.MemoryManagerError as e:
                return Verdict(False, "kubelet", UNEXPECTED, f"Allocate failed due to {e}, which is unexpected",
                               c.name)
            res.memory_nodes = bits
            for r, per in taken.items():
                for nid, b in per.items():
                    if r == "memory":
                        ev.memory[nid] = ev.memory.get(nid, 0) + b
                    else:
                        size = _page_bytes(r)
                        if size:
                            pages = ev.hugepages.setdefault(size, {})
                            pages[nid] = pages.get(nid, 0) + b // size
            key = tuple(bits)
            if c.kind == "init":
                keep = reuse_mem.setdefault(key, {})
                for r, v in mem_req.items():
                    keep[r] = max(keep.get(r, 0), v)
            elif key in reuse_mem:
                for r, v in mem_req.items():
                    reuse_mem[key][r] = max(0, reuse_mem[key].get(r, 0) - v)
        return None

    verdict: Verdict | None = None
    if p.topology_policy == "none":
        for res, c in zip(results, pod.containers, strict=True):
            verdict = allocate(res, c, tm.Hint(None, False))
            if verdict:
                break
    elif p.topology_scope == "pod":
        cpu_n = _pod_guaranteed_cpus(results) if static else 0
        mem_req = _pod_memory(pod)
        ext = sorted({r for c in pod.containers for r in c.limits if "/" in r})
        prov = providers_for(cpu_n, mem_req if mem_static else {}, ext, CpuSet())
        adm = merge(prov)
        ev.admission = adm
        for res in results:
            record_hints(res, prov)
            res.admission = adm
        if not adm.admit:
            verdict = Verdict(False, "kubelet", TOPOLOGY_AFFINITY, TOPOLOGY_AFFINITY_MESSAGE)
        else:
            for res, c in zip(results, pod.containers, strict=True):
                verdict = allocate(res, c, adm.hint)
                if verdict:
                    break
    else:
        for res, c in zip(results, pod.containers, strict=True):
            mem_req = _mem_requested(c.requests) if mem_static else {}
            ext = sorted(r for r in c.limits if "/" in r)
            prov = providers_for(res.exclusive, mem_req, ext, reuse_cpus)
            adm = merge(prov)
            record_hints(res, prov)
            res.admission = adm
            ev.admission = adm
            if not adm.admit:
                verdict = Verdict(False, "kubelet", TOPOLOGY_AFFINITY, TOPOLOGY_AFFINITY_MESSAGE, c.name)
                break
            verdict = allocate(res, c, adm.hint)
            if verdict:
                break
    if verdict is None and fit_errors and direct:
        # lifecycle/predicate.go: Reason "OutOf<resource>", the scheduler's InsufficientResourceError text
        r, want, used, cap = fit_errors[0]
        verdict = Verdict(False, "kubelet", f"OutOf{r}",
                          f"Node didn't have enough resource: {r}, requested: {want}, used: {used}, capacity: {cap}")
    _topology_rows(ev, results, verdict, mem_static, p.topology_policy)
    if verdict is not None:
        _refuse(ev, verdict.stage, verdict.reason, verdict.message, verdict.container)
        if verdict.reason == TOPOLOGY_AFFINITY:
            ev.reasons += _affinity_detail(p.topology_policy, results, verdict.container)
        return ev
    # -- admitted --------------------------------------------------------------------
    ev.fits = True
    ev.verdict = Verdict(True)
    for key, (pcname, names) in shared_claims.items():
        state.claims[key] = {r: ev.devices.get(f"{pcname}/{r}", []) for r in names}
    for addrs in ev.devices.values():
        for a in addrs:
            state.devices[a] = f"pod {pod.ref()}"
    excl = CpuSet()
    for res in results:
        if res.pool == "exclusive":
            excl = excl | res.cpus
    ev.cpus = excl
    from rmctl.resources.kube.pod import requests_of

    for rname, amount in requests_of(pod).items():
        state.used[rname] = state.used.get(rname, Fraction(0)) + amount
    used_nodes: set[int] = set()
    for res in results:
        if res.pool == "exclusive":
            used_nodes |= {topo.details[x].node for x in res.cpus if x in topo.details}
        if res.memory_nodes:
            used_nodes |= set(res.memory_nodes)
    ev.numa_nodes = sorted(used_nodes)
    _device_locality_notes(ev, node, pod, results, topo)
    if rmctl_held is not None:
        overlap = excl & rmctl_held.cpus
        if len(overlap):
            ev.notes.append(f"CPUs {overlap.to_list()} the kubelet would give this pod are held by rmctl reservations: "
                            "the kubelet does not know them (put them in reservedSystemCPUs: rmctl export kubelet-config)")
        taken = sorted(a for addrs in ev.devices.values() for a in addrs if a in rmctl_held.devices)
        if taken:
            ev.notes.append(f"device(s) {', '.join(taken)} are held by rmctl reservation(s) "
                            f"({', '.join(sorted({rmctl_held.devices[a] for a in taken}))}), which the scheduler does not know")
    return ev


def _page_bytes(resource: str) -> int | None:
    from rmctl.resources.cel import parse_quantity

    try:
        v = parse_quantity(resource[len("hugepages-"):])
    except ValueError:
        return None
    return int(v) if v > 0 and v.denominator == 1 else None


def _pod_guaranteed_cpus(results: list[_ContainerDraft]) -> int:
    """policy_static.go podGuaranteedCPUs: max(init + sidecars before it, app containers + sidecars)."""
    init_max = sidecars = apps = 0
    for r in results:
        if r.kind == "sidecar":
            sidecars += r.exclusive
        elif r.kind == "init":
            init_max = max(init_max, sidecars + r.exclusive)
        else:
            apps += r.exclusive
    return max(init_max, apps + sidecars)


def _pod_memory(pod) -> dict[str, int]:
    """memorymanager getPodRequestedResources: per resource, max(init + sidecars before it, apps + sidecars)."""
    init_max: dict[str, int] = {}
    sidecars: dict[str, int] = {}
    apps: dict[str, int] = {}
    for c in pod.containers:
        req = _mem_requested(c.requests)
        for r, v in req.items():
            if c.kind == "sidecar":
                sidecars[r] = sidecars.get(r, 0) + v
            elif c.kind == "init":
                init_max[r] = max(init_max.get(r, 0), sidecars.get(r, 0) + v)
            else:
                apps[r] = apps.get(r, 0) + v
    out = {}
    for r in apps:
        out[r] = max(apps[r] + sidecars.get(r, 0), init_max.get(r, 0))
    return out


def _topology_rows(ev: _Draft, results: list[_ContainerDraft], verdict: Verdict | None,
                   mem_static: bool, policy: str) -> None:
    """Add one row per container resource the kubelet places: its hints and where it went (or why not)."""
    for res in results:
        failed = verdict is not None and (verdict.container == res.name or
                                          (verdict.container is None and verdict.reason == TOPOLOGY_AFFINITY))
        detail = {}
        if failed and verdict is not None and verdict.reason == TOPOLOGY_AFFINITY:
            for line in _affinity_detail(policy, [res], res.name):
                _, r, text = line.split(": ", 2)
                detail[r] = text
        if res.pool == "exclusive":
            ok = not failed and len(res.cpus) == res.exclusive
            reason = (f"CPUs {res.cpus.to_list()}" if ok else detail.get("cpu") or
                      (verdict.message if failed and verdict else "not allocated (an earlier container failed)"))
            ev.resources.append(ResourceResult(f"{res.name}: cpu", f"{res.exclusive} exclusive", ok and not failed,
                                               reason, res.hints.get("cpu")))
        if mem_static:
            ok = res.memory_nodes is not None
            ev.resources.append(ResourceResult(f"{res.name}: memory", format_size(res.memory), ok,
                                               f"NUMA {'node' if len(res.memory_nodes or []) == 1 else 'nodes'} {','.join(map(str, res.memory_nodes or []))}" if ok else
                                               detail.get("memory") or
                                               (verdict.message if failed and verdict else "not allocated"),
                                               res.hints.get("memory")))


def _affinity_detail(policy: str, results: list[_ContainerDraft], container: str | None) -> list[str]:
    """Return, per resource of the refused container, where it could go (why no merged hint is preferred)."""
    out = []
    for res in results:
        if container is not None and res.name != container:
            continue
        for r, hints in res.hints.items():
            if hints is None:
                out.append(f"{res.name}: {r}: no NUMA preference")
                continue
            pref = [h for h in hints if h.preferred]
            if not hints:
                out.append(f"{res.name}: {r}: no NUMA placement has enough free")
            elif policy == "single-numa-node" and not any(tm.count(h.mask) == 1 for h in pref):
                width = min(tm.count(h.mask) for h in hints)
                out.append(f"{res.name}: {r}: does not fit on any single NUMA node (needs {width} nodes)")
            else:
                out.append(f"{res.name}: {r}: preferred on "
                           + (" or ".join("{" + ",".join(map(str, tm.bits(h.mask))) + "}" for h in pref) or "nothing"))
    return out


def _device_locality_notes(ev: _Draft, node, pod, results: list[_ContainerDraft], topo) -> None:
    """Note claimed devices that are not on the NUMA nodes of the CPUs of the containers using them."""
    from rmctl.planning.requests import device_views

    nodes_of = {v.address: v.nodes for v in device_views(node)}
    for res, c in zip(results, pod.containers, strict=True):
        if res.pool != "exclusive" or not c.claims:
            continue
        cpu_nodes = {topo.details[x].node for x in res.cpus if x in topo.details}
        for cl, rq in c.claims:
            for name, addrs in ev.devices.items():
                pc, _, rname = name.partition("/")
                if pc != cl or (rq is not None and rname != rq):
                    continue
                for a in addrs:
                    dn = set(nodes_of.get(a, ()))
                    if dn and not dn & cpu_nodes:
                        ev.notes.append(
                            f"device {a} (claim {name}) is on NUMA node {','.join(map(str, sorted(dn)))}, container "
                            f"{res.name}'s CPUs on {','.join(map(str, sorted(cpu_nodes)))}: the kubelet does not align "
                            "DRA devices (the DRA manager gives the Topology Manager no hints)")
