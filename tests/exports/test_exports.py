"""Kubernetes exports: shapes checked against the official schemas (kubernetes-validate)."""

import json

import pytest
import yaml

from tests import synth

#: the first kubernetes-validate schema set with resource.k8s.io/v1 (DRA GA in 1.34)
K8S_VERSION = "1.34.0"

PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: worker}
spec:
  systemReservedCPUs: {cpus: "0,8"}
  hugepages:
  - {pageSize: 2Mi, count: 8, node: 0, reserved: 2}
  - {pageSize: 1Gi, count: 2, node: 1, reserved: 1}
  kubelet: {topologyManagerPolicy: restricted, systemReservedMemory: 1Gi, kubeReservedMemory: 512Mi}
"""


@pytest.fixture
def node_root(tmp_path):
    return synth.build(tmp_path / "root", sockets=2, cores=4, threads=2, numa_per_socket=1,
                       hugepages={"per_node": {(0, 2048): 8}},
                       devices=[synth.Device("0000:3b:00.0", numa_node=1, driver="nvidia"),
                                synth.Device("0000:5e:00.0", vendor="0x8086", device="0x1592", cls="0x020000",
                                             numa_node=0, driver="ice")])


def _validate(doc):
    import kubernetes_validate

    return kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_resourceslice_validates_and_matches_device_attributes(run_cli, node_root):
    code, out, err = run_cli("--root", node_root, "export", "resourceslice", "-o", "json", "--node-name", "worker-1")
    assert code == 0, err
    doc = json.loads(out)
    _validate(doc)
    assert doc["apiVersion"] == "resource.k8s.io/v1" and doc["kind"] == "ResourceSlice"
    spec = doc["spec"]
    assert spec["nodeName"] == "worker-1" and spec["driver"] == "rmctl.io"
    assert spec["pool"] == {"name": "worker-1", "generation": 1, "resourceSliceCount": 1}
    names = [d["name"] for d in spec["devices"]]
    assert names == ["pci-0000-3b-00-0", "pci-0000-5e-00-0"]
    # the same attributes rmctl's classes select on (devices list -o json)
    code, out, err = run_cli("--root", node_root, "devices", "list", "-o", "json")
    assert code == 0, err
    listed = {d["address"]: d for d in json.loads(out)["devices"]}
    for dev in spec["devices"]:
        addr = dev["attributes"]["resource.kubernetes.io/pciBusID"]["string"]
        want = listed[addr]["attributes"]
        got = {k: next(iter(v.values())) for k, v in dev["attributes"].items()}
        assert got == {k: (str(v) if not isinstance(v, (bool, int)) else v) for k, v in want.items()}
    gpu = spec["devices"][0]["attributes"]
    assert gpu["rmctl.io/kind"] == {"string": "gpu"}
    assert gpu["resource.kubernetes.io/numaNode"] == {"int": 1}


def test_resourceslice_schema_rejects_a_wrong_shape(run_cli, node_root):
    import kubernetes_validate

    code, out, _ = run_cli("--root", node_root, "export", "resourceslice", "-o", "json")
    doc = json.loads(out)
    doc["spec"]["devices"][0]["attributes"]["rmctl.io/kind"] = {"text": "gpu"}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(doc)


def test_kubelet_config(run_cli, node_root, tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(PROFILE)
    code, out, err = run_cli("--root", node_root, "export", "kubelet-config", "-f", str(f))
    assert code == 0, err
    cfg = yaml.safe_load(out)
    assert cfg["apiVersion"] == "kubelet.config.k8s.io/v1beta1" and cfg["kind"] == "KubeletConfiguration"
    assert cfg["cpuManagerPolicy"] == "static"
    assert cfg["reservedSystemCPUs"] == "0,8"
    assert cfg["topologyManagerPolicy"] == "restricted"
    assert cfg["memoryManagerPolicy"] == "Static"
    # complete: the kubelet's defaults for the signals the profile leaves out
    assert cfg["evictionHard"]["memory.available"] == "100Mi" and cfg["evictionHard"]["nodefs.available"] == "10%"
    # hugepages are never reserved (the kubelet refuses them there): a warning instead
    assert cfg["systemReserved"] == {"memory": "1Gi"}
    assert cfg["kubeReserved"] == {"memory": "512Mi"}
    assert "cannot be kept from pods" in err
    # kubelet rule (memory manager validateReservedMemory): per memory type, the sum over
    # NUMA nodes equals kubeReserved + systemReserved + evictionHard
    from rmctl.units import parse_size

    res = {r["numaNode"]: r["limits"] for r in cfg["reservedMemory"]}
    assert set(res) == {0, 1}
    total = sum(parse_size(lim.get("memory", "0")) for lim in res.values())
    assert total == (1 << 30) + (512 << 20) + (100 << 20)
    assert all(set(lim) == {"memory"} for lim in res.values())


def test_kubelet_config_count_without_state_bootstraps(run_cli, node_root, tmp_path):
    """Before the profile is applied: the CPUs applying it would choose, said so in the comment."""
    f = tmp_path / "p.yaml"
    f.write_text(PROFILE.replace('{cpus: "0,8"}', "{count: 2}"))
    code, out, err = run_cli("--root", node_root, "export", "kubelet-config", "-f", str(f))
    assert code == 0, err
    assert yaml.safe_load(out)["reservedSystemCPUs"] == "0,8"
    assert "as applying the profile would choose (not applied yet): reservedSystemCPUs" in out


def test_nfd_feature_file(run_cli, node_root, tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(PROFILE)
    code, out, err = run_cli("--root", node_root, "export", "nfd", "-f", str(f))
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
    feats = dict(ln.split("=", 1) for ln in lines)
    assert feats["rmctl-numa-nodes"] == "2"
    assert feats["rmctl-cpus-online"] == "16"
    assert feats["rmctl-smt"] == "true"
    assert feats["rmctl-hugepages-2Mi-node0"] == "8"
    assert feats["rmctl-system-reserved-cpus"] == "0_8"  # label values have no commas
    assert feats["rmctl-devices-gpu"] == "1" and feats["rmctl-devices-nic"] == "1"
    assert feats["rmctl-profile"] == "worker"
    import re

    for k, v in feats.items():  # NFD: names become label names, values label values
        assert re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?", k) and len(k) <= 63, k
        assert re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?", v) and len(v) <= 63, v
    code, out, err = run_cli("--root", node_root, "export", "nfd", "-o", "json", "--node-name", "n1")
    doc = json.loads(out)
    assert doc["kind"] == "NodeFeature" and doc["spec"]["labels"]["feature.node.kubernetes.io/rmctl-numa-nodes"] == "2"
