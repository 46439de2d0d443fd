"""rmctl.model.fingerprint: the topology's shape, not its momentary state."""

from __future__ import annotations

import os

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.model.fingerprint import fingerprint, shape
from tests import synth


def fp(path):
    return fingerprint(discover(Root.open(path)))


def test_same_shape_same_fingerprint_whatever_the_free_memory(tmp_path):
    a = synth.build(tmp_path / "a", sockets=2, cores=2, threads=2)
    b = synth.build(tmp_path / "b", sockets=2, cores=2, threads=2, hugepages={2 << 20: 16})
    # free memory differs: rewrite MemFree
    with open(os.path.join(b, "proc/meminfo")) as f:
        text = f.read()
    with open(os.path.join(b, "proc/meminfo"), "w") as f:
        f.write(text.replace("MemFree:", "MemFree:  1").replace("MemFree:  1 ", "MemFree: 1"))
    assert fp(a) == fp(b)
    assert len(fp(a)) == 64 and int(fp(a), 16) >= 0


def test_shape_changes_change_the_fingerprint(tmp_path):
    base = fp(synth.build(tmp_path / "a", sockets=2, cores=2, threads=2))
    assert fp(synth.build(tmp_path / "c", sockets=1, cores=4, threads=2)) != base  # one node, not two
    assert fp(synth.build(tmp_path / "d", sockets=2, cores=2, threads=2, numa_per_socket=2)) != base
    assert fp(synth.build(tmp_path / "e", sockets=2, cores=3, threads=2)) != base  # more CPUs


def test_offline_cpus_and_node_memory_keep_the_fingerprint(tmp_path):
    # cpu reconcile must load the state after a CPU went offline, and node
    # memory totals move on VMs with lazily initialised memory.
    base = fp(synth.build(tmp_path / "a", sockets=2, cores=2, threads=2))
    assert fp(synth.build(tmp_path / "b", sockets=2, cores=2, threads=2, offline=(3,))) == base
    assert fp(synth.build(tmp_path / "f", sockets=2, cores=2, threads=2, node_memory=32 << 30)) == base


def test_shape_is_plain_data(tmp_path):
    s = shape(discover(Root.open(synth.build(tmp_path / "a"))))
    assert set(s) == {"v", "arch", "present", "nodes"}
    assert s["present"] == list(range(8))


def test_live_fingerprint_is_stable():
    assert fingerprint(discover(Root.open("/"))) == fingerprint(discover(Root.open("/")))
