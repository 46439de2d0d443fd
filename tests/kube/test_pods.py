"""The kubelet's answer for pods: which containers get exclusive CPUs, how the Topology Manager
and the Memory Manager decide, what the scheduler refuses first.

Expected CPUs follow ../shared/reference/kubelet-resource-managers.md (the
kubelet's own test cases where one applies: section 2.2 for init
containers and sidecars, 2.4 for the packed order).
"""

from __future__ import annotations

import json
import os

import pytest

from tests import synth
from tests.conftest import REPO

H200 = os.path.join(REPO, "tests", "fixtures", "snapshots", "h200-vm-capture.tar.gz")
STATIC = ["--cpu-manager-policy", "static"]


def pod_yaml(name: str, containers: str, init: str = "", extra: str = "", ns: str = "default") -> str:
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{extra}"
    if init:
        text += "  initContainers:\n" + init
    return text + "  containers:\n" + containers


def c(name: str, cpu: str, memory: str = "1Gi", more: str = "", requests: str = "") -> str:
    req = f", requests: {{{requests}}}" if requests else ""
    return f"  - name: {name}\n{more}    resources: {{limits: {{cpu: '{cpu}', memory: {memory}}}{req}}}\n"


def evaluate(run_cli, root, tmp_path, text: str, *flags: str, explain: bool = False):
    p = tmp_path / "in.yaml"
    p.write_text(text)
    code, out, err = run_cli("--root", root, "request", "explain" if explain else "evaluate", str(p), *flags,
                             "-o", "json")
    assert out, err
    return code, json.loads(out), err


@pytest.fixture(scope="module")
def one_socket(tmp_path_factory):
    """1 socket, 4 cores x 2 threads: core k is CPUs k and k+4 (the kubelet's 8-CPU test machine)."""
    return synth.build(tmp_path_factory.mktemp("one"), sockets=1, cores=4, threads=2)


@pytest.fixture(scope="module")
def dual(tmp_path_factory):
    """2 sockets x 3 cores x 2 threads, a NUMA node each: node 0 is 0-2,6-8, node 1 is 3-5,9-11."""
    return synth.build(tmp_path_factory.mktemp("dual"), sockets=2, cores=3, threads=2)


def containers(doc) -> dict:
    return {x["name"]: x for x in doc["pods"][0]["containers"]}


# -- which containers get exclusive CPUs (reference 2.2) ---------------------------------------

def test_init_container_cpus_are_reused_by_the_app(run_cli, one_socket, tmp_path):
    # CPU 3 reserved (its sibling 7 stays in the pool): init 4 CPUs -> two whole cores 0,4 and 1,5;
    # the app's 2 CPUs reuse the init container's 0,4 (policy_static.go cpusToReuse)
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod_yaml("p", c("app", "2"), init=c("init", "4")),
                            *STATIC, "--reserved-cpus", "3")
    assert code == 0
    got = containers(doc)
    assert got["init"]["cpus"] == "0-1,4-5" and got["app"]["cpus"] == "0,4"


def test_sidecar_cpus_are_not_reused(run_cli, one_socket, tmp_path):
    sidecar = c("side", "4", more="    restartPolicy: Always\n")
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod_yaml("p", c("app", "2"), init=sidecar),
                            *STATIC, "--reserved-cpus", "3")
    assert code == 0
    got = containers(doc)
    assert got["side"]["type"] == "sidecar" and got["side"]["cpus"] == "0-1,4-5" and got["app"]["cpus"] == "2,6"


@pytest.mark.parametrize("limits,requests,qos,why", [
    ("2", "cpu: '1'", "Burstable", "Burstable pod"),
    ("1500m", "", "Guaranteed", "not a whole number"),
])
def test_burstable_and_fractional_cpus_run_in_the_shared_pool(run_cli, one_socket, tmp_path, limits, requests, qos, why):
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod_yaml("p", c("app", limits, requests=requests)),
                            *STATIC, "--reserved-cpus", "0", "--topology-policy", "single-numa-node")
    assert code == 0
    app = containers(doc)["app"]
    assert doc["pods"][0]["qos"] == qos and app["pool"] == "shared" and why in app["why"]
    assert app["cpus"] == "0-7" and app["exclusive_cpus"] == 0  # the shared pool keeps the reserved CPU
    # no CPU hint: the CPU Manager has no preference for it
    assert "cpu" not in app["hints"]


def test_strict_cpu_reservation_takes_the_reserved_cpus_out_of_the_shared_pool(run_cli, one_socket, tmp_path):
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod_yaml("p", c("app", "2", requests="cpu: '1'")),
                            *STATIC, "--reserved-cpus", "0,4", "--cpu-option", "strict-cpu-reservation")
    assert code == 0 and containers(doc)["app"]["cpus"] == "1-3,5-7"


def test_full_pcpus_only_refuses_an_odd_count_with_smt_alignment_error(run_cli, one_socket, tmp_path):
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod_yaml("p", c("app", "3")),
                            *STATIC, "--reserved-cpus", "0", "--cpu-option", "full-pcpus-only")
    assert code == 4
    v = doc["pods"][0]["verdict"]
    assert (v["stage"], v["reason"], v["container"]) == ("kubelet", "SMTAlignmentError", "app")
    assert v["message"] == "SMT Alignment Error: requested 3 cpus not multiple cpus per core = 2"


def test_full_pcpus_only_counts_the_reserved_cores_siblings_as_taken(run_cli, one_socket, tmp_path):
    # CPU 0 reserved: core 0,4 is not a free physical core, so 6 CPUs are only 3 cores' worth of 3 free
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod_yaml("p", c("app", "8", memory="1Gi")),
                            *STATIC, "--reserved-cpus", "0", "--cpu-option", "full-pcpus-only")
    assert code == 4
    v = doc["pods"][0]["verdict"]
    assert v["stage"] == "scheduler"  # 8 CPUs asked, 7 allocatable: the scheduler refuses first
    # bound to the node (spec.nodeName) the pod reaches the kubelet, whose CPU Manager refuses it
    # before its own resource check would (the Topology Manager's handler runs first)
    pod = pod_yaml("p", c("app", "8"), extra="  nodeName: n1\n")
    code, doc, _ = evaluate(run_cli, one_socket, tmp_path, pod, *STATIC, "--reserved-cpus", "0", "--cpu-option",
                            "full-pcpus-only")
    v = doc["pods"][0]["verdict"]
    assert code == 4 and v["reason"] == "SMTAlignmentError"
    assert v["message"] == ("SMT Alignment Error: not enough free physical CPUs: available physical CPUs = 6, "
                            "requested CPUs = 8, CPUs per core = 2")


# -- the Topology Manager -------------------------------------------------------------------------

def test_container_scope_places_each_container_pod_scope_the_whole_pod(run_cli, dual, tmp_path):
    text = pod_yaml("p", c("a", "4") + c("b", "4"))
    flags = [*STATIC, "--reserved-cpus", "0", "--topology-policy", "single-numa-node"]
    code, doc, _ = evaluate(run_cli, dual, tmp_path, text, *flags)
    assert code == 0
    got = containers(doc)
    assert got["a"]["numa_affinity"] == [0] and got["b"]["numa_affinity"] == [1]
    # pod scope: 8 CPUs for the pod as a whole fit no single node of 6
    code, doc, _ = evaluate(run_cli, dual, tmp_path, text, *flags, "--topology-scope", "pod")
    assert code == 4
    pod = doc["pods"][0]
    assert pod["scope"] == "pod" and pod["verdict"]["reason"] == "TopologyAffinityError"
    assert pod["verdict"]["container"] is None


def test_restricted_rejects_a_request_that_fits_only_across_nodes(run_cli, dual, tmp_path):
    code, doc, _ = evaluate(run_cli, dual, tmp_path, pod_yaml("p", c("a", "8")), *STATIC, "--reserved-cpus", "0",
                            "--topology-policy", "restricted")
    # the CPU hint {0,1} is preferred (2 nodes is the minimum for 8 of 6-CPU nodes): restricted admits it
    assert code == 0 and containers(doc)["a"]["numa_affinity"] == [0, 1]


def test_a_busy_node_refuses_what_fits_by_count(run_cli, tmp_path):
    """The kubelet's pods hold CPUs (its checkpoints): 4 CPUs are free, but 2 on each node (issue 84597)."""
    root = str(tmp_path / "node")
    synth.kubelet_scenario(root)
    text = pod_yaml("p", c("app", "4"))
    flags = [*STATIC, "--reserved-cpus", "0,8", "--topology-policy", "single-numa-node"]
    code, doc, err = evaluate(run_cli, root, tmp_path, text, *flags)
    assert code == 4, err
    pod = doc["pods"][0]
    assert pod["verdict"]["reason"] == "TopologyAffinityError"
    assert pod["containers"][0]["hints"]["cpu"] == [{"numa_nodes": [0, 1], "preferred": False}]
    assert any("hold CPUs" in n and "exclusively" in n for n in pod["notes"])
    code, doc, _ = evaluate(run_cli, root, tmp_path, pod_yaml("p", c("app", "2")), *flags)
    assert code == 0 and containers(doc)["app"]["cpus"] == "3,11"


def test_memory_manager_static_keeps_memory_on_one_node(run_cli, dual, tmp_path):
    flags = [*STATIC, "--reserved-cpus", "0", "--topology-policy", "single-numa-node",
             "--memory-manager-policy", "Static", "--reserved-memory", "0:memory=100Mi"]
    code, doc, _ = evaluate(run_cli, dual, tmp_path, pod_yaml("p", c("a", "2", memory="8Gi")), *flags)
    assert code == 0
    a = containers(doc)["a"]
    assert a["memory_nodes"] == [0] and doc["pods"][0]["memory"] == {"0": 8 << 30}
    # 20Gi is more than a 16 GiB node holds: the memory hints are all two nodes wide
    code, doc, _ = evaluate(run_cli, dual, tmp_path, pod_yaml("p", c("a", "2", memory="20Gi")), *flags)
    assert code == 4 and doc["pods"][0]["verdict"]["reason"] == "TopologyAffinityError"
    assert containers(doc)["a"]["hints"]["memory"] == [{"numa_nodes": [0, 1], "preferred": True}]


def test_memory_manager_static_without_a_hugepage_pool_fails_allocation(run_cli, tmp_path):
    """A pod bound to the H200 capture asking 2Mi pages: the Memory Manager finds no node with them.

    Its hints come back empty, which the Topology Manager reads as "no
    preference" (policy.go); the allocation then fails: UnexpectedAdmissionError.
    """
    pod = pod_yaml("p", "  - name: a\n    resources: {limits: {cpu: '2', memory: 1Gi, hugepages-2Mi: 2Mi}}\n",
                   extra="  nodeName: h200\n")
    code, doc, _ = evaluate(run_cli, H200, tmp_path, pod, *STATIC, "--reserved-cpus", "0", "--topology-policy",
                            "single-numa-node", "--memory-manager-policy", "Static", "--reserved-memory",
                            "0:memory=100Mi")
    assert code == 4
    v = doc["pods"][0]["verdict"]
    assert v["reason"] == "UnexpectedAdmissionError"
    assert v["message"] == ("Allocate failed due to [memorymanager] failed to get the default NUMA affinity, no NUMA "
                            "nodes with enough memory is available, which is unexpected")


# -- several pods, shared claims, the scheduler ------------------------------------------------------

def test_pods_are_admitted_one_after_the_other(run_cli, tmp_path):
    text = "---\n".join(pod_yaml(n, c("app", "4")) for n in ("a", "b")) + "---\n" + pod_yaml("big", c("app", "8"))
    code, doc, _ = evaluate(run_cli, H200, tmp_path, text, *STATIC, "--reserved-cpus", "0")
    assert code == 4 and doc["admitted"] is False
    a, b, big = doc["pods"]
    assert (a["cpus"], b["cpus"]) == ("1-4", "5-8")
    assert big["verdict"]["message"] == "0/1 nodes are available: 1 Insufficient cpu."


def test_a_resource_claim_is_shared_by_the_pods_naming_it(run_cli, tmp_path):
    claim = ("apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {name: shared}\nspec:\n  devices:\n"
             "    requests:\n    - {name: gpu, exactly: {deviceClassName: gpu}}\n")
    extra = "  resourceClaims:\n  - {name: g, resourceClaimName: shared}\n"
    text = claim + "---\n" + pod_yaml("a", c("app", "1"), extra=extra) + "---\n" + pod_yaml("b", c("app", "1"),
                                                                                             extra=extra)
    code, doc, _ = evaluate(run_cli, H200, tmp_path, text)
    assert code == 0
    a, b = doc["pods"]
    assert a["device_allocation"] == b["device_allocation"] == {"g/gpu": ["0000:00:06.0"]}
    assert any("shared" in n for n in b["notes"])
    # a template makes one claim per pod: the second pod finds the only GPU taken
    tmpl = claim.replace("kind: ResourceClaim\n", "kind: ResourceClaimTemplate\n").replace(
        "spec:\n  devices:", "spec:\n  spec:\n    devices:").replace("    requests:\n    -", "      requests:\n      -")
    text = tmpl + "---\n" + (pod_yaml("a", c("app", "1"), extra=extra) + "---\n"
                             + pod_yaml("b", c("app", "1"), extra=extra)).replace("resourceClaimName", "resourceClaimTemplateName")
    code, doc, _ = evaluate(run_cli, H200, tmp_path, text)
    assert code == 4
    assert doc["pods"][1]["verdict"]["message"] == "0/1 nodes are available: 1 cannot allocate all claims."


def test_claimed_devices_the_kubelet_holds_are_taken(run_cli, tmp_path):
    root = str(tmp_path / "node")
    synth.kubelet_scenario(root)  # its only GPU is held by pod default/web-0 (device plugin)
    text = ("apiVersion: resource.k8s.io/v1\nkind: ResourceClaimTemplate\nmetadata: {name: t}\nspec:\n  spec:\n"
            "    devices:\n      requests:\n      - {name: gpu, exactly: {deviceClassName: gpu}}\n---\n"
            + pod_yaml("p", c("app", "1"), extra="  resourceClaims:\n  - {name: g, resourceClaimTemplateName: t}\n"))
    code, doc, _ = evaluate(run_cli, root, tmp_path, text)
    assert code == 4
    pod = doc["pods"][0]
    assert pod["verdict"]["reason"] == "Unschedulable"
    assert any("0000:3b:00.0 by pod" in r and "(kubelet)" in r for r in pod["reasons"])


def test_the_dra_device_is_not_aligned_with_the_cpus(run_cli, tmp_path):
    root = synth.build(tmp_path / "n", sockets=2, cores=3, threads=2,
                       devices=[synth.Device("0000:00:02.0", numa_node=1, driver="nvidia")])
    text = ("apiVersion: resource.k8s.io/v1\nkind: ResourceClaimTemplate\nmetadata: {name: t}\nspec:\n  spec:\n"
            "    devices:\n      requests:\n      - {name: gpu, exactly: {deviceClassName: gpu}}\n---\n"
            + pod_yaml("p", "  - name: app\n    resources:\n      limits: {cpu: '2', memory: 1Gi}\n"
                            "      claims: [{name: g}]\n",
                       extra="  resourceClaims:\n  - {name: g, resourceClaimTemplateName: t}\n"))
    code, doc, _ = evaluate(run_cli, root, tmp_path, text, *STATIC, "--reserved-cpus", "0", "--topology-policy",
                            "single-numa-node")
    assert code == 0
    pod = doc["pods"][0]
    # the kubelet packs the CPUs on node 0; the claimed GPU sits on node 1 and nothing aligns them
    assert containers(doc)["app"]["numa_affinity"] == [0]
    assert any("does not align DRA devices" in n for n in pod["notes"])


def test_explain_a_pod_shows_the_claims_selectors(run_cli, tmp_path):
    text = ("apiVersion: resource.k8s.io/v1\nkind: ResourceClaimTemplate\nmetadata: {name: t}\nspec:\n  spec:\n"
            "    devices:\n      requests:\n      - name: gpu\n        exactly:\n          deviceClassName: gpu\n"
            "          selectors:\n          - cel: {expression: 'device.capacity[\"rmctl.io\"].memory.compareTo("
            "quantity(\"200Gi\")) >= 0'}\n---\n"
            + pod_yaml("p", c("app", "1"), extra="  resourceClaims:\n  - {name: g, resourceClaimTemplateName: t}\n"))
    code, doc, _ = evaluate(run_cli, H200, tmp_path, text, explain=True)
    assert code == 4 and doc["kind"] == "PodExplanation"
    sel = doc["pods"][0]["selectors"]["g/gpu"]
    assert any(m["address"] == "0000:00:06.0" and not m["matches"] for m in sel)
    p = tmp_path / "in.yaml"
    code, out, _ = run_cli("--root", H200, "request", "explain", str(p), env={"COLUMNS": "200"})
    assert code == 4 and 'quantity("200Gi")' in out and "cannot allocate all claims" in out


def test_several_roots(run_cli, dual, tmp_path):
    p = tmp_path / "in.yaml"
    p.write_text(pod_yaml("p", c("app", "8")))
    code, out, _ = run_cli("request", "evaluate", str(p), "--root", H200, "--root", dual, *STATIC,
                           "--reserved-cpus", "0", "--topology-policy", "single-numa-node", "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["kind"] == "PodEvaluationList"
    assert doc["admitted_on"] == [H200] and [n["admitted"] for n in doc["nodes"]] == [True, False]
    code, out, _ = run_cli("request", "evaluate", str(p), "--root", H200, "--root", dual, *STATIC,
                           "--reserved-cpus", "0", "--topology-policy", "single-numa-node")
    assert code == 0 and "admitted on 1 of 2 nodes" in out
