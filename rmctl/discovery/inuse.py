"""PCI functions the node itself uses: the disk of a mounted filesystem or swap, the NIC of the default route.

``export resourceslice`` never publishes these for workloads: handing the
root disk or the default-route NIC to a pod would take them from the node.

- Mounted filesystems: ``proc/mounts`` sources ``/dev/<name>``; ``swap``:
  ``proc/swaps``.  A block device is traced to its PCI function through
  ``sys/class/block/<name>`` (its real path runs through the function's
  directory, e.g. ``.../0000:00:02.0/virtio1/block/vda/vda1``), through
  device-mapper and md members (``slaves/``), and, when the snapshot lacks
  ``sys/class/block``, by name: the function's own ``block`` devices
  (virtio-blk) and NVMe namespaces, with a partition suffix removed
  (``vda1`` -> ``vda``, ``nvme0n1p2`` -> ``nvme0n1``).
- Default route: the interface of the ``00000000`` destination in
  ``proc/net/route`` (IPv4) and of ``::/0`` in ``proc/net/ipv6_route``
  (kernel net/ipv4/fib_trie.c fib_route_seq_show, net/ipv6/route.c
  ipv6_route_native_seq_show), through bonds, bridges and VLANs to the
  PCI functions below them (``sys/class/net/<if>/lower_*`` links, kernel
  Documentation/ABI/testing/sysfs-class-net).

Every answer carries its reason.  When a source file is missing (an old
snapshot), ``unknown`` says which check could not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rmctl.discovery import paths as P

PROC_SWAPS = "proc/swaps"
PROC_NET_ROUTE = "proc/net/route"
PROC_NET_IPV6_ROUTE = "proc/net/ipv6_route"
SYS_CLASS_BLOCK = "sys/class/block"
_PCI_ADDR = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\Z")
_MAX_DEPTH = 8  # stacked block/net devices followed at most this deep (dm on md on nvme...)

#: root-relative globs of what this module reads (the snapshot manifest takes them)
GLOBS: list[str] = [PROC_SWAPS, PROC_NET_ROUTE, PROC_NET_IPV6_ROUTE,
                    f"{SYS_CLASS_BLOCK}/*", f"{SYS_CLASS_BLOCK}/*/slaves/*", f"{SYS_CLASS_BLOCK}/*/partition",
                    f"{SYS_CLASS_BLOCK}/*/dm/name", f"{P.SYS_CLASS_NET}/*", f"{P.SYS_CLASS_NET}/*/lower_*"]


@dataclass
class InUse:
    """PCI address -> why the node uses it; ``unknown``: checks that could not run, and why."""

    reasons: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    def add(self, address: str, reason: str) -> None:
        got = self.reasons.setdefault(address, [])
        if reason not in got:
            got.append(reason)


def default_route_interfaces(route_text: str | None, ipv6_text: str | None) -> list[str]:
    """Return the interfaces of the IPv4 and IPv6 default routes, in file order, without repeats."""
    out: list[str] = []
    for line in (route_text or "").splitlines()[1:]:  # a header line first
        f = line.split()
        # Iface Destination Gateway Flags RefCnt Use Metric Mask ...: destination and mask 0 = default
        if len(f) >= 8 and f[1] == "00000000" and f[7] == "00000000" and f[0] not in out:
            out.append(f[0])
    for line in (ipv6_text or "").splitlines():
        f = line.split()
        # dest dest_plen src src_plen next_hop metric refcnt use flags iface
        if len(f) >= 10 and set(f[0]) == {"0"} and f[1] == "00" and f[9] != "lo" and f[9] not in out:
            out.append(f[9])
    return out


def _swap_devices(text: str | None) -> list[str]:
    out = []
    for line in (text or "").splitlines()[1:]:
        f = line.split()
        if f and f[0].startswith("/dev/"):
            out.append(f[0])
    return out


def _pci_in_path(real: str | None, known: set[str]) -> str | None:
    """Return the last PCI address among the components of a sysfs real path that is a known function."""
    if not real:
        return None
    for part in reversed(real.split("/")):
        if _PCI_ADDR.match(part) and part in known:
            return part
    return None


def _strip_partition(name: str) -> str:
    m = re.match(r"^(nvme\d+n\d+|mmcblk\d+)p\d+\Z", name)
    if m:
        return m.group(1)
    return re.sub(r"(?<=[a-z])\d+$", "", name) if re.match(r"^(sd|vd|xvd|hd)[a-z]+\d+\Z", name) else name


def _block_name(root, source: str) -> str | None:
    """Return the kernel block device name of a mount source (``/dev/vda1`` -> vda1, dm names resolved)."""
    if not source.startswith("/dev/"):
        return None
    name = source[len("/dev/"):]
    if name.startswith("mapper/"):
        want = name[len("mapper/"):]
        for dm in root.listdir(SYS_CLASS_BLOCK):
            if dm.startswith("dm-") and root.read_strip(f"{SYS_CLASS_BLOCK}/{dm}/dm/name") == want:
                return dm
        return None
    if name.startswith("disk/"):  # /dev/disk/by-*: links under /dev, which sysfs does not show
        return None
    return name.rsplit("/", 1)[-1]  # /dev/vda1, /dev/md/0 -> md0 is named by its link; the last part


def _block_functions(root, name: str, devices, known: set[str], depth: int = 0) -> set[str]:
    """Return the PCI functions under block device ``name`` (partitions, dm and md members followed)."""
    if depth > _MAX_DEPTH or not re.fullmatch(r"[A-Za-z0-9._:-]+", name):
        return set()
    base = f"{SYS_CLASS_BLOCK}/{name}"
    if root.exists(base):
        slaves = root.listdir(f"{base}/slaves")
        if slaves:
            out: set[str] = set()
            for s in slaves:
                out |= _block_functions(root, s, devices, known, depth + 1)
            return out
        addr = _pci_in_path(root.realpath(base), known)
        if addr:
            return {addr}
    whole = _strip_partition(name)
    for d in devices:
        names = set(d.block) | {ns.name for c in d.nvme for ns in c.namespaces}
        if whole in names or name in names:
            return {str(d.address)}
    return set()


def _net_functions(root, ifname: str, by_if: dict[str, str], known: set[str], depth: int = 0) -> set[str]:
    """Return the PCI functions carrying interface ``ifname`` (bond, bridge, VLAN members followed)."""
    if depth > _MAX_DEPTH or not re.fullmatch(r"[A-Za-z0-9._:@-]+", ifname):
        return set()
    if ifname in by_if:
        return {by_if[ifname]}
    base = f"{P.SYS_CLASS_NET}/{ifname}"
    addr = _pci_in_path(root.realpath(base), known)
    if addr:
        return {addr}
    out: set[str] = set()
    for entry in root.listdir(base):
        if entry.startswith("lower_"):
            out |= _net_functions(root, entry[len("lower_"):], by_if, known, depth + 1)
    return out


def devices_in_use(root, devices) -> InUse:
    """Return the PCI functions of ``devices`` the node uses itself (see the module docstring)."""
    from rmctl.discovery.parse import parse_mounts

    res = InUse()
    known = {str(d.address) for d in devices}
    mounts = root.read(P.PROC_MOUNTS)
    if mounts is None:
        res.unknown.append(f"mounted filesystems: no {P.PROC_MOUNTS}")
    for src, path, _fstype, _ in parse_mounts(mounts or ""):
        name = _block_name(root, src)
        if name is None:
            continue
        what = "the root filesystem" if path == "/" else f"a mounted filesystem ({path})"
        for addr in _block_functions(root, name, devices, known):
            res.add(addr, f"holds {what} on {src}")
    swaps = root.read(PROC_SWAPS)
    for src in _swap_devices(swaps):
        name = _block_name(root, src)
        for addr in _block_functions(root, name, devices, known) if name else ():
            res.add(addr, f"holds swap on {src}")
    route, route6 = root.read(PROC_NET_ROUTE), root.read(PROC_NET_IPV6_ROUTE)
    if route is None and route6 is None:
        res.unknown.append(f"default route: no {PROC_NET_ROUTE} (a snapshot taken before rmctl captured it)")
    by_if = {n.name: str(d.address) for d in devices for n in d.net}
    for ifname in default_route_interfaces(route, route6):
        for addr in _net_functions(root, ifname, by_if, known):
            via = "" if by_if.get(ifname) == addr else f" (under {ifname})"
            res.add(addr, f"carries the default route{via}")
    return res
