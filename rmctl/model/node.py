"""NodeModel: everything discovered about one node, plus provenance and findings."""

from __future__ import annotations

from rmctl.model.memory import HugepagePool, HugetlbMount, MemoryInfo
from rmctl.model.record import field, record
from rmctl.model.topology import Topology

TYPE_CHECKING = False  # the typing module costs ~2 ms on the start-up path; type checkers see True
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rmctl.model.pci import PciDevice


@record
class Finding:
    """A non-fatal anomaly met while reading (kept as data, shown with -v).

    ``code`` is a stable snake_case name; ``path`` is root-relative.
    """

    code: str
    message: str
    path: str | None = None
    severity: str = "warning"  #: "info" | "warning"


@record
class Source:
    """Where the model came from."""

    root: str
    live: bool
    kind: str = "directory"  #: "live" | "directory" | "tarball"
    kernel: str | None = None
    arch: str | None = None
    page_size: int | None = None
    captured_at: str | None = None
    rmctl_version: str | None = None


@record
class NodeModel:
    """One node: topology, memory, hugepages, mounts, devices, findings."""

    source: Source
    topology: Topology
    memory: MemoryInfo
    hugepages: tuple[HugepagePool, ...] = ()  #: global pools, one per page size
    mounts: tuple[HugetlbMount, ...] = ()
    cmdline: str | None = None
    devices: tuple[PciDevice, ...] = ()  #: PCI devices, when discovered (``discover(root, devices=True)``)
    findings: tuple[Finding, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)  #: THP mode and other small facts

    def page_sizes(self) -> list[int]:
        """Return the hugepage sizes the kernel offers, ascending."""
        return sorted({p.page_size for p in self.hugepages})
