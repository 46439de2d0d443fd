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

# A node name and a DRA driver name are DNS subdomains (RFC 1123, lower case,
# at most 253 characters): k8s.io/apimachinery validation.IsDNS1123Subdomain,
# which the API server applies to Node names and ResourceSlice spec.driver.
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")


def check_dns_subdomain(value: str, what: str) -> str:
    """Return ``value`` if it is a DNS subdomain; raise UsageError naming ``what`` otherwise."""
    from rmctl.errors import UsageError

    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise UsageError(f"{what} {value!r} is not a valid Kubernetes name",
                         hint="lower-case letters, digits, '-' and '.', starting and ending with a letter "
                              "or digit, at most 253 characters (RFC 1123 subdomain)")
    return value


def device_name(address: str) -> str:
    """Return the DNS-label device name of a PCI address (``0000:3b:00.0`` -> ``pci-0000-3b-00-0``)."""
    return "pci-" + re.sub(r"[^0-9a-z]+", "-", address.lower()).strip("-")


def _attr(value) -> dict:
    t = attribute_type(value)
    return {t: str(value) if t == "version" else value}


def resource_slice(node, *, node_name: str, driver: str = DRIVER, generation: int = 1) -> dict:
    """Return the ResourceSlice (a plain dict) of ``node.devices`` on ``node_name``."""
    from rmctl.model.pci import build_attributes

    check_dns_subdomain(node_name, "node name")
    check_dns_subdomain(driver, "driver name")
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
