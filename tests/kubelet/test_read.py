"""Reading the kubelet's files under a root: the scenario, absent files, hostile files, nothing written."""

from __future__ import annotations

import hashlib
import os

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery import kubelet
from rmctl.discovery.kubelet import files
from rmctl.discovery.root import Root
from rmctl.errors import KubeletCheckpointError, UsageError
from tests import synth


def _tree_digest(base) -> str:
    h = hashlib.sha256()
    for dirpath, dirs, names in sorted(os.walk(base)):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            h.update(f"{os.path.relpath(p, base)} {st.st_mode} {st.st_size} {st.st_mtime_ns}\n".encode())
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


@pytest.fixture
def scenario(tmp_path):
    return synth.kubelet_scenario(tmp_path / "node")


def test_scenario_holdings(scenario):
    st = kubelet.read(Root.open(scenario["root"]))
    assert st.present() and st.dra is None
    assert st.cpu.policy == "static"
    assert st.cpu.exclusive_cpus() == CpuSet.parse(scenario["exclusive"])
    assert st.cpu.default_cpus == CpuSet.parse(scenario["shared"])
    assert st.memory.policy == "Static" and [m.node for m in st.memory.machine] == [0, 1]
    held = {(h.pod_uid, h.container): h for h in st.containers()}
    app = held[(synth.POD_WEB, "app")]
    assert app.cpus == CpuSet.parse("1-2,9-10")
    assert [(b.resource, b.size, b.nodes) for b in app.memory] == [
        ("memory", 1 << 30, (0,)), ("hugepages-2Mi", 512 << 20, (0,))]
    assert [(d.resource, d.device_ids(), d.nodes()) for d in app.devices] == [
        ("nvidia.com/gpu", (synth.GPU_ID,), (0,))]
    assert held[(synth.POD_SOLVER, "sidecar")].cpus == CpuSet.parse("6,14")
    assert app.namespace is None  # names come from the live API only


def test_no_kubelet_means_nothing_present(tmp_path):
    root = synth.build(tmp_path / "bare")
    st = kubelet.read(Root.open(root))
    assert not st.present() and st.containers() == [] and st.pod_uids() == []


def test_other_kubelet_root(tmp_path):
    root = synth.build(tmp_path / "n")
    synth.write_kubelet(root, kubelet_root="data/kubelet", cpu={"default": "0-7"})
    assert kubelet.read(Root.open(root)).cpu is None
    assert kubelet.read(Root.open(root), "/data/kubelet").cpu.default_cpus == CpuSet.parse("0-7")


@pytest.mark.parametrize("bad", ["", "relative/../x", "/var/lib/../etc", "/"])
def test_bad_kubelet_root_is_a_usage_error(bad):
    if bad == "":
        assert kubelet.kubelet_rel(bad) == "var/lib/kubelet"  # empty: the default
        return
    with pytest.raises(UsageError):
        kubelet.kubelet_rel(bad)


def test_corrupt_checkpoint_fails_and_changes_nothing(scenario):
    path = os.path.join(scenario["root"], scenario["paths"]["cpu"])
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('"1-2,9-10"', '"1-3,9-10"'))  # the checksum no longer matches
    before = _tree_digest(scenario["root"])
    with pytest.raises(KubeletCheckpointError) as e:
        kubelet.read(Root.open(scenario["root"]))
    assert e.value.code == "kubelet_checkpoint_corrupt" and e.value.exit_code == 5
    assert "checksum" in e.value.message and "delete /var/lib/kubelet/cpu_manager_state" in e.value.hint
    assert _tree_digest(scenario["root"]) == before


def test_link_leaving_the_root_is_refused(tmp_path):
    root = synth.build(tmp_path / "n")
    outside = tmp_path / "outside.json"
    outside.write_text('{"policyName":"none","defaultCpuSet":"0","checksum":0}')
    os.makedirs(os.path.join(root, "var/lib/kubelet"))
    os.symlink(str(outside), os.path.join(root, "var/lib/kubelet/cpu_manager_state"))
    with pytest.raises(KubeletCheckpointError, match="leaves the root"):
        kubelet.read(Root.open(root))


def test_a_fifo_is_refused_without_blocking(tmp_path):
    root = synth.build(tmp_path / "n")
    os.makedirs(os.path.join(root, "var/lib/kubelet"))
    os.mkfifo(os.path.join(root, "var/lib/kubelet/memory_manager_state"))
    with pytest.raises(KubeletCheckpointError, match="not a regular file"):
        kubelet.read(Root.open(root))


def test_an_absurd_size_is_refused_before_parsing(tmp_path, monkeypatch):
    root = synth.build(tmp_path / "n")
    synth.write_kubelet(root, cpu={"default": "0-7"})
    monkeypatch.setattr(files, "MAX_CHECKPOINT_BYTES", 16)
    with pytest.raises(KubeletCheckpointError, match="MiB rmctl reads"):
        kubelet.read(Root.open(root))


def test_reads_are_recorded_for_the_manifest(scenario):
    root = Root.open(scenario["root"], record=True)
    kubelet.read(root)
    assert "var/lib/kubelet/cpu_manager_state" in root.opened
    assert "var/lib/kubelet/device-plugins/kubelet_internal_checkpoint" in root.opened


def test_cpu_clash_and_marks(scenario):
    from rmctl.planning.kubelet import cpu_clash, cpu_marks

    st = kubelet.read(Root.open(scenario["root"]))
    clash = cpu_clash(st, CpuSet.parse("2-4"))
    assert clash.refused() and clash.exclusive == CpuSet.parse("2,4") and clash.shared == CpuSet.parse("3")
    assert clash.holders == (f"2 by pod {synth.POD_WEB} container app (kubelet)",
                             f"4 by pod {synth.POD_SOLVER} container worker (kubelet)")
    assert not cpu_clash(st, CpuSet.parse("3,7")).refused()
    marks = cpu_marks(st, CpuSet.parse("0,8"))
    assert (marks[0], marks[1], marks[3]) == ("reserved", "exclusive", "shared")
