"""ResourceRequest: what a workload needs on one node.

Shape (issue 6; extend, never change)::

    apiVersion: rmctl.io/v1alpha1
    kind: ResourceRequest
    metadata: {name: train}
    spec:
      topologyPolicy: single-numa-node      # none | best-effort | restricted | single-numa-node
      cpus: {count: 8, wholeCores: false}
      memory: 16Gi
      hugepages: {2Mi: 1Gi}
      devices:
      - name: gpu
        class: gpu
        count: 1                             # or allocationMode: All
        selectors:
        - cel: 'device.attributes["rmctl.io"].vendor == "0x10de"'
      # firstAvailable: [{name, class, count, selectors}, ...] instead of class (DRA prioritized list)
      constraints:
      - matchAttribute: resource.kubernetes.io/numaNode
        requests: [gpu]                      # default: every device request

Sizes (memory, hugepages) are Kubernetes quantities (``16Gi``, ``16G`` =
16*10^9) and must be whole bytes; hugepage sizes accept ``2Mi``/``2M``/
``1Gi``/``2048kB`` (page sizes are binary: ``2M`` is 2 MiB, as the kernel
means it).  A file may hold ResourceClass documents before the request;
they are added to the classes for this evaluation.
"""

from __future__ import annotations

from rmctl.model.value import field, value
from rmctl.resources.attribute_names import match_attribute_problem
from rmctl.resources.classes import ClassSelector, ResourceClass, _check_header, class_from_document, parse_selectors
from rmctl.resources.yamlio import InputError, Reader, item_pos, pos, read_documents
from rmctl.units import parse_size

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

POLICIES = ("none", "best-effort", "restricted", "single-numa-node")
ALLOCATION_MODES = ("ExactCount", "All")


@value
class DeviceChoice:
    """One way to satisfy a device request: a class, a count (or All), extra selectors."""

    name: str
    class_name: str
    count: int = 1
    all: bool = False
    selectors: list[ClassSelector] = field(default_factory=list)
    where: str = ""

    def to_data(self) -> dict:
        return {"name": self.name, "class": self.class_name,
                "allocationMode": "All" if self.all else "ExactCount",
                "count": None if self.all else self.count,
                "selectors": [s.cel for s in self.selectors]}


@value
class DeviceRequest:
    """A named device request: one choice, or ``firstAvailable`` alternatives in order."""

    name: str
    choices: list[DeviceChoice]
    first_available: bool = False
    where: str = ""

    def to_data(self) -> dict:
        d: dict[str, Any] = {"name": self.name}
        if self.first_available:
            d["firstAvailable"] = [c.to_data() for c in self.choices]
        else:
            d.update({k: v for k, v in self.choices[0].to_data().items() if k != "name"})
        return d


@value
class Constraint:
    """``matchAttribute``: every device of ``requests`` has the same value of ``attribute``."""

    attribute: str
    requests: list[str]  #: empty: all device requests
    where: str = ""

    def to_data(self) -> dict:
        return {"matchAttribute": self.attribute, "requests": list(self.requests)}


@value
class ResourceRequest:
    """A loaded, validated request; sizes in bytes, page sizes in bytes."""

    name: str
    policy: str = "none"
    policy_given: bool = False  #: spec.topologyPolicy was written (a --kubelet-config then does not override it)
    cpus: int = 0
    whole_cores: bool = False
    memory: int = 0
    hugepages: dict[int, int] = field(default_factory=dict)  #: page size -> bytes wanted
    devices: list[DeviceRequest] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    source: str = ""
    classes: dict[str, ResourceClass] = field(default_factory=dict)  #: classes defined in the request file

    def to_data(self) -> dict:
        return {"name": self.name, "topologyPolicy": self.policy,
                "cpus": {"count": self.cpus, "wholeCores": self.whole_cores},
                "memory": self.memory, "hugepages": {str(k): v for k, v in sorted(self.hugepages.items())},
                "devices": [d.to_data() for d in self.devices],
                "constraints": [c.to_data() for c in self.constraints]}


def _quantity_bytes(rd: Reader, value, path: str, parent, key) -> int:
    from rmctl.resources.cel import parse_quantity

    if isinstance(value, bool):
        rd.fail(pos(parent, key), path, "expected a size such as 16Gi")
    if isinstance(value, int):
        if value < 0:
            rd.fail(pos(parent, key), path, "must not be negative")
        return value
    try:
        v = parse_quantity(str(value))
    except ValueError:
        rd.fail(pos(parent, key), path, f"bad size {value!r}: expected a Kubernetes quantity such as 16Gi or 16G")
    if v < 0 or v.denominator != 1:
        rd.fail(pos(parent, key), path, f"bad size {value!r}: must be a whole, non-negative number of bytes")
    return v.numerator


def _page_size(rd: Reader, key, parent, path: str) -> int:
    try:
        return parse_size(str(key), what="hugepage size")
    except Exception:
        rd.fail(pos(parent, key), path, f"bad hugepage size {key!r}: expected 2Mi, 1Gi, 2048kB...")


def _choice(rd: Reader, item, path: str, default_name: str, *, named: bool) -> DeviceChoice:
    allowed = {"name", "class", "deviceClassName", "count", "allocationMode", "selectors"}
    rd.mapping(item, path, allowed=allowed)
    name = rd.string(item["name"], f"{path}.name", item, "name") if "name" in item else default_name
    if named and "name" not in item:
        rd.fail(pos(item), path, "missing required field 'name'")
    cls_key = "class" if "class" in item else ("deviceClassName" if "deviceClassName" in item else None)
    if cls_key is None:
        rd.fail(pos(item), path, "missing required field 'class' (or firstAvailable)")
    cls = rd.string(item[cls_key], f"{path}.{cls_key}", item, cls_key)
    mode = item.get("allocationMode", "ExactCount")
    if mode not in ALLOCATION_MODES:
        rd.fail(pos(item, "allocationMode"), f"{path}.allocationMode",
                f"must be one of {', '.join(ALLOCATION_MODES)}, got {mode!r}")
    is_all = mode == "All"
    if is_all and "count" in item:
        rd.fail(pos(item, "count"), f"{path}.count", "count cannot be given with allocationMode: All")
    count = rd.integer(item["count"], f"{path}.count", item, "count", minimum=1) if "count" in item else 1
    sels = parse_selectors(rd, item, "selectors", f"{path}.selectors") if "selectors" in item else []
    return DeviceChoice(name, cls, count, is_all, sels, f"{rd.filename}:{pos(item, cls_key)}")


def request_from_document(doc, filename: str, index: int = 0) -> ResourceRequest:
    """Return the request one document describes; raise InputError with file:line:col."""
    rd = Reader(filename)
    doc, name = _check_header(rd, doc, "ResourceRequest", index)
    spec = rd.mapping(doc["spec"], "spec", doc, "spec",
                      allowed={"topologyPolicy", "cpus", "memory", "hugepages", "devices", "constraints"})
    req = ResourceRequest(name=name, source=filename)
    if "topologyPolicy" in spec:
        p = spec["topologyPolicy"]
        if p not in POLICIES:
            rd.fail(pos(spec, "topologyPolicy"), "spec.topologyPolicy",
                    f"must be one of {', '.join(POLICIES)}, got {p!r}")
        req.policy = p
        req.policy_given = True
    if "cpus" in spec:
        c = spec["cpus"]
        if isinstance(c, int) and not isinstance(c, bool):  # shorthand: cpus: 8
            req.cpus = rd.integer(c, "spec.cpus", spec, "cpus")
        else:
            rd.mapping(c, "spec.cpus", spec, "cpus", allowed={"count", "wholeCores"}, required=("count",))
            req.cpus = rd.integer(c["count"], "spec.cpus.count", c, "count")
            if "wholeCores" in c:
                req.whole_cores = rd.boolean(c["wholeCores"], "spec.cpus.wholeCores", c, "wholeCores")
    if "memory" in spec:
        req.memory = _quantity_bytes(rd, spec["memory"], "spec.memory", spec, "memory")
    if "hugepages" in spec:
        hp = rd.mapping(spec["hugepages"], "spec.hugepages", spec, "hugepages")
        for k, v in hp.items():
            size = _page_size(rd, k, hp, f"spec.hugepages.{k}")
            amount = _quantity_bytes(rd, v, f"spec.hugepages.{k}", hp, k)
            if amount % size:
                rd.fail(pos(hp, k), f"spec.hugepages.{k}", f"{v} is not a whole number of {k} pages")
            req.hugepages[size] = req.hugepages.get(size, 0) + amount
    names: set[str] = set()
    if "devices" in spec:
        devs = rd.seq(spec["devices"], "spec.devices", spec, "devices")
        for i, item in enumerate(devs):
            path = f"spec.devices[{i}]"
            if not isinstance(item, dict):
                rd.fail(item_pos(devs, i), path, "expected a mapping")
            if "firstAvailable" in item:
                rd.mapping(item, path, allowed={"name", "firstAvailable"}, required=("name",))
                dname = rd.string(item["name"], f"{path}.name", item, "name")
                alts = rd.seq(item["firstAvailable"], f"{path}.firstAvailable", item, "firstAvailable")
                if not alts:
                    rd.fail(pos(item, "firstAvailable"), f"{path}.firstAvailable", "needs at least one alternative")
                choices = []
                for j, alt in enumerate(alts):
                    apath = f"{path}.firstAvailable[{j}]"
                    if not isinstance(alt, dict):
                        rd.fail(item_pos(alts, j), apath, "expected a mapping")
                    choices.append(_choice(rd, alt, apath, f"{dname}/{j}", named=False))
                dreq = DeviceRequest(dname, choices, True, f"{filename}:{pos(item)}")
            else:
                ch = _choice(rd, item, path, "", named=True)
                dreq = DeviceRequest(ch.name, [ch], False, ch.where)
            if dreq.name in names:
                rd.fail(pos(item, "name"), f"{path}.name", f"duplicate device request name {dreq.name!r}")
            names.add(dreq.name)
            req.devices.append(dreq)
    if "constraints" in spec:
        cons = rd.seq(spec["constraints"], "spec.constraints", spec, "constraints")
        for i, item in enumerate(cons):
            path = f"spec.constraints[{i}]"
            if not isinstance(item, dict):
                rd.fail(item_pos(cons, i), path, "expected a mapping")
            rd.mapping(item, path, allowed={"matchAttribute", "requests"}, required=("matchAttribute",))
            attr = rd.string(item["matchAttribute"], f"{path}.matchAttribute", item, "matchAttribute")
            why = match_attribute_problem(attr)
            if why:  # a name rmctl's own domain does not have: no device could ever satisfy it
                msg, _, hint = why.partition("; ")
                rd.fail(pos(item, "matchAttribute"), f"{path}.matchAttribute", msg, hint=hint)
            reqs: list[str] = []
            if "requests" in item:
                lst = rd.seq(item["requests"], f"{path}.requests", item, "requests")
                for j, r in enumerate(lst):
                    if r not in names:
                        rd.fail(item_pos(lst, j), f"{path}.requests[{j}]",
                                f"no device request named {r!r}" + (f" (requests: {', '.join(sorted(names))})" if names else ""))
                    reqs.append(r)
            req.constraints.append(Constraint(attr, reqs, f"{filename}:{pos(item)}"))
    return req


def load_request(path: str) -> ResourceRequest:
    """Return the one ResourceRequest of a file (ResourceClass documents may come along)."""
    return request_from_documents(read_documents(path), path)


def request_from_documents(docs: list, path: str) -> ResourceRequest:
    """Return the one ResourceRequest of a file's documents (ResourceClass documents may come along)."""
    request = None
    classes: dict[str, ResourceClass] = {}
    for i, doc in enumerate(docs):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind == "ResourceClass":
            c = class_from_document(doc, path, i)
            classes[c.name] = c
        elif kind == "ResourceRequest":
            if request is not None:
                raise InputError(f"{path}:{pos(doc)}: more than one ResourceRequest in the file",
                                 hint="evaluate one request per file")
            request = request_from_document(doc, path, i)
        else:
            where = pos(doc, "kind") if isinstance(doc, dict) and "kind" in doc else (pos(doc) if isinstance(doc, dict) else "1:1")
            raise InputError(f"{path}:{where}: unknown kind {kind!r}",
                             hint="a request file holds one kind: ResourceRequest (and optionally ResourceClass documents)")
    if request is None:
        raise InputError(f"{path}: no ResourceRequest document", hint="see 'rmctl request evaluate --help' for the shape")
    request.classes = classes
    return request


def check_classes(request: ResourceRequest, classes: dict[str, ResourceClass]) -> None:
    """Raise InputError when a device request names a class that does not exist."""
    from rmctl.resources.classes import unknown_class

    for d in request.devices:
        for ch in d.choices:
            if ch.class_name not in classes:
                raise unknown_class(ch.class_name, classes, ch.where)
