"""The kubelet's own rules for the KubeletConfiguration fields rmctl emits: data plus a checker.

Transcribed from kubernetes/kubernetes (read with the search tool; file,
function and the error each rule mirrors are given per rule).  Only the
fields ``rmctl export kubelet-config`` writes are covered.  ``check()``
returns the messages of every rule a fragment breaks (empty: the kubelet
accepts it as far as these rules go).  Independent of rmctl's exporter on
purpose: it parses quantities and cpusets itself.

Sources:
  V  pkg/kubelet/apis/config/validation/validation.go  ValidateKubeletConfiguration
  RM pkg/kubelet/apis/config/validation/validation_reserved_memory.go  validateReservedMemoryConfiguration
  S  cmd/kubelet/app/server.go  parseResourceList, getReservedCPUs, the reservedSystemCPUs override
  C  pkg/kubelet/cm/cpumanager/cpu_manager.go  NewManager (static); policy_none.go NewNonePolicy
  CO pkg/kubelet/cm/cpumanager/policy_options.go  CheckPolicyOptionAvailable, NewStaticPolicyOptions
  TO pkg/kubelet/cm/topologymanager/policy_options.go  CheckPolicyOptionAvailable, NewPolicyOptions
  MM pkg/kubelet/cm/memorymanager/memory_manager.go  validateReservedMemory, getTotalMemoryTypeReserved;
     policy_static.go NewPolicyStatic; NewManager (policy names)
  E  pkg/kubelet/eviction/helpers.go  ParseThresholdConfig (signals, quantities, percentages)
"""

from __future__ import annotations

import re
from fractions import Fraction

# -- data --------------------------------------------------------------------

#: V: topologyManagerPolicy values
TOPOLOGY_POLICIES = {"none", "best-effort", "restricted", "single-numa-node"}
#: V: topologyManagerScope values
TOPOLOGY_SCOPES = {"container", "pod"}
#: S parseResourceList: the only keys systemReserved/kubeReserved accept ("cannot reserve %q resource")
RESERVABLE = {"cpu", "memory", "ephemeral-storage", "pid"}
#: C: policy names ("unknown policy")
CPU_POLICIES = {"none", "static"}
#: MM NewManager: policy names
MEMORY_POLICIES = {"None", "Static"}
#: CO: option -> {version (minor): maturity}; absent = unknown in that version
CPU_OPTIONS = {
    "full-pcpus-only": [(22, "alpha"), (23, "beta"), (33, "GA")],
    "distribute-cpus-across-numa": [(23, "alpha"), (33, "beta")],
    "align-by-socket": [(25, "alpha")],
    "distribute-cpus-across-cores": [(31, "alpha")],
    "strict-cpu-reservation": [(32, "alpha"), (33, "beta"), (35, "GA")],
    "prefer-align-cpus-by-uncorecache": [(32, "alpha"), (34, "beta")],
}
#: CO NewStaticPolicyOptions: pairs refused together
CPU_OPTION_CONFLICTS = [("full-pcpus-only", "distribute-cpus-across-cores"),
                        ("distribute-cpus-across-numa", "distribute-cpus-across-cores"),
                        ("prefer-align-cpus-by-uncorecache", "distribute-cpus-across-cores"),
                        ("prefer-align-cpus-by-uncorecache", "distribute-cpus-across-numa")]
#: TO: option -> (value kind, maturity steps)
TOPOLOGY_OPTIONS = {
    "prefer-closest-numa-nodes": ("bool", [(26, "alpha"), (28, "beta"), (32, "GA")]),
    "max-allowable-numa-nodes": ("int", [(31, "beta"), (35, "GA")]),
}
#: Go strconv.ParseBool (CO, TO parse option values with it)
GO_BOOL = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
#: E: the eviction signals of Linux kubelets
SIGNALS = {"memory.available", "allocatableMemory.available", "nodefs.available", "nodefs.inodesFree",
           "imagefs.available", "imagefs.inodesFree", "containerfs.available", "containerfs.inodesFree",
           "pid.available"}
#: rmctl's own rule (not the kubelet's): a partial evictionHard zeroes the signals left out, so every
#: default signal (pkg/kubelet/eviction/defaults_linux.go, 1.30+) must be written
DEFAULT_SIGNALS = {"memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available",
                   "imagefs.inodesFree"}

_SUFFIX = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
           "n": Fraction(1, 10 ** 9), "u": Fraction(1, 10 ** 6), "m": Fraction(1, 1000), "": 1,
           "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}
_QTY = re.compile(r"^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")


def quantity(text) -> Fraction:
    """Return a resource.Quantity's value (apimachinery ParseQuantity, without exponents); raise ValueError."""
    m = _QTY.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a quantity")
    return Fraction(m.group(1)) * _SUFFIX[m.group(2)]


def cpuset(text: str) -> set[int]:
    """Return k8s.io/utils/cpuset.Parse(text); raise ValueError."""
    out: set[int] = set()
    if text.strip() == "":
        return out
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        lo, hi = int(a), int(b) if b else int(a)
        if lo > hi:
            raise ValueError(f"invalid range {part!r}")
        out |= set(range(lo, hi + 1))
    return out


def maturity(steps, minor: int) -> str | None:
    got = None
    for since, level in steps:
        if minor >= since:
            got = level
    return got


# -- the checker ---------------------------------------------------------------

def check(cfg: dict, *, minor: int, online_cpus: set[int], numa_nodes: set[int],
          memory_capacity: int | None = None) -> list[str]:
    """Return every transcribed rule ``cfg`` breaks for a kubelet 1.<minor> on a node with these facts."""
    errs: list[str] = []
    gates = cfg.get("featureGates") or {}
    # V
    if cfg.get("topologyManagerPolicy", "none") not in TOPOLOGY_POLICIES:
        errs.append("V: topologyManagerPolicy must be one of " + str(sorted(TOPOLOGY_POLICIES)))
    if cfg.get("topologyManagerScope", "container") not in TOPOLOGY_SCOPES:
        errs.append("V: topologyManagerScope must be container or pod")
    rsc = cfg.get("reservedSystemCPUs", "")
    reserved: set[int] = set()
    if rsc:
        if cfg.get("systemReservedCgroup") or cfg.get("kubeReservedCgroup"):
            errs.append("V: can't use reservedSystemCPUs with systemReservedCgroup or kubeReservedCgroup")
        try:
            reserved = cpuset(rsc)
        except ValueError as e:
            errs.append(f"V: unable to parse reservedSystemCPUs: {e}")
        # S getReservedCPUs
        if not reserved <= online_cpus:
            errs.append(f"S: reserved-cpus {rsc} is not a subset of online-cpus")
    # S parseResourceList
    node_alloc: dict[str, Fraction] = {}
    for key in ("systemReserved", "kubeReserved"):
        for name, value in (cfg.get(key) or {}).items():
            if name not in RESERVABLE:
                errs.append(f"S: {key}: cannot reserve {name!r} resource")
                continue
            try:
                q = quantity(value)
            except ValueError as e:
                errs.append(f"S: {key}.{name}: {e}")
                continue
            if q < 0:
                errs.append(f"S: {key}.{name}: resource quantity cannot be negative")
            node_alloc[name] = node_alloc.get(name, Fraction(0)) + q
    if reserved:  # S: --reserved-cpus overwrites the cpu of kubeReserved and systemReserved
        node_alloc["cpu"] = Fraction(len(reserved))
    # E
    hard = cfg.get("evictionHard") or {}
    for sig, value in hard.items():
        if sig not in SIGNALS:
            errs.append(f"E: evictionHard: unsupported eviction signal {sig!r}")
            continue
        v = str(value)
        if v.endswith("%"):
            try:
                pct = float(v[:-1])
            except ValueError:
                errs.append(f"E: evictionHard.{sig}: bad percentage {v!r}")
                continue
            if pct < 0 or pct > 100:
                errs.append(f"E: evictionHard.{sig}: percentage must be between 0 and 100")
        else:
            try:
                if quantity(v) < 0:
                    errs.append(f"E: evictionHard.{sig}: eviction threshold must be positive")
            except ValueError as e:
                errs.append(f"E: evictionHard.{sig}: {e}")
    if hard and not cfg.get("mergeDefaultEvictionSettings"):
        missing = DEFAULT_SIGNALS - set(hard)
        if missing:
            errs.append(f"rmctl: evictionHard leaves {sorted(missing)} at 0 (partial, defaults not merged)")
    mem_avail = hard.get("memory.available", "100Mi" if not hard else None)
    if mem_avail is not None and not str(mem_avail).endswith("%"):
        try:
            node_alloc["memory"] = node_alloc.get("memory", Fraction(0)) + quantity(mem_avail)
        except ValueError:
            pass
    elif mem_avail is not None and memory_capacity is not None:
        node_alloc["memory"] = node_alloc.get("memory", Fraction(0)) + \
            Fraction(memory_capacity) * Fraction(str(mem_avail)[:-1]) / 100
    # C
    policy = cfg.get("cpuManagerPolicy", "none")
    opts = cfg.get("cpuManagerPolicyOptions") or {}
    if policy not in CPU_POLICIES:
        errs.append(f"C: unknown policy {policy!r}")
    if policy == "none" and opts:
        errs.append("C: None policy: cannot set policy options")
    if policy == "static":
        cpu = node_alloc.get("cpu")
        if cpu is None:
            errs.append("C: unable to determine reserved CPU resources for static policy")
        elif cpu == 0:
            errs.append("C: the static policy requires systemreserved.cpu + kubereserved.cpu to be greater than zero")
    # CO
    on = set()
    for name, value in opts.items():
        level = maturity(CPU_OPTIONS.get(name, []), minor)
        if level is None:
            errs.append(f"CO: unknown CPU Manager Policy option: {name!r}")
            continue
        if level == "alpha" and not gates.get("CPUManagerPolicyAlphaOptions"):
            errs.append(f"CO: CPU Manager Policy Alpha-level Options not enabled, but option {name!r} provided")
        if level == "beta" and gates.get("CPUManagerPolicyBetaOptions") is False:
            errs.append(f"CO: CPU Manager Policy Beta-level Options not enabled, but option {name!r} provided")
        if str(value) not in GO_BOOL:
            errs.append(f"CO: bad value for option {name!r}")
        elif str(value) in {"1", "t", "T", "TRUE", "true", "True"}:
            on.add(name)
    for a, b in CPU_OPTION_CONFLICTS:
        if a in on and b in on:
            errs.append(f"CO: static policy options {a} and {b} can not be used at the same time")
    # TO
    for name, value in (cfg.get("topologyManagerPolicyOptions") or {}).items():
        kind, steps = TOPOLOGY_OPTIONS.get(name, (None, []))
        level = maturity(steps, minor)
        if level is None:
            errs.append(f"TO: unknown Topology Manager Policy option: {name!r}")
            continue
        if level == "alpha" and not gates.get("TopologyManagerPolicyAlphaOptions"):
            errs.append(f"TO: Topology Manager Policy Alpha-level Options not enabled, but option {name!r} provided")
        if kind == "bool" and str(value) not in GO_BOOL:
            errs.append(f"TO: bad value for option {name!r}")
        if kind == "int" and not re.fullmatch(r"[+-]?[0-9]+", str(value)):
            errs.append(f"TO: bad value for option {name!r}")
    # RM
    seen = set()
    total: dict[str, Fraction] = {}
    for r in cfg.get("reservedMemory") or []:
        n = r.get("numaNode")
        for name, value in (r.get("limits") or {}).items():
            if not (name == "memory" or name.startswith("hugepages-")):
                errs.append(f"RM: the limit type {name!r} for NUMA node {n} is not supported")
            try:
                q = quantity(value)
            except ValueError as e:
                errs.append(f"RM: {e}")
                continue
            if q == 0:
                errs.append(f"RM: reserved memory may not be zero for NUMA node {n} and resource {name!r}")
            if (n, name) in seen:
                errs.append(f"RM: the reserved memory has a duplicate value for NUMA node {n} and resource {name!r}")
            seen.add((n, name))
            total[name] = total.get(name, Fraction(0)) + q
        # MM getTotalMemoryTypeReserved
        if n not in numa_nodes:
            errs.append(f"MM: the reserved memory configuration references a NUMA node {n} that does not exist")
    # MM
    mpolicy = cfg.get("memoryManagerPolicy", "None")
    if mpolicy not in MEMORY_POLICIES:
        errs.append(f"MM: unknown policy {mpolicy!r}")
    if mpolicy == "Static":
        types = set(total) | {t for t in node_alloc if t == "memory" or t.startswith("hugepages-")}
        for t in sorted(types):
            if node_alloc.get(t, Fraction(0)) != total.get(t, Fraction(0)):
                errs.append(f"MM: the total amount of type {t!r} ({total.get(t, 0)}) is not equal to the value "
                            f"({node_alloc.get(t, 0)}) determined by Node Allocatable feature")
        if total.get("memory", Fraction(0)) <= 0:
            errs.append("MM: you should specify the system reserved memory")
    return errs
