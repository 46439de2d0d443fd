"""Action kinds for CPUs: cgroup controllers, attaching and removing cgroups, pinning threads, memory binding.

Paths are absolute machine paths; a Host maps them.  Cgroup files
(kernel Documentation/admin-guide/cgroup-v2.rst "Cpuset", cgroup-v1/cpusets.rst):

* v2: ``cgroup.subtree_control`` lists enabled controllers and takes
  ``+cpuset``; ``cpuset.cpus.partition`` reads back ``isolated`` or
  ``isolated invalid (reason)`` when the kernel refused the partition;
* both: ``cgroup.procs`` lists member PIDs and takes one PID per write; a
  cgroup with members cannot be removed (EBUSY), so removal moves them to
  the parent first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from rmctl.errors import ApplyError
from rmctl.model.plan import Action, WriteValue


@dataclass(frozen=True)
class EnableController(Action):
    """Enable a controller for children: write ``+NAME`` to ``cgroup.subtree_control``."""

    kind: ClassVar[str] = "cgroup-enable"
    path: str = ""  #: the parent's cgroup.subtree_control
    controller: str = "cpuset"

    def current(self, host):
        text = host.read_text(self.path)
        return None if text is None else " ".join(sorted(text.split()))

    def done(self, current):
        return current is not None and self.controller in current.split()

    def perform(self, host):
        host.write_text(self.path, f"+{self.controller}")

    def describe(self):
        return f"enable the {self.controller} controller in {self.path}"

    def target(self):
        return self.path

    def desired(self):
        return f"+{self.controller}"


def partition_state(text: str | None) -> tuple[str | None, str | None]:
    """Return (type, reason) from a ``cpuset.cpus.partition`` read-back.

    ``isolated`` -> ('isolated', None); ``isolated invalid (Cpu list in
    cpuset.cpus not exclusive)`` -> ('isolated', 'Cpu list in cpuset.cpus not
    exclusive'); a missing file -> (None, None).  (kernel/cgroup/cpuset.c
    perr_strings, Linux 6.1+; 5.15 prints ``isolated invalid`` with no reason.)
    """
    if text is None:
        return None, None
    text = text.strip()
    kind, _, rest = text.partition(" ")
    if not rest.startswith("invalid"):
        return kind or None, None
    reason = rest[len("invalid"):].strip()
    if reason.startswith("(") and reason.endswith(")"):
        reason = reason[1:-1]
    return kind, reason or "invalid"


@dataclass(frozen=True)
class SetPartition(WriteValue):
    """Write ``cpuset.cpus.partition``; an ``... invalid (reason)`` read-back is a failure.

    The kernel takes the write and then reports, on read, whether it could
    make the partition valid (kernel Documentation/admin-guide/cgroup-v2.rst,
    "cpuset.cpus.partition"; Linux 6.1+ names the reason in parentheses);
    kernels before 5.15 refuse ``isolated`` with EINVAL instead.
    """

    kind: ClassVar[str] = "cpuset-partition"
    failure_hint: ClassVar[str] = ("reserve CPUs that no other cgroup under the same parent lists in its "
                                   "cpuset.cpus, or drop --partition")

    def done(self, current):
        return current is not None and current.split()[:1] == [self.value] and "invalid" not in current

    def readback_error(self, after):
        """Return the failure in the kernel's words (invalid partition, or no partitions here)."""
        why = self.explain(after)
        if why is None:
            return super().readback_error(after)
        return ApplyError(why, hint=self.failure_hint)

    def explain(self, after) -> str | None:
        """Return the failure in words, from the read-back ``after`` (None: nothing to add)."""
        kind, reason = partition_state(after)
        if kind is None:
            return "this kernel has no cpuset.cpus.partition (cpuset partitions need Linux 5.15+ cgroup v2)"
        if reason:
            return (f"the kernel made the {self.value} partition invalid: {reason} (a partition's CPUs must not "
                    f"be in any sibling cgroup's cpuset.cpus, and its parent must be a valid partition root)")
        return None


@dataclass(frozen=True)
class AttachProcess(Action):
    """Move a process (all its threads) into a cgroup: write its PID to ``cgroup.procs``."""

    kind: ClassVar[str] = "cgroup-attach"
    path: str = ""  #: the cgroup's cgroup.procs
    pid: int = 0

    def current(self, host):
        text = host.read_text(self.path)
        return text is not None and str(self.pid) in text.split()

    def done(self, current):
        return bool(current)

    def perform(self, host):
        host.write_text(self.path, str(self.pid))

    def describe(self):
        return f"move PID {self.pid} into {os.path.dirname(self.path)}"

    def target(self):
        return f"pid {self.pid}"

    def desired(self):
        return os.path.dirname(self.path)


@dataclass(frozen=True)
class RemoveCgroup(Action):
    """Remove a cgroup directory, first moving its processes out.

    They go to ``to`` (a ``cgroup.procs``), by default the parent's.  On
    cgroup v2 that must be a cgroup without controllers enabled for its
    children, or the root ("no internal processes", kernel
    Documentation/admin-guide/cgroup-v2.rst): rmctl passes the root's.
    """

    kind: ClassVar[str] = "cgroup-remove"
    path: str = ""  #: the cgroup directory
    to: str = ""  #: cgroup.procs the processes move to ('' = the parent's)

    def current(self, host):
        return host.isdir(self.path)

    def done(self, current):
        return not current

    def perform(self, host):
        dest = self.to or os.path.join(os.path.dirname(self.path), "cgroup.procs")
        for _ in range(3):
            pids = (host.read_text(os.path.join(self.path, "cgroup.procs")) or "").split()
            if not pids:
                break
            for pid in pids:
                try:
                    host.write_text(dest, pid)
                except ApplyError:
                    continue  # it exited meanwhile (ESRCH)
        host.rmdir(self.path)

    def describe(self):
        dest = os.path.dirname(self.to) if self.to else "the parent"
        return f"move processes out of {self.path} (to {dest}) and remove it"

    def target(self):
        return self.path

    def desired(self):
        return "absent"


# -- memory policy (set_mempolicy(2); the syscalls live in rmctl.execute.mempolicy) --
MPOL_DEFAULT, MPOL_BIND = 0, 2


@dataclass(frozen=True)
class MemBind(Action):
    """Bind rmctl's own memory policy to ``nodes`` (MPOL_BIND), inherited by the command it runs.

    ``nodes`` empty means MPOL_DEFAULT.  Acts on the calling thread only.
    """

    kind: ClassVar[str] = "membind"
    nodes: str = ""

    def current(self, host):
        try:
            mode, nodes = host.get_mempolicy()
        except OSError:
            return None
        return "default" if mode == MPOL_DEFAULT else f"{mode}:{nodes}"

    def done(self, current):
        if current is None:
            return False
        return current == ("default" if not self.nodes else f"{MPOL_BIND}:{self.nodes}")

    def perform(self, host):
        try:
            host.set_mempolicy(MPOL_BIND if self.nodes else MPOL_DEFAULT, self.nodes)
        except OSError as e:
            raise ApplyError(f"cannot bind memory to NUMA nodes {self.nodes}: {e}") from None

    def undo(self, previous):
        return MemBind(nodes="") if previous == "default" else None

    def describe(self):
        return (f"bind memory of the command to NUMA nodes {self.nodes}" if self.nodes
                else "restore the default memory policy")

    def target(self):
        return "memory policy"

    def desired(self):
        return self.nodes or "default"
