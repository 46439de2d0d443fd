"""The kubelet's records on a node, read-only: what its resource managers assigned.

``read(root, kubelet_root)`` reads the checkpoints of the CPU Manager, the
Memory Manager, the device manager and the DRA manager under the root (the
live node or a snapshot) and returns a :class:`rmctl.model.kubelet.KubeletState`.
``read(..., api=True)`` on the live root also asks the PodResources API
(``<kubelet root>/pod-resources/kubelet.sock``, needs ``rmctl[kubelet]``)
and joins the pod names it gives to the checkpoints' pod UIDs.

A missing checkpoint means the manager is off (or the kubelet never ran):
that manager is None.  A corrupt one raises KubeletCheckpointError (exit 5),
one of a layout rmctl does not know KubeletCheckpointVersionError (exit 5).
Nothing under the kubelet's root is ever written.
"""

from __future__ import annotations

from rmctl.discovery import paths as P
from rmctl.discovery.root import Root
from rmctl.model.kubelet import KubeletState

DEFAULT_KUBELET_ROOT = "/" + P.KUBELET_ROOT


def kubelet_rel(kubelet_root: str | None) -> str:
    """Return the kubelet root as a root-relative path (``/var/lib/kubelet`` -> ``var/lib/kubelet``)."""
    rel = (kubelet_root or DEFAULT_KUBELET_ROOT).strip().strip("/")
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        from rmctl.errors import UsageError

        raise UsageError(f"--kubelet-root {kubelet_root!r} is not a plain absolute path",
                         hint="e.g. --kubelet-root /var/lib/kubelet")
    return rel


def read(root: Root, kubelet_root: str | None = None, *, api: bool = False,
         socket: str | None = None, timeout: float = 5.0) -> KubeletState:
    """Return the kubelet's state under ``root``; ``api`` also asks the live PodResources API."""
    if kubelet_root is None and not root.is_live:
        # a snapshot says where its kubelet's root was (discovery/kubelet/capture.py facts)
        k = root.facts().get("kubelet")
        kubelet_root = k.get("root") if isinstance(k, dict) and isinstance(k.get("root"), str) else None
    rel = kubelet_rel(kubelet_root)
    # each reader imports Go's JSON decoder (gotypes) only for a checkpoint that exists: a manager that
    # is off costs one lookup (issue 14: request evaluate of one class on one node)
    from rmctl.discovery.kubelet import cpu_manager, device_manager, dra, memory_manager

    state = KubeletState(
        root=rel,
        cpu=cpu_manager.read(root, rel),
        memory=memory_manager.read(root, rel),
        devices=device_manager.read(root, rel),
        dra=dra.read(root, rel),
    )
    if not api:
        return state
    from rmctl.discovery.kubelet import join
    from rmctl.model.record import replace

    if not root.is_live:
        return replace(state, notes=state.notes + (
            "the PodResources API is asked on the live node only: pod names are not in a snapshot",))
    from rmctl.discovery.kubelet.podresources import client

    view = client.query(socket or "/" + P.kubelet_file(rel, P.KUBELET_PODRESOURCES_SOCKET), timeout=timeout)
    return join.with_api(state, view)


__all__ = ["DEFAULT_KUBELET_ROOT", "kubelet_rel", "read"]
