"""Apply journals: what each ``rmctl apply`` changed, with the values before.

One JSON file per apply under ``STATE_DIR/journal/`` (names sort by
time), version 1.  An entry keeps every step with its action and the
value read before it ran, so ``rmctl undo`` can build the reverting plan
(tuned's apply/unapply keeps original values the same way).  Entries are
typed, immutable records (:class:`JournalEntry`) that read and write the
v1 file as it is (tests/fixtures/state/v1/journal); journal files are
written through the executor like every other state change
(rmctl.state.files.replace).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rmctl.errors import AccessDenied, StateError, UsageError
from rmctl.model.actions import action_from_data
from rmctl.model.plan import APPLIED
from rmctl.state import files
from rmctl.state.records import _extra, empty, freeze, thaw

JOURNAL_KIND = "ApplyJournal"
JOURNAL_API = "rmctl.io/v1alpha1"
JOURNAL_VERSION = 1


@dataclass(frozen=True)
class JournalStep:
    """One step of an apply as journaled: the ``action`` (its plan data), its ``status`` and the values
    ``before`` and ``after`` it ran (``before`` is what undo restores)."""

    action: Mapping[str, Any]
    status: str
    detail: str = ""
    before: Any = None
    after: Any = None
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("action", "status", "detail", "before", "after")

    @classmethod
    def of(cls, step) -> JournalStep:
        """Return the journal step of an executor StepResult."""
        return cls.from_data(step.to_data())

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> JournalStep:
        return cls(action=freeze(d["action"]), status=str(d["status"]), detail=str(d.get("detail") or ""),
                   before=freeze(d.get("before")), after=freeze(d.get("after")), extra=_extra(d, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        out = thaw(self.extra)
        out.update(action=thaw(self.action), status=self.status, detail=self.detail, before=thaw(self.before),
                   after=thaw(self.after))
        return out


@dataclass(frozen=True)
class Undone:
    """When an entry was undone, whether the undo completed (``ok``), and its steps."""

    time: float
    ok: bool
    steps: tuple[JournalStep, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("time", "ok", "steps")

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> Undone:
        return cls(time=d.get("time", 0.0), ok=bool(d.get("ok")),
                   steps=tuple(JournalStep.from_data(s) for s in d.get("steps") or ()), extra=_extra(d, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        out = thaw(self.extra)
        out.update(time=self.time, ok=self.ok, steps=[s.to_data() for s in self.steps])
        return out


@dataclass(frozen=True)
class JournalEntry:
    """The journal of one apply.

    ``id``: ``<UTC time>-<pid>``, also the file name; ``command``, ``source``
    (the profile or plan file), the node ``fingerprint``, the ``profile``
    document applied (None for a saved plan), ``changed`` (any step
    applied), ``steps`` and ``rolled_back`` (the rollback's steps after a
    failure), ``undone`` (None while in effect).
    """

    id: str
    time: float
    command: str = "apply"
    source: str = ""
    fingerprint: str | None = None
    profile: Mapping[str, Any] | None = None
    changed: bool = False
    steps: tuple[JournalStep, ...] = ()
    rolled_back: tuple[JournalStep, ...] = ()
    undone: Undone | None = None
    api_version: str = JOURNAL_API
    kind: str = JOURNAL_KIND
    version: int = JOURNAL_VERSION
    extra: Mapping[str, Any] = field(default_factory=empty)

    _KEYS = ("apiVersion", "kind", "version", "id", "time", "command", "source", "fingerprint", "profile",
             "changed", "steps", "rolled_back", "undone")

    @property
    def failed(self) -> bool:
        """Return True when a step failed or was stale (the apply did not complete)."""
        return any(s.status in ("failed", "stale") for s in self.steps)

    def undo_actions(self) -> list:
        """Return the actions that revert this entry's applied steps, newest first."""
        out = []
        for step in reversed(self.steps):
            if step.status != APPLIED:
                continue
            try:
                action = action_from_data(thaw(step.action))
            except UsageError as e:
                raise StateError(f"journal {self.id}: {e}") from None
            before = thaw(step.before)
            u = action.undo(tuple(before) if isinstance(before, list) else before)
            if u is not None:
                out.append(u)
        return out

    def undone_by(self, report, now: float | None = None) -> JournalEntry:
        """Return this entry recording the undo ``report`` (an ApplyReport)."""
        return replace(self, undone=Undone(time=time.time() if now is None else now, ok=report.ok,
                                           steps=tuple(JournalStep.of(s) for s in report.steps)))

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> JournalEntry:
        return cls(
            id=str(d["id"]), time=d.get("time", 0.0), command=str(d.get("command") or ""),
            source=str(d.get("source") or ""), fingerprint=d.get("fingerprint"),
            profile=freeze(d["profile"]) if d.get("profile") is not None else None,
            changed=bool(d.get("changed")), steps=tuple(JournalStep.from_data(s) for s in d.get("steps") or ()),
            rolled_back=tuple(JournalStep.from_data(s) for s in d.get("rolled_back") or ()),
            undone=Undone.from_data(d["undone"]) if d.get("undone") else None,
            api_version=d.get("apiVersion", JOURNAL_API), kind=d.get("kind", JOURNAL_KIND),
            version=d.get("version", JOURNAL_VERSION), extra=_extra(d, cls._KEYS))

    def to_data(self) -> dict[str, Any]:
        out = thaw(self.extra)
        out.update({"apiVersion": self.api_version, "kind": self.kind, "version": self.version, "id": self.id,
                    "time": self.time, "command": self.command, "source": self.source,
                    "fingerprint": self.fingerprint, "profile": thaw(self.profile), "changed": self.changed,
                    "steps": [s.to_data() for s in self.steps],
                    "rolled_back": [s.to_data() for s in self.rolled_back],
                    "undone": self.undone.to_data() if self.undone is not None else None})
        return out


def new_entry(report, *, command: str, profile: Mapping[str, Any] | None = None, fingerprint: str | None = None,
              source: str = "", now: float | None = None) -> JournalEntry:
    """Return a journal entry for an apply ``report`` (an ApplyReport)."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1e6) % 1000000:06d}Z"
    return JournalEntry(
        id=f"{stamp}-{os.getpid()}", time=now, command=command, source=source, fingerprint=fingerprint,
        profile=freeze(profile) if profile is not None else None, changed=report.changed,
        steps=tuple(JournalStep.of(s) for s in report.steps),
        rolled_back=tuple(JournalStep.of(s) for s in report.rolled_back))


def journal_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "journal")


def entry_path(state_dir: str, entry: JournalEntry) -> str:
    return os.path.join(journal_dir(state_dir), f"{entry.id}.json")


def dumps(entry: JournalEntry) -> str:
    return json.dumps(entry.to_data(), indent=2, sort_keys=True) + "\n"


def check_writable(state_dir: str) -> None:
    """Raise AccessDenied (exit 6) when no journal could be written under ``state_dir``.

    Called before an apply or undo changes anything: an apply whose journal
    cannot be written could not be undone.  The state dir and journal dir
    are checked as every state dir is (rmctl.state.files).
    """
    d = journal_dir(state_dir)
    p, ok = files.writable(d)
    if not ok:
        raise AccessDenied(f"cannot write apply journals under {d}: {p} is not writable",
                           hint="run as root or choose another --state-dir (env RMCTL_STATE_DIR)")


def parse(text: str, path: str) -> JournalEntry:
    """Return the entry in ``text``; anything else is a StateError naming the file."""
    try:
        e = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise StateError(f"journal {path} is unreadable: {err}",
                         hint="move the file away if it is damaged; other journals stay usable") from None
    if not isinstance(e, dict) or e.get("kind") != JOURNAL_KIND:
        raise StateError(f"journal {path} is not an rmctl apply journal", hint="move the file away")
    if e.get("version") != JOURNAL_VERSION:
        raise StateError(f"journal {path} has unknown version {e.get('version')!r}",
                         hint="use the rmctl that wrote it, or move the file away")
    try:
        return JournalEntry.from_data(e)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise StateError(f"journal {path} is malformed ({type(err).__name__}: {err})",
                         hint="move the file away if it is damaged; other journals stay usable") from None


def entries(state_dir: str) -> list[tuple[str, JournalEntry]]:
    """Return (path, entry) of every journal, oldest first; a corrupt file is a StateError."""
    d = journal_dir(state_dir)
    if not files.check_dir(d, "journal dir"):
        return []
    out = []
    for n in files.json_files(d):
        p = os.path.join(d, n)
        try:
            text = files.read_text(p, "journal", files.MAX_JOURNAL_BYTES)
        except (StateError, AccessDenied, OSError) as err:
            raise StateError(f"journal {p} is unreadable: {err}",
                             hint="move the file away if it is damaged; other journals stay usable") from None
        if text is None:  # removed meanwhile
            continue
        out.append((p, parse(text, p)))
    return out


def last_undoable(state_dir: str) -> tuple[str, JournalEntry] | None:
    """Return the newest journal that changed something and is not undone yet, or None."""
    for path, e in reversed(entries(state_dir)):
        if e.changed and e.undone is None:
            return path, e
    return None


def last_profile(state_dir: str) -> dict[str, Any] | None:
    """Return the profile document of the newest apply still in effect (not undone, not failed), or None."""
    for _, e in reversed(entries(state_dir)):
        if e.profile and e.undone is None and not e.failed:
            return thaw(e.profile)
    return None


def write(state_dir: str, entry: JournalEntry, previous: str | None, summary: str) -> str:
    """Write ``entry`` to its file through the executor (replacing ``previous``, None: a new file); return the path."""
    path = entry_path(state_dir, entry)
    files.replace(path, dumps(entry), previous, summary)
    return path


def read_text(path: str) -> str | None:
    return files.read_text(path, "journal", files.MAX_JOURNAL_BYTES)
