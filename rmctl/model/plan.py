"""Actions, plans and apply reports: pure data.

Every change rmctl makes to a machine is an Action in a Plan.  ``--dry-run``
renders the plan; :mod:`rmctl.execute.executor` is the only code that
performs it.  Each action knows how to read its current value through a
Host, whether that value is already the target, how to act, and which
action undoes it; it never performs I/O by itself outside those methods.

Paths are the machine's absolute paths (``/sys/kernel/mm/...``); a Host maps
them (LiveHost onto ``/``, RootHost under a temporary directory).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from rmctl.cpuset import CpuSet
from rmctl.errors import ApplyError, ExitCode, RmctlError
from rmctl.units import parse_size

PLAN_SCHEMA = "rmctl.io/v1alpha1"

# Step statuses of an apply report.
APPLIED, UNCHANGED, FAILED, NOT_RUN, STALE = "applied", "unchanged", "failed", "not-run", "stale"


#: kind -> Action class, filled as each kind's class is made; reading a saved
#: plan or journal back needs every kind: rmctl.model.actions imports them all
ACTION_KINDS: dict[str, type[Action]] = {}


@dataclass(frozen=True)
class Action:
    """Base class: one change.  Subclasses set ``kind`` and implement the hooks."""

    kind: ClassVar[str] = "action"
    #: needs a reboot to take effect (boot arguments); the executor never runs it
    reboot: ClassVar[bool] = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "kind" in cls.__dict__:
            ACTION_KINDS[cls.kind] = cls

    # -- hooks -------------------------------------------------------------
    def current(self, host) -> Any:
        """Return the value this action changes, as it is now on the host."""
        raise NotImplementedError

    def done(self, current: Any) -> bool:
        """Return True when ``current`` already is the target."""
        raise NotImplementedError

    def expected(self) -> Any:
        """Return the value seen at planning time, or None (no staleness check)."""
        return None

    def perform(self, host) -> None:
        raise NotImplementedError

    def undo(self, previous: Any) -> Action | None:
        """Return the action restoring ``previous`` (the value before perform), or None."""
        return None

    def readback_error(self, after: Any) -> RmctlError:
        """Return the error of a step that acted but read back ``after``, short of its target.

        The executor stores it on the step; subclasses say what it means
        (a hugepage shortfall, an invalid cpuset partition).
        """
        return ApplyError(f"read back {after!r}")

    def describe(self) -> str:
        raise NotImplementedError

    def target(self) -> str:
        """Return what is changed (a path, a PID) for tables."""
        return ""

    def desired(self) -> str:
        return ""

    # -- data --------------------------------------------------------------
    def to_data(self) -> dict:
        d: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            v = getattr(self, f.name)
            d[f.name] = v
        d["description"] = self.describe()
        if self.reboot:
            d["reboot_required"] = True
        return d


def _norm(text: str | None) -> str | None:
    return None if text is None else text.replace("\0", "").strip()


@dataclass(frozen=True)
class WriteValue(Action):
    """Write ``value`` to a sysfs/procfs/cgroup file; ``expect`` is what planning saw.

    ``retries``/``retry_delay``: read back up to this many more times (the
    kernel may grant hugepages only after compaction).
    """

    kind: ClassVar[str] = "write"
    path: str = ""
    value: str = ""
    expect: str | None = None
    retries: int = 0
    retry_delay: float = 0.0
    #: compare as a set of CPUs (cpuset files print canonical lists)
    compare: str = "text"

    def current(self, host):
        return _norm(host.read_text(self.path))

    def done(self, current):
        if current is None:
            return False
        if self.compare == "cpulist":
            try:
                return CpuSet.parse(current) == CpuSet.parse(self.value)
            except Exception:
                return False
        return current == _norm(self.value)

    def expected(self):
        return self.expect

    def perform(self, host):
        host.write_text(self.path, self.value)

    def undo(self, previous):
        if previous is None:
            return None
        return WriteValue(path=self.path, value=previous, expect=self.value, compare=self.compare)

    def describe(self):
        was = f" (was {self.expect})" if self.expect is not None else ""
        return f"write {self.value!r} to {self.path}{was}"

    def target(self):
        return self.path

    def desired(self):
        return self.value


@dataclass(frozen=True)
class MakeDir(Action):
    """Create a directory (a mount point, a cgroup)."""

    kind: ClassVar[str] = "mkdir"
    path: str = ""
    mode: int = 0o755

    def __post_init__(self) -> None:
        # documents print the mode in octal, as chmod(1) takes it ("0755"); plans and journals
        # written before that hold the number (493): both read back to the same action
        if isinstance(self.mode, str):
            try:
                object.__setattr__(self, "mode", int(self.mode, 8))
            except ValueError:
                raise ValueError(f"mode {self.mode!r} is not an octal mode like \"0755\"") from None

    def to_data(self) -> dict:
        d = super().to_data()
        d["mode"] = f"{self.mode:04o}"
        return d

    def current(self, host):
        return host.isdir(self.path)

    def done(self, current):
        return bool(current)

    def perform(self, host):
        host.mkdir(self.path, self.mode)

    def undo(self, previous):
        return None if previous else RemoveDir(path=self.path)

    def describe(self):
        return f"create directory {self.path}"

    def target(self):
        return self.path

    def desired(self):
        return "directory"


@dataclass(frozen=True)
class RemoveDir(Action):
    """Remove an empty directory (a mount point, a cgroup)."""

    kind: ClassVar[str] = "rmdir"
    path: str = ""

    def current(self, host):
        return host.isdir(self.path)

    def done(self, current):
        return not current

    def perform(self, host):
        host.rmdir(self.path)

    def undo(self, previous):
        return MakeDir(path=self.path) if previous else None

    def describe(self):
        return f"remove directory {self.path}"

    def target(self):
        return self.path

    def desired(self):
        return "absent"


@dataclass(frozen=True)
class Mount(Action):
    """Mount a filesystem (hugetlbfs) at ``path`` with ``options`` (``k=v,...``)."""

    kind: ClassVar[str] = "mount"
    path: str = ""
    fstype: str = "hugetlbfs"
    source: str = "none"
    options: str = ""

    def current(self, host):
        return host.mount_at(self.path)

    def done(self, current):
        if current is None:
            return False
        _, fstype, opts = current
        if fstype != self.fstype:
            return False
        return options_match(self.options, opts)

    def perform(self, host):
        host.mount(self.source, self.path, self.fstype, self.options)

    def undo(self, previous):
        return Unmount(path=self.path) if previous is None else None

    def describe(self):
        o = f" -o {self.options}" if self.options else ""
        return f"mount -t {self.fstype}{o} {self.source} {self.path}"

    def target(self):
        return self.path

    def desired(self):
        return f"{self.fstype} {self.options}".strip()


@dataclass(frozen=True)
class Unmount(Action):
    """Unmount whatever is mounted at ``path``."""

    kind: ClassVar[str] = "umount"
    path: str = ""

    def current(self, host):
        return host.mount_at(self.path)

    def done(self, current):
        return current is None

    def perform(self, host):
        host.umount(self.path)

    def undo(self, previous):
        if previous is None:
            return None
        source, fstype, opts = previous
        return Mount(path=self.path, fstype=fstype, source=source,
                     options=",".join(f"{k}={v}" if v else k for k, v in opts.items()
                                      if k not in ("rw", "relatime", "seclabel")))

    def describe(self):
        return f"umount {self.path}"

    def target(self):
        return self.path

    def desired(self):
        return "not mounted"


@dataclass(frozen=True)
class SetAffinity(Action):
    """Set the CPU affinity of every thread of ``pid`` to ``cpus`` (a cpulist).

    The current value is ``"tid:cpulist tid:cpulist ..."`` over all threads
    (``/proc/PID/task``): sched_setaffinity(2) acts on one thread, so a
    process counts as pinned only when every thread is.
    """

    kind: ClassVar[str] = "affinity"
    pid: int = 0
    cpus: str = ""

    def current(self, host):
        threads = host.thread_affinities(self.pid)
        if threads is None:
            return None
        return " ".join(f"{tid}:{cpus}" for tid, cpus in sorted(threads.items()))

    def done(self, current):
        if not current:
            return False
        want = CpuSet.parse(self.cpus).to_list()
        return all(item.partition(":")[2] == want for item in current.split())

    def perform(self, host):
        host.set_affinity(self.pid, self.cpus)

    def undo(self, previous):
        # Threads may have had different masks; restore the main thread's to all
        # (the common case: threads inherit the process's mask).
        first = previous.split()[0].partition(":")[2] if previous else ""
        return SetAffinity(pid=self.pid, cpus=first) if first else None

    def describe(self):
        return f"pin every thread of PID {self.pid} to {CpuSet.parse(self.cpus).phrase()}"

    def target(self):
        return f"pid {self.pid}"

    def desired(self):
        return self.cpus


@dataclass(frozen=True)
class ReplaceFile(Action):
    """Replace a file atomically (write, fsync, rename): the reservations state.

    ``expect_sha256`` is the digest of the content planning saw (None: the
    file did not exist).  ``content`` is the whole new text.
    """

    kind: ClassVar[str] = "replace-file"
    path: str = ""
    content: str = ""
    expect_sha256: str | None = None
    summary: str = ""

    def current(self, host):
        text = host.read_text(self.path)
        return _ABSENT if text is None else hashlib.sha256(text.encode()).hexdigest()

    def done(self, current):
        return current == hashlib.sha256(self.content.encode()).hexdigest()

    def expected(self):
        return self.expect_sha256 if self.expect_sha256 is not None else _ABSENT

    def perform(self, host):
        host.replace_file(self.path, self.content)

    def describe(self):
        s = f": {self.summary}" if self.summary else ""
        return f"replace {self.path}{s}"

    def target(self):
        return self.path

    def desired(self):
        return self.summary or "new content"

    def to_data(self):
        d = super().to_data()
        d.pop("content", None)  # state content is data, not for review tables
        d["content_sha256"] = hashlib.sha256(self.content.encode()).hexdigest()
        d["content"] = self.content
        return d


_ABSENT = "<absent>"


@dataclass(frozen=True)
class BootArgs(Action):
    """Kernel command-line arguments; they take effect only after a reboot."""

    kind: ClassVar[str] = "boot-args"
    reboot: ClassVar[bool] = True
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def current(self, host):
        return _norm(host.read_text("/proc/cmdline"))

    def done(self, current):
        words = (current or "").split()
        return all(a in words for a in self.add) and not any(r in words for r in self.remove)

    def perform(self, host):  # pragma: no cover - the executor never runs reboot actions
        raise NotImplementedError("boot arguments are applied by the boot loader")

    def describe(self):
        parts = []
        if self.add:
            parts.append("add " + " ".join(self.add))
        if self.remove:
            parts.append("remove " + " ".join(self.remove))
        return "kernel command line: " + "; ".join(parts) + " (needs a reboot)"

    def target(self):
        return "/proc/cmdline"

    def desired(self):
        return " ".join(self.add)


def options_match(wanted: str, have: dict[str, str]) -> bool:
    """Return True when every ``k=v`` in ``wanted`` is in the mount's options.

    Sizes are compared in bytes (the kernel prints ``pagesize=2M``,
    ``size=1073741824``... depending on version).
    """
    for item in filter(None, wanted.split(",")):
        k, _, v = item.partition("=")
        if k not in have:
            return False
        if v and have[k] != v:
            try:
                if parse_size(v) != parse_size(have[k]):
                    return False
            except Exception:
                if k == "mode" and have[k].lstrip("0") == v.lstrip("0"):
                    continue
                return False
    return True


@dataclass(frozen=True)
class Plan:
    """Ordered actions with the node fingerprint they were planned on.

    Made once by a planner and never changed: what is printed (dry run),
    saved and applied is the same object.  ``actions`` and ``notes`` are
    tuples whatever sequence they were given as.
    """

    actions: Sequence[Action] = ()  #: kept as a tuple
    fingerprint: str | None = None
    command: str = ""
    notes: Sequence[str] = ()  #: kept as a tuple
    #: what the plan is for: the command and arguments (or the profile) that made it, so that
    #: ``rmctl apply`` can plan it again and run only what it would plan now (rmctl.ops.intent)
    intent: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple(self.actions))
        object.__setattr__(self, "notes", tuple(self.notes))

    def with_intent(self, intent: Mapping[str, Any] | None) -> Plan:
        """Return this plan recording ``intent`` (rmctl.ops.intent.make)."""
        return replace(self, intent=intent)

    def to_data(self) -> dict:
        d = {
            "apiVersion": PLAN_SCHEMA, "kind": "Plan", "command": self.command,
            "fingerprint": self.fingerprint,
            "actions": [a.to_data() for a in self.actions],
            "notes": list(self.notes),
        }
        if self.intent is not None:
            d["intent"] = _plain(self.intent)
        return d


def _plain(v):
    """Return ``v`` with mappings and sequences as JSON's dicts and lists."""
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


@dataclass
class StepResult:
    """What happened to one action.

    ``error``: for a failed or stale step, the RmctlError that stopped it
    (its class, ``code`` and ``exit_code`` decide the command's exit status:
    rmctl.execute.status); None otherwise.  ``detail`` is the same in words,
    for reports and journals.
    """

    action: Action
    status: str  #: applied | unchanged | failed | not-run | stale
    detail: str = ""
    before: Any = None
    after: Any = None
    error: RmctlError | None = None

    @property
    def exit_code(self) -> ExitCode:
        """Return the exit status this step alone would give (OK unless it failed or was stale)."""
        return self.error.exit_code if self.error is not None else ExitCode.OK

    def to_data(self) -> dict:
        return {"action": self.action.to_data(), "status": self.status, "detail": self.detail,
                "before": _jsonable(self.before), "after": _jsonable(self.after)}


def _jsonable(v):
    if isinstance(v, tuple):
        return list(v)
    try:
        json.dumps(v)
        return v
    except TypeError:
        return str(v)


@dataclass
class ApplyReport:
    """One StepResult per action, in plan order."""

    steps: list[StepResult] = field(default_factory=list)
    rolled_back: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status in (APPLIED, UNCHANGED) for s in self.steps)

    @property
    def changed(self) -> bool:
        return any(s.status == APPLIED for s in self.steps)

    def counts(self) -> dict[str, int]:
        out = {APPLIED: 0, UNCHANGED: 0, FAILED: 0, NOT_RUN: 0, STALE: 0}
        for s in self.steps:
            out[s.status] = out.get(s.status, 0) + 1
        return out

    def to_data(self) -> dict:
        return {"ok": self.ok, "changed": self.changed, "counts": self.counts(),
                "steps": [s.to_data() for s in self.steps],
                "rolled_back": [s.to_data() for s in self.rolled_back]}
