"""Hugepage Action kinds and the sysfs files they change.

A pool size is a :class:`~rmctl.model.plan.WriteValue` on ``nr_hugepages``
with read-back and retries; :class:`SetPoolPages` only adds the page size
and node so that plans, reports and rollbacks can name the pool, and tells
a shortfall (the kernel granted fewer pages) from other failures.

Files (kernel Documentation/admin-guide/mm/hugetlbpage.rst): the global
pool of each size is ``/sys/kernel/mm/hugepages/hugepages-<kB>kB/`` with
``nr_hugepages`` and ``nr_overcommit_hugepages``; the pool of one NUMA node
is ``/sys/devices/system/node/nodeN/hugepages/hugepages-<kB>kB/nr_hugepages``
(writing it adjusts that node only, whatever the task's mempolicy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rmctl.errors import UnsatisfiableError
from rmctl.model.plan import WriteValue
from rmctl.units import format_size, page_size_dirname

# Absolute machine paths (actions act through a Host, not a Root).  They are
# discovery.paths.SYS_HUGEPAGES and SYS_NODE with a leading "/": the model
# layer may not import discovery, and a test keeps the two in step.
SYS_HUGEPAGES = "/sys/kernel/mm/hugepages"
SYS_NODE = "/sys/devices/system/node"


def pool_dir(page_size: int, node: int | None = None) -> str:
    """Return the absolute sysfs directory of the pool of ``page_size`` (global or on ``node``)."""
    name = page_size_dirname(page_size)
    if node is None:
        return f"{SYS_HUGEPAGES}/{name}"
    return f"{SYS_NODE}/node{node}/hugepages/{name}"


def pool_file(page_size: int, node: int | None, name: str) -> str:
    """Return the absolute path of one pool attribute (``nr_hugepages``...)."""
    return f"{pool_dir(page_size, node)}/{name}"


def pool_name(page_size: int, node: int | None) -> str:
    """Return a short name for tables and messages: ``2Mi pool on node 0``, ``global 1Gi pool``."""
    if node is None:
        return f"global {format_size(page_size)} pool"
    return f"{format_size(page_size)} pool on node {node}"


@dataclass(frozen=True)
class SetPoolPages(WriteValue):
    """Set a hugepage pool's ``nr_hugepages`` to ``value`` pages, with read-back.

    The kernel grants what it can and reads back the pool size it reached
    (fewer pages on fragmented memory), so the executor's read-back decides:
    equal -> applied; fewer -> failed with ``after`` = pages granted (a
    shortfall).  ``expect`` is the pool size seen at planning time.

    What is read back and compared is the *persistent* pool,
    ``nr_hugepages - surplus_hugepages``: writing ``nr_hugepages`` sets
    that (mm/hugetlb.c set_max_huge_pages), while reading it shows every
    page including surplus ones (nr_hugepages_show_common, globally and per
    node).  Shrinking below the pages in use turns them into surplus pages,
    so ``nr_hugepages`` reads back more than was written until their users
    let go (seen on Linux 6.18: 6 pages, 2 in use, write 1 -> reads 2,
    surplus 1); the persistent count reads 1, which is what was asked.
    """

    kind: ClassVar[str] = "hugepage-pool"
    page_size: int = 0  #: bytes
    node: int | None = None  #: None: the global pool (the kernel spreads it over nodes)

    def current(self, host):
        """Return the persistent pool size (nr_hugepages minus surplus_hugepages) as text."""
        nr = super().current(host)
        surplus = _int(host.read_text(self.path.rsplit("/", 1)[0] + "/surplus_hugepages"))
        total = _int(nr)
        if total is None or not surplus:
            return nr
        return str(max(0, total - surplus))

    def readback_error(self, after):
        """Return UnsatisfiableError (exit 4) when the kernel granted fewer pages: a shortfall."""
        got, want = _int(after), _int(self.value)
        if got is not None and want is not None and got < want:
            return UnsatisfiableError(
                f"shortfall: the kernel granted {got} of {want} pages",
                hint="memory is fragmented: retry later, drop caches and compact "
                     "(echo 1 > /proc/sys/vm/compact_memory), or allocate at boot (rmctl hugepages boot-args)")
        return super().readback_error(after)

    def undo(self, previous):
        if previous is None:
            return None
        return SetPoolPages(path=self.path, value=str(previous), expect=self.value,
                            retries=self.retries, retry_delay=self.retry_delay,
                            page_size=self.page_size, node=self.node)

    def describe(self):
        was = f" (was {self.expect})" if self.expect is not None else ""
        pages = "page" if self.value == "1" else "pages"
        return f"set the {pool_name(self.page_size, self.node)} to {self.value} {pages}{was}: {self.path}"


def _int(text) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def shortfall_of(step) -> int | None:
    """Return the pages granted when ``step`` failed as a hugepage shortfall, else None.

    A shortfall is a SetPoolPages step that failed its read-back with a
    number below the request (not an error writing the file).
    """
    if not isinstance(step.action, SetPoolPages) or step.status != "failed" or step.error is None \
            or step.error.code != "unsatisfiable":
        return None
    return _int(step.after)
