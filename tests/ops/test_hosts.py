"""One Host policy for every use case (rmctl.ops.hosts)."""

from __future__ import annotations

import pytest

from rmctl.discovery.root import Root
from rmctl.errors import ExitCode, SnapshotRootError
from rmctl.execute.host import Host, LiveHost, SnapshotHost
from rmctl.ops import hosts
from tests import synth


@pytest.fixture
def snap(tmp_path):
    return Root.open(synth.build(tmp_path / "n", sockets=1, cores=1, threads=1))


def test_live_root_acts_on_this_machine(monkeypatch):
    live = Root("/")
    assert type(hosts.host_for(live)) is LiveHost and type(hosts.state_host(live)) is LiveHost
    fake = Host("/")
    monkeypatch.setattr(hosts, "host_factory", lambda: fake)
    assert hosts.host_for(live) is fake and hosts.state_host(live) is fake
    hosts.require_live(live, "do it")  # no error


def test_snapshot_root_reads_the_snapshot_and_state_stays_on_this_machine(snap, monkeypatch):
    monkeypatch.setattr(hosts, "host_factory", lambda: pytest.fail("the seam is for live roots only"))
    h = hosts.host_for(snap)
    assert type(h) is SnapshotHost and h.root is snap and not h.live  # reads through the Root
    assert h.read_text("/sys/devices/system/cpu/online").strip() == "0"
    s = hosts.state_host(snap)
    assert type(s) is Host and s.base == "/"
    with pytest.raises(SnapshotRootError) as e:
        hosts.require_live(snap, "mount hugetlbfs")
    assert e.value.exit_code == ExitCode.USAGE and "--dry-run" in e.value.hint
    with pytest.raises(SnapshotRootError) as e:
        hosts.require_live(snap, "pin a process", dry_run_helps=False)
    assert "drop --root" in e.value.hint


def test_dir_state(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    (tmp_path / "file").write_text("x")
    h = Host(str(tmp_path))
    assert [h.dir_state(p) for p in ("/absent", "/empty", "/full", "/file")] == \
        ["absent", "empty", "nonempty", "notdir"]
