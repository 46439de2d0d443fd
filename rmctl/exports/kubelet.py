"""A KubeletConfiguration fragment the kubelet accepts, from the node, its profile and rmctl's state.

Field names and shapes are the kubelet's (``kubelet.config.k8s.io/v1beta1``,
staging/src/k8s.io/kubelet/config/v1beta1/types.go).  What the kubelet
refuses, and so what this module never writes (the rules are transcribed,
with their sources, in tests/exports/kubelet_rules.py, which checks every
fragment the tests produce):

- ``systemReserved``/``kubeReserved`` keys other than cpu, memory,
  ephemeral-storage and pid ("cannot reserve", cmd/kubelet/app/server.go
  parseResourceList).  Hugepages kept from pods therefore cannot be told
  to the kubelet at all on 1.30-1.37: ``reservedMemory`` hugepage limits
  must add up to the Node Allocatable reservation of that size, which is
  always 0 because the reserved-resource parser refuses hugepages
  (pkg/kubelet/cm/memorymanager/memory_manager.go validateReservedMemory;
  the kubelet stops with "the total amount ... of type hugepages-2Mi is not
  equal to the value 0").  KEP-6252 (alpha planned for 1.38) changes that.
  A profile's ``hugepages[].reserved`` becomes a warning and a comment.
- ``cpuManagerPolicy: static`` with no CPU reservation ("the static policy
  requires systemreserved.cpu + kubereserved.cpu to be greater than zero",
  pkg/kubelet/cm/cpumanager/cpu_manager.go); the ``none`` policy with
  options (NewNonePolicy); options the version does not know, or alpha
  options without their feature gate (policy_options.go).
- ``memoryManagerPolicy: Static`` whose ``reservedMemory`` memory limits
  do not add up to kubeReserved + systemReserved + the memory.available
  hard eviction threshold, or add up to 0 (memory_manager.go,
  policy_static.go "you should specify the system reserved memory").
- A partial ``evictionHard``: the kubelet sets every signal not written to
  0 (no eviction) unless defaults are merged, so the kubelet's own
  defaults are written for the signals the profile leaves out.

CPUs: ``reservedSystemCPUs`` is rmctl's system CPUs plus every CPU held by
an rmctl reservation (processes outside Kubernetes pinned there).  The
kubelet counts the list as systemReserved cpu and never gives those CPUs
to a container exclusively; with ``strict-cpu-reservation`` (KEP-4540) it
also takes them out of the shared pool, so no pod at all runs there.  The
option is added when reservations hold CPUs and the version has it.

Pure: the CLI (or its use case) gathers the inputs, prints or writes the
result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rmctl.cpuset import CpuSet
from rmctl.errors import ConflictError, UsageError
from rmctl.exports import kubelet_versions as V
from rmctl.units import format_size_exact

KUBELET_API = "kubelet.config.k8s.io/v1beta1"

#: the kubelet's hard eviction defaults on Linux, 1.30+ (pkg/kubelet/eviction/defaults_linux.go)
DEFAULT_EVICTION_HARD = {"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%",
                         "imagefs.available": "15%", "imagefs.inodesFree": "5%"}

#: where a value came from, in the order the output comment lists them
SOURCES = ("profile", "state", "plan", "node", "rmctl", "default")
SOURCE_TEXT = {
    "profile": "the profile",
    "state": "rmctl's state on this node (what was applied)",
    "plan": "the node, as applying the profile would choose (not applied yet)",
    "node": "the node",
    "rmctl": "rmctl's defaults (the profile's spec.kubelet sets them)",
    "default": "the kubelet's defaults",
}


@dataclass(frozen=True)
class CpuFacts:
    """The CPUs the kubelet must keep from pods, and where they came from.

    ``system``: rmctl's system CPUs; ``held``: reservation name -> its CPUs
    (processes outside Kubernetes); ``source``: "state" (applied), "plan"
    (what applying the profile would choose) or "profile" (its explicit list).
    """

    system: CpuSet = field(default_factory=CpuSet)
    held: dict = field(default_factory=dict)
    source: str = "state"
    #: reservations made with strict-cpu-reservation: their CPUs must leave the shared pool too,
    #: so a kubelet without the option, or a profile turning it off, is refused rather than warned about
    strict: tuple = ()

    @property
    def held_cpus(self) -> CpuSet:
        out = CpuSet()
        for c in self.held.values():
            out |= c
        return out


@dataclass
class KubeletExport:
    """The fragment, the lines of its comment, warnings for stderr, and each field's source."""

    config: dict
    version: V.KubeletVersion
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  #: field -> one of SOURCES

    def comment(self) -> str:
        """Return the comment block the YAML output starts with."""
        lines = [f"KubeletConfiguration fragment from rmctl export kubelet-config, kubelet {self.version}"]
        for src in SOURCES:
            names = [f for f, s in self.sources.items() if s == src]
            if names:
                lines.append(f"from {SOURCE_TEXT[src]}: {', '.join(names)}")
        lines += self.notes
        lines += [f"warning: {w}" for w in self.warnings]
        return "".join(f"# {ln}\n" for ln in lines)


def quantity(nbytes: int) -> str:
    """Return a Kubernetes quantity for a byte count (``1Gi``, ``1536Mi``, or plain bytes)."""
    return format_size_exact(nbytes) if nbytes else "0"


def split_even(total: int, nodes: list[int], unit: int = 1 << 20) -> dict[int, int]:
    """Return ``total`` bytes split over ``nodes`` in whole ``unit`` s; the rest on the first node."""
    if not nodes:
        return {}
    units, rest = divmod(total, unit)
    each, extra = divmod(units, len(nodes))
    out = {n: each * unit for n in nodes}
    out[nodes[0]] += extra * unit + rest
    return out


def memory_nodes(node) -> list[int]:
    """Return the NUMA nodes with memory (where the Memory Manager can reserve), else all nodes."""
    nodes = node.topology.nodes
    return sorted(n for n, v in nodes.items() if (v.memory_total or 0) > 0) or sorted(nodes) or [0]


def kubelet_config(node, *, profile=None, cpus: CpuFacts | None = None,
                   version: V.KubeletVersion | None = None) -> KubeletExport:
    """Return the KubeletConfiguration fragment for ``node`` (see the module docstring)."""
    from rmctl.profile.schema import KubeletSpec

    version = version or V.parse_version(None)
    k = profile.kubelet if profile is not None else KubeletSpec()
    given = set(k.given)
    cpus = cpus or CpuFacts()
    out = KubeletExport(config={"apiVersion": KUBELET_API, "kind": "KubeletConfiguration"}, version=version)
    cfg, src = out.config, out.sources
    if version.beyond_table:
        out.warnings.append(f"kubelet {version} is newer than the rules recorded in rmctl "
                            f"({V.NEWEST[0]}.{V.NEWEST[1]}); those are used")

    def from_profile(key: str) -> str:
        return "profile" if key in given else "rmctl"

    # 1. CPUs: reservedSystemCPUs and the CPU Manager
    online = node.topology.online_cpus()
    reserved = cpus.system | cpus.held_cpus
    off = reserved - online
    if off:
        raise ConflictError(f"reserved {off.phrase('are')} not online on this node",
                            hint="the kubelet refuses reservedSystemCPUs outside the online CPUs "
                                 "(cmd/kubelet/app/server.go getReservedCPUs); check `rmctl cpu list`")
    policy = k.cpu_manager_policy
    options = dict(k.cpu_manager_policy_options)
    if policy is None:
        policy = "static" if reserved else "none"
        src["cpuManagerPolicy"] = "node" if reserved else "default"
        if not reserved:
            out.warnings.append("no CPUs are reserved: cpuManagerPolicy none (static needs a non-zero CPU "
                                "reservation; set spec.systemReservedCPUs for exclusive CPUs)")
    else:
        src["cpuManagerPolicy"] = "profile"
    if policy == "static" and not reserved:
        raise ConflictError("cpuManagerPolicy static needs reserved CPUs, and none are reserved",
                            hint="the kubelet refuses static with zero reserved CPUs; set "
                                 "spec.systemReservedCPUs in the profile")
    if policy == "none" and options:
        raise ConflictError("cpuManagerPolicyOptions need the static policy, and no CPUs are reserved",
                            hint="set spec.systemReservedCPUs (static needs a CPU reservation)")
    cfg["cpuManagerPolicy"] = policy
    if reserved:
        cfg["reservedSystemCPUs"] = reserved.to_list()
        src["reservedSystemCPUs"] = cpus.source
        parts = []
        if cpus.system:
            parts.append(f"{cpus.system.to_list()} system CPUs")
        parts += [f"{c.to_list()} reservation {n}" for n, c in sorted(cpus.held.items()) if c]
        out.notes.append("reservedSystemCPUs: " + "; ".join(parts))
    held = cpus.held_cpus
    if held and policy == "static":
        strict = options.get("strict-cpu-reservation")
        level = V.cpu_option_maturity("strict-cpu-reservation", version)
        asked = ", ".join(cpus.strict)
        if strict is None and level is not None:
            options["strict-cpu-reservation"] = "true"
            out.notes.append(f"strict-cpu-reservation: CPUs {held.to_list()} held by rmctl reservations are in "
                             "reservedSystemCPUs and out of the shared pool, so no pod runs there"
                             + (f" (required by reservation {asked})" if asked else ""))
        elif strict is None and asked:
            raise UsageError(f"reservation {asked} asks for strict-cpu-reservation, which kubelet {version} "
                             "does not have (1.32+)",
                             hint="choose --kubelet-version 1.32 or newer, or reserve without the option")
        elif strict is None:
            out.warnings.append(f"kubelet {version} has no strict-cpu-reservation (1.32+): pods in the shared "
                                f"pool (Burstable, BestEffort) can still run on CPUs {held.to_list()} held by "
                                "rmctl reservations")
        elif strict not in ("true", "True", "TRUE", "t", "T", "1") and asked:
            raise ConflictError(f"the profile turns strict-cpu-reservation off, but reservation {asked} asks for it",
                                hint="drop cpuManagerPolicyOptions strict-cpu-reservation from spec.kubelet, or "
                                     "reserve without the option")
        elif strict not in ("true", "True", "TRUE", "t", "T", "1"):
            out.warnings.append(f"the profile turns strict-cpu-reservation off: pods in the shared pool can "
                                f"run on CPUs {held.to_list()} held by rmctl reservations")
    gates: dict[str, bool] = {}
    if options:
        cfg["cpuManagerPolicyOptions"] = {}
        for name, value in sorted(options.items()):
            level = V.cpu_option_maturity(name, version)
            if level is None:
                raise UsageError(f"kubelet {version} has no cpuManagerPolicyOptions {name}",
                                 hint="newer kubelets have it: " + _since(V.CPU_OPTIONS, name))
            if level == V.ALPHA:
                gates[V.CPU_ALPHA_GATE] = True
            cfg["cpuManagerPolicyOptions"][name] = value
        # rmctl adds strict-cpu-reservation because of the node's reservations
        src["cpuManagerPolicyOptions"] = "profile" if "cpuManagerPolicyOptions" in given else cpus.source

    # 2. the Topology Manager
    cfg["topologyManagerPolicy"] = k.topology_manager_policy
    src["topologyManagerPolicy"] = from_profile("topologyManagerPolicy")
    cfg["topologyManagerScope"] = k.topology_manager_scope
    src["topologyManagerScope"] = from_profile("topologyManagerScope")
    if k.topology_manager_policy_options:
        cfg["topologyManagerPolicyOptions"] = {}
        for name, value in k.topology_manager_policy_options:
            level = V.topology_option_maturity(name, version)
            if level is None:
                raise UsageError(f"kubelet {version} has no topologyManagerPolicyOptions {name}",
                                 hint="newer kubelets have it: " + _since(V.TOPOLOGY_OPTIONS, name))
            if level == V.ALPHA:
                gates[V.TOPOLOGY_ALPHA_GATE] = True
            cfg["topologyManagerPolicyOptions"][name] = value
        src["topologyManagerPolicyOptions"] = "profile"
    if gates:
        cfg["featureGates"] = dict(sorted(gates.items()))
        src["featureGates"] = "profile"
        out.notes.append(f"featureGates {', '.join(sorted(gates))}: alpha options in kubelet {version}")

    # 3. memory: reservations, eviction, the Memory Manager
    if k.system_reserved_memory:
        cfg["systemReserved"] = {"memory": quantity(k.system_reserved_memory)}
        src["systemReserved"] = "profile"
    if k.kube_reserved_memory:
        cfg["kubeReserved"] = {"memory": quantity(k.kube_reserved_memory)}
        src["kubeReserved"] = "profile"
    eviction = dict(DEFAULT_EVICTION_HARD)
    eviction.update(dict(k.eviction_hard))
    eviction["memory.available"] = quantity(k.eviction_hard_memory)
    cfg["evictionHard"] = dict(sorted(eviction.items()))
    set_by_profile = {s for s, _ in k.eviction_hard} | (
        {"memory.available"} if {"evictionHardMemory", "evictionHard"} & given else set())
    src["evictionHard"] = "profile" if set_by_profile else "default"
    defaults_kept = sorted(set(DEFAULT_EVICTION_HARD) - set_by_profile)
    if set_by_profile and defaults_kept:
        out.notes.append("evictionHard: " + ", ".join(defaults_kept) + " are the kubelet's defaults, written out "
                         "(a partial evictionHard sets the other signals to 0)")
    cfg["memoryManagerPolicy"] = k.memory_manager_policy
    src["memoryManagerPolicy"] = from_profile("memoryManagerPolicy")
    if k.memory_manager_policy == "Static":
        total = k.system_reserved_memory + k.kube_reserved_memory + k.eviction_hard_memory
        if total <= 0:
            raise ConflictError("memoryManagerPolicy Static needs reserved memory, and none is reserved",
                                hint="set spec.kubelet.systemReservedMemory (or keep the 100Mi eviction threshold)")
        mem_nodes = memory_nodes(node)
        cfg["reservedMemory"] = [{"numaNode": n, "limits": {"memory": quantity(b)}}
                                 for n, b in sorted(split_even(total, mem_nodes).items()) if b]
        src["reservedMemory"] = "node"
        out.notes.append(f"reservedMemory: {quantity(total)} (systemReserved + kubeReserved + memory.available) "
                         f"split over NUMA nodes {','.join(map(str, mem_nodes))} (the nodes with memory)")

    # 4. hugepages the profile keeps from pods: the kubelet cannot be told (see the module docstring)
    kept = [h for h in (profile.hugepages if profile is not None else ()) if h.reserved]
    for h in kept:
        out.warnings.append(f"{h.field}.reserved: {h.reserved} pages of {format_size_exact(h.page_size)} on NUMA "
                            f"node {h.node} cannot be kept from pods by kubelet {version} (hugepages are refused "
                            "in systemReserved/kubeReserved, and reservedMemory hugepage limits must add up to "
                            "them); pods can be admitted for those pages")
    if kept:
        out.notes.append("hugepages: reserved pages are not written (the kubelet cannot reserve hugepages "
                         "before KEP-6252); see the warnings")
    return out


def _since(table: dict, name: str) -> str:
    return ", ".join(f"{level} in {a}.{b}" for (a, b), level in table.get(name, ()))


def render_yaml(export: KubeletExport) -> str:
    """Return the fragment as YAML with its comment block."""
    import yaml

    return export.comment() + yaml.safe_dump(export.config, sort_keys=False, default_flow_style=False)
