"""The node model: frozen dataclasses, no I/O.

Nothing here imports discovery, execute, render or the CLI; the model is
built by :mod:`rmctl.discovery` and read by everything else.
"""

from rmctl.model.memory import HugepagePool, HugetlbMount, MemoryInfo
from rmctl.model.node import Finding, NodeModel, Source
from rmctl.model.topology import Cache, Core, Cpu, NumaNode, Package, Topology

__all__ = [
    "Cache", "Core", "Cpu", "Finding", "HugepagePool", "HugetlbMount", "MemoryInfo",
    "NodeModel", "NumaNode", "Package", "Source", "Topology",
]
