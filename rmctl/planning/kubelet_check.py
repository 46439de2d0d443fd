"""Does the kubelet agree with the kernel, with rmctl and with itself?  One finding per mismatch.

Pure: (NodeModel, KubeletState, the kubelet config's resource-manager
fields, rmctl's reservations and system CPUs) -> findings, each one line
with what to change.  The rules come from the kubelet's behaviour
(kubelet-resource-managers.md, sections 2 and 5; pkg/kubelet/cm):

- the CPU Manager's start-up validation: the shared pool and every
  exclusive assignment together are exactly the online CPUs, no
  assignment overlaps the pool, the reserved CPUs are in the pool (not in
  it with strict-cpu-reservation), the checkpoint's policy is the
  configured one;
- reservedSystemCPUs (or the kubelet's own choice) against isolcpus= and
  nohz_full=: housekeeping CPUs must not be isolated, and an isolated CPU
  left in the shared pool runs Burstable pods without load balancing
  (kubernetes#79603);
- rmctl's reservations and system CPUs against the kubelet: a CPU an rmctl
  reservation holds must not be a pod's, and only reservedSystemCPUs are
  kept from pods for sure;
- the Memory Manager's view of each node's hugepages against the pools
  the kernel has now (a pool resized under a running kubelet makes its
  restart validation fail, kubernetes#109996).
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError
from rmctl.model.kubelet import KubeletState
from rmctl.model.node import NodeModel
from rmctl.model.record import record
from rmctl.units import format_size, parse_size


@record
class Finding:
    """One check: ``ok`` or not, what was seen (``message``) and what to change (``fix``)."""

    check: str
    ok: bool
    message: str
    fix: str = ""


def _cpus(text: str | None) -> CpuSet | None:
    if text is None:
        return None
    try:
        return CpuSet.parse(text)
    except ParseError:
        return None


def _page_bytes(resource: str) -> int | None:
    try:
        return parse_size(resource[len("hugepages-"):]) if resource.startswith("hugepages-") else None
    except (ParseError, ValueError):
        return None


def check(node: NodeModel, state: KubeletState, config: dict | None, *,
          reservations: dict[str, CpuSet] | None = None, system_cpus: CpuSet | None = None) -> list[Finding]:
    """Return every check's finding (``ok`` ones too), in a stable order."""
    out: list[Finding] = []
    topo = node.topology
    online = topo.online_cpus()
    cfg = config or {}
    reserved = _cpus(cfg.get("reservedSystemCPUs"))
    options = cfg.get("cpuManagerPolicyOptions") or {}
    strict = str(options.get("strict-cpu-reservation", "")).lower() == "true"
    cpu = state.cpu
    exclusive = cpu.exclusive_cpus() if cpu else CpuSet()
    shared = cpu.default_cpus if cpu else CpuSet()

    # 1. the CPU Manager checkpoint against the node (the kubelet's restart validation)
    if cpu is not None and cpu.policy == "static":
        covered = shared | exclusive
        overlap = CpuSet()
        for a in cpu.assignments:
            overlap = overlap | (a.cpus & shared)
        if covered != online or overlap:
            missing, extra = online - covered, covered - online
            parts = []
            if missing:
                parts.append(f"online {missing.phrase('are')} in neither the shared pool nor an assignment")
            if extra:
                parts.append(f"{extra.phrase()} of the checkpoint {'is' if len(extra) == 1 else 'are'} not online")
            if overlap:
                parts.append(f"assigned {overlap.phrase('are')} also in the shared pool")
            out.append(Finding("cpu-checkpoint-matches-cpus", False, "; ".join(parts) + ": the kubelet will refuse "
                               "to start on this checkpoint",
                               "bring the CPUs back online, or drain the node, stop the kubelet, delete "
                               f"/{cpu.checkpoint.path} and start it"))
        else:
            out.append(Finding("cpu-checkpoint-matches-cpus", True, "shared pool and assignments cover the online "
                               f"CPUs {online}"))
    if cpu is not None and cfg.get("cpuManagerPolicy") and cfg["cpuManagerPolicy"] != cpu.policy:
        out.append(Finding("cpu-policy", False, f"the config says cpuManagerPolicy {cfg['cpuManagerPolicy']}, the "
                           f"checkpoint {cpu.policy}: the kubelet will refuse to start",
                           f"drain the node, stop the kubelet, delete /{cpu.checkpoint.path} and start it"))

    # 2. reserved CPUs against the pool, isolcpus= and nohz_full=
    if reserved is None:
        if cpu is not None and cpu.policy == "static":
            out.append(Finding("reserved-cpus-known", False, "the kubelet config names no reservedSystemCPUs "
                               "(or was not found): which CPUs it keeps from pods is not known here",
                               "give --config the kubelet's config file, or set reservedSystemCPUs in it"))
    else:
        if cpu is not None and cpu.policy == "static":
            if strict and reserved & shared:
                out.append(Finding("reserved-in-pool", False, f"strict-cpu-reservation is on but reserved CPUs "
                                   f"{reserved & shared} are in the shared pool",
                                   f"drain the node and delete /{cpu.checkpoint.path} before the kubelet restarts"))
            elif not strict and not reserved.issubset(shared):
                out.append(Finding("reserved-in-pool", False, f"reserved {(reserved - shared).phrase('are')} not in the "
                                   "shared pool (a pod holds them, or the pool is stale)",
                                   "set reservedSystemCPUs to CPUs no pod holds, then drain the node and delete "
                                   f"/{cpu.checkpoint.path}"))
            else:
                out.append(Finding("reserved-in-pool", True, f"reservedSystemCPUs {reserved} sit where the kubelet "
                                   "keeps them"))
        isolated = topo.isolated_cpus()
        nohz = CpuSet(c.id for c in topo.cpus.values() if c.nohz_full)
        bad = reserved & (isolated | nohz)
        if bad:
            out.append(Finding("reserved-not-isolated", False, f"reservedSystemCPUs: {bad.phrase('are')} in isolcpus= or "
                               "nohz_full=: system daemons and the kubelet would run unbalanced there",
                               f"take {bad} out of isolcpus=/nohz_full= on the kernel command line, or choose "
                               f"reservedSystemCPUs from {online - isolated - nohz or '(none left)'}"))
        elif isolated or nohz:
            out.append(Finding("reserved-not-isolated", True, f"reservedSystemCPUs {reserved} are housekeeping CPUs "
                               "(not isolated, not nohz_full)"))
        if isolated and cpu is not None and cpu.policy == "static":
            pooled = (isolated & shared) - reserved
            if pooled:
                out.append(Finding("isolated-not-shared", False, f"isolated {pooled.phrase('are')} in the kubelet's shared "
                                   "pool: Burstable and BestEffort pods run there without load balancing",
                                   f"add {pooled} to reservedSystemCPUs with the strict-cpu-reservation option, or "
                                   "take them out of isolcpus="))
            else:
                out.append(Finding("isolated-not-shared", True, f"isolated {isolated.phrase('are')} not in the shared "
                                   "pool"))

    # 3. rmctl's reservations and system CPUs against the kubelet
    for name, cpus in sorted((reservations or {}).items()):
        taken = cpus & exclusive
        if taken:
            out.append(Finding(f"rmctl-reservation:{name}", False, f"rmctl reservation {name!r} holds CPUs {taken} "
                               "that the kubelet gave a pod exclusively",
                               f"release it (rmctl cpu release {name}) and reserve elsewhere, or drain the pod"))
        elif reserved is not None and not cpus.issubset(reserved):
            out.append(Finding(f"rmctl-reservation:{name}", False, f"rmctl reservation {name!r} holds CPUs "
                               f"{cpus - reserved} the kubelet may hand to a Guaranteed pod",
                               f"add {cpus - reserved} to reservedSystemCPUs (strict-cpu-reservation keeps "
                               "Burstable pods off them too)"))
        else:
            out.append(Finding(f"rmctl-reservation:{name}", True, f"rmctl reservation {name!r} ({cpus}) is clear of "
                               "the kubelet's pods"))
    if system_cpus and reserved is not None and system_cpus != reserved:
        out.append(Finding("system-cpus", False, f"rmctl's system CPUs {system_cpus} differ from the kubelet's "
                           f"reservedSystemCPUs {reserved}",
                           f"set reservedSystemCPUs: \"{system_cpus}\" in the kubelet config (or rmctl cpu "
                           f"reserve-system --cpus {reserved})"))
    elif system_cpus and reserved is not None:
        out.append(Finding("system-cpus", True, f"rmctl's system CPUs are the kubelet's reservedSystemCPUs {reserved}"))

    # 4. the Memory Manager's hugepages against the kernel's pools
    mem = state.memory
    if mem is not None and mem.policy.lower() == "static":
        for n in mem.machine:
            numa = topo.nodes.get(n.node)
            for t in n.tables:
                size = _page_bytes(t.resource)
                if size is None:
                    continue
                pool = next((p for p in numa.hugepages if p.page_size == size), None) if numa else None
                have = pool.total * size if pool else 0
                key = f"memory-manager-pool:{n.node}:{t.resource}"
                if have != t.total:
                    out.append(Finding(key, False, f"node {n.node}: the Memory Manager counts "
                                       f"{format_size(t.total)} of {t.resource}, the pool holds {format_size(have)}: "
                                       "the kubelet's restart validation will fail",
                                       f"set the pool back (rmctl hugepages set {format_size(size)}="
                                       f"{t.total // size} --numa {n.node}), or drain the node and delete "
                                       f"/{mem.checkpoint.path} before the kubelet restarts"))
                else:
                    out.append(Finding(key, True, f"node {n.node}: {t.resource} {format_size(have)} as the Memory "
                                       "Manager counts"))
                if t.reserved > t.allocatable:
                    out.append(Finding(key + ":reserved", False, f"node {n.node}: {format_size(t.reserved)} of "
                                       f"{t.resource} promised, more than the {format_size(t.allocatable)} "
                                       "allocatable", "drain pods of that node or grow the pool"))
    return out
