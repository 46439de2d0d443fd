"""PCI model: addresses, class -> kind, versions, virtio types, tree position, attributes."""

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery.pci import hierarchy
from rmctl.errors import ParseError
from rmctl.model.pci import (
    GpuInfo,
    PciAddress,
    PciDevice,
    Version,
    attribute_type,
    build_attributes,
    class_kind,
    virtio_type,
)


@pytest.mark.parametrize("text,canon", [
    ("0000:3b:00.0", "0000:3b:00.0"),
    ("3b:00.0", "0000:3b:00.0"),
    ("00000000:00:06.0", "0000:00:06.0"),  # NVML's 8-digit domain
    ("10000:00:02.0", "10000:00:02.0"),  # VMD / Hyper-V 32-bit domain keeps its width
    ("0000:AF:1E.7", "0000:af:1e.7"),
    ("ffffffff:ff:1f.7", "ffffffff:ff:1f.7"),
])
def test_address_round_trip(text, canon):
    a = PciAddress.parse(text)
    assert str(a) == canon
    assert PciAddress.parse(str(a)) == a


@pytest.mark.parametrize("bad", ["", "0000:00:06", "0000:00:06.8", "g000:00:06.0", "0000:000:06.0", "x"])
def test_address_rejects(bad):
    with pytest.raises(ParseError):
        PciAddress.parse(bad)
    assert PciAddress.try_parse(bad) is None


def test_addresses_order_numerically():
    addrs = [PciAddress.parse(a) for a in ("10000:00:00.0", "0000:3b:00.0", "0000:0a:00.1", "0000:0a:00.0")]
    assert [str(a) for a in sorted(addrs)] == ["0000:0a:00.0", "0000:0a:00.1", "0000:3b:00.0", "10000:00:00.0"]


@pytest.mark.parametrize("code,kind", [
    (0x030000, "gpu"), (0x030200, "gpu"), (0x038000, "gpu"),
    (0x020000, "nic"), (0x028000, "nic"), (0x020700, "rdma"),
    (0x120000, "accel"), (0x120100, "accel"), (0x0B4000, "accel"),
    (0x010802, "nvme"), (0x010601, "storage"), (0x010000, "storage"), (0x018000, "storage"),
    (0x060400, "bridge"), (0x060000, "bridge"),
    (0x0C0330, "other"), (0xFFFF00, "other"), (0x0B2000, "other"),
])
def test_class_kind(code, kind):
    assert class_kind(code) == kind


@pytest.mark.parametrize("text,ver", [("9.0", "9.0.0"), ("580.159.04", "580.159.4"), ("8.6", "8.6.0"),
                                      ("12", "12.0.0"), ("", None), ("n/a", None)])
def test_version_from_text(text, ver):
    v = Version.from_text(text)
    assert (None if v is None else str(v)) == ver
    if v is not None:
        assert attribute_type(v) == "version"


def test_attribute_types():
    assert attribute_type(True) == "bool"
    assert attribute_type(3) == "int"
    assert attribute_type("x") == "string"


@pytest.mark.parametrize("vendor,device,t", [
    (0x1AF4, 0x1041, "net"), (0x1AF4, 0x1042, "block"), (0x1AF4, 0x1053, "vsock"), (0x1AF4, 0x1044, "rng"),
    (0x1AF4, 0x1045, "balloon"), (0x1AF4, 0x1000, "net"), (0x1AF4, 0x1001, "block"),
    (0x8086, 0x1041, None), (0x1AF4, 0x1110, None),
])
def test_virtio_type(vendor, device, t):
    assert virtio_type(vendor, device) == t


def test_hierarchy_from_real_path():
    # the shape of hwloc-32intel64-2p8co2t+8ve's InfiniBand card
    real = "sys/devices/pci0000:17/0000:17:00.0/0000:18:00.0/0000:19:04.0/0000:1a:00.0"
    assert hierarchy(real) == ("pci0000:17", "0000:17:00.0", "0000:19:04.0")
    assert hierarchy("sys/devices/pci0000:00/0000:00:06.0") == ("pci0000:00", None, None)
    assert hierarchy("sys/devices/pci10000:00/10000:00:04.0") == ("pci10000:00", None, None)
    # a VMD domain nested below a root-bus function: the host bridge is the first directory (DRA)
    vmd = "sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0"
    assert hierarchy(vmd) == ("pci0000:00", "0000:00:0e.0", "10000:e0:06.0")
    assert hierarchy("sys/bus/pci/devices/0000:00:06.0") == (None, None, None)
    assert hierarchy(None) == (None, None, None)


class _Node:
    def __init__(self, cpus):
        self.cpus = CpuSet.parse(cpus)


def _dev(**kw):
    base = dict(address=PciAddress.parse("0000:00:06.0"), vendor=0x10DE, device=0x2335,
                class_code=0x030200, kind="gpu")
    base.update(kw)
    return PciDevice(**base)


def test_local_nodes_prefers_numa_node_then_local_cpus():
    nodes = {0: _Node("0-7"), 1: _Node("8-15")}
    assert _dev(numa_node=1, local_cpus=CpuSet.parse("0-15")).local_nodes(nodes) == (1,)
    assert _dev(local_cpus=CpuSet.parse("8-15")).local_nodes(nodes) == (1,)
    assert _dev(local_cpus=CpuSet.parse("0-15")).local_nodes(nodes) == (0, 1)
    assert _dev().local_nodes(nodes) == ()


def test_attributes_of_a_gpu_with_nvml():
    d = _dev(driver="nvidia", local_cpus=CpuSet.parse("0-15"), pcie_root="pci0000:00",
             gpu=GpuInfo(source="nvml", product_name="NVIDIA H200", memory_bytes=150754820096,
                         uuid="GPU-1234", compute_capability="9.0", mig_mode=(0, 0),
                         driver_version="580.159.04"))
    a, c = build_attributes(d)
    assert a["resource.kubernetes.io/pciBusID"] == "0000:00:06.0"
    assert a["resource.kubernetes.io/pcieRoot"] == "pci0000:00"
    assert "resource.kubernetes.io/numaNode" not in a  # unknown: DRA has no null
    assert "rmctl.io/numa" not in a
    assert a["rmctl.io/vendor"] == "0x10de" and a["rmctl.io/device"] == "0x2335"
    assert a["rmctl.io/class"] == "0x030200" and a["rmctl.io/kind"] == "gpu"
    assert a["rmctl.io/productName"] == "NVIDIA H200"
    assert a["rmctl.io/uuid"] == "GPU-1234"
    assert a["rmctl.io/computeCapability"] == "9.0.0"
    assert isinstance(a["rmctl.io/computeCapability"], Version)
    assert a["rmctl.io/driverVersion"] == "580.159.4"
    assert a["rmctl.io/migMode"] is False
    assert c == {"rmctl.io/memory": 150754820096}
    for v in a.values():
        assert attribute_type(v) in ("bool", "int", "string", "version")


def test_numa_attributes_when_known():
    a, _ = build_attributes(_dev(numa_node=1))
    assert a["resource.kubernetes.io/numaNode"] == 1
    assert a["rmctl.io/numa"] == 1


def test_to_data_contract_keys():
    d = _dev(local_cpus=CpuSet.parse("0-15")).to_data()
    for key in ("address", "vendor", "device", "class", "kind", "numa_node", "local_cpus", "driver",
                "attributes", "capacity"):
        assert key in d
    assert d["vendor"] == "0x10de" and d["device"] == "0x2335" and d["class"] == "0x030200"
    assert d["numa_node"] is None and d["local_cpus"] == "0-15" and d["driver"] is None
