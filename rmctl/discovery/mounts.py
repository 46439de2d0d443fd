"""What is mounted where, from ``proc/mounts`` under a root (any file system, not only hugetlbfs)."""

from __future__ import annotations

from rmctl.discovery import paths
from rmctl.discovery.parse import parse_mounts
from rmctl.discovery.root import Root


def mount_at(root: Root, path: str) -> tuple[str, str, dict[str, str]] | None:
    """Return (source, fstype, options) of the mount at absolute ``path``, or None.

    The last line for ``path`` wins: a later mount hides the earlier ones
    there (proc(5), /proc/[pid]/mounts lists mounts in mount order).
    """
    found = None
    for src, mpath, fstype, opts in parse_mounts(root.read(paths.PROC_MOUNTS) or ""):
        if mpath == path:
            found = (src, fstype, opts)
    return found
