"""Device discovery on synthetic trees: SR-IOV, InfiniBand, NVMe, DRM, IOMMU, pci.ids, odd files."""

import json
import os

from rmctl.discovery import discover
from rmctl.discovery.pci import read_devices
from rmctl.discovery.pciids import parse_pci_ids
from rmctl.discovery.root import Root
from tests import synth
from tests.synth import Device

PCI_IDS = """\
# a cut of pci.ids
10de  NVIDIA Corporation
\t2335  GH100 [H200 SXM 141GB]
\t\t10de 18bf  H200 SXM 141GB
15b3  Mellanox Technologies
\t101b  MT28908 Family [ConnectX-6]
\t101c  MT28908 Family [ConnectX-6 Virtual Function]
144d  Samsung Electronics Co Ltd
\ta80a  NVMe SSD Controller PM9A1/PM9A3/980PRO
C 00  Unclassified device
\t00  Non-VGA unclassified device
C 02  Network controller
"""


def _pf_vf_ib_nvme(tmp_path, **kw):
    pf, vf0, vf1 = "0000:3b:00.0", "0000:3b:00.2", "0000:3b:00.3"
    ib = "infiniband/mlx5_0/ports/1/"
    devices = [
        Device(pf, vendor="0x15b3", device="0x101b", cls="0x020000", numa_node=1, driver="mlx5_core",
               extra={"sriov_totalvfs": "8\n", "sriov_numvfs": "2\n",
                      "net/ens1f0/address": "0c:42:a1:00:00:01\n", "net/ens1f0/speed": "100000\n",
                      "net/ens1f0/mtu": "9000\n", "net/ens1f0/operstate": "up\n",
                      ib + "state": "4: ACTIVE\n", ib + "phys_state": "5: LinkUp\n",
                      ib + "link_layer": "Ethernet\n", ib + "rate": "100 Gb/sec (2X HDR)\n",
                      "current_link_speed": "16.0 GT/s PCIe\n", "current_link_width": "8\n",
                      "max_link_speed": "16.0 GT/s PCIe\n", "max_link_width": "16\n"},
               links={"virtfn0": f"../{vf0}", "virtfn1": f"../{vf1}", "iommu_group": "../../../kernel/iommu_groups/17"}),
        Device(vf0, vendor="0x15b3", device="0x101c", cls="0x020000", numa_node=1, driver="mlx5_core",
               extra={"net/ens1f0v0/address": "aa:bb:cc:00:00:02\n", "net/ens1f0v0/speed": "-1\n",
                      "net/ens1f0v0/operstate": "down\n"},
               links={"physfn": f"../{pf}"}),
        Device(vf1, vendor="0x15b3", device="0x101c", cls="0x020000", numa_node=1, links={"physfn": f"../{pf}"}),
        Device("0000:5e:00.0", vendor="0x15b3", device="0x101b", cls="0x020700", numa_node=0, driver="mlx5_core",
               extra={"infiniband/mlx5_1/ports/1/state": "1: DOWN\n",
                      "infiniband/mlx5_1/ports/1/link_layer": "InfiniBand\n"}),
        Device("0000:c1:00.0", vendor="0x144d", device="0xa80a", cls="0x010802", numa_node=1, driver="nvme",
               extra={"nvme/nvme0/model": "SAMSUNG MZQL21T9HCJR-00A07          \n",
                      "nvme/nvme0/firmware_rev": "GDC5902Q\n", "nvme/nvme0/serial": "S64GNE0R000000\n",
                      "nvme/nvme0/nvme0n1/size": "3750748848\n"}),
        Device("0000:17:00.0", numa_node=0, driver="nvidia", extra={"drm/card1/dev": "226:1\n",
                                                                      "drm/renderD129/dev": "226:129\n"}),
        Device("0000:d8:00.0", vendor="0x1172", device="0x5052", cls="0x120000", numa_node=-1, local_cpus="4-7,12-15"),
    ]
    return synth.build(tmp_path, sockets=2, cores=4, threads=2, devices=devices, **kw)


def test_sriov_pf_and_vfs(tmp_path):
    devs = {str(d.address): d for d in read_devices(Root.open(_pf_vf_ib_nvme(tmp_path)), [])}
    pf = devs["0000:3b:00.0"]
    assert (pf.sriov.role, pf.sriov.total_vfs, pf.sriov.num_vfs) == ("pf", 8, 2)
    assert pf.sriov.vfs == ("0000:3b:00.2", "0000:3b:00.3")
    assert pf.iommu_group == 17
    assert pf.attributes["rmctl.io/sriovRole"] == "pf"
    assert pf.attributes["rmctl.io/sriovTotalVFs"] == 8
    assert pf.attributes["rmctl.io/iommuGroup"] == 17
    for vf in ("0000:3b:00.2", "0000:3b:00.3"):
        d = devs[vf]
        assert d.sriov.role == "vf" and d.sriov.physfn == "0000:3b:00.0"
        assert d.attributes["rmctl.io/physfn"] == "0000:3b:00.0"
        assert d.attributes["rmctl.io/sriovRole"] == "vf"
    vf0 = devs["0000:3b:00.2"]
    assert vf0.net[0].speed_mbps is None and vf0.net[0].operstate == "down"
    assert devs["0000:3b:00.3"].driver is None and "rmctl.io/driver" not in devs["0000:3b:00.3"].attributes


def test_net_and_rdma_detail(tmp_path):
    devs = {str(d.address): d for d in read_devices(Root.open(_pf_vf_ib_nvme(tmp_path)), [])}
    pf = devs["0000:3b:00.0"]
    n = pf.net[0]
    assert (n.name, n.mac, n.speed_mbps, n.mtu, n.operstate) == ("ens1f0", "0c:42:a1:00:00:01", 100000, 9000, "up")
    assert pf.kind == "nic"  # an Ethernet NIC with RoCE stays a nic, with rdma detail
    (r,) = pf.rdma
    assert r.name == "mlx5_0"
    (p,) = r.ports
    assert (p.port, p.state, p.phys_state, p.link_layer, p.rate) == (1, "ACTIVE", "LinkUp", "Ethernet",
                                                                      "100 Gb/sec (2X HDR)")
    assert pf.attributes["rmctl.io/rdma"] is True
    assert pf.attributes["rmctl.io/linkLayer"] == "Ethernet"
    assert pf.capacity["rmctl.io/speed"] == 100_000_000_000
    assert pf.link.current_width == 8 and pf.link.max_width == 16 and pf.link.max_generation == 4
    ib = devs["0000:5e:00.0"]
    assert ib.kind == "rdma" and ib.rdma[0].ports[0].state == "DOWN"
    assert ib.attributes["rmctl.io/linkLayer"] == "InfiniBand"


def test_nvme_controller_and_namespace_without_serial(tmp_path):
    root = Root.open(_pf_vf_ib_nvme(tmp_path), record=True)
    devs = {str(d.address): d for d in read_devices(root, [])}
    d = devs["0000:c1:00.0"]
    assert d.kind == "nvme"
    (c,) = d.nvme
    assert (c.name, c.model, c.firmware) == ("nvme0", "SAMSUNG MZQL21T9HCJR-00A07", "GDC5902Q")
    assert [(n.name, n.size_bytes) for n in c.namespaces] == [("nvme0n1", 3750748848 * 512)]
    assert d.capacity["rmctl.io/storage"] == 3750748848 * 512
    assert not [p for p in root.opened if "serial" in p]
    assert "serial" not in json.dumps(d.to_data())


def test_gpu_drm_nodes_and_accel_locality(tmp_path):
    root = Root.open(_pf_vf_ib_nvme(tmp_path))
    node = discover(root, devices=True)
    devs = {str(d.address): d for d in node.devices}
    g = devs["0000:17:00.0"]
    assert g.kind == "gpu" and g.drm == ("card1", "renderD129")
    fpga = devs["0000:d8:00.0"]  # class 0x1200 processing accelerator: an FPGA
    assert fpga.kind == "accel" and fpga.numa_node is None
    assert fpga.local_cpus.to_list() == "4-7,12-15"  # node 1 of the synth tree
    assert fpga.local_nodes(node.topology.nodes) == (1,)
    assert "resource.kubernetes.io/numaNode" not in fpga.attributes


def test_unreadable_device_is_a_finding_not_a_failure(tmp_path):
    base = synth.build(tmp_path, devices=[Device("0000:00:01.0"), Device("0000:00:02.0")])
    os.unlink(os.path.join(base, "sys/devices/pci0000:00/0000:00:02.0/class"))
    os.symlink("../../../devices/nowhere", os.path.join(base, "sys/bus/pci/devices/junk"))
    findings = []
    devs = read_devices(Root.open(base), findings)
    assert [str(d.address) for d in devs] == ["0000:00:01.0"]
    codes = {f.code for f in findings}
    assert {"pci_unreadable", "pci_bad_address"} <= codes


def test_unknown_link_speed_and_bad_local_cpus(tmp_path):
    base = synth.build(tmp_path, devices=[Device("0000:00:01.0", local_cpus="x-y",
                                                 extra={"current_link_speed": "Unknown\n",
                                                        "current_link_width": "0\n",
                                                        "max_link_speed": "Unknown speed\n"})])
    findings = []
    (d,) = read_devices(Root.open(base), findings)
    assert d.link.current_speed is None and d.link.current_width is None and d.link.max_gts is None
    assert d.local_cpus is None
    # the one cpulist reader's finding, naming the device's file
    assert any(f.code == "bad_cpulist" and "0000:00:01.0/local_cpulist" in f.path for f in findings)


def test_names_from_pci_ids_in_the_root(tmp_path):
    base = _pf_vf_ib_nvme(tmp_path)
    os.makedirs(os.path.join(base, "usr/share/hwdata"))
    with open(os.path.join(base, "usr/share/hwdata/pci.ids"), "w") as f:
        f.write(PCI_IDS)
    devs = {str(d.address): d for d in read_devices(Root.open(base), [])}
    g = devs["0000:17:00.0"]
    assert (g.vendor_name, g.device_name) == ("NVIDIA Corporation", "GH100 [H200 SXM 141GB]")
    assert g.subsystem_name is None  # synth subsystem device 0x0000 is not listed
    assert g.attributes["rmctl.io/vendorName"] == "NVIDIA Corporation"
    assert g.attributes["rmctl.io/deviceName"] == "GH100 [H200 SXM 141GB]"
    assert devs["0000:3b:00.2"].device_name == "MT28908 Family [ConnectX-6 Virtual Function]"
    fpga = devs["0000:d8:00.0"]  # not in the cut: hex ids, no name attributes
    assert fpga.vendor_name is None and "rmctl.io/vendorName" not in fpga.attributes
    assert fpga.name == "Device 1172:5052"  # lspci's words for an id pci.ids lacks
    nvme = devs["0000:c1:00.0"]  # vendor known, device too; the synth subsystem 144d:0000 is not listed
    assert (nvme.subsystem_vendor_name, nvme.subsystem_name) == ("Samsung Electronics Co Ltd", None)
    assert g.subsystem_vendor_name == "NVIDIA Corporation"


def test_name_without_device_entry_reads_like_lspci(tmp_path):
    base = synth.build(tmp_path, devices=[Device("0000:00:00.0", vendor="0x8086", device="0x0d57", cls="0x060000",
                                                 extra={"subsystem_vendor": "0x8086\n",
                                                        "subsystem_device": "0x0d57\n"})])
    os.makedirs(os.path.join(base, "usr/share/misc"))
    with open(os.path.join(base, "usr/share/misc/pci.ids"), "w") as f:
        f.write("8086  Intel Corporation\n\t0d4c  Ethernet Connection (11) I219-LM\n")
    (d,) = read_devices(Root.open(base), [])
    assert d.name == "Intel Corporation Device 0d57"  # lspci: "Intel Corporation Device 0d57"
    assert d.subsystem_name is None and d.subsystem_vendor_name == "Intel Corporation"


def test_subsystem_equal_to_device_is_named_as_the_device(tmp_path):
    # pciutils lib/names.c: subsystem ids that repeat the device ids name the device itself
    base = synth.build(tmp_path, devices=[Device("0000:00:03.0", vendor="0x1af4", device="0x1041", cls="0x020000",
                                                 extra={"subsystem_vendor": "0x1af4\n",
                                                        "subsystem_device": "0x1041\n"})])
    os.makedirs(os.path.join(base, "usr/share/misc"))
    with open(os.path.join(base, "usr/share/misc/pci.ids"), "w") as f:
        f.write("1af4  Red Hat, Inc.\n\t1041  Virtio 1.0 network device\n")
    (d,) = read_devices(Root.open(base), [])
    assert (d.subsystem_vendor_name, d.subsystem_name) == ("Red Hat, Inc.", "Virtio 1.0 network device")
    assert d.to_data()["subsystem_vendor_name"] == "Red Hat, Inc."


def test_parse_pci_ids_keeps_only_wanted_and_stops_at_classes():
    names = parse_pci_ids(PCI_IDS, [(0x10DE, 0x2335, 0x10DE, 0x18BF), (0x144D, 0xA80A, None, None)])
    assert names == {
        "0x10de": "NVIDIA Corporation", "0x10de:0x2335": "GH100 [H200 SXM 141GB]",
        "0x10de:0x2335:0x10de:0x18bf": "H200 SXM 141GB",
        "0x144d": "Samsung Electronics Co Ltd", "0x144d:0xa80a": "NVMe SSD Controller PM9A1/PM9A3/980PRO",
    }
    # class lines (C 02, then tab-indented subclasses) never look like device ids
    assert parse_pci_ids("C 02  Network\n\t00  Ethernet controller\n", [(0x2, 0x0, None, None)]) == {}


def test_names_from_the_snapshot_facts(tmp_path):
    base = synth.build(tmp_path, devices=[Device("0000:00:06.0", extra={"subsystem_device": "0x18bf\n"})])
    with open(os.path.join(base, "rmctl-facts.json"), "w") as f:
        json.dump({"pci_names": {"0x10de": "NVIDIA Corporation", "0x10de:0x2335": "GH100 [H200 SXM 141GB]"}}, f)
    (d,) = read_devices(Root.open(base), [])
    assert d.vendor_name == "NVIDIA Corporation" and d.device_name == "GH100 [H200 SXM 141GB]"


def test_pci_ids_read_only_when_devices_are_listed(tmp_path):
    base = _pf_vf_ib_nvme(tmp_path)
    root = Root.open(base, record=True)
    discover(root, devices=False)
    assert not [p for p in root.opened if "pci" in p]
