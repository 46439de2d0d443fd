"""PCI functions: address, ids, kind, locality, SR-IOV, link, per-kind detail.

Frozen records (rmctl.model.record: no ``dataclasses`` import on the
evaluate path, issue 14), no I/O.  ``PciDevice.to_data()`` is the stable JSON
shape of one device (``rmctl devices list -o json``): hex ids as strings
(``0x10de``), the class as six hex digits (``0x030200``), CPU sets as
cpulist strings, sizes in bytes, unknown values as null.

Attributes and capacity follow Dynamic Resource Allocation (DRA,
``k8s.io/api/resource/v1`` DeviceAttribute / DeviceCapacity): every key is a
qualified name ``<domain>/<name>``; values are int, bool, str or
:class:`Version` (a semantic version, DRA's ``version`` type).  See
docs/devices.md for the list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError
from rmctl.model.record import field, record

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

#: DRA's standard attribute domain (k8s.io/dynamic-resource-allocation/deviceattribute)
DRA_DOMAIN = "resource.kubernetes.io"
#: rmctl's own attribute domain
RMCTL_DOMAIN = "rmctl.io"
#: the DRA driver name rmctl publishes devices under by default (``export resourceslice --driver``);
#: ``device.driver`` in CEL, offline and in the cluster.  The kernel driver is ``rmctl.io/driver``.
RMCTL_DRIVER = "rmctl.io"

#: the kinds rmctl sorts PCI functions into (a contract: issue #5)
KINDS = ("gpu", "nic", "rdma", "accel", "nvme", "storage", "bridge", "other")


class Version(str):
    """A semantic version attribute value (DRA's ``version`` type), e.g. ``9.0.0``.

    A plain ``str`` for JSON; the type tells exporters and CEL that it
    compares as a version, not as text.
    """

    __slots__ = ()

    @classmethod
    def from_text(cls, text: str) -> Version | None:
        """Return ``text`` as a semver (``9.0`` -> ``9.0.0``, ``580.159.04`` -> ``580.159.4``).

        Semver forbids leading zeros in numeric parts (semver.org, rule 2),
        which NVIDIA driver versions have; None when there is no number.
        """
        nums = re.findall(r"\d+", text or "")[:3]
        if not nums:
            return None
        nums = [str(int(n)) for n in nums] + ["0"] * (3 - len(nums))
        return cls(".".join(nums))


AttrValue = bool | int | str | Version

# DRA's rules for attribute and capacity names and values (k8s.io/api/resource/v1
# types.go and pkg/apis/resource/validation/validation.go, Kubernetes 1.34):
# a name is ``<domain>/<id>``, the domain a DNS subdomain of at most 63
# characters (validateDriverName), the id a C identifier of at most 32
# (validateCIdentifier); a value is exactly one of int (int64), bool,
# string or version, the last two at most 64 bytes, a version semver 2.0.0;
# a device has at most 32 attributes and capacities together.
DRA_MAX_DOMAIN = 63  #: resource.DeviceMaxDomainLength
DRA_MAX_ID = 32  #: resource.DeviceMaxIDLength
DRA_MAX_VALUE = 64  #: resource.DeviceAttributeMaxValueLength (bytes: Go's len)
DRA_MAX_PER_DEVICE = 32  #: resource.ResourceSliceMaxAttributesAndCapacitiesPerDevice
_C_IDENT = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*\Z")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*\Z")
# semver.org 2.0.0's own expression, the one DRA's validation uses
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                     r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z")


def dra_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid DRA qualified attribute/capacity name, or None."""
    parts = name.split("/")
    if len(parts) > 2:
        return f"{name!r}: more than one '/'"
    ident = parts[-1]
    if len(parts) == 2:
        domain = parts[0]
        if not domain:
            return f"{name!r}: empty domain"
        if len(domain) > DRA_MAX_DOMAIN or not _DNS_SUBDOMAIN.match(domain.lower()):
            return f"{name!r}: the domain is not a DNS subdomain of at most {DRA_MAX_DOMAIN} characters"
    if len(ident) > DRA_MAX_ID or not _C_IDENT.match(ident):
        return f"{name!r}: the name is not a C identifier of at most {DRA_MAX_ID} characters"
    return None


def dra_value_problem(value) -> str | None:
    """Return why ``value`` is not a valid DRA attribute value (int, bool, string, version), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -(1 << 63) <= value < (1 << 63) else f"{value}: not an int64"
    if isinstance(value, str):
        if len(value.encode()) > DRA_MAX_VALUE:
            return f"{value!r}: longer than {DRA_MAX_VALUE} bytes"
        if isinstance(value, Version) and not _SEMVER.match(value):
            return f"{value!r}: not a semantic version (semver.org 2.0.0)"
        return None
    return f"{value!r}: {type(value).__name__} is not int, bool, string or version"


def dra_problems(attributes: dict, capacity: dict) -> list[str]:
    """Return every way an attribute and capacity map breaks DRA's rules (empty: valid)."""
    out = [p for k in list(attributes) + list(capacity) if (p := dra_name_problem(k))]
    out += [f"attribute {k}: {p}" for k, v in attributes.items() if (p := dra_value_problem(v))]
    out += [f"capacity {k}: {v!r} is not a non-negative integer quantity" for k, v in capacity.items()
            if isinstance(v, bool) or not isinstance(v, int) or v < 0]
    if set(attributes) & set(capacity):
        out.append(f"names both an attribute and a capacity: {sorted(set(attributes) & set(capacity))}")
    if len(attributes) + len(capacity) > DRA_MAX_PER_DEVICE:
        out.append(f"{len(attributes) + len(capacity)} attributes and capacities (DRA allows {DRA_MAX_PER_DEVICE})")
    return out


def dra_device_name(address: str) -> str:
    """Return the DNS-label DRA device name of a PCI address (``0000:3b:00.0`` -> ``pci-0000-3b-00-0``)."""
    return "pci-" + re.sub(r"[^0-9a-z]+", "-", str(address).lower()).strip("-")


def fit_value(text: str) -> str:
    """Return ``text`` cut to DRA's 64-byte string limit, ending in "..." when cut.

    pci.ids has hundreds of device names longer than that (AMD Radeon
    entries listing every board); the full name stays in ``device_name``.
    """
    if len(text.encode()) <= DRA_MAX_VALUE:
        return text
    cut = text.encode()[:DRA_MAX_VALUE - 3].decode(errors="ignore").rstrip()
    return cut + "..."


def attribute_type(value: AttrValue) -> str:
    """Return the DRA type name of an attribute value: bool, int, version or string."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Version):
        return "version"
    return "string"


_ADDR_RE = re.compile(r"^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])\Z")


@record
class PciAddress:
    """A PCI function address: domain (segment), bus, device (slot), function.

    Printed canonically as ``dddd:bb:dd.f`` in lower-case hex; the domain is
    at least four digits and as wide as needed (``10000:00:02.0``: VMD and
    Hyper-V use 32-bit domains).  Ordered by (domain, bus, device, function).
    """

    domain: int
    bus: int
    device: int
    function: int

    @classmethod
    def parse(cls, text: str) -> PciAddress:
        """Return the address in ``text`` (``0000:00:06.0``, ``00:06.0``, NVML's ``00000000:00:06.0``).

        Raises ParseError when it is not a PCI address.
        """
        m = _ADDR_RE.match((text or "").strip())
        if not m:
            raise ParseError(f"{text!r} is not a PCI address",
                             hint="write it as domain:bus:device.function, e.g. 0000:3b:00.0")
        dom, bus, dev, fn = m.groups()
        return cls(int(dom or "0", 16), int(bus, 16), int(dev, 16), int(fn))

    @classmethod
    def try_parse(cls, text: str) -> PciAddress | None:
        """Return the address in ``text`` or None."""
        try:
            return cls.parse(text)
        except ParseError:
            return None

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.device:02x}.{self.function:x}"

    # ordered by (domain, bus, device, function), as dataclass(order=True) ordered it
    def _key(self) -> tuple[int, int, int, int]:
        return (self.domain, self.bus, self.device, self.function)

    def __lt__(self, other: PciAddress) -> bool:
        return self._key() < other._key() if isinstance(other, PciAddress) else NotImplemented

    def __le__(self, other: PciAddress) -> bool:
        return self._key() <= other._key() if isinstance(other, PciAddress) else NotImplemented

    def __gt__(self, other: PciAddress) -> bool:
        return self._key() > other._key() if isinstance(other, PciAddress) else NotImplemented

    def __ge__(self, other: PciAddress) -> bool:
        return self._key() >= other._key() if isinstance(other, PciAddress) else NotImplemented


def class_kind(class_code: int) -> str:
    """Return rmctl's kind for a 24-bit PCI class code (class, subclass, prog-if).

    Class codes from the PCI Code and ID Assignment Specification (pci.ids
    "C" section): 0x03 display -> gpu; 0x02 network -> nic, except 0x0207
    InfiniBand -> rdma; 0x12 processing accelerators (FPGAs included) and
    0x0b40 co-processors -> accel; 0x0108 NVM Express -> nvme; other mass
    storage 0x01 -> storage; 0x06 bridges -> bridge; the rest -> other.
    """
    base, sub = class_code >> 16, (class_code >> 8) & 0xFF
    if base == 0x03:
        return "gpu"
    if base == 0x02:
        return "rdma" if sub == 0x07 else "nic"
    if base == 0x12 or (base == 0x0B and sub == 0x40):
        return "accel"
    if base == 0x01:
        return "nvme" if sub == 0x08 else "storage"
    if base == 0x06:
        return "bridge"
    return "other"


#: virtio device ids (OASIS virtio 1.2, section 5 "Device Types")
_VIRTIO_TYPES = {1: "net", 2: "block", 3: "console", 4: "rng", 5: "balloon", 8: "scsi", 9: "9p",
                 16: "gpu", 18: "input", 19: "vsock", 20: "crypto", 26: "fs", 27: "pmem", 29: "mem"}
#: transitional (legacy) virtio-pci device ids 0x1000-0x103f (virtio 1.2, 4.1.2.1)
_VIRTIO_LEGACY = {0x1000: 1, 0x1001: 2, 0x1002: 5, 0x1003: 3, 0x1004: 8, 0x1005: 4, 0x1009: 9}
VIRTIO_VENDOR = 0x1AF4


def virtio_type(vendor: int, device: int) -> str | None:
    """Return the virtio device type ("net", "block"...) of a virtio-pci function, else None.

    Modern ids are 0x1040 + the virtio device id; transitional ids are the
    fixed legacy table.
    """
    if vendor != VIRTIO_VENDOR:
        return None
    vid: int | None
    if 0x1040 <= device <= 0x107F:
        vid = device - 0x1040
    else:
        vid = _VIRTIO_LEGACY.get(device)
    return None if vid is None else _VIRTIO_TYPES.get(vid, f"virtio-{vid}")


@record
class PciLink:
    """PCIe link speed and width, current and maximum (sysfs ``*_link_speed``/``*_link_width``).

    Speeds are the kernel's text (``32.0 GT/s PCIe``) and GT/s as a float;
    widths are lanes.  None where the file is missing or says Unknown.
    """

    current_speed: str | None = None
    current_gts: float | None = None
    current_width: int | None = None
    max_speed: str | None = None
    max_gts: float | None = None
    max_width: int | None = None

    @property
    def max_generation(self) -> int | None:
        return pcie_generation(self.max_gts)

    @property
    def current_generation(self) -> int | None:
        return pcie_generation(self.current_gts)

    def to_data(self) -> dict[str, Any]:
        return {"current_speed": self.current_speed, "current_gts": self.current_gts,
                "current_width": self.current_width, "current_generation": self.current_generation,
                "max_speed": self.max_speed, "max_gts": self.max_gts, "max_width": self.max_width,
                "max_generation": self.max_generation}


#: GT/s per lane -> PCIe generation (PCI-SIG base specifications 1.0 to 6.0)
_GENERATIONS = {2.5: 1, 5.0: 2, 8.0: 3, 16.0: 4, 32.0: 5, 64.0: 6}


def pcie_generation(gts: float | None) -> int | None:
    """Return the PCIe generation of a per-lane rate in GT/s, or None."""
    return None if gts is None else _GENERATIONS.get(gts)


@record
class Sriov:
    """SR-IOV: a physical function's VFs, or a virtual function's PF.

    ``total_vfs``/``num_vfs`` from ``sriov_totalvfs``/``sriov_numvfs`` (PF
    only), ``vfs`` from the ``virtfnN`` links, ``physfn`` from the
    ``physfn`` link (VF only).
    """

    total_vfs: int | None = None
    num_vfs: int | None = None
    vfs: tuple[str, ...] = ()
    physfn: str | None = None

    @property
    def role(self) -> str | None:
        """Return "pf", "vf" or None (neither)."""
        if self.physfn:
            return "vf"
        if self.total_vfs:
            return "pf"
        return None

    def to_data(self) -> dict[str, Any]:
        return {"role": self.role, "total_vfs": self.total_vfs, "num_vfs": self.num_vfs,
                "vfs": list(self.vfs), "physfn": self.physfn}


@record
class NetInterface:
    """A network interface of the device (``<dev>/net/<name>``).

    ``speed_mbps`` is None when the link is down (the kernel says -1 or
    EINVAL).  The MAC address is shown but kept out of the attributes: it
    names one port, it does not describe what the device can do.
    """

    name: str
    mac: str | None = None
    speed_mbps: int | None = None
    mtu: int | None = None
    operstate: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "mac": self.mac, "speed_mbps": self.speed_mbps,
                "mtu": self.mtu, "operstate": self.operstate}


@record
class RdmaPort:
    """One port of an RDMA device (``infiniband/<dev>/ports/<n>``)."""

    port: int
    state: str | None = None  #: ACTIVE, DOWN, INIT... (the text after "N: ")
    phys_state: str | None = None  #: LinkUp, Disabled, Polling...
    link_layer: str | None = None  #: InfiniBand or Ethernet (RoCE)
    rate: str | None = None  #: e.g. "100 Gb/sec (4X EDR)"

    def to_data(self) -> dict[str, Any]:
        return {"port": self.port, "state": self.state, "phys_state": self.phys_state,
                "link_layer": self.link_layer, "rate": self.rate}


@record
class RdmaDevice:
    """An RDMA device of the function (``<dev>/infiniband/<name>``, e.g. mlx5_0)."""

    name: str
    ports: tuple[RdmaPort, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "ports": [p.to_data() for p in self.ports]}


@record
class NvmeNamespace:
    """A namespace of an NVMe controller (``nvme0n1``); size in bytes."""

    name: str
    size_bytes: int | None = None

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "size_bytes": self.size_bytes}


@record
class NvmeController:
    """An NVMe controller of the function (``<dev>/nvme/nvmeN``).

    The serial number is personal data and never read.
    """

    name: str
    model: str | None = None
    firmware: str | None = None
    namespaces: tuple[NvmeNamespace, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "firmware": self.firmware,
                "namespaces": [n.to_data() for n in self.namespaces]}


@record
class MigDeviceInfo:
    """One MIG device of a GPU, as NVML describes it (GPU instance profile and placement).

    ``profile`` is NVML/go-nvlib's profile name (``1g.18gb``); ``gi_profile_id``
    the GPU instance profile id; ``placement_start``/``placement_size`` its
    memory slices; the counts are the GPU instance profile's engine counts.
    """

    uuid: str | None = None
    profile: str | None = None
    gi_profile_id: int | None = None
    placement_start: int | None = None
    placement_size: int | None = None
    memory_bytes: int | None = None
    multiprocessors: int | None = None
    copy_engines: int | None = None
    decoders: int | None = None
    encoders: int | None = None
    jpeg_engines: int | None = None
    ofa_engines: int | None = None

    def to_data(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "profile": self.profile, "gi_profile_id": self.gi_profile_id,
                "placement_start": self.placement_start, "placement_size": self.placement_size,
                "memory_bytes": self.memory_bytes, "multiprocessors": self.multiprocessors,
                "copy_engines": self.copy_engines, "decoders": self.decoders, "encoders": self.encoders,
                "jpeg_engines": self.jpeg_engines, "ofa_engines": self.ofa_engines}


@record
class GpuInfo:
    """What NVML says of a GPU (live), or what a snapshot's facts file recorded.

    ``source`` is "nvml" (asked now) or "facts" (the snapshot's rmctl-facts.json).
    ``mig_mode`` is (current, pending) with 1 = enabled, None when the GPU
    has no MIG.  ``brand`` and ``architecture`` are go-nvlib's names of
    NVML's enums ("Nvidia", "Hopper"), as NVIDIA's DRA driver publishes
    them; ``minor`` is the /dev/nvidiaN number; ``addressing_mode`` is
    "None", "HMM", "ATS" or "" (NVML: not supported).  ``derived`` names
    facts that were not asked of NVML but derived (architecture from the
    compute capability), ``missing`` the facts the record lacks.
    """

    source: str
    product_name: str | None = None
    memory_bytes: int | None = None
    uuid: str | None = None
    compute_capability: str | None = None
    mig_mode: tuple[int, int] | None = None
    driver_version: str | None = None
    cuda_driver_version: int | None = None
    index: int | None = None
    brand: str | None = None
    architecture: str | None = None
    minor: int | None = None
    addressing_mode: str | None = None
    mig_devices: tuple[MigDeviceInfo, ...] = ()
    derived: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"source": self.source, "index": self.index, "product_name": self.product_name,
                "memory_bytes": self.memory_bytes, "uuid": self.uuid,
                "compute_capability": self.compute_capability,
                "mig_mode": None if self.mig_mode is None else
                {"current": bool(self.mig_mode[0]), "pending": bool(self.mig_mode[1])},
                "driver_version": self.driver_version, "cuda_driver_version": self.cuda_driver_version,
                "brand": self.brand, "architecture": self.architecture, "minor": self.minor,
                "addressing_mode": self.addressing_mode,
                "mig_devices": [m.to_data() for m in self.mig_devices],
                "derived": list(self.derived), "missing": list(self.missing)}


@record
class PciDevice:
    """One PCI function as sysfs shows it (``sys/bus/pci/devices/<address>``).

    Invariants: ``address`` is unique on a node; ``numa_node`` is the
    kernel's node or None when the kernel says -1 (unknown; use
    ``local_cpus`` for locality); ``local_cpus`` is None only when sysfs has
    neither local_cpulist nor local_cpus.  ``pcie_root`` is the host bridge
    (``pci<domain>:<bus>``, the first directory under sys/devices, as DRA's
    ``resource.kubernetes.io/pcieRoot`` defines it); ``root_port`` is the
    topmost PCI function below that host bridge on the way to this one
    (None when the device sits on the root bus itself).  The ``config``
    files are never read.
    """

    address: PciAddress
    vendor: int
    device: int
    class_code: int
    kind: str
    subsystem_vendor: int | None = None
    subsystem_device: int | None = None
    revision: int | None = None
    driver: str | None = None
    numa_node: int | None = None
    local_cpus: CpuSet | None = None
    iommu_group: int | None = None
    sriov: Sriov = field(default_factory=Sriov)
    link: PciLink = field(default_factory=PciLink)
    pcie_root: str | None = None
    root_port: str | None = None
    parent: str | None = None  #: the PCI function directly upstream (a bridge), or None
    sysfs_path: str | None = None  #: root-relative real path under sys/devices
    vendor_name: str | None = None
    device_name: str | None = None
    subsystem_name: str | None = None
    subsystem_vendor_name: str | None = None  #: pci.ids name of the subsystem vendor (the card's maker)
    label: str | None = None  #: firmware's slot label (``label`` file), e.g. "Intel Ethernet X772"
    net: tuple[NetInterface, ...] = ()
    rdma: tuple[RdmaDevice, ...] = ()
    nvme: tuple[NvmeController, ...] = ()
    drm: tuple[str, ...] = ()  #: DRM nodes of a GPU: card0, renderD128
    block: tuple[str, ...] = ()  #: block devices of a virtio-blk function: vda
    virtio: str | None = None  #: virtio device type of a virtio-pci function: net, block, balloon...
    gpu: GpuInfo | None = None
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)

    # -- identity -------------------------------------------------------------
    @property
    def vendor_hex(self) -> str:
        return f"0x{self.vendor:04x}"

    @property
    def device_hex(self) -> str:
        return f"0x{self.device:04x}"

    @property
    def class_hex(self) -> str:
        return f"0x{self.class_code:06x}"

    @property
    def name(self) -> str:
        """Return a name for people: NVML's product, else pci.ids vendor + device, else hex ids.

        Without a device name it reads as lspci's does (pciutils lib/names.c):
        ``Intel Corporation Device 0d57`` when only the vendor is known,
        ``Device 8086:0d57`` when neither is (a virtio function says
        ``virtio net`` instead), so the two tools agree line for line.
        """
        if self.gpu is not None and self.gpu.product_name:
            return self.gpu.product_name
        if self.device_name:
            return f"{self.vendor_name or self.vendor_hex} {self.device_name}"
        if self.vendor_name:
            return f"{self.vendor_name} Device {self.device:04x}"
        if self.virtio:
            return f"virtio {self.virtio}"
        return f"Device {self.vendor:04x}:{self.device:04x}"

    # -- locality -------------------------------------------------------------
    def local_nodes(self, nodes: Mapping) -> tuple[int, ...]:
        """Return the NUMA node ids this device is local to.

        The kernel's ``numa_node`` when known; otherwise (it said -1) the
        nodes whose CPUs all lie in ``local_cpus`` (the kernel's own
        locality fallback: local_cpulist is the node mask of the device's
        bus).  ``nodes`` maps node id -> object with ``.cpus`` (Topology.nodes).
        """
        if self.numa_node is not None:
            return (self.numa_node,)
        if not self.local_cpus:
            return ()
        return tuple(sorted(nid for nid, n in nodes.items() if n.cpus and n.cpus.issubset(self.local_cpus)))

    # -- data -----------------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        """Return the device as plain data (the ``devices`` items of ``rmctl devices list -o json``)."""
        return {
            "address": str(self.address),
            "vendor": self.vendor_hex,
            "device": self.device_hex,
            "class": self.class_hex,
            "kind": self.kind,
            "vendor_name": self.vendor_name,
            "device_name": self.device_name,
            "name": self.name,
            "subsystem_vendor": None if self.subsystem_vendor is None else f"0x{self.subsystem_vendor:04x}",
            "subsystem_device": None if self.subsystem_device is None else f"0x{self.subsystem_device:04x}",
            "subsystem_name": self.subsystem_name,
            "subsystem_vendor_name": self.subsystem_vendor_name,
            "revision": None if self.revision is None else f"0x{self.revision:02x}",
            "driver": self.driver,
            "numa_node": self.numa_node,
            "local_cpus": None if self.local_cpus is None else self.local_cpus.to_list(),
            "iommu_group": self.iommu_group,
            "pcie_root": self.pcie_root,
            "root_port": self.root_port,
            "parent": self.parent,
            "label": self.label,
            "sriov": self.sriov.to_data(),
            "link": self.link.to_data(),
            "net": [n.to_data() for n in self.net],
            "rdma": [r.to_data() for r in self.rdma],
            "nvme": [c.to_data() for c in self.nvme],
            "drm": list(self.drm),
            "block": list(self.block),
            "virtio": self.virtio,
            "gpu": None if self.gpu is None else self.gpu.to_data(),
            "attributes": {k: _plain(v) for k, v in sorted(self.attributes.items())},
            "capacity": dict(sorted(self.capacity.items())),
        }


def _plain(v: AttrValue):
    return str(v) if isinstance(v, Version) else v


def q(domain: str, name: str) -> str:
    """Return the qualified attribute name ``domain/name``."""
    return f"{domain}/{name}"


def build_attributes(dev: PciDevice) -> tuple[dict[str, AttrValue], dict[str, int]]:
    """Return (attributes, capacity) of a device, DRA style (docs/devices.md).

    Standard names (``resource.kubernetes.io/pciBusID``, ``pcieRoot``,
    ``numaNode``) are set only when known; DRA has no null.
    """
    a: dict[str, AttrValue] = {}
    c: dict[str, int] = {}
    r = lambda name: q(RMCTL_DOMAIN, name)  # noqa: E731
    a[q(DRA_DOMAIN, "pciBusID")] = str(dev.address)
    if dev.pcie_root:
        a[q(DRA_DOMAIN, "pcieRoot")] = dev.pcie_root
    if dev.numa_node is not None:
        a[q(DRA_DOMAIN, "numaNode")] = dev.numa_node
        a[r("numa")] = dev.numa_node
    a[r("vendor")] = dev.vendor_hex
    a[r("device")] = dev.device_hex
    a[r("class")] = dev.class_hex
    a[r("kind")] = dev.kind
    if dev.driver:
        a[r("driver")] = dev.driver
    if dev.vendor_name:
        a[r("vendorName")] = dev.vendor_name
    if dev.device_name:
        a[r("deviceName")] = dev.device_name
    if dev.virtio:
        a[r("virtio")] = dev.virtio
    if dev.iommu_group is not None:
        a[r("iommuGroup")] = dev.iommu_group
    role = dev.sriov.role
    if role:
        a[r("sriovRole")] = role
    if dev.sriov.total_vfs:
        a[r("sriovTotalVFs")] = dev.sriov.total_vfs
    if dev.sriov.physfn:
        a[r("physfn")] = dev.sriov.physfn
    gen = dev.link.max_generation
    if gen is not None:
        a[r("pcieGeneration")] = gen
    if dev.link.max_width:
        a[r("pcieWidth")] = dev.link.max_width
    if dev.rdma:
        a[r("rdma")] = True
        layers = {p.link_layer for d in dev.rdma for p in d.ports if p.link_layer}
        if len(layers) == 1:
            a[r("linkLayer")] = layers.pop()
    if dev.net:
        a[r("interface")] = dev.net[0].name
        speeds = [n.speed_mbps for n in dev.net if n.speed_mbps]
        if speeds:
            # capacity as bits per second (DRA capacities are quantities)
            c[r("speed")] = max(speeds) * 1_000_000
    if dev.nvme:
        total = sum(ns.size_bytes or 0 for ctl in dev.nvme for ns in ctl.namespaces)
        if total:
            c[r("storage")] = total
        models = [ctl.model for ctl in dev.nvme if ctl.model]
        if models:
            a[r("model")] = models[0]
    g = dev.gpu
    if g is not None:
        if g.product_name:
            a[r("productName")] = g.product_name
        if g.uuid:
            a[r("uuid")] = g.uuid
        cc = Version.from_text(g.compute_capability) if g.compute_capability else None
        if cc:
            a[r("computeCapability")] = cc
        if g.mig_mode is not None:
            a[r("migMode")] = bool(g.mig_mode[0])
        dv = Version.from_text(g.driver_version) if g.driver_version else None
        if dv:
            a[r("driverVersion")] = dv
        if g.memory_bytes:
            c[r("memory")] = g.memory_bytes
    # strings from pci.ids, NVML and sysfs may exceed DRA's value limit
    a = {k: fit_value(v) if isinstance(v, str) and not isinstance(v, Version) else v for k, v in a.items()}
    return a, c
