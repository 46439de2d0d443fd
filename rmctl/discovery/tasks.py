"""The threads of the live machine: where each ran last, where it may run, whose child it is (proc(5)).

``rmctl cpu list -v`` shows who runs on reserved CPUs, and ``cpu pin``
asks whose process it is about to move.  Everything comes from
``proc/PID/task/TID/stat`` and ``status`` (and ``proc/PID/cgroup`` when
asked), read through the Root like every other file:

- ``stat`` field 39 ``processor``: the CPU the thread last ran on (what
  ``ps -L -o psr`` prints); field 4 ``ppid``; field 9 ``flags``, where
  ``PF_KTHREAD`` (0x00200000, include/linux/sched.h) marks a kernel
  thread; field 3 ``state`` (R running, S sleeping...).  The command
  (field 2) is in parentheses and may hold spaces and parentheses: the
  fields are counted after the last ``)``.
- ``status`` ``Cpus_allowed_list``: the CPUs the thread may run on.

A thread or process that ends while it is read is skipped (its files are
gone): the list is a snapshot of a moving system, as ps's is.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.parse import cpuset_cgroup_paths, parse_status_field, stat_fields
from rmctl.errors import ParseError

#: include/linux/sched.h: "I am a kernel thread"
PF_KTHREAD = 0x00200000
#: the most threads read (a bound on the work on a huge host; ps has none, rmctl reads 3 files a thread)
MAX_TASKS = 65536


class Task:
    """One thread: ``pid`` (its process), ``tid``, ``comm``, ``state``, ``cpu`` (ran last), ``allowed``,
    ``ppid`` (its process's parent), ``kernel`` (a kernel thread)."""

    __slots__ = ("pid", "tid", "comm", "state", "cpu", "allowed", "ppid", "kernel")

    def __init__(self, pid: int, tid: int, comm: str, state: str, cpu: int | None, allowed: CpuSet | None,
                 ppid: int, kernel: bool):
        self.pid, self.tid, self.comm, self.state = pid, tid, comm, state
        self.cpu, self.allowed, self.ppid, self.kernel = cpu, allowed, ppid, kernel

    def __repr__(self) -> str:
        return f"Task(pid={self.pid}, tid={self.tid}, comm={self.comm!r}, cpu={self.cpu})"


def parse_task_stat(text: str) -> tuple[str, str, int, int, int | None] | None:
    """Return (comm, state, ppid, flags, processor) of a ``stat`` line, or None when it is not one."""
    fields = stat_fields(text)
    if fields is None:
        return None
    comm, rest = fields
    try:
        state, ppid, flags = rest[0], int(rest[1]), int(rest[6])
        cpu = int(rest[36]) if len(rest) > 36 else None
    except (IndexError, ValueError):
        return None
    return comm, state, ppid, flags, cpu


def read_task(root, pid: int, tid: int) -> Task | None:
    """Return thread ``tid`` of process ``pid``, or None when it is gone."""
    base = f"{paths.proc_pid_file(pid, 'task')}/{int(tid)}"
    stat = root.read(f"{base}/stat")
    parsed = parse_task_stat(stat) if stat else None
    if parsed is None:
        return None
    comm, state, ppid, flags, cpu = parsed
    status = root.read(f"{base}/status") or ""
    allowed_text = parse_status_field(status, "Cpus_allowed_list")
    try:
        allowed = CpuSet.parse(allowed_text) if allowed_text else None
    except ParseError:
        allowed = None
    return Task(pid, tid, comm, state, cpu, allowed, ppid, bool(flags & PF_KTHREAD))


def read_tasks(root) -> list[Task]:
    """Return every thread of every process under ``root``'s ``proc`` (at most MAX_TASKS), by pid and tid."""
    out: list[Task] = []
    for name in root.listdir("proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        for tname in root.listdir(paths.proc_pid_file(pid, "task")):
            if not tname.isdigit():
                continue
            t = read_task(root, pid, int(tname))
            if t is not None:
                out.append(t)
            if len(out) >= MAX_TASKS:
                return out
    return out


def parents(root, pid: int, *, limit: int = 4096) -> list[int]:
    """Return the parent, grandparent... of process ``pid`` up to init (``ppid`` of ``proc/PID/stat``)."""
    out: list[int] = []
    seen = {pid}
    while len(out) < limit:
        stat = root.read(paths.proc_pid_file(pid, "stat"))
        parsed = parse_task_stat(stat) if stat else None
        if parsed is None or parsed[2] <= 0 or parsed[2] in seen:
            break
        pid = parsed[2]
        seen.add(pid)
        out.append(pid)
    return out


def cgroup_paths(root, pid: int) -> tuple[str, ...]:
    """Return the paths of ``pid``'s cpuset cgroups (v1 cpuset, v2; relative to the hierarchy's mount)
    from ``proc/PID/cgroup``: only those confine its CPUs (a v1 memory cgroup's path would not)."""
    return tuple(p for p in cpuset_cgroup_paths(root.read(paths.proc_pid_file(pid, "cgroup"))) if p is not None)
