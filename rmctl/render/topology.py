"""The topology document (``rmctl topology -o json``): summary plus detail.

``summary`` keys are a contract (issue #2): pus_online, online_cpus,
offline_cpus, packages, cores, threads_per_core_max, numa_nodes [{id, cpus,
memory_bytes}], caches [{level, type, size_bytes, instances}].
"""

from __future__ import annotations

from rmctl.model.node import NodeModel
from rmctl.model.record import asdict


def source_data(node: NodeModel) -> dict:
    return asdict(node.source)


def summary_data(node: NodeModel) -> dict:
    t = node.topology
    online = t.online_cpus()
    return {
        "pus_online": len(online),
        "online_cpus": online.to_list(),
        "offline_cpus": t.offline_cpus().to_list(),
        "packages": len([p for p in t.packages.values() if p.cpus]),
        "cores": len([c for c in t.cores.values() if c.cpus]),
        "threads_per_core_max": t.threads_per_core_max(),
        "numa_nodes": [
            {"id": n.id, "cpus": n.cpus.to_list(), "memory_bytes": n.memory_total}
            for n in t.nodes.values()
        ],
        "caches": t.summary_caches(),
        "isolated_cpus": t.isolated_cpus().to_list(),
        "allowed_cpus": t.allowed_cpus().to_list(),
        "memory_bytes": node.memory.total,
    }


def pool_data(p) -> dict:
    return {"page_size": p.page_size, "node": p.node, "total": p.total, "free": p.free,
            "surplus": p.surplus, "reserved": p.reserved, "overcommit": p.overcommit}


def topology_data(node: NodeModel) -> dict:
    """Return the whole topology document body."""
    t = node.topology
    data = {
        "source": source_data(node),
        "summary": summary_data(node),
        "cpus": [
            {"id": c.id, "online": c.online, "package": c.package, "package_id": c.package_id,
             "die_id": c.die_id, "cluster_id": c.cluster_id, "core": c.core, "core_id": c.core_id,
             "node": c.node, "siblings": c.siblings.to_list(), "core_type": c.core_type,
             "capacity": c.capacity, "isolated": c.isolated, "nohz_full": c.nohz_full,
             "allowed": c.allowed}
            for c in sorted(t.cpus.values(), key=lambda c: c.id)
        ],
        "cores": [
            {"key": k.key, "core_id": k.core_id, "package": k.package, "cpus": k.cpus.to_list(),
             "die_id": k.die_id, "cluster_id": k.cluster_id, "core_type": k.core_type}
            for k in t.cores.values()
        ],
        "packages": [
            {"key": p.key, "package_id": p.package_id, "cpus": p.cpus.to_list(), "cores": len(p.cores)}
            for p in t.packages.values()
        ],
        "numa_nodes": [
            {"id": n.id, "cpus": n.cpus.to_list(), "memory_total": n.memory_total,
             "memory_free": n.memory_free, "distances": {str(k): v for k, v in n.distances.items()},
             "hugepages": [pool_data(p) for p in n.hugepages]}
            for n in t.nodes.values()
        ],
        "caches": [
            {"level": c.level, "type": c.type, "size_bytes": c.size_bytes, "cpus": c.cpus.to_list(),
             "id": c.id, "line_size": c.line_size, "ways": c.ways}
            for c in t.caches
        ],
        "memory": {"total": node.memory.total, "free": node.memory.free,
                   "available": node.memory.available, "hugepage_size": node.memory.hugepage_size},
        "hugepages": [pool_data(p) for p in node.hugepages],
        "mounts": [{"path": m.path, "page_size": m.page_size, "options": m.options} for m in node.mounts],
        "findings": [asdict(f) for f in node.findings],
    }
    if node.devices:
        data["devices"] = [d.to_data() if hasattr(d, "to_data") else d for d in node.devices]
    return data
