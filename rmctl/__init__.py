"""rmctl: resource management for one Linux node (topology, CPUs, hugepages, devices)."""

__version__ = "0.1.0"
