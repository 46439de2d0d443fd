"""The reservations state file: one versioned, checksummed JSON file per state dir.

``<state-dir>/state.json`` holds the system CPUs and every reservation
(CPUs now; devices and hugepages get their own keys per reservation).  It
is read under an exclusive ``flock`` on ``<state-dir>/state.lock`` and
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
"""

from __future__ import annotations

import contextlib
import copy
import errno
import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from rmctl.errors import AccessDenied, ApplyError, LockTimeoutError, StateError

STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
STATE_KIND = "ReservationState"
STATE_API = "rmctl.io/v1alpha1"
#: bumped on incompatible changes; a file of another version is refused (exit 5)
STATE_VERSION = 1


def empty_state(fingerprint: str | None) -> dict[str, Any]:
    """Return a new state for the node with ``fingerprint``."""
    return {
        "apiVersion": STATE_API, "kind": STATE_KIND, "version": STATE_VERSION,
        "node": {"fingerprint": fingerprint},
        "system_cpus": "",
        "reservations": {},
        "updated": None,
    }


def new_reservation(name: str, *, cpus: str = "", kind: str = "cpu", nodes: list[int] | None = None,
                    owner: dict | None = None, created: float | None = None, **extra) -> dict[str, Any]:
    """Return a reservation record with room for every resource kind.

    ``cpus`` (cpulist), ``devices`` (PCI addresses, issue 6), ``hugepages``
    (size -> per-node pages), ``owner`` ({pid, start_time, command} or None:
    kept until released), ``cgroup`` ({path, version, partition} or None).
    """
    now = time.time() if created is None else created
    rec = {
        "name": name, "kind": kind, "cpus": cpus, "nodes": list(nodes or []),
        "devices": [], "hugepages": {}, "owner": owner,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "created_unix": now,
        "options": {}, "constraints": {}, "cgroup": None,
    }
    rec.update(extra)
    return rec


def canonical(state: dict) -> str:
    """Return the canonical text the checksum covers: every key but ``checksum``."""
    body = {k: v for k, v in state.items() if k != "checksum"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def checksum(state: dict) -> str:
    return "sha256:" + hashlib.sha256(canonical(state).encode()).hexdigest()


def dumps(state: dict) -> str:
    """Return the file text for ``state`` with its checksum."""
    doc = {k: v for k, v in state.items() if k != "checksum"}
    doc["checksum"] = checksum(doc)
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _bad(path: str, why: str) -> StateError:
    return StateError(
        f"state file {path} {why}; rmctl will not overwrite it",
        hint=f"inspect it, then move it aside (mv {path} {path}.bad) and recreate the reservations",
        details={"path": path})


def parse(text: str, path: str) -> dict[str, Any]:
    """Return the state in ``text``; corrupt, unknown-version or tampered files are StateError (exit 5)."""
    try:
        doc = json.loads(text)
    except ValueError as e:
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
    if not isinstance(res, dict) or not isinstance(doc.get("system_cpus"), str):
        raise _bad(path, "lacks reservations or system_cpus")
    from rmctl.cpuset import CpuSet
    from rmctl.errors import ParseError

    for name, rec in res.items():
        if not isinstance(rec, dict) or rec.get("name") != name or not isinstance(rec.get("cpus"), str):
            raise _bad(path, f"has a malformed reservation {name!r}")
        try:
            CpuSet.parse(rec["cpus"])
        except ParseError:
            raise _bad(path, f"has a bad cpulist in reservation {name!r}") from None
    return doc


@dataclass
class Transaction:
    """A state being changed under the lock; the caller mutates ``state``.

    ``before`` and ``after`` are extra actions run around the state replace
    (cgroups to create before recording them, to remove before forgetting
    them).  After the block, ``plan`` holds what was (or, dry-run, would be)
    applied and ``report`` the executor's report (None on dry-run).
    """

    state: dict[str, Any]
    previous_text: str | None
    path: str
    summary: str = ""
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)
    plan: Any = None
    report: Any = None
    original: dict = field(default_factory=dict)

    def changed(self) -> bool:
        return canonical(self.state) != canonical(self.original) or bool(self.before or self.after)


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
        try:
            with open(self.path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise _bad(self.path, "is not UTF-8 text") from None
        except PermissionError:
            raise AccessDenied(f"cannot read state file {self.path}: permission denied",
                               hint="run as root or choose another --state-dir") from None

    def load(self, fingerprint: str | None = None) -> dict[str, Any]:
        """Return the state (a new empty one when there is no file), checked against the node."""
        text = self.read_text()
        if text is None:
            return empty_state(fingerprint)
        state = parse(text, self.path)
        self.check_node(state, fingerprint)
        return state

    def check_node(self, state: dict, fingerprint: str | None) -> None:
        have = (state.get("node") or {}).get("fingerprint")
        if fingerprint is not None and have is not None and have != fingerprint:
            raise StateError(
                f"state file {self.path} belongs to another node (fingerprint {have[:12]}, this node {fingerprint[:12]})",
                hint="give this node (or this --root) a --state-dir of its own",
                details={"path": self.path, "state_fingerprint": have, "node_fingerprint": fingerprint})

    # -- permission -------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise AccessDenied (exit 6) before any write when the state dir cannot be written."""
        p = self.state_dir
        while not os.path.exists(p):
            parent = os.path.dirname(p)
            if parent == p:
                break
            p = parent
        if not os.path.isdir(p) or not os.access(p, os.W_OK | os.X_OK) \
                or (os.path.exists(self.path) and not os.access(self.path, os.W_OK)):
            raise AccessDenied(f"state dir {self.state_dir} is not writable",
                               hint="run as root or choose another --state-dir (env RMCTL_STATE_DIR)")

    # -- the lock ---------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive state lock; LockTimeoutError (exit 5) names the holder."""
        self.check_writable()
        try:
            os.makedirs(self.state_dir, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise AccessDenied(f"cannot open state lock {self.lock_path}: {e.strerror}",
                                   hint="run as root or choose another --state-dir") from None
            raise ApplyError(f"cannot open state lock {self.lock_path}: {e.strerror}") from None
        try:
            deadline = time.monotonic() + max(self.lock_timeout, 0.0)
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = self._holder()
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

    def _holder(self) -> str:
        try:
            with open(self.lock_path) as f:
                text = f.read().strip()
        except OSError:
            text = ""
        if not text:
            return "another process"
        pid, _, cmd = text.partition(" ")
        return f"PID {pid} ({cmd})" if cmd else f"PID {pid}"

    # -- transactions ------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self, fingerprint: str | None, *, dry_run: bool = False, host=None,
                    command: str = "", rollback: bool = False) -> Iterator[Transaction]:
        """Yield a Transaction; on a clean exit apply (or, dry-run, only plan) its changes.

        Dry-run reads without the lock and writes nothing.  Otherwise the
        whole read-modify-write happens under the lock, and the new state
        is written by the executor (ReplaceFile: write, fsync, rename).
        A failed step raises (AccessDenied -> 6, else ApplyError -> 1);
        with ``rollback`` the steps applied before it are undone first (a
        cgroup the kernel refused to make a partition is not left behind,
        unrecorded).
        """
        if dry_run:
            txn = self._begin(fingerprint)
            yield txn
            txn.plan = self._plan(txn, command)
            return
        with self.locked():
            txn = self._begin(fingerprint)
            yield txn
            txn.plan = self._plan(txn, command)
            if txn.plan.actions:
                from rmctl.execute.executor import apply
                from rmctl.execute.host import Host

                txn.report = apply(txn.plan, host if host is not None else Host("/"), rollback=rollback)
                raise_for_report(txn.report)

    def _begin(self, fingerprint: str | None) -> Transaction:
        text = self.read_text()
        state = empty_state(fingerprint) if text is None else parse(text, self.path)
        self.check_node(state, fingerprint)
        if state["node"].get("fingerprint") is None:
            state["node"]["fingerprint"] = fingerprint
        return Transaction(state=state, previous_text=text, path=self.path, original=copy.deepcopy(state))

    def _plan(self, txn: Transaction, command: str):
        from rmctl.model.plan import Plan, ReplaceFile

        actions = list(txn.before)
        if canonical(txn.state) != canonical(txn.original):
            txn.state["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            prev = txn.previous_text
            actions.append(ReplaceFile(
                path=self.path, content=dumps(txn.state),
                expect_sha256=None if prev is None else hashlib.sha256(prev.encode()).hexdigest(),
                summary=txn.summary or "update reservations"))
        actions.extend(txn.after)
        return Plan(actions=actions, fingerprint=txn.state["node"].get("fingerprint"), command=command)


def raise_for_report(report) -> None:
    """Raise the error of the first failed or stale step of an ApplyReport (rmctl.execute.status)."""
    from rmctl.execute.status import raise_for_report as raise_it

    raise_it(report)
