"""What the kubelet assigned on this node: its resource managers' checkpoints.

Plain records, no I/O.  They are read from the kubelet's own files by
:mod:`rmctl.discovery.kubelet` (CPU Manager ``cpu_manager_state``, Memory
Manager ``memory_manager_state``, device manager
``device-plugins/kubelet_internal_checkpoint``, DRA manager
``dra_manager_state``) and, on a live node, joined with the names the
PodResources API gives (``pod-resources/kubelet.sock``).

Identifiers are the kubelet's: ``pod_uid`` is the pod's metadata.uid as the
kubelet keys its checkpoints, ``container`` the container's name in the pod
spec, device IDs as the device plugin reported them (``GPU-<uuid>`` for
NVIDIA's plugin, a PCI address for SR-IOV plugins), NUMA node ids as the
kernel numbers them.  Sizes are bytes.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.model.record import record

#: checksum statuses of a checkpoint (``Checkpoint.checksum_status``)
VERIFIED = "verified"  #: recomputed the kubelet's way and equal
UNCHECKED_ZERO = "unchecked-zero"  #: 0: the kubelet itself accepts it without checking
NOT_VERIFIED = "not-verified"  #: the algorithm is not reproduced here (detail says why)


@record
class Checkpoint:
    """Provenance of one checkpoint file: where, which layout, checksum outcome.

    ``format`` names the layout as the kubelet's source calls it
    (``v1``/``v2``/... per manager).  A checksum that does not match is never
    a Checkpoint: reading it fails (corrupt checkpoint).
    """

    path: str  #: root-relative
    format: str
    checksum: int | None
    checksum_status: str
    detail: str = ""


@record
class CpuAssignment:
    """Exclusive CPUs the CPU Manager gave one container (static policy).

    ``pod_uid`` is empty for the v1 layout, which keyed entries by the
    runtime's container ID (``container_id``) instead of pod and name.
    """

    pod_uid: str
    container: str
    cpus: CpuSet
    container_id: str | None = None


@record
class CpuManagerState:
    """``cpu_manager_state``: the policy, the shared pool, exclusive assignments.

    ``default_cpus`` is the kubelet's "default CPU set": the shared pool that
    every non-exclusive container runs on; it still holds the reserved CPUs
    unless ``strict-cpu-reservation`` is on.  ``pod_cpus`` are pod-level
    budgets (PodLevelResourceManagers, alpha), pod UID -> CPUs.
    """

    checkpoint: Checkpoint
    policy: str
    default_cpus: CpuSet
    assignments: tuple[CpuAssignment, ...] = ()
    pod_cpus: tuple[tuple[str, CpuSet], ...] = ()

    def exclusive_cpus(self) -> CpuSet:
        """Return every CPU a container holds exclusively."""
        out = CpuSet()
        for a in self.assignments:
            out = out | a.cpus
        for _, cpus in self.pod_cpus:
            out = out | cpus
        return out


@record
class MemoryTable:
    """One resource (``memory``, ``hugepages-2Mi``...) on one NUMA node, bytes."""

    resource: str
    total: int
    system_reserved: int
    allocatable: int
    reserved: int  #: assigned to containers
    free: int


@record
class NumaMemoryState:
    """One NUMA node of the Memory Manager's machine state."""

    node: int
    assignments: int  #: numberOfAssignments
    cells: tuple[int, ...]  #: the group of nodes this node is allocated with
    tables: tuple[MemoryTable, ...] = ()


@record
class MemoryBlock:
    """Memory or hugepages one container got, on these NUMA nodes (bytes)."""

    pod_uid: str
    container: str  #: empty for a pod-level block (podEntries)
    resource: str  #: "memory" | "hugepages-<size>"
    size: int
    nodes: tuple[int, ...]


@record
class MemoryManagerState:
    """``memory_manager_state``: machine state per NUMA node and per-container blocks."""

    checkpoint: Checkpoint
    policy: str  #: "None" | "Static" (the kubelet's spelling)
    machine: tuple[NumaMemoryState, ...] = ()
    blocks: tuple[MemoryBlock, ...] = ()


@record
class DeviceAllocation:
    """Devices of one extended resource the device manager gave one container.

    ``devices`` maps a NUMA node id (-1: the plugin gave no topology) to
    the device IDs on it.  v1 checkpoints (kubelet <= 1.19) had no NUMA
    data: their devices are listed under node -1 here (the kubelet itself
    files them under node 0 when it migrates them).
    """

    pod_uid: str
    container: str
    resource: str
    devices: tuple[tuple[int, tuple[str, ...]], ...]

    def device_ids(self) -> tuple[str, ...]:
        return tuple(d for _, ids in self.devices for d in ids)

    def nodes(self) -> tuple[int, ...]:
        return tuple(sorted({n for n, _ in self.devices if n >= 0}))


@record
class DeviceManagerState:
    """``device-plugins/kubelet_internal_checkpoint``: allocations and registered devices."""

    checkpoint: Checkpoint
    allocations: tuple[DeviceAllocation, ...] = ()
    registered: tuple[tuple[str, tuple[str, ...]], ...] = ()  #: resource -> device IDs


@record
class DraDevice:
    """One device a DRA driver prepared for a claim."""

    driver: str
    pool: str
    device: str
    requests: tuple[str, ...] = ()
    cdi_devices: tuple[str, ...] = ()


@record
class DraClaim:
    """One ResourceClaim the kubelet prepared, with the pods that use it."""

    claim_uid: str
    name: str
    namespace: str
    pod_uids: tuple[str, ...]
    devices: tuple[DraDevice, ...] = ()


@record
class DraManagerState:
    """``dra_manager_state``: prepared claims."""

    checkpoint: Checkpoint
    claims: tuple[DraClaim, ...] = ()


@record
class PodName:
    """A pod's name and namespace, as the PodResources API gives them."""

    namespace: str
    name: str


@record
class ApiMemory:
    """Memory or hugepages of one container per the PodResources API."""

    resource: str
    size: int
    nodes: tuple[int, ...]


@record
class ApiDevices:
    """Devices of one resource of one container per the PodResources API."""

    resource: str
    device_ids: tuple[str, ...]
    nodes: tuple[int, ...]


@record
class ApiClaimDevice:
    """A DRA device of one container per the PodResources API."""

    claim: str
    namespace: str
    driver: str
    pool: str
    device: str
    cdi_devices: tuple[str, ...] = ()


@record
class ApiContainer:
    """One container's resources per the PodResources API (``ContainerResources``)."""

    name: str
    cpus: CpuSet
    devices: tuple[ApiDevices, ...] = ()
    memory: tuple[ApiMemory, ...] = ()
    claims: tuple[ApiClaimDevice, ...] = ()


@record
class ApiPod:
    """One pod per the PodResources API (``PodResources``)."""

    namespace: str
    name: str
    containers: tuple[ApiContainer, ...] = ()


@record
class ApiAllocatable:
    """What the kubelet can hand out (``GetAllocatableResources``)."""

    cpus: CpuSet
    devices: tuple[ApiDevices, ...] = ()
    memory: tuple[ApiMemory, ...] = ()


@record
class PodResourcesView:
    """The live PodResources API's answer; ``notes`` say what it could not give."""

    socket: str
    pods: tuple[ApiPod, ...] = ()
    allocatable: ApiAllocatable | None = None
    notes: tuple[str, ...] = ()


@record
class ContainerHoldings:
    """What one container holds, from every checkpoint together.

    ``container`` is empty for what a pod holds as a whole (pod-level CPUs
    and memory, DRA claims, which belong to pods).  ``namespace`` and
    ``pod`` are None unless the PodResources API named the pod.
    """

    pod_uid: str
    container: str
    namespace: str | None = None
    pod: str | None = None
    cpus: CpuSet = CpuSet()
    memory: tuple[MemoryBlock, ...] = ()
    devices: tuple[DeviceAllocation, ...] = ()
    claims: tuple[DraClaim, ...] = ()


@record
class KubeletState:
    """Everything read about the kubelet on one node.

    A manager whose checkpoint is absent is None (the manager is off, or
    the kubelet never ran).  ``names`` maps pod UIDs to names where the
    PodResources API let them be joined; ``api`` is that API's own view.
    """

    root: str  #: the kubelet's root directory, root-relative ("var/lib/kubelet")
    cpu: CpuManagerState | None = None
    memory: MemoryManagerState | None = None
    devices: DeviceManagerState | None = None
    dra: DraManagerState | None = None
    api: PodResourcesView | None = None
    names: tuple[tuple[str, PodName], ...] = ()  #: pod UID -> name, sorted by UID
    notes: tuple[str, ...] = ()

    def name_of(self, pod_uid: str) -> PodName | None:
        """Return the pod's name and namespace when the API let them be joined."""
        for uid, name in self.names:
            if uid == pod_uid:
                return name
        return None

    def present(self) -> bool:
        """Return True when any checkpoint was found."""
        return any(x is not None for x in (self.cpu, self.memory, self.devices, self.dra))

    def containers(self) -> list[ContainerHoldings]:
        """Return what each container (and each pod as a whole) holds, by pod UID and container name."""
        cpus: dict[tuple[str, str], CpuSet] = {}
        mem: dict[tuple[str, str], list[MemoryBlock]] = {}
        dev: dict[tuple[str, str], list[DeviceAllocation]] = {}
        claims: dict[tuple[str, str], list[DraClaim]] = {}
        if self.cpu:
            for a in self.cpu.assignments:
                key = (a.pod_uid or a.container_id or "", a.container)
                cpus[key] = cpus.get(key, CpuSet()) | a.cpus
            for uid, pod_set in self.cpu.pod_cpus:
                cpus[(uid, "")] = cpus.get((uid, ""), CpuSet()) | pod_set
        for b in self.memory.blocks if self.memory else ():
            mem.setdefault((b.pod_uid, b.container), []).append(b)
        for d in self.devices.allocations if self.devices else ():
            dev.setdefault((d.pod_uid, d.container), []).append(d)
        for c in self.dra.claims if self.dra else ():
            for uid in c.pod_uids:
                claims.setdefault((uid, ""), []).append(c)
        out = []
        for key in sorted(set(cpus) | set(mem) | set(dev) | set(claims)):
            name = self.name_of(key[0])
            out.append(ContainerHoldings(
                pod_uid=key[0], container=key[1], namespace=name.namespace if name else None,
                pod=name.name if name else None, cpus=cpus.get(key, CpuSet()), memory=tuple(mem.get(key, ())),
                devices=tuple(dev.get(key, ())), claims=tuple(claims.get(key, ()))))
        return out

    def pod_uids(self) -> list[str]:
        """Return every pod UID any checkpoint names, sorted."""
        uids: set[str] = set()
        if self.cpu:
            uids.update(a.pod_uid for a in self.cpu.assignments if a.pod_uid)
            uids.update(u for u, _ in self.cpu.pod_cpus)
        if self.memory:
            uids.update(b.pod_uid for b in self.memory.blocks)
        if self.devices:
            uids.update(a.pod_uid for a in self.devices.allocations)
        if self.dra:
            for c in self.dra.claims:
                uids.update(c.pod_uids)
        return sorted(uids)
