"""A KubeletConfiguration fragment matching the node and its profile.

Field names and shapes are the kubelet's (``kubelet.config.k8s.io/v1beta1``
KubeletConfiguration; kubernetes/website
content/en/docs/tasks/administer-cluster/memory-manager.md):

- ``cpuManagerPolicy: static`` with ``reservedSystemCPUs`` (a cpulist
  string): the CPUs rmctl holds for the system are the ones the kubelet
  never hands out exclusively;
- ``topologyManagerPolicy`` / ``topologyManagerScope``;
- ``memoryManagerPolicy: Static`` with ``reservedMemory``: a list of
  ``{numaNode: N, limits: {memory: Q, hugepages-2Mi: Q}}``.  The kubelet
  refuses to start unless, for every memory type, the sum over NUMA nodes
  equals kubeReserved + systemReserved + the hard eviction threshold
  (pkg/kubelet/cm/memorymanager/memory_manager.go, validateReservedMemory;
  it checks hugepages-* types too), so ``systemReserved`` and
  ``evictionHard`` are emitted to match.  Hugepages kept from pods come
  from the profile's ``hugepages[].reserved`` (whole pages, per node); the
  hugepage entries in ``systemReserved`` follow KEP-6252 and need a kubelet
  that accepts hugepages there.
"""

from __future__ import annotations

from rmctl.units import format_size_exact

KUBELET_API = "kubelet.config.k8s.io/v1beta1"


def quantity(nbytes: int) -> str:
    """Return a Kubernetes quantity for a byte count (``1Gi``, ``1536Mi``, or plain bytes)."""
    return format_size_exact(nbytes) if nbytes else "0"


def split_even(total: int, nodes: list[int], unit: int = 1 << 20) -> dict[int, int]:
    """Return ``total`` bytes split over ``nodes`` in whole ``unit`` s; the rest on the first node."""
    if not nodes:
        return {}
    units, rest = divmod(total, unit)
    each, extra = divmod(units, len(nodes))
    out = {n: each * unit for n in nodes}
    out[nodes[0]] += extra * unit + rest
    return out


def kubelet_config(node, *, system_cpus: str | None, profile=None) -> dict:
    """Return the KubeletConfiguration fragment (a plain dict, ready for YAML)."""
    from rmctl.profile.schema import KubeletSpec

    k = profile.kubelet if profile is not None else KubeletSpec()
    cfg: dict = {"apiVersion": KUBELET_API, "kind": "KubeletConfiguration",
                 "cpuManagerPolicy": "static"}
    if system_cpus:
        cfg["reservedSystemCPUs"] = system_cpus
    cfg["topologyManagerPolicy"] = k.topology_manager_policy
    cfg["topologyManagerScope"] = k.topology_manager_scope
    cfg["memoryManagerPolicy"] = "Static"
    mem_nodes = sorted(n for n, v in node.topology.nodes.items() if (v.memory_total or 0) > 0) \
        or sorted(node.topology.nodes) or [0]
    per_node: dict[int, dict[str, int]] = {n: {} for n in mem_nodes}
    total_mem = k.system_reserved_memory + k.kube_reserved_memory + k.eviction_hard_memory
    for n, b in split_even(total_mem, mem_nodes).items():
        if b:
            per_node[n]["memory"] = b
    huge_total: dict[str, int] = {}
    for h in (profile.hugepages if profile is not None else ()):
        if h.reserved and h.node is not None:
            name = f"hugepages-{format_size_exact(h.page_size)}"
            per_node.setdefault(h.node, {})
            per_node[h.node][name] = per_node[h.node].get(name, 0) + h.reserved * h.page_size
            huge_total[name] = huge_total.get(name, 0) + h.reserved * h.page_size
    system_reserved = {}
    if k.system_reserved_memory:
        system_reserved["memory"] = quantity(k.system_reserved_memory)
    for name, b in sorted(huge_total.items()):
        system_reserved[name] = quantity(b)
    if system_reserved:
        cfg["systemReserved"] = system_reserved
    if k.kube_reserved_memory:
        cfg["kubeReserved"] = {"memory": quantity(k.kube_reserved_memory)}
    cfg["evictionHard"] = {"memory.available": quantity(k.eviction_hard_memory)}
    cfg["reservedMemory"] = [
        {"numaNode": n, "limits": {t: quantity(b) for t, b in sorted(lim.items())}}
        for n, lim in sorted(per_node.items()) if lim
    ]
    return cfg
