"""Relative profile counts resolved against a node ("50%", "all-but-1": docs/formats.md).

A NodeProfile may write a CPU count as a share of the node's online CPUs
and a hugepage count as a share of memory, so one profile fits machines of
different sizes.  The profile schema (rmctl.profile.schema.Relative) keeps
what was written; this pure function turns it into numbers for one node,
before anything is planned, and says how (a note per resolved field, in
the plan).  The bases are what the kernel reports and what a plan does not
change: online CPUs (``/sys/devices/system/cpu/online``) and MemTotal
(``/proc/meminfo``, ``nodeN/meminfo``), which counts the memory in
hugepage pools too, so planning again after an apply resolves the same.
"""

from __future__ import annotations

import dataclasses

from rmctl.errors import UnsatisfiableError, UsageError
from rmctl.model.node import NodeModel
from rmctl.profile.schema import NodeProfile, Relative
from rmctl.units import counted, format_size


def resolve(profile: NodeProfile, node: NodeModel) -> tuple[NodeProfile, list[str]]:
    """Return ``profile`` with every relative count a number for ``node``, and one note per resolved count.

    A percentage rounds down; a CPU count never below 1 CPU.  A count
    that resolves below its minimum ("all-but-2" of 2 CPUs) does not fit
    this node (UnsatisfiableError, exit 4, naming the field); a hugepage
    share of a node whose memory size is unknown is a UsageError.
    """
    if not profile.relative():
        return profile, []
    notes: list[str] = []
    online = len(node.topology.online_cpus())

    def cpus(amount, path: str):
        if not isinstance(amount, Relative):
            return amount
        n = amount.of(online)
        if amount.percent is not None:
            n = max(n, 1)
        if n < 1:
            raise profile.error(path, f"{amount.text} of {counted(online, 'online CPU')} leaves no CPU",
                                hint="this node is too small for the profile", cls=UnsatisfiableError)
        notes.append(f"{path}: {amount.text} of {counted(online, 'online CPU')} is {counted(n, 'CPU')}")
        return n

    kw: dict = {}
    if isinstance(profile.system_reserved_count, Relative):
        kw["system_reserved_count"] = cpus(profile.system_reserved_count, "spec.systemReservedCPUs.count")
    kw["reservations"] = tuple(dataclasses.replace(r, count=cpus(r.count, f"{r.field}.count"))
                               if isinstance(r.count, Relative) else r for r in profile.reservations)
    pages = []
    for h in profile.hugepages:
        if isinstance(h.count, Relative):
            if h.node is None:
                base, where = node.memory.total, "the machine's memory"
            else:
                numa = node.topology.nodes.get(h.node)
                base, where = (numa.memory_total if numa else None), f"NUMA node {h.node}'s memory"
            if not base:
                raise profile.error(f"{h.field}.count", f"{h.count.text} of {where}: its size is unknown here",
                                    hint="give the count in pages", cls=UsageError)
            n = h.count.of(base) // h.page_size
            if h.reserved > n:
                raise profile.error(f"{h.field}.reserved", f"{h.reserved} reserved pages exceed count {n} "
                                    f"({h.count.text} of {where})", cls=UnsatisfiableError)
            notes.append(f"{h.field}.count: {h.count.text} of {where} ({format_size(base)}) is "
                         f"{counted(n, 'page')} of {format_size(h.page_size)}")
            h = dataclasses.replace(h, count=n)
        pages.append(h)
    kw["hugepages"] = tuple(pages)
    return dataclasses.replace(profile, **kw), notes
