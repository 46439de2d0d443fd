"""A real rmctl capture of an H200 host (tests/fixtures/snapshots/h200-vm-capture.tar.gz) read offline."""

import json
import os
import tarfile

from rmctl.discovery import Root, discover

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURE = os.path.join(os.path.dirname(HERE), "fixtures", "snapshots", "h200-vm-capture.tar.gz")


def test_capture_holds_no_identities():
    with tarfile.open(CAPTURE) as tf:
        names = tf.getnames()
        facts = json.load(tf.extractfile(next(n for n in names if n.endswith("rmctl-facts.json"))))
        text = b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()).decode("utf-8", "replace")
    assert facts["identities_kept"] is False
    assert "uuid" not in json.dumps(facts) and "GPU-" not in text
    assert not [n for n in names if n.endswith(("/hostname", "/boot_id", "/serial", "/config"))]


def test_devices_read_back_with_nvml_facts(run_cli):
    code, out, err = run_cli("--root", CAPTURE, "devices", "list", "--kind", "gpu", "-o", "json")
    assert code == 0, err
    (gpu,) = json.loads(out)["devices"]
    assert (gpu["address"], gpu["vendor"], gpu["device"], gpu["class"]) == ("0000:00:06.0", "0x10de", "0x2335", "0x030200")
    assert gpu["numa_node"] is None and gpu["local_cpus"] == "0-15" and gpu["driver"] == "nvidia"
    a = gpu["attributes"]
    assert a["rmctl.io/productName"] == "NVIDIA H200"
    assert a["rmctl.io/computeCapability"] == "9.0.0"
    assert "rmctl.io/uuid" not in a and "resource.kubernetes.io/numaNode" not in a
    assert gpu["capacity"]["rmctl.io/memory"] == 150754820096


def test_topology_of_the_capture():
    node = discover(Root.open(CAPTURE))
    assert node.topology.online_cpus().to_list() == "0-15"
    assert list(node.topology.nodes) == [0]
    assert node.source.kernel == "6.18.44-fc-v657-gpu" and node.source.arch == "x86_64"


def test_a_gpu_request_fits_and_a_too_large_one_does_not(run_cli, tmp_path):
    req = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  topologyPolicy: best-effort
  cpus: {count: 8}
  devices:
  - name: gpu
    class: gpu
    selectors:
    - cel: 'device.capacity["rmctl.io"].memory.compareTo(quantity("%s")) >= 0'
"""
    small, big = tmp_path / "small.yaml", tmp_path / "big.yaml"
    small.write_text(req % "100Gi")
    big.write_text(req % "200Gi")
    code, out, err = run_cli("--root", CAPTURE, "request", "evaluate", str(small), "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["fits"] is True and doc["devices"] == ["0000:00:06.0"] and len(doc["cpus"].split(",")) >= 1
    code, out, _ = run_cli("--root", CAPTURE, "request", "evaluate", str(big), "-o", "json")
    assert code == 4 and json.loads(out)["fits"] is False
