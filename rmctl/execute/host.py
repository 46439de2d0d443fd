"""Hosts: where actions read and write.

``LiveHost`` acts on this machine.  ``RootHost`` acts under a directory (a
temporary root in tests), performs file writes there, and records what it
cannot really do under a directory (mounts, affinity) so tests can check it.
Both raise rmctl errors: EACCES/EPERM -> AccessDenied, others -> ApplyError.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import tempfile

from rmctl.cpuset import CpuSet
from rmctl.discovery.parse import parse_mounts
from rmctl.errors import AccessDenied, ApplyError


def _oserror(e: OSError, what: str, path: str):
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return AccessDenied(f"{what} {path}: {e.strerror}",
                            hint="run as root (and not on a read-only file system)")
    return ApplyError(f"{what} {path}: {e.strerror or e}")


class Host:
    """Base host: file operations relative to ``base``."""

    live = False

    def __init__(self, base: str = "/"):
        self.base = base

    def real(self, path: str) -> str:
        if self.base == "/":
            return path
        return os.path.join(self.base, path.lstrip("/"))

    # -- files -------------------------------------------------------------
    def read_text(self, path: str) -> str | None:
        try:
            with open(self.real(path), "rb") as f:
                return f.read().replace(b"\0", b"").decode("utf-8", "replace")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise _oserror(e, "cannot read", path) from None

    def write_text(self, path: str, value: str) -> None:
        # sysfs wants one write() of the whole value, no O_TRUNC games, no O_CREAT.
        try:
            fd = os.open(self.real(path), os.O_WRONLY | (0 if self.live else os.O_CREAT | os.O_TRUNC))
            try:
                os.write(fd, value.encode())
            finally:
                os.close(fd)
        except OSError as e:
            raise _oserror(e, "cannot write", path) from None

    def can_write(self, path: str) -> bool:
        """Return True when ``path`` (or, if absent, its directory) is writable by us."""
        p = self.real(path)
        while not os.path.exists(p) and p not in ("/", ""):
            p = os.path.dirname(p)
        return os.access(p, os.W_OK)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(self.real(path))

    def exists(self, path: str) -> bool:
        return os.path.exists(self.real(path))

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self.real(path)))
        except OSError:
            return []

    def dir_state(self, path: str) -> str:
        """Return what is at ``path`` for a mount point: absent, notdir, empty or nonempty."""
        if not self.exists(path):
            return "absent"
        if not self.isdir(path):
            return "notdir"
        return "nonempty" if self.listdir(path) else "empty"

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        try:
            os.makedirs(self.real(path), mode=mode, exist_ok=True)
        except OSError as e:
            raise _oserror(e, "cannot create directory", path) from None

    def rmdir(self, path: str) -> None:
        try:
            os.rmdir(self.real(path))
        except FileNotFoundError:
            return
        except OSError as e:
            raise _oserror(e, "cannot remove directory", path) from None

    def remove_file(self, path: str) -> None:
        """Remove a file; a missing one is fine (the goal is its absence)."""
        try:
            os.unlink(self.real(path))
        except FileNotFoundError:
            return
        except OSError as e:
            raise _oserror(e, "cannot remove", path) from None

    def replace_file(self, path: str, content: str) -> None:
        """Replace ``path`` atomically: temp file in the same directory, fsync, rename, fsync dir."""
        real = self.real(path)
        d = os.path.dirname(real)
        try:
            os.makedirs(d, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(content)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, real)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
            dfd = os.open(d, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as e:
            raise _oserror(e, "cannot replace", path) from None

    # -- mounts ------------------------------------------------------------
    def mount_at(self, path: str):
        """Return (source, fstype, options dict) of the last mount at ``path``, or None."""
        text = self.read_text("/proc/mounts") or ""
        found = None
        target = os.path.normpath(path)
        for src, mpath, fstype, opts in parse_mounts(text):
            if mpath == target:
                found = (src, fstype, opts)
        return found

    def mount(self, source: str, path: str, fstype: str, options: str) -> None:
        raise NotImplementedError

    def umount(self, path: str) -> None:
        raise NotImplementedError

    # -- affinity ----------------------------------------------------------
    def get_affinity(self, pid: int) -> str | None:
        raise NotImplementedError

    def thread_affinities(self, pid: int) -> dict[int, str] | None:
        """Return {thread id: cpulist} of every thread of ``pid``, or None when it is gone."""
        raise NotImplementedError

    def set_affinity(self, pid: int, cpus: str) -> None:
        raise NotImplementedError

    # -- memory policy of this process (cpu run --membind) ---------------------
    def get_mempolicy(self) -> tuple[int, str]:
        """Return (mode, nodelist) of rmctl's own memory policy."""
        raise NotImplementedError

    def set_mempolicy(self, mode: int, nodes: str) -> None:
        raise NotImplementedError


class LiveHost(Host):
    """This machine."""

    live = True

    def __init__(self):
        super().__init__("/")

    def mount(self, source, path, fstype, options):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        rc = libc.mount(source.encode(), path.encode(), fstype.encode(), ctypes.c_ulong(0),
                        options.encode() if options else None)
        if rc != 0:
            e = ctypes.get_errno()
            raise _oserror(OSError(e, os.strerror(e)), "cannot mount", path)

    def umount(self, path):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.umount2(path.encode(), 0) != 0:
            e = ctypes.get_errno()
            raise _oserror(OSError(e, os.strerror(e)), "cannot unmount", path)

    def get_affinity(self, pid):
        try:
            return CpuSet(os.sched_getaffinity(pid)).to_list()
        except ProcessLookupError:
            return None

    def thread_affinities(self, pid):
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        except FileNotFoundError:
            return None
        out = {}
        for tid in tids:
            try:
                out[tid] = CpuSet(os.sched_getaffinity(tid)).to_list()
            except OSError:
                continue  # the thread ended meanwhile
        return out

    def get_mempolicy(self):
        from rmctl.execute.mempolicy import get_mempolicy

        return get_mempolicy()

    def set_mempolicy(self, mode, nodes):
        from rmctl.execute.mempolicy import set_mempolicy

        set_mempolicy(mode, nodes)

    def set_affinity(self, pid, cpus):
        """Set the affinity of every thread of ``pid`` (``/proc/PID/task/*``)."""
        want = set(CpuSet.parse(cpus))
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except FileNotFoundError:
            raise ApplyError(f"no process {pid}") from None
        for tid in tids:
            try:
                os.sched_setaffinity(tid, want)
            except ProcessLookupError:
                continue  # the thread ended meanwhile
            except OSError as e:
                raise _oserror(e, "cannot set affinity of", f"thread {tid}") from None


class RootHost(Host):
    """A host under a directory: file actions really happen there; mounts and
    affinity are simulated in memory and recorded in ``calls``."""

    def __init__(self, base: str):
        super().__init__(base)
        self.calls: list[tuple] = []
        self._mounts: dict[str, tuple[str, str, dict]] = {}
        self._affinity: dict[int, str] = {}
        self._mempolicy: tuple[int, str] = (0, "")

    def write_text(self, path, value):
        self.calls.append(("write", path, value))
        super().write_text(path, value)

    def mkdir(self, path, mode=0o755):
        self.calls.append(("mkdir", path))
        super().mkdir(path, mode)

    def rmdir(self, path):
        self.calls.append(("rmdir", path))
        super().rmdir(path)

    def remove_file(self, path):
        self.calls.append(("remove", path))
        super().remove_file(path)

    def replace_file(self, path, content):
        self.calls.append(("replace", path))
        super().replace_file(path, content)

    def mount_at(self, path):
        return self._mounts.get(os.path.normpath(path))

    def mount(self, source, path, fstype, options):
        self.calls.append(("mount", source, path, fstype, options))
        opts = {}
        for o in filter(None, options.split(",")):
            k, _, v = o.partition("=")
            opts[k] = v
        self._mounts[os.path.normpath(path)] = (source, fstype, opts)

    def umount(self, path):
        self.calls.append(("umount", path))
        if self._mounts.pop(os.path.normpath(path), None) is None:
            raise ApplyError(f"cannot unmount {path}: not mounted")

    def get_affinity(self, pid):
        return self._affinity.get(pid, "")

    def thread_affinities(self, pid):
        return {pid: self._affinity.get(pid, "")}

    def get_mempolicy(self):
        return self._mempolicy

    def set_mempolicy(self, mode, nodes):
        self.calls.append(("mempolicy", mode, nodes))
        self._mempolicy = (mode, nodes if mode else "")

    def set_affinity(self, pid, cpus):
        self.calls.append(("affinity", pid, cpus))
        self._affinity[pid] = CpuSet.parse(cpus).to_list()


class SnapshotHost(Host):
    """A snapshot root seen as a host: reads go through its Root, nothing is ever changed.

    Plans for a snapshot (``plan --root``) read the current values there;
    every read stays beneath the root (a directory root's links are never
    followed out, a tarball root is read from its index), which ``Host``'s
    plain paths under ``base`` did not guarantee.  ``root`` is a
    ``rmctl.discovery.Root`` (duck-typed: execute does not import discovery).
    """

    def __init__(self, root):
        super().__init__(root.base)
        self.root = root

    @staticmethod
    def _rel(path: str) -> str:
        return path.lstrip("/")

    def read_text(self, path: str) -> str | None:
        return self.root.read(self._rel(path))

    def isdir(self, path: str) -> bool:
        return self.root.isdir(self._rel(path))

    def exists(self, path: str) -> bool:
        return self.root.exists(self._rel(path))

    def listdir(self, path: str) -> list[str]:
        return self.root.listdir(self._rel(path))

    def can_write(self, path: str) -> bool:
        return False

    def _refuse(self, *args, **kwargs):
        raise ApplyError(f"the snapshot root {self.root.spec!r} is read only")

    write_text = mkdir = rmdir = remove_file = replace_file = _refuse
    mount = umount = set_affinity = set_mempolicy = _refuse
