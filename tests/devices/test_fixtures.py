"""Device discovery on real snapshots (numbers come from the snapshots' own files).

Inspect one with: tar -xjf ../shared/fixtures/sysfs/hwloc-32intel64-2p8co2t+8ve.tar.bz2
and ls -l <top>/sys/bus/pci/devices.
"""

import os

import pytest

from rmctl.discovery import discover
from rmctl.discovery.pci import read_devices
from rmctl.discovery.root import Root
from tests.devices.helpers import GPU_NODE_TARBALL, gpu_node_snapshot


def _devices(root):
    findings = []
    return read_devices(root, findings), findings


def test_32intel64_every_device_with_sysfs_numa_node(fixture_root):
    base = fixture_root("hwloc-32intel64-2p8co2t+8ve")
    root = Root.open(base)
    devs, _ = _devices(root)
    bus = os.path.join(base, "sys/bus/pci/devices")
    names = sorted(os.listdir(bus))
    assert len(names) == 28  # the fixture README: "PCI tree (28 devices)"
    assert [str(d.address) for d in devs] == names
    for d in devs:
        with open(os.path.join(bus, str(d.address), "numa_node")) as f:
            assert d.numa_node == int(f.read())
        assert d.local_cpus is not None and d.local_cpus.to_list() == "0-7,16-23"
    by = {str(d.address): d for d in devs}
    ib = by["0000:1a:00.0"]  # Mellanox ConnectX-4, class 0x0207 InfiniBand
    assert (ib.kind, ib.vendor_hex, ib.device_hex, ib.class_hex, ib.driver) == \
        ("rdma", "0x15b3", "0x1013", "0x020700", "mlx5_core")
    assert (ib.pcie_root, ib.root_port, ib.parent) == ("pci0000:17", "0000:17:00.0", "0000:19:04.0")
    assert ib.attributes["resource.kubernetes.io/pcieRoot"] == "pci0000:17"
    assert ib.attributes["resource.kubernetes.io/numaNode"] == 0
    ve = by["0000:1b:00.0"]  # NEC Vector Engine, class 0x0b40 co-processor
    assert ve.kind == "accel" and ve.driver == "ve_drv"
    nic = by["0000:60:00.0"]  # Intel X722, with its netdev and SR-IOV capability
    assert nic.kind == "nic" and nic.driver == "i40e"
    assert [n.name for n in nic.net] == ["enp96s0f0"]
    assert nic.net[0].speed_mbps == 1000 and nic.net[0].mtu == 1500 and nic.net[0].operstate == "up"
    assert (nic.sriov.role, nic.sriov.total_vfs, nic.sriov.num_vfs) == ("pf", 64, 0)
    assert nic.label == "Intel Ethernet X772"
    # 0000:5f:03.0 is on the path but not in the snapshot's bus directory
    assert (nic.root_port, nic.parent) == ("0000:5d:02.0", "0000:5f:03.0")
    assert nic.capacity["rmctl.io/speed"] == 1_000_000_000
    assert nic.link.max_generation == 3 and nic.link.max_width == 1
    assert sum(d.kind == "bridge" for d in devs) == 16


def test_32bit_pci_domain(fixture_root):
    root = Root.open(fixture_root("hwloc-2pa-pcidomain32bits"))
    devs, _ = _devices(root)
    addrs = [str(d.address) for d in devs]
    assert "10000:00:04.0" in addrs and "10000:00:00.0" in addrs
    assert addrs == sorted(addrs, key=lambda a: (int(a.split(":")[0], 16), a))
    d = next(d for d in devs if str(d.address) == "10000:00:04.0")
    assert d.address.domain == 0x10000
    assert d.pcie_root == "pci10000:00"
    assert d.kind == "storage" and d.virtio == "block"
    assert d.attributes["resource.kubernetes.io/pciBusID"] == "10000:00:04.0"
    assert all(x.numa_node is None for x in devs)  # a VM: numa_node -1 everywhere


def test_gpu_node_h200_from_sysfs_alone():
    root = Root.open(GPU_NODE_TARBALL)  # the tarball itself, as --root takes it
    devs, findings = _devices(root)
    gpu = [d for d in devs if d.kind == "gpu"]
    assert len(gpu) == 1
    g = gpu[0]
    assert str(g.address) == "0000:00:06.0"
    assert (g.vendor_hex, g.device_hex, g.class_hex) == ("0x10de", "0x2335", "0x030200")
    assert g.numa_node is None  # sysfs says -1
    assert g.local_cpus.to_list() == "0-15"
    assert g.driver == "nvidia"
    assert g.link.max_generation == 5 and g.link.max_width == 16
    assert g.gpu is None
    assert any(f.code == "nvml_no_facts" for f in findings)


def test_gpu_node_with_recorded_nvml_facts(tmp_path):
    root = Root.open(gpu_node_snapshot(tmp_path))
    node = discover(root, devices=True)
    g = next(d for d in node.devices if d.kind == "gpu")
    assert g.gpu is not None and g.gpu.source == "facts"
    a = g.attributes
    assert a["rmctl.io/productName"] == "NVIDIA H200"
    assert a["rmctl.io/computeCapability"] == "9.0.0"
    assert g.gpu.compute_capability == "9.0"
    assert a["rmctl.io/migMode"] is False
    assert a["rmctl.io/driverVersion"] == "580.159.4"
    assert g.capacity["rmctl.io/memory"] == 150754820096
    assert g.local_nodes(node.topology.nodes) == (0,)  # locality from local_cpulist


def test_dev_vm_virtio_devices(node_root):
    root = Root.open(node_root("dev-vm"))
    devs, _ = _devices(root)
    virtio = {str(d.address): d.virtio for d in devs if d.virtio}
    assert virtio == {"0000:00:01.0": "balloon", "0000:00:02.0": "block", "0000:00:03.0": "net",
                      "0000:00:04.0": "vsock", "0000:00:05.0": "rng"}
    assert all(d.driver == "virtio-pci" for d in devs if d.virtio)
    net = next(d for d in devs if d.virtio == "net")
    assert net.kind == "nic" and [n.name for n in net.net] == ["eth0"]
    assert net.net[0].mtu == 1400 and net.net[0].operstate == "up"
    assert "rmctl.io/interface" in net.attributes
    assert not any("mac" in k.lower() for k in net.attributes)  # the MAC is detail, not an attribute
    blk = next(d for d in devs if d.virtio == "block")
    assert blk.kind == "storage" and blk.block == ("vda",)


@pytest.mark.parametrize("spec", ["gpu-node", "dev-vm", "hwloc-32intel64-2p8co2t+8ve", "hwloc-2pa-pcidomain32bits"])
def test_no_config_file_is_opened(spec, fixture_root, node_root):
    path = node_root(spec) if spec in ("gpu-node", "dev-vm") else fixture_root(spec)
    root = Root.open(path, record=True)
    devs, _ = _devices(root)
    assert devs
    opened = root.opened
    assert any(p.endswith("/vendor") for p in opened)  # the recording works
    assert not [p for p in opened if p.rstrip("/").endswith("/config") or "/config/" in p]
    # and the snapshots do have config files that could have been read
    if spec.startswith("hwloc-32"):
        assert os.path.exists(os.path.join(path, "sys/bus/pci/devices/0000:1a:00.0/config"))
    if spec == "gpu-node":
        assert os.path.exists(os.path.join(path, "sys/bus/pci/devices/0000:00:06.0/serial_number"))


def test_no_serial_number_is_read(node_root):
    root = Root.open(node_root("gpu-node"), record=True)
    _devices(root)
    assert not [p for p in root.opened if p.endswith("serial_number") or p.endswith("/serial")]
