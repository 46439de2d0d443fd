"""The CPUs this process may use, from its cgroup cpuset (snapshots) or affinity (live).

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
from rmctl.discovery.parse import parse_mounts, parse_status_field
from rmctl.discovery.root import Root
from rmctl.errors import ParseError
from rmctl.model.node import Finding


def cgroup_cpus_files(mounts_text: str | None, self_cgroup: str | None,
                      self_cpuset: str | None) -> list[str]:
    """Return the root-relative cpus files to try, nearest first (pure: no reads).

    For v2 the list holds the cgroup and each ancestor up to the mount.
    """
    if not mounts_text:
        return []
    v1_path = v2_path = None
    for line in (self_cgroup or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            v2_path = path
        elif "cpuset" in controllers.split(","):
            v1_path = path
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
