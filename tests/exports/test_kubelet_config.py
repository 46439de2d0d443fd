"""export kubelet-config: every fragment passes the kubelet's transcribed rules (tests/exports/kubelet_rules.py)."""

import json
import os

import pytest
import yaml

from rmctl.cpuset import CpuSet
from rmctl.exports import kubelet_versions as V
from rmctl.exports.kubelet import CpuFacts, kubelet_config
from rmctl.profile import parse_profile
from tests import synth
from tests.conftest import REPO
from tests.exports import kubelet_rules as R

VERSIONS = [f"1.{m}" for m in range(V.OLDEST[1], V.NEWEST[1] + 1)]
HEAD = "apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: t}\nspec:\n"


def _shipped_profiles():
    out = {"examples/ansible/profiles/worker.yaml": open(os.path.join(REPO, "examples/ansible/profiles/worker.yaml")).read()}
    cm = yaml.safe_load(open(os.path.join(REPO, "deploy/kubernetes/profile-configmap.yaml")))
    out["deploy/kubernetes/profile-configmap.yaml"] = cm["data"]["profile.yaml"]
    return out


SHIPPED = _shipped_profiles()

#: profiles with hugepages kept from pods, memory reservations and CPU options
PROFILES = {
    "hugepages-reserved": HEAD + "  systemReservedCPUs: {cpus: \"0,8\"}\n  hugepages:\n"
                                 "  - {pageSize: 2Mi, count: 8, node: 0, reserved: 2}\n"
                                 "  - {pageSize: 1Gi, count: 2, node: 1, reserved: 1}\n",
    "memory": HEAD + "  systemReservedCPUs: {count: 2}\n  kubelet: {systemReservedMemory: 1Gi, "
                     "kubeReservedMemory: 512Mi, evictionHardMemory: 300Mi, topologyManagerPolicy: restricted}\n",
    "cpu-options": HEAD + "  systemReservedCPUs: {count: 2}\n  reservations:\n  - {name: db, count: 2}\n"
                          "  kubelet:\n    cpuManagerPolicyOptions: {full-pcpus-only: true}\n"
                          "    topologyManagerPolicyOptions: {prefer-closest-numa-nodes: true}\n"
                          "    topologyManagerScope: pod\n    evictionHard: {nodefs.available: 5%}\n",
    "memory-manager-none": HEAD + "  systemReservedCPUs: {cpus: \"1\"}\n  kubelet: {memoryManagerPolicy: None}\n",
    "no-cpus": HEAD + "  hugepages:\n  - {pageSize: 2Mi, count: 4, node: 0}\n",
}


@pytest.fixture(scope="module")
def node_root(tmp_path_factory):
    """2 sockets x 4 cores x 2 threads, one NUMA node per socket, 16 GiB each."""
    return synth.build(tmp_path_factory.mktemp("kc") / "root", sockets=2, cores=4, threads=2,
                       hugepages={"per_node": {(0, 2048): 8}})


@pytest.fixture(scope="module")
def node(node_root):
    from rmctl.discovery.assemble import assemble
    from rmctl.discovery.root import Root

    return assemble(Root.open(node_root))


def _facts(node):
    topo = node.topology
    return dict(online_cpus=set(topo.online_cpus()), numa_nodes=set(topo.nodes))


def _check(cfg, node, version):
    return R.check(cfg, minor=int(version.split(".")[1]), **_facts(node))


def _run(run_cli, root, state, *args):
    return run_cli("--root", root, "--state-dir", str(state), "export", "kubelet-config", *args)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(SHIPPED) + sorted(PROFILES))
def test_every_fragment_passes_the_kubelet_rules(run_cli, node_root, node, tmp_path, name, version):
    text = SHIPPED.get(name) or PROFILES[name]
    p = tmp_path / "p.yaml"
    p.write_text(text)
    code, out, err = _run(run_cli, node_root, tmp_path / "state", "-f", str(p), "--kubelet-version", version,
                          "-o", "json")
    assert code == 0, err
    cfg = json.loads(out)
    assert _check(cfg, node, version) == []
    for key in ("systemReserved", "kubeReserved"):
        assert set(cfg.get(key, {})) <= R.RESERVABLE
    assert not any(k.startswith("hugepages-") for r in cfg.get("reservedMemory", []) for k in r["limits"])
    # the YAML form is the same object, behind its comment
    code, out_y, _ = _run(run_cli, node_root, tmp_path / "state", "-f", str(p), "--kubelet-version", version)
    assert code == 0 and yaml.safe_load(out_y) == cfg and out_y.startswith("# KubeletConfiguration")


def test_the_hugepage_profile_that_broke_the_kubelet(run_cli, node_root, node, tmp_path):
    """Before: systemReserved {hugepages-2Mi: 4Mi} ("cannot reserve") and reservedMemory hugepage limits."""
    old = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
           "cpuManagerPolicy": "static", "reservedSystemCPUs": "0,8", "memoryManagerPolicy": "Static",
           "systemReserved": {"hugepages-2Mi": "4Mi", "hugepages-1Gi": "1Gi"},
           "evictionHard": {"memory.available": "100Mi"},
           "reservedMemory": [{"numaNode": 0, "limits": {"memory": "100Mi", "hugepages-2Mi": "4Mi"}},
                              {"numaNode": 1, "limits": {"hugepages-1Gi": "1Gi"}}]}
    errs = _check(old, node, "1.37")
    assert any("cannot reserve 'hugepages-2Mi'" in e for e in errs)
    assert any(e.startswith("rmctl: evictionHard leaves") for e in errs)
    p = tmp_path / "p.yaml"
    p.write_text(PROFILES["hugepages-reserved"])
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p))
    assert code == 0, err
    cfg = yaml.safe_load(out)
    assert _check(cfg, node, "1.37") == []
    assert "hugepages" not in json.dumps(cfg)
    assert "spec.hugepages[0].reserved: 2 pages of 2Mi on NUMA node 0 cannot be kept from pods" in err
    assert "# warning: spec.hugepages[1].reserved" in out


def test_the_memory_manager_sum_rule_holds_over_numa_nodes(run_cli, node_root, node, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(PROFILES["memory"])
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p), "-o", "json")
    assert code == 0, err
    cfg = json.loads(out)
    # 1Gi + 512Mi + 300Mi = 1836Mi over nodes 0 and 1
    assert cfg["reservedMemory"] == [{"numaNode": 0, "limits": {"memory": "918Mi"}},
                                     {"numaNode": 1, "limits": {"memory": "918Mi"}}]
    assert cfg["systemReserved"] == {"memory": "1Gi"} and cfg["kubeReserved"] == {"memory": "512Mi"}
    assert cfg["evictionHard"]["memory.available"] == "300Mi"
    assert _check(cfg, node, "1.37") == []
    bad = dict(cfg, reservedMemory=[{"numaNode": 0, "limits": {"memory": "918Mi"}}])
    assert any("is not equal to the value" in e for e in _check(bad, node, "1.37"))


def test_eviction_thresholds_are_complete(run_cli, node_root, node, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(PROFILES["cpu-options"])
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p))
    assert code == 0, err
    cfg = yaml.safe_load(out)
    assert cfg["evictionHard"] == {"imagefs.available": "15%", "imagefs.inodesFree": "5%",
                                   "memory.available": "100Mi", "nodefs.available": "5%", "nodefs.inodesFree": "5%"}
    assert "are the kubelet's defaults, written out" in out


def test_static_only_with_reserved_cpus(run_cli, node_root, node, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(PROFILES["no-cpus"])
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p), "-o", "json")
    assert code == 0
    cfg = json.loads(out)
    assert cfg["cpuManagerPolicy"] == "none" and "reservedSystemCPUs" not in cfg
    assert "static needs a non-zero CPU reservation" in err
    assert _check(dict(cfg, cpuManagerPolicy="static"), node, "1.37") == [
        "C: unable to determine reserved CPU resources for static policy"]
    # asking for static without CPUs is refused, with nothing on stdout
    p.write_text(PROFILES["no-cpus"] + "  kubelet: {cpuManagerPolicy: static}\n")
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p), "-o", "json")
    assert code == 5 and out == "" and "static needs reserved CPUs" in err


def test_bootstrapping_says_what_comes_from_the_profile_and_the_node(run_cli, node_root, node, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(PROFILES["cpu-options"])
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p))
    assert code == 0, err
    cfg = yaml.safe_load(out)
    # not applied: the CPUs are what applying the profile would choose (system: core 0 = CPUs 0,8; db: core 1)
    assert cfg["reservedSystemCPUs"] == "0-1,8-9"
    assert "# reservedSystemCPUs: 0,8 system CPUs; 1,9 reservation db" in out
    assert "# from the node, as applying the profile would choose (not applied yet): reservedSystemCPUs" in out
    assert "# from the profile: " in out and "topologyManagerScope" in out.split("# from the profile: ")[1].split("\n")[0]
    assert "# from the kubelet's defaults: evictionHard" not in out  # the profile set nodefs.available
    assert not os.path.exists(tmp_path / "s")  # bootstrapping reads, never writes


def test_cpus_held_by_reservations_are_kept_from_pods(node):
    cpus = CpuFacts(system=CpuSet.parse("0,8"), held={"db": CpuSet.parse("1,9")}, source="state")
    for version in ("1.31", "1.32", "1.33", "1.37"):
        ex = kubelet_config(node, cpus=cpus, version=V.parse_version(version))
        cfg = ex.config
        assert cfg["reservedSystemCPUs"] == "0-1,8-9"
        assert _check(cfg, node, version) == [], version
        if version == "1.31":  # no strict-cpu-reservation yet: said, not written
            assert "cpuManagerPolicyOptions" not in cfg
            assert any("has no strict-cpu-reservation" in w for w in ex.warnings)
        else:
            assert cfg["cpuManagerPolicyOptions"] == {"strict-cpu-reservation": "true"}
            assert ("featureGates" in cfg) == (version == "1.32")  # alpha in 1.32
            assert any("held by rmctl reservations" in n for n in ex.notes)


def test_options_the_version_lacks_are_refused_and_alpha_needs_its_gate(run_cli, node_root, node, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(HEAD + "  systemReservedCPUs: {cpus: \"0\"}\n  kubelet:\n"
                 "    cpuManagerPolicyOptions: {prefer-align-cpus-by-uncorecache: true}\n")
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p), "--kubelet-version", "1.31", "-o", "json")
    assert code == 2 and out == "" and "kubelet 1.31 has no cpuManagerPolicyOptions" in err
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "-f", str(p), "--kubelet-version", "1.33", "-o", "json")
    cfg = json.loads(out)
    assert cfg["featureGates"] == {"CPUManagerPolicyAlphaOptions": True}
    assert _check(cfg, node, "1.33") == []
    assert "CO: CPU Manager Policy Alpha-level" in _check({k: v for k, v in cfg.items() if k != "featureGates"},
                                                          node, "1.33")[0]
    code, out, _ = _run(run_cli, node_root, tmp_path / "s", "-f", str(p), "--kubelet-version", "1.34", "-o", "json")
    assert "featureGates" not in json.loads(out)  # beta in 1.34


@pytest.mark.parametrize("text, where", [
    ("    cpuManagerPolicyOptions: {no-such-option: true}\n", "unknown field 'no-such-option'"),
    ("    cpuManagerPolicyOptions: {full-pcpus-only: maybe}\n", "is not a boolean"),
    ("    cpuManagerPolicyOptions: {full-pcpus-only: true, distribute-cpus-across-cores: true}\n",
     "cannot be used together"),
    ("    topologyManagerPolicyOptions: {max-allowable-numa-nodes: eight}\n", "is not an integer"),
    ("    evictionHard: {memory.available: 5%}\n", "as a size"),
    ("    cpuManagerPolicy: none\n    cpuManagerPolicyOptions: {full-pcpus-only: true}\n", "takes no options"),
])
def test_profile_options_are_checked_with_positions(text, where):
    from rmctl.profile.schema import ProfileError

    with pytest.raises(ProfileError) as e:
        parse_profile(HEAD + "  kubelet:\n" + text, "p.yaml")
    assert where in str(e.value) and str(e.value).startswith("p.yaml:")


def test_kubelet_version_flag(run_cli, node_root, tmp_path):
    for bad in ("1.29", "two"):
        code, out, err = _run(run_cli, node_root, tmp_path / "s", "--kubelet-version", bad)
        assert code == 2 and out == "" and "1.30 to 1.37" in err
    code, out, err = _run(run_cli, node_root, tmp_path / "s", "--kubelet-version", "v1.39.1")
    assert code == 0 and "newer than the rules recorded" in err
