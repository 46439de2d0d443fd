"""``rmctl topology``: the node model of a root, as the Topology document.

Also serves the scripted fast path (:mod:`rmctl.cli.fastpath`), so it
imports nothing heavy: discovery and the document builder only.
"""

from __future__ import annotations

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.ops.outcome import Outcome
from rmctl.render.topology import topology_data


def show(root: Root, *, devices: bool = False) -> Outcome:
    """Return the Topology document of ``root``; ``view`` is the NodeModel (for the summary and tree).

    ``devices``: also read the PCI devices (the tree shows them under their NUMA node).
    """
    node = discover(root, devices=devices)
    return Outcome(kind="Topology", data=topology_data(node), view=node)
