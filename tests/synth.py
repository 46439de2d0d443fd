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

_made: set[str] = set()  # directories known to exist (4096-CPU trees write ~130,000 files)


def _w(base: str, rel: str, text: str) -> None:
    p = os.path.join(base, rel)
    d = os.path.dirname(p)
    if d not in _made:
        os.makedirs(d, exist_ok=True)
        _made.add(d)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


#: x86 flags of a recent server part (trimmed): what lscpu and arch inference read
_X86_FLAGS = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
              "sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc "
              "cpuid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes "
              "xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpb hw_pstate ssbd ibrs ibpb stibp vmmcall "
              "fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdt_a avx512f avx512dq rdseed adx smap clflushopt "
              "clwb sha_ni xsaveopt xsavec xgetbv1 xsaves")


def cpuinfo_x86(cpus: list[tuple[int, int, int, int]]) -> str:
    """Return an x86 ``proc/cpuinfo`` with one block per (cpu, package, core, siblings) row."""
    blocks = []
    for cpu, pkg, core, nsib in cpus:
        blocks.append(
            f"processor\t: {cpu}\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
            f"model name\t: Synthetic 4096-thread test part\nstepping\t: 1\ncpu MHz\t\t: 2400.000\n"
            f"cache size\t: 1024 KB\nphysical id\t: {pkg}\nsiblings\t: {nsib}\ncore id\t\t: {core}\n"
            f"cpu cores\t: {max(nsib // 2, 1)}\napicid\t\t: {cpu}\nfpu\t\t: yes\ncpuid level\t: 16\n"
            f"wp\t\t: yes\nflags\t\t: {_X86_FLAGS}\nbogomips\t: 4800.00\nclflush size\t: 64\n"
            "cache_alignment\t: 64\naddress sizes\t: 52 bits physical, 57 bits virtual\n"
            "power management: ts ttp tm hwpstate\n\n")
    return "".join(blocks)


def _cpulist(cpus) -> str:
    from rmctl.cpuset import CpuSet

    return CpuSet(cpus).to_list()


def _cpumask(cpus, width: int) -> str:
    from rmctl.cpuset import CpuSet

    return CpuSet(cpus).to_mask(min_words=(width + 31) // 32)


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
          present_extra: int = 0, lscpu: bool = False) -> str:
    """Write a tree under ``base`` and return its path (usable as ``--root``).

    ``lscpu=True`` adds what ``lscpu --sysroot`` needs besides the cpulists
    rmctl reads: an x86 ``proc/cpuinfo`` (one block per online CPU, from
    which rmctl then infers the architecture: the tree has no facts file),
    ``cpu/kernel_max`` and the hex-mask twin of every cpulist
    (``thread_siblings``, ``core_siblings``, ``shared_cpu_map``, node
    ``cpumap``), as a kernel writes both.
    """
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
    width = ncpus + present_extra  # masks are nr_cpu_ids bits wide
    if lscpu:
        _w(base, f"{sysc}/kernel_max", f"{max(width, 64) - 1}\n")
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
            if lscpu:
                pk_on = [x for x in pkg_cpus[s] if x not in offline]
                for name, members in (("thread_siblings", on_sib), ("core_cpus", on_sib),
                                      ("core_siblings", pk_on), ("package_cpus", pk_on)):
                    _w(base, f"{d}/topology/{name}", _cpumask(members, width) + "\n")
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
                if lscpu:
                    _w(base, f"{cd}/shared_cpu_map", _cpumask(shared, width) + "\n")
                if lvl == 3:
                    _w(base, f"{cd}/id", f"{l3}\n")
    hp = hugepages or {}
    sizes = hp.get("sizes", [2048, 1048576])
    for n in range(nodes):
        nd = f"sys/devices/system/node/node{n}"
        _w(base, f"{nd}/cpulist", _cpulist([c for c in node_cpus[n] if c not in offline]) + "\n")
        if lscpu:
            _w(base, f"{nd}/cpumap", _cpumask([c for c in node_cpus[n] if c not in offline], width) + "\n")
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
    if lscpu:
        rows = []
        for g in range(ncores):
            s_, c_ = divmod(g, cores)
            for t in range(threads):
                if cpu_of[(g, t)] not in offline:
                    rows.append((cpu_of[(g, t)], s_, c_, cores * threads))
        _w(base, "proc/cpuinfo", cpuinfo_x86(sorted(rows)))
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


# -- the kubelet's checkpoints ------------------------------------------------

def write_kubelet(base, *, kubelet_root: str = "var/lib/kubelet", cpu: dict | None = None,
                  memory: dict | None = None, devices: dict | None = None, dra: dict | None = None) -> dict:
    """Write the kubelet's checkpoints under ``base``, each with its real checksum; return their paths.

    cpu: {"policy", "default" (cpulist), "entries": {uid: {container: cpulist}}}
    memory: {"policy", "machine": {node: {resource: (total, systemReserved, allocatable, reserved, free)}},
             "assignments": {node: n}, "entries": {uid: {container: [(nodes, resource, size)]}}}
    devices: {"entries": [(uid, container, resource, {node: [ids]})], "registered": {resource: [ids]}}
    dra: {"claims": [(claim uid, name, namespace, [pod uids], [(driver, pool, device)])]}
    The checksums come from rmctl's encoder, which tests/kubelet checks
    against the kubelet's own samples.
    """
    from rmctl.discovery.kubelet import cpu_manager, device_manager, memory_manager
    from rmctl.discovery.kubelet import dra as dra_mod

    base = os.fspath(base)
    kr = kubelet_root.strip("/")
    out = {}
    if cpu is not None:
        go = {"PolicyName": cpu.get("policy", "static"), "DefaultCPUSet": cpu["default"],
              "Entries": {u: dict(c) for u, c in cpu.get("entries", {}).items()}, "Checksum": 0}
        out["cpu"] = f"{kr}/cpu_manager_state"
        _w(base, out["cpu"], cpu_manager.dump("v2", go))
    if memory is not None:
        machine = {}
        for node, tables in memory.get("machine", {}).items():
            machine[node] = {
                "NumberOfAssignments": memory.get("assignments", {}).get(node, 0),
                "MemoryMap": {r: dict(zip(("TotalMemSize", "SystemReserved", "Allocatable", "Reserved", "Free"), t, strict=True))
                              for r, t in tables.items()},
                "Cells": [node]}
        entries = {u: {c: [{"NUMAAffinity": list(n), "Type": r, "Size": s} for n, r, s in blocks]
                       for c, blocks in cs.items()} for u, cs in memory.get("entries", {}).items()}
        go = {"PolicyName": memory.get("policy", "Static"), "MachineState": machine, "Entries": entries,
              "Checksum": 0}
        out["memory"] = f"{kr}/memory_manager_state"
        _w(base, out["memory"], memory_manager.dump("v1", go))
    if devices is not None:
        entries = [{"PodUID": u, "ContainerName": c, "ResourceName": r,
                    "DeviceIDs": {int(n): list(ids) for n, ids in per_node.items()}, "AllocResp": None}
                   for u, c, r, per_node in devices.get("entries", ())]
        go = {"Data": {"PodDeviceEntries": entries or None,
                       "RegisteredDevices": {r: list(ids) for r, ids in devices.get("registered", {}).items()}},
              "Checksum": 0, "BootID": ""}
        out["devices"] = "var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"
        _w(base, out["devices"], device_manager.dump("v2", go))
    if dra is not None:
        claims = []
        for uid, name, ns, pods, devs in dra.get("claims", ()):
            by_driver: dict = {}
            for driver, pool, dev in devs:
                by_driver.setdefault(driver, {"Devices": []})["Devices"].append(
                    {"PoolName": pool, "DeviceName": dev, "RequestNames": ["req"], "CDIDeviceIDs": None})
            claims.append({"ClaimUID": uid, "ClaimName": name, "Namespace": ns,
                           "PodUIDs": {p: {} for p in pods}, "DriverState": by_driver})
        out["dra"] = f"{kr}/dra_manager_state"
        _w(base, out["dra"], dra_mod.dump({"Kind": dra_mod.KIND, "APIVersion": dra_mod.API_VERSION,
                                           "Entries": claims}))
    return out


#: the acceptance scenario of issue #16: static CPU policy with two
#: Guaranteed pods, the Memory Manager's Static policy, a device-plugin GPU
POD_WEB = "6f1c1f9e-2c4b-4d5e-9a1b-0d3e5f7a9c11"
POD_SOLVER = "a2b3c4d5-e6f7-4a8b-9c0d-1e2f3a4b5c6d"
GPU_ID = "GPU-3b7d2f6e-91a4-4c1e-8f2a-5d6c7b8a9e01"
GPU_ADDRESS = "0000:3b:00.0"
_GiB = 1 << 30


def kubelet_scenario(base) -> dict:
    """Build a 2-socket, 16-CPU node with a GPU on node 0 and a kubelet holding parts of it.

    CPUs (x86 numbering, 4 cores x 2 threads per socket): node 0 is 0-3,8-11,
    node 1 is 4-7,12-15.  reservedSystemCPUs 0,8 (core 0).  Pod default/web-0
    container app: CPUs 1-2,9-10, 1 GiB memory and 512 MiB of 2 MiB pages on
    node 0, the GPU.  Pod batch/solver: worker 4-5,12-13 with 2 GiB on node 1,
    sidecar 6,14.  The shared pool is 0,3,7-8,11,15.  Returns what the
    kubelet holds and what the PodResources API should say.
    """
    root = build(base, sockets=2, cores=4, threads=2, numa_per_socket=1,
                 hugepages={"sizes": [2048], "per_node": {(0, 2048): 512}},
                 devices=[Device(address=GPU_ADDRESS, numa_node=0, driver="nvidia")])
    node_mem = 16 << 30
    hp0 = 512 * (2 << 20)
    machine = {
        0: {"memory": (node_mem, _GiB, node_mem - _GiB - hp0, _GiB, node_mem - 2 * _GiB - hp0),
            "hugepages-2Mi": (hp0, 0, hp0, hp0 // 2, hp0 // 2)},
        1: {"memory": (node_mem, _GiB, node_mem - _GiB, 2 * _GiB, node_mem - 3 * _GiB),
            "hugepages-2Mi": (0, 0, 0, 0, 0)},
    }
    paths = write_kubelet(
        root,
        cpu={"policy": "static", "default": "0,3,7-8,11,15",
             "entries": {POD_WEB: {"app": "1-2,9-10"}, POD_SOLVER: {"worker": "4-5,12-13", "sidecar": "6,14"}}},
        memory={"policy": "Static", "machine": machine, "assignments": {0: 2, 1: 1},
                "entries": {POD_WEB: {"app": [((0,), "memory", _GiB), ((0,), "hugepages-2Mi", hp0 // 2)]},
                            POD_SOLVER: {"worker": [((1,), "memory", 2 * _GiB)]}}},
        devices={"entries": [(POD_WEB, "app", "nvidia.com/gpu", {0: [GPU_ID]})],
                 "registered": {"nvidia.com/gpu": [GPU_ID]}},
    )
    api = {
        "pods": [
            {"namespace": "default", "name": "web-0", "containers": [
                {"name": "app", "cpu_ids": [1, 2, 9, 10],
                 "devices": [{"resource_name": "nvidia.com/gpu", "device_ids": [GPU_ID], "nodes": [0]}],
                 "memory": [{"memory_type": "memory", "size": _GiB, "nodes": [0]},
                            {"memory_type": "hugepages-2Mi", "size": hp0 // 2, "nodes": [0]}]}]},
            {"namespace": "batch", "name": "solver", "containers": [
                {"name": "worker", "cpu_ids": [4, 5, 12, 13],
                 "memory": [{"memory_type": "memory", "size": 2 * _GiB, "nodes": [1]}]},
                {"name": "sidecar", "cpu_ids": [6, 14]}]},
            {"namespace": "kube-system", "name": "coredns", "containers": [{"name": "coredns"}]},
        ],
        "allocatable": {"cpu_ids": [c for c in range(16) if c not in (0, 8)],
                        "devices": [{"resource_name": "nvidia.com/gpu", "device_ids": [GPU_ID], "nodes": [0]}],
                        "memory": [{"memory_type": "memory", "size": node_mem - _GiB - hp0, "nodes": [0]},
                                   {"memory_type": "memory", "size": node_mem - _GiB, "nodes": [1]},
                                   {"memory_type": "hugepages-2Mi", "size": hp0, "nodes": [0]}]},
    }
    return {"root": root, "paths": paths, "api": api, "reserved": "0,8",
            "exclusive": "1-2,4-6,9-10,12-14", "shared": "0,3,7-8,11,15",
            "names": {POD_WEB: ("default", "web-0"), POD_SOLVER: ("batch", "solver")}}
