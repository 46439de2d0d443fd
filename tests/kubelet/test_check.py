"""`rmctl kubelet check`: one line per mismatch between the kubelet, the kernel, rmctl and itself."""

from __future__ import annotations

import json
import os

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery import discover, kubelet
from rmctl.discovery.root import Root
from rmctl.planning.kubelet_check import check
from tests import synth

CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cpuManagerPolicy: static
reservedSystemCPUs: "{reserved}"
memoryManagerPolicy: Static
staticPodURLHeader: {{X-Token: [s3cret]}}
"""


def _scenario(tmp_path, reserved="0,8", **build):
    sc = synth.kubelet_scenario(tmp_path / "node")
    with open(os.path.join(sc["root"], "var/lib/kubelet/config.yaml"), "w") as f:
        f.write(CONFIG.format(reserved=reserved))
    return sc


def _failed(doc):
    return {f["check"]: f for f in doc["findings"] if not f["ok"]}


def test_agreeing_node_exits_0(run_cli, tmp_path):
    sc = _scenario(tmp_path)
    code, out, err = run_cli("--root", sc["root"], "kubelet", "check", "-o", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["ok"] and doc["config"] == "/var/lib/kubelet/config.yaml" and not _failed(doc)
    assert "s3cret" not in out


def test_reserved_cpus_that_a_pod_holds_and_isolcpus(run_cli, tmp_path):
    sc = _scenario(tmp_path, reserved="0-1")  # CPU 1 is web-0's
    with open(os.path.join(sc["root"], "proc/cmdline"), "w") as f:
        f.write("BOOT_IMAGE=/vmlinuz isolcpus=domain,0,3 nohz_full=3\n")
    code, out, err = run_cli("--root", sc["root"], "kubelet", "check")
    assert code == 4, out
    assert "reserved CPU 1 is not in the shared pool" in out
    assert "reservedSystemCPUs: CPU 0 is in isolcpus= or nohz_full=" in out
    assert "isolated CPU 3 is in the kubelet's shared pool" in out
    assert out.count("-> ") == 3


def test_pool_resized_under_the_memory_manager(run_cli, tmp_path):
    sc = _scenario(tmp_path)
    for rel in ("sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
                "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"):
        with open(os.path.join(sc["root"], rel), "w") as f:
            f.write("1024\n")
    code, out, _ = run_cli("--root", sc["root"], "kubelet", "check", "-o", "json")
    assert code == 4
    f = _failed(json.loads(out))["memory-manager-pool:0:hugepages-2Mi"]
    assert "counts 1Gi of hugepages-2Mi, the pool holds 2Gi" in f["message"]
    assert "rmctl hugepages set 2Mi=512 --numa 0" in f["fix"]


def test_checkpoint_that_no_longer_covers_the_cpus(run_cli, tmp_path):
    sc = _scenario(tmp_path)
    with open(os.path.join(sc["root"], "sys/devices/system/cpu/online"), "w") as f:
        f.write("0-13\n")  # two CPUs went offline since the kubelet wrote its state
    code, out, _ = run_cli("--root", sc["root"], "kubelet", "check", "-o", "json")
    f = _failed(json.loads(out))["cpu-checkpoint-matches-cpus"]
    assert "CPUs 14-15 of the checkpoint are not online" in f["message"] and "delete" in f["fix"]


def test_rmctl_reservations_against_the_kubelet(tmp_path):
    sc = _scenario(tmp_path)
    root = Root.open(sc["root"])
    findings = check(discover(root), kubelet.read(root), {"reservedSystemCPUs": "0,8"},
                     reservations={"db": CpuSet.parse("4"), "ok": CpuSet.parse("0"), "loose": CpuSet.parse("3")},
                     system_cpus=CpuSet.parse("0-1"))
    bad = {f.check: f for f in findings if not f.ok}
    assert "gave a pod exclusively" in bad["rmctl-reservation:db"].message
    assert "rmctl cpu release db" in bad["rmctl-reservation:db"].fix
    assert "add 3 to reservedSystemCPUs" in bad["rmctl-reservation:loose"].fix
    assert "rmctl-reservation:ok" not in bad
    assert 'reservedSystemCPUs: "0-1"' in bad["system-cpus"].fix


def test_missing_config_is_said(run_cli, tmp_path):
    sc = synth.kubelet_scenario(tmp_path / "node")
    code, out, _ = run_cli("--root", sc["root"], "kubelet", "check", "-o", "json")
    doc = json.loads(out)
    assert code == 4 and doc["config"] is None and "reserved-cpus-known" in _failed(doc)
    code, _, err = run_cli("--root", sc["root"], "kubelet", "check", "--config", "/etc/nope.yaml")
    assert code == 2 and "no kubelet config" in err


@pytest.mark.parametrize("text", ["kind: Pod\n", "[1, 2\n", "just text\n"])
def test_bad_config_is_a_usage_error(run_cli, tmp_path, text):
    sc = synth.kubelet_scenario(tmp_path / "node")
    with open(os.path.join(sc["root"], "var/lib/kubelet/config.yaml"), "w") as f:
        f.write(text)
    code, _, err = run_cli("--root", sc["root"], "kubelet", "check")
    assert code == 2 and "kubelet config" in err and "Traceback" not in err


def test_snapshot_keeps_only_the_config_fields(tmp_path):
    from rmctl.discovery.capture import capture as snapshot_capture

    sc = _scenario(tmp_path)
    out = str(tmp_path / "s.tar.gz")
    summary = snapshot_capture(Root.open(sc["root"]), out)
    cfg = summary["facts"]["kubelet"]["config"]
    assert cfg == {"cpuManagerPolicy": "static", "reservedSystemCPUs": "0,8", "memoryManagerPolicy": "Static"}
    import tarfile

    with tarfile.open(out) as tf:
        assert not [m.name for m in tf.getmembers() if m.name.endswith("config.yaml")]
        assert b"s3cret" not in b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile())
    from rmctl.ops.kubelet import check as check_op

    outcome = check_op(Root.open(out))
    assert outcome.data["config"] == "snapshot facts" and outcome.data["ok"], outcome.data


def test_live_check_compares_rmctl_reservations(run_cli, tmp_path):
    """On this machine: a kubelet root of our own holding CPU 1 for a pod, an rmctl reservation on it."""
    online = CpuSet.parse(open("/sys/devices/system/cpu/online").read())
    if len(online) < 2:
        pytest.skip("needs two CPUs")
    first, second = online.sorted()[:2]
    kroot = tmp_path / "k"
    synth.write_kubelet("/", kubelet_root=str(kroot).lstrip("/"),
                        cpu={"default": (online - CpuSet([second])).to_list(), "entries": {"u1": {"c": str(second)}}})
    (kroot / "config.yaml").write_text(f'kind: KubeletConfiguration\ncpuManagerPolicy: static\n'
                                       f'reservedSystemCPUs: "{first}"\n')
    st = ["--state-dir", str(tmp_path / "st"), "--kubelet-root", str(kroot)]
    code, _, err = run_cli(*st, "cpu", "reserve", "mine", "--cpus", str(second), "--force")
    assert code == 0, err
    code, out, err = run_cli(*st, "kubelet", "check", "-o", "json")
    assert code == 4, out
    bad = _failed(json.loads(out))
    assert "gave a pod exclusively" in bad["rmctl-reservation:mine"]["message"]
