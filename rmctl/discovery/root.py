"""Root: the one object every read of /sys and /proc goes through.

A root is the live machine (``/``), a directory holding ``sys/`` and
``proc/`` (a captured snapshot, hwloc's HWLOC_FSROOT, lscpu's --sysroot), or
a snapshot tarball, unpacked safely into a private temporary directory.
Paths given to a Root are root-relative (``sys/devices/system/cpu/online``);
absolute paths and ``..`` are refused so that no read can leave the root.
Roots never write.
"""

from __future__ import annotations

import atexit
import json
import os
import stat
from collections.abc import Iterator

# tarfile, shutil, tempfile (with bz2, lzma, random) are imported only when a
# tarball root is unpacked: ~5 ms that `topology -o json` on a directory or
# the live root must not pay (issue #2's speed budget).

from rmctl.errors import AccessDenied, DiscoveryError, UnsafeSnapshotError

#: name of the facts file a snapshot carries (what is not a file: kernel
#: release, architecture, page size, capture time, NVML facts...)
FACTS_FILE = "rmctl-facts.json"

#: hwloc-gather-topology's side file (uname data) in hwloc snapshots; read
#: only when there is no facts file.  Its HostName line is never kept.
HWLOC_NOFILE_INFO = "proc/hwloc-nofile-info"

TARBALL_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")

# Limits for snapshot tarballs: a sysfs snapshot is a few MB of small files.
# Anything larger is refused rather than unpacked (a "tar bomb").
MAX_MEMBER_BYTES = 64 << 20
MAX_TOTAL_BYTES = 512 << 20
MAX_MEMBERS = 500_000


class Root:
    """Read-only access to a machine's /sys and /proc under a base directory."""

    def __init__(self, base: str, *, spec: str | None = None, kind: str | None = None,
                 record: bool = False):
        self.base = os.path.realpath(base)
        self.spec = spec if spec is not None else base
        self.is_live = self.base == "/"
        self.kind = kind or ("live" if self.is_live else "directory")
        #: root-relative paths opened or listed, when recording (manifest tests)
        self.opened: list[str] | None = [] if record else None
        self._facts: dict | None = None
        #: root-relative paths whose text held NUL bytes (stripped; reported as findings)
        self.nul_paths: list[str] = []

    # -- construction ----------------------------------------------------
    @classmethod
    def open(cls, spec: str | os.PathLike | None = None, *, record: bool = False) -> "Root":
        """Return a Root for ``spec``: ``/``, a directory, or a snapshot tarball."""
        spec = os.fspath(spec) if spec else "/"
        if not os.path.exists(spec):
            raise DiscoveryError(
                f"root {spec!r} does not exist",
                hint="give --root a directory holding sys/ and proc/, or a snapshot tarball",
            )
        if os.path.isdir(spec):
            base = spec
            if not os.path.isdir(os.path.join(spec, "sys")):
                # A snapshot directory may hold one top folder with sys/ inside.
                base = _single_top_folder(spec) or spec
            root = cls(base, spec=spec, record=record)
        elif os.path.isfile(spec) and _is_tarball(spec):
            # regular files only: sniffing a FIFO (or a tty, /proc/self/fd/0) blocks forever
            base = unpack_snapshot(spec)
            root = cls(base, spec=spec, kind="tarball", record=record)
        else:
            raise DiscoveryError(
                f"root {spec!r} is neither a directory nor a snapshot tarball",
                hint="tarballs end in .tar, .tar.gz, .tar.bz2 or .tar.xz",
            )
        if not os.path.isdir(os.path.join(root.base, "sys", "devices", "system", "cpu")):
            raise DiscoveryError(
                f"root {spec!r} has no sys/devices/system/cpu",
                hint="a root must hold sys/ and proc/ as captured by 'rmctl snapshot capture'",
            )
        return root

    # -- paths -----------------------------------------------------------
    def path(self, rel: str) -> str:
        """Return the real path of a root-relative path; refuse escapes."""
        if rel.startswith("/") or rel == ".." or rel.startswith("../") or "/../" in rel or rel.endswith("/.."):
            raise DiscoveryError(f"path {rel!r} leaves the root")
        return os.path.join(self.base, rel) if rel else self.base

    def _note(self, rel: str) -> None:
        if self.opened is not None:
            self.opened.append(rel)

    # -- reads -----------------------------------------------------------
    def read(self, rel: str) -> str | None:
        """Return the text of a file with NUL bytes removed, or None if missing.

        Unreadable files (EACCES, EIO, EINVAL as some sysfs attributes give)
        are None too; the caller records a finding where it matters.
        """
        self._note(rel)
        try:
            data = _read_capped(self.path(rel))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except PermissionError:
            return None
        except OSError:
            return None
        if b"\0" in data:
            self.nul_paths.append(rel)
            data = data.replace(b"\0", b"")
        return data.decode("utf-8", "replace")

    def read_strip(self, rel: str) -> str | None:
        text = self.read(rel)
        return None if text is None else text.strip()

    def read_int(self, rel: str) -> int | None:
        """Return a file holding one integer, or None when missing or not an int."""
        text = self.read_strip(rel)
        if text is None or text == "":
            return None
        try:
            return int(text, 0) if text.startswith("0x") else int(text)
        except ValueError:
            return None

    def exists(self, rel: str) -> bool:
        self._note(rel)
        return os.path.exists(self.path(rel))

    def isdir(self, rel: str) -> bool:
        return os.path.isdir(self.path(rel))

    def listdir(self, rel: str) -> list[str]:
        """Return the names in a directory, sorted; [] when missing."""
        self._note(rel + "/")
        try:
            return sorted(os.listdir(self.path(rel)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError as e:
            raise AccessDenied(f"cannot list {rel}: {e.strerror}") from None

    def scandir(self, rel: str) -> Iterator[os.DirEntry]:
        self._note(rel + "/")
        try:
            with os.scandir(self.path(rel)) as it:
                yield from it
        except (FileNotFoundError, NotADirectoryError):
            return

    def readlink(self, rel: str) -> str | None:
        """Return a link's target, or None when not a link."""
        self._note(rel)
        try:
            return os.readlink(self.path(rel))
        except OSError:
            return None

    def realpath(self, rel: str) -> str | None:
        """Return the root-relative canonical path of ``rel`` or None if it leaves the root."""
        real = os.path.realpath(self.path(rel))
        if self.base == "/":
            return real.lstrip("/")
        if real == self.base:
            return ""
        if not real.startswith(self.base + os.sep):
            return None
        return real[len(self.base) + 1:]

    # -- facts -----------------------------------------------------------
    def facts(self) -> dict:
        """Return facts that are not files: kernel, arch, page size, capture time.

        Live: ``os.uname()`` and ``os.sysconf``.  Snapshot: the facts file
        written by ``rmctl snapshot capture`` ({} when absent).
        """
        if self._facts is None:
            if self.is_live:
                u = os.uname()
                self._facts = {
                    "kernel": u.release,
                    "arch": u.machine,
                    "page_size": os.sysconf("SC_PAGE_SIZE"),
                }
            else:
                text = self.read(FACTS_FILE)
                if text is None:
                    self._facts = _hwloc_nofile_info(self.read(HWLOC_NOFILE_INFO))
                    return self._facts
                try:
                    self._facts = json.loads(text) if text.strip() else {}
                except ValueError:
                    raise DiscoveryError(f"{FACTS_FILE} in root {self.spec!r} is not valid JSON",
                                         hint="recapture the snapshot with 'rmctl snapshot capture'") from None
                if not isinstance(self._facts, dict):
                    raise DiscoveryError(f"{FACTS_FILE} in root {self.spec!r} is not a JSON object",
                                         hint="recapture the snapshot with 'rmctl snapshot capture'")
        return self._facts

    def __repr__(self) -> str:
        return f"Root({self.spec!r})"


def _hwloc_nofile_info(text: str | None) -> dict:
    """Return facts from hwloc's ``proc/hwloc-nofile-info`` (``Key: value`` lines)."""
    if not text:
        return {}
    kv = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            kv[k.strip()] = v.strip()
    facts: dict = {}
    if kv.get("Architecture"):
        facts["arch"] = kv["Architecture"]
    if kv.get("OSRelease") and kv["OSRelease"] != "dummy":
        facts["kernel"] = kv["OSRelease"]
    if kv.get("PageSize", "").isdigit():
        facts["page_size"] = int(kv["PageSize"])
    return facts


#: the most rmctl reads of one file (proc/cpuinfo of a large machine is < 1 MiB)
READ_CAP = 1 << 22


def _read_capped(path: str) -> bytes:
    """Return up to READ_CAP bytes of a file.

    os.open/os.read in 64 KiB steps: ``open(...).read(1 << 22)`` allocates the
    whole 4 MiB buffer for each 2-byte sysfs attribute, which made reads ~4x
    slower (33 ms against 7 ms for the 1,478 files of the EPYC fixture).
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        size = 0
        while size < READ_CAP:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks.append(b)
            size += len(b)
        return b"".join(chunks)[:READ_CAP]
    finally:
        os.close(fd)


def _single_top_folder(path: str) -> str | None:
    entries = [e for e in os.listdir(path) if not e.startswith(".")]
    if len(entries) == 1 and os.path.isdir(os.path.join(path, entries[0], "sys")):
        return os.path.join(path, entries[0])
    return None


def _is_tarball(path: str) -> bool:
    if path.endswith(TARBALL_SUFFIXES):
        return True
    import tarfile

    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


_tmpdirs: list[str] = []


def _cleanup() -> None:
    import shutil

    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def _track_tmpdir(path: str) -> None:
    """Remember a private unpack directory; removed at exit."""
    if not _tmpdirs:
        atexit.register(_cleanup)
    _tmpdirs.append(path)


def check_members(members: list, spec: str) -> None:
    """Refuse members that could leave the root or are not plain data.

    Refused: absolute names, ``..`` components, symbolic or hard links whose
    target resolves outside the tarball's root, devices, FIFOs, members
    larger than MAX_MEMBER_BYTES, more than MAX_TOTAL_BYTES or MAX_MEMBERS
    in all.  (Python's tarfile "data" filter does the same, but only from
    3.10.12/3.11.4; rmctl supports 3.10.0.)
    """
    if len(members) > MAX_MEMBERS:
        raise UnsafeSnapshotError(f"snapshot {spec!r} has {len(members)} members, more than {MAX_MEMBERS}")
    total = 0
    for m in members:
        name = m.name
        parts = name.split("/")
        if name.startswith("/") or os.path.isabs(name):
            raise UnsafeSnapshotError(f"snapshot {spec!r}: member {name!r} has an absolute path",
                                      hint="capture snapshots with 'rmctl snapshot capture'")
        if ".." in parts:
            raise UnsafeSnapshotError(f"snapshot {spec!r}: member {name!r} contains '..'")
        if m.isdev() or m.isfifo() or not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
            raise UnsafeSnapshotError(f"snapshot {spec!r}: member {name!r} is a device or special file")
        if m.size > MAX_MEMBER_BYTES:
            raise UnsafeSnapshotError(f"snapshot {spec!r}: member {name!r} is absurdly large ({m.size} bytes)")
        total += m.size
        if total > MAX_TOTAL_BYTES:
            raise UnsafeSnapshotError(f"snapshot {spec!r} unpacks to more than {MAX_TOTAL_BYTES} bytes")
        if m.issym() or m.islnk():
            target = m.linkname
            if target.startswith("/"):
                raise UnsafeSnapshotError(f"snapshot {spec!r}: link {name!r} points to absolute {target!r}")
            base = os.path.dirname(name) if m.issym() else ""
            resolved = os.path.normpath(os.path.join(base, target))
            if resolved == ".." or resolved.startswith("../"):
                raise UnsafeSnapshotError(f"snapshot {spec!r}: link {name!r} -> {target!r} leaves the root")


#: what reading a broken compressed stream can raise (zlib/lzma errors are not OSErrors)
def _read_errors() -> tuple:
    import lzma
    import tarfile
    import zlib

    return (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)


def _inside(dest: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == dest or real.startswith(dest + os.sep)


def _no_link_on_the_way(dest: str, name: str, spec: str) -> None:
    """Refuse a member written through a symlink unpacked earlier.

    A tarball can hold ``d -> .`` and later ``d/x`` (fine) or ``p/q -> ..``,
    ``s -> p/q/..`` and then ``s/evil``, which lexical checks let through
    and which would be written outside the root.  rmctl snapshots store
    files at their real place, so no member ever needs a link as a parent.
    """
    parts = name.split("/")[:-1]
    cur = dest
    for part in parts:
        cur = os.path.join(cur, part)
        if os.path.islink(cur):
            raise UnsafeSnapshotError(f"snapshot {spec!r}: member {name!r} is written through the link "
                                      f"{os.path.relpath(cur, dest)!r}")


def unpack_snapshot(spec: str) -> str:
    """Unpack a snapshot tarball into a private temporary directory; return its root.

    Nothing is ever written outside that directory: members are checked
    (check_members), never written through a link, files are created with
    O_NOFOLLOW, hard links are copied only from files inside, and every link
    is resolved at the end.  Any refusal removes the directory.
    """
    import shutil
    import tarfile
    import tempfile

    errors = _read_errors()
    try:
        tf = tarfile.open(spec)
    except errors as e:
        raise DiscoveryError(f"cannot read snapshot {spec!r}: {e or type(e).__name__}",
                             hint="the file is not a tarball, or is truncated or corrupt") from None
    dest = os.path.realpath(tempfile.mkdtemp(prefix="rmctl-root-"))
    _track_tmpdir(dest)
    try:
        with tf:
            try:
                members = tf.getmembers()
            except errors as e:
                raise DiscoveryError(f"cannot read snapshot {spec!r}: {e or type(e).__name__}",
                                     hint="the tarball is truncated or corrupt") from None
            if not members:
                raise DiscoveryError(f"snapshot {spec!r} is empty",
                                     hint="capture one with 'rmctl snapshot capture OUT.tar.gz'")
            check_members(members, spec)
            for m in members:
                name = m.name.rstrip("/")
                if not name or name == ".":
                    continue
                target = os.path.join(dest, name)
                _no_link_on_the_way(dest, name, spec)
                try:
                    if m.isdir():
                        os.makedirs(target, exist_ok=True)
                        continue
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    if os.path.lexists(target):
                        if os.path.islink(target) or os.path.isdir(target):
                            raise UnsafeSnapshotError(f"snapshot {spec!r}: member {name!r} replaces a link "
                                                      "or directory unpacked earlier")
                        os.remove(target)  # a later member replaces an earlier file, as tar does
                    if m.issym():
                        os.symlink(m.linkname, target)
                    elif m.islnk():
                        src = os.path.join(dest, m.linkname)
                        if not _inside(dest, src) or not os.path.isfile(src):
                            raise UnsafeSnapshotError(f"snapshot {spec!r}: hard link {name!r} -> "
                                                      f"{m.linkname!r} does not name a file inside the root")
                        shutil.copyfile(src, target)
                    else:
                        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                        with os.fdopen(fd, "wb") as out:
                            src = tf.extractfile(m)
                            if src is not None:
                                copied = 0
                                while chunk := src.read(1 << 16):
                                    copied += len(chunk)
                                    if copied > MAX_MEMBER_BYTES:
                                        raise UnsafeSnapshotError(
                                            f"snapshot {spec!r}: member {name!r} is absurdly large")
                                    out.write(chunk)
                except UnsafeSnapshotError:
                    raise
                except errors as e:
                    raise DiscoveryError(f"cannot unpack snapshot {spec!r} at {name!r}: "
                                         f"{e or type(e).__name__}",
                                         hint="the tarball is truncated or corrupt") from None
        # Links may chain: refuse any whose final target leaves the root.
        for m in members:
            if m.issym() and not _inside(dest, os.path.join(dest, m.name.rstrip("/"))):
                raise UnsafeSnapshotError(f"snapshot {spec!r}: link {m.name!r} resolves outside the root")
        # Read-only directory modes in the tarball must not stop reads.
        for dirpath, dirnames, _ in os.walk(dest):
            for d in dirnames:
                p = os.path.join(dirpath, d)
                if not os.path.islink(p):
                    os.chmod(p, stat.S_IRWXU)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    top = dest
    if not os.path.isdir(os.path.join(dest, "sys")):
        top = _single_top_folder(dest) or dest
    return top
