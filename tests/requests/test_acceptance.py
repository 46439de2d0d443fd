"""Issue 6 acceptance: gpu-node with its NVML facts, the synthetic dual socket, CLI contract."""

import json
import os
import tarfile

import pytest

from tests import synth
from tests.conftest import NODE_FIXTURES

REQ = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {{name: t}}
spec:
  topologyPolicy: {policy}
  cpus: {{count: {cpus}}}
  devices:
  - name: gpu
    class: {cls}
"""

BIG_GPU = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {{name: big-gpu}}
spec:
  selectors:
  - cel: 'device.driver == "rmctl.io" && device.attributes["rmctl.io"].kind == "gpu"'
  - cel: 'device.capacity["rmctl.io"].memory.compareTo(quantity("{memory}")) >= 0'
"""


@pytest.fixture(scope="module")
def gpu_node(tmp_path_factory):
    """gpu-node.tar.gz plus the NVML facts a capture stores (rmctl-facts.json key "nvml")."""
    d = tmp_path_factory.mktemp("gpu-node")
    with tarfile.open(os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")) as tf:
        try:
            tf.extractall(d, filter="data")
        except TypeError:  # Python < 3.10.12 has no filter (as conftest.fixture_root)
            tf.extractall(d)
    with open(os.path.join(NODE_FIXTURES, "gpu-node.nvml.json")) as f:
        nvml = json.load(f)
    root = d / "gpu-node"
    (root / "rmctl-facts.json").write_text(json.dumps({"nvml": nvml}))
    return str(root)


@pytest.fixture(scope="module")
def dual_socket(tmp_path_factory):
    """2 sockets x 3 cores x 2 threads: 6 CPUs per NUMA node, one GPU on each node."""
    d = tmp_path_factory.mktemp("dual")
    return synth.build(d, sockets=2, cores=3, threads=2, devices=[
        synth.Device("0000:00:01.0", numa_node=0, driver="nvidia"),
        synth.Device("0000:00:02.0", numa_node=1, driver="nvidia")])


def req_file(tmp_path, policy="single-numa-node", cpus=8, cls="gpu", extra=""):
    p = tmp_path / "req.yaml"
    p.write_text(extra + REQ.format(policy=policy, cpus=cpus, cls=cls))
    return str(p)


def evaluate(run_cli, root, path, *more):
    code, out, err = run_cli("--root", root, "request", "evaluate", path, "-o", "json", *more)
    return code, json.loads(out), err


# -- gpu-node ------------------------------------------------------------------

def test_gpu_node_100gi_and_8_cpus_fits(run_cli, gpu_node, tmp_path):
    path = req_file(tmp_path, cls="big-gpu", extra=BIG_GPU.format(memory="100Gi") + "---\n")
    code, doc, err = evaluate(run_cli, gpu_node, path)
    assert code == 0, err
    assert doc["kind"] == "RequestEvaluation" and doc["fits"] is True
    assert doc["devices"] == ["0000:00:06.0"]
    # 16 vCPUs on one node: 8 packed from node 0
    assert doc["cpus"] == "0-7" and doc["numa_nodes"] == [0]


def test_gpu_node_200gi_does_not_fit_and_explain_names_selector(run_cli, gpu_node, tmp_path):
    path = req_file(tmp_path, cls="big-gpu", extra=BIG_GPU.format(memory="200Gi") + "---\n")
    code, doc, _ = evaluate(run_cli, gpu_node, path)
    assert code == 4 and doc["fits"] is False and doc["devices"] == []
    assert any("device/gpu" in r for r in doc["reasons"])
    code, out, _ = run_cli("--root", gpu_node, "request", "explain", path, "-o", "json")
    assert code == 4
    sel = json.loads(out)["selectors"]["gpu"]
    h200 = next(m for m in sel if m["address"] == "0000:00:06.0")
    failing = [s for s in h200["selectors"] if not s["value"]]
    assert len(failing) == 1 and 'quantity("200Gi")' in failing[0]["cel"] and failing[0]["error"] is None
    code, out, _ = run_cli("--root", gpu_node, "request", "explain", path)
    assert 'quantity("200Gi")' in out and "false" in out


def test_unguarded_selector_fails_the_request_like_dra(run_cli, gpu_node, tmp_path):
    # NVIDIA's view of the GPU (driver gpu.nvidia.com) has no rmctl.io attributes: in a
    # cluster the lookup is a CEL runtime error that fails the allocation; so here
    cls = BIG_GPU.format(memory="100Gi").replace('device.driver == "rmctl.io" && ', "")
    path = req_file(tmp_path, cls="big-gpu", extra=cls + "---\n")
    code, doc, _ = evaluate(run_cli, gpu_node, path)
    assert code == 4 and doc["fits"] is False
    why = doc["reasons"][0]
    assert "CEL runtime error on device gpu-0" in why and "S1 (class big-gpu)" in why and "no such key: kind" in why
    assert 'device.driver == "rmctl.io"' in why  # the guard to add
    code, out, _ = run_cli("--root", gpu_node, "request", "explain", path, "-o", "json")
    doc = json.loads(out)  # explain still shows each device's result (skip-and-report view)
    gpu0 = next(m for m in doc["selectors"]["gpu"] if m["device"] == "gpu-0")
    assert gpu0["selectors"][0]["error"] == "no such key: kind" and gpu0["selectors"][1]["evaluated"] is False


def test_gpu_node_explain_typo_hint(run_cli, gpu_node, tmp_path):
    path = req_file(tmp_path, cls="big-gpu",
                    extra=BIG_GPU.format(memory="100Gi").replace(".memory.", ".memroy.") + "---\n")
    code, out, err = run_cli("--root", gpu_node, "request", "explain", path)
    # a capacity rmctl does not publish is refused when the class loads (DRA's checker
    # would only fail at run time on every device), with the name it probably meant
    assert code == 2
    assert "undefined capacity 'memroy'" in err and "did you mean 'memory'" in err


# -- synthetic dual socket --------------------------------------------------------

def test_single_numa_node_rejects_8_cpus_with_a_device(run_cli, dual_socket, tmp_path):
    code, doc, _ = evaluate(run_cli, dual_socket, req_file(tmp_path, "single-numa-node", 8))
    assert code == 4 and doc["fits"] is False
    assert doc["topology"]["admit"] is False
    assert any("TopologyAffinityError" in r for r in doc["reasons"])


def test_best_effort_fits_across_both_nodes(run_cli, dual_socket, tmp_path):
    code, doc, _ = evaluate(run_cli, dual_socket, req_file(tmp_path, "best-effort", 8))
    assert code == 0 and doc["fits"] is True
    assert doc["numa_nodes"] == [0, 1]
    # kubelet (reference 2.3): the six CPUs of the device's node 0, then the whole core 3,9
    assert doc["cpus"] == "0-3,6-9" and doc["devices"] == ["0000:00:01.0"]
    assert doc["topology"]["preferred"] is False


def test_restricted_gives_the_kubelets_answer(run_cli, dual_socket, tmp_path):
    # The kubelet's answer is rejection.  CPU hints: only {0,1} (6 CPUs per
    # node < 8), preferred since 2 nodes is the minimum by capacity.  Device
    # hints: {0} and {1} preferred, {0,1} not.  policy.go mergePermutation
    # marks a merge preferred only when all masks are equal, so {0,1}&{0} =
    # {0} is NOT preferred (a narrow hint ANDed with a wider one), and
    # {0,1}&{0,1} is not either (the device hint is not preferred).  Every
    # merged hint is non-preferred; restricted admits only preferred -> a
    # TopologyAffinityError.  (Kubelets before the equal-masks rule admitted
    # with affinity {0} and spilled CPUs to node 1.)
    code, doc, _ = evaluate(run_cli, dual_socket, req_file(tmp_path, "restricted", 8))
    assert code == 4 and doc["fits"] is False
    assert doc["topology"] == {"policy": "restricted", "numa_nodes": [0, 1], "preferred": False,
                               "admit": False, "reason": doc["topology"]["reason"]}


@pytest.mark.parametrize("policy", ["single-numa-node", "restricted", "best-effort", "none"])
def test_4_cpus_and_a_device_fit_on_one_node(run_cli, dual_socket, tmp_path, policy):
    code, doc, _ = evaluate(run_cli, dual_socket, req_file(tmp_path, policy, 4))
    assert code == 0 and doc["fits"] is True
    assert doc["numa_nodes"] == [0]
    assert doc["cpus"] == "0-1,6-7"  # node 0's two whole cores
    assert doc["devices"] == ["0000:00:01.0"]  # the device on that node


def test_match_attribute_keeps_two_devices_together(run_cli, tmp_path):
    root = synth.build(tmp_path / "n", sockets=2, cores=3, threads=2, devices=[
        synth.Device("0000:00:01.0", numa_node=0), synth.Device("0000:00:02.0", numa_node=1),
        synth.Device("0000:00:03.0", numa_node=1)])
    text = REQ.format(policy="none", cpus=2, cls="gpu") + """  - name: gpu2
    class: gpu
  constraints:
  - matchAttribute: resource.kubernetes.io/numaNode
    requests: [gpu, gpu2]
"""
    p = tmp_path / "r.yaml"
    p.write_text(text)
    code, doc, _ = evaluate(run_cli, root, str(p))
    assert code == 0 and doc["devices"] == ["0000:00:02.0", "0000:00:03.0"]


def test_first_available_and_all(run_cli, dual_socket, tmp_path):
    text = REQ.format(policy="best-effort", cpus=2, cls="gpu").replace("""  - name: gpu
    class: gpu
""", """  - name: gpu
    firstAvailable:
    - {name: three, class: gpu, count: 3}
    - {name: every, class: gpu, allocationMode: All}
""")
    p = tmp_path / "r.yaml"
    p.write_text(text)
    code, doc, _ = evaluate(run_cli, dual_socket, str(p))
    assert code == 0 and doc["choices"] == {"gpu": "every"}
    assert doc["devices"] == ["0000:00:01.0", "0000:00:02.0"]


def test_several_roots_table(run_cli, dual_socket, gpu_node, tmp_path):
    path = req_file(tmp_path, "single-numa-node", 8)
    code, out, _ = run_cli("request", "evaluate", path, "--root", dual_socket, "--root", gpu_node, "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["kind"] == "RequestEvaluationList"
    assert [n["fits"] for n in doc["nodes"]] == [False, True]
    assert doc["fitting_nodes"] == [gpu_node]
    code, out, _ = run_cli("request", "evaluate", path, "--root", dual_socket, "--root", gpu_node)
    assert code == 0 and "fits on 1 of 2" in out


def test_hugepages_and_memory_from_node_pools(run_cli, tmp_path):
    root = synth.build(tmp_path / "n", sockets=2, cores=3, threads=2,
                       hugepages={"sizes": [2048], "per_node": {(1, 2048): 600}})
    text = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: hp}
spec:
  topologyPolicy: single-numa-node
  cpus: {count: 2}
  memory: 4Gi
  hugepages: {2Mi: 1Gi}
"""
    p = tmp_path / "r.yaml"
    p.write_text(text)
    code, doc, _ = evaluate(run_cli, root, str(p))
    assert code == 0, doc
    assert doc["numa_nodes"] == [1] and doc["hugepages"] == {str(2 << 20): {"1": 512}}
    assert doc["memory"] == {"1": 4 << 30}
    p.write_text(text.replace("2Mi: 1Gi", "2Mi: 2Gi"))
    code, doc, _ = evaluate(run_cli, root, str(p))
    assert code == 4 and any("hugepages-2Mi" in r for r in doc["reasons"])


# -- bad input ------------------------------------------------------------------

def test_bad_input_exits_2_with_position(run_cli, dual_socket, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(REQ.format(policy="restricted", cpus=2, cls="gpu").replace("class: gpu", "class: gpux"))
    code, out, err = run_cli("--root", dual_socket, "request", "evaluate", str(p))
    assert code == 2 and "r.yaml:9:" in err and "gpux" in err
    p.write_text(REQ.format(policy="restricted", cpus=2, cls="gpu") + "    selectors:\n    - cel: 'device.driver =='\n")
    code, out, err = run_cli("--root", dual_socket, "request", "evaluate", str(p), "-o", "json")
    assert code == 2 and json.loads(out)["error"]["code"] == "cel_error" and "r.yaml:11:" in err
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: Pod\nmetadata: {name: x}\nspec: {}\n")
    code, _, err = run_cli("--root", dual_socket, "request", "evaluate", str(p))
    assert code == 2 and "r.yaml:2:" in err and "unknown kind" in err


def test_class_commands(run_cli, tmp_path):
    d = tmp_path / "classes"
    d.mkdir()
    (d / "big.yaml").write_text(BIG_GPU.format(memory="80Gi"))
    code, out, _ = run_cli("class", "list", "--class-dir", str(d), "-o", "json")
    names = [c["name"] for c in json.loads(out)["classes"]]
    assert code == 0 and {"gpu", "nic", "rdma", "nvme", "accel", "big-gpu"} <= set(names)
    code, out, _ = run_cli("class", "show", "big-gpu", "--class-dir", str(d))
    assert code == 0 and 'quantity("80Gi")' in out
    code, out, _ = run_cli("class", "validate", str(d / "big.yaml"))
    assert code == 0 and "ok" in out
    (d / "bad.yaml").write_text(BIG_GPU.format(memory="80Gi").replace(">= 0'", ">= '"))
    code, _, err = run_cli("class", "validate", "--class-dir", str(d))
    assert code == 2 and "bad.yaml:7:5" in err
    code, _, err = run_cli("class", "show", "nope", "--class-dir", str(tmp_path / "missing"))
    assert code == 2
