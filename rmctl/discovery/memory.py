"""Memory, hugepage pools, hugetlbfs mounts and THP from /proc and /sys.

Hugepage files (Documentation/admin-guide/mm/hugetlbpage.rst): the global
``sys/kernel/mm/hugepages/hugepages-<kB>kB/`` has nr_hugepages,
free_hugepages, resv_hugepages, surplus_hugepages, nr_overcommit_hugepages;
the per-node ``nodeN/hugepages/hugepages-<kB>kB/`` has only nr, free and
surplus.
"""

from __future__ import annotations

from rmctl.discovery import paths
from rmctl.discovery.parse import parse_meminfo, parse_mounts
from rmctl.discovery.root import Root
from rmctl.errors import ParseError
from rmctl.model.memory import HugepagePool, HugetlbMount, MemoryInfo
from rmctl.model.node import Finding
from rmctl.units import parse_page_size_dirname, parse_size


def read_meminfo(root: Root, findings: list[Finding]) -> MemoryInfo:
    """Return system memory from ``proc/meminfo``."""
    text = root.read(paths.PROC_MEMINFO)
    if text is None:
        findings.append(Finding("no_meminfo", "proc/meminfo missing: memory totals unknown", paths.PROC_MEMINFO))
        return MemoryInfo(total=None, free=None)
    mi = parse_meminfo(text)
    return MemoryInfo(
        total=mi.get("MemTotal"), free=mi.get("MemFree"), available=mi.get("MemAvailable"),
        hugepage_size=mi.get("Hugepagesize"), hugetlb=mi.get("Hugetlb"), fields=mi,
    )


def read_pools(root: Root, base: str, node: int | None, findings: list[Finding]) -> list[HugepagePool]:
    """Return the hugepage pools under ``base`` (global or one node's), by page size."""
    pools = []
    for name in root.listdir(base):
        size = parse_page_size_dirname(name)
        if size is None:
            continue
        d = f"{base}/{name}"
        total = root.read_int(f"{d}/nr_hugepages")
        free = root.read_int(f"{d}/free_hugepages")
        if total is None or free is None:
            findings.append(Finding("bad_hugepage_pool", f"{d}: nr_hugepages or free_hugepages unreadable", d))
            continue
        surplus = root.read_int(f"{d}/surplus_hugepages") or 0
        reserved = overcommit = None
        if node is None:
            reserved = root.read_int(f"{d}/resv_hugepages")
            overcommit = root.read_int(f"{d}/nr_overcommit_hugepages")
        pools.append(HugepagePool(page_size=size, node=node, total=total, free=free, surplus=surplus,
                                  reserved=reserved, overcommit=overcommit))
    return sorted(pools, key=lambda p: p.page_size)


def read_mounts(root: Root, default_page: int | None, findings: list[Finding]) -> list[HugetlbMount]:
    """Return hugetlbfs mounts from ``proc/mounts`` (page size from pagesize= or the default)."""
    text = root.read(paths.PROC_MOUNTS)
    if text is None:
        return []
    out = []
    for src, path, fstype, opts in parse_mounts(text):
        if fstype != "hugetlbfs":
            continue
        size = default_page
        if "pagesize" in opts:
            try:
                size = parse_size(opts["pagesize"])
            except ParseError:
                findings.append(Finding("bad_mount_option", f"{path}: pagesize={opts['pagesize']!r}",
                                        paths.PROC_MOUNTS))
        out.append(HugetlbMount(path=path, page_size=size, options=opts, source=src))
    return out


def read_thp(root: Root) -> str | None:
    """Return the THP mode (``always``, ``madvise``, ``never``) from its ``[bracketed]`` choice."""
    text = root.read(f"{paths.SYS_THP}/enabled")
    if not text:
        return None
    start = text.find("[")
    end = text.find("]", start) if start >= 0 else -1
    if end < 0:  # no [choice]: a kernel without THP, or a snapshot's damaged file ("[" alone: the fuzz test's)
        return None
    return text[start + 1:end]
