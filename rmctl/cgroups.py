"""Cpuset cgroups for reservations: find the hierarchy, plan creation and removal.

Two layouts (kernel Documentation/admin-guide/cgroup-v2.rst "Cpuset" and
"Controlling Controllers", cgroup-v1/cpusets.rst):

* cgroup v2: a ``cgroup2`` mount whose root ``cgroup.controllers`` offers
  ``cpuset`` (the GPU hosts: pure v2 at /sys/fs/cgroup, shape in
  ../shared/fixtures/nodes/gpu-node.tar.gz).  A cgroup gets the cpuset
  files only when its parent lists ``cpuset`` in ``cgroup.subtree_control``,
  and a parent may enable only what its own ``cgroup.controllers`` offers,
  so ``+cpuset`` is written top-down into every ancestor's
  ``cgroup.subtree_control``.  The child then gets ``cpuset.cpus``,
  ``cpuset.mems`` and, for a partition, ``cpuset.cpus.partition``
  (``root`` or ``isolated``; Linux 5.15+ for ``isolated``), which reads back
  ``isolated invalid (<reason>)`` when the kernel cannot make it valid
  (CPUs not exclusive among siblings, parent not a valid partition root,
  no CPU left in the parent).
* cgroup v1: a ``cgroup`` mount with the ``cpuset`` option (this VM:
  /sys/fs/cgroup/cpuset beside a v2 mount at /sys/fs/cgroup/unified that
  offers only hugetlb).  A child needs ``cpuset.cpus`` and ``cpuset.mems``
  written before any task joins; there are no partitions.

On a hybrid host the v2 mount does not list ``cpuset`` (a controller bound
to a v1 hierarchy is not offered on v2), so v1 is chosen; a host whose v2
mount offers cpuset uses v2 even when a v1 cpuset mount also exists.

A reservation's cgroup is ``<mount>[/<parent>]/rmctl-<name>``.  Reads go
through a Root; every change is an Action (rmctl.model.cpu_actions,
plan.MakeDir, WriteValue) applied by the executor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rmctl.errors import DiscoveryError, UsageError

PARTITIONS = ("isolated", "root")


@dataclass(frozen=True)
class Hierarchy:
    """The cpuset hierarchy: cgroup ``version`` (1 or 2) mounted at ``mount`` (absolute).

    ``parent`` is the cgroup (relative to the mount, '' for the mount's
    root) under which rmctl makes its cgroups.
    """

    version: int
    mount: str
    parent: str = ""

    def parent_path(self) -> str:
        """Return the absolute path of the parent cgroup."""
        return os.path.join(self.mount, self.parent) if self.parent else self.mount

    def path(self, name: str) -> str:
        """Return the absolute path of reservation ``name``'s cgroup."""
        return f"{self.parent_path()}/rmctl-{name}"

    def ancestors(self) -> list[str]:
        """Return the cgroups from the mount's root down to the parent (absolute paths)."""
        out = [self.mount]
        for part in filter(None, self.parent.split("/")):
            out.append(f"{out[-1]}/{part}")
        return out


def _rel(path: str) -> str:
    return path.lstrip("/")


def _clean_parent(parent: str | None) -> str:
    parent = (parent or "").strip("/")
    if any(p in ("", ".", "..") for p in parent.split("/")) and parent:
        raise UsageError(f"bad parent cgroup {parent!r}", hint="give a path below the cgroup mount, e.g. rmctl.slice")
    return parent


def detect(root, parent: str | None = None) -> Hierarchy:
    """Return the cpuset hierarchy of ``root`` (v2 when its mount offers cpuset, else v1).

    DiscoveryError (exit 3) when none is usable, saying why: a v2 mount
    without cpuset in ``cgroup.controllers`` is named with what it offers.
    UsageError (2) when ``parent`` is not an existing cgroup there.
    """
    from rmctl.discovery import paths
    from rmctl.discovery.parse import parse_mounts

    parent = _clean_parent(parent)
    text = root.read(paths.PROC_MOUNTS) or ""
    v1 = None
    v2_without: list[tuple[str, list[str]]] = []
    found = None
    for _src, mpath, fstype, opts in parse_mounts(text):
        if fstype == "cgroup2":
            controllers = (root.read(f"{_rel(mpath)}/cgroup.controllers") or "").split()
            if "cpuset" in controllers:
                found = Hierarchy(2, mpath, parent)
                break
            v2_without.append((mpath, controllers))
        elif fstype == "cgroup" and "cpuset" in opts and v1 is None:
            v1 = Hierarchy(1, mpath, parent)
    found = found or v1
    if found is None:
        if v2_without:
            mpath, controllers = v2_without[0]
            raise DiscoveryError(
                f"cgroup2 at {mpath} does not offer the cpuset controller "
                f"(cgroup.controllers: {' '.join(controllers) or 'none'}), and no v1 cpuset hierarchy is mounted",
                hint="check the kernel command line for cgroup_disable=cpuset or cgroup_no_v1, "
                     "or mount the v1 cpuset hierarchy (mount -t cgroup -o cpuset cpuset /sys/fs/cgroup/cpuset)")
        raise DiscoveryError("no cpuset cgroup hierarchy is mounted",
                             hint="mount cgroup2 with the cpuset controller, or the v1 cpuset hierarchy")
    if parent and not root.isdir(_rel(found.parent_path())):
        raise UsageError(f"no cgroup {found.parent_path()}", hint=f"give an existing cgroup below {found.mount}")
    return found


def create_actions(h: Hierarchy, name: str, cpus: str, mems: str, *, partition: str | None = None,
                   move_pid: int | None = None) -> list:
    """Return the actions creating the reservation's cpuset cgroup (and moving ``move_pid`` in).

    v2: ``+cpuset`` into each ancestor's ``cgroup.subtree_control``, top
    down; then the directory, ``cpuset.cpus``, ``cpuset.mems``, the
    partition type, and last the PID (a task joins only once the cgroup
    has CPUs and memory nodes: v1 refuses it before, ENOSPC).
    """
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


def record(h: Hierarchy, name: str, partition: str | None) -> dict:
    """Return what the state records of a reservation's cgroup: {path, version, partition, mount}."""
    return {"path": h.path(name), "version": h.version, "partition": partition, "mount": h.mount}


def remove_actions(record: dict | None) -> list:
    """Return the actions removing a recorded cgroup ({path, version, ...}); [] when none."""
    from rmctl.model.cpu_actions import RemoveCgroup

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


def partition_state(text):
    """Return (type, reason) from a ``cpuset.cpus.partition`` read-back (see cpu_actions)."""
    from rmctl.model.cpu_actions import partition_state as parse

    return parse(text)
