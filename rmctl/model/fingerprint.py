"""The node fingerprint: a digest of the topology's shape, stored in plans and the state.

A plan made on one node must not be applied to another, nor to the same
node after its shape changed under it; the reservations state records the
fingerprint for the same reason (the kubelet's cpu_manager_state stores a
checksum and refuses a state written for another CPU topology,
pkg/kubelet/cm/cpumanager/state/state_checkpoint.go).

What goes in (``shape(node)``), and why:

- ``arch`` and the present CPUs: another machine, or CPUs hot-added.
- per online CPU its raw ``physical_package_id``, ``core_id`` and NUMA node:
  the placement every reservation and pin depends on.  A CPU taken offline
  changes the fingerprint on purpose: plans and reservations that name it
  can no longer run there, so they read as stale and are re-planned.
- NUMA node ids with their memory totals rounded to GiB: per-node hugepage
  plans depend on them; rounding absorbs the few MiB the kernel reserves
  differently from boot to boot.

What stays out: free memory and hugepage counts (they change every
second, and rmctl changes them itself), the kernel version (an upgrade
does not move CPUs), the root path and capture time (a snapshot of a node
has that node's fingerprint), host names and serial numbers.
"""

from __future__ import annotations

import hashlib
import json

GIB = 1 << 30
#: bumped if the shape's content changes (old fingerprints then never match)
FINGERPRINT_VERSION = 1


def shape(node) -> dict:
    """Return the plain data the fingerprint digests (stable key order, JSON-safe)."""
    t = node.topology
    present = sorted(c.id for c in t.cpus.values() if c.present)
    cpus = [[c.id, c.package_id, c.core_id, c.node]
            for c in sorted(t.cpus.values(), key=lambda c: c.id) if c.online]
    nodes = [[n.id, None if n.memory_total is None else round(n.memory_total / GIB)]
             for n in sorted(t.nodes.values(), key=lambda n: n.id)]
    return {"v": FINGERPRINT_VERSION, "arch": node.source.arch, "present": present,
            "cpus": cpus, "nodes": nodes}


def fingerprint(node) -> str:
    """Return the sha256 hex digest (64 characters) of the node's shape."""
    text = json.dumps(shape(node), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
