"""Build synthetic sysfs/procfs trees from a compact description.

For what cannot happen on this machine (256 CPUs, 8 NUMA nodes, a GPU).
Numbering follows x86 Linux: CPU ids run over all cores first, then over
the second thread of each core (dual socket HT with 6 cores per socket:
core 0 is CPUs 0 and 12), unless ``numbering="compact"`` (threads of a
core adjacent: 0,1).

    root = build(tmp_path, sockets=2, cores=6, threads=2, numa_per_socket=1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _w(base: str, rel: str, text: str) -> None:
    p = os.path.join(base, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)


def _cpulist(cpus) -> str:
    from rmctl.cpuset import CpuSet

    return CpuSet(cpus).to_list()


@dataclass
class Device:
    """A PCI function for the synthetic tree."""

    address: str
    vendor: str = "0x10de"
    device: str = "0x2335"
    cls: str = "0x030200"
    numa_node: int = -1
    driver: str | None = None
    local_cpus: str | None = None  # cpulist; default: the node's CPUs or all
    extra: dict = field(default_factory=dict)  # more files: name -> text
    links: dict = field(default_factory=dict)  # symlinks in the device dir: name -> target (relative)
    path: str | None = None  # dir below sys/devices; default pci0000:00/<address>


def build(base, *, sockets: int = 1, cores: int = 4, threads: int = 2, numa_per_socket: int = 1,
          l3_per_socket: int = 1, numbering: str = "linux", node_memory: int = 16 << 30,
          offline=(), hugepages: dict | None = None, devices: list[Device] = (),
          cmdline: str = "BOOT_IMAGE=/vmlinuz root=/dev/sda1", isolated: str = "",
          present_extra: int = 0) -> str:
    """Write a tree under ``base`` and return its path (usable as ``--root``)."""
    base = os.fspath(base)
    ncores = sockets * cores
    ncpus = ncores * threads
    offline = set(offline)
    cpu_of: dict[tuple[int, int], int] = {}
    for g in range(ncores):
        for t in range(threads):
            cpu_of[(g, t)] = (t * ncores + g) if numbering == "linux" else (g * threads + t)
    all_cpus = sorted(cpu_of.values())
    online = [c for c in all_cpus if c not in offline]
    sysc = "sys/devices/system/cpu"
    _w(base, f"{sysc}/present", _cpulist(all_cpus) + "\n")
    _w(base, f"{sysc}/possible", _cpulist(range(ncpus + present_extra)) + "\n")
    _w(base, f"{sysc}/online", _cpulist(online) + "\n")
    _w(base, f"{sysc}/offline", _cpulist(sorted(offline)) + "\n")
    _w(base, f"{sysc}/isolated", isolated + "\n")
    nodes = sockets * numa_per_socket
    cores_per_node = cores // numa_per_socket
    node_cpus: dict[int, list[int]] = {n: [] for n in range(nodes)}
    l3_cpus: dict[int, list[int]] = {}
    for g in range(ncores):
        s, c = divmod(g, cores)
        node = s * numa_per_socket + c // cores_per_node
        l3 = s * l3_per_socket + c // (cores // l3_per_socket)
        sib = [cpu_of[(g, t)] for t in range(threads)]
        for t in range(threads):
            cpu = cpu_of[(g, t)]
            node_cpus[node].append(cpu)
            l3_cpus.setdefault(l3, []).append(cpu)
    pkg_cpus = {s: [cpu_of[(s * cores + c, t)] for c in range(cores) for t in range(threads)] for s in range(sockets)}
    for g in range(ncores):
        s, c = divmod(g, cores)
        sib = [cpu_of[(g, t)] for t in range(threads)]
        l3 = s * l3_per_socket + c // (cores // l3_per_socket)
        node = s * numa_per_socket + c // cores_per_node
        for t in range(threads):
            cpu = cpu_of[(g, t)]
            d = f"{sysc}/cpu{cpu}"
            _w(base, f"{d}/online", "0\n" if cpu in offline else "1\n")
            os.makedirs(os.path.join(base, f"{d}/node{node}"), exist_ok=True)
            if cpu in offline:
                continue
            on_sib = [x for x in sib if x not in offline]
            _w(base, f"{d}/topology/physical_package_id", f"{s}\n")
            _w(base, f"{d}/topology/core_id", f"{c}\n")
            _w(base, f"{d}/topology/die_id", "0\n")
            _w(base, f"{d}/topology/thread_siblings_list", _cpulist(on_sib) + "\n")
            _w(base, f"{d}/topology/core_cpus_list", _cpulist(on_sib) + "\n")
            _w(base, f"{d}/topology/core_siblings_list", _cpulist([x for x in pkg_cpus[s] if x not in offline]) + "\n")
            _w(base, f"{d}/topology/package_cpus_list", _cpulist([x for x in pkg_cpus[s] if x not in offline]) + "\n")
            for idx, (lvl, typ, size, shared) in enumerate([
                (1, "Data", "32K", on_sib), (1, "Instruction", "32K", on_sib),
                (2, "Unified", "1024K", on_sib),
                (3, "Unified", "32768K", [x for x in l3_cpus[l3] if x not in offline]),
            ]):
                cd = f"{d}/cache/index{idx}"
                _w(base, f"{cd}/level", f"{lvl}\n")
                _w(base, f"{cd}/type", f"{typ}\n")
                _w(base, f"{cd}/size", f"{size}\n")
                _w(base, f"{cd}/shared_cpu_list", _cpulist(shared) + "\n")
                if lvl == 3:
                    _w(base, f"{cd}/id", f"{l3}\n")
    hp = hugepages or {}
    sizes = hp.get("sizes", [2048, 1048576])
    for n in range(nodes):
        nd = f"sys/devices/system/node/node{n}"
        _w(base, f"{nd}/cpulist", _cpulist([c for c in node_cpus[n] if c not in offline]) + "\n")
        dist = " ".join("10" if m == n else ("11" if m // numa_per_socket == n // numa_per_socket else "21")
                        for m in range(nodes))
        _w(base, f"{nd}/distance", dist + "\n")
        free = node_memory - (1 << 30)
        _w(base, f"{nd}/meminfo", f"Node {n} MemTotal:       {node_memory // 1024} kB\n"
                                  f"Node {n} MemFree:        {free // 1024} kB\n"
                                  f"Node {n} MemUsed:        {(1 << 30) // 1024} kB\n")
        for kb in sizes:
            pd = f"{nd}/hugepages/hugepages-{kb}kB"
            nr = hp.get("per_node", {}).get((n, kb), 0)
            _w(base, f"{pd}/nr_hugepages", f"{nr}\n")
            _w(base, f"{pd}/free_hugepages", f"{nr}\n")
            _w(base, f"{pd}/surplus_hugepages", "0\n")
    _w(base, "sys/devices/system/node/online", _cpulist(range(nodes)) + "\n")
    _w(base, "sys/devices/system/node/possible", _cpulist(range(nodes)) + "\n")
    for kb in sizes:
        pd = f"sys/kernel/mm/hugepages/hugepages-{kb}kB"
        nr = sum(v for (n, k), v in hp.get("per_node", {}).items() if k == kb)
        for name, val in (("nr_hugepages", nr), ("free_hugepages", nr), ("resv_hugepages", 0),
                          ("surplus_hugepages", 0), ("nr_overcommit_hugepages", 0)):
            _w(base, f"{pd}/{name}", f"{val}\n")
    total = node_memory * nodes
    _w(base, "proc/meminfo", f"MemTotal:       {total // 1024} kB\nMemFree:        {(total - nodes * (1 << 30)) // 1024} kB\n"
                             f"MemAvailable:   {(total - nodes * (1 << 30)) // 1024} kB\n"
                             "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
                             "HugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n")
    _w(base, "proc/cmdline", cmdline + "\n")
    _w(base, "proc/mounts", "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                            "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n")
    _w(base, "proc/buddyinfo", "".join(f"Node {n}, zone   Normal " + " ".join(["100"] * 11) + "\n" for n in range(nodes)))
    _w(base, "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n")
    for dev in devices:
        dev_path = dev.path or f"pci0000:00/{dev.address}"
        dd = f"sys/devices/{dev_path}"
        _w(base, f"{dd}/vendor", dev.vendor + "\n")
        _w(base, f"{dd}/device", dev.device + "\n")
        _w(base, f"{dd}/class", dev.cls + "\n")
        _w(base, f"{dd}/subsystem_vendor", dev.vendor + "\n")
        _w(base, f"{dd}/subsystem_device", "0x0000\n")
        _w(base, f"{dd}/revision", "0xa1\n")
        _w(base, f"{dd}/numa_node", f"{dev.numa_node}\n")
        lc = dev.local_cpus
        if lc is None:
            lc = _cpulist(node_cpus[dev.numa_node]) if dev.numa_node >= 0 else _cpulist(online)
        _w(base, f"{dd}/local_cpulist", lc + "\n")
        for name, text in dev.extra.items():
            _w(base, f"{dd}/{name}", text)
        link_dir = os.path.join(base, "sys/bus/pci/devices")
        os.makedirs(link_dir, exist_ok=True)
        os.symlink(f"../../../devices/{dev_path}", os.path.join(link_dir, dev.address))
        for name, target in dev.links.items():
            os.makedirs(os.path.dirname(os.path.join(base, dd, name)), exist_ok=True)
            os.symlink(target, os.path.join(base, dd, name))
        if dev.driver:
            drv = os.path.join(base, f"sys/bus/pci/drivers/{dev.driver}")
            os.makedirs(drv, exist_ok=True)
            os.symlink(f"../../../bus/pci/drivers/{dev.driver}", os.path.join(base, dd, "driver"))
    return base
