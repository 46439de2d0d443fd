"""Shell completion of live values, for ``autocompletion=`` of typer options, and the one dispatcher both paths share.

    numa: Annotated[int, typer.Option(autocompletion=complete_numa_nodes)]

Each ``complete_*`` function takes the click context and the word typed so
far and returns matching strings.  The answer itself is :func:`answer`: a
*kind* (:data:`KINDS`: which live values), a lookup of what the command
line being completed gave (``--root``, ``--state-dir``, ``--class-dir``,
else the environment, else the defaults) and the word typed.  The typer
path looks those up in click's contexts; the typer-free path
(:mod:`rmctl.cli.completefast`, issue 14: a <Tab> under 100 ms) in its own
parse of the same words, from the table tools/gen_completion_table.py
derives from these very functions.  They never raise: a broken root or
state file completes nothing.

This module imports only :mod:`rmctl.cli.context`: both paths import it on
every <Tab>.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rmctl.cli.context import DEFAULT_STATE_DIR, Settings

#: (name, environment variable, default) -> the value the command line being completed gives it
Lookup = Callable[[str, str, str], str]


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


def _last_of_list(incomplete: str) -> tuple[str, str]:
    """Split ``0,1,`` into the items typed (``0,1,``) and the one being typed."""
    head, sep, last = incomplete.rpartition(",")
    return head + sep, last


def _root(given: Lookup) -> str:
    return given("root", "RMCTL_ROOT", "/")


def _numa(given: Lookup, incomplete: str) -> list[str]:
    from rmctl.ops.complete import numa_nodes

    return numa_nodes(_root(given), incomplete)


def _numa_list(given: Lookup, incomplete: str) -> list[str]:
    """The NUMA node ids for the last item of a list (``--numa 0,1``), those typed left out."""
    head, last = _last_of_list(incomplete)
    typed = set(head.split(","))
    return [head + n for n in _numa(given, last) if n not in typed]


def _pci(given: Lookup, incomplete: str) -> list[str]:
    from rmctl.ops.complete import pci_addresses

    return pci_addresses(_root(given), incomplete)


def _reservation(given: Lookup, incomplete: str) -> list[str]:
    from rmctl.ops.complete import reservation_names

    return reservation_names(given("state_dir", "RMCTL_STATE_DIR", DEFAULT_STATE_DIR), incomplete)


def _page_size(given: Lookup, incomplete: str) -> list[str]:
    from rmctl.ops.complete import page_sizes

    return page_sizes(_root(given), incomplete)


def _page_size_count(given: Lookup, incomplete: str) -> list[str]:
    """``SIZE=`` for each hugepage size of the root (``2M=``), for ``SIZE=COUNT`` arguments."""
    if "=" in incomplete:
        return []  # the count is the operator's
    return [s + "=" for s in _page_size(given, incomplete)]


def _class(given: Lookup, incomplete: str) -> list[str]:
    from rmctl.ops.complete import class_names

    return class_names(given("class_dir", "RMCTL_CLASS_DIR", "") or None, incomplete)


#: the kinds of live values: name -> how to answer (what the command line gave, the word typed)
KINDS: dict[str, Callable[[Lookup, str], list[str]]] = {
    "numa": _numa, "numa-list": _numa_list, "pci": _pci, "reservation": _reservation,
    "page-size": _page_size, "page-size-count": _page_size_count, "class": _class,
}


def answer(kind: str, given: Lookup, incomplete: str) -> list[str]:
    """Return the completions of one kind of live value; [] when anything goes wrong."""
    try:
        return KINDS[kind](given, incomplete)
    except Exception:
        return []


def _by_ctx(ctx) -> Lookup:
    return lambda name, env, default: _param(ctx, name, env, default)


def _completer(kind: str):
    """Return the typer ``autocompletion=`` function of ``kind``; its ``kind`` attribute names it (the table)."""
    def complete(ctx, incomplete: str) -> list[str]:
        return answer(kind, _by_ctx(ctx), incomplete)
    complete.kind = kind  # type: ignore[attr-defined]
    complete.__name__ = complete.__qualname__ = "complete_" + kind.replace("-", "_")
    return complete


complete_numa_nodes = _completer("numa")
complete_numa_list = _completer("numa-list")
complete_pci_addresses = _completer("pci")
complete_reservations = _completer("reservation")
complete_page_sizes = _completer("page-size")
complete_page_size_counts = _completer("page-size-count")
complete_classes = _completer("class")


def choices(*words: str):
    """Return a completion function offering ``words``; its ``words`` attribute lists them (the table)."""
    def complete(incomplete: str) -> list[str]:
        return [w for w in words if w.startswith(incomplete)]
    complete.words = words  # type: ignore[attr-defined]
    return complete
