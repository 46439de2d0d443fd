"""Shell completion's answers: live values of a root or a state dir, from one listing each.

Each function takes plain values (a root directory, a state dir, the word
typed so far) and returns the matching words, naturally sorted.  They run
on every <Tab>, so each reads one directory or one file, never the whole
node model, and never raises: a broken root or state file completes
nothing.  A tarball root completes from its index (discovery/rootcache.py:
a few ms once cached), a directory root is listed beneath the root.  The CLI (rmctl.cli.complete) finds the root and state dir on
the command line being completed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable

from rmctl.discovery import paths

_PCI = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\Z")
_STATE_FILE = "state.json"  # rmctl.state.ledger.STATE_FILE, without importing the ledger on a <Tab>
_MAX_STATE_BYTES = 16 << 20  # rmctl.state.files.MAX_STATE_BYTES (tests/state/test_hardening.py checks they agree)


def _natural(s: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


def _match(words: Iterable[str], incomplete: str) -> list[str]:
    return sorted((w for w in set(words) if w.startswith(incomplete or "")), key=_natural)


def _listdir(root: str, rel: str) -> list[str]:
    """Return the names in ``rel`` under the root, read through a Root (beneath a directory
    root; a tarball from its cached index, a few ms); [] when anything is wrong."""
    from rmctl.discovery.root import Root
    from rmctl.errors import RmctlError

    try:
        with Root.open(root) as r:
            return r.listdir(rel)
    except (RmctlError, OSError):
        return []


def numa_nodes(root: str, incomplete: str) -> list[str]:
    """Return the NUMA node ids of the root (``sys/devices/system/node/nodeN``)."""
    names = _listdir(root, paths.SYS_NODE)
    return _match([n[4:] for n in names if n.startswith("node") and n[4:].isdigit()], incomplete)


def pci_addresses(root: str, incomplete: str) -> list[str]:
    """Return the PCI addresses of the root (``sys/bus/pci/devices``)."""
    return _match([n for n in _listdir(root, paths.SYS_PCI_DEVICES) if _PCI.match(n)], incomplete)


def page_sizes(root: str, incomplete: str) -> list[str]:
    """Return the hugepage sizes the root offers (``2M``, ``1G``)."""
    out = []
    for n in _listdir(root, paths.SYS_HUGEPAGES):
        if n.startswith("hugepages-") and n.endswith("kB") and n[10:-2].isdigit():
            kb = int(n[10:-2])
            out.append(f"{kb >> 20}G" if kb % (1 << 20) == 0 else f"{kb >> 10}M" if kb % 1024 == 0 else f"{kb}k")
    return _match(out, incomplete)


def reservation_names(state_dir: str, incomplete: str) -> list[str]:
    """Return the reservation names in ``<state-dir>/state.json``.

    Read as the state package reads it, only faster (no checksum, no
    records): ``O_NOFOLLOW | O_NONBLOCK``, a regular file, at most the
    state's size cap; only names following the name rule are offered (a
    name with a newline would be two words to the shell).
    """
    import stat

    from rmctl.names import is_name

    try:
        fd = os.open(os.path.join(state_dir, _STATE_FILE), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_STATE_BYTES:
            return []
        with os.fdopen(os.dup(fd), "rb") as f:
            raw = f.read(_MAX_STATE_BYTES + 1)
        if len(raw) > _MAX_STATE_BYTES:
            return []
        doc = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return []
    finally:
        os.close(fd)
    res = doc.get("reservations") if isinstance(doc, dict) else None
    names = res.keys() if isinstance(res, dict) else [r.get("name") for r in res or [] if isinstance(r, dict)]
    return _match([n for n in names if isinstance(n, str) and is_name(n)], incomplete)


def class_names(class_dir: str | None, incomplete: str) -> list[str]:
    """Return the names of the resource classes (built-ins and ``class_dir``'s), no selector compiled."""
    from rmctl.resources.classes import DEFAULT_CLASS_DIR
    from rmctl.resources.classes import class_names as names

    try:
        return _match(names(class_dir or DEFAULT_CLASS_DIR), incomplete)
    except Exception:  # a broken class file completes nothing
        return []
