"""Assemble the NodeModel from the per-area readers."""

from __future__ import annotations

from rmctl import __version__
from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.cache import cpuinfo_caches, read_caches
from rmctl.discovery.cgroup import allowed_cpus
from rmctl.discovery.cpu import group_cores, group_packages, read_core_types, read_cpulist, read_cpus
from rmctl.discovery.memory import read_meminfo, read_mounts, read_pools, read_thp
from rmctl.discovery.numa import read_nodes
from rmctl.discovery.parse import cmdline_cpulist, cpuinfo_head, parse_cmdline, parse_cpuinfo_arch
from rmctl.discovery.root import Root
from rmctl.model.node import Finding, NodeModel, Source
from rmctl.model.topology import Core, Cpu, NumaNode, Package, Topology


def assemble(root: Root, *, devices: bool = False) -> NodeModel:
    findings: list[Finding] = []
    raw = read_cpus(root, findings)
    online = CpuSet(c.id for c in raw.values() if c.online)
    nodes_raw = read_nodes(root, online, findings)
    node_of = {c: n.id for n in nodes_raw.values() for c in n.cpus}
    cores_raw = group_cores(raw)
    core_of = {c: key for key, cs in cores_raw.items() for c in cs}
    pk_raw = group_packages(raw)
    pk_of = {c: key for key, (_, cs) in pk_raw.items() for c in cs}

    cmdline_text = root.read(paths.PROC_CMDLINE)
    cmdline = parse_cmdline(cmdline_text) if cmdline_text else {}
    isolated = read_cpulist(root, paths.CPU_ISOLATED, findings) or CpuSet()
    for v in cmdline.get("isolcpus", []):
        isolated |= cmdline_cpulist(v)
    # Older kernels print "(null)" in cpu/nohz_full when nohz_full= was
    # not given (a NULL tick_nohz_full_mask; the EPYC 7451 snapshot has it).
    nohz_text = root.read_strip(paths.CPU_NOHZ_FULL)
    nohz = CpuSet()
    if nohz_text and nohz_text != "(null)":
        nohz = read_cpulist(root, paths.CPU_NOHZ_FULL, findings) or CpuSet()
    for v in cmdline.get("nohz_full", []):
        nohz |= cmdline_cpulist(v)
    allowed = allowed_cpus(root, online, findings)
    core_types = read_core_types(root, raw, findings)

    cpus: dict[int, Cpu] = {}
    for c in raw.values():
        cpus[c.id] = Cpu(
            id=c.id, online=c.online, present=True,
            package=pk_of.get(c.id), package_id=c.package_id, die_id=c.die_id,
            cluster_id=c.cluster_id, core=core_of.get(c.id), core_id=c.core_id,
            node=node_of.get(c.id), siblings=c.siblings or CpuSet(),
            core_type=core_types.get(c.id), capacity=c.capacity,
            isolated=c.id in isolated, nohz_full=c.id in nohz,
            allowed=c.id in allowed,
        )
    cores = {
        key: Core(key=key, core_id=raw[key].core_id, package=pk_of.get(key), cpus=cs,
                  die_id=raw[key].die_id, cluster_id=raw[key].cluster_id,
                  core_type=core_types.get(key))
        for key, cs in sorted(cores_raw.items())
    }
    packages = {
        key: Package(key=key, package_id=rid, cpus=cs,
                     cores=tuple(k for k in cores if pk_of.get(k) == key))
        for key, (rid, cs) in sorted(pk_raw.items())
    }
    caches = read_caches(root, online, findings)
    facts = root.facts()
    arch = facts.get("arch")
    cpuinfo = None
    if arch is None or arch.startswith("s390"):
        cpuinfo = root.read(paths.PROC_CPUINFO)
    if arch is None:
        arch = infer_arch(root, cpuinfo, findings)
    if cpuinfo and (arch or "").startswith("s390"):
        caches = caches + cpuinfo_caches(cpuinfo, online, caches, findings)
    nodes = {
        n.id: NumaNode(id=n.id, cpus=n.cpus, memory_total=n.memory_total, memory_free=n.memory_free,
                       distances=n.distances, hugepages=n.hugepages)
        for n in nodes_raw.values()
    }
    memory = read_meminfo(root, findings)
    node_memory_check(nodes, memory.total, findings)
    pools = read_pools(root, paths.SYS_HUGEPAGES, None, findings)
    mounts = read_mounts(root, memory.hugepage_size, findings)
    source = Source(
        root=root.spec, live=root.is_live, kind=root.kind,
        kernel=facts.get("kernel"), arch=arch, page_size=facts.get("page_size"),
        captured_at=facts.get("captured_at"),
        rmctl_version=facts.get("rmctl_version", __version__ if root.is_live else None),
    )
    extra = {"thp": read_thp(root)}
    devs: tuple = ()
    if devices:
        # lazily: device discovery imports dataclasses and pci.ids parsing, which
        # the topology fast path (no devices) must not pay for (tests/test_imports.py)
        from rmctl.discovery.pci import read_devices

        devs = tuple(read_devices(root, findings))
    if root.nul_paths:
        findings.append(Finding("nul_bytes", f"NUL bytes stripped from {len(root.nul_paths)} file(s): "
                                + ", ".join(sorted(set(root.nul_paths))[:5]), root.nul_paths[0], "info"))
    return NodeModel(
        source=source,
        topology=Topology(cpus=cpus, cores=cores, packages=packages, nodes=nodes, caches=tuple(caches)),
        memory=memory, hugepages=tuple(pools), mounts=tuple(mounts),
        cmdline=cmdline_text.strip() if cmdline_text else None,
        devices=devs, findings=tuple(findings), extra=extra,
    )


def node_memory_check(nodes: dict, total: int | None, findings: list[Finding]) -> None:
    """Add a finding when the nodes' MemTotal sum is far (>10%) from proc/meminfo's MemTotal.

    Seen on Firecracker guests (kernel 6.18, the gpu-node and dev-vm
    fixtures and this VM): node0/meminfo says 4.3 GiB, proc/meminfo 125.9 GiB
    (numactl -H agrees with the node).  A warning: per-node plans (hugepages
    on node 0) see the smaller figure.
    Both numbers are the kernel's; the finding says which one each view shows.
    """
    sizes = [n.memory_total for n in nodes.values()]
    if not total or not sizes or any(s is None for s in sizes):
        return
    node_sum = sum(sizes)
    if abs(node_sum - total) * 10 > total:
        gib = 1 << 30
        findings.append(Finding(
            "node_memory_mismatch",
            f"NUMA nodes' MemTotal adds up to {node_sum / gib:.1f} GiB but proc/meminfo says "
            f"{total / gib:.1f} GiB (memory not attributed to a node): per-node figures are the "
            "nodes', the machine total is meminfo's", paths.PROC_MEMINFO, "warning"))


def infer_arch(root: Root, cpuinfo: str | None, findings: list[Finding]) -> str | None:
    """Return the architecture implied by ``proc/cpuinfo`` (no facts file), with a finding."""
    if not cpuinfo:
        findings.append(Finding("arch_unknown", "no facts file and no proc/cpuinfo: architecture unknown",
                                paths.PROC_CPUINFO, "info"))
        return None
    byteorder = None
    if any(line.startswith("cpu") and (rest := line[3:].lstrip()).startswith(":")
           and rest[1:].lstrip().startswith(("POWER", "PPC", "ppc"))
           for line in cpuinfo_head(cpuinfo).split("\n")):  # ^cpu\s*:\s*(POWER|PPC|ppc), by line
        byteorder = root.read_strip(paths.SYS_CPU_BYTEORDER)
    arch = parse_cpuinfo_arch(cpuinfo, byteorder)
    findings.append(Finding("arch_inferred",
                            f"architecture {arch or 'unknown'} inferred from proc/cpuinfo (no facts file)",
                            paths.PROC_CPUINFO, "info"))
    return arch
