"""NVMe controllers and namespaces of a PCI function, from sysfs.

``<dev>/nvme/nvmeN/{model,firmware_rev}`` and the namespaces below it:
``nvmeNnM`` or, with native multipath (kernel 4.15+), the per-path
``nvmeNcCnM``; their ``size`` is in 512-byte sectors whatever the logical
block size (Documentation/ABI/stable/sysfs-block).  ``serial`` is personal
data: it is never read.
"""

from __future__ import annotations

import re

from rmctl.discovery import paths
from rmctl.model.pci import NvmeController, NvmeNamespace

_NS_RE = re.compile(r"^nvme\d+(?:c\d+)?n\d+\Z")
SECTOR = 512


def read_nvme(root, dev_rel: str) -> tuple[NvmeController, ...]:
    """Return the NVMe controllers under ``<dev_rel>/nvme`` with their namespaces."""
    out = []
    for ctl in root.listdir(f"{dev_rel}/nvme"):
        base = f"{dev_rel}/nvme/{ctl}"
        model, fw = (root.read_strip(f"{base}/{f}") for f in paths.NVME_FILES)
        namespaces = []
        for ns in root.listdir(base):
            if _NS_RE.match(ns):
                sectors = root.read_int(f"{base}/{ns}/size")
                namespaces.append(NvmeNamespace(ns, None if sectors is None else sectors * SECTOR))
        out.append(NvmeController(name=ctl, model=model or None, firmware=fw or None,
                                  namespaces=tuple(namespaces)))
    return tuple(out)
