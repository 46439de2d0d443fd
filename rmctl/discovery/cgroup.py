"""Cgroups under a root: the CPUs this process may use, and the cpuset hierarchy reservations use.

``allowed_cpus``: from the process's cgroup cpuset (snapshots) or affinity (live).
``cpuset_hierarchy``: where the cpuset controller is mounted (v2 or v1), for
the reservations' cgroups (their actions: :mod:`rmctl.planning.cgroups`).

Live: ``sched_getaffinity`` already reflects the cgroup cpuset and any
taskset.  Snapshot: the cpuset of the captured process's cgroup, found the
way hwloc does (hwloc/topology-linux.c, hwloc_find_linux_cgroup_mntpnt):

1. ``proc/mounts`` names the cgroup mounts: ``cgroup2`` (unified),
   ``cgroup`` with the ``cpuset`` option (v1), or the legacy ``cpuset``
   filesystem (often at /dev/cpuset, files without the ``cpuset.`` prefix).
2. ``proc/self/cgroup`` (``0::/path`` for v2, ``N:cpuset:/path`` for v1) or
   ``proc/self/cpuset`` (legacy) names the process's cgroup.
3. The cpus file there: v2 ``cpuset.cpus.effective`` (walking up to the
   nearest ancestor that has it: a child without the cpuset controller
   inherits), v1 ``cpuset.effective_cpus`` else ``cpuset.cpus``, legacy
   ``cpus``.  Documentation/admin-guide/cgroup-v2.rst "Cpuset".

Then ``proc/self/status`` ``Cpus_allowed_list`` (the capturing process's
affinity, which rmctl's capture stores) narrows it further.
"""

from __future__ import annotations

import posixpath

from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.parse import cpuset_cgroup_paths, parse_mounts, parse_status_field
from rmctl.discovery.root import Root
from rmctl.errors import DiscoveryError, ParseError, UsageError
from rmctl.model.cgroup import CpusetHierarchy
from rmctl.model.node import Finding


def cgroup_cpus_files(mounts_text: str | None, self_cgroup: str | None,
                      self_cpuset: str | None) -> list[str]:
    """Return the root-relative cpus files to try, nearest first (pure: no reads).

    For v2 the list holds the cgroup and each ancestor up to the mount.
    """
    if not mounts_text:
        return []
    v1_path, v2_path = cpuset_cgroup_paths(self_cgroup)
    legacy_path = (self_cpuset or "").strip() or None
    out: list[str] = []
    for _src, mnt, fstype, opts in parse_mounts(mounts_text):
        base = mnt.strip("/")
        if fstype == "cgroup" and "cpuset" in opts:
            p = v1_path or legacy_path
            if p:
                d = posixpath.join(base, p.strip("/")).rstrip("/")
                out += [f"{d}/cpuset.effective_cpus", f"{d}/cpuset.cpus"]
        elif fstype == "cpuset" and legacy_path:
            d = posixpath.join(base, legacy_path.strip("/")).rstrip("/")
            out += [f"{d}/cpus", f"{d}/cpuset.cpus"]
        elif fstype == "cgroup2" and v2_path is not None:
            rel = v2_path.strip("/")
            while True:
                d = posixpath.join(base, rel).rstrip("/")
                out.append(f"{d}/cpuset.cpus.effective")
                if not rel:
                    break
                rel = posixpath.dirname(rel)
    return [p for p in out if p and not p.startswith("/")]


def allowed_cpus(root: Root, online: CpuSet, findings: list[Finding]) -> CpuSet:
    """Return the online CPUs this process (or the captured one) may run on."""
    if root.is_live:
        import os

        try:
            return CpuSet(os.sched_getaffinity(0)) & online
        except OSError:
            return online
    allowed = online
    files = cgroup_cpus_files(root.read(paths.PROC_MOUNTS), root.read(paths.PROC_SELF_CGROUP),
                              root.read(paths.PROC_SELF_CPUSET))
    for rel in files:
        text = root.read(rel)
        if text is None or not text.strip():
            continue  # empty cpuset.cpus means "inherit": keep walking
        try:
            allowed = allowed & CpuSet.parse(text)
        except ParseError as e:
            findings.append(Finding("bad_cpuset", f"{rel}: {e}", rel))
        break
    text = root.read(paths.PROC_SELF_STATUS)
    value = parse_status_field(text, "Cpus_allowed_list") if text else None
    if value:
        try:
            allowed = allowed & CpuSet.parse(value)
        except ParseError:
            findings.append(Finding("bad_status", "proc/self/status Cpus_allowed_list does not parse",
                                    paths.PROC_SELF_STATUS))
    if allowed != online:
        findings.append(Finding("cpuset_restricted",
                                f"this process may use only CPUs {allowed} of online {online}",
                                files[0] if files else paths.PROC_SELF_STATUS, "info"))
    return allowed


# -- the cpuset hierarchy reservations use ------------------------------------------
#
# Two layouts (kernel Documentation/admin-guide/cgroup-v2.rst "Cpuset" and
# "Controlling Controllers", cgroup-v1/cpusets.rst):
#
# * cgroup v2: a ``cgroup2`` mount whose root ``cgroup.controllers`` offers
#   ``cpuset`` (the GPU hosts: pure v2 at /sys/fs/cgroup, shape in
#   ../shared/fixtures/nodes/gpu-node.tar.gz).
# * cgroup v1: a ``cgroup`` mount with the ``cpuset`` option (this VM:
#   /sys/fs/cgroup/cpuset beside a v2 mount at /sys/fs/cgroup/unified that
#   offers only hugetlb).
#
# On a hybrid host the v2 mount does not list ``cpuset`` (a controller bound
# to a v1 hierarchy is not offered on v2), so v1 is chosen; a host whose v2
# mount offers cpuset uses v2 even when a v1 cpuset mount also exists.

def _clean_parent(parent: str | None) -> str:
    parent = (parent or "").strip("/")
    if any(p in ("", ".", "..") for p in parent.split("/")) and parent:
        raise UsageError(f"bad parent cgroup {parent!r}", hint="give a path below the cgroup mount, e.g. rmctl.slice")
    return parent


def cpuset_hierarchy(root: Root, parent: str | None = None) -> CpusetHierarchy:
    """Return the cpuset hierarchy of ``root`` (v2 when its mount offers cpuset, else v1).

    DiscoveryError (exit 3) when none is usable, saying why: a v2 mount
    without cpuset in ``cgroup.controllers`` is named with what it offers.
    UsageError (2) when ``parent`` is not an existing cgroup there.
    """
    parent = _clean_parent(parent)
    text = root.read(paths.PROC_MOUNTS) or ""
    v1 = None
    v2_without: list[tuple[str, list[str]]] = []
    found = None
    for _src, mpath, fstype, opts in parse_mounts(text):
        if fstype == "cgroup2":
            controllers = (root.read(f"{mpath.lstrip('/')}/cgroup.controllers") or "").split()
            if "cpuset" in controllers:
                found = CpusetHierarchy(2, mpath, parent)
                break
            v2_without.append((mpath, controllers))
        elif fstype == "cgroup" and "cpuset" in opts and v1 is None:
            v1 = CpusetHierarchy(1, mpath, parent)
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
    if parent and not root.isdir(found.parent_path().lstrip("/")):
        raise UsageError(f"no cgroup {found.parent_path()}", hint=f"give an existing cgroup below {found.mount}")
    return found
