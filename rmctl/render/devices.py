"""Devices for scripts (documents) and people (rich tables; rich imported lazily).

Documents: ``rmctl devices list -o json`` is kind ``DeviceList`` with
``devices`` (each item :meth:`rmctl.model.pci.PciDevice.to_data`), the
device ``findings`` and the ``source``; ``rmctl devices show ADDRESS`` is
kind ``Device`` with ``device``.
"""

from __future__ import annotations

import re

from rmctl.model.node import Finding, NodeModel
from rmctl.model.pci import attribute_type
from rmctl.model.record import asdict
from rmctl.units import counted, format_size

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


#: the list table's columns, and the order they give way in when the terminal is narrow
LIST_COLUMNS = ("address", "kind", "name", "driver", "numa", "local CPUs", "link", "detail")


# corporate words that say nothing about the device, cut from vendor names in a narrow table
_VENDOR_TAIL = re.compile(r"(,? (Inc\b|Corporation|Corp\b|Co\.?,? Ltd|Technologies|Limited|Ltd\b|GmbH|"
                          r"Semiconductor|Electronics|and subsidiaries)).*$")


def short_vendor(name: str) -> str:
    """Return a vendor name as people say it: "Intel Corporation" -> "Intel",
    "Advanced Micro Devices, Inc. [AMD]" -> "AMD" (pci.ids' own short form in brackets)."""
    m = re.search(r"\[([^\]]+)\]\s*$", name)
    if m:
        return m.group(1)
    return _VENDOR_TAIL.sub("", name).strip() or name


def short_name(dev) -> str:
    """Return the device's name with its vendor shortened (:func:`short_vendor`), for narrow tables."""
    if (dev.gpu is None or not dev.gpu.product_name) and dev.vendor_name:
        return dev.name.replace(dev.vendor_name, short_vendor(dev.vendor_name), 1)
    return dev.name


def list_rows(devices, *, short: bool = False) -> list[tuple[str, ...]]:
    """Return the list table's cells, one tuple per device, in LIST_COLUMNS order (plain text).

    ``short``: vendor names shortened (a narrow terminal).
    """
    return [(str(d.address), d.kind, short_name(d) if short else d.name, d.driver or "-",
             "-" if d.numa_node is None else str(d.numa_node),
             "-" if d.local_cpus is None else (d.local_cpus.to_list() or "-"),
             link_text(d), detail_text(d)) for d in devices]


def narrow_columns(rows, width: int) -> tuple[str, ...]:
    """Return the columns to show so that the table fits ``width`` terminal cells.

    Every column when it fits.  Otherwise, in this order, until the fixed
    columns leave the name and detail 20 cells each: a column with nothing
    but "-" goes; then ``link`` (``devices show`` has it); then ``local
    CPUs`` when every device's NUMA node is known (the node says where it
    is), or ``numa`` when none is (the CPUs say it).  Address, kind, name,
    driver and detail always stay; names and details wrap, addresses never.
    """
    from rich.cells import cell_len

    cols = list(LIST_COLUMNS)
    widths = {c: max([cell_len(c)] + [cell_len(r[i]) for r in rows]) for i, c in enumerate(LIST_COLUMNS)}
    dashes = {c for i, c in enumerate(LIST_COLUMNS) if rows and all(r[i] == "-" for r in rows)}

    def need(cs, flexible: bool) -> int:
        return sum(min(widths[c], 20) if flexible and c in ("name", "detail") else widths[c] for c in cs) \
            + 2 * (len(cs) - 1)

    if need(cols, False) <= width:
        return tuple(cols)
    cols = [c for c in cols if c not in dashes or c not in ("link", "local CPUs", "numa")]
    if "link" in cols and need(cols, False) > width:
        cols.remove("link")
    if need(cols, True) > width:
        drop = "local CPUs" if "numa" not in dashes else "numa"
        if drop in cols and len({"numa", "local CPUs"} & set(cols)) == 2:
            cols.remove(drop)
    return tuple(cols)


def print_devices(con, devices, node: NodeModel, *, verbose: int = 0) -> None:
    """Print one row per device, dropping low-value columns on a narrow terminal (:func:`narrow_columns`)."""
    from rich.markup import escape
    from rich.table import Table

    if not devices:
        con.print("no PCI devices match")
        _print_findings(con, device_findings(node), verbose)
        return
    rows = list_rows(devices)
    cols = narrow_columns(rows, con.width)
    if cols != LIST_COLUMNS:
        rows = list_rows(devices, short=True)
    idx = [LIST_COLUMNS.index(c) for c in cols]
    t = Table(box=None, pad_edge=False, header_style="bold")
    for col in cols:
        t.add_column(col, justify="right" if col == "numa" else "left",
                     no_wrap=col in ("address", "kind", "driver", "numa", "local CPUs"),
                     overflow="fold", min_width=16 if col == "name" else None,
                     ratio={"name": 3, "detail": 2}.get(col))
    for r in rows:
        t.add_row(*(escape(r[i]) for i in idx))
    con.print(t)
    left = [c for c in LIST_COLUMNS if c not in cols]
    if left:
        con.print(f"[dim]not shown in {con.width} columns: {', '.join(left)} (see devices show ADDRESS)[/dim]",
                  highlight=False)
    _print_findings(con, device_findings(node), verbose)


def _print_findings(con, findings, verbose: int) -> None:
    if not findings:
        return
    if verbose:
        for f in findings:
            from rich.markup import escape

            con.print(f"[dim]{f.severity}: {f.code}: {escape(f.message)}[/dim]", markup=True, highlight=False)
    else:
        con.print(f"[dim]{counted(len(findings), 'finding')}; -v shows them[/dim]")


def _numa_text(dev, node: NodeModel) -> str:
    """Return the NUMA row: the kernel's node, or "unknown" with the nodes the local CPUs cover."""
    if dev.numa_node is not None:
        return str(dev.numa_node)
    text = "unknown (the kernel says -1)"
    nodes = dev.local_nodes(node.topology.nodes) if node.topology is not None else ()
    if nodes:
        text += f"; its local CPUs cover node{'s' if len(nodes) > 1 else ''} {','.join(map(str, nodes))}"
    return text


def print_device(con, dev, node: NodeModel, *, verbose: int = 0) -> None:
    """Print everything known about one device as key/value rows, then the attribute map."""
    from rich.table import Table

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
        sub_names = " ".join(n for n in (dev.subsystem_vendor_name, dev.subsystem_name) if n)
        rows.append(("Subsystem", f"0x{dev.subsystem_vendor:04x}:0x{dev.subsystem_device or 0:04x}"
                     + (f"  {sub_names}" if sub_names else "")))
    if dev.revision is not None:
        rows.append(("Revision", f"0x{dev.revision:02x}"))
    if dev.label:
        rows.append(("Label", dev.label))
    rows += [
        ("Driver", dev.driver or "-"),
        ("NUMA node", _numa_text(dev, node)),
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
    a = Table(title="Attributes (DRA types; capacity in bytes or bit/s)", title_justify="left", box=None,
              pad_edge=False, header_style="bold")
    a.add_column("name", no_wrap=True)
    a.add_column("type", no_wrap=True)
    a.add_column("value", overflow="fold")
    for k, v in sorted(dev.attributes.items()):
        a.add_row(escape(k), attribute_type(v), escape(str(v).lower() if isinstance(v, bool) else str(v)))
    for k, v in sorted(dev.capacity.items()):
        a.add_row(escape(k), "capacity", str(v))
    con.print(a)
    _print_findings(con, [f for f in device_findings(node) if str(dev.address) in f.message
                          or (f.path or "").endswith(str(dev.address))], verbose)
