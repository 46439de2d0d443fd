"""The node fingerprint: a digest of the topology's shape, stored in plans and the state.

A plan made on one node must not be applied to another, nor to the same
node after its shape changed under it; the reservations state records the
fingerprint for the same reason (the kubelet's cpu_manager_state stores a
checksum and refuses a state written for another CPU topology,
pkg/kubelet/cm/cpumanager/state/state_checkpoint.go).

What goes in (``shape(node)``), and why:

- ``arch``: another kind of machine.
- the present CPUs (``cpu/present``, or the cpuN directories): another
  machine, or CPUs hot-added or removed.
- the NUMA node ids: another machine, or memory hot-plugged as a new node.

What stays out, and why:

- online/offline state and per-CPU topology ids: the kernel removes
  ``topology/`` of an offline CPU, and ``rmctl cpu reconcile`` must still
  load the state to report reservations that hold a CPU taken offline
  (issue #3); actions carry the values they expect, so a plan made before a
  CPU went offline is still caught as stale by the executor.
- per-node memory totals: on VMs with lazily initialised or ballooned
  memory (this project's Firecracker VMs: ``deferred_init=lazy``) node0's
  MemTotal moved between 4.2 and 7.5 GiB from one run to the next.
- free memory and hugepage counts (they change every second, and rmctl
  changes them itself), the kernel version (an upgrade does not move CPUs),
  the root path and capture time (a snapshot of a node has that node's
  fingerprint), host names and serial numbers.
"""

from __future__ import annotations

import hashlib
import json

#: bumped if the shape's content changes (old fingerprints then never match)
FINGERPRINT_VERSION = 2


def shape(node) -> dict:
    """Return the plain data the fingerprint digests (stable key order, JSON-safe)."""
    t = node.topology
    present = sorted(c.id for c in t.cpus.values() if c.present)
    return {"v": FINGERPRINT_VERSION, "arch": node.source.arch, "present": present,
            "nodes": sorted(t.nodes)}


def fingerprint(node) -> str:
    """Return the sha256 hex digest (64 characters) of the node's shape."""
    text = json.dumps(shape(node), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
