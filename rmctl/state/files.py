"""The one place the state package touches the state dir's files.

Reads (the state file, journals, the lock holder), the lock file, and
writes: every write goes through the executor as an action
(ReplaceFile/StateReplace: write, fsync, rename) on ``Host("/")``, so a
``--dry-run`` shows it like any other change and nothing here writes
behind the plan's back.  The state dir is this machine's, whatever
``--root`` says.

rmctl runs as root over a directory that others may be able to reach, so
nothing in it is taken on trust (issue 15 items 1, 5, 6):

* The state dir and every directory above it must be owned by root or by
  the user running rmctl, and not writable by group or others unless the
  sticky bit is set (``/tmp``); the state dir itself must not be writable
  by group or others at all.  A symbolic link on the way is followed only
  when root or this user owns it (the rule of the kernel's
  ``fs.protected_symlinks`` for sticky directories, applied everywhere).
  Anything else is refused with the reason (AccessDenied, exit 6): another
  user could otherwise swap the files rmctl reads and writes.  A path
  component that is not a directory is refused the same way.
* Directories rmctl creates (the state dir, its missing parents, the
  journal dir) are made 0700 whatever the umask.
* Every file in it is opened ``O_NOFOLLOW | O_NONBLOCK`` and checked with
  ``fstat`` to be a regular file before a byte is read, and read up to a
  size cap: a symbolic link (dangling, or to ``/dev/zero``), a FIFO, a
  directory or a device is a StateError naming the file (exit 5), never
  a hang, a MemoryError or "no state".
* The lock is ``LOCK_FILE`` (0600, owned by this user, one link), opened
  ``O_NOFOLLOW`` without ``O_TRUNC``; a lock file that others could open
  (and so ``flock`` to block root) or that is not ours is refused, never
  truncated.  The lock of older rmctl versions (``state.lock``, 0644) is
  not used: any user could open and ``flock`` it.
* Temporary files of killed runs (``.tmp-*``, from the executor's
  write-fsync-rename) are removed under the lock.
"""

from __future__ import annotations

import errno
import os
import stat

from rmctl.errors import AccessDenied, ApplyError, StateError
from rmctl.execute.executor import apply
from rmctl.execute.host import Host
from rmctl.execute.status import error_of
from rmctl.model.plan import Plan
from rmctl.model.profile_actions import StateReplace

#: the largest state file rmctl reads (a reservation is about 1 KiB: 16,000 of them)
MAX_STATE_BYTES = 16 << 20
#: the largest journal rmctl reads (a profile apply keeps the state text before and after each step)
MAX_JOURNAL_BYTES = 64 << 20
#: the lock file holds "PID command"
MAX_LOCK_BYTES = 4096
#: symbolic links followed on the way to the state dir (the kernel's MAXSYMLINKS)
MAX_LINK_HOPS = 40
#: the prefix of the executor's temporary files (rmctl.execute.host.Host.replace_file)
TMP_PREFIX = ".tmp-"
#: the lock file; ``state.lock`` was the lock of rmctl before issue 15 (0644: anyone could flock it)
LOCK_FILE = "lock"

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_HINT_DIR = "choose another --state-dir (env RMCTL_STATE_DIR), or fix the owner and mode"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


# -- the directory ----------------------------------------------------------------------

def _untrusted(what: str, directory: str, why: str) -> AccessDenied:
    return AccessDenied(f"{what} {directory} is not safe to use: {why}", hint=_HINT_DIR,
                        details={"path": directory, "reason": why})


def _check_component(path: str, st: os.stat_result, *, last: bool, what: str, directory: str) -> None:
    me = os.geteuid()
    if st.st_uid not in (0, me):
        raise _untrusted(what, directory, f"{path} is owned by uid {st.st_uid}, not by root or uid {me}")
    mode = st.st_mode
    if last and mode & 0o022:
        raise _untrusted(what, directory, f"{path} is writable by group or others (mode {mode & 0o7777:04o})")
    if mode & 0o022 and not mode & stat.S_ISVTX:
        raise _untrusted(what, directory,
                         f"{path} is writable by group or others without the sticky bit (mode {mode & 0o7777:04o})")


def _walk(directory: str, what: str) -> tuple[str, list[str]]:
    """Resolve ``directory`` one component at a time, checking each; return (the deepest existing
    directory, its real path; the names below it that do not exist yet)."""
    me = os.geteuid()
    todo = [p for p in os.path.abspath(directory).split("/") if p]
    todo.reverse()  # a stack: the next component last
    cur = "/"
    _check_component(cur, os.lstat(cur), last=not todo, what=what, directory=directory)
    hops = 0
    while todo:
        name = todo.pop()
        if name == ".":
            continue
        if name == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = os.path.join(cur, name)
        try:
            st = os.lstat(nxt)
        except FileNotFoundError:
            return cur, [name] + todo[::-1]
        except PermissionError:
            raise AccessDenied(f"cannot reach {what} {directory}: {cur} may not be searched",
                               hint="run as root or choose another --state-dir") from None
        except OSError as e:
            raise StateError(f"cannot reach {what} {directory}: {nxt}: {e.strerror}", hint=_HINT_DIR) from None
        if stat.S_ISLNK(st.st_mode):
            if st.st_uid not in (0, me):
                raise _untrusted(what, directory, f"{nxt} is a symbolic link owned by uid {st.st_uid}")
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise StateError(f"cannot reach {what} {directory}: more than {MAX_LINK_HOPS} symbolic links",
                                 hint=_HINT_DIR)
            target = os.readlink(nxt)
            if target.startswith("/"):
                cur = "/"
            todo.extend(reversed([p for p in target.split("/") if p]))
            continue
        if not stat.S_ISDIR(st.st_mode):
            where = f"it is {_kind(st.st_mode)}" if nxt == os.path.abspath(directory) \
                else f"{nxt} is {_kind(st.st_mode)}"
            # the same refusal as a directory rmctl may not write (exit 6): the state dir cannot be used
            raise AccessDenied(f"{what} {directory} is not a directory: {where}",
                               hint="move it aside or choose another --state-dir (env RMCTL_STATE_DIR)",
                               details={"path": nxt, "reason": "not a directory"})
        _check_component(nxt, st, last=not todo, what=what, directory=directory)
        cur = nxt
    return cur, []


def check_dir(directory: str, what: str = "state dir") -> bool:
    """Check ``directory`` and every directory above it (see the module docstring); return whether it exists.

    Creates nothing.  AccessDenied (6) when another user could change it or
    a component is not a directory.
    """
    return not _walk(directory, what)[1]


def make_dir(directory: str, what: str = "state dir") -> str:
    """Check ``directory`` and create what is missing of it, 0700 whatever the umask; return its real path."""
    cur, missing = _walk(directory, what)
    me = os.geteuid()
    for name in missing:
        if name in (".", ".."):
            raise StateError(f"cannot create {what} {directory}: '..' below a missing directory",
                             hint="give the state dir as a plain path")
        nxt = os.path.join(cur, name)
        try:
            os.mkdir(nxt, 0o700)  # mode & ~umask: never wider than 0700; fchmod below makes it exactly 0700
        except FileExistsError:
            pass  # made meanwhile (another rmctl): checked below like ours
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise AccessDenied(f"cannot create {what} {nxt}: {e.strerror}",
                                   hint="run as root or choose another --state-dir (env RMCTL_STATE_DIR)") from None
            raise StateError(f"cannot create {what} {nxt}: {e.strerror}", hint=_HINT_DIR) from None
        try:
            fd = os.open(nxt, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            raise StateError(f"cannot create {what} {nxt}: {e.strerror}", hint=_HINT_DIR) from None
        try:
            st = os.fstat(fd)
            if st.st_uid != me:
                raise _untrusted(what, directory, f"{nxt} was made by uid {st.st_uid} meanwhile")
            if stat.S_IMODE(st.st_mode) != 0o700:
                os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
        cur = nxt
    return cur


def writable(directory: str) -> tuple[str, bool]:
    """Return (the nearest existing directory at or above ``directory``, whether we may create in it).

    root passes os.access on permission bits; a read-only mount still fails here.
    """
    cur, missing = _walk(directory, "state dir")
    return cur, os.access(cur, os.W_OK | os.X_OK)


# -- files ---------------------------------------------------------------------------------

def _special(path: str, what: str, why: str) -> StateError:
    return StateError(f"{what} {path} {why}; rmctl will not read or overwrite it",
                      hint=f"inspect it, then move it aside (mv {path} {path}.bad)",
                      details={"path": path})


def read_bytes(path: str, what: str = "state file", limit: int = MAX_STATE_BYTES) -> bytes | None:
    """Return the bytes of regular file ``path`` (at most ``limit``), or None when it does not exist.

    Opened ``O_NOFOLLOW | O_NONBLOCK``: a link, FIFO, directory, device or
    a file over ``limit`` is a StateError naming it (exit 5); not readable:
    AccessDenied (exit 6).
    """
    try:
        fd = os.open(path, _READ)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _special(path, what, "is a symbolic link") from None
        if e.errno in (errno.EACCES, errno.EPERM):
            raise AccessDenied(f"cannot read {what} {path}: permission denied",
                               hint="run as root or choose another --state-dir") from None
        if e.errno == errno.ENOTDIR:
            raise AccessDenied(f"cannot read {what} {path}: a component of its directory is not a directory",
                               hint=_HINT_DIR, details={"path": path}) from None
        raise StateError(f"cannot read {what} {path}: {e.strerror}", details={"path": path}) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _special(path, what, f"is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise _special(path, what, f"is {st.st_size} bytes, more than the {limit} rmctl reads")
        chunks, n = [], 0
        while n <= limit:
            b = os.read(fd, min(1 << 20, limit + 1 - n))
            if not b:
                break
            chunks.append(b)
            n += len(b)
        if n > limit:
            raise _special(path, what, f"is more than the {limit} bytes rmctl reads")
        return b"".join(chunks)
    except OSError as e:
        raise StateError(f"cannot read {what} {path}: {e.strerror}", details={"path": path}) from None
    finally:
        os.close(fd)


def read_text(path: str, what: str = "state file", limit: int = MAX_STATE_BYTES) -> str | None:
    """Return the text of ``path`` (see :func:`read_bytes`), or None when it does not exist.

    Not UTF-8: StateError (exit 5; never overwritten).
    """
    data = read_bytes(path, what, limit)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise StateError(f"{what} {path} is not UTF-8 text; rmctl will not overwrite it",
                         hint=f"inspect it, then move it aside (mv {path} {path}.bad)",
                         details={"path": path}) from None


def json_files(directory: str) -> list[str]:
    """Return the ``*.json`` names in ``directory``, sorted; [] when it does not exist."""
    try:
        return sorted(n for n in os.listdir(directory) if n.endswith(".json") and not n.startswith(TMP_PREFIX))
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise StateError(f"{directory} is not a directory", hint=_HINT_DIR, details={"path": directory}) from None


# -- the lock ------------------------------------------------------------------------------

def open_lock(path: str) -> int:
    """Return a file descriptor of the lock file ``path`` (made 0600 when missing; its directory must exist).

    Refused (AccessDenied, exit 6, nothing truncated or created through a
    link): a symbolic link, anything but a regular file, a file owned by
    another user, with more than one link, or that group or others may
    open (another user could ``flock`` it and block every reservation).
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise AccessDenied(f"state lock {path} is a symbolic link; rmctl will not open it",
                               hint=f"remove it (rm {path}); rmctl makes its own", details={"path": path}) from None
        if e.errno == errno.EISDIR:
            raise AccessDenied(f"state lock {path} is a directory", hint=f"move it aside (mv {path} {path}.bad)",
                               details={"path": path}) from None
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise AccessDenied(f"cannot open state lock {path}: {e.strerror}",
                               hint="run as root or choose another --state-dir") from None
        raise ApplyError(f"cannot open state lock {path}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        why = None
        if not stat.S_ISREG(st.st_mode):
            why = f"is {_kind(st.st_mode)}"
        elif st.st_uid != os.geteuid():
            why = f"is owned by uid {st.st_uid}"
        elif st.st_nlink != 1:
            why = f"has {st.st_nlink} links"
        elif st.st_mode & 0o077:
            why = f"may be opened by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
        if why is not None:
            raise AccessDenied(f"state lock {path} {why}; rmctl uses only a lock file of its own (0600)",
                               hint=f"remove it (rm {path}); rmctl makes a new one", details={"path": path})
        if stat.S_IMODE(st.st_mode) != 0o600:
            os.fchmod(fd, 0o600)  # made under a umask that took our own read or write bit
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_holder(fd: int, text: str) -> None:
    """Record who holds the lock in the (checked, ours) lock file."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def lock_holder(path: str) -> str:
    """Return who holds the lock, as its holder wrote it into the lock file ("PID N (command)")."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return "another process"
    try:
        st = os.fstat(fd)
        raw = os.read(fd, MAX_LOCK_BYTES) if stat.S_ISREG(st.st_mode) else b""
    except OSError:
        raw = b""
    finally:
        os.close(fd)
    text = "".join(c for c in raw.decode("utf-8", "replace") if c.isprintable()).strip()
    if not text:
        return "another process"
    pid, _, cmd = text.partition(" ")
    return f"PID {pid} ({cmd})" if cmd else f"PID {pid}"


def remove_stale_temps(directory: str) -> list[str]:
    """Remove ``.tmp-*`` files of killed runs from ``directory``; return their paths.

    Called with the state lock held: every state write happens under it, so
    a temporary file seen then belongs to no running rmctl.  Only regular
    files and links are removed (``unlink`` never follows a link).
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    out = []
    for n in names:
        if not n.startswith(TMP_PREFIX):
            continue
        p = os.path.join(directory, n)
        try:
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                os.unlink(p)
                out.append(p)
        except OSError:
            continue
    return out


# -- writes ----------------------------------------------------------------------------------

def file_writable(path: str) -> bool:
    """Return False when ``path`` exists and may not be written."""
    return not os.path.lexists(path) or os.access(path, os.W_OK, follow_symlinks=False)


def replace(path: str, content: str, previous: str | None, summary: str) -> None:
    """Write ``content`` to ``path`` through the executor, expecting ``previous`` (None: absent) there now.

    The directory is made first (0700, checked) so the executor never
    creates it with the caller's umask.
    """
    make_dir(os.path.dirname(path), "state dir")
    rep = apply(Plan(actions=[StateReplace.of(path, content, previous, summary)], command="state"), Host("/"))
    err = error_of(rep)
    if err is not None:
        raise type(err)(f"cannot write {path}: {err.message}", hint=err.hint or "check --state-dir")
