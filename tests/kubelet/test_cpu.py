"""`cpu reserve`, `cpu pin` and `cpu list` beside the kubelet (issue #16): pods' CPUs are never handed out."""

from __future__ import annotations

import json
import os

import pytest

from rmctl.cpuset import CpuSet
from tests import synth


@pytest.fixture
def scenario(tmp_path):
    return synth.kubelet_scenario(tmp_path / "node")


def _state(tmp_path):
    return ["--state-dir", str(tmp_path / "st")]


def test_cpu_reserve_never_returns_a_cpu_a_pod_holds(run_cli, scenario, tmp_path):
    pods = CpuSet.parse(scenario["exclusive"])
    got = CpuSet()
    for i, n in enumerate((2, 2, 2)):
        code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "reserve", f"r{i}",
                                 "-n", str(n), "-o", "json")
        assert code == 0, err
        cpus = CpuSet.parse(json.loads(out)["reservation"]["cpus"])
        assert not cpus & pods
        got = got | cpus
        assert "shared pool" in err  # every CPU left is the kubelet's shared pool
    assert got == CpuSet.parse(scenario["shared"])  # 0,3,7-8,11,15: all that is left
    code, _, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "reserve", "more", "-n", "1")
    assert code == 4, err  # nothing but pods' CPUs left


def test_explicit_pod_cpus_are_refused_unless_forced(run_cli, scenario, tmp_path):
    state_file = tmp_path / "st" / "state.json"
    code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "reserve", "x", "--cpus", "1-3",
                             "-o", "json")
    assert code == 5 and json.loads(out)["error"]["code"] == "conflict"
    assert f"1-2 by pod {synth.POD_WEB} container app (kubelet)" in err and "--force" in err
    assert not state_file.exists() or "\"x\"" not in state_file.read_text()
    code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "reserve", "x", "--cpus", "1-3",
                             "--force", "-o", "json")
    assert code == 0, err and "--force" in err
    saved = json.loads(state_file.read_text())["reservations"]["x"]
    assert saved["kubelet_override"]["cpus"] == "1-2" and synth.POD_WEB in saved["kubelet_override"]["holders"][0]


def test_cpu_list_marks_the_kubelets_cpus(run_cli, scenario, tmp_path):
    with open(os.path.join(scenario["root"], "var/lib/kubelet/config.yaml"), "w") as f:
        f.write('kind: KubeletConfiguration\ncpuManagerPolicy: static\nreservedSystemCPUs: "0,8"\n')
    code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "list", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    marks = {c["id"]: (c["state"], c["kubelet"]) for c in doc["cpus"]}
    assert marks[1] == ("kubelet", "exclusive") and marks[0] == ("free", "reserved") and marks[3] == ("free", "shared")
    assert doc["free_cpus"] == scenario["shared"]
    assert doc["kubelet"] == {"exclusive_cpus": scenario["exclusive"], "shared_cpus": scenario["shared"],
                              "reserved_cpus": "0,8"}
    code, out, _ = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "list")
    assert "kubelet (pods, exclusive)" in out


def test_cpu_list_without_a_kubelet_is_unchanged(run_cli, tmp_path):
    root = synth.build(tmp_path / "bare")
    code, out, _ = run_cli("--root", root, *_state(tmp_path), "cpu", "list", "-o", "json")
    doc = json.loads(out)
    assert code == 0 and "kubelet" not in doc and not [c for c in doc["cpus"] if "kubelet" in c]


def test_cpu_pin_refuses_a_pods_cpu_on_the_live_node(run_cli, tmp_path):
    # this machine, with a kubelet root of our own: CPU 1 is a pod's, CPU 0 the shared pool
    kroot = tmp_path / "kubelet"
    online = CpuSet.parse(open("/sys/devices/system/cpu/online").read())
    if len(online) < 2:
        pytest.skip("needs two CPUs")
    first, second = online.sorted()[0], online.sorted()[1]
    synth.write_kubelet("/", kubelet_root=str(kroot).lstrip("/"),
                        cpu={"default": (online - CpuSet([second])).to_list(), "entries": {"u1": {"c": str(second)}}})
    pid = str(os.getpid())
    args = ["--kubelet-root", str(kroot), *_state(tmp_path), "cpu", "pin", pid]
    code, _, err = run_cli(*args, "--cpus", str(second), "--dry-run")
    assert code == 5 and "pod u1 container c (kubelet)" in err
    code, out, err = run_cli(*args, "--cpus", str(second), "--dry-run", "--force", "-o", "json")
    assert code == 0 and "--force" in err
    code, _, err = run_cli(*args, "--cpus", str(first), "--dry-run")
    assert code == 0 and "shared pool" in err


PROFILE = """apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {{name: p}}
spec:
  reservations:
  - {{name: db, {what}}}
"""


def _profile(tmp_path, what):
    p = tmp_path / "profile.yaml"
    p.write_text(PROFILE.format(what=what))
    return str(p)


def test_profile_reservations_avoid_and_refuse_pod_cpus(run_cli, scenario, tmp_path):
    code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "plan", "-f",
                             _profile(tmp_path, "count: 6"), "-o", "json")
    assert code == 0, err
    assert "CPUs 0,3,7-8,11,15" in out  # the only CPUs no pod holds
    code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "plan", "-f",
                             _profile(tmp_path, 'cpus: "4"'))
    assert code == 5 and f"pod {synth.POD_SOLVER} container worker (kubelet)" in err


def test_verify_reports_drift_with_the_kubelet(run_cli, scenario, tmp_path):
    # an rmctl reservation taken with --force on a pod's CPU, then verified against a profile naming it
    code, _, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "reserve", "db", "--cpus", "4",
                           "--force")
    assert code == 0, err
    code, out, err = run_cli("--root", scenario["root"], *_state(tmp_path), "verify", "-f",
                             _profile(tmp_path, 'cpus: "4"'), "-o", "json")
    assert code == 4, out
    drift = [m for m in json.loads(out)["mismatches"] if m["kind"] == "kubelet"]
    assert drift and drift[0]["target"] == "db" and synth.POD_SOLVER in drift[0]["current"]


def test_profiles_read_the_kubelet_root_given(run_cli, scenario, tmp_path):
    # a kubelet whose --root-dir is not /var/lib/kubelet: plan, apply's dry run and verify read the one
    # --kubelet-root names (they read /var/lib/kubelet whatever was given)
    os.rename(os.path.join(scenario["root"], "var/lib/kubelet"), os.path.join(scenario["root"], "srv-kubelet"))
    plan = ["--root", scenario["root"], *_state(tmp_path), "plan", "-f", _profile(tmp_path, "count: 6"), "-o", "json"]
    code, out, err = run_cli(*plan)
    assert code == 0, err
    assert "CPUs 0,3,7-8,11,15" not in out  # no kubelet where it looked: pods' CPUs look free
    code, out, err = run_cli("--kubelet-root", "/srv-kubelet", *plan)
    assert code == 0, err
    assert "CPUs 0,3,7-8,11,15" in out  # the only CPUs no pod holds
    code, out, err = run_cli("--kubelet-root", "/srv-kubelet", "--root", scenario["root"], *_state(tmp_path),
                             "apply", "-f", _profile(tmp_path, 'cpus: "4"'), "--dry-run")
    assert code == 5 and f"pod {synth.POD_SOLVER} container worker (kubelet)" in err
    code, _, err = run_cli("--root", scenario["root"], *_state(tmp_path), "cpu", "reserve", "db", "--cpus", "4")
    assert code == 0, err  # no kubelet at the default root: CPU 4 looks free
    verify = ["--root", scenario["root"], *_state(tmp_path), "verify", "-f", _profile(tmp_path, 'cpus: "4"'),
              "-o", "json"]
    code, out, err = run_cli(*verify)
    assert code == 0, out  # the default root has no kubelet: no drift seen
    code, out, err = run_cli("--kubelet-root", "/srv-kubelet", *verify)
    assert code == 4, out
    drift = [m for m in json.loads(out)["mismatches"] if m["kind"] == "kubelet"]
    assert drift and drift[0]["target"] == "db" and synth.POD_SOLVER in drift[0]["current"]
