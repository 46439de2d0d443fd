"""``--near PCI_ADDRESS`` (cpu reserve, cpu run) and a profile's ``near:``: one lookup, one rule.

The device is read by its exact address through discovery (the reading
``rmctl devices show`` does), and its local CPUs follow
rmctl.planning.near.local_cpus: the NUMA node's online CPUs, else its
local CPUs that are online, else every online CPU.
"""

from __future__ import annotations

import difflib

from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.pci import read_device
from rmctl.discovery.root import Root
from rmctl.errors import UsageError
from rmctl.model.node import NodeModel
from rmctl.model.pci import PciAddress
from rmctl.planning.near import local_cpus


def near_cpus(root: Root, node: NodeModel, address: str) -> tuple[str, CpuSet]:
    """Return (the device's canonical address, the online CPUs local to it) on ``root``.

    UsageError (exit 2) for an address that does not parse or names no
    device on the root, with close matches as a hint.
    """
    addr = PciAddress.parse(address)
    name = str(addr)
    dev = read_device(root, name, addr, []) if root.exists(paths.pci_device(name)) else None
    if dev is None:
        known = root.listdir(paths.SYS_PCI_DEVICES)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        raise UsageError(f"no PCI device {name}",
                         hint=("did you mean " + ", ".join(close) + "?") if close else "see rmctl devices list")
    return name, local_cpus(node.topology, dev)
