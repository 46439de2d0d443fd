"""`rmctl kubelet show` and the kubelet in `request evaluate`, on the acceptance scenario (issue #16)."""

from __future__ import annotations

import json
import os

import pytest

from tests import synth

GPU_REQ = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: any-gpu}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].kind == "gpu"'
---
apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: one-gpu}
spec:
  topologyPolicy: none
  devices:
  - name: gpu
    class: any-gpu
"""


@pytest.fixture
def scenario(tmp_path):
    return synth.kubelet_scenario(tmp_path / "node")


def test_show_json_lists_pods_with_cpus_and_numa_nodes(run_cli, scenario):
    code, out, err = run_cli("--root", scenario["root"], "kubelet", "show", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "KubeletState" and doc["kubelet_root"] == "/var/lib/kubelet"
    assert doc["cpu_manager"] == {"policy": "static", "shared_cpus": scenario["shared"],
                                  "exclusive_cpus": scenario["exclusive"]}
    pods = {p["uid"]: {c["name"]: c for c in p["containers"]} for p in doc["pods"]}
    app = pods[synth.POD_WEB]["app"]
    assert (app["cpus"], app["cpu_nodes"]) == ("1-2,9-10", [0])
    assert app["memory"] == [{"resource": "memory", "size_bytes": 1 << 30, "nodes": [0]},
                             {"resource": "hugepages-2Mi", "size_bytes": 512 << 20, "nodes": [0]}]
    assert app["devices"][0]["address"] == synth.GPU_ADDRESS and app["devices"][0]["node"] == 0
    assert (pods[synth.POD_SOLVER]["worker"]["cpus"], pods[synth.POD_SOLVER]["worker"]["cpu_nodes"]) == (
        "4-5,12-13", [1])
    assert [c["checksum_status"] for c in doc["checkpoints"]] == ["verified"] * 3
    assert doc["api"] is None  # a snapshot root: the API is the live node's


def test_show_table_and_yaml(run_cli, scenario):
    code, out, err = run_cli("--root", scenario["root"], "kubelet", "show")
    assert code == 0, err
    assert "1-2,9-10" in out and "4-5,12-13" in out and "3b:00.0" in out and "policy static" in out
    code, out, _ = run_cli("--root", scenario["root"], "kubelet", "show", "-o", "yaml", "--pod", synth.POD_SOLVER)
    assert code == 0 and "kind: KubeletState" in out and synth.POD_WEB not in out


def test_show_unknown_pod_is_a_usage_error(run_cli, scenario):
    code, _, err = run_cli("--root", scenario["root"], "kubelet", "show", "--pod", "default/nope")
    assert code == 2 and "no pod default/nope" in err


def test_show_without_a_kubelet(run_cli, tmp_path):
    root = synth.build(tmp_path / "bare")
    code, out, err = run_cli("--root", root, "kubelet", "show", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["pods"] == [] and doc["checkpoints"] == [] and doc["cpu_manager"] is None


def test_corrupt_checkpoint_exits_5_and_changes_nothing(run_cli, scenario):
    path = os.path.join(scenario["root"], scenario["paths"]["memory"])
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('"size":1073741824', '"size":1073741825'))
    before = open(path).read()
    code, out, err = run_cli("--root", scenario["root"], "kubelet", "show", "-o", "json")
    assert code == 5
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["error"]["code"] == "kubelet_checkpoint_corrupt"
    assert "memory_manager_state" in err and "Traceback" not in err
    assert open(path).read() == before


def test_unknown_layout_exits_5(run_cli, scenario):
    with open(os.path.join(scenario["root"], scenario["paths"]["cpu"]), "w") as f:
        f.write('{"policyName":"static","defaultCpuSet":"0-15","cpuGroups":{},"checksum":0}')
    code, out, err = run_cli("--root", scenario["root"], "kubelet", "show", "-o", "json")
    assert code == 5 and json.loads(out)["error"]["code"] == "kubelet_checkpoint_version"
    assert "layout rmctl does not know" in err


def test_kubelet_root_option(run_cli, tmp_path):
    root = synth.build(tmp_path / "n")
    synth.write_kubelet(root, kubelet_root="data/kubelet", cpu={"default": "0-3", "entries": {"u1": {"c": "4-7"}}})
    code, out, _ = run_cli("--root", root, "--kubelet-root", "/data/kubelet", "kubelet", "show", "-o", "json")
    assert code == 0 and json.loads(out)["cpu_manager"]["exclusive_cpus"] == "4-7"
    code, out, _ = run_cli("--root", root, "kubelet", "show", "-o", "json",
                           env={"RMCTL_KUBELET_ROOT": "/data/kubelet"})
    assert json.loads(out)["kubelet_root"] == "/data/kubelet"


def test_request_evaluate_says_the_gpu_is_allocated_to_the_pod(run_cli, scenario, tmp_path):
    req = tmp_path / "gpu.yaml"
    req.write_text(GPU_REQ)
    code, out, err = run_cli("--root", scenario["root"], "request", "evaluate", str(req), "-o", "json")
    assert code == 4, out
    doc = json.loads(out)
    assert doc["fits"] is False
    text = json.dumps(doc)
    assert synth.GPU_ADDRESS in text and f"pod {synth.POD_WEB} container app (kubelet)" in text
    code, out, err = run_cli("--root", scenario["root"], "request", "explain", str(req), "-o", "json")
    assert code == 4 and f"pod {synth.POD_WEB} container app (kubelet)" in out


def test_request_evaluate_does_not_hand_out_pod_cpus_or_promised_pages(run_cli, scenario, tmp_path):
    # 16 CPUs, 8 held by pods: 8 left, 4 of them per node; node 0's 2M pool has 512 pages,
    # 256 promised to web-0's app and not in use yet
    req = tmp_path / "r.yaml"
    req.write_text("""apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: r}
spec:
  topologyPolicy: single-numa-node
  cpus: {count: 4}
  hugepages: {2Mi: 512Mi}
""")
    code, out, err = run_cli("--root", scenario["root"], "request", "evaluate", str(req), "-o", "json")
    assert code == 0, out
    doc = json.loads(out)
    held = {1, 2, 4, 5, 6, 9, 10, 12, 13, 14}
    from rmctl.cpuset import CpuSet

    assert not set(CpuSet.parse(doc["cpus"])) & held
    req.write_text(req.read_text().replace("512Mi", "600Mi"))
    code, out, _ = run_cli("--root", scenario["root"], "request", "evaluate", str(req), "-o", "json")
    assert code == 4  # 512 free pages, 256 promised: 600 MiB does not fit any more


def test_request_reserve_does_not_take_the_pods_gpu(run_cli, scenario, tmp_path):
    req = tmp_path / "gpu.yaml"
    req.write_text(GPU_REQ)
    code, out, err = run_cli("--root", scenario["root"], "--state-dir", str(tmp_path / "st"), "request", "evaluate",
                             str(req), "--reserve", "mine", "-o", "json")
    assert code == 4, out
    doc = json.loads(out)
    assert doc["reserved"] is False and f"pod {synth.POD_WEB} container app (kubelet)" in out
