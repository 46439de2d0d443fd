"""The kubelet's assignments for scripts (the KubeletState document) and people (a table).

Document shape (``rmctl kubelet show -o json``)::

    kubelet_root: /var/lib/kubelet
    checkpoints: [{manager, path, format, checksum, checksum_status, detail}]
    cpu_manager: {policy, shared_cpus, exclusive_cpus} | null
    memory_manager: {policy, nodes: [{node, cells, assignments, resources: [{resource, total_bytes,
                    system_reserved_bytes, allocatable_bytes, reserved_bytes, free_bytes}]}]} | null
    device_manager: {registered: {resource: [ids]}} | null
    pods: [{uid, namespace, name, containers: [{name, cpus, cpu_nodes, memory: [{resource, size_bytes, nodes}],
            devices: [{resource, id, node, address, tied_by}], claims: [{namespace, name, devices}]}]}]
    api: {socket, asked, notes} | null
    notes: [...]

``namespace``/``name`` are null unless the PodResources API named the pod;
a container named "" holds what belongs to the pod as a whole.
"""

from __future__ import annotations

from rmctl.model.kubelet import ContainerHoldings, KubeletState
from rmctl.model.node import NodeModel


def _checkpoints(state: KubeletState) -> list[dict]:
    out = []
    for manager, st in (("cpu", state.cpu), ("memory", state.memory), ("devices", state.devices),
                        ("dra", state.dra)):
        if st is not None:
            cp = st.checkpoint
            out.append({"manager": manager, "path": "/" + cp.path, "format": cp.format, "checksum": cp.checksum,
                        "checksum_status": cp.checksum_status, "detail": cp.detail})
    return out


def _memory_manager(state: KubeletState) -> dict | None:
    if state.memory is None:
        return None
    return {"policy": state.memory.policy, "nodes": [
        {"node": n.node, "cells": list(n.cells), "assignments": n.assignments, "resources": [
            {"resource": t.resource, "total_bytes": t.total, "system_reserved_bytes": t.system_reserved,
             "allocatable_bytes": t.allocatable, "reserved_bytes": t.reserved, "free_bytes": t.free}
            for t in n.tables]} for n in state.memory.machine]}


def container_data(h: ContainerHoldings, node: NodeModel, devices: list) -> dict:
    """Return one container's holdings; ``devices`` are its DeviceHoldings (rmctl.planning.kubelet)."""
    return {
        "name": h.container,
        "cpus": h.cpus.to_list(),
        "cpu_nodes": node.topology.nodes_of(h.cpus),
        "memory": [{"resource": b.resource, "size_bytes": b.size, "nodes": list(b.nodes)} for b in h.memory],
        "devices": [{"resource": d.resource, "id": d.device_id, "node": None if d.node < 0 else d.node,
                     "address": None if d.address is None else str(d.address), "tied_by": d.how}
                    for d in devices],
        "claims": [{"namespace": c.namespace, "name": c.name,
                    "devices": [{"driver": d.driver, "pool": d.pool, "device": d.device} for d in c.devices]}
                   for c in h.claims],
    }


def pods_data(state: KubeletState, node: NodeModel, holdings: list) -> list[dict]:
    """Return the pods, each with its containers' holdings, sorted by namespace/name, then UID."""
    by_pod: dict[str, dict] = {}
    for h in state.containers():
        pod = by_pod.setdefault(h.pod_uid, {"uid": h.pod_uid, "namespace": h.namespace, "name": h.pod,
                                            "containers": []})
        devs = [d for d in holdings if d.pod_uid == h.pod_uid and d.container == h.container]
        pod["containers"].append(container_data(h, node, devs))
    return sorted(by_pod.values(), key=lambda p: (p["namespace"] is None, p["namespace"] or "", p["name"] or "",
                                                  p["uid"]))


def show_data(state: KubeletState, node: NodeModel, holdings: list, pods: list[dict], *,
              api_asked: bool) -> dict:
    """Return the KubeletState document's body."""
    cpu = None
    if state.cpu is not None:
        cpu = {"policy": state.cpu.policy, "shared_cpus": state.cpu.default_cpus.to_list(),
               "exclusive_cpus": state.cpu.exclusive_cpus().to_list()}
    devices = None
    if state.devices is not None:
        devices = {"registered": {r: list(ids) for r, ids in state.devices.registered}}
    api = None
    if api_asked:
        api = {"socket": state.api.socket if state.api else None,
               "notes": list(state.api.notes) if state.api else []}
    return {"kubelet_root": "/" + state.root, "checkpoints": _checkpoints(state), "cpu_manager": cpu,
            "memory_manager": _memory_manager(state), "device_manager": devices, "pods": pods, "api": api,
            "notes": [n for n in state.notes if not (state.api and n in state.api.notes)]}


# -- tables --------------------------------------------------------------------

def _nodes(nodes) -> str:
    return ",".join(str(n) for n in nodes) or "-"


def _short_resource(resource: str) -> str:
    """Return ``mem`` for memory and ``2Mi`` for hugepages-2Mi (table cells stay narrow)."""
    if resource == "memory":
        return "mem"
    return resource.replace("hugepages-", "") + " pages" if resource.startswith("hugepages-") else resource


def _short_address(address: str) -> str:
    return address[5:] if address.startswith("0000:") else address


def pod_label(pod: dict) -> str:
    """Return ``namespace/name`` when known, else the pod UID."""
    return f"{pod['namespace']}/{pod['name']}" if pod["name"] else pod["uid"][:8]


def table(data: dict):
    """Return the rich renderables of a KubeletState document: managers, then one row per container."""
    from rich import box
    from rich.table import Table

    from rmctl.render.tables import human_size

    out: list = []
    lines = []
    for cp in data["checkpoints"]:
        status = {"verified": "checksum ok", "unchecked-zero": "checksum 0 (not checked)"}.get(
            cp["checksum_status"], cp["checksum_status"])
        lines.append(f"{cp['manager']:<8} {cp['format']:<3} {status:<12} {cp['path']}")
    if not lines:
        lines.append(f"no kubelet checkpoint under {data['kubelet_root']}")
    cpu = data["cpu_manager"]
    if cpu:
        lines.append(f"CPU Manager policy {cpu['policy']}: shared pool {cpu['shared_cpus'] or '-'}, "
                     f"exclusive {cpu['exclusive_cpus'] or '-'}")
    mem = data["memory_manager"]
    if mem:
        lines.append(f"Memory Manager policy {mem['policy']}")
    out.append("\n".join(lines))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    for col in ("pod", "container", "cpus", "numa", "memory", "devices"):
        t.add_column(col, overflow="fold")
    for pod in data["pods"]:
        for c in pod["containers"]:
            memory = ", ".join(f"{human_size(m['size_bytes'])} {_short_resource(m['resource'])}@{_nodes(m['nodes'])}"
                               for m in c["memory"])
            devices = ", ".join(
                f"{d['resource'].rsplit('/', 1)[-1]} {_short_address(d['address']) if d['address'] else d['id']}"
                for d in c["devices"])
            devices = "; ".join(x for x in (devices, *(f"claim {cl['namespace']}/{cl['name']}"
                                                        for cl in c["claims"])) if x)
            t.add_row(pod_label(pod), c["name"] or "(pod)", c["cpus"] or "-", _nodes(c["cpu_nodes"]),
                      memory or "-", devices or "-")
    if data["pods"]:
        out.append(t)
    return out
