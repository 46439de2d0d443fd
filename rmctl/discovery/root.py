"""Root: the one object every read of /sys and /proc goes through.

A root is the live machine (``/``), a directory holding ``sys/`` and
``proc/`` (a captured snapshot, hwloc's HWLOC_FSROOT, lscpu's --sysroot), or
a snapshot tarball, read in one pass into an in-memory index (nothing is
extracted; discovery/tarindex.py) that a private cache keeps between
commands (discovery/rootcache.py).  Paths given to a Root are root-relative
(``sys/devices/system/cpu/online``); absolute paths and ``..`` are refused,
and every path is resolved beneath the root: a link inside a directory root
is followed only inside it (discovery/beneath.py), a tarball's links are
checked when it is read.  The live root is the kernel's own files and is
trusted.  Roots never write (the tarball cache is not under the root).
"""

from __future__ import annotations

import os

# tarfile, shutil and tempfile are never imported by a Root; the tarball
# machinery (rootcache: hashlib, marshal; tarindex: struct, zlib; bz2/lzma for
# such archives) only for a tarball root: ~5 ms that `topology -o json` on a
# directory or the live root must not pay (tests/test_imports.py).
from rmctl.discovery.beneath import DirReader, LiveReader, NotRegularFile  # noqa: F401 (re-exported)
from rmctl.errors import AccessDenied, DiscoveryError

#: name of the facts file a snapshot carries (what is not a file: kernel
#: release, architecture, page size, capture time, NVML facts...)
FACTS_FILE = "rmctl-facts.json"

#: hwloc-gather-topology's side file (uname data) in hwloc snapshots; read
#: only when there is no facts file.  Its HostName line is never kept.
HWLOC_NOFILE_INFO = "proc/hwloc-nofile-info"

TARBALL_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")

#: the most rmctl reads of one file (proc/cpuinfo of a large machine is < 1 MiB)
READ_CAP = 1 << 22

class Root:
    """Read-only access to a machine's /sys and /proc: the live root, a directory or a tarball.

    ``spec`` is what the operator gave; ``base`` the directory resolved from
    it (the tarball's own path for a tarball root: there is no directory);
    ``kind`` is "live", "directory" or "tarball".
    """

    def __init__(self, base: str, *, spec: str | None = None, kind: str | None = None,
                 record: bool = False, reader=None):
        self.base = os.path.realpath(base)
        self.spec = spec if spec is not None else base
        self.is_live = self.base == "/" and reader is None
        self.kind = kind or ("live" if self.is_live else "directory")
        if reader is None:
            reader = LiveReader() if self.is_live else DirReader(self.base)
        self._reader = reader
        #: root-relative paths opened or listed, when recording (manifest tests)
        self.opened: list[str] | None = [] if record else None
        self._facts: dict | None = None
        #: root-relative paths whose text held NUL bytes (stripped; reported as findings)
        self.nul_paths: list[str] = []

    # -- construction ----------------------------------------------------
    @classmethod
    def open(cls, spec: str | os.PathLike | None = None, *, record: bool = False) -> Root:
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
        elif os.path.isfile(spec):
            # regular files only (stat first): sniffing a FIFO (or a tty,
            # /proc/self/fd/0) would block; the open is O_NONBLOCK as well
            from rmctl.discovery.rootcache import open_archive

            reader = open_archive(spec, sniff=not spec.endswith(TARBALL_SUFFIXES))
            if reader is None:
                raise DiscoveryError(
                    f"root {spec!r} is neither a directory nor a snapshot tarball",
                    hint="tarballs end in .tar, .tar.gz, .tar.bz2 or .tar.xz",
                )
            root = cls(spec, spec=spec, kind="tarball", record=record, reader=reader)
        else:
            raise DiscoveryError(
                f"root {spec!r} is neither a directory nor a snapshot tarball",
                hint="tarballs end in .tar, .tar.gz, .tar.bz2 or .tar.xz",
            )
        if root._reader.kind("sys/devices/system/cpu") != "dir":
            root.close()
            raise DiscoveryError(
                f"root {spec!r} has no sys/devices/system/cpu",
                hint="a root must hold sys/ and proc/ as captured by 'rmctl snapshot capture'",
            )
        return root

    def close(self) -> None:
        """Release the directory descriptors a directory root holds (also done when collected)."""
        self._reader.close()

    def __enter__(self) -> Root:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- paths -----------------------------------------------------------
    def path(self, rel: str) -> str:
        """Return ``base/rel`` for messages; refuse escapes.  Never open it: use the read methods."""
        rel = _clean(rel)
        if self.kind == "tarball":
            return f"{self.spec}:{rel}"
        return os.path.join(self.base, rel) if rel else self.base

    def _note(self, rel: str) -> None:
        if self.opened is not None:
            self.opened.append(rel)

    # -- reads -----------------------------------------------------------
    def read_bytes(self, rel: str, cap: int = READ_CAP) -> bytes | None:
        """Return up to ``cap`` bytes of a regular file as they are, or None.

        None when missing, unreadable (EACCES, EIO, EINVAL as some sysfs
        attributes give), not a regular file (a FIFO, a device: never
        opened) or behind a link that leaves the root.
        """
        self._note(rel)
        return self._reader.read(_clean(rel), cap)

    def read_regular(self, rel: str, cap: int = READ_CAP) -> bytes:
        """Return up to ``cap`` bytes of a regular file; raise where read_bytes says None.

        FileNotFoundError (missing, a dangling link), NotRegularFile (a
        directory, FIFO, device: never opened), PermissionError, other
        OSError: for callers that report each (kubelet checkpoints).
        """
        self._note(rel)
        return self._reader.read_regular(_clean(rel), cap)

    def read(self, rel: str) -> str | None:
        """Return the text of a file with NUL bytes removed, or None (see read_bytes).

        The caller records a finding where a missing file matters.
        """
        if self.opened is not None:
            self.opened.append(rel)
        data = self._reader.read(_clean(rel), READ_CAP)
        if data is None:
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

    def filetype(self, rel: str, *, follow: bool = True) -> str | None:
        """Return "file", "dir", "link" (only when not ``follow``), "other" or None when missing."""
        return self._reader.kind(_clean(rel), follow)

    def exists(self, rel: str) -> bool:
        self._note(rel)
        return self._reader.kind(_clean(rel), True) is not None

    def isdir(self, rel: str) -> bool:
        return self._reader.kind(_clean(rel), True) == "dir"

    def isfile(self, rel: str) -> bool:
        return self._reader.kind(_clean(rel), True) == "file"

    def islink(self, rel: str) -> bool:
        return self._reader.kind(_clean(rel), False) == "link"

    def listdir(self, rel: str) -> list[str]:
        """Return the names in a directory, sorted; [] when missing."""
        self._note(rel + "/")
        try:
            names = self._reader.listdir(_clean(rel))
        except PermissionError as e:
            raise AccessDenied(f"cannot list {rel}: {e.strerror}") from None
        except OSError:
            return []
        return sorted(names) if names else []

    def readlink(self, rel: str) -> str | None:
        """Return a link's target text, or None when not a link (never what it points to)."""
        self._note(rel)
        return self._reader.readlink(_clean(rel))

    def realpath(self, rel: str) -> str | None:
        """Return the root-relative canonical path of ``rel`` (links resolved beneath the root), or None."""
        return self._reader.realpath(_clean(rel))

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
                import json  # a snapshot's facts only: not on the live or sysfs-fixture fast path

                try:
                    self._facts = json.loads(text) if text.strip() else {}
                except (ValueError, RecursionError):
                    raise DiscoveryError(f"{FACTS_FILE} in root {self.spec!r} is not valid JSON",
                                         hint="recapture the snapshot with 'rmctl snapshot capture'") from None
                if not isinstance(self._facts, dict):
                    raise DiscoveryError(f"{FACTS_FILE} in root {self.spec!r} is not a JSON object",
                                         hint="recapture the snapshot with 'rmctl snapshot capture'")
        return self._facts

    def __repr__(self) -> str:
        return f"Root({self.spec!r})"


def _clean(rel: str) -> str:
    """Return a root-relative path without ``.`` or empty components; refuse ``/`` and ``..``."""
    # most paths hold no "." and no "//" and neither start nor end in "/": four tests, not seven
    if ("." in rel or "//" in rel or rel[:1] == "/" or rel[-1:] == "/") and (
            rel.startswith("/") or ".." in rel or "//" in rel or rel.startswith("./") or "/." in rel
            or rel.endswith("/") or rel == "."):
        if rel.startswith("/"):
            raise DiscoveryError(f"path {rel!r} leaves the root")
        parts = [p for p in rel.split("/") if p and p != "."]
        if ".." in parts:
            raise DiscoveryError(f"path {rel!r} leaves the root")
        return "/".join(parts)
    if "\0" in rel:
        raise DiscoveryError(f"path {rel!r} holds a NUL byte")
    return rel


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


def _single_top_folder(path: str) -> str | None:
    """Return ``path/NAME`` when NAME is its one entry, a real directory holding sys/ (not a link)."""
    entries = [e for e in os.listdir(path) if not e.startswith(".")]
    if len(entries) == 1:
        top = os.path.join(path, entries[0])
        if not os.path.islink(top) and os.path.isdir(top) and not os.path.islink(os.path.join(top, "sys")) \
                and os.path.isdir(os.path.join(top, "sys")):
            return top
    return None
