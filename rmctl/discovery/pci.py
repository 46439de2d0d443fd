"""PCI functions from ``sys/bus/pci/devices`` (kernel Documentation/ABI/testing/sysfs-bus-pci).

One walk of the bus directory: ids, class and kind, driver, NUMA node and
local CPUs, IOMMU group, SR-IOV, PCIe link, where the function hangs in
the PCI tree (from the real path of its link under sys/devices), per-kind
detail (network interfaces, RDMA ports, NVMe controllers, DRM cards), names
from pci.ids, NVML facts for NVIDIA GPUs, and the DRA-style attribute and
capacity maps.  ``config`` files are never opened: on VMs each read traps
to the hypervisor, and everything needed is in the attribute files.
"""

from __future__ import annotations

import os
import re

from rmctl.discovery import paths
from rmctl.discovery.cpu import read_cpumask_or_list
from rmctl.discovery.netdev import read_net, read_rdma
from rmctl.discovery.nvme import read_nvme
from rmctl.discovery.pciids import PciNames, names_fact
from rmctl.model.node import Finding
from rmctl.model.pci import (
    GpuInfo,
    NetInterface,
    NvmeController,
    PciAddress,
    PciDevice,
    PciLink,
    RdmaDevice,
    Sriov,
    build_attributes,
    class_kind,
    virtio_type,
)
from rmctl.model.record import replace

NVIDIA = 0x10DE
_GTS_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*GT/s")


def read_devices(root, findings: list[Finding]) -> list[PciDevice]:
    """Return every PCI function under ``root``, ordered by address.

    Unreadable functions are skipped with a finding; nothing here raises
    for one bad device.  NVIDIA GPUs get NVML detail on the live root, or
    the snapshot's recorded NVML facts (facts file key ``nvml``).
    """
    devices: list[PciDevice] = []
    for name in root.listdir(paths.SYS_PCI_DEVICES):
        addr = PciAddress.try_parse(name)
        if addr is None:
            findings.append(Finding("pci_bad_address", f"{name!r} in {paths.SYS_PCI_DEVICES} is not a PCI address",
                                    paths.SYS_PCI_DEVICES))
            continue
        dev = read_device(root, name, addr, findings)
        if dev is not None:
            devices.append(dev)
    devices.sort(key=lambda d: d.address)
    if not devices:
        return devices
    devices = _add_names(root, devices)
    devices = _add_gpu_facts(root, devices, findings)
    out = []
    for d in devices:
        attrs, cap = build_attributes(d)
        out.append(replace(d, attributes=attrs, capacity=cap))
    return out


def _hex(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def _link_name(root, rel: str) -> str | None:
    target = root.readlink(rel)
    return os.path.basename(target.rstrip("/")) if target else None


def _speed(text: str | None) -> tuple[str | None, float | None]:
    """Return (text, GT/s) of a ``*_link_speed`` file ("32.0 GT/s PCIe"; "Unknown" -> None)."""
    if not text or text.lower().startswith("unknown"):
        return None, None
    m = _GTS_RE.search(text)
    return text, float(m.group(1)) if m else None


def _width(text: str | None) -> int | None:
    try:
        w = int((text or "").lstrip("x"))
    except ValueError:
        return None
    return w if w > 0 else None  # 0: link down or unknown


def read_link(root, rel: str) -> PciLink:
    """Return the PCIe link of the function at ``rel`` (conventional PCI: all None)."""
    cs, cg = _speed(root.read_strip(f"{rel}/current_link_speed"))
    ms, mg = _speed(root.read_strip(f"{rel}/max_link_speed"))
    return PciLink(current_speed=cs, current_gts=cg, current_width=_width(root.read_strip(f"{rel}/current_link_width")),
                   max_speed=ms, max_gts=mg, max_width=_width(root.read_strip(f"{rel}/max_link_width")))


def read_sriov(root, rel: str, entries: list[str]) -> Sriov:
    """Return SR-IOV facts: a PF's total/enabled VFs and VF links, or a VF's PF."""
    vfs = sorted((e for e in entries if e.startswith("virtfn") and e[6:].isdigit()), key=lambda e: int(e[6:]))
    return Sriov(
        total_vfs=root.read_int(f"{rel}/sriov_totalvfs") if "sriov_totalvfs" in entries else None,
        num_vfs=root.read_int(f"{rel}/sriov_numvfs") if "sriov_numvfs" in entries else None,
        vfs=tuple(n for n in (_link_name(root, f"{rel}/{e}") for e in vfs) if n),
        physfn=_link_name(root, f"{rel}/physfn") if "physfn" in entries else None,
    )


def hierarchy(real: str | None) -> tuple[str | None, str | None, str | None]:
    """Return (pcie_root, root_port, parent) from a function's real sysfs path.

    ``sys/devices/pci0000:17/0000:17:00.0/0000:18:00.0/0000:1a:00.0`` gives
    pcie_root ``pci0000:17`` (the host bridge: DRA's
    resource.kubernetes.io/pcieRoot is this first directory under
    sys/devices, k8s.io/dynamic-resource-allocation/deviceattribute),
    root_port ``0000:17:00.0`` (the topmost function below it) and parent
    ``0000:18:00.0``.  A function on the root bus has neither port nor parent.
    """
    if not real:
        return None, None, None
    parts = real.strip("/").split("/")
    if parts[:2] != ["sys", "devices"] or len(parts) < 4 or not parts[2].startswith("pci"):
        return None, None, None
    chain = [p for p in parts[3:-1] if ":" in p and PciAddress.try_parse(p) is not None]
    return parts[2], (chain[0] if chain else None), (chain[-1] if chain else None)


def read_device(root, name: str, addr: PciAddress, findings: list[Finding]) -> PciDevice | None:
    """Return one function from ``sys/bus/pci/devices/<name>``, or None (with a finding)."""
    rel = paths.pci_device(name)
    ids = {f: root.read_strip(f"{rel}/{f}") for f in paths.PCI_ID_FILES}
    vendor, device, cls = _hex(ids["vendor"]), _hex(ids["device"]), _hex(ids["class"])
    if vendor is None or device is None or cls is None:
        findings.append(Finding("pci_unreadable", f"PCI {addr}: vendor, device or class unreadable; skipped", rel))
        return None
    entries = root.listdir(rel)
    numa = root.read_int(f"{rel}/numa_node")
    local = read_cpumask_or_list(root, f"{rel}/local_cpulist", f"{rel}/local_cpus", findings)
    group = _link_name(root, f"{rel}/iommu_group") if "iommu_group" in entries else None
    real = root.realpath(rel)
    pcie_root, root_port, parent = hierarchy(real)
    if real and pcie_root is None:
        findings.append(Finding("pci_no_hierarchy", f"PCI {addr}: {rel} does not lead under sys/devices/pci*; "
                                                    "no PCIe root known", rel, severity="info"))
    kind = class_kind(cls)
    label = root.read_strip(f"{rel}/{paths.PCI_LABEL_FILE}") if paths.PCI_LABEL_FILE in entries else None
    net: tuple[NetInterface, ...] = ()
    rdma: tuple[RdmaDevice, ...] = ()
    nvme: tuple[NvmeController, ...] = ()
    block: tuple[str, ...] = ()
    # virtio-pci functions carry their interface one level down: <dev>/virtioN/net/eth0
    subdirs = [rel] + [f"{rel}/{e}" for e in entries if e.startswith("virtio") and e[6:].isdigit()]
    for sub in subdirs:
        sub_entries = entries if sub == rel else root.listdir(sub)
        if "net" in sub_entries:
            net += read_net(root, sub)
        if sub != rel and "block" in sub_entries:
            block += tuple(root.listdir(f"{sub}/block"))
    if "infiniband" in entries:
        rdma = read_rdma(root, rel)
    if "nvme" in entries:
        nvme = read_nvme(root, rel)
    drm = tuple(root.listdir(f"{rel}/drm")) if "drm" in entries else ()
    return PciDevice(
        address=addr, vendor=vendor, device=device, class_code=cls, kind=kind,
        subsystem_vendor=_hex(ids["subsystem_vendor"]), subsystem_device=_hex(ids["subsystem_device"]),
        revision=_hex(ids["revision"]),
        driver=_link_name(root, f"{rel}/driver") if "driver" in entries else None,
        # the kernel's -1 (NUMA_NO_NODE) means unknown: never "node -1"
        numa_node=numa if numa is not None and numa >= 0 else None,
        local_cpus=local,
        iommu_group=int(group) if group and group.isdigit() else None,
        sriov=read_sriov(root, rel, entries),
        link=read_link(root, rel),
        pcie_root=pcie_root, root_port=root_port, parent=parent,
        sysfs_path=real,
        label=label or None,
        net=net, rdma=rdma, nvme=nvme, drm=drm, block=block, virtio=virtio_type(vendor, device),
    )


def _add_names(root, devices: list[PciDevice]) -> list[PciDevice]:
    names = PciNames(root, [(d.vendor, d.device, d.subsystem_vendor, d.subsystem_device) for d in devices])
    out = []
    for d in devices:
        vn, dn, sn = names.lookup((d.vendor, d.device, d.subsystem_vendor, d.subsystem_device))
        out.append(replace(d, vendor_name=vn, device_name=dn, subsystem_name=sn,
                                       subsystem_vendor_name=names.vendor(d.subsystem_vendor or None)))
    return out


def _add_gpu_facts(root, devices: list[PciDevice], findings: list[Finding]) -> list[PciDevice]:
    nvidia = [d for d in devices if d.vendor == NVIDIA and d.kind in ("gpu", "accel")]
    if not nvidia:
        return devices
    from rmctl.discovery import nvml

    if root.is_live:
        facts, source = nvml.collect(findings), "nvml"
    else:
        facts, source = root.facts().get(nvml.FACT_KEY), "facts"
        if facts is None:
            findings.append(Finding("nvml_no_facts", "the snapshot has no NVML facts: GPU detail from sysfs only",
                                    severity="info"))
    infos: dict[PciAddress, GpuInfo] = nvml.gpu_infos(facts, source, findings)
    if facts is not None:
        for d in nvidia:
            if d.kind == "gpu" and d.address not in infos:
                findings.append(Finding("nvml_missing_gpu", f"NVML does not report GPU {d.address}",
                                        paths.pci_device(str(d.address))))
    return [replace(d, gpu=infos[d.address]) if d.address in infos else d for d in devices]


def snapshot_facts(root) -> dict:
    """Return the device facts ``rmctl snapshot capture`` stores in the facts file.

    ``nvml``: NVML facts when NVIDIA GPUs are present and NVML answers
    (live root only); ``pci_names``: the pci.ids names of the ids present,
    so a snapshot without pci.ids shows the same names.
    """
    findings: list[Finding] = []
    out: dict = {}
    entries: list[tuple[int, int, int, int | None, int | None]] = []
    for name in root.listdir(paths.SYS_PCI_DEVICES):
        addr = PciAddress.try_parse(name)
        if addr is None:
            continue
        rel = paths.pci_device(name)
        vendor, device, cls, sub_vendor, sub_device = (_hex(root.read_strip(f"{rel}/{f}"))
                                                       for f in paths.PCI_ID_FILES[:5])
        if vendor is None or device is None or cls is None:
            continue
        entries.append((vendor, device, cls, sub_vendor, sub_device))
    if not entries:
        return out
    names = names_fact(root, [(v, d, sv, sd) for v, d, _c, sv, sd in entries])
    if names:
        out["pci_names"] = names
    if root.is_live and any(v == NVIDIA and (c >> 16) in (0x03, 0x12) for v, _d, c, _sv, _sd in entries):
        from rmctl.discovery import nvml

        facts = nvml.collect(findings)
        if facts is not None:
            out[nvml.FACT_KEY] = facts
    return out
