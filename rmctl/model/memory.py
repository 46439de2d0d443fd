"""Memory totals, hugepage pools and hugetlbfs mounts."""

from __future__ import annotations

from rmctl.model.record import field, record

TYPE_CHECKING = False  # the typing module costs ~2 ms on the start-up path; type checkers see True
if TYPE_CHECKING:
    from collections.abc import Mapping


@record
class HugepagePool:
    """One hugepage pool: a page size, globally (``node`` None) or on one node.

    Counts are pages, from ``sys/kernel/mm/hugepages/hugepages-<kB>kB/`` or
    ``sys/devices/system/node/nodeN/hugepages/``.  The per-node directories
    have no ``resv_hugepages`` and no overcommit file (kernel
    Documentation/admin-guide/mm/hugetlbpage.rst): those are None there.
    """

    page_size: int  #: bytes
    node: int | None
    total: int  #: nr_hugepages
    free: int
    surplus: int = 0
    reserved: int | None = None
    overcommit: int | None = None  #: nr_overcommit_hugepages (global only)

    @property
    def total_bytes(self) -> int:
        return self.total * self.page_size


@record
class HugetlbMount:
    """A hugetlbfs mount from ``proc/mounts``."""

    path: str
    page_size: int | None  #: bytes, from pagesize= or the default page size
    options: Mapping[str, str] = field(default_factory=dict)
    source: str = "hugetlbfs"


@record
class MemoryInfo:
    """System-wide memory from ``proc/meminfo`` (bytes)."""

    total: int | None
    free: int | None
    available: int | None = None
    hugepage_size: int | None = None  #: Hugepagesize, the default hugepage size
    hugetlb: int | None = None  #: Hugetlb, all pools together
    fields: Mapping[str, int] = field(default_factory=dict)  #: every meminfo line, bytes or counts
