"""``rmctl devices list|show``: the PCI devices of a root, filtered, as documents.

Read-only.  ``view`` of each Outcome is ``(node, devices)`` or
``(node, device)`` for the table renderers (rmctl.render.devices).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import UsageError
from rmctl.model.pci import PciAddress
from rmctl.ops.outcome import Outcome
from rmctl.render import devices as render


def list_devices(root: Root, *, kinds: Iterable[str] = (), numa: int | None = None) -> Outcome:
    """Return the DeviceList document: every device, or those of ``kinds`` local to NUMA node ``numa``.

    A device is local to a node by the kernel's numa_node; when that is
    unknown, by the nodes whose CPUs lie in its local CPUs.  UsageError
    (exit 2) for a node the root does not have.
    """
    node = discover(root, devices=True)
    devices = list(node.devices)
    wanted = set(kinds)
    if wanted:
        devices = [d for d in devices if d.kind in wanted]
    if numa is not None:
        nodes = node.topology.nodes
        if nodes and numa not in nodes:
            raise UsageError(f"NUMA node {numa} does not exist on {root.spec}",
                             hint="nodes: " + ",".join(str(n) for n in nodes))
        devices = [d for d in devices if numa in d.local_nodes(nodes)]
    return Outcome(kind="DeviceList", data=render.list_data(node, devices), view=(node, tuple(devices)))


def show_device(root: Root, address: str) -> Outcome:
    """Return the Device document of the device at ``address`` (``0000:3b:00.0`` or ``3b:00.0``).

    UsageError (exit 2) for an address that does not parse or is not on
    the root, with the close matches as a hint.
    """
    addr = PciAddress.parse(address)
    node = discover(root, devices=True)
    dev = next((d for d in node.devices if d.address == addr), None)
    if dev is None:
        known = [str(d.address) for d in node.devices]
        close = difflib.get_close_matches(str(addr), known, n=3, cutoff=0.6)
        hint = ("did you mean " + ", ".join(close) + "?") if close else \
            ("'rmctl devices list' shows the addresses" if known else "this root has no PCI devices")
        raise UsageError(f"no PCI device {addr} on {root.spec}", hint=hint,
                         details={"address": str(addr), "close_matches": close})
    return Outcome(kind="Device", data=render.show_data(node, dev), view=(node, dev))
