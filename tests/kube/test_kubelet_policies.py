"""The kubelet's policies: a KubeletConfiguration file, flags over it, what the kubelet refuses to start with;
and the Topology Manager flags on rmctl's own ResourceRequest (issue 12 item 7)."""

from __future__ import annotations

import json
import os

import pytest

from rmctl.resources.kube.kubelet import Flags, apply_flags, from_config, load_config, parse_reserved_memory
from rmctl.resources.yamlio import InputError, load_documents
from tests import synth
from tests.conftest import REPO

H200 = os.path.join(REPO, "tests", "fixtures", "snapshots", "h200-vm-capture.tar.gz")
EXAMPLES = os.path.join(REPO, "examples", "kubernetes")


def config(text: str):
    return from_config(load_documents(text, "k.yaml")[0], "k.yaml")


HEAD = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"


def test_the_file_gives_the_resource_manager_fields():
    p = config(HEAD + """cpuManagerPolicy: static
cpuManagerPolicyOptions: {full-pcpus-only: "true", distribute-cpus-across-numa: "false"}
reservedSystemCPUs: "0-1"
topologyManagerPolicy: restricted
topologyManagerScope: pod
topologyManagerPolicyOptions: {prefer-closest-numa-nodes: "true", max-allowable-numa-nodes: "10"}
memoryManagerPolicy: Static
systemReserved: {cpu: 500m, memory: 1Gi}
kubeReserved: {memory: 512Mi}
evictionHard: {memory.available: 200Mi, nodefs.available: 10%}
reservedMemory:
- numaNode: 0
  limits: {memory: 1736Mi}
authentication: {anonymous: {enabled: false}}
""")
    assert p.cpu_manager_policy == "static" and p.cpu_options == {"full-pcpus-only": True,
                                                                  "distribute-cpus-across-numa": False}
    assert p.reserved_cpus.to_list() == "0-1" and p.reserved_cpu_count() == 2
    assert (p.topology_policy, p.topology_scope, p.prefer_closest_numa, p.max_numa_nodes) == ("restricted", "pod",
                                                                                              True, 10)
    assert p.memory_manager_policy == "Static" and p.reserved_memory == {0: {"memory": 1736 << 20}}
    assert p.eviction_memory == 200 << 20
    assert p.sources["cpuManagerPolicy"] == "k.yaml"


def test_reserved_cpu_count_from_reserved_resources():
    p = config(HEAD + "cpuManagerPolicy: static\nsystemReserved: {cpu: 500m}\nkubeReserved: {cpu: '1'}\n")
    assert p.reserved_cpus is None and p.reserved_cpu_count() == 2  # ceil(1.5)


def test_evictionhard_without_memory_zeroes_it_unless_defaults_merge():
    assert config(HEAD + "evictionHard: {nodefs.available: 10%}\n").eviction_memory == 0
    assert config(HEAD + "evictionHard: {nodefs.available: 10%}\nmergeDefaultEvictionSettings: true\n"
                  ).eviction_memory == 100 << 20


@pytest.mark.parametrize("text,needle", [
    ("cpuManagerPolicy: dynamic\n", "must be one of none, static"),
    ("cpuManagerPolicyOptions: {full-pcpu-only: 'true'}\n", "did you mean 'full-pcpus-only'"),
    ("cpuManagerPolicyOptions: {full-pcpus-only: 'yes'}\n", "not a boolean"),
    ("topologyManagerPolicyOptions: {max-allowable-numa-nodes: '4'}\n", "below the default 8"),
    ("systemReserved: {hugepages-2Mi: 1Gi}\n", "cannot reserve 'hugepages-2Mi'"),
    ("reservedSystemCPUs: 'a-b'\n", "not a CPU list"),
    ("reservedMemory: [{numaNode: 0, limits: {cpu: '1'}}]\n", "only memory and hugepages"),
])
def test_bad_values_are_refused_with_their_position(text, needle):
    with pytest.raises(InputError) as e:
        config(HEAD + text)
    assert needle in str(e.value) + (e.value.hint or "") and "k.yaml:" in str(e.value)


def test_not_a_kubelet_configuration():
    with pytest.raises(InputError, match="not a KubeletConfiguration"):
        from_config({"kind": "Pod"}, "k.yaml")


def test_flags_override_the_file():
    p = load_config(os.path.join(EXAMPLES, "kubelet-config.yaml"))
    assert p.topology_policy == "single-numa-node"
    p = apply_flags(p, Flags(topology_policy="best-effort", cpu_options=("full-pcpus-only",),
                             topology_options=("prefer-closest-numa-nodes",), reserved_memory=("0:memory=1Gi;1:memory=1Gi",)))
    assert p.topology_policy == "best-effort" and p.sources["topologyManagerPolicy"] == "flag"
    assert p.cpu_options == {"full-pcpus-only": True} and p.prefer_closest_numa
    assert p.reserved_memory == {0: {"memory": 1 << 30}, 1: {"memory": 1 << 30}}
    assert p.sources["cpuManagerPolicy"].endswith("kubelet-config.yaml")


@pytest.mark.parametrize("text", ["0", "x:memory=1Gi", "0:cpu=1", "0:memory=lots"])
def test_bad_reserved_memory(text):
    with pytest.raises(InputError):
        parse_reserved_memory(text)


# -- what the kubelet refuses to start with ---------------------------------------------------

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, resources: {limits: {cpu: '2', memory: 1Gi}}}\n"


@pytest.mark.parametrize("flags,needle", [
    (["--cpu-manager-policy", "static"], "systemreserved.cpu + kubereserved.cpu to be greater than zero"),
    (["--cpu-option", "full-pcpus-only"], "None policy: received unsupported options"),
    (["--cpu-manager-policy", "static", "--reserved-cpus", "0", "--cpu-option", "full-pcpus-only",
      "--cpu-option", "distribute-cpus-across-cores"], "cannot be combined"),
    (["--cpu-manager-policy", "static", "--reserved-cpus", "0", "--cpu-option", "align-by-socket",
      "--topology-policy", "single-numa-node"], "incompatible"),
    (["--memory-manager-policy", "Static"], "specify the system reserved memory"),
    (["--memory-manager-policy", "Static", "--reserved-memory", "0:memory=100Mi,hugepages-2Mi=2Mi"],
     "hugepages-2Mi"),
    (["--topology-policy", "sometimes"], "must be one of"),
])
def test_configurations_the_kubelet_refuses(run_cli, tmp_path, flags, needle):
    p = tmp_path / "pod.yaml"
    p.write_text(POD)
    code, out, err = run_cli("--root", H200, "request", "evaluate", str(p), *flags)
    assert code == 2 and needle in err and not out


def test_a_node_the_kubelet_would_not_start_on(run_cli, tmp_path):
    p = tmp_path / "pod.yaml"
    p.write_text(POD)
    code, out, _ = run_cli("--root", H200, "request", "evaluate", str(p), "--cpu-manager-policy", "static",
                           "--reserved-cpus", "40", "-o", "json")
    v = json.loads(out)["pods"][0]["verdict"]
    assert code == 4 and v["stage"] == "kubelet-start" and "not online" in v["message"]
    code, out, _ = run_cli("--root", H200, "request", "evaluate", str(p), "--memory-manager-policy", "Static",
                           "--reserved-memory", "0:memory=1Gi", "-o", "json")
    v = json.loads(out)["pods"][0]["verdict"]
    assert code == 4 and "not equal to the value" in v["message"]  # 1Gi != 100Mi of memory.available


# -- item 7: Topology Manager flags on a ResourceRequest ------------------------------------------

REQ = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {{name: r}}
spec:
  {policy}cpus: 3
"""


@pytest.fixture(scope="module")
def four_nodes(tmp_path_factory):
    """2 sockets x 2 NUMA nodes x 2 CPUs, node 0 offline: nodes 1-2 are 21 apart, 2-3 are 11."""
    return synth.build(tmp_path_factory.mktemp("four"), sockets=2, cores=4, threads=1, numa_per_socket=2,
                       offline=(0, 1))


def test_prefer_closest_numa_nodes_picks_the_nearer_pair(run_cli, four_nodes, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(REQ.format(policy="topologyPolicy: best-effort\n  "))
    code, out, _ = run_cli("--root", four_nodes, "request", "evaluate", str(p), "-o", "json")
    assert code == 0 and json.loads(out)["numa_nodes"] == [1, 2]  # narrowest, then lowest ids
    code, out, _ = run_cli("--root", four_nodes, "request", "evaluate", str(p), "-o", "json",
                           "--topology-option", "prefer-closest-numa-nodes=true")
    assert code == 0 and json.loads(out)["numa_nodes"] == [2, 3]


def test_topology_policy_flag_overrides_the_request_and_scope_is_noted(run_cli, four_nodes, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(REQ.format(policy="topologyPolicy: best-effort\n  "))
    code, out, err = run_cli("--root", four_nodes, "request", "evaluate", str(p), "-o", "json",
                             "--topology-policy", "single-numa-node", "--topology-scope", "pod")
    doc = json.loads(out)
    assert code == 4 and doc["policy"] == "single-numa-node"
    assert "container and pod scope give the same answer" in err


def test_kubelet_config_policy_applies_when_the_request_sets_none(run_cli, four_nodes, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(REQ.format(policy=""))
    k = tmp_path / "k.yaml"
    k.write_text(HEAD + "topologyManagerPolicy: single-numa-node\ncpuManagerPolicy: static\nreservedSystemCPUs: '2'\n")
    code, out, err = run_cli("--root", four_nodes, "request", "evaluate", str(p), "-o", "json",
                             "--kubelet-config", str(k))
    assert code == 4 and json.loads(out)["policy"] == "single-numa-node"
    assert "used for Pods only" in err


def test_max_allowable_numa_nodes_option_and_its_alias(run_cli, tmp_path):
    root = synth.build(tmp_path / "n", sockets=1, cores=9, threads=1, numa_per_socket=9)
    p = tmp_path / "r.yaml"
    p.write_text(REQ.format(policy="topologyPolicy: best-effort\n  "))
    code, out, _ = run_cli("--root", root, "request", "evaluate", str(p), "-o", "json")
    assert code == 4 and "more than 8 NUMA nodes" in json.loads(out)["reasons"][0]
    for flag in (["--topology-option", "max-allowable-numa-nodes=9"], ["--max-allowable-numa-nodes", "9"]):
        code, out, _ = run_cli("--root", root, "request", "evaluate", str(p), "-o", "json", *flag)
        assert code == 0, flag
