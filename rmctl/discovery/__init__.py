"""Discovery: read a Root and return a NodeModel.  Never writes.

``discover(root)`` reads the topology, memory, hugepages and mounts;
devices are read only when asked (``devices=True``), because most commands
do not need them and PCI trees are large.
"""

from __future__ import annotations

from rmctl.discovery.root import Root
from rmctl.model.node import NodeModel


def discover(root: Root, *, devices: bool = False) -> NodeModel:
    """Return the node model of ``root``."""
    from rmctl.discovery.assemble import assemble

    return assemble(root, devices=devices)


__all__ = ["Root", "discover"]
