"""A ``resource.k8s.io/v1`` ResourceSlice of the node's PCI devices.

Each device carries exactly the attributes and capacity rmctl's resource
classes select on (:func:`rmctl.model.pci.build_attributes`), so a DRA
DeviceClass with the same CEL selects the same devices.  Shape
(k8s.io/api/resource/v1, Kubernetes 1.34+): ``spec.driver``,
``spec.nodeName``, ``spec.pool {name, generation, resourceSliceCount}``,
``spec.devices[] {name, attributes, capacity}``; an attribute is one of
``{int|bool|string|version: value}``, a capacity ``{value: quantity}``.
Device names are DNS labels (``pci-0000-3b-00-0``).
"""

from __future__ import annotations

import re

from rmctl.model.pci import RMCTL_DOMAIN, attribute_type

RESOURCE_API = "resource.k8s.io/v1"
DRIVER = RMCTL_DOMAIN  #: the driver name the slice is published under


def device_name(address: str) -> str:
    """Return the DNS-label device name of a PCI address (``0000:3b:00.0`` -> ``pci-0000-3b-00-0``)."""
    return "pci-" + re.sub(r"[^0-9a-z]+", "-", address.lower()).strip("-")


def _attr(value) -> dict:
    t = attribute_type(value)
    return {t: str(value) if t == "version" else value}


def resource_slice(node, *, node_name: str, driver: str = DRIVER, generation: int = 1) -> dict:
    """Return the ResourceSlice (a plain dict) of ``node.devices`` on ``node_name``."""
    from rmctl.model.pci import build_attributes

    devices = []
    for dev in sorted(node.devices, key=lambda d: str(d.address)):
        attrs, cap = (dev.attributes, dev.capacity) if dev.attributes else build_attributes(dev)
        d = {"name": device_name(str(dev.address))}
        if attrs:
            d["attributes"] = {k: _attr(v) for k, v in sorted(attrs.items())}
        if cap:
            d["capacity"] = {k: {"value": str(v)} for k, v in sorted(cap.items())}
        devices.append(d)
    safe = re.sub(r"[^0-9a-z.-]+", "-", node_name.lower()).strip("-.") or "node"
    return {
        "apiVersion": RESOURCE_API, "kind": "ResourceSlice",
        "metadata": {"name": f"{safe}-{driver.replace('/', '-')}"[:253]},
        "spec": {
            "driver": driver, "nodeName": node_name,
            "pool": {"name": node_name, "generation": generation, "resourceSliceCount": 1},
            "devices": devices,
        },
    }
