"""Join the PodResources API's pod names to the checkpoints' pod UIDs.

The checkpoints key everything by pod UID; the API gives namespace and
name but no UID.  A pod's UID is taken from what both sides say about the
same container: the same exclusive CPUs, the same device IDs of a resource,
the same memory blocks (type, size, NUMA nodes), the same DRA claim.  A
UID is joined to a pod when the evidence points to that pod alone; pods
without exclusive resources appear in no checkpoint and need no join.
"""

from __future__ import annotations

from collections import defaultdict

from rmctl.model.kubelet import KubeletState, PodName, PodResourcesView
from rmctl.model.record import replace


def uid_votes(state: KubeletState, view: PodResourcesView) -> dict[str, set[tuple[str, str]]]:
    """Return pod UID -> the (namespace, name) pods whose containers match its checkpoint entries."""
    votes: dict[str, set[tuple[str, str]]] = defaultdict(set)
    cpu = {(a.container, a.cpus): a.pod_uid for a in (state.cpu.assignments if state.cpu else ()) if a.pod_uid}
    dev: dict[tuple[str, str, frozenset], set[str]] = defaultdict(set)
    for a in state.devices.allocations if state.devices else ():
        dev[(a.container, a.resource, frozenset(a.device_ids()))].add(a.pod_uid)
    mem: dict[tuple, set[str]] = defaultdict(set)
    for b in state.memory.blocks if state.memory else ():
        mem[(b.container, b.resource, b.size, b.nodes)].add(b.pod_uid)
    claims = {(c.namespace, c.name): c.pod_uids for c in (state.dra.claims if state.dra else ())}
    for pod in view.pods:
        key = (pod.namespace, pod.name)
        for c in pod.containers:
            if c.cpus and (c.name, c.cpus) in cpu:
                votes[cpu[(c.name, c.cpus)]].add(key)
            for d in c.devices:
                for uid in dev.get((c.name, d.resource, frozenset(d.device_ids)), ()):
                    votes[uid].add(key)
            for m in c.memory:
                for uid in mem.get((c.name, m.resource, m.size, m.nodes), ()):
                    votes[uid].add(key)
            for cl in c.claims:
                uids = claims.get((cl.namespace, cl.claim), ())
                if len(uids) == 1:  # a shared claim names several pods: no evidence for one
                    votes[uids[0]].add(key)
    return votes


def with_api(state: KubeletState, view: PodResourcesView) -> KubeletState:
    """Return ``state`` with the API's view and the pod names it let be joined."""
    votes = uid_votes(state, view)
    names = []
    ambiguous = []
    for uid in sorted(votes):
        pods = votes[uid]
        if len(pods) == 1:
            ns, name = next(iter(pods))
            names.append((uid, PodName(namespace=ns, name=name)))
        else:
            ambiguous.append(uid)
    notes = list(state.notes) + list(view.notes)
    if ambiguous:
        notes.append(f"{len(ambiguous)} pod UID(s) match several pods of the API: left without a name")
    unknown = [u for u in state.pod_uids() if u not in votes]
    if unknown and view.pods:
        notes.append(f"{len(unknown)} pod UID(s) of the checkpoints are not in the API's answer "
                     "(pods that ended, or whose resources differ)")
    return replace(state, api=view, names=tuple(names), notes=tuple(notes))
