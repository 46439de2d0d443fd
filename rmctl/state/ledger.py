"""The reservations state file: one versioned, checksummed JSON file per state dir.

``<state-dir>/state.json`` holds the system CPUs and every reservation
(CPUs, devices, hugepages and memory counted on; rmctl.state.records).
It is read under an exclusive ``flock`` on ``<state-dir>/state.lock`` and
replaced atomically (write, fsync, rename) through the executor, as a
ReplaceFile action, so ``--dry-run`` shows the state change like any
other write.  The design follows the kubelet's checkpoints
(pkg/kubelet/cm/cpumanager/state/state_checkpoint.go, checkpoint.go): a
version, a checksum of the canonical body, and a corrupt file is never
overwritten; the error says which file and what to do.  Unlike the
kubelet's FNV-over-go-spew checksum, rmctl's is sha256 over canonical
JSON (sorted keys, no spaces), which any tool can recompute.

The lock is an ``flock``: the kernel drops it when its holder dies, so a
SIGKILLed rmctl never blocks the next one.  The holder writes its PID and
command into the lock file so a timeout can name it.

Changes are values: :meth:`Ledger.update` reads the state under the
lock, hands it to a function that returns a :class:`Change` (the new
state, and actions to run around writing it), and applies the resulting
plan; nothing mutates a state in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.errors import AccessDenied, LockTimeoutError, ParseError, StateError
from rmctl.execute.executor import apply
from rmctl.execute.host import Host
from rmctl.execute.status import raise_for_report
from rmctl.model.plan import Plan, ReplaceFile
from rmctl.state import files
from rmctl.state.records import STATE_KIND, STATE_VERSION, ReservationState

STATE_FILE = "state.json"
LOCK_FILE = "state.lock"


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
    """Return the state in ``text``; corrupt, unknown-version or tampered files are StateError (exit 5)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise _bad(path, f"is not valid JSON ({e.msg} at line {e.lineno})") from None
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
    for name, rec in res.items():
        if not isinstance(rec, dict) or rec.get("name") != name or not isinstance(rec.get("cpus"), str):
            raise _bad(path, f"has a malformed reservation {name!r}")
        try:
            CpuSet.parse(rec["cpus"])
        except ParseError:
            raise _bad(path, f"has a bad cpulist in reservation {name!r}") from None
    try:
        CpuSet.parse(doc["system_cpus"])
    except ParseError:
        raise _bad(path, "has a bad system_cpus cpulist") from None
    try:
        return ReservationState.from_data(doc)
    except (KeyError, TypeError, ValueError, AttributeError, ParseError) as e:
        raise _bad(path, f"has a malformed reservation ({type(e).__name__}: {e})") from None


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
    """The state file of one state dir; ``command`` names the holder in lock errors."""

    def __init__(self, state_dir: str, *, lock_timeout: float = 10.0, command: str = "rmctl"):
        self.state_dir = os.path.abspath(state_dir)
        self.path = os.path.join(self.state_dir, STATE_FILE)
        self.lock_path = os.path.join(self.state_dir, LOCK_FILE)
        self.lock_timeout = lock_timeout
        self.command = command

    # -- reading --------------------------------------------------------------
    def read_text(self) -> str | None:
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
                f"state file {self.path} belongs to another node (fingerprint {have[:12]}, this node {fingerprint[:12]})",
                hint="give this node (or this --root) a --state-dir of its own",
                details={"path": self.path, "state_fingerprint": have, "node_fingerprint": fingerprint})

    # -- permission -------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise AccessDenied (exit 6) before any write when the state dir cannot be written."""
        _, ok = files.writable_dir(self.state_dir)
        if not ok or not files.file_writable(self.path):
            raise AccessDenied(f"state dir {self.state_dir} is not writable",
                               hint="run as root or choose another --state-dir (env RMCTL_STATE_DIR)")

    # -- the lock ---------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive state lock; LockTimeoutError (exit 5) names the holder."""
        self.check_writable()
        fd = files.open_lock(self.lock_path)
        try:
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
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {self.command}\n".encode(), 0)
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

        Dry-run reads without the lock and writes nothing.  Otherwise the
        whole read-modify-write happens under the lock, and the new state is
        written by the executor (ReplaceFile: write, fsync, rename) on
        ``host`` (default: this machine's files, ``Host("/")``).  A failed
        step raises its error (rmctl.execute.status: AccessDenied -> 6,
        else ApplyError -> 1); with ``rollback`` the steps applied before it
        are undone first (a cgroup the kernel refused to make a partition is
        not left behind, unrecorded).  An error raised by ``change`` changes
        nothing.
        """
        if dry_run:
            previous, text = self._begin(fingerprint)
            ch = change(previous)
            return Updated(previous, ch.state, self._plan(previous, text, ch, command), None, ch.value)
        with self.locked():
            previous, text = self._begin(fingerprint)
            ch = change(previous)
            plan = self._plan(previous, text, ch, command)
            report = None
            if plan.actions:
                report = apply(plan, host if host is not None else Host("/"), rollback=rollback)
                raise_for_report(report)
            return Updated(previous, ch.state, plan, report, ch.value)

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
