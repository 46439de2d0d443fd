"""``proc/buddyinfo`` and an estimate of the hugepages that could be had now.

``proc/buddyinfo`` (Documentation/filesystems/proc.rst, "buddyinfo") has one
line per node and zone: ``Node 0, zone   Normal  a0 a1 ... aN`` where ``ai``
is the number of free blocks of order ``i`` (``2**i`` base pages).  Its last
column is the buddy allocator's largest order (MAX_PAGE_ORDER, 10 on x86
and arm64 with 4 KiB pages: 4 MiB blocks; called MAX_ORDER-1 before Linux
6.8).

Hugepages up to that order (2 MiB on x86) come from the buddy allocator:
a free block of order >= the page's order yields ``2**(order-k)`` pages.
Larger ("gigantic") pages, 1 GiB on x86, need a contiguous range that the
buddy lists cannot show (``alloc_contig_pages`` may also migrate movable
pages into place); their estimate counts only the memory in free blocks of
the largest order.  Compaction can do better than either number, and other
allocations can do worse at any moment: these are estimates, and the
executor's read-back is what counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rmctl.discovery import paths
from rmctl.discovery.root import Root
from rmctl.model.node import NodeModel

#: MAX_PAGE_ORDER when no buddyinfo says otherwise (include/linux/mmzone.h,
#: the default for 4 KiB base pages on x86 and arm64)
DEFAULT_MAX_ORDER = 10
DEFAULT_BASE_PAGE = 4096

# ZONE_DMA (the first 16 MiB on x86) is kept for ISA-style DMA by
# lowmem_reserve_ratio; hugepages practically never come from it.
_SKIP_ZONES = frozenset({"DMA"})

_LINE = re.compile(r"^Node\s+(\d+),\s*zone\s+(\S+)\s+(.*)$")

@dataclass(frozen=True)
class BuddyZone:
    """One line of ``proc/buddyinfo``: ``free[i]`` free blocks of order ``i`` in a zone of a node."""

    node: int
    zone: str
    free: tuple[int, ...]

    @property
    def max_order(self) -> int:
        return len(self.free) - 1


def parse_buddyinfo(text: str) -> list[BuddyZone]:
    """Parse ``proc/buddyinfo`` into zones (lines that do not parse are skipped)."""
    out = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        try:
            counts = tuple(int(x) for x in m.group(3).split())
        except ValueError:
            continue
        if counts:
            out.append(BuddyZone(int(m.group(1)), m.group(2), counts))
    return out


def read_buddyinfo(root: Root) -> list[BuddyZone] | None:
    """Return the zones of ``proc/buddyinfo`` under ``root``, or None when it is absent."""
    text = root.read(paths.PROC_BUDDYINFO)
    if text is None:
        return None
    return parse_buddyinfo(text)


def max_order(zones: list[BuddyZone] | None) -> int:
    """Return the buddy allocator's largest order (from buddyinfo, else the x86 default)."""
    orders = [z.max_order for z in zones or ()]
    return max(orders) if orders else DEFAULT_MAX_ORDER


def base_page(node: NodeModel) -> int:
    """Return the base page size of the node (the root's facts, else 4 KiB)."""
    return node.source.page_size or DEFAULT_BASE_PAGE


def largest_buddy_block(node: NodeModel, zones: list[BuddyZone] | None) -> int:
    """Return the largest block the buddy allocator hands out, in bytes.

    Hugepages larger than this are gigantic (mm/hugetlb.c
    ``hstate_is_gigantic``): no overcommit (nr_overcommit_hugepages refuses
    them with EINVAL) and unreliable run-time allocation.
    """
    return base_page(node) << max_order(zones)


def is_gigantic(page_size: int, node: NodeModel, zones: list[BuddyZone] | None) -> bool:
    """Return True when ``page_size`` is larger than the buddy allocator's largest block."""
    return page_size > largest_buddy_block(node, zones)


@dataclass(frozen=True)
class Obtainable:
    """How many more pages of one size could be had now on a node (None: all nodes).

    ``pages`` is the estimate, ``free_memory_pages`` the bound that free
    memory alone sets, ``basis`` says where the estimate comes from:
    ``buddyinfo`` (free blocks of the page's order or larger),
    ``buddyinfo-max-order`` (gigantic pages: memory in the largest free
    blocks), ``free-memory`` (no buddyinfo) or ``unknown``.
    """

    page_size: int
    node: int | None
    pages: int | None
    free_memory_pages: int | None
    basis: str
    gigantic: bool

    def to_data(self) -> dict:
        return {"page_size": self.page_size, "node": self.node, "pages": self.pages,
                "free_memory_pages": self.free_memory_pages, "basis": self.basis,
                "gigantic": self.gigantic}


def _from_zones(zones: list[BuddyZone], page_size: int, base: int) -> tuple[int, str]:
    order = (page_size // base).bit_length() - 1  # page_size is a power of two times base
    usable = [z for z in zones if z.zone not in _SKIP_ZONES]
    top = max_order(zones)
    if order <= top:
        pages = sum(z.free[i] << (i - order) for z in usable for i in range(order, len(z.free)))
        return pages, "buddyinfo"
    block = base << top
    memory = sum(z.free[top] * block for z in usable if len(z.free) > top)
    return memory // page_size, "buddyinfo-max-order"


def estimate(node: NodeModel, zones: list[BuddyZone] | None, page_size: int,
             numa: int | None = None) -> Obtainable:
    """Return how many more ``page_size`` pages could be had now on NUMA node ``numa`` (None: all)."""
    base = base_page(node)
    if numa is None:
        # As planning.hugepages.total_free: the nodes' sum where known.
        frees = [n.memory_free for n in node.topology.nodes.values()]
        free = sum(frees) if frees and None not in frees else node.memory.free  # type: ignore[arg-type]
        mine = zones
    else:
        nd = node.topology.nodes.get(numa)
        free = nd.memory_free if nd is not None else None
        mine = [z for z in zones if z.node == numa] if zones is not None else None
    bound = free // page_size if free is not None else None
    gigantic = is_gigantic(page_size, node, zones)
    if mine:
        pages, basis = _from_zones(mine, page_size, base)
        if bound is not None:
            pages = min(pages, bound)
        return Obtainable(page_size, numa, pages, bound, basis, gigantic)
    if bound is not None:
        return Obtainable(page_size, numa, bound, bound, "free-memory", gigantic)
    return Obtainable(page_size, numa, None, None, "unknown", gigantic)


def estimates(node: NodeModel, zones: list[BuddyZone] | None) -> list[Obtainable]:
    """Return an estimate for every page size, globally and on every NUMA node."""
    out = []
    for size in node.page_sizes():
        out.append(estimate(node, zones, size))
        for nid in node.topology.nodes:
            out.append(estimate(node, zones, size, nid))
    return out
