"""What the kubelet holds, in rmctl's terms: CPUs by role, PCI devices by holder.

Pure functions over a NodeModel and a KubeletState (rmctl.model.kubelet).
The kubelet names devices by the plugin's device IDs; rmctl by PCI address.
A device ID is tied to a PCI device when (1) it is the PCI address itself
(SR-IOV and most NIC/FPGA plugins), (2) it is a GPU's UUID as NVML gives
it (NVIDIA's plugin: ``GPU-<uuid>``), or (3) the resource's vendor has
exactly one device of the GPU/accelerator kind on the NUMA node the
kubelet files the device under.  IDs tied by none of these stay unresolved
and are reported as such, never guessed.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError
from rmctl.model.kubelet import KubeletState
from rmctl.model.node import NodeModel
from rmctl.model.pci import PciAddress
from rmctl.model.record import record

#: extended-resource domains -> PCI vendor ids (device plugins of these vendors)
VENDORS = {"nvidia.com": 0x10DE, "amd.com": 0x1002, "intel.com": 0x8086, "habana.ai": 0x1DA3,
           "xilinx.com": 0x10EE, "mellanox.com": 0x15B3}


@record
class DeviceHolding:
    """A device the kubelet gave a container: which ID, which PCI device (if known), how it was tied."""

    pod_uid: str
    container: str
    resource: str
    device_id: str
    node: int  #: the NUMA node the kubelet files it under (-1: none)
    address: PciAddress | None = None
    how: str = "unresolved"  #: "pci-address" | "gpu-uuid" | "only-one-on-node" | "unresolved"


def cpu_roles(state: KubeletState) -> dict[str, CpuSet]:
    """Return the kubelet's CPUs by role: ``exclusive`` (containers' and pods'), ``shared`` (default set).

    Empty sets when the CPU Manager is off or uses the none policy (then
    every container runs on every CPU and nothing is exclusive).
    """
    if state.cpu is None:
        return {"exclusive": CpuSet(), "shared": CpuSet()}
    return {"exclusive": state.cpu.exclusive_cpus(), "shared": state.cpu.default_cpus}


def _vendor_of(resource: str) -> int | None:
    return VENDORS.get(resource.split("/", 1)[0].lower())


def device_holdings(node: NodeModel, state: KubeletState) -> list[DeviceHolding]:
    """Return every device the device manager allocated, tied to a PCI device where that can be known."""
    if state.devices is None:
        return []
    devices = list(node.devices)
    by_address = {d.address: d for d in devices}
    by_uuid = {d.gpu.uuid.lower(): d for d in devices if d.gpu is not None and d.gpu.uuid}
    out: list[DeviceHolding] = []
    for a in state.devices.allocations:
        for n, ids in a.devices:
            for dev_id in ids:
                h = DeviceHolding(pod_uid=a.pod_uid, container=a.container, resource=a.resource,
                                  device_id=dev_id, node=n)
                addr = PciAddress.try_parse(dev_id)
                if addr is not None and addr in by_address:
                    out.append(_tie(h, addr, "pci-address"))
                elif dev_id.lower() in by_uuid:
                    out.append(_tie(h, by_uuid[dev_id.lower()].address, "gpu-uuid"))
                else:
                    out.append(h)
    # (3) one candidate on the node: only for IDs still unresolved, one per node and vendor
    taken = {h.address for h in out if h.address is not None}
    for i, h in enumerate(out):
        if h.address is not None or h.node < 0:
            continue
        vendor = _vendor_of(h.resource)
        cands = [d for d in devices if vendor is not None and d.vendor == vendor and d.kind in ("gpu", "accel")
                 and h.node in d.local_nodes(dict(node.topology.nodes))]
        same = [x for x in out if x.address is None and x.node == h.node and x.resource == h.resource]
        if len(cands) == 1 and len(same) == 1 and cands[0].address not in taken:
            out[i] = _tie(h, cands[0].address, "only-one-on-node")
            taken.add(cands[0].address)
    return out


def _tie(h: DeviceHolding, address: PciAddress, how: str) -> DeviceHolding:
    from rmctl.model.record import replace

    return replace(h, address=address, how=how)


@record
class KubeletHeld:
    """What the kubelet holds, in the shape a request evaluation subtracts.

    ``devices``: PCI address -> who holds it (``pod NS/NAME container C
    (kubelet)``, the pod UID when unnamed).  ``hugepages``: (page size,
    node) -> pages promised to containers and not yet in use (the Memory
    Manager's blocks minus the node's pages in use, at least 0: pages a pod
    has touched are already out of the pool's free count).  ``unresolved``:
    device IDs not tied to a PCI device (not counted; said).
    """

    cpus: CpuSet
    devices: tuple[tuple[str, str], ...] = ()
    hugepages: tuple[tuple[tuple[int, int], int], ...] = ()
    unresolved: tuple[DeviceHolding, ...] = ()


def holder_label(state: KubeletState, pod_uid: str, container: str) -> str:
    """Return ``pod default/web-0 container app (kubelet)``, the UID when the pod is unnamed."""
    name = state.name_of(pod_uid)
    pod = f"{name.namespace}/{name.name}" if name else pod_uid
    return f"pod {pod}" + (f" container {container}" if container else "") + " (kubelet)"


def _page_size(resource: str) -> int | None:
    """Return the bytes of ``hugepages-2Mi`` / ``hugepages-1Gi`` (the kubelet's resource names)."""
    from rmctl.units import parse_size

    if not resource.startswith("hugepages-"):
        return None
    try:
        return parse_size(resource[len("hugepages-"):])
    except (ParseError, ValueError):
        return None


def kubelet_held(node: NodeModel, state: KubeletState) -> KubeletHeld:
    """Return the kubelet's exclusive CPUs, allocated devices and promised hugepages on ``node``."""
    holdings = device_holdings(node, state)
    devices = tuple(sorted((str(h.address), holder_label(state, h.pod_uid, h.container))
                           for h in holdings if h.address is not None))
    promised: dict[tuple[int, int], int] = {}
    for b in state.memory.blocks if state.memory else ():
        size = _page_size(b.resource)
        if size is None or not b.nodes:
            continue
        # a block over several nodes does not record how it was split: counted on its first node
        per_node = b.size // size
        key = (size, b.nodes[0])
        promised[key] = promised.get(key, 0) + per_node
    hugepages = []
    for (size, n), pages in sorted(promised.items()):
        numa = node.topology.nodes.get(n)
        pool = next((p for p in numa.hugepages if p.page_size == size), None) if numa is not None else None
        in_use = (pool.total - pool.free) if pool is not None else 0
        if pages - in_use > 0:
            hugepages.append(((size, n), pages - in_use))
    return KubeletHeld(cpus=cpu_roles(state)["exclusive"], devices=devices, hugepages=tuple(hugepages),
                       unresolved=tuple(h for h in holdings if h.address is None))


@record
class CpuClash:
    """What a set of CPUs rmctl is about to hand out shares with the kubelet."""

    exclusive: CpuSet  #: CPUs a pod holds exclusively: refused unless forced
    holders: tuple[str, ...]  #: who holds them (holder_label)
    shared: CpuSet  #: CPUs of the kubelet's shared pool: Burstable/BestEffort pods run there too

    def refused(self) -> bool:
        return bool(self.exclusive)


def cpu_clash(state: KubeletState, cpus: CpuSet) -> CpuClash:
    """Return which of ``cpus`` the kubelet gave pods exclusively, and which are in its shared pool.

    With the CPU Manager's none policy (or none at all) there is no clash:
    every container may run anywhere, nothing is exclusive.
    """
    if state.cpu is None or state.cpu.policy != "static":
        return CpuClash(exclusive=CpuSet(), holders=(), shared=CpuSet())
    hit = CpuSet()
    holders: list[str] = []
    for a in state.cpu.assignments:
        both = a.cpus & cpus
        if both:
            hit = hit | both
            holders.append(f"{both} by {holder_label(state, a.pod_uid or a.container_id or '', a.container)}")
    for uid, pod_cpus in state.cpu.pod_cpus:
        both = pod_cpus & cpus
        if both:
            hit = hit | both
            holders.append(f"{both} by {holder_label(state, uid, '')}")
    return CpuClash(exclusive=hit, holders=tuple(holders), shared=cpus & state.cpu.default_cpus)


def cpu_marks(state: KubeletState, reserved: CpuSet | None = None) -> dict[int, str]:
    """Return CPU -> the kubelet's use of it: ``exclusive`` (a pod's), ``reserved``, ``shared``.

    ``reserved`` is the config's reservedSystemCPUs when known; reserved CPUs
    sit in the shared pool too and are marked ``reserved``.  Empty when the
    CPU Manager is not static.
    """
    if state.cpu is None or state.cpu.policy != "static":
        return {}
    marks = {c: "shared" for c in state.cpu.default_cpus}
    for c in reserved or ():
        marks[c] = "reserved"
    for c in state.cpu.exclusive_cpus():
        marks[c] = "exclusive"
    return marks
