"""Apply journals: what each ``rmctl apply`` changed, with the values before.

One JSON file per apply under ``STATE_DIR/journal/`` (names sort by time).
An entry keeps every step with its action and the value read before it
ran, so ``rmctl undo`` can build the reverting plan (tuned's apply/unapply
keeps original values the same way).  Journal files are written through
the executor like every other state change (a ``StateReplace`` action);
this module only builds entries and reads them back.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from rmctl.errors import AccessDenied, StateError, UsageError

JOURNAL_KIND = "ApplyJournal"
JOURNAL_VERSION = 1


def journal_dir(state_dir: str) -> str:
    return os.path.join(state_dir, "journal")


def new_entry(report, *, command: str, profile: dict | None = None, fingerprint: str | None = None,
              source: str = "") -> dict[str, Any]:
    """Return a journal entry for an apply ``report`` (an ApplyReport)."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now * 1e6) % 1000000:06d}Z"
    return {
        "apiVersion": "rmctl.io/v1alpha1", "kind": JOURNAL_KIND, "version": JOURNAL_VERSION,
        "id": f"{stamp}-{os.getpid()}", "time": now, "command": command, "source": source,
        "fingerprint": fingerprint, "profile": profile,
        "changed": report.changed,
        "steps": [s.to_data() for s in report.steps],
        "rolled_back": [s.to_data() for s in report.rolled_back],
        "undone": None,
    }


def check_writable(state_dir: str) -> None:
    """Raise AccessDenied (exit 6) when no journal could be written under ``state_dir``.

    Called before an apply or undo changes anything: an apply whose journal
    cannot be written could not be undone.
    """
    d = journal_dir(state_dir)
    p = d
    while not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    # root passes os.access on permission bits; a file in the way or a read-only mount still fails here
    if not os.path.isdir(p) or not os.access(p, os.W_OK | os.X_OK):
        raise AccessDenied(f"cannot write apply journals under {d}: "
                           f"{p} is {'not a directory' if not os.path.isdir(p) else 'not writable'}",
                           hint="run as root or choose another --state-dir (env RMCTL_STATE_DIR)")


def entry_path(state_dir: str, entry: dict) -> str:
    return os.path.join(journal_dir(state_dir), f"{entry['id']}.json")


def dumps(entry: dict) -> str:
    return json.dumps(entry, indent=2, sort_keys=True) + "\n"


def entries(state_dir: str) -> list[tuple[str, dict]]:
    """Return (path, entry) of every journal, oldest first; a corrupt file is a StateError."""
    d = journal_dir(state_dir)
    try:
        names = sorted(n for n in os.listdir(d) if n.endswith(".json"))
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        p = os.path.join(d, n)
        try:
            with open(p, encoding="utf-8") as f:
                e = json.load(f)
        except (OSError, ValueError) as err:
            raise StateError(f"journal {p} is unreadable: {err}",
                             hint="move the file away if it is damaged; other journals stay usable") from None
        if not isinstance(e, dict) or e.get("kind") != JOURNAL_KIND:
            raise StateError(f"journal {p} is not an rmctl apply journal", hint="move the file away")
        if e.get("version") != JOURNAL_VERSION:
            raise StateError(f"journal {p} has unknown version {e.get('version')!r}",
                             hint="use the rmctl that wrote it, or move the file away")
        out.append((p, e))
    return out


def last_undoable(state_dir: str) -> tuple[str, dict] | None:
    """Return the newest journal that changed something and is not undone yet, or None."""
    for path, e in reversed(entries(state_dir)):
        if e.get("changed") and not e.get("undone"):
            return path, e
    return None


def last_profile(state_dir: str) -> dict | None:
    """Return the profile document of the newest apply still in effect (not undone), or None."""
    for _, e in reversed(entries(state_dir)):
        if e.get("profile") and not e.get("undone") and not _failed(e):
            return e["profile"]
    return None


def _failed(e: dict) -> bool:
    return any(s.get("status") in ("failed", "stale") for s in e.get("steps", []))


def undo_actions(entry: dict) -> list:
    """Return the actions that revert ``entry``'s applied steps, newest first."""
    from rmctl.model.plan import APPLIED, Action

    out = []
    for step in reversed(entry.get("steps", [])):
        if step.get("status") != APPLIED:
            continue
        try:
            action = Action.from_data(step["action"])
        except UsageError as e:
            raise StateError(f"journal {entry.get('id')}: {e}") from None
        before = step.get("before")
        u = action.undo(tuple(before) if isinstance(before, list) else before)
        if u is not None:
            out.append(u)
    return out


def mark_undone(entry: dict, report) -> dict:
    """Return a copy of ``entry`` recording the undo ``report``."""
    e = dict(entry)
    e["undone"] = {"time": time.time(), "ok": report.ok, "steps": [s.to_data() for s in report.steps]}
    return e
