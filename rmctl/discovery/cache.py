"""CPU caches from ``cpuN/cache/index*`` (Documentation/ABI/testing/sysfs-devices-system-cpu).

One Cache object per instance: an instance is (level, type, shared CPUs).
To open fewer files than lstopo (issue #2's budget; lstopo opens ~2,750 on
the 96-CPU EPYC fixture):

* ``shared_cpu_list`` is read first, and an index already covered by an
  instance seen on a sibling CPU is skipped;
* ``level`` and ``type`` are read once per index name: the kernel numbers
  a CPU's cache leaves in one order on every CPU of a machine (x86 cpuid
  leaf 4, Arm/RISC-V cacheinfo from the device tree or PPTT);
* ``coherency_line_size`` and ``ways_of_associativity`` are read once per
  (index, size): instances of one size are the same part, and hybrid parts
  differ in size between core types (Raptor Lake's P-core 1.25 MiB 10-way L2
  against the E-core cluster's 2 MiB 16-way one);
* ``id`` is read for level 2 and up only (L1 is per core: its id adds
  nothing the core does not say; L2/L3 ids name clusters and uncore
  caches, which the CPU allocator groups by).
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.discovery import paths
from rmctl.discovery.cpu import read_cpumask_or_list
from rmctl.discovery.parse import number_after, parse_cache_size, parse_cache_type, parse_cpuinfo_s390_caches
from rmctl.discovery.root import Root
from rmctl.model.node import Finding
from rmctl.model.topology import Cache


def read_caches(root: Root, online: CpuSet, findings: list[Finding]) -> list[Cache]:
    """Return every cache instance serving an online CPU.

    Linear in CPUs: each instance's ``shared_cpu_list`` is read and
    intersected once, on the first CPU it serves; the CPUs it covers go
    into a plain set per index name, so a later CPU of the same instance
    costs one membership test (no per-CPU set rebuild).
    """
    seen: dict[tuple[int, str, CpuSet], Cache] = {}
    covered: dict[str, set[int]] = {}  # index name -> CPUs already served
    index_names: list[str] | None = None
    no_size_reported = False
    kinds: dict[str, tuple[int | None, str | None]] = {}  # index name -> (level, type)
    shapes: dict[tuple[str, int | None], tuple[int | None, int | None]] = {}  # (index, size) -> (line, ways)
    online_cpus = online.frozenset()
    for cpu in online:
        if index_names is not None:
            for idx in index_names:
                if cpu not in covered.get(idx, ()):
                    break
            else:
                continue  # every cache of this CPU is known from a sibling: no listing, no stat
        if index_names is None or not root.isdir(paths.cpu_cache_dir(cpu)):
            names = [n for n in root.listdir(paths.cpu_cache_dir(cpu)) if number_after(n, "index") is not None]
        else:
            names = index_names
        if index_names is None and names:
            index_names = names
        for idx in names:
            done = covered.setdefault(idx, set())
            if cpu in done:
                continue
            shared = read_cpumask_or_list(root, paths.cpu_cache(cpu, idx, "shared_cpu_list"),
                                          paths.cpu_cache(cpu, idx, "shared_cpu_map"), findings)
            if shared is None:
                if not root.exists(paths.cpu_cache(cpu, idx, "level")):
                    continue  # cpu N has fewer indexes than the first one
                shared = CpuSet([cpu])
            members = shared.frozenset() & online_cpus
            if cpu not in members:
                members = members | {cpu}
            if len(members) != len(shared) or cpu not in shared:
                shared = CpuSet._of(members)  # else the parsed set is the instance's, as is
            done.update(members)
            if idx not in kinds:
                kinds[idx] = (root.read_int(paths.cpu_cache(cpu, idx, "level")),
                              parse_cache_type(root.read(paths.cpu_cache(cpu, idx, "type")) or ""))
            level, ctype = kinds[idx]
            if level is None or ctype is None:
                continue
            key = (level, ctype, shared)
            if key in seen:
                continue
            size_text = root.read(paths.cpu_cache(cpu, idx, "size"))
            size = parse_cache_size(size_text) if size_text else None
            if size is None and not no_size_reported:
                no_size_reported = True
                findings.append(Finding("cache_size_unknown",
                                        f"cache L{level} {ctype} has no size in sysfs",
                                        paths.cpu_cache(cpu, idx, "size"), "info"))
            cid = root.read_int(paths.cpu_cache(cpu, idx, "id")) if level >= 2 else None
            if (idx, size) not in shapes:
                shapes[(idx, size)] = (root.read_int(paths.cpu_cache(cpu, idx, "coherency_line_size")),
                                       root.read_int(paths.cpu_cache(cpu, idx, "ways_of_associativity")))
            line, ways = shapes[(idx, size)]
            seen[key] = Cache(level=level, type=ctype, size_bytes=size, cpus=shared,
                              id=cid, line_size=line, ways=ways)
    return sorted(seen.values(), key=lambda c: (c.level, c.type, c.cpus.first()))


def cpuinfo_caches(cpuinfo: str, online: CpuSet, sysfs_caches: list[Cache],
                   findings: list[Finding]) -> list[Cache]:
    """Return the s390 caches that only ``proc/cpuinfo`` names (L3/L4, shared).

    lscpu does the same (sys-utils/lscpu-cputype.c reads ``cacheN`` lines on
    s390) and prints them without instance counts; so do we: one Cache over
    all online CPUs with ``cpus_known=False``.  Levels/types that sysfs
    already has are not repeated.
    """
    have = {(c.level, c.type) for c in sysfs_caches}
    out = []
    for e in parse_cpuinfo_s390_caches(cpuinfo):
        if (e["level"], e["type"]) in have or not online:
            continue
        have.add((e["level"], e["type"]))
        out.append(Cache(level=e["level"], type=e["type"], size_bytes=e["size_bytes"], cpus=online,
                         line_size=e["line_size"], ways=e["ways"], cpus_known=False))
    if out:
        findings.append(Finding("cache_sharing_unknown",
                                "caches " + ", ".join(f"L{c.level}" for c in out)
                                + " known only from proc/cpuinfo: which CPUs share them is unknown",
                                paths.PROC_CPUINFO, "info"))
    return out
