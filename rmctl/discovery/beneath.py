"""Readers that open files relative to a directory descriptor, and never leave their root.

``DirReader`` reads a directory root (a captured snapshot, someone's
unpacked tarball): every path is resolved *beneath* the root, the way
``openat2(2)`` with ``RESOLVE_IN_ROOT`` does (Linux 5.6,
include/uapi/linux/openat2.h): a symbolic link is followed only inside the
root, an absolute link target or a ``..`` that would climb above the root
stays at the root, so ``sys/devices/system/cpu/online -> /etc/shadow``
names ``ROOT/etc/shadow``, never the machine's file (issue 15 item 3).
Relative sysfs links (``sys/bus/pci/devices/X -> ../../../devices/...``)
are inside the root and resolve as the kernel would.

How: directories are opened one component at a time with
``O_PATH|O_DIRECTORY|O_NOFOLLOW`` relative to their parent's descriptor,
kept in a small cache, so reading ``cpu5/topology/core_id`` after
``cpu5/topology/die_id`` costs one ``openat`` (issue 14 item 4: one reader
that opens files relative to a directory descriptor).  A component that is
a link takes the slow path: a component-wise walk that reads each link
and resolves its target against the canonical path, then opens the
canonical path one ``O_NOFOLLOW`` component at a time beneath the root,
as above: a component swapped for a link in between fails that open, so
nothing outside the root is ever opened, by construction.  With
``use_openat2`` (``RMCTL_OPENAT2=1``) the kernel resolves the link instead:
``openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)`` (Linux 5.6, called
through ctypes).  Both confine alike; the walk is the default because it
needs no ctypes (its import and libc lookup cost 9M instructions, 5% of
``topology -o json`` on the EPYC fixture, whose ``cpuN/cpufreq`` are
links: issue 14).  Only regular files are ever opened for
reading: the file is ``lstat``-ed first and opened ``O_NOFOLLOW|O_NONBLOCK``
only when regular, so a FIFO never blocks and a device (a watchdog, a
tape) is never opened, not even to be refused.

``LiveReader`` reads the live root ``/``: the kernel's own sysfs and procfs,
trusted (docs/security.md), with plain paths, as fast as before.
"""

from __future__ import annotations

import errno
import os
import stat

#: descriptors of resolved directories kept open, all directory roots of the
#: process together (a fleet holds many Roots; select() and the soft
#: RLIMIT_NOFILE of 1024 must not be crowded), the oldest closed first:
#: discovery walks one CPU, node or device directory after another
DIR_CACHE = 128

#: (id of the DirReader, root-relative directory) -> O_PATH descriptor, oldest first
_DIRS: dict[tuple[int, str], int] = {}
MAX_LINK_HOPS = 40  # Linux MAXSYMLINKS

_S_IFMT, _S_IFREG, _S_IFLNK = stat.S_IFMT(0o177777), stat.S_IFREG, stat.S_IFLNK
_O_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_O_LIST = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC

# openat2(2): syscall 437 on every architecture (new syscalls share one number
# since Linux 5.1); struct open_how {u64 flags, mode, resolve}
_SYS_OPENAT2 = 437
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10


def read_fd(fd: int, cap: int) -> bytes:
    """Return up to ``cap`` bytes from ``fd``, read in 64 KiB steps.

    ``open(...).read(1 << 22)`` allocates the whole 4 MiB buffer for each
    2-byte sysfs attribute, which made reads ~4x slower (33 ms against 7 ms
    for the 1,478 files of the EPYC fixture).
    """
    chunks = []
    size = 0
    while size < cap:
        b = os.read(fd, 65536)
        if not b:
            break
        chunks.append(b)
        size += len(b)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return data[:cap] if size > cap else data


class NotRegularFile(OSError):
    """A path names a directory, FIFO, device or socket where a regular file was wanted."""


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


class LiveReader:
    """The live machine: absolute paths under ``/``, links followed (the kernel's files)."""

    def __init__(self) -> None:
        self.base = "/"

    def read(self, rel: str, cap: int) -> bytes | None:
        try:
            fd = os.open("/" + rel, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            return read_fd(fd, cap)
        except OSError:
            return None
        finally:
            os.close(fd)

    def read_regular(self, rel: str, cap: int) -> bytes:
        """Return up to ``cap`` bytes of regular file ``rel``; raise OSError (NotRegularFile...) else."""
        path = "/" + rel
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", rel)
        fd = os.open(path, _O_FILE & ~os.O_NOFOLLOW)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise NotRegularFile(errno.EINVAL, "not a regular file", rel)
            return read_fd(fd, cap)
        finally:
            os.close(fd)

    def kind(self, rel: str, follow: bool = True) -> str | None:
        try:
            st = os.stat("/" + rel, follow_symlinks=follow)
        except (OSError, ValueError):
            return None
        return _kind(st.st_mode)

    def listdir(self, rel: str) -> list[str] | None:
        try:
            return os.listdir("/" + rel)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def readlink(self, rel: str) -> str | None:
        try:
            return os.readlink("/" + rel)
        except (OSError, ValueError):
            return None

    def realpath(self, rel: str) -> str | None:
        return os.path.realpath("/" + rel).lstrip("/")

    def close(self) -> None:
        pass


class DirReader:
    """A directory root: every path resolved beneath ``base``; only regular files read."""

    #: False: links on the way are resolved by the walk (the default); None: by openat2 when a probe
    #: says the kernel has it (``RMCTL_OPENAT2=1`` sets this); True: by openat2
    use_openat2: bool | None = None if os.environ.get("RMCTL_OPENAT2") == "1" else False

    def __init__(self, base: str):
        self.base = base
        # the root itself is the operator's own argument: its path may hold links
        self.rootfd = os.open(base, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self._id = id(self)
        #: set by _dir_native when it stopped at a link or file (ENOTDIR), not a missing name
        self.link_on_the_way = False
        #: openat2 calls made (the slow path's count; tests assert on it)
        self.openat2_calls = 0

    # -- directories -----------------------------------------------------
    def _cached(self, rel: str) -> int | None:
        """Return the cached descriptor of ``rel``, or None.

        First in, first out, not least recently used: discovery walks one
        CPU, node or device after another, and moving each hit to the end
        (a dict pop and insert) was ~2,000 dict operations per EPYC run.
        """
        return _DIRS.get((self._id, rel))

    def _remember(self, rel: str, fd: int) -> None:
        if len(_DIRS) >= DIR_CACHE:
            os.close(_DIRS.pop(next(iter(_DIRS))))
        _DIRS[(self._id, rel)] = fd

    def _dir_native(self, rel: str) -> int | None:
        """Return a descriptor of directory ``rel`` opened without following any link, or None.

        The descriptor belongs to the cache: use it at once, before the next call.
        """
        if not rel:
            return self.rootfd
        fd = self._cached(rel)
        if fd is not None:
            return fd
        # the longest prefix already open, then one openat per missing component
        missing = []
        prefix = rel
        pfd = self.rootfd
        while prefix:
            prefix, _, name = prefix.rpartition("/")
            missing.append(name)
            fd = self._cached(prefix) if prefix else None
            if fd is not None:
                pfd = fd
                break
        for name in reversed(missing):
            try:
                fd = os.open(name, _O_DIR, dir_fd=pfd)
            except OSError as e:
                # ENOTDIR: a link (or a file) on the way, the slow path decides; else missing
                self.link_on_the_way = e.errno == errno.ENOTDIR
                return None
            prefix = f"{prefix}/{name}" if prefix else name
            self._remember(prefix, fd)  # evicts the least recently used, never this chain's parent
            pfd = fd
        return pfd

    def _dir(self, rel: str) -> int | None:
        """Return a descriptor of directory ``rel`` resolved beneath the root, or None."""
        self.link_on_the_way = False
        fd = self._dir_native(rel)
        if fd is not None or not self.link_on_the_way:
            return fd
        # a link on the way: resolve inside the root
        if self._openat2_ok():
            fd = self._openat2(rel, os.O_PATH | os.O_DIRECTORY)
            if fd is None:
                return None
            self._remember(rel, fd)
            return fd
        canon = self.walk(rel, follow_last=True)
        if canon is None:
            return None
        fd = self._dir_native(canon)
        if fd is not None and canon != rel:
            # remembered under the path it was asked by too (a duplicate: the cache closes each entry
            # once), as the openat2 path does: the files of a PCI function read through its link
            # sys/bus/pci/devices/<address> then need one walk, not one each (issue 14: 116 walks on gpu-node)
            fd = os.dup(fd)
            self._remember(rel, fd)
        return fd

    # -- the slow paths ----------------------------------------------------
    def _openat2_ok(self) -> bool:
        if DirReader.use_openat2 is None:
            DirReader.use_openat2 = _openat2_probe(self.rootfd)
        return bool(DirReader.use_openat2)

    def _openat2(self, rel: str, flags: int) -> int | None:
        """Return ``openat2(root, rel, flags, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)``, or None."""
        self.openat2_calls += 1
        for _ in range(3):
            try:
                return _openat2(self.rootfd, rel, flags | os.O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
            except OSError as e:
                if e.errno != errno.EAGAIN:  # EAGAIN: a rename raced the lookup; retry
                    return None
        return None

    def walk(self, rel: str, follow_last: bool = True, strict: bool = True) -> str | None:
        """Return the canonical root-relative path of ``rel``, resolved beneath the root.

        RESOLVE_IN_ROOT's rules, in Python: links followed inside the root
        (an absolute target starts again at the root), ``..`` above the root
        stays at the root, MAX_LINK_HOPS links at most (else None).  A
        missing last component is kept.  A missing or non-directory
        component on the way gives None when ``strict``, else the rest is
        appended as written (``os.path.realpath``'s way, for dangling links).
        """
        todo = rel.split("/")
        todo.reverse()
        done: list[str] = []
        hops = 0
        while todo:
            c = todo.pop()
            if not c or c == ".":
                continue
            if c == "..":
                if done:
                    done.pop()
                continue
            pfd = self._dir_native("/".join(done))
            try:
                if pfd is None:
                    raise NotADirectoryError
                st = os.stat(c, dir_fd=pfd, follow_symlinks=False)
            except OSError:
                if todo and strict:
                    return None
                done.append(c)  # missing: the rest as written, ".." still inside
                while todo:
                    c = todo.pop()
                    if c == "..":
                        if done:
                            done.pop()
                    elif c and c != ".":
                        done.append(c)
                break
            if stat.S_ISLNK(st.st_mode) and (todo or follow_last):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    return None
                try:
                    target = os.readlink(c, dir_fd=pfd)
                except OSError:
                    return None
                if target.startswith("/"):
                    done = []
                parts = target.split("/")
                parts.reverse()
                todo.extend(parts)
                continue
            if todo and not stat.S_ISDIR(st.st_mode):
                return None
            done.append(c)
        return "/".join(done)

    def _final(self, rel: str) -> tuple[int, str, os.stat_result] | None:
        """Return (parent descriptor, name, lstat) of ``rel`` with its last link resolved, or None."""
        parent, _, name = rel.rpartition("/")
        pfd = self._dir(parent)
        if pfd is None:
            return None
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except OSError:
            return None
        if not stat.S_ISLNK(st.st_mode):
            return pfd, name, st
        canon = self.walk(rel, follow_last=True)
        if not canon:
            return None
        parent, _, name = canon.rpartition("/")
        pfd = self._dir_native(parent)
        if pfd is None:
            return None
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except OSError:
            return None
        return None if stat.S_ISLNK(st.st_mode) else (pfd, name, st)  # a link now: a race, give up

    # -- what Root asks ----------------------------------------------------
    def read(self, rel: str, cap: int) -> bytes | None:
        """Return up to ``cap`` bytes of regular file ``rel``, or None (missing, not regular, unreadable)."""
        parent, _, name = rel.rpartition("/")
        pfd = _DIRS.get((self._id, parent)) if parent else self.rootfd
        if pfd is None:
            pfd = self._dir(parent)
            if pfd is None:
                return None
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except OSError:
            return None
        kind = st.st_mode & _S_IFMT  # stat.S_ISREG/S_ISLNK, without two calls per file
        if kind == _S_IFLNK:
            found = self._final(rel)
            if found is None:
                return None
            pfd, name, st = found
            kind = st.st_mode & _S_IFMT
        if kind != _S_IFREG:
            return None  # FIFOs, devices, sockets, directories: never opened
        try:
            fd = os.open(name, _O_FILE, dir_fd=pfd)
        except OSError:
            return None
        # Replaced between lstat and open?  By a link: O_NOFOLLOW fails.  By a
        # FIFO: O_NONBLOCK, so neither open nor read blocks.  By a device: only
        # root can make one (CAP_MKNOD).  No fstat needed (746 fewer calls for EPYC).
        try:
            size = st.st_size
            if 0 < size < 65536 and size < cap:
                # a short read of a regular file is its end: one read, not two (sysfs
                # attributes, 4096 bytes by stat, also come whole in one read)
                data = os.read(fd, size + 1)
                if len(data) <= size:
                    return data
                return (data + read_fd(fd, cap))[:cap]
            return read_fd(fd, cap)
        except OSError:
            return None
        finally:
            os.close(fd)

    def read_regular(self, rel: str, cap: int) -> bytes:
        """Return up to ``cap`` bytes of regular file ``rel``; raise OSError else.

        FileNotFoundError when missing (a dangling link too), NotRegularFile
        for anything but a regular file (never opened), PermissionError...
        """
        found = self._final(rel)
        if found is None:
            raise FileNotFoundError(errno.ENOENT, "no such file", rel)
        pfd, name, st = found
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", rel)
        fd = os.open(name, _O_FILE, dir_fd=pfd)
        try:
            return read_fd(fd, cap)
        finally:
            os.close(fd)

    def kind(self, rel: str, follow: bool = True) -> str | None:
        if not rel:
            return "dir"
        if follow:
            found = self._final(rel)
            return None if found is None else _kind(found[2].st_mode)
        parent, _, name = rel.rpartition("/")
        pfd = self._dir(parent)
        if pfd is None:
            return None
        try:
            return _kind(os.stat(name, dir_fd=pfd, follow_symlinks=False).st_mode)
        except OSError:
            return None

    def listdir(self, rel: str) -> list[str] | None:
        pfd = self._dir(rel)
        if pfd is None:
            return None
        try:
            fd = os.open(".", _O_LIST, dir_fd=pfd)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)

    def readlink(self, rel: str) -> str | None:
        parent, _, name = rel.rpartition("/")
        pfd = self._dir(parent)
        if pfd is None:
            return None
        try:
            return os.readlink(name, dir_fd=pfd)
        except OSError:
            return None

    def realpath(self, rel: str) -> str | None:
        return self.walk(rel, follow_last=True, strict=False)

    def close(self) -> None:
        """Close this root's descriptors (also done when it is collected)."""
        for key in [k for k in _DIRS if k[0] == self._id]:
            os.close(_DIRS.pop(key))
        if self.rootfd >= 0:
            os.close(self.rootfd)
            self.rootfd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


# -- openat2 through ctypes ---------------------------------------------------------

_syscall = None


def _openat2(dirfd: int, path: str, flags: int, resolve: int) -> int:
    """Call openat2(2); raise OSError on failure."""
    import ctypes

    global _syscall
    if _syscall is None:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syscall
        fn.restype = ctypes.c_long
        fn.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
        _syscall = fn
    how = (ctypes.c_uint64 * 3)(flags, 0, resolve)
    fd = _syscall(_SYS_OPENAT2, dirfd, os.fsencode(path), ctypes.addressof(how), ctypes.sizeof(how))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def _openat2_probe(rootfd: int) -> bool:
    """Return True when openat2 with RESOLVE_IN_ROOT works here (Linux >= 5.6, not filtered)."""
    if os.environ.get("RMCTL_NO_OPENAT2"):
        return False
    try:
        os.close(_openat2(rootfd, ".", os.O_PATH | os.O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS))
    except (OSError, AttributeError):  # ENOSYS, EPERM (seccomp), no libc syscall()
        return False
    return True
