"""CPUs, cores and packages from ``sys/devices/system/cpu``.

Sources, in order of trust (kernel Documentation/ABI/stable/sysfs-devices-system-cpu,
Documentation/admin-guide/cputopology.rst):

* ``cpu/present`` names the CPUs that exist; ``cpu/possible`` can be larger
  (hotplug slots) and is ignored.  Old snapshots have neither file: then the
  ``cpuN`` directories are the CPUs.
* ``cpu/online``, else each ``cpuN/online`` (missing or empty means online:
  cpu0 usually has no ``online`` file, and every one is empty on the
  128-CPU Itanium snapshot).
* ``cpuN/topology/`` exists only for online CPUs.  ``core_id`` repeats
  across packages and inside dies, so cores are built from
  ``thread_siblings_list``; ``physical_package_id`` can be -1 (s390, POWER)
  and packages then come from ``core_siblings_list``.
"""

from __future__ import annotations

import re

from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.root import Root
from rmctl.errors import ParseError
from rmctl.model.node import Finding

_CPU_DIR = re.compile(r"^cpu(\d+)$")


class RawCpu:
    """Mutable scratch record used while reading; turned into model.Cpu later."""

    __slots__ = ("id", "online", "package_id", "die_id", "cluster_id", "core_id",
                 "siblings", "package_cpus", "capacity", "core_type")

    def __init__(self, cpu: int, online: bool):
        self.id = cpu
        self.online = online
        self.package_id: int | None = None
        self.die_id: int | None = None
        self.cluster_id: int | None = None
        self.core_id: int | None = None
        self.siblings: CpuSet | None = None
        self.package_cpus: CpuSet | None = None
        self.capacity: int | None = None
        self.core_type: str | None = None


def read_cpulist(root: Root, rel: str, findings: list[Finding]) -> CpuSet | None:
    """Return the cpulist in ``rel``, None when missing; garbage becomes a finding."""
    text = root.read(rel)
    if text is None:
        return None
    try:
        return CpuSet.parse(text)
    except ParseError as e:
        findings.append(Finding("bad_cpulist", f"{rel}: {e}", rel))
        return None


def read_cpus(root: Root, findings: list[Finding]) -> dict[int, RawCpu]:
    """Return every present CPU with its online flag and topology ids."""
    dirs = sorted(int(m.group(1)) for n in root.listdir(paths.SYS_CPU) if (m := _CPU_DIR.match(n)))
    present = read_cpulist(root, paths.CPU_PRESENT, findings)
    if present is None:
        if dirs:
            findings.append(Finding("no_present_file", "cpu/present missing: CPUs taken from cpuN directories",
                                    paths.CPU_PRESENT, "info"))
        present = CpuSet(dirs)
    online = read_cpulist(root, paths.CPU_ONLINE, findings)
    cpus: dict[int, RawCpu] = {}
    for cpu in present:
        if online is not None:
            is_online = cpu in online
        else:
            # No cpu/online: each cpuN/online says; missing or empty = online.
            text = root.read_strip(paths.cpu_online(cpu))
            is_online = text is None or text == "" or text == "1"
        cpus[cpu] = RawCpu(cpu, is_online)
    missing_dirs = [c for c in present if c not in set(dirs)] if dirs else []
    if missing_dirs:
        findings.append(Finding("cpu_dir_missing",
                                f"present CPUs without a cpuN directory: {CpuSet(missing_dirs)}",
                                paths.SYS_CPU))
    if online is not None:
        stray = online - present
        if stray:
            findings.append(Finding("online_not_present", f"cpu/online lists CPUs not present: {stray}",
                                    paths.CPU_ONLINE))
    if not cpus:
        findings.append(Finding("no_cpus", "no CPUs found under sys/devices/system/cpu", paths.SYS_CPU))
    online_set = CpuSet(c.id for c in cpus.values() if c.online)
    for c in cpus.values():
        if not c.online:
            continue
        c.package_id = _id(root.read_int(paths.cpu_topology(c.id, "physical_package_id")))
        c.core_id = _id(root.read_int(paths.cpu_topology(c.id, "core_id")))
        c.die_id = _id(root.read_int(paths.cpu_topology(c.id, "die_id")))
        c.cluster_id = _id(root.read_int(paths.cpu_topology(c.id, "cluster_id")))
        sib = read_cpulist(root, paths.cpu_topology(c.id, "thread_siblings_list"), findings)
        if sib is None:
            sib = read_cpulist(root, paths.cpu_topology(c.id, "core_cpus_list"), findings)
        c.siblings = (sib & online_set) | CpuSet([c.id]) if sib is not None else CpuSet([c.id])
        if c.package_id is None:
            pk = read_cpulist(root, paths.cpu_topology(c.id, "core_siblings_list"), findings)
            if pk is None:
                pk = read_cpulist(root, paths.cpu_topology(c.id, "package_cpus_list"), findings)
            c.package_cpus = (pk & online_set) if pk is not None else None
        cap = root.read_int(paths.cpu_capacity(c.id))
        c.capacity = cap
    return cpus


def _id(v: int | None) -> int | None:
    """Return a sysfs topology id; -1 means "not known" (s390, POWER)."""
    return None if v is None or v < 0 else v


def group_cores(cpus: dict[int, RawCpu]) -> dict[int, CpuSet]:
    """Return {core key: online threads}; the key is the lowest thread's CPU id."""
    cores: dict[int, CpuSet] = {}
    for c in cpus.values():
        if not c.online or c.siblings is None:
            continue
        key = c.siblings.first()
        cores[key] = cores.get(key, CpuSet()) | c.siblings
    return cores


def group_packages(cpus: dict[int, RawCpu]) -> dict[int, tuple[int | None, CpuSet]]:
    """Return {package key: (raw id, online CPUs)}.

    Grouped by raw ``physical_package_id`` when the kernel gives one, else
    by ``core_siblings_list``; a CPU with neither is a package of its own.
    """
    by_raw: dict[object, list[int]] = {}
    raw_of: dict[object, int | None] = {}
    for c in cpus.values():
        if not c.online:
            continue
        if c.package_id is not None:
            k: object = ("id", c.package_id)
            raw_of[k] = c.package_id
        elif c.package_cpus:
            k = ("set", c.package_cpus)
            raw_of[k] = None
        else:
            k = ("cpu", c.id)
            raw_of[k] = None
        by_raw.setdefault(k, []).append(c.id)
    out: dict[int, tuple[int | None, CpuSet]] = {}
    for k, members in by_raw.items():
        s = CpuSet(members)
        out[s.first()] = (raw_of[k], s)
    return out
