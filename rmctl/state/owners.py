"""Owners of reservations: a process identified by its PID and start time, read through a Root.

``/proc/PID/stat`` field 22 (starttime, clock ticks since boot; proc(5))
tells a PID reused by another process from the owner: the kubelet's
podresources and systemd's pidfd-less code face the same problem.
"""

from __future__ import annotations

from rmctl.discovery import paths
from rmctl.discovery.parse import stat_fields
from rmctl.state.records import Owner


def parse_stat_start_time(text: str) -> int | None:
    """Return field 22 (starttime) of a /proc/PID/stat line, or None (rmctl.discovery.parse.stat_fields)."""
    fields = stat_fields(text)
    try:
        return int(fields[1][19]) if fields else None
    except (IndexError, ValueError):
        return None


def owner_of(root, pid: int) -> Owner | None:
    """Return the Owner record of a live process read through ``root``, or None when there is none."""
    stat = root.read(paths.proc_pid_file(pid, "stat"))
    if stat is None:
        return None
    start = parse_stat_start_time(stat)
    if start is None:
        return None
    cmdline = _argv(root, pid)
    if not cmdline:
        cmdline = (root.read(paths.proc_pid_file(pid, "comm")) or "").strip()
    return Owner(pid=int(pid), start_time=start, command=cmdline[:200])


def _argv(root, pid: int) -> str:
    """Return the command line of ``pid``, its arguments separated by spaces."""
    rel = paths.proc_pid_file(pid, "cmdline")
    # Root.read drops NUL bytes, the argv separators: read the raw bytes for them.
    raw = root.read_bytes(rel)
    if raw is None:
        return ""
    return " ".join(a.decode("utf-8", "replace") for a in raw.split(b"\0") if a)


def owner_alive(root, owner: Owner | None) -> bool:
    """Return True when ``owner`` (or no owner) still runs: same PID and same start time."""
    if owner is None:
        return True
    now = owner_of(root, owner.pid)
    return now is not None and now.start_time == owner.start_time
