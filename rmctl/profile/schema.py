"""NodeProfile loading and validation, with file positions.

The shape (issue 7, a contract: extend, never change)::

    apiVersion: rmctl.io/v1alpha1
    kind: NodeProfile
    metadata: {name: worker}
    spec:
      systemReservedCPUs: {count: 1}          # or {cpus: "0"}
      isolatedCPUs: {cpus: "2-3"}             # boot arguments; needs a reboot
      hugepages:
      - {pageSize: 2Mi, count: 8, node: 0}    # omit node for the global pool
      mounts:
      - {path: /mnt/huge-2m, pageSize: 2Mi}
      reservations:
      - {name: db, count: 1}                  # any `cpu reserve` constraint may appear
      requests:                               # extension: device (and CPU, hugepage) reservations
      - {name: train, file: train-request.yaml}   # a ResourceRequest file (relative to the profile)
      - name: infer                           # or the ResourceRequest spec inline
        spec: {cpus: 2, devices: [{name: gpu, class: gpu}]}

Extensions (all optional): hugepage entries take ``reserved`` (pages kept
from pods: exported as the kubelet's reservedMemory); mounts take the
hugetlbfs options ``size``, ``minSize``, ``nrInodes``, ``uid``, ``gid``,
``mode``; ``spec.kubelet`` sets what ``export kubelet-config`` cannot learn
from the node (topologyManagerPolicy, topologyManagerScope,
topologyManagerPolicyOptions, cpuManagerPolicy, cpuManagerPolicyOptions,
memoryManagerPolicy, systemReservedMemory, kubeReservedMemory,
evictionHardMemory, evictionHard).  Policy options are the kubelet's
``map[string]string`` (booleans may be written as YAML booleans); their
names, values and the pairs the kubelet refuses together are checked here
(kubernetes pkg/kubelet/cm/cpumanager/policy_options.go,
pkg/kubelet/cm/topologymanager/policy_options.go); whether the chosen
kubelet version has an option is checked by ``export kubelet-config``.
CPU counts (``systemReservedCPUs.count``, ``reservations[].count``) may
be relative, so one profile fits machines of different sizes: ``"50%"``
of the node's online CPUs (rounded down, at least 1) or ``"all-but-N"``
(the online CPUs less N; ``"all"`` is all-but-0).  A hugepage ``count``
may be ``"N%"`` of the memory of its NUMA node (``node`` given) or of the
machine (MemTotal), in whole pages, rounded down.  They are resolved
against the node when the profile is planned (rmctl.planning.amounts);
docs/formats.md is the reference.
``spec.requests`` reserves what a ResourceRequest (issue 6) evaluates to,
exactly as ``rmctl request evaluate FILE --reserve NAME`` does; the request
itself is validated when the profile is planned (rmctl.ops.profile_plan).

Positions come from the node tree (it keeps start marks), the values from
PyYAML's safe constructor over the same tree, so nothing but plain data is
ever constructed; both through rmctl.resources.yamlio's bounded loader
(size, values with aliases counted, depth: issue 15 item 4), so the
position walk, which visits an alias's node each time it is used, does a
bounded amount of work.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError, UsageError
from rmctl.names import NAME_HINT, is_name, path_problem
from rmctl.units import parse_size

PROFILE_API_VERSION = "rmctl.io/v1alpha1"
PROFILE_KIND = "NodeProfile"

#: topologyManagerPolicy values (kubelet KubeletConfiguration, k8s 1.27+)
TOPOLOGY_POLICIES = ("none", "best-effort", "restricted", "single-numa-node")
TOPOLOGY_SCOPES = ("container", "pod")
CPU_POLICIES = ("none", "static")
MEMORY_POLICIES = ("None", "Static")
#: cpuManagerPolicyOptions names (pkg/kubelet/cm/cpumanager/policy_options.go), each a boolean
CPU_POLICY_OPTIONS = ("full-pcpus-only", "distribute-cpus-across-numa", "align-by-socket",
                      "distribute-cpus-across-cores", "strict-cpu-reservation", "prefer-align-cpus-by-uncorecache")
#: pairs NewStaticPolicyOptions refuses together (same file)
CPU_OPTION_CONFLICTS = (("full-pcpus-only", "distribute-cpus-across-cores"),
                        ("distribute-cpus-across-numa", "distribute-cpus-across-cores"),
                        ("prefer-align-cpus-by-uncorecache", "distribute-cpus-across-cores"),
                        ("prefer-align-cpus-by-uncorecache", "distribute-cpus-across-numa"))
#: topologyManagerPolicyOptions names and value kinds (pkg/kubelet/cm/topologymanager/policy_options.go)
TOPOLOGY_POLICY_OPTIONS = {"prefer-closest-numa-nodes": "bool", "max-allowable-numa-nodes": "int"}
#: the strings Go's strconv.ParseBool accepts (the kubelet parses option values with it)
GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
#: eviction signals the kubelet knows on Linux (pkg/kubelet/eviction/api/types.go)
EVICTION_SIGNALS = ("memory.available", "allocatableMemory.available", "nodefs.available", "nodefs.inodesFree",
                    "imagefs.available", "imagefs.inodesFree", "containerfs.available", "containerfs.inodesFree",
                    "pid.available")
#: constraint keys of a reservation, as `rmctl cpu reserve` spells its options
RESERVATION_KEYS = ("name", "count", "cpus", "numa", "socket", "near", "from", "options", "ownerPid")


#: "12.5%": a percentage (up to 100) of a base; "all" / "all-but-N": the base less N
_PERCENT = re.compile(r"(?:100(?:\.0+)?|[0-9]{1,2}(?:\.[0-9]{1,6})?)%")
_ALL_BUT = re.compile(r"all(?:-but-([0-9]{1,9}))?")


@dataclass(frozen=True)
class Relative:
    """A count written relative to the node: ``"N%"`` of a base, or ``"all-but-N"`` (``"all"``).

    The base is the node's (online CPUs, memory in pages): the planner
    resolves it (rmctl.planning.amounts); ``text`` is what the profile said.
    """

    text: str
    percent: str | None = None  #: the percentage's digits ("12.5"), exact
    all_but: int | None = None

    def of(self, base: int) -> int:
        """Return the amount for ``base`` (a percentage rounded down)."""
        from fractions import Fraction

        if self.percent is not None:
            return int(base * Fraction(self.percent) // 100)
        return base - (self.all_but or 0)


class ProfileError(ParseError):
    """A profile field is wrong; the message starts with ``FILE:LINE:COL: FIELD:``."""

    code = "invalid_profile"


@dataclass(frozen=True)
class HugepageEntry:
    page_size: int  #: bytes
    count: int | Relative  #: pages wanted in the pool (Relative until the planner resolves it)
    node: int | None = None  #: None: the global pool
    reserved: int = 0  #: pages kept from pods (kubelet reservedMemory)
    field: str = ""  #: e.g. spec.hugepages[0]


@dataclass(frozen=True)
class MountEntry:
    path: str
    page_size: int
    options: dict[str, str] = field(default_factory=dict)  #: extra hugetlbfs options, kernel names
    field: str = ""


@dataclass(frozen=True)
class ReservationEntry:
    name: str
    count: int | Relative | None = None  #: Relative until the planner resolves it
    cpus: str | None = None
    numa: int | None = None
    socket: int | None = None
    near: str | None = None
    from_cpus: str | None = None
    options: tuple[str, ...] = ()
    owner_pid: int | None = None
    field: str = ""

    def constraints(self) -> dict[str, Any]:
        """Return the constraints as `cpu reserve` takes them (None left out)."""
        d = {"count": self.count, "cpus": self.cpus, "numa": self.numa, "socket": self.socket,
             "near": self.near, "from": self.from_cpus, "options": list(self.options) or None,
             "owner_pid": self.owner_pid}
        return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class RequestEntry:
    """A ``spec.requests`` entry: a ResourceRequest reserved under ``name``."""

    name: str
    file: str | None = None  #: the request file, resolved against the profile's directory
    spec: Any = None  #: or the request's spec, inline (validated by rmctl.ops.profile_plan)
    class_dir: str | None = None  #: extra ResourceClass directory for this request
    field: str = ""


@dataclass(frozen=True)
class KubeletSpec:
    topology_manager_policy: str = "single-numa-node"
    topology_manager_scope: str = "container"
    system_reserved_memory: int = 0
    kube_reserved_memory: int = 0
    #: the kubelet's default hard eviction threshold is memory.available<100Mi
    eviction_hard_memory: int = 100 << 20
    #: None: static when CPUs are reserved, else none (export kubelet-config decides)
    cpu_manager_policy: str | None = None
    cpu_manager_policy_options: tuple[tuple[str, str], ...] = ()  #: (name, value) as the kubelet reads them
    topology_manager_policy_options: tuple[tuple[str, str], ...] = ()
    memory_manager_policy: str = "Static"
    eviction_hard: tuple[tuple[str, str], ...] = ()  #: other signals (memory.available is eviction_hard_memory)
    #: which keys the profile set (export kubelet-config says which values came from the profile)
    given: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeProfile:
    """A validated profile; ``where(field)`` gives ``FILE:LINE:COL`` of a field."""

    name: str
    system_reserved_count: int | Relative | None = None  #: Relative until the planner resolves it
    system_reserved_cpus: str | None = None
    isolated_cpus: str | None = None
    hugepages: tuple[HugepageEntry, ...] = ()
    mounts: tuple[MountEntry, ...] = ()
    reservations: tuple[ReservationEntry, ...] = ()
    kubelet: KubeletSpec = field(default_factory=KubeletSpec)
    source: str = "<profile>"
    raw: dict = field(default_factory=dict, compare=False)
    requests: tuple[RequestEntry, ...] = ()
    text: str = field(default="", compare=False, repr=False)  #: the YAML text (positions of inline requests)
    positions: dict = field(default_factory=dict, compare=False, repr=False)

    def relative(self) -> bool:
        """Return True when a count is still relative (rmctl.planning.amounts.resolve turns them into numbers)."""
        return (isinstance(self.system_reserved_count, Relative) or any(isinstance(h.count, Relative) for h in
                self.hugepages) or any(isinstance(r.count, Relative) for r in self.reservations))

    def where(self, path: str) -> str:
        """Return ``FILE:LINE:COL`` of ``path`` (or of its nearest parent that has one)."""
        p = path
        while p:
            if p in self.positions:
                line, col = self.positions[p]
                return f"{self.source}:{line}:{col}"
            p = _parent(p)
        return self.source

    def error(self, path: str, message: str, hint: str | None = None, cls=ProfileError):
        """Return an error naming the field and its file position."""
        # the document itself has the empty path: say "the document", not ": "
        return cls(f"{self.where(path)}: {path or 'the document'}: {message}", hint=hint,
                   details={"field": path, "position": self.where(path)})


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[:path.rindex("[")]
    return path.rpartition(".")[0]


# -- positions -----------------------------------------------------------------

def _positions(node, path: str, out: dict, dups: list) -> None:
    import yaml

    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            key = str(k.value)
            sub = f"{path}.{key}" if path else key
            if key in seen:
                dups.append((sub, (k.start_mark.line + 1, k.start_mark.column + 1)))
            seen.add(key)
            out[sub] = (k.start_mark.line + 1, k.start_mark.column + 1)
            _positions(v, sub, out, dups)
            out[sub] = (k.start_mark.line + 1, k.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _positions(v, f"{path}[{i}]", out, dups)


# -- loading -------------------------------------------------------------------

def load_profile(path: str) -> NodeProfile:
    """Return the validated profile in file ``path`` (``-`` reads stdin), read within MAX_YAML_BYTES."""
    from rmctl.resources.yamlio import read_bounded

    try:
        text = read_bounded(path)
    except FileNotFoundError:
        raise UsageError(f"profile {path!r} does not exist", hint="give -f a NodeProfile YAML file") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text", hint="give -f a NodeProfile YAML file") from None
    except OSError as e:
        raise UsageError(f"cannot read profile {path!r}: {e.strerror}") from None
    return parse_profile(text, "<stdin>" if path == "-" else path)


def parse_profile(text: str, source: str = "<profile>") -> NodeProfile:
    """Return the validated profile in ``text``; errors say FILE:LINE:COL: FIELD: what."""
    try:
        return _parse_profile(text, source)
    except RecursionError:
        # the loader's depth budget comes first; kept as a last guard
        raise ProfileError(f"{source}: YAML nested too deeply (or an alias refers to itself)",
                           hint="a NodeProfile is plain YAML data a few levels deep") from None


def _parse_profile(text: str, source: str) -> NodeProfile:
    import yaml

    from rmctl.resources.yamlio import BudgetError, compose_single

    if "\0" in text:
        raise ProfileError(f"{source}: binary data, not a YAML text")
    positions: dict = {}
    dups: list = []
    try:
        _tree, data = compose_single(text, source, lambda node: _positions(node, "", positions, dups))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if isinstance(e, BudgetError):
            raise ProfileError(f"{pos}: {problem}", hint="rmctl reads YAML within limits (docs/security.md)") from None
        raise ProfileError(f"{pos}: not valid YAML: {problem}") from None
    v = _Validator(source, positions)
    if dups:
        f, (line, col) = dups[0]
        raise ProfileError(f"{source}:{line}:{col}: {f}: given twice")
    return v.profile(data, text)


class _Validator:
    def __init__(self, source: str, positions: dict):
        self.source = source
        self.positions = positions

    def err(self, path: str, message: str, hint: str | None = None) -> ProfileError:
        return NodeProfile(name="", source=self.source, positions=self.positions).error(path, message, hint)

    # -- scalar helpers ------------------------------------------------------
    def mapping(self, value, path: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.err(path, f"must be a mapping, not {_typename(value)}")
        for k in value:
            if k not in allowed:
                raise self.err(f"{path}.{k}" if path else str(k), f"unknown field {k!r}",
                               hint="allowed here: " + ", ".join(allowed))
        return value

    def integer(self, value, path: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.err(path, f"must be an integer, not {_typename(value)} {value!r}")
        if value < minimum:
            raise self.err(path, f"must be >= {minimum}, not {value}")
        return value

    def amount(self, value, path: str, minimum: int, *, all_but: bool = True) -> int | Relative:
        """Return an integer count, or a Relative one ("50%", "all-but-1", "all"; docs/formats.md)."""
        if isinstance(value, str):
            text = value.strip()
            if _PERCENT.fullmatch(text):
                if float(text[:-1]) <= 0:
                    raise self.err(path, f"{value!r}: a percentage above 0%")
                return Relative(text, percent=text[:-1])
            m = _ALL_BUT.fullmatch(text)
            if m and all_but:
                return Relative(text, all_but=int(m.group(1) or 0))
            forms = '"N%" (of the node)' + (', "all" or "all-but-N"' if all_but else "")
            raise self.err(path, f"must be an integer or {forms}, not {value!r}",
                           hint="relative counts: docs/formats.md" + ("" if all_but else
                                                                      " (hugepage counts: a percentage of memory)"))
        return self.integer(value, path, minimum)

    def string(self, value, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.err(path, f"must be a string, not {_typename(value)}")
        return str(value)

    def cpulist(self, value, path: str) -> str:
        text = self.string(value, path)
        try:
            cs = CpuSet.parse(text)
        except ParseError as e:
            raise self.err(path, str(e)) from None
        if not cs:
            raise self.err(path, "empty CPU list")
        return cs.to_list()

    def size(self, value, path: str) -> int:
        try:
            return parse_size(value if isinstance(value, (int, str)) and not isinstance(value, bool)
                              else str(value), what="size")
        except ParseError as e:
            raise self.err(path, str(e)) from None

    def items(self, value, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.err(path, f"must be a list, not {_typename(value)}")
        return value

    # -- the document --------------------------------------------------------
    def profile(self, data, text: str = "") -> NodeProfile:
        if data is None:
            raise self.err("", "empty document", hint="a NodeProfile has apiVersion, kind, metadata and spec")
        top = self.mapping(data, "", ("apiVersion", "kind", "metadata", "spec"))
        if top.get("apiVersion") != PROFILE_API_VERSION:
            raise self.err("apiVersion", f"must be {PROFILE_API_VERSION!r}, not {top.get('apiVersion')!r}")
        if top.get("kind") != PROFILE_KIND:
            raise self.err("kind", f"must be {PROFILE_KIND!r}, not {top.get('kind')!r}")
        meta = self.mapping(top.get("metadata"), "metadata", ("name", "labels", "annotations"))
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            raise self.err("metadata.name" if "name" in meta else "metadata", "a non-empty name is required")
        if not is_name(name):
            raise self.err("metadata.name", f"{name!r} is not a valid name", hint=NAME_HINT)
        spec = top.get("spec") or {}
        spec = self.mapping(spec, "spec", ("systemReservedCPUs", "isolatedCPUs", "hugepages", "mounts",
                                           "reservations", "kubelet", "requests"))
        kw: dict[str, Any] = {}
        if spec.get("systemReservedCPUs") is not None:
            p = "spec.systemReservedCPUs"
            s = self.mapping(spec["systemReservedCPUs"], p, ("count", "cpus"))
            if ("count" in s) == ("cpus" in s):
                raise self.err(p, "give exactly one of count or cpus")
            if "count" in s:
                kw["system_reserved_count"] = self.amount(s["count"], f"{p}.count", 1)
            else:
                kw["system_reserved_cpus"] = self.cpulist(s["cpus"], f"{p}.cpus")
        if spec.get("isolatedCPUs") is not None:
            p = "spec.isolatedCPUs"
            s = self.mapping(spec["isolatedCPUs"], p, ("cpus",))
            if "cpus" not in s:
                raise self.err(p, "cpus is required")
            kw["isolated_cpus"] = self.cpulist(s["cpus"], f"{p}.cpus")
        kw["hugepages"] = tuple(self.hugepages(spec.get("hugepages")))
        kw["mounts"] = tuple(self.mounts(spec.get("mounts")))
        kw["reservations"] = tuple(self.reservations(spec.get("reservations")))
        if spec.get("kubelet") is not None:
            kw["kubelet"] = self.kubelet(spec["kubelet"])
        kw["requests"] = tuple(self.requests(spec.get("requests"), kw["reservations"]))
        return NodeProfile(name=name, source=self.source, raw=data, positions=self.positions, text=text, **kw)

    def requests(self, value, reservations) -> list[RequestEntry]:
        # one name space with spec.reservations: both are reservations in the same state file
        seen = {r.name: r.field for r in reservations}
        base = os.path.dirname(os.path.abspath(self.source)) if not self.source.startswith("<") else os.getcwd()
        out = []
        for i, item in enumerate(self.items(value, "spec.requests")):
            p = f"spec.requests[{i}]"
            m = self.mapping(item, p, ("name", "file", "spec", "classDir"))
            name = self.entry_name(m, p, seen)
            if ("file" in m) == ("spec" in m):
                raise self.err(p, "give exactly one of file (a ResourceRequest YAML) or spec (inline)")
            file = spec = class_dir = None
            if "file" in m:
                file = os.path.join(base, os.path.expanduser(self.string(m["file"], f"{p}.file")))
            else:
                spec = m["spec"]
                if not isinstance(spec, dict):
                    raise self.err(f"{p}.spec", f"must be a mapping (a ResourceRequest spec), not {_typename(spec)}")
            if m.get("classDir") is not None:
                class_dir = os.path.join(base, os.path.expanduser(self.string(m["classDir"], f"{p}.classDir")))
            out.append(RequestEntry(name=name, file=file, spec=spec, class_dir=class_dir, field=p))
        return out

    def hugepages(self, value) -> list[HugepageEntry]:
        out: list[HugepageEntry] = []
        seen: dict[tuple, str] = {}
        for i, item in enumerate(self.items(value, "spec.hugepages")):
            p = f"spec.hugepages[{i}]"
            m = self.mapping(item, p, ("pageSize", "count", "node", "reserved"))
            for req in ("pageSize", "count"):
                if req not in m:
                    raise self.err(p, f"{req} is required")
            size = self.size(m["pageSize"], f"{p}.pageSize")
            count = self.amount(m["count"], f"{p}.count", 0, all_but=False)
            node = self.integer(m["node"], f"{p}.node", 0) if m.get("node") is not None else None
            reserved = self.integer(m.get("reserved", 0), f"{p}.reserved", 0)
            if reserved and node is None:
                raise self.err(f"{p}.reserved", "reserved pages need a node (the kubelet reserves memory per NUMA node)")
            if isinstance(count, int) and reserved > count:  # a relative count: checked when resolved
                raise self.err(f"{p}.reserved", f"{reserved} reserved pages exceed count {count}")
            key = (size, node)
            if key in seen:
                raise self.err(p, f"same pageSize and node as {seen[key]}")
            seen[key] = p
            out.append(HugepageEntry(page_size=size, count=count, node=node, reserved=reserved, field=p))
        return out

    def mounts(self, value) -> list[MountEntry]:
        out: list[MountEntry] = []
        seen: dict[str, str] = {}
        opt_names = {"size": "size", "minSize": "min_size", "nrInodes": "nr_inodes",
                     "uid": "uid", "gid": "gid", "mode": "mode"}
        for i, item in enumerate(self.items(value, "spec.mounts")):
            p = f"spec.mounts[{i}]"
            m = self.mapping(item, p, ("path", "pageSize", *opt_names))
            for req in ("path", "pageSize"):
                if req not in m:
                    raise self.err(p, f"{req} is required")
            path = self.string(m["path"], f"{p}.path")
            why = path_problem(path)
            if why is not None:
                raise self.err(f"{p}.path", f"{why}, not {path!r}")
            path = os.path.normpath(path)
            if path in seen:
                raise self.err(f"{p}.path", f"{path} already mounted by {seen[path]}")
            seen[path] = p
            opts = {}
            for key, kernel in opt_names.items():
                if key in m:
                    val = m[key]
                    if key in ("size", "minSize") and not (isinstance(val, str) and val.endswith("%")):
                        self.size(val, f"{p}.{key}")
                    elif key in ("nrInodes", "uid", "gid"):
                        self.integer(val, f"{p}.{key}", 0)
                    elif key == "mode":
                        sval = str(val)
                        if not re.fullmatch(r"0?[0-7]{3,4}", sval):
                            raise self.err(f"{p}.{key}", f"must be an octal mode like \"0770\", not {val!r}")
                    opts[kernel] = str(val)
            out.append(MountEntry(path=path, page_size=self.size(m["pageSize"], f"{p}.pageSize"),
                                  options=opts, field=p))
        return out

    def entry_name(self, m: dict, p: str, seen: dict) -> str:
        """Return the valid, not yet used ``name`` of entry ``p``; names share one namespace."""
        if "name" not in m:
            raise self.err(p, "name is required")
        name = self.string(m["name"], f"{p}.name")
        if not is_name(name):  # the one name rule (rmctl.names): it becomes a reservation and a cgroup
            raise self.err(f"{p}.name", f"{name!r} is not a valid name", hint=NAME_HINT)
        if name in seen:
            raise self.err(f"{p}.name", f"{name!r} already defined by {seen[name]}")
        seen[name] = p
        return name

    def reservations(self, value) -> list[ReservationEntry]:
        out: list[ReservationEntry] = []
        seen: dict[str, str] = {}
        for i, item in enumerate(self.items(value, "spec.reservations")):
            p = f"spec.reservations[{i}]"
            m = self.mapping(item, p, RESERVATION_KEYS)
            name = self.entry_name(m, p, seen)
            if ("count" in m) == ("cpus" in m):
                raise self.err(p, "give exactly one of count or cpus")
            opts = m.get("options") or []
            if isinstance(opts, str):
                opts = [opts]
            opts = [self.string(o, f"{p}.options[{j}]") for j, o in enumerate(self.items(opts, f"{p}.options"))]
            out.append(ReservationEntry(
                name=name,
                count=self.amount(m["count"], f"{p}.count", 1) if "count" in m else None,
                cpus=self.cpulist(m["cpus"], f"{p}.cpus") if "cpus" in m else None,
                numa=self.integer(m["numa"], f"{p}.numa", 0) if m.get("numa") is not None else None,
                socket=self.integer(m["socket"], f"{p}.socket", 0) if m.get("socket") is not None else None,
                near=self.string(m["near"], f"{p}.near") if m.get("near") is not None else None,
                from_cpus=self.cpulist(m["from"], f"{p}.from") if m.get("from") is not None else None,
                options=tuple(opts),
                owner_pid=self.integer(m["ownerPid"], f"{p}.ownerPid", 1) if m.get("ownerPid") is not None else None,
                field=p,
            ))
        return out

    def kubelet(self, value) -> KubeletSpec:
        p = "spec.kubelet"
        m = self.mapping(value, p, ("topologyManagerPolicy", "topologyManagerScope", "topologyManagerPolicyOptions",
                                    "cpuManagerPolicy", "cpuManagerPolicyOptions", "memoryManagerPolicy",
                                    "systemReservedMemory", "kubeReservedMemory", "evictionHardMemory",
                                    "evictionHard"))
        kw: dict[str, Any] = {"given": tuple(m)}
        for key, attr, allowed in (("topologyManagerPolicy", "topology_manager_policy", TOPOLOGY_POLICIES),
                                   ("topologyManagerScope", "topology_manager_scope", TOPOLOGY_SCOPES),
                                   ("cpuManagerPolicy", "cpu_manager_policy", CPU_POLICIES),
                                   ("memoryManagerPolicy", "memory_manager_policy", MEMORY_POLICIES)):
            if key in m:
                if m[key] not in allowed:
                    raise self.err(f"{p}.{key}", f"must be one of {', '.join(allowed)}, not {m[key]!r}")
                kw[attr] = m[key]
        for key, attr in (("systemReservedMemory", "system_reserved_memory"),
                          ("kubeReservedMemory", "kube_reserved_memory"),
                          ("evictionHardMemory", "eviction_hard_memory")):
            if key in m:
                kw[attr] = self.size(m[key], f"{p}.{key}")
        if m.get("cpuManagerPolicyOptions") is not None:
            kw["cpu_manager_policy_options"] = self.cpu_options(m["cpuManagerPolicyOptions"],
                                                                f"{p}.cpuManagerPolicyOptions")
            if kw.get("cpu_manager_policy") == "none" and kw["cpu_manager_policy_options"]:
                raise self.err(f"{p}.cpuManagerPolicyOptions", "the none policy takes no options",
                               hint="the kubelet refuses them (cpumanager NewNonePolicy); drop the options "
                                    "or set cpuManagerPolicy: static")
        if m.get("topologyManagerPolicyOptions") is not None:
            kw["topology_manager_policy_options"] = self.topology_options(
                m["topologyManagerPolicyOptions"], f"{p}.topologyManagerPolicyOptions")
        if m.get("evictionHard") is not None:
            ev = self.eviction(m["evictionHard"], f"{p}.evictionHard", "evictionHardMemory" in m)
            for k, v in ev:
                if k == "memory.available":  # one place for it: the Memory Manager sums it
                    kw["eviction_hard_memory"] = parse_size(v, what="size")
            kw["eviction_hard"] = tuple((k, v) for k, v in ev if k != "memory.available")
        return KubeletSpec(**kw)

    def option_value(self, value, path: str) -> str:
        """Return an option value as the kubelet's map[string]string holds it (YAML true -> "true")."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int) or isinstance(value, str):
            return str(value)
        raise self.err(path, f"must be a string, boolean or integer, not {_typename(value)}")

    def cpu_options(self, value, path: str) -> tuple[tuple[str, str], ...]:
        m = self.mapping(value, path, CPU_POLICY_OPTIONS)
        out = []
        for k, v in m.items():
            sv = self.option_value(v, f"{path}.{k}")
            if sv not in GO_BOOLS:
                raise self.err(f"{path}.{k}", f"{sv!r} is not a boolean the kubelet parses",
                               hint="true or false (Go strconv.ParseBool)")
            out.append((k, sv))
        on = {k for k, v in out if GO_BOOLS[v]}
        for a, b in CPU_OPTION_CONFLICTS:
            if a in on and b in on:
                raise self.err(path, f"{a} and {b} cannot be used together",
                               hint="the kubelet refuses the pair (cpumanager NewStaticPolicyOptions)")
        return tuple(sorted(out))

    def topology_options(self, value, path: str) -> tuple[tuple[str, str], ...]:
        m = self.mapping(value, path, tuple(TOPOLOGY_POLICY_OPTIONS))
        out = []
        for k, v in m.items():
            sv = self.option_value(v, f"{path}.{k}")
            if TOPOLOGY_POLICY_OPTIONS[k] == "bool" and sv not in GO_BOOLS:
                raise self.err(f"{path}.{k}", f"{sv!r} is not a boolean the kubelet parses",
                               hint="true or false (Go strconv.ParseBool)")
            if TOPOLOGY_POLICY_OPTIONS[k] == "int" and not re.fullmatch(r"[+-]?[0-9]+", sv):
                raise self.err(f"{path}.{k}", f"{sv!r} is not an integer (Go strconv.Atoi)")
            out.append((k, sv))
        return tuple(sorted(out))

    def eviction(self, value, path: str, memory_given: bool) -> tuple[tuple[str, str], ...]:
        m = self.mapping(value, path, EVICTION_SIGNALS)
        out = []
        for k, v in m.items():
            sv = self.string(v, f"{path}.{k}").strip()
            if sv.endswith("%"):
                try:
                    pct = float(sv[:-1])
                except ValueError:
                    raise self.err(f"{path}.{k}", f"{sv!r} is not a percentage") from None
                if not 0 <= pct <= 100:
                    raise self.err(f"{path}.{k}", f"{sv!r}: a percentage between 0% and 100%")
                if k == "memory.available":
                    raise self.err(f"{path}.{k}", "give memory.available as a size (evictionHardMemory)",
                                   hint="the Memory Manager's reservedMemory must add up to it exactly, "
                                        "so rmctl needs it in bytes")
            else:
                try:
                    parse_size(sv, what="size")
                except ParseError as e:
                    raise self.err(f"{path}.{k}", str(e)) from None
            if k == "memory.available" and memory_given:
                raise self.err(f"{path}.{k}", "also given as spec.kubelet.evictionHardMemory; give it once")
            out.append((k, sv))
        return tuple(sorted(out))


def _typename(v) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(v), type(v).__name__)
