"""``rmctl kubelet show``: what the kubelet assigned, per pod and container.

Read-only: the kubelet's checkpoints under its root (live or snapshot) and,
on the live node, its PodResources API for pod names.  ``view`` of the
Outcome is unused: the table is drawn from the document.
"""

from __future__ import annotations

from rmctl.discovery import discover, kubelet
from rmctl.discovery.root import Root
from rmctl.errors import UsageError
from rmctl.model.kubelet import KubeletState
from rmctl.ops.outcome import Message, Outcome, note
from rmctl.planning.kubelet import device_holdings
from rmctl.render import kubelet as render


def read_state(root: Root, kubelet_root: str | None, *, api: bool = False, socket: str | None = None,
               pod: tuple[str, str] | None = None) -> KubeletState:
    """Return the kubelet's state (checkpoints, and the live API when ``api``)."""
    return kubelet.read(root, kubelet_root, api=api and root.is_live, socket=socket)


def _pod_filter(pod: str) -> tuple[str | None, str]:
    """Return (namespace, name) of ``NS/NAME``, or (None, UID-or-name)."""
    if "/" in pod:
        ns, _, name = pod.partition("/")
        if not ns or not name or "/" in name:
            raise UsageError(f"--pod {pod!r} is not NAMESPACE/NAME or a pod UID", hint="e.g. --pod default/web-0")
        return ns, name
    return None, pod


def show(root: Root, kubelet_root: str | None = None, *, api: bool = True, socket: str | None = None,
         pod: str | None = None) -> Outcome:
    """Return the KubeletState document: checkpoints, managers, pods with their CPUs, memory and devices.

    ``api``: ask the live PodResources API for pod names (a note when it
    cannot answer; never on a snapshot).  ``pod``: only that pod
    (``NAMESPACE/NAME`` needs the API's names; a UID works everywhere);
    UsageError (exit 2) when no such pod holds anything.
    KubeletCheckpointError (exit 5) for a corrupt checkpoint.
    """
    state = read_state(root, kubelet_root, api=api, socket=socket)
    node = discover(root, devices=True)
    holdings = device_holdings(node, state)
    pods = render.pods_data(state, node, holdings)
    if pod is not None:
        ns, name = _pod_filter(pod)
        pods = [p for p in pods if (p["namespace"], p["name"]) == (ns, name) or (ns is None and p["uid"] == name)]
        if not pods:
            raise UsageError(f"no pod {pod} holds CPUs, memory or devices of the kubelet on {root.spec}",
                             hint="'rmctl kubelet show' lists the pods that do (names need the live API)")
    data = render.show_data(state, node, holdings, pods, api_asked=api and root.is_live)
    messages: list[Message] = [note(n) for n in data["notes"]]
    if data["api"]:
        messages += [note(n) for n in data["api"]["notes"]]
    for cp in data["checkpoints"]:
        if cp["checksum_status"] != "verified":
            messages.append(note(f"{cp['path']}: {cp['detail'] or cp['checksum_status']}"))
    unresolved = [d for d in holdings if d.address is None]
    if unresolved:
        messages.append(note(f"{len(unresolved)} device(s) of the kubelet are not tied to a PCI device "
                             f"({', '.join(sorted({d.resource for d in unresolved}))}): their IDs are shown as is"))
    return Outcome(kind="KubeletState", data=data, messages=tuple(messages))
