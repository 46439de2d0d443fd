"""Issue 12 item 6 acceptance: native DRA objects and Pods as input, the kubelet's answer.

* NVIDIA's DeviceClass and a ResourceClaim for one gpu.nvidia.com GPU with
  at least 100Gi fit on gpu-node.tar.gz (with its NVML facts) and on the
  H200 capture; 200Gi does not, and explain names the selector; in each
  API version (v1, v1beta2, v1beta1).
* A Guaranteed Pod with 8 CPUs, 4Gi and a claim for one GPU is admitted on
  the H200 capture under single-numa-node; asking 1Gi of 2Mi hugepages as
  well it is refused for hugepages (the capture has no pool); on a
  synthetic dual-socket node with 6 CPUs per NUMA node and the GPU on
  node 1 it is refused with TopologyAffinityError.
"""

from __future__ import annotations

import json
import os

import pytest

from tests import synth
from tests.conftest import REPO
from tests.devices.helpers import gpu_node_snapshot

H200 = os.path.join(REPO, "tests", "fixtures", "snapshots", "h200-vm-capture.tar.gz")
EXAMPLES = os.path.join(REPO, "examples", "kubernetes")

#: NVIDIA/k8s-dra-driver-gpu deployments/helm/nvidia-dra-driver-gpu/templates/deviceclass-gpu.yaml
CLASS = """apiVersion: resource.k8s.io/{v}
kind: DeviceClass
metadata:
  name: gpu.nvidia.com
spec:
  selectors:
  - cel:
      expression: "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'"
"""
SELECTOR = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('{memory}')) >= 0"
CLAIM_V1 = """apiVersion: resource.k8s.io/{v}
kind: ResourceClaim
metadata: {{name: big-gpu, namespace: ml}}
spec:
  devices:
    requests:
    - name: gpu
      exactly:
        deviceClassName: gpu.nvidia.com
        selectors:
        - cel:
            expression: "{sel}"
"""
CLAIM_V1BETA1 = """apiVersion: resource.k8s.io/v1beta1
kind: ResourceClaim
metadata: {{name: big-gpu, namespace: ml}}
spec:
  devices:
    requests:
    - name: gpu
      deviceClassName: gpu.nvidia.com
      selectors:
      - cel:
          expression: "{sel}"
"""
POD = """apiVersion: v1
kind: Pod
metadata: {{name: trainer, namespace: ml}}
spec:
  resourceClaims:
  - name: gpu
    resourceClaimTemplateName: one-gpu
  containers:
  - name: train
    image: registry.example/train:1
    resources:
      limits:
        cpu: "8"
        memory: 4Gi{huge}
      claims:
      - name: gpu
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {{name: one-gpu, namespace: ml}}
spec:
  spec:
    devices:
      requests:
      - name: gpu
        exactly:
          deviceClassName: {cls}
"""
KUBELET = ["--cpu-manager-policy", "static", "--reserved-cpus", "0", "--topology-policy", "single-numa-node"]


@pytest.fixture(scope="module")
def gpu_node(tmp_path_factory):
    return gpu_node_snapshot(tmp_path_factory.mktemp("gn"))


def _files(tmp_path, version: str, memory: str) -> list[str]:
    cls = tmp_path / "class.yaml"
    cls.write_text(CLASS.format(v=version))
    claim = tmp_path / "claim.yaml"
    body = CLAIM_V1BETA1 if version == "v1beta1" else CLAIM_V1
    claim.write_text(body.format(v=version, sel=SELECTOR.format(memory=memory)))
    return [str(claim), str(cls)]  # any order


def run_json(run_cli, *args):
    code, out, err = run_cli(*args, "-o", "json")
    return code, json.loads(out), err


@pytest.mark.parametrize("version", ["v1", "v1beta2", "v1beta1"])
@pytest.mark.parametrize("which", ["gpu-node", "h200"])
def test_nvidia_class_and_claim_100gi_fits_200gi_does_not(run_cli, gpu_node, tmp_path, version, which):
    root = gpu_node if which == "gpu-node" else H200
    code, doc, err = run_json(run_cli, "--root", root, "request", "evaluate", *_files(tmp_path, version, "100Gi"))
    assert code == 0, err
    assert doc["kind"] == "RequestEvaluation" and doc["fits"] is True
    assert doc["devices"] == ["0000:00:06.0"] and doc["device_allocation"] == {"big-gpu/gpu": ["0000:00:06.0"]}
    code, doc, _ = run_json(run_cli, "--root", root, "request", "evaluate", *_files(tmp_path, version, "200Gi"))
    assert code == 4 and doc["fits"] is False and doc["devices"] == []
    code, doc, _ = run_json(run_cli, "--root", root, "request", "explain", *_files(tmp_path, version, "200Gi"))
    assert code == 4
    nv = next(m for m in doc["selectors"]["big-gpu/gpu"] if m["driver"] == "gpu.nvidia.com")
    assert nv["device"] == "gpu-0" and [s["value"] for s in nv["selectors"]] == [True, False]
    assert "quantity('200Gi')" in nv["selectors"][1]["cel"]
    code, out, _ = run_cli("--root", root, "request", "explain", *_files(tmp_path, version, "200Gi"),
                           env={"COLUMNS": "200"})
    assert code == 4 and "quantity('200Gi')" in out and "S2 (request big-gpu/gpu)" in out


def test_shipped_examples_claim_fits_on_the_h200_capture(run_cli):
    code, doc, err = run_json(run_cli, "--root", H200, "request", "evaluate",
                              os.path.join(EXAMPLES, "nvidia-deviceclass.yaml"),
                              os.path.join(EXAMPLES, "gpu-claim-100gi.yaml"))
    assert code == 0, err
    assert doc["fits"] is True and doc["devices"] == ["0000:00:06.0"]


def _pod(tmp_path, huge: bool = False, cls: str = "gpu.nvidia.com", version: str = "v1") -> list[str]:
    p = tmp_path / "pod.yaml"
    p.write_text(POD.format(huge="\n        hugepages-2Mi: 1Gi" if huge else "", cls=cls))
    c = tmp_path / "class.yaml"
    c.write_text(CLASS.format(v=version))
    return [str(p), str(c)]


def test_guaranteed_pod_admitted_on_h200_under_single_numa_node(run_cli, tmp_path):
    code, doc, err = run_json(run_cli, "--root", H200, "request", "evaluate", *_pod(tmp_path), *KUBELET)
    assert code == 0, err
    assert doc["kind"] == "PodEvaluation" and doc["admitted"] is True
    pod = doc["pods"][0]
    assert pod["pod"] == "ml/trainer" and pod["qos"] == "Guaranteed" and pod["verdict"]["admitted"] is True
    (train,) = pod["containers"]
    # 16 CPUs, CPU 0 reserved: 8 exclusive CPUs packed from 1
    assert train["pool"] == "exclusive" and train["exclusive_cpus"] == 8 and train["cpus"] == "1-8"
    assert pod["device_allocation"] == {"gpu/gpu": ["0000:00:06.0"]}
    assert pod["kubelet"]["topologyManagerPolicy"] == "single-numa-node"
    assert pod["topology"]["admit"] is True


def test_same_pod_with_2mi_hugepages_refused_on_h200(run_cli, tmp_path):
    code, doc, _ = run_json(run_cli, "--root", H200, "request", "evaluate", *_pod(tmp_path, huge=True), *KUBELET)
    assert code == 4 and doc["admitted"] is False
    v = doc["pods"][0]["verdict"]
    assert v["stage"] == "scheduler" and v["reason"] == "Unschedulable"
    assert v["message"] == "0/1 nodes are available: 1 Insufficient hugepages-2Mi."
    row = next(r for r in doc["pods"][0]["resources"] if r["resource"] == "hugepages-2Mi")
    assert row["fits"] is False and "0 pages" in row["reason"]


def test_same_pod_bound_to_the_node_is_refused_by_the_kubelet_for_hugepages(run_cli, tmp_path):
    files = _pod(tmp_path, huge=True)
    text = open(files[0]).read().replace("spec:\n  resourceClaims", "spec:\n  nodeName: h200\n  resourceClaims", 1)
    open(files[0], "w").write(text)
    code, doc, _ = run_json(run_cli, "--root", H200, "request", "evaluate", *files, *KUBELET)
    assert code == 4
    v = doc["pods"][0]["verdict"]
    # pkg/kubelet/lifecycle/predicate.go: OutOf<resource>, the scheduler's InsufficientResourceError text
    assert v == {"admitted": False, "stage": "kubelet", "reason": "OutOfhugepages-2Mi", "container": None,
                 "message": "Node didn't have enough resource: hugepages-2Mi, requested: 1073741824, used: 0, "
                            "capacity: 0"}


@pytest.fixture(scope="module")
def dual_socket(tmp_path_factory):
    """2 sockets x 3 cores x 2 threads, one NUMA node each (6 CPUs per node); the GPU on node 1."""
    d = tmp_path_factory.mktemp("dual")
    return synth.build(d, sockets=2, cores=3, threads=2, devices=[
        synth.Device("0000:00:02.0", numa_node=1, driver="nvidia")])


def test_pod_refused_with_topology_affinity_error_on_dual_socket(run_cli, dual_socket, tmp_path):
    # the synthetic GPU has no NVML facts: rmctl's own view (kind gpu) with the built-in class "gpu"
    code, doc, _ = run_json(run_cli, "--root", dual_socket, "request", "evaluate", *_pod(tmp_path, cls="gpu"),
                            *KUBELET)
    assert code == 4 and doc["admitted"] is False
    pod = doc["pods"][0]
    assert pod["verdict"] == {"admitted": False, "stage": "kubelet", "reason": "TopologyAffinityError",
                              "message": "Resources cannot be allocated with Topology locality",
                              "container": "train"}
    # the CPU Manager's only hint is {0,1} (6 CPUs per node < 8): nothing single-node to merge
    train = pod["containers"][0]
    assert train["hints"]["cpu"] == [{"numa_nodes": [0, 1], "preferred": True}]
    assert any("does not fit on any single NUMA node" in r for r in pod["reasons"])
    code, out, _ = run_cli("--root", dual_socket, "request", "evaluate", *_pod(tmp_path, cls="gpu"), *KUBELET)
    assert code == 4 and "TopologyAffinityError" in out and "container train" in out


def test_best_effort_admits_across_both_nodes(run_cli, dual_socket, tmp_path):
    code, doc, _ = run_json(run_cli, "--root", dual_socket, "request", "evaluate", *_pod(tmp_path, cls="gpu"),
                            "--cpu-manager-policy", "static", "--reserved-cpus", "0", "--topology-policy",
                            "best-effort")
    assert code == 0
    train = doc["pods"][0]["containers"][0]
    # reference 2.4: the free NUMA node 1 whole (3-5,9-11), then the whole core 1,7
    assert train["cpus"] == "1,3-5,7,9-11"


def test_claims_can_be_reserved_a_pod_cannot(run_cli, tmp_path):
    files = _files(tmp_path, "v1", "100Gi")
    code, out, err = run_cli("--root", H200, "--state-dir", str(tmp_path / "st"), "request", "evaluate", *files,
                             "--reserve", "gpu", "--dry-run", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["evaluation"]["devices"] == ["0000:00:06.0"]
    code, out, err = run_cli("--root", H200, "--state-dir", str(tmp_path / "st"), "request", "evaluate",
                             *_pod(tmp_path), "--reserve", "p", "--dry-run")
    assert code == 2 and "a Pod cannot be reserved" in err


def test_a_saved_reserve_plan_records_every_manifest_file(tmp_path, monkeypatch):
    """The plan of `request evaluate A.yaml B.yaml --reserve N --dry-run` replays with both files (rmctl.ops.intent)."""
    from rmctl.errors import InvalidPlanError
    from rmctl.ops.intent import make, parse

    monkeypatch.chdir(tmp_path)
    one = make("request evaluate --reserve", name="gpu", file=["claim.yaml"])
    assert one["args"]["file"] == str(tmp_path / "claim.yaml")  # one file: recorded as before
    two = make("request evaluate --reserve", name="gpu", file=["class.yaml", "claim.yaml"])
    assert two["args"]["file"] == [str(tmp_path / "class.yaml"), str(tmp_path / "claim.yaml")]
    assert parse(two) == ("request evaluate --reserve", two["args"], None)
    with pytest.raises(InvalidPlanError):
        parse({"command": "request evaluate --reserve", "args": {"name": "g", "file": ["relative.yaml"]}})
    with pytest.raises(InvalidPlanError):
        parse({"command": "request evaluate --reserve", "args": {"name": "g", "file": []}})
