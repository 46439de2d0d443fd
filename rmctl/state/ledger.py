"""The reservations state file: one versioned, checksummed JSON file per state dir.

``<state-dir>/state.json`` holds the system CPUs and every reservation
(CPUs, devices, hugepages and memory counted on; rmctl.state.records).
It is changed under an exclusive ``flock`` on ``<state-dir>/lock`` and
replaced atomically (write, fsync, rename) through the executor, as a
ReplaceFile action, so ``--dry-run`` shows the state change like any
other write.  Every file of the state dir is opened by
:mod:`rmctl.state.files` (no links followed, regular files only, bounded;
the dir and its parents owned by root or us and closed to others).  The design follows the kubelet's checkpoints
(pkg/kubelet/cm/cpumanager/state/state_checkpoint.go, checkpoint.go): a
version, a checksum of the canonical body, and a corrupt file is never
overwritten; the error says which file and what to do.  Unlike the
kubelet's FNV-over-go-spew checksum, rmctl's is sha256 over canonical
JSON (sorted keys, no spaces), which any tool can recompute.

The lock is an ``flock``: the kernel drops it when its holder dies, so a
SIGKILLed rmctl never blocks the next one.  The holder writes its PID and
command into the lock file so a timeout can name it.

Changes are values: :meth:`Ledger.update` reads the state, hands it to a
function that returns a :class:`Change` (the new state, and actions to run
around writing it), and applies the resulting plan; nothing mutates a
state in place.  The function (the CPU allocator, a request's CEL
evaluation) runs *before* the lock is taken: under the lock only the
state's text is compared with the one the change was computed from, and
the plan is applied when they are the same.  When another rmctl changed
the state meanwhile, the change is computed again from the new state
(at least once, then while ``--lock-timeout`` lasts) and otherwise
refused as a conflict (exit 5).  So a long evaluation never makes a
concurrent ``cpu reserve`` wait, let alone time out (issue 15 item 4).

A state that passes its checksum is still checked (:func:`parse`): every
cpulist parses, no CPU or device is held by two reservations or by a
reservation and the system CPUs, names follow rmctl.names, owners and
cgroups are well formed.  A file that does not is refused naming it (exit
5), never overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.errors import AccessDenied, ConflictError, LockTimeoutError, ParseError, RmctlError, StateError
from rmctl.execute.executor import apply
from rmctl.execute.host import Host
from rmctl.execute.status import raise_for_report
from rmctl.model.plan import Plan, ReplaceFile
from rmctl.names import is_name, path_problem
from rmctl.state import files
from rmctl.state.files import LOCK_FILE
from rmctl.state.records import CPU_KIND, REQUEST_KIND, STATE_KIND, STATE_VERSION, ReservationState

STATE_FILE = "state.json"
#: how often :meth:`Ledger.update` computes a change again because the state moved (also bounded by the lock timeout)
MAX_REPLANS = 1000
#: a device a reservation holds: a PCI address as the kernel names it (``0000:3b:00.0``); never a path
_DEVICE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}\Z")
__all__ = ["LOCK_FILE", "STATE_FILE", "Change", "Ledger", "Updated", "canonical", "checksum", "dumps", "parse"]


def canonical(data: dict[str, Any]) -> str:
    """Return the canonical text the checksum covers: every key but ``checksum``."""
    body = {k: v for k, v in data.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def checksum(data: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()


def dumps(state: ReservationState) -> str:
    """Return the file text for ``state`` with its checksum."""
    doc = state.to_data()
    doc["checksum"] = checksum(doc)
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _bad(path: str, why: str) -> StateError:
    return StateError(
        f"state file {path} {why}; rmctl will not overwrite it",
        hint=f"inspect it, then move it aside (mv {path} {path}.bad) and recreate the reservations",
        details={"path": path})


def parse(text: str, path: str) -> ReservationState:
    """Return the state in ``text``; corrupt, unknown-version, tampered or inconsistent files are StateError (5)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise _bad(path, f"is not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise _bad(path, "is not valid JSON (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("kind") != STATE_KIND:
        raise _bad(path, f"is not an rmctl reservation state (kind {STATE_KIND} expected)")
    if doc.get("version") != STATE_VERSION:
        raise StateError(
            f"state file {path} has version {doc.get('version')!r}; this rmctl reads version {STATE_VERSION}",
            hint=f"use the rmctl that wrote it, or move it aside (mv {path} {path}.bad)",
            details={"path": path, "version": doc.get("version")})
    if doc.get("checksum") != checksum(doc):
        raise _bad(path, "fails its checksum (edited by hand or truncated)")
    res = doc.get("reservations")
    if not isinstance(res, dict) or not isinstance(doc.get("system_cpus"), str) \
            or not isinstance(doc.get("node") or {}, dict):
        raise _bad(path, "lacks reservations or system_cpus")
    fp = (doc.get("node") or {}).get("fingerprint")
    if fp is not None and not isinstance(fp, str):
        raise _bad(path, "has a node fingerprint that is not a string")
    for name, rec in res.items():
        why = _reservation_problem(name, rec)
        if why is not None:
            raise _bad(path, f"has a malformed reservation {name!r}: {why}")
    try:
        CpuSet.parse(doc["system_cpus"])
    except ParseError:
        raise _bad(path, f"has a bad system_cpus cpulist {doc['system_cpus']!r}") from None
    try:
        state = ReservationState.from_data(doc)
    except (KeyError, TypeError, ValueError, AttributeError, ParseError) as e:
        raise _bad(path, f"has a malformed reservation ({type(e).__name__}: {e})") from None
    why = _held_twice(state)
    if why is not None:
        raise _bad(path, why)
    return state


def _nat(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _reservation_problem(name: Any, rec: Any) -> str | None:
    """Return what is wrong with one reservation of the file (its raw JSON), or None."""
    if not is_name(name):
        return "the name does not follow the name rule"
    if not isinstance(rec, dict) or rec.get("name") != name:
        return "not an object named as its key"
    if rec.get("kind", CPU_KIND) not in (CPU_KIND, REQUEST_KIND):
        return f"unknown kind {rec.get('kind')!r}"
    if not isinstance(rec.get("cpus"), str):
        return "cpus is not a cpulist"
    try:
        CpuSet.parse(rec["cpus"])
    except ParseError:
        return f"bad cpulist {rec['cpus']!r}"
    nodes, devices = rec.get("nodes") or [], rec.get("devices") or []
    if not isinstance(nodes, list) or not all(_nat(n) for n in nodes):
        return "nodes is not a list of NUMA node ids"
    if not isinstance(devices, list) or not all(isinstance(a, str) and _DEVICE.match(a) for a in devices):
        return "devices is not a list of device addresses"
    hp = rec.get("hugepages") or {}
    if not isinstance(hp, dict) or not all(
            str(s).isdigit() and isinstance(per, dict) and all(str(n).isdigit() and _nat(p) for n, p in per.items())
            for s, per in hp.items()):
        return "hugepages is not page size -> node -> pages"
    mem = rec.get("memory")
    if mem is not None and (not isinstance(mem, dict) or not all(str(n).isdigit() and _nat(b) for n, b in mem.items())):
        return "memory is not node -> bytes"
    owner = rec.get("owner")
    if owner is not None:
        if not isinstance(owner, dict) or not _nat(owner.get("pid")) or owner.get("pid") == 0:
            return "owner has no process id"
        if owner.get("start_time") is not None and not _nat(owner.get("start_time")):
            return "owner's start_time is not a clock-tick count"
        if not isinstance(owner.get("command", ""), str):
            return "owner's command is not a string"
    cg = rec.get("cgroup")
    if cg is not None:
        # release removes this directory: it must be rmctl's cgroup of this name, nothing else
        p = cg.get("path") if isinstance(cg, dict) else None
        if not isinstance(p, str) or path_problem(p) is not None or os.path.normpath(p) != p \
                or os.path.basename(p) != f"rmctl-{name}":
            return f"cgroup path {p!r} is not an absolute, plain path ending in rmctl-{name}"
        if cg.get("version") not in (1, 2):
            return "cgroup version is not 1 or 2"
        if cg.get("partition") not in (None, "isolated", "root"):
            return f"unknown cgroup partition {cg.get('partition')!r}"
        mount = cg.get("mount")
        if mount is not None and (not isinstance(mount, str) or path_problem(mount) is not None):
            return "cgroup mount is not an absolute path"
    for key in ("options", "constraints"):
        if not isinstance(rec.get(key) or {}, dict):
            return f"{key} is not an object"
    if rec.get("request") is not None and not isinstance(rec["request"], dict):
        return "request is not an object"
    cu = rec.get("created_unix", 0.0)
    if isinstance(cu, bool) or not isinstance(cu, (int, float)):
        return "created_unix is not a number"
    return None


def _held_twice(state: ReservationState) -> str | None:
    """Return why the state holds a CPU or device twice, or None."""
    cpus: dict[int, str] = {}
    devices: dict[str, str] = {}
    for name in state.names():
        rec = state.reservations[name]
        for c in rec.cpus:
            if c in cpus:
                return f"holds CPU {c} twice (reservations {cpus[c]!r} and {name!r})"
            cpus[c] = name
        for a in rec.devices:
            if a in devices:
                return f"holds device {a} twice (reservations {devices[a]!r} and {name!r})"
            devices[a] = name
    both = CpuSet(c for c in state.system_cpus if c in cpus)
    if both:
        first = min(both)
        return f"holds CPU {first} both as a system CPU and in reservation {cpus[first]!r}"
    return None


@dataclass(frozen=True)
class Change:
    """What a state update does: the new ``state``, actions to run ``before`` and ``after`` writing it.

    ``before``: e.g. the cgroup to create before recording it, or to
    remove before forgetting it.  ``summary`` describes the state replace
    in plans.  ``value``: whatever the update computed, handed back in
    :class:`Updated` (the new reservation, an evaluation...).
    """

    state: ReservationState
    summary: str = ""
    before: tuple = ()
    after: tuple = ()
    value: Any = None


@dataclass(frozen=True)
class Updated:
    """The result of :meth:`Ledger.update`: the plan applied (or, dry run, planned) and its report.

    ``report`` is None on a dry run and when there was nothing to do.
    """

    previous: ReservationState
    state: ReservationState
    plan: Any
    report: Any
    value: Any = None

    @property
    def changed(self) -> bool:
        """Return True when the update changed something (on a dry run: would change)."""
        if self.report is not None:
            return bool(self.report.changed)
        return bool(self.plan.actions)


class Ledger:
    """The state file of one state dir; ``command`` names the holder in lock errors.

    ``refusal``: this state dir is not the root's to use (rmctl.ops.statedir:
    the default state dir seen from a snapshot).  It then holds nothing
    (``read_text`` is None, so a dry run plans against an empty state) and
    every write is refused with that error before anything is written:
    ``check_writable`` raises it, and ``locked`` and ``update`` (but for a
    dry run) call it first.
    """

    def __init__(self, state_dir: str, *, lock_timeout: float = 10.0, command: str = "rmctl",
                 refusal: RmctlError | None = None):
        self.refusal = refusal
        self.state_dir = os.path.abspath(state_dir)
        self.path = os.path.join(self.state_dir, STATE_FILE)
        self.lock_path = os.path.join(self.state_dir, LOCK_FILE)
        self.lock_timeout = lock_timeout
        self.command = command

    # -- reading --------------------------------------------------------------
    def read_text(self) -> str | None:
        """Return the state file's text, None when there is none (the state dir checked first)."""
        if self.refusal is not None:
            return None  # not this root's state dir: it holds nothing for it
        files.check_dir(self.state_dir)
        return files.read_text(self.path)

    def load(self, fingerprint: str | None = None) -> ReservationState:
        """Return the state (a new empty one when there is no file), checked against the node."""
        text = self.read_text()
        if text is None:
            return ReservationState(fingerprint=fingerprint)
        state = parse(text, self.path)
        self.check_node(state, fingerprint)
        return state

    def check_node(self, state: ReservationState, fingerprint: str | None) -> None:
        have = state.fingerprint
        if fingerprint is not None and have is not None and have != fingerprint:
            raise StateError(
                f"state dir {self.state_dir} belongs to another node: its reservations are for node "
                f"{have[:12]}, this node (--root) is {fingerprint[:12]}",
                hint=f"see what it holds: rmctl --state-dir {shlex.quote(self.state_dir)} state show; clear it: "
                     f"rmctl --state-dir {shlex.quote(self.state_dir)} state reset --yes; or give this node "
                     "(or this --root) a --state-dir of its own",
                details={"path": self.path, "state_fingerprint": have, "node_fingerprint": fingerprint})

    # -- permission -------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise AccessDenied (exit 6) before any write when the state dir cannot (or must not) be written."""
        if self.refusal is not None:
            raise self.refusal
        _, ok = files.writable(self.state_dir)
        if not ok or not files.file_writable(self.path):
            raise AccessDenied(f"state dir {self.state_dir} is not writable",
                               hint="run as root or choose another --state-dir (env RMCTL_STATE_DIR)")

    # -- the lock ---------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, deadline: float | None = None) -> Iterator[None]:
        """Hold the exclusive state lock; LockTimeoutError (exit 5) names the holder.

        Waits until ``deadline`` (time.monotonic(); default: now plus the
        lock timeout).  The state dir is made (0700) and checked first; once
        the lock is held, temporary files of killed runs are removed.
        """
        self.check_writable()
        files.make_dir(self.state_dir)
        fd = files.open_lock(self.lock_path)
        try:
            if deadline is None:
                deadline = time.monotonic() + max(self.lock_timeout, 0.0)
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = files.lock_holder(self.lock_path)
                        raise LockTimeoutError(
                            f"state lock {self.lock_path} is held by {holder}; waited {self.lock_timeout:g}s",
                            hint="wait for it to finish, raise --lock-timeout, or stop that process",
                            details={"lock": self.lock_path, "holder": holder}) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
            files.write_holder(fd, f"{os.getpid()} {self.command}\n")
            for d in (self.state_dir, os.path.join(self.state_dir, "journal")):
                files.remove_stale_temps(d)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- updates --------------------------------------------------------------------
    def update(self, fingerprint: str | None, change: Callable[[ReservationState], Change], *,
               dry_run: bool = False, host=None, command: str = "", rollback: bool = False) -> Updated:
        """Read the state, let ``change`` say what to do, and apply it (or, dry run, only plan it).

        ``change`` runs without the lock (it may be slow: the allocator, a
        request's CEL).  Dry-run reads once and writes nothing.  Otherwise,
        under the lock, the state's text is compared with the text
        ``change`` saw: the same, the plan is applied (the new state written
        by the executor: ReplaceFile, write, fsync, rename, on ``host``,
        default this machine's files, ``Host("/")``); changed meanwhile,
        ``change`` runs again on the new state, without the lock (at least
        once, then until the lock timeout), and a state that keeps changing
        is a ConflictError (exit 5).  A failed step raises its error
        (rmctl.execute.status: AccessDenied -> 6, else ApplyError -> 1);
        with ``rollback`` the steps applied before it are undone first (a
        cgroup the kernel refused to make a partition is not left behind,
        unrecorded).  An error raised by ``change`` changes nothing.
        """
        if dry_run:
            previous, text = self._begin(fingerprint)
            ch = change(previous)
            return Updated(previous, ch.state, self._plan(previous, text, ch, command), None, ch.value)
        self.check_writable()  # a refused Ledger raises here, before ``change`` runs
        deadline = time.monotonic() + max(self.lock_timeout, 0.0)
        attempts = 0
        while True:
            # the file is replaced by rename: a read without the lock sees one whole version
            previous, text = self._begin(fingerprint)
            ch = change(previous)
            plan = self._plan(previous, text, ch, command)
            attempts += 1
            with self.locked(deadline):
                if self.read_text() == text:
                    report = None
                    if plan.actions:
                        report = apply(plan, host if host is not None else Host("/"), rollback=rollback)
                        raise_for_report(report)
                    return Updated(previous, ch.state, plan, report, ch.value)
            if attempts > MAX_REPLANS or (attempts > 1 and time.monotonic() >= deadline):
                raise ConflictError(
                    f"state file {self.path} changed while {command or self.command} was planning "
                    f"({attempts} attempts in {self.lock_timeout:g}s)",
                    hint="other rmctl commands are changing the reservations: run it again, or raise --lock-timeout",
                    details={"path": self.path, "attempts": attempts})

    def _begin(self, fingerprint: str | None) -> tuple[ReservationState, str | None]:
        text = self.read_text()
        state = ReservationState(fingerprint=fingerprint) if text is None else parse(text, self.path)
        self.check_node(state, fingerprint)
        return state.for_node(fingerprint), text

    def _plan(self, previous: ReservationState, text: str | None, ch: Change, command: str):
        actions = list(ch.before)
        if ch.state.to_data() != previous.to_data():
            actions.append(ReplaceFile(
                path=self.path, content=dumps(ch.state.stamped()),
                expect_sha256=None if text is None else hashlib.sha256(text.encode()).hexdigest(),
                summary=ch.summary or "update reservations"))
        actions.extend(ch.after)
        return Plan(actions=actions, fingerprint=previous.fingerprint, command=command)
