"""What ``rmctl snapshot capture`` must keep for device discovery, and the device facts.

Named in :data:`rmctl.snapshot.MANIFEST_MODULES`: ``rmctl.snapshot`` merges
this module's ``GLOBS`` into its ``MANIFEST`` and its ``FACT_PROVIDERS``
into its own (discovery may not import the snapshot layer).  The
globs name exactly the files :mod:`rmctl.discovery.pci` and its per-kind
readers open (a test records the reads on every fixture and checks them
against the manifest).  ``config`` and ``serial*`` are never captured.
The provider stores the NVML facts (live root, NVIDIA GPU present, NVML
answering) and the pci.ids names of the ids present, so ``--root
snapshot`` shows the same attributes and names offline.
"""

from __future__ import annotations

from rmctl.discovery import paths as P

_DEV = f"{P.SYS_PCI_DEVICES}/*"
_NET = ("net/*", "virtio*/net/*")

#: root-relative globs of every file device discovery reads
GLOBS: list[str] = [
    *(f"{_DEV}/{f}" for f in P.PCI_ID_FILES + P.PCI_LOCALITY_FILES + P.PCI_SRIOV_FILES + P.PCI_LINK_FILES),
    f"{_DEV}/{P.PCI_LABEL_FILE}",
    *(f"{_DEV}/{link}" for link in P.PCI_LINKS),
    f"{_DEV}/virtfn*",
    *(f"{_DEV}/{n}/{f}" for n in _NET for f in P.NET_FILES),
    *(f"{_DEV}/infiniband/*/ports/*/{f}" for f in P.IB_PORT_FILES),
    *(f"{_DEV}/nvme/*/{f}" for f in P.NVME_FILES),
    f"{_DEV}/nvme/*/nvme*/size",
    f"{_DEV}/virtio*/block/*/size",  # a file, so that the block device's directory is kept
    f"{_DEV}/drm/*/dev",  # likewise for card0, renderD128
]


def device_facts(root=None) -> dict:
    """Return the device facts of ``root`` for the snapshot's facts file (``nvml``, ``pci_names``).

    Without a root (a caller that passes none) there is nothing to say: {}.
    """
    if root is None:
        return {}
    from rmctl.discovery.pci import snapshot_facts

    return snapshot_facts(root)


#: rmctl.snapshot.facts passes the root being captured to providers that say so
device_facts.takes_root = True  # type: ignore[attr-defined]

#: merged into rmctl.snapshot.FACT_PROVIDERS by rmctl.snapshot.load_extensions
FACT_PROVIDERS = [device_facts]
