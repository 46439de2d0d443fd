"""The one place the state package touches the state dir's files.

Reads (the state file, journals, the lock holder), the lock file, and
writes: every write goes through the executor as an action
(ReplaceFile/StateReplace: write, fsync, rename) on ``Host("/")``, so a
``--dry-run`` shows it like any other change and nothing here writes
behind the plan's back.  The state dir is this machine's, whatever
``--root`` says.  Keeping every open here is what lets the state dir's
files be checked in one place (owner, links, size).
"""

from __future__ import annotations

import errno
import os

from rmctl.errors import AccessDenied, ApplyError, StateError
from rmctl.execute.executor import apply
from rmctl.execute.host import Host
from rmctl.execute.status import error_of
from rmctl.model.plan import Plan
from rmctl.model.profile_actions import StateReplace


def read_text(path: str, what: str = "state file") -> str | None:
    """Return the text of ``path``, or None when it does not exist.

    Not UTF-8: StateError (exit 5; never overwritten).  Not readable:
    AccessDenied (exit 6).
    """
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise StateError(f"{what} {path} is not UTF-8 text; rmctl will not overwrite it",
                         hint=f"inspect it, then move it aside (mv {path} {path}.bad)",
                         details={"path": path}) from None
    except PermissionError:
        raise AccessDenied(f"cannot read {what} {path}: permission denied",
                           hint="run as root or choose another --state-dir") from None


def json_files(directory: str) -> list[str]:
    """Return the ``*.json`` names in ``directory``, sorted; [] when it does not exist."""
    try:
        return sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except FileNotFoundError:
        return []


def open_lock(path: str) -> int:
    """Return a file descriptor of the lock file ``path`` (made, mode 0644, with its directory)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise AccessDenied(f"cannot open state lock {path}: {e.strerror}",
                               hint="run as root or choose another --state-dir") from None
        raise ApplyError(f"cannot open state lock {path}: {e.strerror}") from None


def lock_holder(path: str) -> str:
    """Return who holds the lock, as its holder wrote it into the lock file ("PID N (command)")."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        text = ""
    if not text:
        return "another process"
    pid, _, cmd = text.partition(" ")
    return f"PID {pid} ({cmd})" if cmd else f"PID {pid}"


def writable_dir(directory: str) -> tuple[str, bool]:
    """Return (the nearest existing directory at or above ``directory``, whether we may create in it).

    root passes os.access on permission bits; a file in the way or a
    read-only mount still fails here.
    """
    p = directory
    while not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return p, os.path.isdir(p) and os.access(p, os.W_OK | os.X_OK)


def file_writable(path: str) -> bool:
    """Return False when ``path`` exists and may not be written."""
    return not os.path.exists(path) or os.access(path, os.W_OK)


def replace(path: str, content: str, previous: str | None, summary: str) -> None:
    """Write ``content`` to ``path`` through the executor, expecting ``previous`` (None: absent) there now."""
    rep = apply(Plan(actions=[StateReplace.of(path, content, previous, summary)], command="state"), Host("/"))
    err = error_of(rep)
    if err is not None:
        raise type(err)(f"cannot write {path}: {err.message}", hint=err.hint or "check --state-dir")
