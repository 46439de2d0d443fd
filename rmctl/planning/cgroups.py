"""Cpuset cgroups for reservations: the actions that create and remove them.

Pure: a :class:`~rmctl.model.cgroup.CpusetHierarchy` (found by
:func:`rmctl.discovery.cgroup.cpuset_hierarchy`) in, Actions out; the
executor applies them.  Kernel rules (Documentation/admin-guide/cgroup-v2.rst
"Cpuset" and "Controlling Controllers", cgroup-v1/cpusets.rst):

* cgroup v2: a cgroup gets the cpuset files only when its parent lists
  ``cpuset`` in ``cgroup.subtree_control``, and a parent may enable only
  what its own ``cgroup.controllers`` offers, so ``+cpuset`` is written
  top-down into every ancestor's ``cgroup.subtree_control``.  The child
  then gets ``cpuset.cpus``, ``cpuset.mems`` and, for a partition,
  ``cpuset.cpus.partition`` (``root`` or ``isolated``; Linux 5.15+ for
  ``isolated``), which reads back ``isolated invalid (<reason>)`` when the
  kernel cannot make it valid (CPUs not exclusive among siblings, parent
  not a valid partition root, no CPU left in the parent).
* cgroup v1: a child needs ``cpuset.cpus`` and ``cpuset.mems`` written
  before any task joins; there are no partitions.

A reservation's cgroup is ``<mount>[/<parent>]/rmctl-<name>``.
"""

from __future__ import annotations

import os

from rmctl.errors import UsageError
from rmctl.model.cgroup import PARTITIONS, CpusetHierarchy
from rmctl.model.cpu_actions import AttachProcess, EnableController, RemoveCgroup, SetPartition
from rmctl.model.plan import Action, MakeDir, WriteValue


def create_actions(h: CpusetHierarchy, name: str, cpus: str, mems: str, *, partition: str | None = None,
                   move_pid: int | None = None) -> list[Action]:
    """Return the actions creating the reservation's cpuset cgroup (and moving ``move_pid`` in).

    v2: ``+cpuset`` into each ancestor's ``cgroup.subtree_control``, top
    down; then the directory, ``cpuset.cpus``, ``cpuset.mems``, the
    partition type, and last the PID (a task joins only once the cgroup
    has CPUs and memory nodes: v1 refuses it before, ENOSPC).
    """
    if partition is not None and partition not in PARTITIONS:
        raise UsageError(f"unknown partition type {partition!r}", hint="use isolated or root")
    if partition is not None and h.version != 2:
        raise UsageError("cpuset partitions need cgroup v2; this node's cpuset hierarchy is cgroup v1",
                         hint="drop --partition (the cgroup still confines its tasks to the CPUs)")
    path = h.path(name)
    actions: list[Action] = []
    if h.version == 2:
        actions += [EnableController(path=f"{a}/cgroup.subtree_control", controller="cpuset")
                    for a in h.ancestors()]
    actions += [
        MakeDir(path=path),
        WriteValue(path=f"{path}/cpuset.cpus", value=cpus, compare="cpulist"),
        WriteValue(path=f"{path}/cpuset.mems", value=mems, compare="cpulist"),
    ]
    if partition is not None:
        actions.append(SetPartition(path=f"{path}/cpuset.cpus.partition", value=partition))
    if move_pid is not None:
        actions.append(AttachProcess(path=f"{path}/cgroup.procs", pid=int(move_pid)))
    return actions


def record(h: CpusetHierarchy, name: str, partition: str | None) -> dict:
    """Return what the state records of a reservation's cgroup: {path, version, partition, mount}."""
    return {"path": h.path(name), "version": h.version, "partition": partition, "mount": h.mount}


def remove_actions(record: dict | None) -> list[Action]:
    """Return the actions removing a recorded cgroup ({path, version, ...}); [] when none."""
    if not record or not record.get("path"):
        return []
    path = record["path"]
    if not os.path.basename(path).startswith("rmctl-"):
        raise UsageError(f"refusing to remove {path}: not an rmctl cgroup")
    mount = record.get("mount")
    if record.get("version") == 2 and mount and os.path.dirname(path) != mount:
        # v2: the parent has cpuset enabled for its children, so it may hold
        # no process ("no internal processes"); only the root is exempt.
        return [RemoveCgroup(path=path, to=f"{mount}/cgroup.procs")]
    return [RemoveCgroup(path=path)]
