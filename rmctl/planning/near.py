"""The CPUs local to a PCI device: what ``cpu reserve --near`` and a profile's ``near:`` choose from.

One rule for both (issue 10), in order:

1. the online CPUs of the device's NUMA node (sysfs ``numa_node``), when
   the kernel knows it and the node has online CPUs;
2. else its ``local_cpulist`` (or the ``local_cpus`` mask; the CPUs the
   platform reports close to the device), intersected with the online
   CPUs (an offline CPU is never handed out);
3. else every online CPU: the kernel says nothing about where the device
   sits (numa_node -1 and no local CPUs, as on many VMs).

The device is found by its exact address (``0000:3b:00.0``; ``3b:00.0``
means domain 0000), never by a suffix.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet


def local_cpus(topology, device) -> CpuSet:
    """Return the online CPUs local to ``device`` (a model.pci.PciDevice) on ``topology``, by the rule above."""
    online = topology.online_cpus()
    node = device.numa_node
    if node is not None and node in topology.nodes:
        here = topology.cpus_in(node=node) & online
        if here:
            return here
    if device.local_cpus is not None and device.local_cpus & online:
        return device.local_cpus & online
    return online
