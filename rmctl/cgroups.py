"""Cpuset cgroups for reservations: find the hierarchy, plan creation and removal.

Two layouts (kernel Documentation/admin-guide/cgroup-v2.rst and
cgroup-v1/cpusets.rst):

* cgroup v2: a ``cgroup2`` mount whose ``cgroup.controllers`` offers
  ``cpuset`` (the GPU hosts, pure v2 at /sys/fs/cgroup).  A child gets
  ``cpuset.cpus``, ``cpuset.mems`` and optionally ``cpuset.cpus.partition``
  once the parent enables ``+cpuset`` in ``cgroup.subtree_control``;
* cgroup v1: a ``cgroup`` mount with the ``cpuset`` option (this VM:
  /sys/fs/cgroup/cpuset beside a v2 mount holding only hugetlb).  A child
  needs ``cpuset.cpus`` and ``cpuset.mems`` written before any task joins.

A reservation's cgroup is ``<hierarchy>/rmctl-<name>``.  Reads go through
a Root; every change is an Action (rmctl.model.cpu_actions, plan.MakeDir,
WriteValue) applied by the executor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rmctl.errors import DiscoveryError, UsageError

PARTITIONS = ("isolated", "root")


@dataclass(frozen=True)
class Hierarchy:
    """The cpuset hierarchy: cgroup ``version`` (1 or 2) mounted at ``mount`` (absolute)."""

    version: int
    mount: str

    def path(self, name: str) -> str:
        return f"{self.mount}/rmctl-{name}"


def detect(root) -> Hierarchy:
    """Return the cpuset hierarchy of the live root (v2 preferred when it offers cpuset)."""
    from rmctl.discovery import paths
    from rmctl.discovery.parse import parse_mounts

    text = root.read(paths.PROC_MOUNTS) or ""
    v1 = None
    for _src, mpath, fstype, opts in parse_mounts(text):
        rel = mpath.lstrip("/")
        if fstype == "cgroup2":
            controllers = (root.read(f"{rel}/cgroup.controllers") or "").split()
            if "cpuset" in controllers:
                return Hierarchy(2, mpath)
        elif fstype == "cgroup" and "cpuset" in opts and v1 is None:
            v1 = Hierarchy(1, mpath)
    if v1 is not None:
        return v1
    raise DiscoveryError("no cpuset cgroup hierarchy is mounted",
                         hint="mount cgroup2 with the cpuset controller, or the v1 cpuset hierarchy")


def create_actions(h: Hierarchy, name: str, cpus: str, mems: str, *, partition: str | None = None,
                   move_pid: int | None = None) -> list:
    """Return the actions creating the reservation's cpuset cgroup (and moving ``move_pid`` in)."""
    from rmctl.model.cpu_actions import AttachProcess, EnableController, SetPartition
    from rmctl.model.plan import MakeDir, WriteValue

    if partition is not None and partition not in PARTITIONS:
        raise UsageError(f"unknown partition type {partition!r}", hint="use isolated or root")
    if partition is not None and h.version != 2:
        raise UsageError("cpuset partitions need cgroup v2; this node's cpuset hierarchy is cgroup v1",
                         hint="drop --partition (the cgroup still confines its tasks to the CPUs)")
    path = h.path(name)
    actions: list = []
    if h.version == 2:
        actions.append(EnableController(path=f"{h.mount}/cgroup.subtree_control", controller="cpuset"))
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


def remove_actions(record: dict | None) -> list:
    """Return the actions removing a recorded cgroup ({path, version, ...}); [] when none."""
    from rmctl.model.cpu_actions import RemoveCgroup

    if not record or not record.get("path"):
        return []
    path = record["path"]
    if not os.path.basename(path).startswith("rmctl-"):
        raise UsageError(f"refusing to remove {path}: not an rmctl cgroup")
    return [RemoveCgroup(path=path)]
