"""Tarball roots: read the archive once, keep its index in a private, bounded cache.

Building the index of the EPYC fixture (discovery/tarindex.py) costs a
gzip pass over 14.5 MB and 15,802 headers: about 15 + 25 ms, as much as
discovering the unpacked directory (41 ms), so every command on a tarball
would take twice as long (issue 14's bound: 1.5x).  The index is therefore
kept, content-addressed, in a cache directory, and a later command on the
same archive loads it in about 3 ms.  The design, and why it is safe:

- The key is the SHA-256 of the archive's bytes (0.2 ms for EPYC), salted
  with the cache format, the tar budgets and the Python version: another
  archive, other limits or another interpreter never meet an entry.
- An entry is ``MAGIC, key, length and CRC-32 of the payload, payload``
  where the payload is the index in ``marshal`` form (4 ms to load for
  EPYC, against 10 ms for JSON).  It is used only when the directory and
  the file belong to this user and nobody else may write (or read) them,
  and the length and CRC match; anything else is a miss, and a damaged
  entry is removed.  (``marshal`` is not meant for hostile bytes: none can
  reach it, as only this user writes there, and damage fails the CRC.)
- The directory is ``$RMCTL_CACHE_DIR``, else ``/var/cache/rmctl/roots``
  for root and ``$XDG_CACHE_HOME/rmctl/roots`` (``~/.cache``) for others;
  created 0700; refused (no cache, never an error) when it or a parent is
  writable by others without the sticky bit or owned by someone else.
  ``RMCTL_CACHE_DIR=off`` turns the cache off.
- Entries are written with ``O_TMPFILE`` and linked in when complete, so a
  process killed mid-write leaves nothing (a named temporary file, where
  the file system lacks O_TMPFILE, is removed by the next store after an
  hour).  The cache holds at most MAX_ENTRIES entries and MAX_BYTES bytes;
  each store evicts the least recently used (a hit touches its entry).
"""

from __future__ import annotations

import errno
import gc
import hashlib
import marshal
import os
import stat
import sys
import zlib

from rmctl.discovery import tarindex
from rmctl.discovery.tarindex import ArchiveIndex, ArchiveReader
from rmctl.errors import DiscoveryError, UnsafeSnapshotError


def _debug(msg: str, *args) -> None:
    """Log why the cache is not used (logging is imported only then: 5 ms otherwise)."""
    import logging

    logging.getLogger("rmctl").debug(msg, *args)


MAX_ENTRIES = 256
MAX_BYTES = 256 << 20
#: a named temporary file older than this is a leftover of a killed run
STALE_TMP_SECONDS = 3600

FORMAT = 1
MAGIC = b"rmctl-root-index\n"
SUFFIX = ".idx"


def _salt() -> bytes:
    """Return what, besides the archive, decides an index: format, budgets, interpreter."""
    t = tarindex
    return repr((FORMAT, sys.version_info[:2], marshal.version, t.MAX_ARCHIVE_BYTES, t.MAX_MEMBERS,
                 t.MAX_MEMBER_BYTES, t.MAX_TOTAL_BYTES, t.MAX_DEPTH, t.MAX_NAME_BYTES, t.MAX_META_BYTES,
                 t.MAX_LINK_HOPS, t.KEEP_BYTES)).encode()


def default_dir() -> str | None:
    """Return the cache directory to use, or None when the cache is off."""
    env = os.environ.get("RMCTL_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "none", "0") else env
    if os.geteuid() == 0:
        return "/var/cache/rmctl/roots"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rmctl", "roots")


def _private(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid() and not (st.st_mode & 0o077)


def _safe_parents(path: str) -> bool:
    """Return True when no one but root or us can replace ``path`` or a directory above it."""
    me = os.geteuid()
    cur = os.path.dirname(path)
    while True:
        try:
            st = os.lstat(cur)
        except OSError:
            return False
        if stat.S_ISLNK(st.st_mode):
            # a link on the way is followed only when root owns it and its target
            try:
                tst = os.stat(cur)
            except OSError:
                return False
            if st.st_uid != 0 or tst.st_uid not in (0, me):
                return False
            st = tst
        if st.st_uid not in (0, me):
            return False
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return False
        parent = os.path.dirname(cur)
        if parent == cur:
            return True
        cur = parent


class Cache:
    """One cache directory, opened by descriptor; every file in it opened O_NOFOLLOW."""

    def __init__(self, path: str, dfd: int):
        self.path = path
        self.dfd = dfd

    @classmethod
    def open(cls, path: str | None = None) -> Cache | None:
        """Return the cache at ``path`` (default_dir()), created 0700 when missing; None when unusable."""
        path = path if path is not None else default_dir()
        if not path:
            return None
        path = os.path.abspath(path)
        try:
            if not os.path.lexists(path):
                parent = os.path.dirname(path)
                if not os.path.isdir(parent) and os.path.basename(parent) == "rmctl":
                    os.mkdir(parent, 0o700)  # /var/cache/rmctl, ~/.cache/rmctl
                os.mkdir(path, 0o700)  # mode & ~umask: never wider than 0700
            if not _safe_parents(path):
                _debug("root cache %s off: a parent is writable by others", path)
                return None
            dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            _debug("root cache %s off: %s", path, e)
            return None
        st = os.fstat(dfd)
        if not _private(st):
            os.close(dfd)
            _debug("root cache %s off: not ours or open to others (mode %o)", path, st.st_mode & 0o777)
            return None
        return cls(path, dfd)

    def close(self) -> None:
        os.close(self.dfd)

    # -- entries ---------------------------------------------------------
    def load(self, key: str) -> ArchiveIndex | None:
        """Return the index stored under ``key``, or None (missing, not ours, corrupt: removed)."""
        name = key + SUFFIX
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=self.dfd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not _private(st) or st.st_size > MAX_BYTES:
                return None
            with os.fdopen(os.dup(fd), "rb") as f:
                blob = f.read(st.st_size + 1)
            head = _header(key, b"")
            if len(blob) < len(head) or blob[:len(head) - 17] != head[:-17]:
                raise ValueError("bad header")
            payload = memoryview(blob)[len(head):]
            if _header(key, payload) != blob[:len(head)]:
                raise ValueError("payload length or checksum mismatch")
            # no cyclic GC while ~20,000 objects are made: 3.6 ms instead of 8 ms for EPYC
            enabled = gc.isenabled()
            gc.disable()
            try:
                index = ArchiveIndex.from_tuple(marshal.loads(payload))
            finally:
                if enabled:
                    gc.enable()
            try:
                os.utime(fd)  # recently used: kept by eviction
            except OSError:
                pass
            return index
        except (ValueError, EOFError, TypeError, OSError) as e:
            _debug("root cache entry %s unusable (%s): removed", name, e)
            self._remove(name)
            return None
        finally:
            os.close(fd)

    def store(self, key: str, index: ArchiveIndex) -> None:
        """Store ``index`` under ``key`` (never half-written), then evict beyond the bounds."""
        payload = marshal.dumps(index.to_tuple())
        blob = _header(key, payload) + payload
        if len(blob) > MAX_BYTES:
            return
        name = key + SUFFIX
        try:
            self._write(name, blob)
        except OSError as e:
            _debug("root cache store %s failed: %s", name, e)
            return
        self.evict(keep=name)

    def _write(self, name: str, blob: bytes) -> None:
        try:
            fd = os.open(".", os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600, dir_fd=self.dfd)
        except OSError as e:
            if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                raise
            return self._write_named(name, blob)
        try:
            _write_all(fd, blob)
            try:
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=self.dfd, follow_symlinks=True)
            except FileExistsError:
                pass  # another process stored the same archive: same content
            except OSError as e:
                if e.errno not in (errno.ENOENT, errno.EXDEV, errno.EPERM):
                    raise
                return self._write_named(name, blob)  # no /proc: a named temporary file
        finally:
            os.close(fd)

    def _write_named(self, name: str, blob: bytes) -> None:
        tmp = f".tmp-{os.getpid()}-{name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=self.dfd)
        try:
            _write_all(fd, blob)
        finally:
            os.close(fd)
        try:
            os.rename(tmp, name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd)
        except OSError:
            self._remove(tmp)
            raise

    def _remove(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self.dfd)
        except OSError:
            pass

    def entries(self) -> list[tuple[float, int, str]]:
        """Return (mtime, size, name) of every entry, oldest first."""
        out = []
        for name in os.listdir(self.dfd):
            try:
                st = os.stat(name, dir_fd=self.dfd, follow_symlinks=False)
            except OSError:
                continue
            out.append((st.st_mtime, st.st_size, name))
        out.sort()
        return out

    def evict(self, keep: str | None = None) -> list[str]:
        """Remove stale temporary files, then the oldest entries beyond MAX_ENTRIES / MAX_BYTES."""
        import time

        removed = []
        now = time.time()
        entries = []
        for mtime, size, name in self.entries():
            if name.startswith(".tmp-"):
                if now - mtime > STALE_TMP_SECONDS:
                    self._remove(name)
                    removed.append(name)
                continue
            if name.endswith(SUFFIX):
                entries.append((mtime, size, name))
        total = sum(size for _, size, _ in entries)
        count = len(entries)
        for _mtime, size, name in entries:
            if count <= MAX_ENTRIES and total <= MAX_BYTES:
                break
            if name == keep:
                continue
            self._remove(name)
            removed.append(name)
            count -= 1
            total -= size
        return removed


def _header(key: str, payload) -> bytes:
    """Return an entry's header: MAGIC, the key, the payload's length and CRC-32 (16 hex digits).

    A CRC, not a cryptographic hash: it detects a damaged file; nobody else
    can write one (the directory and file are this user's, 0700 / 0600),
    and the key, the archive's SHA-256, is what must not collide.
    """
    return MAGIC + key.encode() + b"\n" + b"%08x%08x\n" % (len(payload) & 0xFFFFFFFF, zlib.crc32(payload))


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(blob)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_archive(spec: str) -> bytes | None:
    """Return the bytes of regular file ``spec`` (at most MAX_ARCHIVE_BYTES), or None when not regular."""
    try:
        fd = os.open(spec, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise DiscoveryError(f"cannot read snapshot {spec!r}: {e.strerror}",
                             hint="check the path and its permissions") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None  # swapped for a FIFO or device after the caller's stat: never read
        limit = tarindex.MAX_ARCHIVE_BYTES
        if st.st_size > limit:
            raise UnsafeSnapshotError(f"snapshot {spec!r} is {st.st_size} bytes, more than {limit}")
        chunks, size = [], 0
        while True:
            b = os.read(fd, max(st.st_size + 1 - size, 1 << 16))
            if not b:
                break
            chunks.append(b)
            size += len(b)
            if size > limit:
                raise UnsafeSnapshotError(f"snapshot {spec!r} is more than {limit} bytes")
        return b"".join(chunks)
    except OSError as e:
        raise DiscoveryError(f"cannot read snapshot {spec!r}: {e.strerror}",
                             hint="the file is unreadable") from None
    finally:
        os.close(fd)


#: outcome of the last open_archive: "hit", "miss" (built and stored), "off" (built, no cache)
last_outcome: str | None = None


def open_archive(spec: str, *, sniff: bool = False) -> ArchiveReader | None:
    """Return a reader over the snapshot tarball ``spec``, or None when it is not a tarball.

    ``sniff``: the name has no tarball suffix, so decide by content
    (compression magic or a valid ustar header).  Raises DiscoveryError /
    UnsafeSnapshotError for a corrupt or hostile archive.
    """
    global last_outcome
    raw = _read_archive(spec)
    if raw is None:
        return None
    if sniff and not tarindex.is_archive(raw[:tarindex.BLOCK]):
        return None
    key = hashlib.sha256(_salt() + b"\0" + raw).hexdigest()
    cache = Cache.open()
    try:
        index = cache.load(key) if cache else None
        if index is not None:
            last_outcome = "hit"
            return ArchiveReader(index)
        index = tarindex.build_index(raw, spec)
        if cache:
            cache.store(key, index)
        last_outcome = "miss" if cache else "off"
        return ArchiveReader(index)
    finally:
        if cache:
            cache.close()
