"""A GPU as NVIDIA's DRA driver publishes it (driver ``gpu.nvidia.com``), from rmctl's NVML facts.

Names and types follow NVIDIA/k8s-dra-driver-gpu cmd/gpu-kubelet-plugin
(deviceinfo.go ``GpuInfo.GetDevice``/``MigDeviceInfo.GetDevice``,
nvlib.go ``getGpuInfo``) and go-nvlib pkg/nvlib/device/device.go:

- a full GPU is device ``gpu-<minor>``; a MIG device
  ``gpu-<minor>-mig-<giProfileId>-<placementStart>-<placementSize>``;
  a GPU with MIG enabled is published through its MIG devices only;
- attributes in the driver's own domain (bare names in the slice, so
  ``device.attributes["gpu.nvidia.com"].<name>`` in CEL): ``type``
  ("gpu"/"mig"), ``uuid``, ``productName``, ``brand``, ``architecture``,
  ``cudaComputeCapability``, ``driverVersion``, ``cudaDriverVersion``
  (the last three versions), ``pcieBusID``, ``addressingMode``; MIG
  devices add ``parentUUID`` and ``profile``; plus the standard
  ``resource.kubernetes.io/pcieRoot``;
- capacity ``memory`` (bytes); MIG devices also ``multiprocessors``,
  ``copyEngines``, ``decoders``, ``encoders``, ``jpegEngines``,
  ``ofaEngines`` and one ``memorySlice<i>`` = 1 per slice they occupy.

The driver reads ``cudaDriverVersion`` as "<v/1000>.<(v%1000)/10>" of
NVML's integer (13000 -> 13.0 -> 13.0.0) and ``pcieBusID`` as NVML's bus
id in lower case without the leading "0000" of its 8-digit domain.
Where rmctl's record lacks a fact, the attribute is left out and the view
says so in ``missing`` (DRA has no null); a device without its minor
number is named after the NVML index instead, and says so.
"""

from __future__ import annotations

from rmctl.model.pci import DRA_DOMAIN, Version
from rmctl.model.value import field, value

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

DRIVER = "gpu.nvidia.com"

#: NVML nvmlBrandType_t -> go-nvlib GetBrandAsString (nvml.h enum order)
BRANDS: dict[int | None, str] = {0: "Unknown", 1: "Quadro", 2: "Tesla", 3: "NVS", 4: "Grid", 5: "GeForce", 6: "Titan",
          7: "NvidiaVApps", 8: "NvidiaVPC", 9: "NvidiaVCS", 10: "NvidiaVWS", 11: "NvidiaCloudGaming",
          12: "QuadroRTX", 13: "NvidiaRTX", 14: "Nvidia", 15: "GeForceRTX", 16: "TitanRTX"}
#: nvidia-smi -q's <product_brand> text -> the NVML brand (nvidia-smi prints NVML's brand names)
SMI_BRANDS = {"Unknown": 0, "Quadro": 1, "Tesla": 2, "NVS": 3, "Grid": 4, "GeForce": 5, "Titan": 6,
              "NVIDIA Virtual Applications": 7, "NVIDIA Virtual PC": 8, "NVIDIA Virtual Compute Server": 9,
              "NVIDIA RTX Virtual Workstation": 10, "NVIDIA Cloud Gaming": 11, "Quadro RTX": 12,
              "NVIDIA RTX": 13, "NVIDIA": 14, "GeForce RTX": 15, "Titan RTX": 16}
#: NVML nvmlDeviceArchitecture_t -> go-nvlib GetArchitectureAsString
ARCHITECTURES: dict[int | None, str] = {2: "Kepler", 3: "Maxwell", 4: "Pascal", 5: "Volta", 6: "Turing", 7: "Ampere",
                 8: "Ada Lovelace", 9: "Hopper", 10: "Blackwell"}
#: compute capability major.minor -> architecture (NVIDIA's "CUDA GPUs - Compute Capability" table)
CC_ARCHITECTURES = {"3": "Kepler", "5": "Maxwell", "6": "Pascal", "7.0": "Volta", "7.2": "Volta",
                    "7.5": "Turing", "8.0": "Ampere", "8.6": "Ampere", "8.7": "Ampere", "8.9": "Ada Lovelace",
                    "9.0": "Hopper", "10": "Blackwell", "11": "Blackwell", "12": "Blackwell"}
#: NVML nvmlDeviceAddressingModeType_t -> go-nvlib GetAddressingModeAsString
ADDRESSING_MODES: dict[int | None, str] = {0: "None", 1: "HMM", 2: "ATS"}


def architecture_from_cc(cc: str | None) -> str | None:
    """Return the architecture of a compute capability ("9.0" -> "Hopper"), or None when unknown."""
    if not cc:
        return None
    return CC_ARCHITECTURES.get(cc) or CC_ARCHITECTURES.get(cc.split(".")[0])


def cuda_driver_version_text(v: int | None) -> str | None:
    """Return NVML's CUDA driver version integer the driver's way (13000 -> "13.0")."""
    if v is None:
        return None
    return f"{v // 1000}.{(v % 1000) // 10}"


def pcie_bus_id(address) -> str:
    """Return the bus id as go-nvlib GetPCIBusID prints it (``0000:00:06.0``)."""
    return str(address).lower()


@value
class DraDevice:
    """A device as a DRA driver publishes it: the slice entry plus where it came from."""

    name: str
    driver: str
    address: str  #: the PCI function behind it (allocation is per function)
    attributes: dict[str, Any]  #: qualified names
    capacity: dict[str, int]  #: qualified names, bytes or counts
    missing: list[str] = field(default_factory=list)  #: facts the record lacks (attributes left out)

    def slice_entry(self) -> dict:
        """Return the device as the driver's ResourceSlice lists it (bare names in its own domain)."""
        def bare(q: str) -> str:
            return q[len(self.driver) + 1:] if q.startswith(self.driver + "/") else q

        def typed(v):
            if isinstance(v, bool):
                return {"bool": v}
            if isinstance(v, int):
                return {"int": v}
            if isinstance(v, Version):
                return {"version": str(v)}
            return {"string": v}
        return {"name": self.name,
                "attributes": {bare(k): typed(v) for k, v in sorted(self.attributes.items())},
                "capacity": {bare(k): {"value": str(v)} for k, v in sorted(self.capacity.items())}}


def nvidia_devices(dev) -> list[DraDevice]:
    """Return the NVIDIA DRA driver's devices for PCI function ``dev`` ([] without NVML facts)."""
    g = getattr(dev, "gpu", None)
    if g is None or getattr(dev, "vendor", None) != 0x10DE:
        return []
    q = lambda name: f"{DRIVER}/{name}"  # noqa: E731
    missing = list(g.missing)
    common: dict[str, Any] = {}

    def put(name: str, value, fact: str) -> None:
        if value is None or value == "":
            if fact not in missing:
                missing.append(fact)
            return
        common[q(name)] = value

    put("productName", g.product_name, "product name")
    put("brand", g.brand, "brand")
    put("architecture", g.architecture, "architecture")
    put("cudaComputeCapability", Version.from_text(g.compute_capability) if g.compute_capability else None,
        "compute capability")
    put("driverVersion", Version.from_text(g.driver_version) if g.driver_version else None, "driver version")
    cdv = cuda_driver_version_text(g.cuda_driver_version)
    put("cudaDriverVersion", Version.from_text(cdv) if cdv else None, "CUDA driver version")
    common[q("pcieBusID")] = pcie_bus_id(dev.address)
    # go-nvlib returns "" where NVML does not support the query; the driver publishes that ""
    if g.addressing_mode is None:
        missing.append("addressing mode")
    else:
        common[q("addressingMode")] = g.addressing_mode
    if dev.pcie_root:
        common[f"{DRA_DOMAIN}/pcieRoot"] = dev.pcie_root
    if g.minor is not None:
        base = f"gpu-{g.minor}"
    else:
        base = f"gpu-{g.index if g.index is not None else 0}"
        missing.append(f"minor number (named {base} after the NVML index)")
    mig_on = g.mig_mode is not None and g.mig_mode[0] == 1
    out = []
    if not mig_on:
        attrs = {q("type"): "gpu", **common}
        if g.uuid:
            attrs[q("uuid")] = g.uuid
        else:
            missing.append("uuid")
        cap = {q("memory"): g.memory_bytes} if g.memory_bytes else {}
        if not g.memory_bytes:
            missing.append("memory")
        out.append(DraDevice(base, DRIVER, str(dev.address), attrs, cap, missing))
        return out
    for m in g.mig_devices:
        if m.gi_profile_id is None or m.placement_start is None or m.placement_size is None:
            continue
        attrs = {q("type"): "mig", **common}
        if m.uuid:
            attrs[q("uuid")] = m.uuid
        if g.uuid:
            attrs[q("parentUUID")] = g.uuid
        if m.profile:
            attrs[q("profile")] = m.profile
        cap = {}
        for name, v in (("multiprocessors", m.multiprocessors), ("copyEngines", m.copy_engines),
                        ("decoders", m.decoders), ("encoders", m.encoders), ("jpegEngines", m.jpeg_engines),
                        ("ofaEngines", m.ofa_engines), ("memory", m.memory_bytes)):
            if v is not None:
                cap[q(name)] = v
        for i in range(m.placement_start, m.placement_start + m.placement_size):
            cap[q(f"memorySlice{i}")] = 1
        name = f"{base}-mig-{m.gi_profile_id}-{m.placement_start}-{m.placement_size}"
        out.append(DraDevice(name, DRIVER, str(dev.address), attrs, cap, list(missing)))
    return out
