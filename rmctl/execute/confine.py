"""What a saved plan may touch: the kernel interfaces and paths rmctl manages, whatever the plan says.

A saved plan (``rmctl apply -f plan.json``) is a file anyone who could
write it may have edited; rmctl runs it as root.  Before anything runs,
every action is checked against this allow-list (docs/security.md, "Saved
plans"); an action outside it refuses the whole plan (exit 5,
rmctl.ops.saved_plans).  The list is what rmctl's own planners produce:

- hugepage pools: ``nr_hugepages`` and ``nr_overcommit_hugepages`` of
  ``/sys/kernel/mm/hugepages/hugepages-<kB>kB/`` and ``nr_hugepages`` of
  ``/sys/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/``
  (kernel Documentation/admin-guide/mm/hugetlbpage.rst), a decimal count;
- cpuset cgroups (rmctl.planning.cgroups): below a cgroup or cgroup2
  mount of this machine, the directory ``rmctl-<name>`` and its
  ``cpuset.cpus``, ``cpuset.mems`` (cpulists), ``cpuset.cpus.partition``
  (root, isolated, member) and ``cgroup.procs`` (a PID); ``+cpuset`` in an
  ancestor's ``cgroup.subtree_control``;
- hugetlbfs mounts (rmctl.planning.hugepages): ``mount -t hugetlbfs``
  with hugetlbfs's own options only, ``umount``, and ``mkdir``/``rmdir`` of
  the mount point, at ``/dev/hugepages*`` or below one of
  :data:`MOUNT_TREES`, with no symbolic link on the way and not at or
  around the state dir;
- the reservations state: ``state.json`` of the state dir this apply
  runs with (not one the plan names elsewhere);
- CPU affinity of a process (a PID and a cpulist), and kernel command-line
  arguments (reported, never written: they need a reboot).

Nothing else: no other file, no other file system type, no memory policy
(only ``cpu run`` sets one, for itself).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from rmctl.cpuset import CpuSet
from rmctl.errors import RmctlError
from rmctl.model.plan import Action, Plan

_HUGEPAGE_FILE = re.compile(
    r"\A/sys/kernel/mm/hugepages/hugepages-[1-9][0-9]{0,9}kB/(nr_hugepages|nr_overcommit_hugepages)\Z"
    r"|\A/sys/devices/system/node/node(0|[1-9][0-9]{0,3})/hugepages/hugepages-[1-9][0-9]{0,9}kB/nr_hugepages\Z")
#: a reservation's cgroup directory name (rmctl.state.reservations.NAME_RE, with rmctl.model.cgroup's prefix)
_CGROUP_DIR = re.compile(r"\Armctl-[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")
_CGROUP_FILES = {"write": ("cpuset.cpus", "cpuset.mems"), "cpuset-partition": ("cpuset.cpus.partition",),
                 "cgroup-attach": ("cgroup.procs",)}
_PARTITIONS = ("root", "isolated", "member")
_COUNT = re.compile(r"\A[0-9]{1,10}\Z")

#: trees a hugetlbfs mount point of a saved plan may be below (never the tree itself)
MOUNT_TREES = ("/mnt", "/media", "/srv", "/run/hugepages", "/var/lib/hugetlbfs", "/tmp", "/var/tmp")
#: systemd's dev-hugepages.mount, and the per-size mount points beside it (/dev/hugepages1G, /dev/hugepages-1G)
_DEV_HUGEPAGES = re.compile(r"\A/dev/hugepages[A-Za-z0-9_.-]{0,32}\Z")
#: hugetlbfs's options (fs/hugetlbfs/inode.c hugetlb_fs_parameters) and the ones /proc/mounts adds
_MOUNT_OPTIONS = {"pagesize", "size", "min_size", "nr_inodes", "uid", "gid", "mode", "rw", "relatime"}
_OPTION_VALUE = re.compile(r"\A[0-9A-Za-z%]{0,32}\Z")


def _clean(path: str) -> bool:
    """Return True for an absolute, normalised path without odd characters."""
    return (isinstance(path, str) and path.startswith("/") and os.path.normpath(path) == path
            and not any(c in path for c in "\0\n\r\t") and len(path) <= 4096)


def mount_point_allowed(path: str) -> bool:
    """Return True when ``path`` is a place rmctl mounts hugetlbfs at (before any check on the machine)."""
    if not _clean(path):
        return False
    if _DEV_HUGEPAGES.match(path) or any(_inside(path, d) for d in _dev_hugepages_parents(path)):
        return True
    return any(_inside(path, t) for t in MOUNT_TREES)


def _dev_hugepages_parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/dev/" + parts[2]] if len(parts) > 3 and parts[1] == "dev" and _DEV_HUGEPAGES.match("/dev/" + parts[2]) \
        else []


def _inside(path: str, tree: str) -> bool:
    """Return True when ``path`` is strictly below ``tree``."""
    return path.startswith(tree + "/") and path != tree


def _near(path: str, other: str) -> bool:
    """Return True when one of the two paths is the other or below it."""
    return path == other or _inside(path, other) or _inside(other, path)


def _cgroup_mount_of(path: str, cgroup_mounts: Sequence[str]) -> str | None:
    best = None
    for m in cgroup_mounts:
        if _inside(path, m) and (best is None or len(m) > len(best)):
            best = m
    return best


def _cgroup_dir_ok(path: str, cgroup_mounts: Sequence[str]) -> bool:
    return _clean(path) and _cgroup_mount_of(path, cgroup_mounts) is not None \
        and bool(_CGROUP_DIR.match(os.path.basename(path)))


def _link_on_the_way(host, path: str) -> str | None:
    """Return the first existing component of ``path`` (on ``host``) that is a symbolic link, or None."""
    real = getattr(host, "real", lambda p: p)
    p = "/"
    for part in path.strip("/").split("/"):
        p = os.path.join(p, part)
        try:
            if os.path.islink(real(p)):
                return p
        except OSError:
            return None
    return None


def refusals(plan: Plan, *, state_file: str, cgroup_mounts: Iterable[str] = (), host=None) -> list[str]:
    """Return one reason per action of ``plan`` outside what rmctl manages (empty: every action is allowed).

    ``state_file``: the reservations file of the state dir this apply runs
    with; ``cgroup_mounts``: the mount points of cgroup and cgroup2 file
    systems on this machine; ``host``: where mount points are checked for
    symbolic links (None: not checked).
    """
    mounts = tuple(cgroup_mounts)
    state_file = os.path.abspath(state_file)
    state_dir = os.path.dirname(state_file)
    # mount points: the plan's own mounts and unmounts (mkdir/rmdir may only serve them)
    mount_paths = {getattr(a, "path", None) for a in plan.actions if a.kind in ("mount", "umount")}
    out = []
    for i, a in enumerate(plan.actions, 1):
        try:
            why = _refusal(a, state_file, state_dir, mounts, mount_paths, host)
        except (RmctlError, ValueError, TypeError) as e:
            why = f"a value rmctl would not write ({e})"
        if why:
            out.append(f"action {i} ({a.kind} {_target(a)}): {why}")
    return out


def _target(a: Action) -> str:
    try:
        t = a.target()
    except Exception:
        t = ""
    return repr(t[:120]) if isinstance(t, str) else repr(t)


def _refusal(a: Action, state_file: str, state_dir: str, mounts: tuple[str, ...], mount_paths: set,
             host) -> str | None:
    kind = a.kind
    path = getattr(a, "path", "")
    if kind in ("replace-file", "replace-state", "remove-file"):
        if path != state_file:
            return (f"rmctl replaces only the reservations state of the state dir this apply uses ({state_file})"
                    if _clean(path) and os.path.basename(path) == os.path.basename(state_file)
                    else "not a file rmctl manages (only the state dir's state.json)")
        return None
    if kind == "hugepage-pool":
        if not (_clean(path) and _HUGEPAGE_FILE.match(path) and path.endswith("/nr_hugepages")):
            return "not a hugepage pool file (nr_hugepages of a pool)"
        return None if _COUNT.match(str(a.value)) else f"not a page count: {str(a.value)[:40]!r}"  # type: ignore[attr-defined]
    if kind in ("write", "cpuset-partition"):
        value = str(getattr(a, "value", ""))
        if kind == "write" and _clean(path) and _HUGEPAGE_FILE.match(path):
            return None if _COUNT.match(value) else f"not a page count: {value[:40]!r}"
        if not (_clean(path) and os.path.basename(path) in _CGROUP_FILES[kind]
                and _cgroup_dir_ok(os.path.dirname(path), mounts)):
            return ("not a kernel interface rmctl writes (hugepage pools; cpuset.cpus, cpuset.mems, "
                    "cpuset.cpus.partition of an rmctl-NAME cgroup)")
        if kind == "cpuset-partition":
            return None if value in _PARTITIONS else f"not a partition type: {value[:40]!r}"
        CpuSet.parse(value)  # a cpulist or ValueError/ParseError
        return None
    if kind == "cgroup-enable":
        ok = _clean(path) and os.path.basename(path) == "cgroup.subtree_control" \
            and (os.path.dirname(path) in mounts or _cgroup_mount_of(os.path.dirname(path), mounts) is not None)
        if not ok:
            return "not the cgroup.subtree_control of a cgroup on this machine"
        return None if getattr(a, "controller", "") == "cpuset" else "rmctl enables the cpuset controller only"
    if kind == "cgroup-attach":
        if not (_clean(path) and os.path.basename(path) == "cgroup.procs"
                and _cgroup_dir_ok(os.path.dirname(path), mounts)):
            return "not the cgroup.procs of an rmctl-NAME cgroup"
        return None if _pid_ok(getattr(a, "pid", 0)) else "not a process ID"
    if kind == "cgroup-remove":
        if not _cgroup_dir_ok(path, mounts):
            return "not an rmctl-NAME cgroup on this machine"
        to = getattr(a, "to", "")
        if to and not (_clean(to) and os.path.basename(to) == "cgroup.procs"
                       and _cgroup_mount_of(to, mounts) is not None):
            return "moves processes to something other than a cgroup.procs"
        return None
    if kind in ("mkdir", "rmdir"):
        if _cgroup_dir_ok(path, mounts):
            return None
        if path not in mount_paths:
            return "not a directory rmctl manages (an rmctl-NAME cgroup, or a mount point this plan mounts)"
        return _mount_point_refusal(path, state_dir, host)
    if kind in ("mount", "umount"):
        why = _mount_point_refusal(path, state_dir, host)
        if why or kind == "umount":
            return why
        if getattr(a, "fstype", "") != "hugetlbfs" or getattr(a, "source", "") not in ("none", "hugetlbfs", "nodev"):
            return "rmctl mounts hugetlbfs only"
        for item in filter(None, str(getattr(a, "options", "")).split(",")):
            k, _, v = item.partition("=")
            if k not in _MOUNT_OPTIONS or not _OPTION_VALUE.match(v):
                return f"not a hugetlbfs option: {item[:40]!r}"
        return None
    if kind == "affinity":
        if not _pid_ok(getattr(a, "pid", 0)):
            return "not a process ID"
        if not CpuSet.parse(str(getattr(a, "cpus", ""))):
            return "no CPU to pin to"
        return None
    if kind == "boot-args":
        return None  # never performed: apply reports it as needing a reboot
    if kind == "membind":
        return "a memory policy is set by 'cpu run' for the command it runs, never by apply"
    return "not an action rmctl applies from a saved plan"


def _pid_ok(pid) -> bool:
    return isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid < 1 << 22


def _mount_point_refusal(path: str, state_dir: str, host) -> str | None:
    if not mount_point_allowed(path):
        return ("not a place rmctl mounts hugetlbfs (/dev/hugepages*, or below "
                + ", ".join(MOUNT_TREES) + ")")
    if _near(path, state_dir):
        return f"at or around the state dir {state_dir}"
    if host is not None:
        link = _link_on_the_way(host, path)
        if link is not None:
            return f"{link} is a symbolic link (a mount point is never reached through one)"
    return None
