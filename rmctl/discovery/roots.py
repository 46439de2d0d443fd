"""The roots of a fleet: every ``--root``, a directory of snapshots, a file listing roots.

``request evaluate`` and ``request explain`` read many nodes (issue 14
item 2).  Their roots are, in this order, each duplicate dropped:

- every ``--root``; one that is a directory holding no ``sys/`` (and not
  the one folder a snapshot unpacks to) but snapshots stands for them: its
  tarballs (``*.tar.gz`` and the other TARBALL_SUFFIXES) and its
  sub-directories that hold ``sys/``, in natural order (``node2`` before
  ``node10``);
- every line of ``--roots-from FILE`` (``-``: standard input): blank lines
  and lines starting with ``#`` are skipped, the rest is one root each,
  a relative path taken from the current directory (as ``--root`` is).

The list is bounded (MAX_ROOTS roots, MAX_LIST_BYTES of list), and a
directory is listed without following links out of it: an entry that is a
symbolic link is skipped, as is anything that is not a regular file or a
directory.  Nothing is opened here but the list file and the directories;
each root is opened (and checked) by Root.open when its node is read.
"""

from __future__ import annotations

import os
import re
import stat

from rmctl.discovery.root import TARBALL_SUFFIXES
from rmctl.errors import DiscoveryError, UsageError

#: the most roots one command reads (a fleet of 10,000 nodes is an afternoon on a 2-CPU machine)
MAX_ROOTS = 10_000
#: the longest --roots-from list read (10,000 paths of 400 bytes)
MAX_LIST_BYTES = 4 << 20
#: the longest line (a path) in a --roots-from list
MAX_LINE = 4096


def _natural(s: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


def is_root_dir(path: str) -> bool:
    """Return True when ``path`` is a directory root: ``sys/`` in it, or in its one folder (Root.open's rule)."""
    if os.path.isdir(os.path.join(path, "sys")):
        return True
    try:
        entries = [e for e in os.listdir(path) if not e.startswith(".")]
    except OSError:
        return False
    if len(entries) != 1:
        return False
    top = os.path.join(path, entries[0])
    return not os.path.islink(top) and os.path.isdir(os.path.join(top, "sys"))


def snapshots_in(path: str) -> list[str]:
    """Return the snapshots a directory holds (tarballs, directory roots), naturally sorted; [] if none."""
    out = []
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: _natural(e.name))
    except OSError as err:
        raise DiscoveryError(f"cannot list {path!r}: {err.strerror}") from None
    for e in entries:
        if e.name.startswith("."):
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        full = os.path.join(path, e.name)
        if stat.S_ISREG(st.st_mode) and e.name.endswith(TARBALL_SUFFIXES):
            out.append(full)
        elif stat.S_ISDIR(st.st_mode) and is_root_dir(full):
            out.append(full)
        if len(out) > MAX_ROOTS:
            raise UsageError(f"{path!r} holds more than {MAX_ROOTS} snapshots", hint="split the fleet")
    return out


def read_roots_list(name: str, stdin=None) -> list[str]:
    """Return the roots a ``--roots-from`` list names (``-``: ``stdin``), one per line."""
    import sys

    try:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin
            text = stream.read(MAX_LIST_BYTES + 1)
        else:
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise UsageError(f"--roots-from {name!r} is not a regular file",
                                     hint="give a file with one root per line, or '-' for standard input")
                with os.fdopen(os.dup(fd), "rb") as f:
                    raw = f.read(MAX_LIST_BYTES + 1)
            finally:
                os.close(fd)
            text = raw.decode("utf-8", "replace")
    except OSError as e:
        raise UsageError(f"--roots-from {name!r}: {e.strerror}",
                         hint="give a file with one root per line, or '-' for standard input") from None
    if len(text) > MAX_LIST_BYTES:
        raise UsageError(f"--roots-from {name!r} is longer than {MAX_LIST_BYTES >> 20} MiB",
                         hint="split the fleet")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE or "\0" in line:
            raise UsageError(f"--roots-from {name!r} line {n}: not a path (longer than {MAX_LINE} bytes or "
                             "holding a NUL)")
        out.append(line)
    return out


def fleet_roots(specs: list[str], roots_from: str | None = None, stdin=None) -> list[str]:
    """Return every root of a fleet, in order, each once (see the module doc).

    A ``--root`` that names neither a root nor a directory of snapshots is
    kept as given: Root.open reports what is wrong with it, for that node.
    A directory of snapshots holding none is a DiscoveryError (exit 3).
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(root: str) -> None:
        if root not in seen:
            seen.add(root)
            out.append(root)
            if len(out) > MAX_ROOTS:
                raise UsageError(f"more than {MAX_ROOTS} roots", hint="split the fleet")

    for spec in specs:
        if spec != "/" and os.path.isdir(spec) and not is_root_dir(spec):
            found = snapshots_in(spec)
            if not found:
                raise DiscoveryError(f"root {spec!r} is neither a root (no sys/) nor a directory of snapshots",
                                     hint="a directory of snapshots holds *.tar.gz snapshots or directories "
                                          "with sys/ and proc/")
            for r in found:
                add(r)
        else:
            add(spec)
    if roots_from is not None:
        for r in read_roots_list(roots_from, stdin):
            add(r)
    return out
