"""DRA objects as input: DeviceClass, ResourceClaim and ResourceClaimTemplate (resource.k8s.io).

Field names, shapes and limits are the API's (kubernetes
staging/src/k8s.io/api/resource/{v1,v1beta2,v1beta1}/types.go and
pkg/apis/resource/validation/validation.go):

* v1 and v1beta2 (1.33+): a request holds either ``exactly``
  (``deviceClassName``, ``selectors``, ``allocationMode``, ``count``) or
  ``firstAvailable`` (at most 8 subrequests with the same fields);
* v1beta1 (1.32): the ``exactly`` fields sit on the request itself, and
  ``firstAvailable`` excludes them;
* ``allocationMode`` is ``ExactCount`` (the default, ``count`` defaults
  to 1 and must be above 0) or ``All`` (``count`` must not be set);
* at most 32 requests, 32 selectors, 32 constraints and 32 configs per
  claim; names are DNS labels; ``matchAttribute`` is a fully qualified
  ``DOMAIN/NAME``; a selector is ``{cel: {expression: ...}}``, compiled
  here (rmctl.resources.cel, DRA's dialect and limits).

They become rmctl's own shapes (a DeviceClass is a
:class:`~rmctl.resources.classes.ResourceClass`, a claim's requests
:class:`~rmctl.resources.request.DeviceRequest`), so the planner
evaluates them exactly as rmctl's ResourceRequest.  What does not change
which devices are allocated is reported, not evaluated: ``config`` (it
configures the driver after allocation: "It is ignored while allocating
the claim", types.go), ``tolerations`` (rmctl's devices carry no taints).
What would change the answer and rmctl cannot evaluate is refused with
the field named: ``adminAccess``, ``capacity`` (DRAConsumableCapacity),
``derivedAttributes``, ``distinctAttribute``, a constraint naming a
subrequest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rmctl.resources.classes import ClassSelector, ResourceClass
from rmctl.resources.kube.common import (
    DNS_SUBDOMAIN,
    dns_label,
    fully_qualified,
    meta,
    seq_of_maps,
    where,
)
from rmctl.resources.request import Constraint, DeviceChoice, DeviceRequest
from rmctl.resources.yamlio import Reader, item_pos, pos

GROUP = "resource.k8s.io"
VERSIONS = ("v1", "v1beta2", "v1beta1")
KINDS = ("DeviceClass", "ResourceClaim", "ResourceClaimTemplate")

MAX_REQUESTS = 32  # DeviceRequestsMaxSize (AllocationResultsMaxSize)
MAX_SELECTORS = 32  # DeviceSelectorsMaxSize
MAX_SUBREQUESTS = 8  # FirstAvailableDeviceRequestMaxSize
MAX_CONSTRAINTS = 32  # DeviceConstraintsMaxSize
MAX_CONFIGS = 32  # DeviceConfigMaxSize
MAX_TOLERATIONS = 16  # DeviceTolerationsMaxLength

_EXACT = {"deviceClassName", "selectors", "allocationMode", "count", "adminAccess", "tolerations", "capacity",
          "derivedAttributes"}
_SUB = {"name", "deviceClassName", "selectors", "allocationMode", "count", "tolerations", "capacity",
        "derivedAttributes"}
#: not evaluated by rmctl; each would change which devices are allocated
_REFUSED = {
    "adminAccess": "admin access ignores other allocations (DRAAdminAccess)",
    "capacity": "consumable capacity requests (DRAConsumableCapacity)",
    "derivedAttributes": "derived attributes (DRADerivedAttributes)",
}


@dataclass
class Claim:
    """A ResourceClaim, or the claim a ResourceClaimTemplate makes for each pod.

    ``requests`` carry the claim's own request names; ``constraints`` name
    them explicitly (an empty ``requests`` list in the manifest means all).
    """

    name: str
    namespace: str
    template: bool
    api_version: str
    requests: list[DeviceRequest]
    constraints: list[Constraint] = field(default_factory=list)
    where: str = ""
    notes: list[str] = field(default_factory=list)

    def ref(self) -> str:
        kind = "ResourceClaimTemplate" if self.template else "ResourceClaim"
        return f"{kind} {self.namespace}/{self.name}"


def version_of(rd: Reader, doc: dict) -> str:
    """Return v1, v1beta2 or v1beta1 from ``apiVersion: resource.k8s.io/VERSION``."""
    api = doc.get("apiVersion")
    group, _, version = str(api).partition("/")
    if group != GROUP or version not in VERSIONS:
        rd.fail(pos(doc, "apiVersion"), "apiVersion",
                f"unsupported {api!r}; expected {', '.join(GROUP + '/' + v for v in VERSIONS)}")
    return version


def _selectors(rd: Reader, obj: dict, path: str) -> list[ClassSelector]:
    from rmctl.resources.cel import compile_selector

    out = []
    for i, item in enumerate(seq_of_maps(rd, obj, "selectors", path, max_items=MAX_SELECTORS)):
        ipath = f"{path}[{i}]"
        rd.mapping(item, ipath, allowed={"cel"}, required=("cel",))
        cel = rd.mapping(item["cel"], f"{ipath}.cel", item, "cel", allowed={"expression"}, required=("expression",))
        text = rd.string(cel["expression"], f"{ipath}.cel.expression", cel, "expression")
        at = where(rd, cel, "expression")
        out.append(ClassSelector(text, at, compile_selector(text, at)))
    return out


def _configs(rd: Reader, obj: dict, path: str, *, claim: bool) -> int:
    """Check ``config`` entries (opaque driver configuration) and return how many there are."""
    items = seq_of_maps(rd, obj, "config", path, max_items=MAX_CONFIGS)
    for i, item in enumerate(items):
        ipath = f"{path}[{i}]"
        rd.mapping(item, ipath, allowed={"opaque", "requests"} if claim else {"opaque"})
        if "opaque" in item:
            op = rd.mapping(item["opaque"], f"{ipath}.opaque", item, "opaque",
                            allowed={"driver", "parameters"}, required=("driver",))
            rd.string(op["driver"], f"{ipath}.opaque.driver", op, "driver")
    return len(items)


def device_class(doc: dict, filename: str, index: int) -> ResourceClass:
    """Return a DeviceClass as rmctl's ResourceClass (its selectors compiled, its config kept)."""
    rd = Reader(filename)
    version_of(rd, doc)
    rd.mapping(doc, f"document {index + 1}", allowed={"apiVersion", "kind", "metadata", "spec", "status"})
    name, _ = meta(rd, doc, namespaced=False)
    if not name:
        rd.fail(pos(doc), "metadata.name", "a DeviceClass needs a name")
    spec = doc.get("spec") or {}
    rd.mapping(spec, "spec", doc, "spec", allowed={"selectors", "config", "extendedResourceName"})
    sels = _selectors(rd, spec, "spec.selectors")
    n_config = _configs(rd, spec, "spec.config", claim=False)
    desc = f"DeviceClass ({doc['apiVersion']})"
    if n_config:
        desc += f"; {n_config} config entr{'y' if n_config == 1 else 'ies'} (driver configuration, not evaluated)"
    return ResourceClass(name, sels, filename, desc, spec.get("config"), {})


def _mode(rd: Reader, obj: dict, path: str) -> tuple[int, bool]:
    """Return (count, all) from allocationMode/count with the API's defaults and rules."""
    mode = obj.get("allocationMode") or "ExactCount"
    if mode not in ("ExactCount", "All"):
        rd.fail(pos(obj, "allocationMode"), f"{path}.allocationMode",
                f"must be ExactCount or All, got {mode!r}")
    if mode == "All":
        if obj.get("count"):
            rd.fail(pos(obj, "count"), f"{path}.count", "must not be specified when allocationMode is 'All'")
        return 0, True
    count = obj.get("count", 1)
    count = rd.integer(count, f"{path}.count", obj, "count", minimum=1)
    return count, False


def _refuse_unsupported(rd: Reader, obj: dict, path: str, notes: list[str]) -> None:
    for key, what in _REFUSED.items():
        if key in obj and obj[key] not in (None, False, [], {}):
            rd.fail(pos(obj, key), f"{path}.{key}", f"not evaluated by rmctl: {what}",
                    hint="remove it to evaluate the rest of the claim")
    tol = seq_of_maps(rd, obj, "tolerations", f"{path}.tolerations", max_items=MAX_TOLERATIONS)
    if tol:
        notes.append(f"{path}.tolerations: nothing to tolerate (rmctl's devices carry no taints)")


def _choice(rd: Reader, obj: dict, path: str, name: str, notes: list[str]) -> DeviceChoice:
    cls = obj.get("deviceClassName")
    if not isinstance(cls, str) or not cls:
        rd.fail(pos(obj), f"{path}.deviceClassName", "required: the DeviceClass this request uses")
    if len(cls) > 253 or not DNS_SUBDOMAIN.match(cls):
        rd.fail(pos(obj, "deviceClassName"), f"{path}.deviceClassName", f"{cls!r} is not a valid DeviceClass name")
    _refuse_unsupported(rd, obj, path, notes)
    count, is_all = _mode(rd, obj, path)
    sels = _selectors(rd, obj, f"{path}.selectors")
    return DeviceChoice(name, cls, max(count, 1), is_all, sels, where(rd, obj, "deviceClassName"))


def _request(rd: Reader, item: dict, path: str, version: str, notes: list[str]) -> DeviceRequest:
    """Return one DeviceRequest of a claim, in the shape of its API version."""
    if version == "v1beta1":
        rd.mapping(item, path, allowed={"name", "firstAvailable"} | _EXACT)
    else:
        rd.mapping(item, path, allowed={"name", "exactly", "firstAvailable"})
    name = dns_label(rd, item.get("name"), f"{path}.name", item, "name")
    subs = item.get("firstAvailable")
    if version == "v1beta1":
        exact_keys = [k for k in _EXACT if k in item]
        if subs is not None and exact_keys:
            rd.fail(pos(item, exact_keys[0]), f"{path}.{exact_keys[0]}",
                    "must not be set together with firstAvailable")
        exactly = None if subs is not None else item
    else:
        exactly = item.get("exactly")
        if (exactly is None) == (subs is None):
            rd.fail(pos(item), path, "exactly one of 'exactly' or 'firstAvailable' must be set")
        if exactly is not None:
            rd.mapping(exactly, f"{path}.exactly", item, "exactly", allowed=_EXACT)
    if exactly is not None:
        epath = path if version == "v1beta1" else f"{path}.exactly"
        ch = _choice(rd, exactly, epath, name, notes)
        return DeviceRequest(name, [ch], False, where(rd, item, "name"))
    lst = seq_of_maps(rd, item, "firstAvailable", f"{path}.firstAvailable", max_items=MAX_SUBREQUESTS)
    if not lst:
        rd.fail(pos(item, "firstAvailable"), f"{path}.firstAvailable", "needs at least one subrequest")
    choices, seen = [], set()
    for j, sub in enumerate(lst):
        spath = f"{path}.firstAvailable[{j}]"
        rd.mapping(sub, spath, allowed=_SUB)
        sname = dns_label(rd, sub.get("name"), f"{spath}.name", sub, "name")
        if sname in seen:
            rd.fail(pos(sub, "name"), f"{spath}.name", f"duplicate subrequest name {sname!r}")
        seen.add(sname)
        choices.append(_choice(rd, sub, spath, sname, notes))
    return DeviceRequest(name, choices, True, where(rd, item, "name"))


def claim_spec(rd: Reader, spec, path: str, version: str, parent, key) -> tuple[list, list, list[str]]:
    """Return (requests, constraints, notes) of a ResourceClaimSpec."""
    notes: list[str] = []
    spec = {} if spec is None else spec
    rd.mapping(spec, path, parent, key, allowed={"devices", "controller"})
    devices = spec.get("devices") or {}
    dpath = f"{path}.devices"
    rd.mapping(devices, dpath, spec, "devices", allowed={"requests", "constraints", "config"})
    requests, names = [], set()
    for i, item in enumerate(seq_of_maps(rd, devices, "requests", f"{dpath}.requests", max_items=MAX_REQUESTS)):
        r = _request(rd, item, f"{dpath}.requests[{i}]", version, notes)
        if r.name in names:
            rd.fail(pos(item, "name"), f"{dpath}.requests[{i}].name", f"duplicate request name {r.name!r}")
        names.add(r.name)
        requests.append(r)
    constraints = []
    for i, item in enumerate(seq_of_maps(rd, devices, "constraints", f"{dpath}.constraints",
                                         max_items=MAX_CONSTRAINTS)):
        cpath = f"{dpath}.constraints[{i}]"
        rd.mapping(item, cpath, allowed={"requests", "matchAttribute", "distinctAttribute"})
        if item.get("distinctAttribute") is not None:
            rd.fail(pos(item, "distinctAttribute"), f"{cpath}.distinctAttribute",
                    "not evaluated by rmctl (DRAConsumableCapacity)", hint="remove it to evaluate the rest of the claim")
        if item.get("matchAttribute") is None:
            rd.fail(pos(item), cpath, "matchAttribute is required")
        attr = fully_qualified(rd, item["matchAttribute"], f"{cpath}.matchAttribute", item, "matchAttribute")
        reqs: list[str] = []
        raw = item.get("requests")
        if raw is not None:
            lst = rd.seq(raw, f"{cpath}.requests", item, "requests")
            for j, r in enumerate(lst):
                if isinstance(r, str) and "/" in r:
                    rd.fail(item_pos(lst, j), f"{cpath}.requests[{j}]",
                            f"{r!r}: constraints on a subrequest are not evaluated by rmctl",
                            hint="name the request itself, or remove the constraint")
                if r not in names:
                    rd.fail(item_pos(lst, j), f"{cpath}.requests[{j}]",
                            f"no request named {r!r} in this claim" + (f" (requests: {', '.join(sorted(names))})"
                                                                       if names else ""))
                reqs.append(r)
        # DRA: an empty list means every request of the claim
        constraints.append(Constraint(attr, reqs or [r.name for r in requests], where(rd, item)))
    n_config = _configs(rd, devices, f"{dpath}.config", claim=True)
    if n_config:
        notes.append(f"{dpath}.config: {n_config} entr{'y' if n_config == 1 else 'ies'} ignored "
                     "(driver configuration, applied after allocation; it does not change which devices fit)")
    return requests, constraints, notes


def resource_claim(doc: dict, filename: str, index: int) -> Claim:
    """Return a ResourceClaim as a Claim."""
    rd = Reader(filename)
    version = version_of(rd, doc)
    rd.mapping(doc, f"document {index + 1}", allowed={"apiVersion", "kind", "metadata", "spec", "status"})
    name, ns = meta(rd, doc)
    if not name:
        rd.fail(pos(doc), "metadata.name", "a ResourceClaim needs a name")
    requests, constraints, notes = claim_spec(rd, doc.get("spec"), "spec", version, doc, "spec")
    status = doc.get("status")
    if isinstance(status, dict) and status.get("allocation"):
        notes.append("status.allocation ignored: the claim is evaluated anew on this node")
    return Claim(name, ns or "default", False, doc["apiVersion"], requests, constraints, where(rd, doc), notes)


def resource_claim_template(doc: dict, filename: str, index: int) -> Claim:
    """Return a ResourceClaimTemplate as the Claim it makes for each pod."""
    rd = Reader(filename)
    version = version_of(rd, doc)
    rd.mapping(doc, f"document {index + 1}", allowed={"apiVersion", "kind", "metadata", "spec"})
    name, ns = meta(rd, doc)
    if not name:
        rd.fail(pos(doc), "metadata.name", "a ResourceClaimTemplate needs a name")
    spec = rd.mapping(doc.get("spec"), "spec", doc, "spec", allowed={"metadata", "spec"}, required=("spec",))
    requests, constraints, notes = claim_spec(rd, spec["spec"], "spec.spec", version, spec, "spec")
    return Claim(name, ns or "default", True, doc["apiVersion"], requests, constraints, where(rd, doc), notes)
