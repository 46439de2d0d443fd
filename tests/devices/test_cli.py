"""`rmctl devices list|show` and the devices in `topology --tree`, through the CLI."""

import json

import yaml

from tests import synth
from tests.devices.helpers import gpu_node_snapshot
from tests.synth import Device


def _two_node_tree(tmp_path):
    return synth.build(tmp_path, sockets=2, cores=2, threads=1, devices=[
        Device("0000:17:00.0", numa_node=0, driver="nvidia"),
        Device("0000:3b:00.0", vendor="0x8086", device="0x1593", cls="0x020000", numa_node=1, driver="ice"),
        Device("0000:5d:00.0", vendor="0x144d", device="0xa80a", cls="0x010802", numa_node=-1, local_cpus="2-3"),
        Device("0000:00:00.0", vendor="0x8086", device="0x09a2", cls="0x060000", numa_node=0),
    ])


def test_list_json_contract(tmp_path, run_cli):
    code, out, err = run_cli("--root", _two_node_tree(tmp_path), "devices", "list", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["apiVersion"], doc["kind"], doc["schemaVersion"]) == ("rmctl.io/v1alpha1", "DeviceList", 1)
    assert [d["address"] for d in doc["devices"]] == ["0000:00:00.0", "0000:17:00.0", "0000:3b:00.0", "0000:5d:00.0"]
    g = doc["devices"][1]
    assert (g["vendor"], g["device"], g["class"], g["kind"], g["numa_node"], g["driver"]) == \
        ("0x10de", "0x2335", "0x030200", "gpu", 0, "nvidia")
    assert g["local_cpus"] == "0-1"  # node 0 of the synth tree
    assert g["attributes"]["resource.kubernetes.io/numaNode"] == 0
    assert isinstance(g["capacity"], dict)
    nvme = doc["devices"][3]
    assert nvme["numa_node"] is None and nvme["driver"] is None and nvme["kind"] == "nvme"


def test_list_filters(tmp_path, run_cli):
    root = _two_node_tree(tmp_path)

    def addrs(*args):
        code, out, err = run_cli("--root", root, "devices", "list", *args, "-o", "json")
        assert code == 0, err
        return [d["address"] for d in json.loads(out)["devices"]]

    assert addrs("--kind", "gpu") == ["0000:17:00.0"]
    assert addrs("--kind", "nic", "--kind", "nvme") == ["0000:3b:00.0", "0000:5d:00.0"]
    assert addrs("-k", "GPU") == ["0000:17:00.0"]
    assert addrs("--numa", "1") == ["0000:3b:00.0", "0000:5d:00.0"]  # 5d: numa -1, local CPUs 2-3 = node 1
    assert addrs("--numa", "0", "--kind", "gpu") == ["0000:17:00.0"]
    assert addrs("--kind", "accel") == []


def test_list_bad_filters_exit_2(tmp_path, run_cli):
    root = _two_node_tree(tmp_path)
    code, out, err = run_cli("--root", root, "devices", "list", "--numa", "7", "-o", "json")
    assert code == 2
    assert json.loads(out)["kind"] == "Error"
    assert "NUMA node 7" in err and "nodes: 0,1" in err
    code, out, err = run_cli("--root", root, "devices", "list", "--kind", "fpga")
    assert code == 2 and "Traceback" not in err


def test_list_yaml_and_table(tmp_path, run_cli):
    root = _two_node_tree(tmp_path)
    code, out, err = run_cli("--root", root, "devices", "list", "-o", "yaml")
    assert code == 0, err
    assert yaml.safe_load(out)["devices"][2]["kind"] == "nic"
    code, out, err = run_cli("--root", root, "devices", "list")
    assert code == 0, err
    for text in ("0000:17:00.0", "gpu", "nvidia", "0000:5d:00.0", "nvme"):
        assert text in out
    assert "{" not in out


def test_show_device(tmp_path, run_cli):
    root = _two_node_tree(tmp_path)
    code, out, err = run_cli("--root", root, "devices", "show", "3b:00.0", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "Device" and doc["device"]["address"] == "0000:3b:00.0"
    assert doc["device"]["attributes"]["rmctl.io/driver"] == "ice"
    code, out, err = run_cli("--root", root, "devices", "show", "0000:3b:00.0")
    assert code == 0, err
    assert "resource.kubernetes.io/pciBusID" in out and "ice" in out


def test_show_unknown_address_exit_2_with_close_matches(tmp_path, run_cli):
    root = _two_node_tree(tmp_path)
    code, out, err = run_cli("--root", root, "devices", "show", "0000:3b:00.1", "-o", "json")
    assert code == 2
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["exit_code"] == 2
    assert "0000:3b:00.0" in doc["error"]["details"]["close_matches"]
    assert "did you mean 0000:3b:00.0" in err
    code, out, err = run_cli("--root", root, "devices", "show", "not-an-address")
    assert code == 2 and "not a PCI address" in err and "Traceback" not in err


def test_gpu_node_snapshot_with_nvml_facts(tmp_path, run_cli):
    snap = gpu_node_snapshot(tmp_path)
    code, out, err = run_cli("--root", snap, "devices", "list", "--kind", "gpu", "-o", "json")
    assert code == 0, err
    (g,) = json.loads(out)["devices"]
    assert (g["address"], g["vendor"], g["device"], g["class"], g["kind"]) == \
        ("0000:00:06.0", "0x10de", "0x2335", "0x030200", "gpu")
    assert g["numa_node"] is None and g["local_cpus"] == "0-15"
    assert g["attributes"]["rmctl.io/productName"] == "NVIDIA H200"
    assert g["attributes"]["rmctl.io/computeCapability"] == "9.0.0"
    assert g["capacity"]["rmctl.io/memory"] == 150754820096
    assert g["gpu"]["compute_capability"] == "9.0" and g["gpu"]["source"] == "facts"
    code, out, err = run_cli("--root", snap, "devices", "list", "--numa", "0", "--kind", "gpu", "-o", "json")
    assert [d["address"] for d in json.loads(out)["devices"]] == ["0000:00:06.0"]  # via local CPUs


def test_topology_tree_shows_devices_under_their_node(tmp_path, run_cli):
    code, out, err = run_cli("--root", _two_node_tree(tmp_path), "topology", "--tree")
    assert code == 0, err
    lines = out.splitlines()

    def line_of(text):
        return next(i for i, ln in enumerate(lines) if text in ln)

    n0, n1 = line_of("NUMA node 0"), line_of("NUMA node 1")
    assert n0 < line_of("PCI 0000:17:00.0") < n1 < line_of("PCI 0000:3b:00.0")
    nvme = lines[line_of("PCI 0000:5d:00.0")]  # numa -1: under the machine
    assert nvme.startswith(("├── PCI", "└── PCI"))
    assert nvme.endswith("local CPUs 2-3")  # the locality left when the node is unknown
    assert "local CPUs" not in lines[line_of("PCI 0000:17:00.0")]  # under its node: the node says it
    assert not [ln for ln in lines if "0000:00:00.0" in ln]  # bridges are left out


def test_live_list_runs(run_cli):
    code, out, err = run_cli("devices", "list", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    for d in doc["devices"]:
        assert d["numa_node"] is None or d["numa_node"] >= 0
