"""Capture keeps what device discovery reads: manifest coverage and round trips (NVML facts included)."""

import json
import sys
import tarfile

import pytest

from rmctl.discovery import capture, manifest, paths
from rmctl.discovery.pci import read_devices
from rmctl.discovery.root import FACTS_FILE, Root
from tests.devices.test_nvml import fake_pynvml, gpu_root  # noqa: F401 - fixture
from tests.devices.test_synth import PCI_IDS, _pf_vf_ib_nvme


def test_manifest_keeps_no_config_space_or_serials():
    assert [g for g in manifest.MANIFEST if g.startswith(paths.SYS_PCI_DEVICES)]
    assert not [g for g in manifest.MANIFEST if g.endswith("/config") or "serial" in g]


def _uncovered(root):
    read_devices(root, [])
    # pci.ids is not captured: the names a snapshot needs go to its facts file
    return sorted({p for p in root.opened if p not in paths.PCI_IDS and not manifest.covers(p)})


@pytest.mark.parametrize("name", ["gpu-node", "dev-vm"])
def test_manifest_covers_node_fixtures(name, node_root):
    assert _uncovered(Root.open(node_root(name), record=True)) == []


@pytest.mark.parametrize("name", ["hwloc-32intel64-2p8co2t+8ve", "hwloc-2pa-pcidomain32bits"])
def test_manifest_covers_sysfs_fixtures(name, fixture_root):
    assert _uncovered(Root.open(fixture_root(name), record=True)) == []


def test_manifest_covers_synthetic_and_live(tmp_path):
    assert _uncovered(Root.open(_pf_vf_ib_nvme(tmp_path), record=True)) == []
    assert _uncovered(Root.open("/", record=True)) == []


def _same_devices(src_root, dest):
    before = [d.to_data() for d in read_devices(src_root, [])]
    after = [d.to_data() for d in read_devices(Root.open(dest), [])]
    return before, after


def test_round_trip_sriov_rdma_nvme_names(tmp_path):
    base = _pf_vf_ib_nvme(tmp_path / "t")
    import os

    os.makedirs(os.path.join(base, "usr/share/misc"))
    with open(os.path.join(base, "usr/share/misc/pci.ids"), "w") as f:
        f.write(PCI_IDS)
    dest = str(tmp_path / "synth.tar.gz")
    capture.capture(Root.open(base), dest)
    before, after = _same_devices(Root.open(base), dest)
    assert before == after
    assert any(d["device_name"] == "GH100 [H200 SXM 141GB]" for d in after)  # names from the facts file
    pf = next(d for d in after if d["address"] == "0000:3b:00.0")
    assert pf["sriov"]["vfs"] == ["0000:3b:00.2", "0000:3b:00.3"] and pf["driver"] == "mlx5_core"
    assert pf["iommu_group"] == 17
    with tarfile.open(dest) as tf:
        names = tf.getnames()
    assert not [n for n in names if n.endswith("/serial") or n.endswith("/config")]


@pytest.mark.parametrize("name", ["gpu-node", "dev-vm"])
def test_round_trip_node_fixtures(name, node_root, tmp_path):
    dest = str(tmp_path / f"{name}.tar.gz")
    capture.capture(Root.open(node_root(name)), dest)
    before, after = _same_devices(Root.open(node_root(name)), dest)
    assert before == after


def test_round_trip_live(tmp_path):
    dest = str(tmp_path / "live.tar.gz")
    capture.capture(Root.open("/"), dest)
    before, after = _same_devices(Root.open("/"), dest)
    assert before == after


def test_capture_stores_nvml_facts_and_they_read_back(gpu_root, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    dest = str(tmp_path / "gpu.tar.gz")
    capture.capture(gpu_root, dest, keep_ids=True)
    with tarfile.open(dest) as tf:
        facts = json.load(tf.extractfile(f"gpu/{FACTS_FILE}"))
    assert facts["nvml"]["gpus"][0]["name"] == "NVIDIA H200"
    live = {str(d.address): d for d in read_devices(gpu_root, [])}
    snap = {str(d.address): d for d in read_devices(Root.open(dest), [])}
    g_live, g_snap = live["0000:00:06.0"], snap["0000:00:06.0"]
    assert (g_live.gpu.source, g_snap.gpu.source) == ("nvml", "facts")
    assert g_snap.attributes == g_live.attributes and g_snap.capacity == g_live.capacity
    assert g_snap.capacity["rmctl.io/memory"] == 150754820096


def test_capture_drops_gpu_uuid_unless_asked(gpu_root, tmp_path, monkeypatch):  # noqa: F811
    # issue #2: no serial numbers, UUIDs or hostnames in a snapshot by default
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    dest = str(tmp_path / "gpu.tar.gz")
    capture.capture(gpu_root, dest)
    with tarfile.open(dest) as tf:
        raw = tf.extractfile(f"gpu/{FACTS_FILE}").read().decode()
    facts = json.loads(raw)
    assert facts["identities_kept"] is False
    assert "uuid" not in facts["nvml"]["gpus"][0] and "GPU-" not in raw
    live = {str(d.address): d for d in read_devices(gpu_root, [])}["0000:00:06.0"]
    snap = {str(d.address): d for d in read_devices(Root.open(dest), [])}["0000:00:06.0"]
    assert live.attributes.get("rmctl.io/uuid")
    assert "rmctl.io/uuid" not in snap.attributes
    rest = {k: v for k, v in live.attributes.items() if k != "rmctl.io/uuid"}
    assert snap.attributes == rest and snap.capacity == live.capacity
