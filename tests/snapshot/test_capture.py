"""`rmctl snapshot capture`: round trip on this machine, identity scrubbed, refusals."""

import json
import os
import tarfile

import pytest

from rmctl.discovery import Root
from rmctl.discovery.capture import capture, scrub, scrub_id

# Fields that legitimately differ between two reads of a live machine, or
# between the live root and its snapshot: provenance and free-memory counters.
VOLATILE = {"source", "free", "available", "memory_free"}


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in VOLATILE}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def test_round_trip_equals_live(tmp_path, run_cli, machine_lock):
    # machine_lock: hugepage pools must not change under us between the two reads.
    out = str(tmp_path / "node.tar.gz")
    code, _, err = run_cli("snapshot", "capture", out)
    assert code == 0, err
    code, live, err = run_cli("topology", "-o", "json")
    assert code == 0, err
    code, snap, err = run_cli("--root", out, "topology", "-o", "json")
    assert code == 0, err
    live, snap = json.loads(live), json.loads(snap)
    assert snap["source"]["live"] is False and snap["source"]["kind"] == "tarball"
    assert snap["source"]["captured_at"] and snap["source"]["kernel"] == live["source"]["kernel"]
    assert snap["source"]["arch"] == live["source"]["arch"]
    assert strip(snap) == strip(live)


def test_tarball_shape_and_no_identity(tmp_path):
    out = str(tmp_path / "n1.tar.xz")
    summary = capture(Root.open("/"), out)
    assert summary["files"] > 10
    with tarfile.open(out) as tf:
        names = tf.getnames()
        assert {n.split("/")[0] for n in names} == {"n1"}  # one top folder
        facts = json.load(tf.extractfile("n1/rmctl-facts.json"))
        assert {"kernel", "arch", "page_size", "captured_at", "rmctl_version"} <= set(facts)
        blob = b"".join(tf.extractfile(m).read() for m in tf.getmembers() if m.isfile())
    hostname = os.uname().nodename.encode()
    assert not any("dmi" in n or "hostname" in n or "boot_id" in n for n in names)
    assert not any(n.split("/")[2:3] and n.split("/")[2].isdigit() for n in names if n.startswith("n1/proc/"))
    if len(hostname) > 3:
        assert hostname not in blob
    with open("/proc/sys/kernel/random/boot_id", "rb") as f:
        assert f.read().strip() not in blob


def test_device_facts_merge(tmp_path, monkeypatch):
    from rmctl.discovery import pci

    monkeypatch.setattr(pci, "snapshot_facts", lambda root: {"nvml": {"gpus": 0}})
    out = str(tmp_path / "f.tar")
    summary = capture(Root.open("/"), out)
    assert summary["facts"]["nvml"] == {"gpus": 0}
    root = Root.open(out)
    assert root.facts()["nvml"] == {"gpus": 0}


def test_refuses_overwrite_without_force(tmp_path, run_cli):
    out = tmp_path / "x.tar.gz"
    out.write_bytes(b"keep me")
    code, _, err = run_cli("snapshot", "capture", str(out))
    assert code == 5 and "already exists" in err and "Traceback" not in err
    assert out.read_bytes() == b"keep me"
    code, _, err = run_cli("snapshot", "capture", "--force", str(out))
    assert code == 0, err
    assert tarfile.is_tarfile(str(out))


def test_bad_name_is_usage_error(tmp_path, run_cli):
    code, out, err = run_cli("snapshot", "capture", str(tmp_path / "x.zip"), "-o", "json")
    assert code == 2
    assert json.loads(out)["kind"] == "Error"
    assert not os.path.exists(tmp_path / "x.zip")


def test_capture_of_a_fixture_reads_back_the_same(tmp_path, fixture_root):
    from rmctl.discovery import discover
    from rmctl.render.topology import summary_data

    src = Root.open(fixture_root("hwloc-16amd64-8n2c-cpusets"))
    out = str(tmp_path / "c.tar.bz2")
    capture(src, out)
    a, b = discover(src), discover(Root.open(out))
    assert summary_data(a) == summary_data(b)  # allowed CPUs (legacy cpuset fs) included


@pytest.mark.parametrize("rel,data,gone", [
    ("proc/cmdline", "root=UUID=0a1b2c3d-1111-2222-3333-444455556666 ro -- --token x\n", "0a1b2c3d"),
    ("proc/mounts", "srv.example.com:/export /mnt nfs rw 0 0\nnone /dev/hugepages hugetlbfs rw 0 0\n", "example"),
    ("proc/self/status", "Name:\tx\nUid:\t1000\nCpus_allowed_list:\t0-3\n", "Uid"),
    ("proc/hwloc-nofile-info", "HostName: secret\nArchitecture: x86_64\n", "secret"),
    ("proc/cpuinfo", "processor 0: version = 00,  identification = 279F25,  machine = 2817\nSerial\t: 1234\n", "279F25"),
    ("proc/self/cgroup", "0::/docker/0123456789abcdef0123456789abcdef\n", "0123456789abcdef"),
])
def test_scrub(rel, data, gone):
    out = scrub(rel, data.encode()).decode()
    assert gone not in out
    if rel == "proc/mounts":
        assert "hugetlbfs" in out
    if rel == "proc/self/status":
        assert "Cpus_allowed_list:\t0-3" in out


def test_scrub_id_keeps_short_numbers():
    assert scrub_id("4:memory:/user.slice/1000") == "4:memory:/user.slice/1000"
