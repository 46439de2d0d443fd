"""The kubelet's resource-manager policies: from a KubeletConfiguration file and from flags.

Fields (staging/src/k8s.io/kubelet/config/v1beta1/types.go) and their
defaults (pkg/kubelet/apis/config/v1beta1/defaults.go):

=============================== =============== ==========================================
field                           default         flag here
=============================== =============== ==========================================
cpuManagerPolicy                none            --cpu-manager-policy
cpuManagerPolicyOptions         {}              --cpu-option NAME[=VALUE]
reservedSystemCPUs              ""              --reserved-cpus LIST
systemReserved / kubeReserved   {}              (file only: cpu and memory are read)
evictionHard memory.available   100Mi           (file only)
topologyManagerPolicy           none            --topology-policy
topologyManagerScope            container       --topology-scope
topologyManagerPolicyOptions    {}              --topology-option NAME=VALUE
memoryManagerPolicy             None            --memory-manager-policy
reservedMemory                  []              --reserved-memory 'N:memory=1Gi,hugepages-2Mi=...'
=============================== =============== ==========================================

A flag overrides the file, as the kubelet's own command line overrides
its ``--config``.  Values are checked as the kubelet checks them before it
starts (pkg/kubelet/apis/config/validation/validation.go, the policy
options parsers in pkg/kubelet/cm/cpumanager/policy_options.go and
topologymanager/policy_options.go); a configuration the kubelet refuses
is an InputError naming the rule, not an evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from rmctl.cpuset import CpuSet
from rmctl.errors import RmctlError
from rmctl.resources.yamlio import InputError, Reader, pos

API_VERSION = "kubelet.config.k8s.io/v1beta1"
CPU_POLICIES = ("none", "static")
TOPOLOGY_POLICIES = ("none", "best-effort", "restricted", "single-numa-node")
TOPOLOGY_SCOPES = ("container", "pod")
MEMORY_POLICIES = ("None", "Static")
#: cpumanager policy_options.go (each a Go bool)
CPU_OPTIONS = ("full-pcpus-only", "distribute-cpus-across-numa", "align-by-socket",
               "distribute-cpus-across-cores", "strict-cpu-reservation", "prefer-align-cpus-by-uncorecache")
#: topologymanager policy_options.go
TOPOLOGY_OPTIONS = ("prefer-closest-numa-nodes", "max-allowable-numa-nodes")
#: strconv.ParseBool
GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
DEFAULT_EVICTION_MEMORY = 100 << 20  # memory.available<100Mi
DEFAULT_MAX_NUMA_NODES = 8


@dataclass
class KubeletPolicies:
    """The resource-manager settings of one kubelet; ``sources`` says where each came from."""

    cpu_manager_policy: str = "none"
    cpu_options: dict[str, bool] = field(default_factory=dict)
    reserved_cpus: CpuSet | None = None  #: reservedSystemCPUs; None: none given
    system_reserved: dict[str, Fraction] = field(default_factory=dict)  #: cpu (cores), memory (bytes)
    kube_reserved: dict[str, Fraction] = field(default_factory=dict)
    eviction_memory: int | None = DEFAULT_EVICTION_MEMORY  #: memory.available in bytes
    eviction_memory_percent: Fraction | None = None  #: or a percentage of capacity
    topology_policy: str = "none"
    topology_scope: str = "container"
    prefer_closest_numa: bool = False
    max_numa_nodes: int = DEFAULT_MAX_NUMA_NODES
    memory_manager_policy: str = "None"
    reserved_memory: dict[int, dict[str, int]] = field(default_factory=dict)  #: NUMA node -> resource -> bytes
    sources: dict[str, str] = field(default_factory=dict)  #: field -> "flag" | file | "default"

    def option(self, name: str) -> bool:
        return bool(self.cpu_options.get(name))

    def reserved_cpu_count(self) -> int:
        """Return how many CPUs are reserved: reservedSystemCPUs, else ceil(systemReserved + kubeReserved cpu).

        cmd/kubelet/app/server.go: --reserved-cpus overrides the cpu of
        kube-reserved and system-reserved with its size.
        """
        if self.reserved_cpus is not None and len(self.reserved_cpus):
            return len(self.reserved_cpus)
        total = self.system_reserved.get("cpu", Fraction(0)) + self.kube_reserved.get("cpu", Fraction(0))
        return -(-total.numerator // total.denominator) if total > 0 else 0

    def to_data(self) -> dict:
        return {
            "cpuManagerPolicy": self.cpu_manager_policy,
            "cpuManagerPolicyOptions": {k: v for k, v in sorted(self.cpu_options.items())},
            "reservedSystemCPUs": self.reserved_cpus.to_list() if self.reserved_cpus is not None else None,
            "reservedCPUCount": self.reserved_cpu_count(),
            "topologyManagerPolicy": self.topology_policy,
            "topologyManagerScope": self.topology_scope,
            "topologyManagerPolicyOptions": {"prefer-closest-numa-nodes": self.prefer_closest_numa,
                                             "max-allowable-numa-nodes": self.max_numa_nodes},
            "memoryManagerPolicy": self.memory_manager_policy,
            "reservedMemory": [{"numaNode": n, "limits": dict(sorted(v.items()))}
                               for n, v in sorted(self.reserved_memory.items())],
            "sources": dict(sorted(self.sources.items())),
        }


# -- values ----------------------------------------------------------------------------

def _bool(value, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value) in GO_BOOLS:
        return GO_BOOLS[str(value)]
    raise InputError(f"{what}: {value!r} is not a boolean", hint="use true or false (Go's strconv.ParseBool)")


def cpu_option(name: str, value, what: str) -> tuple[str, bool]:
    """Return (name, bool) of a CPU Manager policy option, checked."""
    if name not in CPU_OPTIONS:
        import difflib

        close = difflib.get_close_matches(name, CPU_OPTIONS, n=1)
        raise InputError(f"{what}: unknown CPU Manager policy option {name!r}",
                         hint=(f"did you mean {close[0]!r}? " if close else "") + "known: " + ", ".join(CPU_OPTIONS))
    return name, _bool(value, f"{what} {name}")


def topology_option(name: str, value, what: str) -> tuple[str, bool | int]:
    """Return (name, value) of a Topology Manager policy option, checked."""
    if name == "prefer-closest-numa-nodes":
        return name, _bool(value, f"{what} {name}")
    if name == "max-allowable-numa-nodes":
        try:
            n = int(str(value), 10)
        except ValueError:
            raise InputError(f"{what} {name}: {value!r} is not an integer") from None
        # topologymanager policy_options.go: values below the default are refused
        if n < DEFAULT_MAX_NUMA_NODES:
            raise InputError(f"{what} {name}: {n} is below the default {DEFAULT_MAX_NUMA_NODES}",
                             hint="the kubelet refuses values below 8")
        return name, n
    raise InputError(f"{what}: unknown Topology Manager policy option {name!r}",
                     hint="known: " + ", ".join(TOPOLOGY_OPTIONS))


def _bytes(value, what: str) -> int:
    from rmctl.resources.cel import parse_quantity

    try:
        q = parse_quantity(str(value)) if not isinstance(value, bool) else None
    except ValueError:
        q = None
    if q is None or q < 0:
        raise InputError(f"{what}: {value!r} is not a size (Kubernetes quantity such as 1Gi)")
    return int(-(-q.numerator // q.denominator))


def parse_reserved_memory(text: str) -> dict[int, dict[str, int]]:
    """Return ``N:memory=1Gi,hugepages-2Mi=2Gi;M:...`` (the kubelet's --reserved-memory) by NUMA node."""
    out: dict[int, dict[str, int]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        node, sep, items = part.partition(":")
        if not sep or not node.strip().isdigit():
            raise InputError(f"--reserved-memory {part!r}: expected NODE:RESOURCE=SIZE[,RESOURCE=SIZE]",
                             hint="e.g. --reserved-memory 0:memory=1Gi,hugepages-1Gi=2Gi")
        limits = out.setdefault(int(node), {})
        for item in items.split(","):
            res, eq, qty = item.partition("=")
            res = res.strip()
            if not eq or not (res == "memory" or res.startswith("hugepages-")):
                raise InputError(f"--reserved-memory {part!r}: {item!r} is not memory=SIZE or hugepages-SIZE=SIZE")
            limits[res] = limits.get(res, 0) + _bytes(qty.strip(), f"--reserved-memory {res}")
    return out


# -- the KubeletConfiguration file ----------------------------------------------------------

def from_config(doc, filename: str) -> KubeletPolicies:
    """Return the policies of a KubeletConfiguration document (other fields are not read)."""
    rd = Reader(filename)
    if not isinstance(doc, dict) or doc.get("kind") != "KubeletConfiguration":
        raise InputError(f"{filename}: not a KubeletConfiguration",
                         hint="give the file the kubelet's --config names (kubeadm: /var/lib/kubelet/config.yaml)")
    if doc.get("apiVersion") != API_VERSION:
        rd.fail(pos(doc, "apiVersion"), "apiVersion", f"unsupported {doc.get('apiVersion')!r}; expected {API_VERSION}")
    p = KubeletPolicies()
    src = filename

    def choose(key: str, allowed: tuple[str, ...]) -> str | None:
        if doc.get(key) is None:
            return None
        v = doc[key]
        if v not in allowed:
            rd.fail(pos(doc, key), key, f"must be one of {', '.join(allowed)}, got {v!r}")
        p.sources[key] = src
        return v

    p.cpu_manager_policy = choose("cpuManagerPolicy", CPU_POLICIES) or p.cpu_manager_policy
    p.topology_policy = choose("topologyManagerPolicy", TOPOLOGY_POLICIES) or p.topology_policy
    p.topology_scope = choose("topologyManagerScope", TOPOLOGY_SCOPES) or p.topology_scope
    p.memory_manager_policy = choose("memoryManagerPolicy", MEMORY_POLICIES) or p.memory_manager_policy
    if doc.get("cpuManagerPolicyOptions") is not None:
        opts = rd.mapping(doc["cpuManagerPolicyOptions"], "cpuManagerPolicyOptions", doc, "cpuManagerPolicyOptions")
        for k, v in opts.items():
            name, val = cpu_option(str(k), v, f"{filename}:{pos(opts, k)}: cpuManagerPolicyOptions")
            p.cpu_options[name] = val
        p.sources["cpuManagerPolicyOptions"] = src
    if doc.get("topologyManagerPolicyOptions") is not None:
        opts = rd.mapping(doc["topologyManagerPolicyOptions"], "topologyManagerPolicyOptions", doc,
                          "topologyManagerPolicyOptions")
        for k, v in opts.items():
            name, tval = topology_option(str(k), v, f"{filename}:{pos(opts, k)}: topologyManagerPolicyOptions")
            if name == "prefer-closest-numa-nodes":
                p.prefer_closest_numa = bool(tval)
            else:
                p.max_numa_nodes = int(tval)
        p.sources["topologyManagerPolicyOptions"] = src
    if doc.get("reservedSystemCPUs") not in (None, ""):
        v = doc["reservedSystemCPUs"]
        try:
            p.reserved_cpus = CpuSet.parse(str(v))
        except (RmctlError, ValueError):
            rd.fail(pos(doc, "reservedSystemCPUs"), "reservedSystemCPUs", f"{v!r} is not a CPU list (0-1,8)")
        p.sources["reservedSystemCPUs"] = src
    for key, attr in (("systemReserved", "system_reserved"), ("kubeReserved", "kube_reserved")):
        if doc.get(key) is None:
            continue
        raw = rd.mapping(doc[key], key, doc, key)
        out = {}
        for k, v in raw.items():
            if k not in ("cpu", "memory", "ephemeral-storage", "pid"):
                # cmd/kubelet/app/server.go parseResourceList: the kubelet stops ("cannot reserve")
                rd.fail(pos(raw, k), f"{key}.{k}", f"the kubelet cannot reserve {k!r} (only cpu, memory, "
                                                   "ephemeral-storage and pid)")
            if k in ("cpu", "memory"):
                from rmctl.resources.cel import parse_quantity

                try:
                    out[k] = parse_quantity(str(v))
                except ValueError:
                    rd.fail(pos(raw, k), f"{key}.{k}", f"{v!r} is not a quantity")
        setattr(p, attr, out)
        p.sources[key] = src
    if doc.get("evictionHard") is not None:
        raw = rd.mapping(doc["evictionHard"], "evictionHard", doc, "evictionHard")
        v = raw.get("memory.available")
        if v is None:
            # the kubelet zeroes signals left out unless it merges defaults (mergeDefaultEvictionSettings)
            p.eviction_memory = DEFAULT_EVICTION_MEMORY if doc.get("mergeDefaultEvictionSettings") else 0
        elif str(v).endswith("%"):
            try:
                p.eviction_memory_percent = Fraction(str(v)[:-1])
            except (ValueError, ZeroDivisionError):
                rd.fail(pos(raw, "memory.available"), "evictionHard.memory.available", f"{v!r} is not a percentage")
            p.eviction_memory = None
        else:
            p.eviction_memory = _bytes(v, f"{filename}:{pos(raw, 'memory.available')}: evictionHard.memory.available")
        p.sources["evictionHard"] = src
    if doc.get("reservedMemory") is not None:
        lst = rd.seq(doc["reservedMemory"], "reservedMemory", doc, "reservedMemory")
        for i, item in enumerate(lst):
            ipath = f"reservedMemory[{i}]"
            rd.mapping(item, ipath, doc, "reservedMemory", allowed={"numaNode", "limits"}, required=("numaNode", "limits"))
            node = rd.integer(item["numaNode"], f"{ipath}.numaNode", item, "numaNode")
            limits = rd.mapping(item["limits"], f"{ipath}.limits", item, "limits")
            per = p.reserved_memory.setdefault(node, {})
            for k, v in limits.items():
                if not (k == "memory" or str(k).startswith("hugepages-")):
                    rd.fail(pos(limits, k), f"{ipath}.limits.{k}", "only memory and hugepages-<size> can be reserved")
                per[k] = per.get(k, 0) + _bytes(v, f"{filename}:{pos(limits, k)}: {ipath}.limits.{k}")
        p.sources["reservedMemory"] = src
    return p


def load_config(path: str) -> KubeletPolicies:
    """Return the policies of the KubeletConfiguration file at ``path`` (bounded like the manifests)."""
    from rmctl.resources.kube.common import read_manifests

    docs = read_manifests(path)
    if len(docs) != 1:
        raise InputError(f"{path}: expected one KubeletConfiguration document, found {len(docs)}")
    return from_config(docs[0], path)


@dataclass
class Flags:
    """Policy values given on the command line (None: not given)."""

    cpu_manager_policy: str | None = None
    cpu_options: tuple[str, ...] = ()
    reserved_cpus: str | None = None
    topology_policy: str | None = None
    topology_scope: str | None = None
    topology_options: tuple[str, ...] = ()
    max_numa_nodes: int | None = None  #: --max-allowable-numa-nodes (alias of the topology option)
    memory_manager_policy: str | None = None
    reserved_memory: tuple[str, ...] = ()

    def given(self) -> bool:
        return any(v not in (None, ()) for v in self.__dict__.values())


def apply_flags(p: KubeletPolicies, f: Flags) -> KubeletPolicies:
    """Return ``p`` with the command-line values laid over it (checked as the file's are)."""
    def pick(value, allowed, flag):
        if value not in allowed:
            raise InputError(f"{flag} {value!r}: must be one of {', '.join(allowed)}")
        return value

    if f.cpu_manager_policy is not None:
        p.cpu_manager_policy = pick(f.cpu_manager_policy, CPU_POLICIES, "--cpu-manager-policy")
        p.sources["cpuManagerPolicy"] = "flag"
    for item in f.cpu_options:
        name, sep, value = item.partition("=")
        name, val = cpu_option(name.strip(), value if sep else "true", "--cpu-option")
        p.cpu_options[name] = val
        p.sources["cpuManagerPolicyOptions"] = "flag"
    if f.reserved_cpus is not None:
        try:
            p.reserved_cpus = CpuSet.parse(f.reserved_cpus)
        except (RmctlError, ValueError):
            raise InputError(f"--reserved-cpus {f.reserved_cpus!r}: not a CPU list (0-1,8)") from None
        p.sources["reservedSystemCPUs"] = "flag"
    if f.topology_policy is not None:
        p.topology_policy = pick(f.topology_policy, TOPOLOGY_POLICIES, "--topology-policy")
        p.sources["topologyManagerPolicy"] = "flag"
    if f.topology_scope is not None:
        p.topology_scope = pick(f.topology_scope, TOPOLOGY_SCOPES, "--topology-scope")
        p.sources["topologyManagerScope"] = "flag"
    if f.max_numa_nodes is not None:
        p.max_numa_nodes = f.max_numa_nodes
        p.sources["topologyManagerPolicyOptions"] = "flag"
    for item in f.topology_options:
        name, sep, value = item.partition("=")
        if not sep and name.strip() == "prefer-closest-numa-nodes":
            value = "true"
        elif not sep:
            raise InputError(f"--topology-option {item!r}: expected NAME=VALUE",
                             hint="e.g. --topology-option max-allowable-numa-nodes=12")
        name, tval = topology_option(name.strip(), value.strip(), "--topology-option")
        if name == "prefer-closest-numa-nodes":
            p.prefer_closest_numa = bool(tval)
        else:
            p.max_numa_nodes = int(tval)
        p.sources["topologyManagerPolicyOptions"] = "flag"
    if f.memory_manager_policy is not None:
        p.memory_manager_policy = pick(f.memory_manager_policy, MEMORY_POLICIES, "--memory-manager-policy")
        p.sources["memoryManagerPolicy"] = "flag"
    if f.reserved_memory:
        p.reserved_memory = {}
        for text in f.reserved_memory:
            for node, limits in parse_reserved_memory(text).items():
                per = p.reserved_memory.setdefault(node, {})
                for k, v in limits.items():
                    per[k] = per.get(k, 0) + v
        p.sources["reservedMemory"] = "flag"
    return p
