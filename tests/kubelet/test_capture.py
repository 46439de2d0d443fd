"""The kubelet's checkpoints in a snapshot: identities scrubbed, files still agree and still verify."""

from __future__ import annotations

import os
import shutil

from rmctl.discovery import kubelet
from rmctl.discovery.kubelet import capture, cpu_manager, device_manager, dra
from rmctl.discovery.root import Root
from tests import synth
from tests.kubelet.test_checkpoints import UPSTREAM


def _unpack(members: dict, base) -> Root:
    for rel, data in members.items():
        p = os.path.join(base, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(base, "sys/devices/system/cpu"), exist_ok=True)
    return Root.open(str(base))


def test_scrubbed_capture_keeps_holdings_and_drops_identities(tmp_path):
    sc = synth.kubelet_scenario(tmp_path / "node")
    members, facts = capture.capture(Root.open(sc["root"]), "var/lib/kubelet")
    assert facts == {"root": "/var/lib/kubelet", "files": sorted(members), "identities_kept": False}
    blob = b"".join(members.values())
    for secret in (synth.POD_WEB, synth.POD_SOLVER, synth.GPU_ID[4:]):
        assert secret.encode() not in blob
    orig = kubelet.read(Root.open(sc["root"]))
    snap = kubelet.read(_unpack(members, tmp_path / "snap"))
    # every checksum verifies again, and the holdings are the same but for the stand-in UIDs
    for m in ("cpu", "memory", "devices"):
        assert getattr(snap, m).checkpoint.checksum_status == "verified"
    strip = [(h.container, h.cpus, [(b.resource, b.size, b.nodes) for b in h.memory],
              [(d.resource, d.nodes(), len(d.device_ids())) for d in h.devices]) for h in orig.containers()]
    assert strip == [(h.container, h.cpus, [(b.resource, b.size, b.nodes) for b in h.memory],
                      [(d.resource, d.nodes(), len(d.device_ids())) for d in h.devices]) for h in snap.containers()]
    # one pod keeps one stand-in across the three files; the GPU keeps one across allocation and registration
    uids = {h.container: h.pod_uid for h in snap.containers()}
    assert uids["worker"] == uids["sidecar"] != uids["app"]
    gpu = snap.devices.allocations[0].device_ids()[0]
    assert gpu.startswith("GPU-00000000-") and snap.devices.registered == (("nvidia.com/gpu", (gpu,)),)


def test_keep_ids_copies_the_files_as_they_are(tmp_path):
    sc = synth.kubelet_scenario(tmp_path / "node")
    members, facts = capture.capture(Root.open(sc["root"]), "var/lib/kubelet", keep_ids=True)
    assert facts["identities_kept"] is True
    with open(os.path.join(sc["root"], sc["paths"]["cpu"]), "rb") as f:
        assert members[sc["paths"]["cpu"]] == f.read()


def test_alloc_resp_boot_id_and_dra_names_are_dropped():
    ps = capture.Pseudonyms()
    with open(os.path.join(UPSTREAM, "devices-v2-tegra.json")) as f:
        text = capture.scrub("var/lib/kubelet/device-plugins/kubelet_internal_checkpoint",
                             f.read().replace('"Checksum"', '"BootID":"b7c1","Checksum"'), ps)
    # the BootID sits outside the checksum: adding it kept the sample valid
    assert "AllocResp\":null" in text and "BootID" not in text and "bf52b2cd" not in text
    assert device_manager.parse("x", text).allocations[0].device_ids() == ("tegra",)
    with open(os.path.join(UPSTREAM, "dra-v1-two-claims.json")) as f:
        text = capture.scrub("var/lib/kubelet/dra_manager_state", f.read(), ps)
    st = dra.parse("x", text)
    assert [(c.name, c.namespace) for c in st.claims] == [("claim-1", "namespace-1"), ("claim-2", "namespace-1")]
    assert st.claims[0].pod_uids == st.claims[1].pod_uids
    assert "067798be" not in text and "139cdb46" not in text


def test_v1_container_ids_are_scrubbed():
    text = ('{"policyName":"static","defaultCpuSet":"0-1","entries":{"'
            + "ab" * 32 + '":"2-3"},"checksum":0}')
    out = capture.scrub("var/lib/kubelet/cpu_manager_state", text, capture.Pseudonyms())
    st = cpu_manager.parse("x", out)
    assert st.checkpoint.format == "v1" and "ab" * 32 not in out
    assert len(st.assignments[0].container_id) == 16


def test_a_corrupt_checkpoint_is_left_out_and_said_so(tmp_path):
    root = synth.build(tmp_path / "n")
    synth.write_kubelet(root, cpu={"default": "0-7"})
    shutil.copy(os.path.join(UPSTREAM, "cpu-v2-invalid-checksum.json"),
                os.path.join(root, "var/lib/kubelet/memory_manager_state"))
    members, facts = capture.capture(Root.open(root), "var/lib/kubelet")
    assert list(members) == ["var/lib/kubelet/cpu_manager_state"]
    assert facts["left_out"][0]["path"] == "var/lib/kubelet/memory_manager_state"
    members, facts = capture.capture(Root.open(root), "var/lib/kubelet", keep_ids=True)
    assert "var/lib/kubelet/memory_manager_state" in members and "kept as it is" in facts["left_out"][0]["reason"]


def test_snapshot_capture_includes_the_scrubbed_checkpoints(tmp_path):
    from rmctl.discovery.capture import capture as snapshot_capture

    sc = synth.kubelet_scenario(tmp_path / "node")
    out = str(tmp_path / "node7.tar.gz")
    summary = snapshot_capture(Root.open(sc["root"]), out)
    assert summary["facts"]["kubelet"]["identities_kept"] is False
    snap = Root.open(out)
    st = kubelet.read(snap)
    assert st.cpu.exclusive_cpus().to_list() == sc["exclusive"]
    assert st.devices.allocations[0].nodes() == (0,)
    import tarfile

    with tarfile.open(out) as tf:
        blob = b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile())
    assert synth.POD_WEB.encode() not in blob and synth.GPU_ID[4:].encode() not in blob


def test_snapshot_remembers_another_kubelet_root(tmp_path):
    from rmctl.discovery.capture import capture as snapshot_capture

    root = synth.build(tmp_path / "n")
    synth.write_kubelet(root, kubelet_root="data/kubelet", cpu={"default": "0-7"})
    out = str(tmp_path / "n.tar")
    snapshot_capture(Root.open(root), out, kubelet_root="/data/kubelet")
    snap = Root.open(out)
    assert snap.facts()["kubelet"]["root"] == "/data/kubelet"
    assert kubelet.read(snap).cpu.default_cpus.to_list() == "0-7"
