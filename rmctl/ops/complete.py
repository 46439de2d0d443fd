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

_PCI = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")
_STATE_FILE = "state.json"  # rmctl.state.ledger.STATE_FILE, without importing the ledger on a <Tab>


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
    """Return the reservation names in ``<state-dir>/state.json``."""
    try:
        with open(os.path.join(state_dir, _STATE_FILE), "rb") as f:
            doc = json.loads(f.read(1 << 24))
    except (OSError, ValueError):
        return []
    res = doc.get("reservations") if isinstance(doc, dict) else None
    names = res.keys() if isinstance(res, dict) else [r.get("name") for r in res or [] if isinstance(r, dict)]
    return _match([str(n) for n in names if n], incomplete)


def class_names(class_dir: str | None, incomplete: str) -> list[str]:
    """Return the names of the resource classes (built-ins and ``class_dir``'s), no selector compiled."""
    from rmctl.resources.classes import DEFAULT_CLASS_DIR, class_names as names

    try:
        return _match(names(class_dir or DEFAULT_CLASS_DIR), incomplete)
    except Exception:  # a broken class file completes nothing
        return []
