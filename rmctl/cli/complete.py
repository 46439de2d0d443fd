"""Shell completion of live values, for ``autocompletion=`` of typer options.

    numa: Annotated[int, typer.Option(autocompletion=complete_numa_nodes)]

Each function takes the click context and the word typed so far and
returns matching strings; the answers come from :mod:`rmctl.ops.complete`.
The root and state directory are the ones given on the command line being
completed (``--root``, ``--state-dir``), else the environment, else the
defaults.  They never raise: a broken root or state file completes nothing.
"""

from __future__ import annotations

import os

from rmctl.cli.context import DEFAULT_STATE_DIR, Settings


def _param(ctx, name: str, env: str, default: str) -> str:
    """Return a value given on the command line being completed, else the environment's, else ``default``.

    The global options (--root, --state-dir) are in the invocation's
    Settings (rmctl.cli.context: given before or after the command); a
    command's own options in its context's params.
    """
    found = ctx.find_object(Settings) if hasattr(ctx, "find_object") else None
    if found is not None and name == "root":
        return found.root_specs[0]
    if found is not None and name == "state_dir":
        return found.state_dir
    c = ctx
    while c is not None:
        v = (getattr(c, "params", None) or {}).get(name)
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        if v:
            return str(v)
        c = getattr(c, "parent", None)
    return os.environ.get(env) or default


def _root(ctx) -> str:
    return _param(ctx, "root", "RMCTL_ROOT", "/")


def complete_numa_nodes(ctx, incomplete: str) -> list[str]:
    """Return the NUMA node ids of the root."""
    try:
        from rmctl.ops.complete import numa_nodes

        return numa_nodes(_root(ctx), incomplete)
    except Exception:
        return []


def complete_pci_addresses(ctx, incomplete: str) -> list[str]:
    """Return the PCI addresses of the root."""
    try:
        from rmctl.ops.complete import pci_addresses

        return pci_addresses(_root(ctx), incomplete)
    except Exception:
        return []


def complete_reservations(ctx, incomplete: str) -> list[str]:
    """Return the reservation names in the state dir."""
    try:
        from rmctl.ops.complete import reservation_names

        return reservation_names(_param(ctx, "state_dir", "RMCTL_STATE_DIR", DEFAULT_STATE_DIR), incomplete)
    except Exception:
        return []


def complete_page_sizes(ctx, incomplete: str) -> list[str]:
    """Return the hugepage sizes the root offers (``2M``, ``1G``)."""
    try:
        from rmctl.ops.complete import page_sizes

        return page_sizes(_root(ctx), incomplete)
    except Exception:
        return []


def complete_classes(ctx, incomplete: str) -> list[str]:
    """Return the resource class names (built-ins and the class directory's)."""
    try:
        from rmctl.ops.complete import class_names

        return class_names(_param(ctx, "class_dir", "RMCTL_CLASS_DIR", "") or None, incomplete)
    except Exception:
        return []


def _last_of_list(incomplete: str) -> tuple[str, str]:
    """Split ``0,1,`` into the items typed (``0,1,``) and the one being typed."""
    head, sep, last = incomplete.rpartition(",")
    return head + sep, last


def complete_numa_list(ctx, incomplete: str) -> list[str]:
    """Return the NUMA node ids of the root for the last item of a list (``--numa 0,1``), those typed left out."""
    head, last = _last_of_list(incomplete)
    typed = set(head.split(","))
    return [head + n for n in complete_numa_nodes(ctx, last) if n not in typed]


def complete_page_size_counts(ctx, incomplete: str) -> list[str]:
    """Return ``SIZE=`` for each hugepage size of the root (``2M=``), for ``SIZE=COUNT`` arguments."""
    if "=" in incomplete:
        return []  # the count is the operator's
    return [s + "=" for s in complete_page_sizes(ctx, incomplete)]


def choices(*words: str):
    """Return a completion function offering ``words``."""
    def complete(incomplete: str) -> list[str]:
        return [w for w in words if w.startswith(incomplete)]
    return complete
