"""Network interfaces and RDMA devices of a PCI function, from sysfs.

``<dev>/net/<ifname>/{address,speed,mtu,operstate}`` (kernel
Documentation/ABI/testing/sysfs-class-net) and
``<dev>/infiniband/<ibdev>/ports/<n>/{state,phys_state,link_layer,rate}``
(Documentation/ABI/stable/sysfs-class-infiniband).  Both directories sit in
the PCI function's own directory, so one walk of sys/bus/pci/devices finds
them; sys/class/net and sys/class/infiniband hold links to the same places.
"""

from __future__ import annotations

from rmctl.discovery import paths
from rmctl.model.pci import NetInterface, RdmaDevice, RdmaPort


def read_net(root, dev_rel: str) -> tuple[NetInterface, ...]:
    """Return the network interfaces under ``<dev_rel>/net``, by name."""
    out = []
    for name in root.listdir(f"{dev_rel}/net"):
        base = f"{dev_rel}/net/{name}"
        speed = root.read_int(f"{base}/speed")  # EINVAL (None) or -1 when the link is down
        out.append(NetInterface(
            name=name,
            mac=root.read_strip(f"{base}/address") or None,
            speed_mbps=speed if speed is not None and speed > 0 else None,
            mtu=root.read_int(f"{base}/mtu"),
            operstate=root.read_strip(f"{base}/operstate") or None,
        ))
    return tuple(out)


def _after_colon(text: str | None) -> str | None:
    """Return "ACTIVE" from "4: ACTIVE" (state files carry the enum number first)."""
    if not text:
        return None
    return text.split(":", 1)[1].strip() if ":" in text else text.strip()


def read_rdma(root, dev_rel: str) -> tuple[RdmaDevice, ...]:
    """Return the RDMA devices under ``<dev_rel>/infiniband`` with their ports."""
    out = []
    for ibdev in root.listdir(f"{dev_rel}/infiniband"):
        ports = []
        pbase = f"{dev_rel}/infiniband/{ibdev}/ports"
        for p in sorted(root.listdir(pbase), key=lambda s: int(s) if s.isdigit() else 1 << 30):
            if not p.isdigit():
                continue
            files = {f: root.read_strip(f"{pbase}/{p}/{f}") for f in paths.IB_PORT_FILES}
            ports.append(RdmaPort(
                port=int(p),
                state=_after_colon(files["state"]),
                phys_state=_after_colon(files["phys_state"]),
                link_layer=files["link_layer"] or None,
                rate=files["rate"] or None,
            ))
        out.append(RdmaDevice(name=ibdev, ports=tuple(ports)))
    return tuple(out)
