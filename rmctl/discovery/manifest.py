"""The capture manifest: every file under a root that discovery may read.

``MANIFEST`` is the list of root-relative globs that discovery may read
(``*`` matches within one path component, ``**`` any number of them), built
from the names in :mod:`rmctl.discovery.paths`, one section per area (CPUs
and caches, NUMA nodes and memory, hugepages, devices).  The same list
drives ``rmctl snapshot capture`` (:mod:`rmctl.discovery.capture`), and a
test records every path discovery opens on every fixture and on this machine
and checks it matches, so capture and discovery cannot drift apart (ghw's
static capture list beside its capture code, pkg/snapshot/clonetree_linux.go).
An area that starts reading a new file adds its glob here.

The cgroup cpuset files of the capturing process are not a fixed glob (the
mount point and the cgroup path vary): ``dynamic_paths(root)`` names them,
from ``proc/mounts`` and ``proc/self/cgroup`` (see discovery/cgroup.py).

``EXCLUDE`` is never captured, whatever a glob says: machine identity (ghw's
snapshot rules: no DMI ids, hostname, boot_id, machine-id, serials).
"""

from __future__ import annotations

import fnmatch
import functools
import re

from rmctl.discovery import paths as P
from rmctl.discovery.cgroup import cgroup_cpus_files
from rmctl.discovery.inuse import GLOBS as _INUSE_GLOBS
from rmctl.discovery.root import FACTS_FILE, HWLOC_NOFILE_INFO, Root

_CPU = f"{P.SYS_CPU}/cpu*"
_NODE = f"{P.SYS_NODE}/node*"
_DEV = f"{P.SYS_PCI_DEVICES}/*"
_NET = ("net/*", "virtio*/net/*")

#: Root-relative globs of every file discovery reads.
MANIFEST: tuple[str, ...] = (
    FACTS_FILE,
    HWLOC_NOFILE_INFO,
    # CPUs, caches, frequencies (discovery/cpu.py, cache.py)
    P.CPU_ONLINE, P.CPU_PRESENT, P.CPU_POSSIBLE, P.CPU_OFFLINE, P.CPU_ISOLATED, P.CPU_NOHZ_FULL,
    *P.SYS_CPU_TYPES,
    f"{_CPU}/online",
    f"{_CPU}/cpu_capacity",
    f"{_CPU}/topology/*",
    f"{_CPU}/cache/index*/*",
    f"{_CPU}/cpufreq/base_frequency",
    f"{_CPU}/cpufreq/cpuinfo_max_freq",
    f"{_CPU}/acpi_cppc/highest_perf",
    P.SYS_CPU_BYTEORDER,
    # NUMA nodes, memory, hugepage pools, THP (discovery/numa.py, memory.py)
    f"{P.SYS_NODE}/has_*",
    f"{P.SYS_NODE}/online", f"{P.SYS_NODE}/possible",
    f"{_NODE}/cpulist", f"{_NODE}/cpumap", f"{_NODE}/meminfo", f"{_NODE}/distance",
    f"{_NODE}/hugepages/hugepages-*/*",
    f"{P.SYS_HUGEPAGES}/hugepages-*/*",
    f"{P.SYS_THP}/enabled",
    P.PROC_MEMINFO, P.PROC_MOUNTS, P.PROC_CMDLINE, P.PROC_CPUINFO,
    P.PROC_SELF_STATUS, P.PROC_SELF_CGROUP, P.PROC_SELF_CPUSET,
    # free blocks per order, so ``hugepages show --root SNAPSHOT`` gives the
    # machine's "obtainable now" estimate and gigantic size (discovery/buddyinfo.py)
    P.PROC_BUDDYINFO,
    # PCI devices and their per-kind files (discovery/pci.py, netdev.py, nvme.py);
    # ``config`` and ``serial*`` are never captured
    *(f"{_DEV}/{f}" for f in P.PCI_ID_FILES + P.PCI_LOCALITY_FILES + P.PCI_SRIOV_FILES + P.PCI_LINK_FILES),
    f"{_DEV}/{P.PCI_LABEL_FILE}",
    *(f"{_DEV}/{link}" for link in P.PCI_LINKS),
    f"{_DEV}/virtfn*",
    *(f"{_DEV}/{n}/{f}" for n in _NET for f in P.NET_FILES),
    *(f"{_DEV}/infiniband/*/ports/*/{f}" for f in P.IB_PORT_FILES),
    *(f"{_DEV}/nvme/*/{f}" for f in P.NVME_FILES),
    f"{_DEV}/nvme/*/nvme*/size",
    f"{_DEV}/virtio*/block/*/size",  # a file, so that the block device's directory is kept
    f"{_DEV}/drm/*/dev",  # likewise for card0, renderD128
    # what the node uses itself: mounts' and swap's disks, the default route's NIC
    # (discovery/inuse.py; capture keeps default routes only and standard mount points)
    *_INUSE_GLOBS,
    # the kubelet's checkpoints at its default root (discovery/kubelet/); capture
    # stores them scrubbed by discovery/kubelet/capture.py, never as they are
    *P.kubelet_checkpoints(),
)

#: never captured, whatever a glob says: machine identity (ghw's snapshot rules)
EXCLUDE: tuple[str, ...] = (
    "sys/class/dmi/**", "sys/devices/virtual/dmi/**", "sys/firmware/dmi/**",
    "proc/sys/kernel/hostname", "proc/sys/kernel/random/**", "etc/machine-id",
    "**/serial", "**/serial_number", "**/uuid", "**/boot_id", P.PROC_SYSINFO,
)


# -- matching ---------------------------------------------------------------

def _match_parts(pat: list[str], parts: list[str]) -> bool:
    if not pat:
        return not parts
    if pat[0] == "**":
        return any(_match_parts(pat[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pat[0]) and _match_parts(pat[1:], parts[1:])


def _part_re(part: str) -> str:
    """Return the regex of one glob component: ``*`` and ``?`` never cross ``/``."""
    out, i = [], 0
    while i < len(part):
        ch = part[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[" and "]" in part[i + 1:]:
            end = part.index("]", i + 1)
            out.append("[" + part[i + 1:end].replace("!", "^", 1) + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


@functools.cache
def _glob_re(glob: str) -> re.Pattern[str]:
    """Return a compiled regex for one manifest glob (``**`` spans any number of components)."""
    rx = ""
    for i, part in enumerate(glob.split("/")):
        if part == "**":
            rx += "(?:/[^/]+)*" if i else "(?:[^/]+/)*"
        elif i and not rx.endswith("(?:[^/]+/)*"):
            rx += "/" + _part_re(part)
        else:
            rx += _part_re(part)
    return re.compile(rx + r"\Z")


def matches(rel: str, globs: tuple[str, ...] | list[str]) -> bool:
    """Return True when root-relative file path ``rel`` matches one of ``globs``."""
    rel = rel.strip("/")
    return any(_glob_re(g).match(rel) for g in globs)


def _prefix_of(pat: list[str], parts: list[str]) -> bool:
    """Return True when the directory ``parts`` can hold a match of ``pat``."""
    for i, p in enumerate(parts):
        if i >= len(pat):
            return False
        if pat[i] == "**":
            return True
        if not fnmatch.fnmatchcase(p, pat[i]):
            return False
    return True


def covers(rel: str, globs: tuple[str, ...] | list[str] = MANIFEST, extra: list[str] | tuple[str, ...] = ()) -> bool:
    """Return True when the manifest allows reading ``rel`` (a file, or a listed ``dir/``)."""
    globs = list(globs) + list(extra)
    if rel.endswith("/") or rel == "":
        parts = [p for p in rel.strip("/").split("/") if p]
        return any(_prefix_of(g.split("/"), parts) for g in globs)
    return matches(rel, globs)


def dynamic_paths(root: Root) -> list[str]:
    """Return the cgroup cpuset files discovery reads for this root's process."""
    return cgroup_cpus_files(root.read(P.PROC_MOUNTS), root.read(P.PROC_SELF_CGROUP),
                             root.read(P.PROC_SELF_CPUSET))
