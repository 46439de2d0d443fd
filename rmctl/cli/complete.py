"""Shell completion of live values, for ``autocompletion=`` of typer options.

    numa: Annotated[int, typer.Option(autocompletion=complete_numa_nodes)]

Each function takes the click context and the word typed so far and
returns matching strings.  They run on every <Tab>, so they read one
directory or one file, never the whole node model, and never raise: a
broken root or state file completes nothing.  The root and state directory
are the ones given on the command line being completed (``--root``,
``--state-dir``), else the environment, else the defaults.
"""

from __future__ import annotations

import json
import os
import re

from rmctl.cli.context import DEFAULT_STATE_DIR

_PCI = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")


def _root_param(ctx, name: str, env: str, default: str) -> str:
    c = ctx
    while c is not None:
        v = (getattr(c, "params", None) or {}).get(name)
        if v:
            return str(v)
        c = getattr(c, "parent", None)
    return os.environ.get(env) or default


def _root_dir(ctx) -> str | None:
    root = _root_param(ctx, "root", "RMCTL_ROOT", "/")
    # a tarball would need unpacking: too slow for a <Tab>, complete nothing
    return root if os.path.isdir(root) else None


def _match(words, incomplete: str) -> list[str]:
    return sorted((w for w in set(words) if w.startswith(incomplete or "")), key=_natural)


def _natural(s: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


def complete_numa_nodes(ctx, incomplete: str) -> list[str]:
    """Return the NUMA node ids of the root (``sys/devices/system/node/nodeN``)."""
    try:
        root = _root_dir(ctx)
        if root is None:
            return []
        names = os.listdir(os.path.join(root, "sys/devices/system/node"))
        return _match([n[4:] for n in names if n.startswith("node") and n[4:].isdigit()], incomplete)
    except Exception:
        return []


def complete_pci_addresses(ctx, incomplete: str) -> list[str]:
    """Return the PCI addresses of the root (``sys/bus/pci/devices``)."""
    try:
        root = _root_dir(ctx)
        if root is None:
            return []
        names = os.listdir(os.path.join(root, "sys/bus/pci/devices"))
        return _match([n for n in names if _PCI.match(n)], incomplete)
    except Exception:
        return []


def complete_reservations(ctx, incomplete: str) -> list[str]:
    """Return the reservation names in ``<state-dir>/state.json``."""
    try:
        state_dir = _root_param(ctx, "state_dir", "RMCTL_STATE_DIR", DEFAULT_STATE_DIR)
        with open(os.path.join(state_dir, "state.json"), "rb") as f:
            doc = json.loads(f.read(1 << 24))
        res = doc.get("reservations") if isinstance(doc, dict) else None
        names = res.keys() if isinstance(res, dict) else [r.get("name") for r in res or [] if isinstance(r, dict)]
        return _match([str(n) for n in names if n], incomplete)
    except Exception:
        return []


def complete_page_sizes(ctx, incomplete: str) -> list[str]:
    """Return the hugepage sizes the root offers (``2M``, ``1G``)."""
    try:
        root = _root_dir(ctx)
        if root is None:
            return []
        out = []
        for n in os.listdir(os.path.join(root, "sys/kernel/mm/hugepages")):
            if n.startswith("hugepages-") and n.endswith("kB") and n[10:-2].isdigit():
                kb = int(n[10:-2])
                out.append(f"{kb >> 20}G" if kb % (1 << 20) == 0 else f"{kb >> 10}M" if kb % 1024 == 0 else f"{kb}k")
        return _match(out, incomplete)
    except Exception:
        return []
