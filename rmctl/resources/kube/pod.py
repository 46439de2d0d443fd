"""Pods as input: a v1 Pod, or the pod a workload's template makes.

A workload is read for its pod template: Deployment, StatefulSet,
DaemonSet, ReplicaSet (apps/v1), Job (batch/v1), CronJob (batch/v1,
``spec.jobTemplate.spec.template``), ReplicationController and PodTemplate
(v1); a ``v1 List`` is read item by item.  Of the pod spec only what the
kubelet's resource managers and the scheduler's resource fit use is read:
each container's (and init container's) ``resources.requests``/``limits``
and ``resources.claims``, ``restartPolicy: Always`` on an init container
(a sidecar, KEP-753), ``spec.resourceClaims``, ``spec.overhead``.  The
rest of a PodSpec (volumes, affinity, probes...) is allowed and not read.

Rules from the API server, so a manifest it would refuse is refused here
too (pkg/apis/core/validation/validation.go
validateContainerResourceRequirements, pkg/apis/core/v1/defaults.go):

* requests missing for a resource that has a limit default to the limit
  (SetDefaults_Pod; a workload's pods get it when they are created);
* a request above its limit is invalid; hugepages and extended resources
  cannot be overcommitted: their request must equal their limit;
* hugepages need a cpu or memory request or limit ("HugePages require cpu
  or memory") and a whole number of pages;
* a resource name is cpu, memory, ephemeral-storage, hugepages-<size>, or
  an extended resource with a domain (``nvidia.com/gpu``);
* container names are DNS labels, unique in the pod; a container's claim
  names one of ``spec.resourceClaims``.

Pod-level resources (``spec.resources``, PodLevelResources) are refused:
the kubelet's static CPU and Memory Manager policies handle such pods
differently by version and feature gate, and rmctl does not model that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from rmctl.resources.kube.common import dns_label, meta, quantity, seq_of_maps, where
from rmctl.resources.yamlio import InputError, Reader, item_pos, pos

#: kind -> (apiVersions, path to the pod template)
WORKLOADS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Deployment": (("apps/v1",), ("spec", "template")),
    "StatefulSet": (("apps/v1",), ("spec", "template")),
    "DaemonSet": (("apps/v1",), ("spec", "template")),
    "ReplicaSet": (("apps/v1",), ("spec", "template")),
    "Job": (("batch/v1",), ("spec", "template")),
    "CronJob": (("batch/v1",), ("spec", "jobTemplate", "spec", "template")),
    "ReplicationController": (("v1",), ("spec", "template")),
    "PodTemplate": (("v1",), ("template",)),
}
STANDARD = ("cpu", "memory", "ephemeral-storage")
HUGEPAGES = "hugepages-"
#: resources whose request may be below the limit (helper.IsOvercommitAllowed)
OVERCOMMITTABLE = STANDARD


@dataclass
class Container:
    """One container's resources, requests defaulted from limits.

    ``kind``: ``init`` (runs to completion before the next), ``sidecar``
    (an init container with restartPolicy Always: keeps running beside
    the app containers) or ``app``.  Quantities are exact (cpu in cores,
    memory and hugepages in bytes).
    """

    name: str
    kind: str
    requests: dict[str, Fraction]
    limits: dict[str, Fraction]
    claims: list[tuple[str, str | None]] = field(default_factory=list)  #: (pod claim name, request or None)
    where: str = ""


@dataclass
class PodClaim:
    """``spec.resourceClaims[]``: a name the containers use, backed by a claim or a claim template."""

    name: str
    claim: str | None = None  #: resourceClaimName
    template: str | None = None  #: resourceClaimTemplateName
    where: str = ""


@dataclass
class Pod:
    """The pod to evaluate: containers in the kubelet's order (init first), claims, overhead."""

    name: str
    namespace: str
    origin: str  #: "Pod" or the workload it comes from ("Deployment train")
    containers: list[Container]
    claims: list[PodClaim] = field(default_factory=list)
    overhead: dict[str, Fraction] = field(default_factory=dict)
    node_name: str | None = None
    where: str = ""

    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def resource_name(rd: Reader, name, path: str, parent) -> str:
    """Return a container resource name, checked as the API server checks it."""
    if not isinstance(name, str) or not name:
        rd.fail(pos(parent), path, f"bad resource name {name!r}")
    if name in STANDARD:
        return name
    if name.startswith(HUGEPAGES):
        page_size(rd, name, f"{path}.{name}", parent)
        return name
    if "/" in name:
        domain, _, ident = name.rpartition("/")
        if domain and ident and not domain.endswith("kubernetes.io"):
            return name
    rd.fail(pos(parent, name), f"{path}.{name}",
            "must be cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource DOMAIN/NAME")
    return name


def page_size(rd: Reader, name: str, path: str, parent) -> int:
    """Return the bytes of a ``hugepages-<size>`` resource's page (``hugepages-2Mi``: 2097152)."""
    from rmctl.resources.cel import parse_quantity

    try:
        size = parse_quantity(name[len(HUGEPAGES):])
    except ValueError:
        size = Fraction(0)
    if size <= 0 or size.denominator != 1:
        rd.fail(pos(parent, name), path, f"{name!r}: the page size must be a positive quantity (hugepages-2Mi)")
    return int(size)


def _resources(rd: Reader, c: dict, path: str, claim_names: set[str]) -> tuple[dict, dict, list]:
    res = c.get("resources")
    if res is None:
        return {}, {}, []
    rd.mapping(res, f"{path}.resources", c, "resources", allowed={"requests", "limits", "claims"})
    lists = {}
    for key in ("requests", "limits"):
        raw = res.get(key) or {}
        rd.mapping(raw, f"{path}.resources.{key}", res, key)
        lists[key] = {resource_name(rd, k, f"{path}.resources.{key}", raw):
                      quantity(rd, v, f"{path}.resources.{key}.{k}", raw, k) for k, v in raw.items()}
    requests, limits = lists["requests"], lists["limits"]
    req_raw = res.get("requests") or {}
    for name, lim in limits.items():  # SetDefaults_Pod: requests default to limits
        requests.setdefault(name, lim)
    for name, req in requests.items():
        at = pos(req_raw, name) if name in req_raw else pos(res, "limits")
        rpath = f"{path}.resources.requests.{name}"
        if name in limits:
            if name not in OVERCOMMITTABLE and req != limits[name]:
                rd.fail(at, rpath, f"must be equal to {name} limit (hugepages and extended resources "
                                   "cannot be overcommitted)")
            if req > limits[name]:
                rd.fail(at, rpath, f"must be less than or equal to {name} limit")
        elif name not in OVERCOMMITTABLE:
            rd.fail(at, f"{path}.resources.limits.{name}", "limit must be set for non overcommitable resources")
        if name.startswith(HUGEPAGES):
            size = page_size(rd, name, rpath, req_raw if name in req_raw else res)
            if req % size:
                rd.fail(at, rpath, f"{req} is not a whole number of {name[len(HUGEPAGES):]} pages")
    if any(n.startswith(HUGEPAGES) for n in requests) and not any(n in ("cpu", "memory") for n in requests):
        rd.fail(pos(res), f"{path}.resources", "HugePages require cpu or memory")
    claims = []
    for i, item in enumerate(seq_of_maps(rd, res, "claims", f"{path}.resources.claims")):
        cpath = f"{path}.resources.claims[{i}]"
        rd.mapping(item, cpath, allowed={"name", "request"}, required=("name",))
        cname = dns_label(rd, item["name"], f"{cpath}.name", item, "name")
        if cname not in claim_names:
            rd.fail(pos(item, "name"), f"{cpath}.name",
                    f"no pod resource claim named {cname!r}" + (f" (spec.resourceClaims: {', '.join(sorted(claim_names))})"
                                                                if claim_names else " (spec.resourceClaims is empty)"))
        creq = item.get("request")
        if creq is not None:
            creq = dns_label(rd, creq, f"{cpath}.request", item, "request")
        claims.append((cname, creq))
    return requests, limits, claims


def pod_spec(rd: Reader, spec, path: str, parent, key, *, name: str, namespace: str, origin: str,
             at: str) -> Pod:
    """Return the Pod a PodSpec describes (``path`` names it in errors: spec, spec.template.spec...)."""
    rd.mapping(spec, path, parent, key, required=("containers",))
    if spec.get("resources") is not None:
        rd.fail(pos(spec, "resources"), f"{path}.resources",
                "pod-level resources are not evaluated by rmctl (the kubelet's static CPU and Memory "
                "Manager policies treat such pods by version and feature gate)",
                hint="give the resources per container to evaluate the pod")
    claims: list[PodClaim] = []
    seen_claims: set[str] = set()
    for i, item in enumerate(seq_of_maps(rd, spec, "resourceClaims", f"{path}.resourceClaims")):
        cpath = f"{path}.resourceClaims[{i}]"
        if "source" in item:
            rd.fail(pos(item, "source"), f"{cpath}.source",
                    "the source field went away in Kubernetes 1.31: resourceClaimName or "
                    "resourceClaimTemplateName sit on the entry itself")
        rd.mapping(item, cpath, allowed={"name", "resourceClaimName", "resourceClaimTemplateName"},
                   required=("name",))
        cname = dns_label(rd, item["name"], f"{cpath}.name", item, "name")
        if cname in seen_claims:
            rd.fail(pos(item, "name"), f"{cpath}.name", f"duplicate resource claim name {cname!r}")
        seen_claims.add(cname)
        rc, rt = item.get("resourceClaimName"), item.get("resourceClaimTemplateName")
        if (rc is None) == (rt is None):
            rd.fail(pos(item), cpath, "exactly one of resourceClaimName or resourceClaimTemplateName must be set")
        if rc is not None:
            rd.string(rc, f"{cpath}.resourceClaimName", item, "resourceClaimName")
        if rt is not None:
            rd.string(rt, f"{cpath}.resourceClaimTemplateName", item, "resourceClaimTemplateName")
        claims.append(PodClaim(cname, rc, rt, where(rd, item)))
    containers: list[Container] = []
    names: set[str] = set()
    for key2, kind in (("initContainers", "init"), ("containers", "app")):
        items = seq_of_maps(rd, spec, key2, f"{path}.{key2}")
        if key2 == "containers" and not items:
            rd.fail(pos(spec, "containers"), f"{path}.containers", "a pod needs at least one container")
        for i, c in enumerate(items):
            cpath = f"{path}.{key2}[{i}]"
            cname = dns_label(rd, c.get("name"), f"{cpath}.name", c, "name")
            if cname in names:
                rd.fail(pos(c, "name"), f"{cpath}.name", f"duplicate container name {cname!r}")
            names.add(cname)
            ckind = kind
            rp = c.get("restartPolicy")
            if rp is not None:
                if kind != "init" or rp != "Always":
                    rd.fail(pos(c, "restartPolicy"), f"{cpath}.restartPolicy",
                            "only an init container may set restartPolicy, and only to Always (a sidecar)")
                ckind = "sidecar"
            requests, limits, cclaims = _resources(rd, c, cpath, seen_claims)
            containers.append(Container(cname, ckind, requests, limits, cclaims, where(rd, c)))
    overhead = {}
    if spec.get("overhead") is not None:
        raw = rd.mapping(spec["overhead"], f"{path}.overhead", spec, "overhead")
        overhead = {resource_name(rd, k, f"{path}.overhead", raw): quantity(rd, v, f"{path}.overhead.{k}", raw, k)
                    for k, v in raw.items()}
    node_name = spec.get("nodeName")
    if node_name is not None:
        node_name = rd.string(node_name, f"{path}.nodeName", spec, "nodeName")
    return Pod(name, namespace, origin, containers, claims, overhead, node_name, at)


def pod(doc: dict, filename: str, index: int) -> Pod:
    """Return the Pod of a ``v1 Pod`` document."""
    rd = Reader(filename)
    if doc.get("apiVersion") != "v1":
        rd.fail(pos(doc, "apiVersion"), "apiVersion", f"unsupported {doc.get('apiVersion')!r} for a Pod; expected v1")
    rd.mapping(doc, f"document {index + 1}", allowed={"apiVersion", "kind", "metadata", "spec", "status"},
               required=("spec",))
    name, ns = meta(rd, doc)
    if not name:
        rd.fail(pos(doc), "metadata.name", "a Pod needs a name (or generateName)")
    return pod_spec(rd, doc["spec"], "spec", doc, "spec", name=name, namespace=ns or "default", origin="Pod",
                    at=where(rd, doc))


def workload(doc: dict, filename: str, index: int) -> Pod:
    """Return the pod a workload's template makes (named after the workload)."""
    rd = Reader(filename)
    kind = doc["kind"]
    versions, tpath = WORKLOADS[kind]
    if doc.get("apiVersion") not in versions:
        rd.fail(pos(doc, "apiVersion"), "apiVersion",
                f"unsupported {doc.get('apiVersion')!r} for a {kind}; expected {' or '.join(versions)}")
    name, ns = meta(rd, doc)
    if not name:
        rd.fail(pos(doc), "metadata.name", f"a {kind} needs a name")
    obj, path = doc, ""
    for step in tpath:
        nxt = obj.get(step) if isinstance(obj, dict) else None
        npath = f"{path}.{step}" if path else step
        if nxt is None:
            rd.fail(pos(obj) if isinstance(obj, dict) else "?", npath, "missing: the pod template")
        rd.mapping(nxt, npath, obj, step)
        obj, path = nxt, npath
    tmeta = obj.get("metadata") or {}
    rd.mapping(tmeta, f"{path}.metadata", obj, "metadata")
    if "spec" not in obj:
        rd.fail(pos(obj), f"{path}.spec", "missing: the pod template's spec")
    return pod_spec(rd, obj["spec"], f"{path}.spec", obj, "spec", name=name, namespace=ns or "default",
                    origin=f"{kind} {name}", at=where(rd, doc))


def requests_of(p: Pod) -> dict[str, Fraction]:
    """Return the pod's effective requests as the scheduler counts them.

    The larger of (app containers + sidecars) and, for each init container
    in order, (that init container + the sidecars started before it), per
    resource; plus the overhead (k8s.io/component-helpers/resource
    PodRequests, KEP-753 for sidecars).
    """
    def add(a: dict, b: dict) -> dict:
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, Fraction(0)) + v
        return out

    reqs: dict[str, Fraction] = {}
    for c in p.containers:
        if c.kind == "app":
            reqs = add(reqs, c.requests)
    sidecars: dict[str, Fraction] = {}
    init_max: dict[str, Fraction] = {}
    for c in p.containers:
        if c.kind == "sidecar":
            reqs = add(reqs, c.requests)
            sidecars = add(sidecars, c.requests)
            cur = sidecars
        elif c.kind == "init":
            cur = add(c.requests, sidecars)
        else:
            continue
        for k, v in cur.items():
            if v > init_max.get(k, Fraction(0)):
                init_max[k] = v
    for k, v in init_max.items():
        if v > reqs.get(k, Fraction(0)):
            reqs[k] = v
    return add(reqs, p.overhead)


def qos_class(p: Pod) -> str:
    """Return Guaranteed, Burstable or BestEffort (pkg/apis/core/v1/helper/qos ComputePodQOS).

    Only cpu and memory count; zero values are ignored; Guaranteed needs
    a cpu and a memory limit on every container (init ones too) and the
    pod's summed requests equal to its summed limits.
    """
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for c in p.containers:
        for k, v in c.requests.items():
            if k in ("cpu", "memory") and v > 0:
                requests[k] = requests.get(k, Fraction(0)) + v
        found = set()
        for k, v in c.limits.items():
            if k in ("cpu", "memory") and v > 0:
                found.add(k)
                limits[k] = limits.get(k, Fraction(0)) + v
        if not {"cpu", "memory"} <= found:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(limits.get(k) == v for k, v in requests.items()) and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


def list_items(doc: dict, filename: str) -> list:
    """Return the items of a ``v1 List`` (``kubectl get -o yaml`` of several objects)."""
    rd = Reader(filename)
    items = doc.get("items") or []
    rd.seq(items, "items", doc, "items")
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            rd.fail(item_pos(items, i), f"items[{i}]", "expected an object")
        if it.get("kind") == "List":
            raise InputError(f"{filename}:{item_pos(items, i)}: items[{i}]: a List inside a List is not accepted")
    return list(items)
