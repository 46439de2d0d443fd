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

from rmctl.cpuset import MAX_CPU, CpuSet
from rmctl.discovery import paths
from rmctl.discovery.parse import number_after
from rmctl.discovery.root import Root
from rmctl.errors import ParseError
from rmctl.model.node import Finding


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


def read_cpulist(root: Root, rel: str, findings: list[Finding],
                 memo: dict[str, CpuSet] | None = None) -> CpuSet | None:
    """Return the cpulist in ``rel``, None when missing; garbage becomes a finding.

    ``memo`` maps file texts already parsed to their sets: files that many
    CPUs share the content of (``core_siblings_list`` of every CPU of a
    package) then cost one parse, not one per CPU.
    """
    text = root.read(rel)
    if text is None:
        return None
    if memo is not None and text in memo:
        return memo[text]
    try:
        s = CpuSet.parse(text)
    except ParseError as e:
        findings.append(Finding("bad_cpulist", f"{rel}: {e}", rel))
        return None
    if memo is not None:
        memo[text] = s
    return s


def read_cpumask_or_list(root: Root, list_rel: str, mask_rel: str, findings: list[Finding],
                         memo: dict[str, CpuSet] | None = None) -> CpuSet | None:
    """Return the CPUs of a ``*_list`` file, else of its hex-mask twin, else None.

    Kernels before 2.6.26 have only the mask files (``thread_siblings``,
    ``core_siblings``): the 16em64t-4s2c2t-offlines snapshot is one.
    """
    s = read_cpulist(root, list_rel, findings, memo)
    if s is not None:
        return s
    text = root.read(mask_rel)
    if text is None:
        return None
    key = "mask:" + text
    if memo is not None and key in memo:
        return memo[key]
    try:
        s = CpuSet.parse_mask(text)
    except ParseError as e:
        findings.append(Finding("bad_cpumask", f"{mask_rel}: {e}", mask_rel))
        return None
    if memo is not None:
        memo[key] = s
    return s


def read_cpus(root: Root, findings: list[Finding]) -> dict[int, RawCpu]:
    """Return every present CPU with its online flag and topology ids."""
    dirs = sorted(i for n in root.listdir(paths.SYS_CPU) if (i := number_after(n, "cpu")) is not None)
    if dirs and dirs[-1] > MAX_CPU:
        # No kernel numbers a CPU past NR_CPUS (rmctl.cpuset.MAX_CPU): a
        # snapshot with such a directory is damaged or forged.
        bogus = [d for d in dirs if d > MAX_CPU]
        dirs = dirs[:len(dirs) - len(bogus)]
        findings.append(Finding("cpu_dir_out_of_range",
                                f"{len(bogus)} cpuN directories past CPU {MAX_CPU} ignored (cpu{bogus[0]})",
                                f"{paths.SYS_CPU}/cpu{bogus[0]}"))
    present = read_cpulist(root, paths.CPU_PRESENT, findings)
    if present is None:
        if dirs:
            findings.append(Finding("no_present_file", "cpu/present missing: CPUs taken from cpuN directories",
                                    paths.CPU_PRESENT, "info"))
        present = CpuSet(dirs)
    online = read_cpulist(root, paths.CPU_ONLINE, findings)
    if online is None:
        findings.append(Finding("no_online_file", "cpu/online missing or unreadable: online state "
                                "taken from each cpuN/online", paths.CPU_ONLINE, "info"))
    cpus: dict[int, RawCpu] = {}
    empty_online: list[int] = []
    for cpu in present:
        if online is not None:
            is_online = cpu in online
        else:
            # No cpu/online: each cpuN/online says; missing or empty = online
            # (cpu0 often has no online file; all are empty on 128ia64).
            text = root.read_strip(paths.cpu_online(cpu))
            if text == "":
                empty_online.append(cpu)
            is_online = text is None or text == "" or text == "1"
        cpus[cpu] = RawCpu(cpu, is_online)
    if empty_online:
        findings.append(Finding("empty_online_file", f"cpuN/online is empty for CPUs {CpuSet(empty_online)}: "
                                "counted as online", paths.cpu_online(empty_online[0]), "info"))
    offline = CpuSet(c for c, r in cpus.items() if not r.online)
    if offline:
        findings.append(Finding("cpus_offline", f"{offline.phrase('are')} present but offline", paths.CPU_ONLINE, "info"))
        if 0 in offline:
            findings.append(Finding("cpu0_offline", "cpu0 is offline", paths.cpu_online(0)))
    if present and len(present) != present.sorted()[-1] + 1:
        holes = CpuSet(range(present.sorted()[-1] + 1)) - present
        findings.append(Finding("cpu_id_holes", f"CPU numbers {holes} are not present (holes)",
                                paths.CPU_PRESENT, "info"))
    dir_set = set(dirs)
    missing_dirs = [c for c in present if c not in dir_set] if dirs else []
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
    # package CPUs by file text: every CPU of a package has the same
    # core_siblings_list, parsed and intersected once (linear in CPUs)
    pk_memo: dict[str, CpuSet] = {}
    pk_online: dict[CpuSet, CpuSet] = {}
    # Optional attributes exist for every CPU or for none (die_id: 5.2+,
    # cluster_id: 5.16+, cpu_capacity: Arm/RISC-V and x86 6.x): probe the
    # first online CPU and skip the rest when it lacks them, to stay far
    # below lstopo's ~2,750 opens on the 96-CPU EPYC snapshot.
    has: dict[str, bool] = {}

    def optional(cpu: int, name: str, rel: str) -> int | None:
        if has.get(name) is False:
            return None
        v = root.read_int(rel)
        if name not in has:
            has[name] = v is not None or root.read(rel) is not None
        return v

    for c in cpus.values():
        if not c.online:
            continue
        c.package_id = _id(root.read_int(paths.cpu_topology(c.id, "physical_package_id")))
        c.core_id = _id(root.read_int(paths.cpu_topology(c.id, "core_id")))
        c.die_id = _id(optional(c.id, "die_id", paths.cpu_topology(c.id, "die_id")))
        c.cluster_id = _id(optional(c.id, "cluster_id", paths.cpu_topology(c.id, "cluster_id")))
        if c.siblings is None:
            sib = read_cpumask_or_list(root, paths.cpu_topology(c.id, "thread_siblings_list"),
                                       paths.cpu_topology(c.id, "thread_siblings"), findings)
            if sib is None:
                sib = read_cpulist(root, paths.cpu_topology(c.id, "core_cpus_list"), findings)
            if sib is not None:
                sib = (sib & online_set) | CpuSet([c.id])
                # Siblings share one file content: fill them in now and skip
                # their reads (the open budget: lstopo opens ~2,750 files on
                # the 96-CPU EPYC snapshot).
                for s in sib:
                    if s in cpus and s != c.id and cpus[s].siblings is None:
                        cpus[s].siblings = sib
            c.siblings = sib
        if c.package_id is None:
            pk = read_cpumask_or_list(root, paths.cpu_topology(c.id, "core_siblings_list"),
                                      paths.cpu_topology(c.id, "core_siblings"), findings, pk_memo)
            if pk is None:
                pk = read_cpulist(root, paths.cpu_topology(c.id, "package_cpus_list"), findings, pk_memo)
            if pk is not None and pk not in pk_online:
                pk_online[pk] = pk & online_set
            c.package_cpus = pk_online[pk] if pk is not None else None
        c.capacity = optional(c.id, "cpu_capacity", paths.cpu_capacity(c.id))
    _siblings_from_core_ids(cpus, findings)
    unknown_pk = [c.id for c in cpus.values() if c.online and c.package_id is None]
    if unknown_pk:
        findings.append(Finding("package_id_unknown",
                                f"{CpuSet(unknown_pk).phrase('have')} physical_package_id -1 or none: "
                                "packages grouped by core_siblings/package_cpus",
                                paths.cpu_topology(unknown_pk[0], "physical_package_id"), "info"))
    return cpus


def _siblings_from_core_ids(cpus: dict[int, RawCpu], findings: list[Finding]) -> None:
    """Fill in siblings of online CPUs that have no siblings file.

    Fallback: CPUs with the same (physical_package_id, die_id, core_id) are
    one core (cputopology.rst); without those ids a CPU is its own core.
    """
    lacking = [c for c in cpus.values() if c.online and c.siblings is None]
    if not lacking:
        return
    findings.append(Finding("no_thread_siblings",
                            f"{CpuSet(c.id for c in lacking).phrase('have')} no thread_siblings file: "
                            "cores built from core_id within package", paths.cpu_topology(lacking[0].id, "thread_siblings_list"),
                            "info"))
    groups: dict[tuple, list[int]] = {}
    for c in lacking:
        key = ("id", c.package_id, c.die_id, c.core_id) if c.core_id is not None and c.package_id is not None \
            else ("cpu", c.id)
        groups.setdefault(key, []).append(c.id)
    for members in groups.values():
        s = CpuSet(members)
        for m in members:
            cpus[m].siblings = s


def _id(v: int | None) -> int | None:
    """Return a sysfs topology id; -1 means "not known" (s390, POWER)."""
    return None if v is None or v < 0 else v


def group_cores(cpus: dict[int, RawCpu]) -> dict[int, CpuSet]:
    """Return {core key: online threads}; the key is the lowest thread's CPU id."""
    # Each distinct siblings set is merged once: the threads of a core share
    # one CpuSet object (read_cpus fills it in), so this is linear in CPUs.
    merged: dict[int, set[int]] = {}
    done: set[CpuSet] = set()
    for c in cpus.values():
        if not c.online or c.siblings is None or c.siblings in done:
            continue
        done.add(c.siblings)
        merged.setdefault(c.siblings.first(), set()).update(c.siblings.frozenset())
    return {key: CpuSet._of(frozenset(m)) for key, m in merged.items()}


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


#: Values closer than this ratio are one kind of core: Intel Turbo Boost Max
#: 3.0 "favoured cores" and AMD preferred cores differ by a few percent in
#: highest_perf/max frequency without being a different core type (hwloc
#: ignores such differences too, HWLOC_CPUKINDS_MAXFREQ's adaptive default).
KIND_GAP = 1.10


def rank_kinds(values: dict[int, int]) -> dict[int, str]:
    """Return {cpu: core type} from a per-CPU performance value, {} when uniform.

    Distinct values are sorted and split where one is more than KIND_GAP
    above the previous; the top group is ``performance``, the bottom one
    ``efficiency``, any between ``intermediate``.
    """
    distinct = sorted(set(values.values()))
    if len(distinct) < 2:
        return {}
    groups = [[distinct[0]]]
    for v in distinct[1:]:
        if groups[-1][-1] > 0 and v > groups[-1][-1] * KIND_GAP:
            groups.append([v])
        else:
            groups[-1].append(v)
    if len(groups) < 2:
        return {}
    names = {}
    for i, g in enumerate(groups):
        name = "efficiency" if i == 0 else "performance" if i == len(groups) - 1 else "intermediate"
        for v in g:
            names[v] = name
    return {cpu: names[v] for cpu, v in values.items()}


def read_core_types(root: Root, cpus: dict[int, RawCpu], findings: list[Finding]) -> dict[int, str]:
    """Return {cpu: core type} on hybrid parts, {} elsewhere.

    In order (the first source present decides):

    1. Intel hybrid PMUs ``sys/devices/cpu_core/cpus`` and ``cpu_atom/cpus``
       (kernel 5.13+).
    2. ``cpuN/cpu_capacity`` (Arm, RISC-V; Documentation/ABI/testing/
       sysfs-devices-system-cpu): 280/855/1024 on the A510-A710-A715-X3 SoC.
    3. Without those (older kernels, snapshots without sys/devices/cpu_*):
       ``cpufreq/base_frequency`` (intel_pstate), else
       ``acpi_cppc/highest_perf``, else ``cpufreq/cpuinfo_max_freq``, read
       on one thread per core, the way hwloc ranks its cpukinds.  The first
       online CPU is probed before reading the others, so machines without
       the file cost one open.

    A frequency or CPPC value only ranks the cores: it is not kept as the
    CPU's ``capacity``, which stays the kernel's ``cpu_capacity`` (0-1024
    scale) or None (a base frequency in kHz there read as a capacity of
    1900000).
    """
    core = read_cpulist(root, paths.SYS_CPU_TYPES[0], findings)
    atom = read_cpulist(root, paths.SYS_CPU_TYPES[1], findings)
    if core is not None or atom is not None:
        out = {c: "performance" for c in core or CpuSet()}
        out.update({c: "efficiency" for c in atom or CpuSet()})
        return out
    online = [c for c in cpus.values() if c.online]
    caps = {c.id: c.capacity for c in online if c.capacity is not None}
    if caps:
        return rank_kinds(caps)
    heads = sorted({c.siblings.first() if c.siblings else c.id for c in online})
    if not heads:
        return {}
    for name in ("cpufreq/base_frequency", "acpi_cppc/highest_perf", "cpufreq/cpuinfo_max_freq"):
        if root.read_int(paths.cpu_file(heads[0], name)) is None:
            continue
        read = {h: root.read_int(paths.cpu_file(h, name)) for h in heads}
        per_core = {h: v for h, v in read.items() if v is not None}
        kinds = rank_kinds(per_core)
        if not kinds:
            return {}
        out = {}
        for c in online:
            head = c.siblings.first() if c.siblings else c.id
            if head in kinds:
                out[c.id] = kinds[head]
        findings.append(Finding("core_types_inferred",
                                f"hybrid core types ranked by {name} (no sys/devices/cpu_core|cpu_atom)",
                                paths.cpu_file(heads[0], name), "info"))
        return out
    return {}
