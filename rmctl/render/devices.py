"""Devices for scripts (documents) and people (rich tables; rich imported lazily).

Documents: ``rmctl devices list -o json`` is kind ``DeviceList`` with
``devices`` (each item :meth:`rmctl.model.pci.PciDevice.to_data`), the
device ``findings`` and the ``source``; ``rmctl devices show ADDRESS`` is
kind ``Device`` with ``device``.
"""

from __future__ import annotations

from rmctl.model.record import asdict

from rmctl.model.node import Finding, NodeModel

#: finding codes that belong to device discovery
FINDING_PREFIXES = ("pci_", "nvml_", "net_", "nvme_")


def device_findings(node: NodeModel) -> list[Finding]:
    return [f for f in node.findings if f.code.startswith(FINDING_PREFIXES)]


def finding_data(f: Finding) -> dict:
    return {"code": f.code, "message": f.message, "path": f.path, "severity": f.severity}


def list_data(node: NodeModel, devices) -> dict:
    """Return the body of the DeviceList document."""
    return {
        "source": asdict(node.source),
        "devices": [d.to_data() for d in devices],
        "findings": [finding_data(f) for f in device_findings(node)],
    }


def show_data(node: NodeModel, dev) -> dict:
    """Return the body of the Device document."""
    return {"source": asdict(node.source), "device": dev.to_data()}


def link_text(dev) -> str:
    """Return "Gen5 x16" (max) with the current state when it is lower, or "-"."""
    ln = dev.link
    if ln.max_gts is None and ln.max_width is None:
        return "-"
    gen = ln.max_generation
    text = (f"Gen{gen}" if gen else (f"{ln.max_gts:g} GT/s" if ln.max_gts else "?")) + (f" x{ln.max_width}" if ln.max_width else "")
    if (ln.current_gts, ln.current_width) != (ln.max_gts, ln.max_width) and (ln.current_gts or ln.current_width):
        cg = ln.current_generation
        cur = (f"Gen{cg}" if cg else (f"{ln.current_gts:g} GT/s" if ln.current_gts else "?")) + (
            f" x{ln.current_width}" if ln.current_width else "")
        text += f" (now {cur})"
    return text


def detail_text(dev) -> str:
    """Return a short per-kind summary: interfaces, RDMA ports, NVMe, GPU memory, SR-IOV."""
    from rmctl.units import format_size

    bits: list[str] = []
    if dev.gpu is not None:
        g = dev.gpu
        if g.memory_bytes:
            bits.append(format_size(g.memory_bytes))
        if g.compute_capability:
            bits.append(f"cc {g.compute_capability}")
        if g.mig_mode is not None and g.mig_mode[0]:
            bits.append("MIG")
    for n in dev.net:
        s = n.name + (f" {n.speed_mbps}Mb/s" if n.speed_mbps else "") + (f" {n.operstate}" if n.operstate else "")
        bits.append(s)
    for r in dev.rdma:
        ports = ",".join(f"{p.port}:{p.state or '?'}" for p in r.ports)
        bits.append(f"{r.name} [{ports}]" if ports else r.name)
    for c in dev.nvme:
        bits.append(c.name + (" " + ",".join(ns.name for ns in c.namespaces) if c.namespaces else ""))
    if dev.block:
        bits.append(",".join(dev.block))
    if dev.drm:
        bits.append(",".join(dev.drm))
    role = dev.sriov.role
    if role == "pf":
        bits.append(f"PF {dev.sriov.num_vfs or 0}/{dev.sriov.total_vfs} VFs")
    elif role == "vf":
        bits.append(f"VF of {dev.sriov.physfn}")
    return "; ".join(bits)


def print_devices(con, devices, node: NodeModel, *, verbose: int = 0) -> None:
    """Print one row per device."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("address", "kind", "name", "driver", "numa", "local CPUs", "link", "detail"):
        t.add_column(col, justify="right" if col == "numa" else "left",
                     no_wrap=col in ("address", "kind", "driver", "numa"))
    for d in devices:
        t.add_row(str(d.address), d.kind, escape(d.name), escape(d.driver or "-"),
                  "-" if d.numa_node is None else str(d.numa_node),
                  "-" if d.local_cpus is None else (d.local_cpus.to_list() or "-"),
                  link_text(d), escape(detail_text(d)))
    if not devices:
        con.print("no PCI devices match")
    else:
        con.print(t)
    _print_findings(con, device_findings(node), verbose)


def _print_findings(con, findings, verbose: int) -> None:
    if not findings:
        return
    if verbose:
        for f in findings:
            from rich.markup import escape

            con.print(f"[dim]{f.severity}: {f.code}: {escape(f.message)}[/dim]", markup=True, highlight=False)
    else:
        con.print(f"[dim]{len(findings)} finding(s); -v shows them[/dim]")


def print_device(con, dev, node: NodeModel, *, verbose: int = 0) -> None:
    """Print everything known about one device as key/value rows, then the attribute map."""
    from rich.table import Table

    from rmctl.units import format_size

    s = Table(show_header=False, box=None, pad_edge=False)
    s.add_column(style="bold")
    s.add_column()
    rows = [
        ("Address", str(dev.address)),
        ("Name", dev.name),
        ("Kind", dev.kind + (f" (virtio {dev.virtio})" if dev.virtio else "")),
        ("Vendor", f"{dev.vendor_hex}" + (f"  {dev.vendor_name}" if dev.vendor_name else "")),
        ("Device", f"{dev.device_hex}" + (f"  {dev.device_name}" if dev.device_name else "")),
        ("Class", dev.class_hex),
    ]
    if dev.subsystem_vendor is not None:
        rows.append(("Subsystem", f"0x{dev.subsystem_vendor:04x}:0x{dev.subsystem_device or 0:04x}"
                     + (f"  {dev.subsystem_name}" if dev.subsystem_name else "")))
    if dev.revision is not None:
        rows.append(("Revision", f"0x{dev.revision:02x}"))
    if dev.label:
        rows.append(("Label", dev.label))
    rows += [
        ("Driver", dev.driver or "-"),
        ("NUMA node", "unknown (the kernel says -1)" if dev.numa_node is None else str(dev.numa_node)),
        ("Local CPUs", "-" if dev.local_cpus is None else (dev.local_cpus.to_list() or "-")),
        ("IOMMU group", "-" if dev.iommu_group is None else str(dev.iommu_group)),
        ("PCIe root", dev.pcie_root or "-"),
        ("Root port", dev.root_port or "-"),
        ("Upstream bridge", dev.parent or "-"),
        ("Link", link_text(dev)),
    ]
    sr = dev.sriov
    if sr.role == "pf":
        rows.append(("SR-IOV", f"PF: {sr.num_vfs or 0} of {sr.total_vfs} VFs enabled"
                     + (f" ({', '.join(sr.vfs)})" if sr.vfs else "")))
    elif sr.role == "vf":
        rows.append(("SR-IOV", f"VF of {sr.physfn}"))
    g = dev.gpu
    if g is not None:
        rows.append(("GPU", f"{g.product_name or '-'} (from {'NVML' if g.source == 'nvml' else 'snapshot facts'})"))
        if g.memory_bytes:
            rows.append(("GPU memory", f"{format_size(g.memory_bytes)} ({g.memory_bytes} bytes)"))
        for label, v in (("UUID", g.uuid), ("Compute capability", g.compute_capability),
                         ("Driver version", g.driver_version)):
            if v:
                rows.append((label, v))
        if g.mig_mode is not None:
            rows.append(("MIG mode", f"current {'on' if g.mig_mode[0] else 'off'}, "
                                     f"pending {'on' if g.mig_mode[1] else 'off'}"))
    for n in dev.net:
        rows.append((f"Interface {n.name}", f"MAC {n.mac or '-'}, "
                     + (f"{n.speed_mbps} Mb/s" if n.speed_mbps else "speed unknown")
                     + f", MTU {n.mtu if n.mtu is not None else '-'}, {n.operstate or '-'}"))
    for r in dev.rdma:
        for p in r.ports:
            rows.append((f"RDMA {r.name} port {p.port}",
                         f"{p.state or '-'} / {p.phys_state or '-'}, {p.link_layer or '-'}, {p.rate or '-'}"))
        if not r.ports:
            rows.append((f"RDMA {r.name}", "no ports"))
    for c in dev.nvme:
        rows.append((f"NVMe {c.name}", f"{c.model or '-'} (firmware {c.firmware or '-'})"))
        for ns in c.namespaces:
            rows.append((f"  namespace {ns.name}", format_size(ns.size_bytes) if ns.size_bytes else "-"))
    if dev.block:
        rows.append(("Block devices", ", ".join(dev.block)))
    if dev.drm:
        rows.append(("DRM", ", ".join(dev.drm)))
    from rich.markup import escape

    for k, v in rows:
        s.add_row(escape(k), escape(v))
    con.print(s)
    a = Table(title="Attributes", title_justify="left", box=None, pad_edge=False, header_style="bold")
    a.add_column("name")
    a.add_column("value")
    for k, v in sorted(dev.attributes.items()):
        a.add_row(escape(k), escape(str(v).lower() if isinstance(v, bool) else str(v)))
    for k, v in sorted(dev.capacity.items()):
        a.add_row(escape(f"{k} (capacity)"), str(v))
    con.print(a)
    _print_findings(con, [f for f in device_findings(node) if str(dev.address) in f.message
                          or (f.path or "").endswith(str(dev.address))], verbose)
