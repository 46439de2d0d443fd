"""ResourceSlices of the node's devices that can be handed to a workload.

Shape (k8s.io/api/resource/{v1,v1beta2,v1beta1}/types.go): ``spec.driver``,
``spec.nodeName``, ``spec.pool {name, generation, resourceSliceCount}``,
``spec.devices[]``; in v1 and v1beta2 a device is ``{name, attributes,
capacity}``, in v1beta1 ``{name, basic: {attributes, capacity}}``.  An
attribute is one of ``{int|bool|string|version: value}``, a capacity
``{value: quantity}``.  A slice holds at most 128 devices
(``ResourceSliceMaxDevices``); a pool larger than that is split into
several slices that share the pool name and generation and each say how
many slices the pool has (``resourceSliceCount``).

Which devices: by default those the given classes select (CEL, evaluated
as ``request evaluate`` does, with ``device.driver`` = the slice's
driver), never a bridge, a function holding a mounted filesystem, swap or
the root disk, or the NIC of the default route (the node needs them:
:mod:`rmctl.discovery.inuse`).  ``publish_all`` publishes every function.
Each device left out comes with its reason.

Device names are DNS labels (``pci-0000-3b-00-0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rmctl.model.pci import RMCTL_DRIVER, attribute_type, dra_device_name

API_VERSIONS = ("resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1")
RESOURCE_API = API_VERSIONS[0]
DRIVER = RMCTL_DRIVER  #: the driver name slices are published under by default
MAX_DEVICES = 128  #: resource.ResourceSliceMaxDevices
#: the built-in classes published by default (rmctl/resources/classes.py)
DEFAULT_CLASSES = ("accel", "gpu", "nic", "rdma", "nvme")

# A node name and a DRA driver name are DNS subdomains (RFC 1123, lower case,
# at most 253 characters): k8s.io/apimachinery validation.IsDNS1123Subdomain,
# which the API server applies to Node names and ResourceSlice spec.driver.
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*\Z")


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
    return dra_device_name(address)


@dataclass
class Exclusion:
    """A device left out of the slices, and why."""

    address: str
    name: str
    reason: str

    def to_data(self) -> dict:
        return {"address": self.address, "name": self.name, "reason": self.reason}


@dataclass
class SliceExport:
    """The slices, the devices published and those left out (with reasons), and checks that could not run."""

    slices: list[dict]
    published: list[str] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def document(self) -> dict:
        """Return the one object to print: the slice, or a v1 List of them."""
        if len(self.slices) == 1:
            return self.slices[0]
        return {"apiVersion": "v1", "kind": "List", "items": self.slices}

    def comment(self) -> str:
        lines = [f"{len(self.slices)} ResourceSlice(s), {len(self.published)} device(s) published"]
        lines += [f"excluded {e.address} ({e.name}): {e.reason}" for e in self.excluded]
        lines += [f"not checked: {u}" for u in self.unknown]
        return "".join(f"# {ln}\n" for ln in lines)


def _attr(value) -> dict:
    t = attribute_type(value)
    return {t: str(value) if t == "version" else value}


def _device_entry(dev, api_version: str) -> dict:
    from rmctl.model.pci import build_attributes

    attrs, cap = (dev.attributes, dev.capacity) if dev.attributes else build_attributes(dev)
    body: dict = {}
    if attrs:
        body["attributes"] = {k: _attr(v) for k, v in sorted(attrs.items())}
    if cap:
        body["capacity"] = {k: {"value": str(v)} for k, v in sorted(cap.items())}
    d: dict[str, Any] = {"name": device_name(str(dev.address))}
    if api_version == "resource.k8s.io/v1beta1":
        d["basic"] = body
    else:
        d.update(body)
    return d


def select(node, *, classes: dict, class_names, in_use, driver: str = DRIVER,
           publish_all: bool = False) -> tuple[list, list[Exclusion]]:
    """Return (devices to publish, exclusions), in PCI address order.

    ``classes``: name -> ResourceClass (compiled selectors); ``in_use``: a
    :class:`rmctl.discovery.inuse.InUse` (or None when not checked).
    """
    from rmctl.planning.requests import device_views

    devices = sorted(node.devices, key=lambda d: str(d.address))
    if publish_all:
        return devices, []
    views = {v.address: v for v in device_views(node, driver) if v.driver == driver}
    chosen, excluded = [], []
    for d in devices:
        addr = str(d.address)
        if d.kind == "bridge":
            excluded.append(Exclusion(addr, d.name, "a PCI bridge: it routes the bus, a workload cannot use it"))
            continue
        reasons = (in_use.reasons.get(addr) if in_use is not None else None) or []
        if reasons:
            excluded.append(Exclusion(addr, d.name, "the node uses it: " + "; ".join(reasons)))
            continue
        act = views[addr].activation()
        hit, errors = [], []
        for name in class_names:
            cls = classes[name]
            outcomes = [s.compiled.evaluate(act) for s in cls.selectors]
            errors += [f"class {name}: {o.error}" for o in outcomes if o.error]
            if all(o.value for o in outcomes):
                hit.append(name)
        if hit:
            chosen.append(d)
        else:
            why = f"no class selects it (classes {', '.join(class_names)}; kind {d.kind})"
            if errors:
                why += "; " + "; ".join(errors[:2])
            excluded.append(Exclusion(addr, d.name, why))
    return chosen, excluded


def resource_slices(node, devices, *, node_name: str, driver: str = DRIVER, generation: int = 1,
                    api_version: str = RESOURCE_API, max_devices: int = MAX_DEVICES) -> list[dict]:
    """Return the ResourceSlices (plain dicts) publishing ``devices`` in one pool on ``node_name``.

    Split into slices of at most ``max_devices``; every slice names the
    pool (the node name), its generation and the number of slices.
    """
    from rmctl.errors import UsageError

    check_dns_subdomain(node_name, "node name")
    check_dns_subdomain(driver, "driver name")
    if api_version not in API_VERSIONS:
        raise UsageError(f"--api-version {api_version!r} is not one rmctl writes",
                         hint="one of " + ", ".join(API_VERSIONS))
    if generation < 0:
        raise UsageError(f"--generation {generation} must not be negative")
    entries = [_device_entry(d, api_version) for d in sorted(devices, key=lambda d: str(d.address))]
    chunks = [entries[i:i + max_devices] for i in range(0, len(entries), max_devices)] or [[]]
    safe = re.sub(r"[^0-9a-z.-]+", "-", node_name.lower()).strip("-.") or "node"
    base = f"{safe}-{driver.replace('/', '-')}"[:240].rstrip("-.")
    out = []
    for i, chunk in enumerate(chunks):
        spec: dict = {"driver": driver, "nodeName": node_name,
                      "pool": {"name": node_name, "generation": generation, "resourceSliceCount": len(chunks)}}
        if chunk:
            spec["devices"] = chunk
        out.append({"apiVersion": api_version, "kind": "ResourceSlice",
                    "metadata": {"name": f"{base}-{i}"}, "spec": spec})
    return out


def export_slices(node, *, node_name: str, classes: dict, class_names=DEFAULT_CLASSES, in_use=None,
                  driver: str = DRIVER, generation: int = 1, api_version: str = RESOURCE_API,
                  publish_all: bool = False) -> SliceExport:
    """Return the SliceExport of ``node`` (see the module docstring)."""
    from rmctl.errors import UsageError

    unknown = [c for c in class_names if c not in classes]
    if unknown:
        raise UsageError(f"unknown class {unknown[0]!r}", hint="known classes: " + ", ".join(sorted(classes)))
    devices, excluded = select(node, classes=classes, class_names=list(class_names), in_use=in_use,
                               driver=driver, publish_all=publish_all)
    slices = resource_slices(node, devices, node_name=node_name, driver=driver, generation=generation,
                             api_version=api_version)
    return SliceExport(slices, [str(d.address) for d in devices], excluded,
                       list(in_use.unknown) if in_use is not None and not publish_all else [])
