"""Kubernetes manifests as input to ``rmctl request evaluate|explain`` (issue 12 item 6).

What a cluster already has can be evaluated as it is: ``resource.k8s.io``
DeviceClass, ResourceClaim and ResourceClaimTemplate (v1, v1beta2,
v1beta1) and a v1 Pod or a workload's pod template, in any order, in one
or several files (:func:`load`).  The kubelet's policies come from a
KubeletConfiguration file and flags (:mod:`.kubelet`).  docs/kubernetes-input.md
describes what is read and what is reported as ignored.

This package parses and checks; :mod:`rmctl.planning.pods` gives the
kubelet's answer, :mod:`rmctl.planning.requests` evaluates the claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rmctl.model.value import replace  # the claims' requests are rmctl.model.value types
from rmctl.resources.manifests import RMCTL_GROUP, is_rmctl_document  # noqa: F401  # re-exported
from rmctl.resources.yamlio import InputError, pos

if TYPE_CHECKING:
    from rmctl.resources.classes import ResourceClass
    from rmctl.resources.kube.dra import Claim
    from rmctl.resources.kube.pod import Pod

# dra and pod (the manifests' readers, with their dataclasses) are imported where a manifest is read:
# rmctl.resources.kube.kubelet (the kubelet's policies, read for every request) comes through this
# package (issue 14: request evaluate, one class on one node, under 120 ms)


def kinds() -> tuple[str, ...]:
    """Return every kind rmctl reads as Kubernetes input."""
    from rmctl.resources.kube.dra import KINDS as DRA_KINDS
    from rmctl.resources.kube.pod import WORKLOADS

    return DRA_KINDS + ("Pod", "List") + tuple(WORKLOADS)


@dataclass
class KubeInput:
    """Everything read from the manifests, references checked.

    ``claims``/``templates`` are keyed (namespace, name); ``pods`` keep the
    order of the input (they are evaluated in that order); ``notes`` say
    what was read and not evaluated.
    """

    classes: dict[str, ResourceClass] = field(default_factory=dict)
    claims: dict[tuple[str, str], Claim] = field(default_factory=dict)
    templates: dict[tuple[str, str], Claim] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Return a short name for the input: the pod(s), else the claim(s)."""
        if self.pods:
            return ", ".join(p.name for p in self.pods)
        return ", ".join(c.name for c in list(self.claims.values()) + list(self.templates.values())) or "-"


def _add(inp: KubeInput, doc, filename: str, index: int, seen: dict) -> None:
    from rmctl.resources.kube import dra
    from rmctl.resources.kube import pod as podmod

    if not isinstance(doc, dict):
        raise InputError(f"{filename}: document {index + 1}: expected a Kubernetes object (apiVersion, kind, ...)")
    kind = doc.get("kind")
    at = f"{filename}:{pos(doc, 'kind') if 'kind' in doc else pos(doc)}"
    if kind == "DeviceClass":
        cls = dra.device_class(doc, filename, index)
        _unique(seen, ("DeviceClass", "", cls.name), at)
        inp.classes[cls.name] = cls
    elif kind == "ResourceClaim":
        c = dra.resource_claim(doc, filename, index)
        _unique(seen, (kind, c.namespace, c.name), at)
        inp.claims[(c.namespace, c.name)] = c
    elif kind == "ResourceClaimTemplate":
        t = dra.resource_claim_template(doc, filename, index)
        _unique(seen, (kind, t.namespace, t.name), at)
        inp.templates[(t.namespace, t.name)] = t
    elif kind == "Pod":
        p = podmod.pod(doc, filename, index)
        _unique(seen, ("Pod", p.namespace, p.name), at)
        inp.pods.append(p)
    elif kind in podmod.WORKLOADS:
        p = podmod.workload(doc, filename, index)
        _unique(seen, (kind, p.namespace, p.name), at)
        inp.pods.append(p)
    elif kind == "List":
        for item in podmod.list_items(doc, filename):
            _add(inp, item, filename, index, seen)
    elif kind == "KubeletConfiguration":
        raise InputError(f"{at}: a KubeletConfiguration among the manifests",
                         hint="give it with --kubelet-config FILE")
    elif kind in ("ResourceRequest", "ResourceClass") and is_rmctl_document(doc):
        raise InputError(f"{at}: rmctl's {kind} mixed with Kubernetes objects",
                         hint="evaluate a ResourceRequest file on its own, or use DeviceClass/ResourceClaim")
    else:
        raise InputError(f"{at}: kind {kind!r} is not read by rmctl",
                         hint="rmctl reads " + ", ".join(kinds()) + " (and its own ResourceRequest)")


def _unique(seen: dict, key: tuple, at: str) -> None:
    if key in seen:
        kind, ns, name = key
        raise InputError(f"{at}: {kind} {ns + '/' if ns else ''}{name} is also defined at {seen[key]}",
                         hint="each object once: the API server would keep only one")
    seen[key] = at


def load_documents(files: list[tuple[str, list]]) -> KubeInput:
    """Return the input of already-read (filename, documents) pairs, references resolved."""
    inp = KubeInput(files=[f for f, _ in files])
    seen: dict = {}
    for filename, docs in files:
        for i, doc in enumerate(docs):
            _add(inp, doc, filename, i, seen)
    _resolve(inp)
    return inp


def load(paths: list[str]) -> KubeInput:
    """Return the manifests of ``paths`` (``-``: stdin), read within bounds, references resolved."""
    from rmctl.resources.kube.common import MAX_FILES, read_manifests

    if len(paths) > MAX_FILES:
        raise InputError(f"{len(paths)} files, more than the {MAX_FILES} rmctl reads at once")
    if list(paths).count("-") > 1:
        raise InputError("'-' (stdin) given more than once")
    return load_documents([(p, read_manifests(p)) for p in paths])


def _resolve(inp: KubeInput) -> None:
    """Check that every pod's claims exist in the input; note what is read and not evaluated."""
    used_claims, used_templates = set(), set()
    for p in inp.pods:
        for pc in p.claims:
            key = (p.namespace, pc.claim or pc.template)
            if pc.claim is not None:
                if key not in inp.claims:
                    raise InputError(f"{pc.where}: pod {p.ref()} uses ResourceClaim {key[0]}/{key[1]}, "
                                     "which is not in the input",
                                     hint="add the ResourceClaim manifest (same namespace) to the files")
                used_claims.add(key)
            else:
                if key not in inp.templates:
                    raise InputError(f"{pc.where}: pod {p.ref()} uses ResourceClaimTemplate {key[0]}/{key[1]}, "
                                     "which is not in the input",
                                     hint="add the ResourceClaimTemplate manifest (same namespace) to the files")
                used_templates.add(key)
    if inp.pods:
        for key, c in inp.claims.items():
            if key not in used_claims:
                inp.notes.append(f"{c.ref()} is not used by the pod(s): not evaluated")
        for key, c in inp.templates.items():
            if key not in used_templates:
                inp.notes.append(f"{c.ref()} is not used by the pod(s): not evaluated")


def claim_classes(claims: list[Claim]) -> list[str]:
    """Return the DeviceClass names the claims use, in order."""
    out: list[str] = []
    for c in claims:
        for r in c.requests:
            for ch in r.choices:
                if ch.class_name not in out:
                    out.append(ch.class_name)
    return out


def prefixed(claim: Claim, label: str | None = None) -> tuple[list, list]:
    """Return the claim's requests and constraints renamed ``LABEL/request`` (LABEL: the claim's name).

    Several claims evaluate together as one set of device requests (the
    scheduler allocates a pod's claims together, never one device twice);
    constraints stay inside their claim, as DRA scopes them.
    """
    label = label or claim.name
    reqs = []
    for r in claim.requests:
        name = f"{label}/{r.name}"
        choices = [replace(ch, name=name if not r.first_available else ch.name) for ch in r.choices]
        reqs.append(replace(r, name=name, choices=choices))
    cons = [replace(c, requests=[f"{label}/{n}" for n in c.requests]) for c in claim.constraints]
    return reqs, cons


def as_request(inp: KubeInput, policy: str = "none"):
    """Return the claims of a pod-less input as one rmctl ResourceRequest (devices only).

    Every ResourceClaim and ResourceClaimTemplate of the input, in order,
    each request named ``CLAIM/REQUEST``; the DeviceClasses of the input
    come along as the request's classes.
    """
    from rmctl.resources.request import ResourceRequest

    claims = list(inp.claims.values()) + list(inp.templates.values())
    if not claims:
        raise InputError(", ".join(inp.files) + ": no Pod, ResourceClaim or ResourceClaimTemplate to evaluate",
                         hint="DeviceClasses alone select nothing: add a claim or a pod that uses one")
    devices, constraints = [], []
    for c in claims:
        r, k = prefixed(c)
        devices += r
        constraints += k
    return ResourceRequest(name=inp.name, policy=policy, devices=devices, constraints=constraints,
                           source=", ".join(inp.files), classes=dict(inp.classes))
