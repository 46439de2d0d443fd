"""End to end on this machine, as root: real pools, real mounts, restored afterwards.

Every test takes ``machine`` (the e2e lock plus a snapshot of every pool
and hugetlbfs mount) and the fixture's teardown restores all of it, also
when the test fails.  A kernel shortfall is faked with a LiveHost that
writes fewer pages than asked (really writing them): forcing a real one
would starve the machine.
"""

import json
import os
import subprocess
import sys

import pytest

from rmctl.discovery.parse import parse_meminfo, parse_mounts
from rmctl.execute.host import LiveHost
from rmctl.ops import hosts as ops_hosts
from tests.conftest import REPO, require_root

pytestmark = pytest.mark.e2e

SYS_HP = "/sys/kernel/mm/hugepages"
SYS_NODE = "/sys/devices/system/node"
P2M = f"{SYS_HP}/hugepages-2048kB/nr_hugepages"
P1G = f"{SYS_HP}/hugepages-1048576kB/nr_hugepages"
N0_2M = f"{SYS_NODE}/node0/hugepages/hugepages-2048kB/nr_hugepages"


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, value):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def pool_files():
    """Return every writable pool file: per-node nr_hugepages, then global nr and overcommit."""
    out = []
    if os.path.isdir(SYS_NODE):
        for n in sorted(os.listdir(SYS_NODE)):
            d = f"{SYS_NODE}/{n}/hugepages"
            if n.startswith("node") and os.path.isdir(d):
                out += [f"{d}/{s}/nr_hugepages" for s in sorted(os.listdir(d))]
    for s in sorted(os.listdir(SYS_HP)):
        out += [f"{SYS_HP}/{s}/nr_hugepages", f"{SYS_HP}/{s}/nr_overcommit_hugepages"]
    return out


def hugetlbfs_mounts():
    with open("/proc/mounts") as f:
        return {p: opts for _, p, t, opts in parse_mounts(f.read()) if t == "hugetlbfs"}


def meminfo():
    with open("/proc/meminfo") as f:
        return parse_meminfo(f.read())


@pytest.fixture
def machine(machine_lock, monkeypatch):
    """Lock, record every pool and hugetlbfs mount, and restore them after the test."""
    require_root()
    saved = {p: read(p) for p in pool_files()}
    mounts = set(hugetlbfs_mounts())
    try:
        yield saved
    finally:
        monkeypatch.setattr(ops_hosts, "host_factory", None)
        for path in sorted(set(hugetlbfs_mounts()) - mounts, reverse=True):
            subprocess.run(["umount", path], check=False)
        for p, v in saved.items():
            try:
                if read(p) != v:
                    write(p, v)
            except OSError:
                pass
        assert {p: read(p) for p in saved} == saved, "hugepage pools not restored"
        assert set(hugetlbfs_mounts()) == mounts, "hugetlbfs mounts not restored"


def test_set_2m_global_and_on_node0(machine, run_cli):
    code, out, err = run_cli("hugepages", "set", "2M=8", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "ok" and doc["pools"][0]["achieved"] == 8
    assert read(P2M) == "8"
    mi = meminfo()
    assert mi["Hugepagesize"] == 2 << 20 and mi["HugePages_Total"] == 8
    code, out, err = run_cli("hugepages", "set", "2M=8", "-o", "json")  # idempotent
    assert code == 0 and json.loads(out)["pools"][0]["status"] == "unchanged"
    code, out, err = run_cli("hugepages", "set", "2M=0")
    assert code == 0, err
    assert read(P2M) == "0" and meminfo()["HugePages_Total"] == 0

    code, out, err = run_cli("hugepages", "set", "2M=6", "--node", "0", "-o", "json")
    assert code == 0, err
    assert read(N0_2M) == "6" and read(P2M) == "6" and meminfo()["HugePages_Total"] == 6
    code, out, err = run_cli("hugepages", "show", "-o", "json")
    doc = json.loads(out)
    [n0] = [p for n in doc["nodes"] if n["id"] == 0 for p in n["pools"] if p["page_size"] == 2 << 20]
    assert n0["total"] == 6 and n0["free"] == 6
    code, out, err = run_cli("hugepages", "set", "2M=0", "--node", "0")
    assert code == 0 and read(N0_2M) == "0"


def test_1g_pool_of_one_page_and_back(machine, run_cli):
    code, out, err = run_cli("hugepages", "set", "1G=1", "-o", "json")
    assert code == 0, (out, err)
    assert read(P1G) == "1"
    assert meminfo()["Hugetlb"] >= 1 << 30
    code, out, err = run_cli("hugepages", "set", "1G=0", "-o", "json")
    assert code == 0, err
    assert read(P1G) == "0"


def test_overcommit_2m_and_refused_for_1g(machine, run_cli):
    code, out, err = run_cli("hugepages", "set", "2M", "--overcommit", "4", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["overcommit"] == [{"page_size": 2 << 20, "path": f"{SYS_HP}/hugepages-2048kB/nr_overcommit_hugepages",
                                  "value": "4", "previous": "0", "status": "applied"}]
    assert read(f"{SYS_HP}/hugepages-2048kB/nr_overcommit_hugepages") == "4"
    code, out, err = run_cli("hugepages", "set", "1G=1", "--overcommit", "1")
    assert code == 2 and "gigantic" in err
    assert read(P1G) == "0"
    code, out, err = run_cli("hugepages", "set", "2M", "--overcommit", "0")
    assert code == 0 and read(f"{SYS_HP}/hugepages-2048kB/nr_overcommit_hugepages") == "0"


def test_dry_run_changes_nothing(machine, run_cli):
    code, out, err = run_cli("hugepages", "set", "2M=8", "1G=1", "--dry-run", "-o", "json")
    assert code == 0, err
    assert {p: read(p) for p in machine} == machine


def test_larger_than_free_memory_refused(machine, run_cli, monkeypatch):
    monkeypatch.setattr(ops_hosts, "host_factory", lambda: pytest.fail("refusal must come before any host"))
    too_many = (meminfo()["MemTotal"] // (2 << 20)) * 2
    code, out, err = run_cli("hugepages", "set", f"2M={too_many}", "-o", "json")
    assert code == 4, err
    assert json.loads(out)["kind"] == "Error" and "nothing was written" in err
    code, out, err = run_cli("hugepages", "set", f"2M={too_many}", "--node", "0")
    assert code == 4, err
    assert {p: read(p) for p in machine} == machine


class GrantsFewer(LiveHost):
    """This machine, but the "kernel" grants at most ``caps[path]`` pages (really written)."""

    def __init__(self, caps):
        super().__init__()
        self.caps = caps

    def write_text(self, path, value):
        if path in self.caps:
            value = str(min(int(value), self.caps[path]))
        super().write_text(path, value)


def test_shortfall_exits_4_with_achieved(machine, run_cli, monkeypatch):
    monkeypatch.setattr(ops_hosts, "host_factory", lambda: GrantsFewer({N0_2M: 3}))
    code, out, err = run_cli("hugepages", "set", "2M=8", "--node", "0", "-o", "json")
    assert code == 4, err
    doc = json.loads(out)
    [p] = doc["pools"]
    assert (p["requested"], p["achieved"], p["status"]) == (8, 3, "shortfall")
    assert doc["status"] == "shortfall" and doc["exit_code"] == 4
    assert "requested 8, achieved 3" in err
    assert read(N0_2M) == "3"  # without --all-or-nothing the granted pages stay


def test_shortfall_all_or_nothing_restores_every_pool(machine, run_cli, monkeypatch):
    monkeypatch.setattr(ops_hosts, "host_factory", lambda: GrantsFewer({P1G: 0}))
    code, out, err = run_cli("hugepages", "set", "2M=8", "1G=1", "--all-or-nothing", "-o", "json")
    assert code == 4, err
    doc = json.loads(out)
    assert doc["rolled_back"] is True
    by_size = {p["page_size"]: p for p in doc["pools"]}
    assert by_size[2 << 20]["status"] == "applied, rolled back" and by_size[2 << 20]["now"] == 0
    assert by_size[1 << 30]["achieved"] == 0
    assert read(P2M) == "0" and read(P1G) == "0"
    assert {p: read(p) for p in machine} == machine


def test_not_writable_exit_6_before_any_write(machine, run_cli, monkeypatch):
    class ReadOnly(LiveHost):
        def can_write(self, path):
            return False

        def write_text(self, path, value):
            raise AssertionError("written")

    monkeypatch.setattr(ops_hosts, "host_factory", ReadOnly)
    code, out, err = run_cli("hugepages", "set", "2M=4", "--node", "0")
    assert code == 6 and N0_2M in err


def test_non_root_exit_6(machine, tmp_path):
    # A real unprivileged process (nobody): refused before any write, naming the file.
    env = dict(os.environ, PYTHONPATH=REPO, RMCTL_STATE_DIR=str(tmp_path / "state"))
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-m", "rmctl", "hugepages", "set", "2M=4", "--node", "0"],
                       env=env, capture_output=True, text=True, cwd="/")
    assert r.returncode == 6, r.stderr
    assert N0_2M in r.stderr
    assert {p: read(p) for p in machine} == machine


def test_mount_with_options_idempotent_and_umount(machine, run_cli, tmp_path):
    path = str(tmp_path / "huge")
    code, out, err = run_cli("hugepages", "set", "2M=4")
    assert code == 0, err
    args = ["hugepages", "mount", path, "--page-size", "2M", "--size", "8M", "--min-size", "2M",
            "--nr-inodes", "64", "--mode", "1770", "-o", "json"]
    code, out, err = run_cli(*args)
    assert code == 0, (out, err)
    doc = json.loads(out)
    assert doc["status"] == "ok" and doc["changed"] is True
    opts = hugetlbfs_mounts()[path]
    assert opts["pagesize"] == "2M" and opts["size"] == str(8 << 20) and opts["min_size"] == str(2 << 20)
    assert opts["nr_inodes"] == "64" and opts["mode"] == "1770"
    assert read(f"{SYS_HP}/hugepages-2048kB/resv_hugepages") == "1"  # min_size reserved one page

    code, out, err = run_cli(*args)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "unchanged" and doc["changed"] is False
    assert {s["status"] for s in doc["report"]["steps"]} == {"unchanged"}

    code, out, err = run_cli("hugepages", "mount", path, "--page-size", "2M", "--size", "4M")
    assert code == 5 and "different hugetlbfs mount" in err

    code, out, err = run_cli("hugepages", "umount", path, "-o", "json")
    assert code == 0, err
    assert path not in hugetlbfs_mounts()
    assert os.path.isdir(path)  # kept without --rmdir
    code, out, err = run_cli("hugepages", "umount", path, "--rmdir", "-o", "json")
    assert code == 0, err
    # nothing mounted any more: only the directory is removed (no umount planned, issue 11 finding 12)
    steps = json.loads(out)["report"]["steps"]
    assert [(s["action"]["kind"], s["status"]) for s in steps] == [("rmdir", "applied")]
    assert not os.path.exists(path)
    code, out, err = run_cli("hugepages", "set", "2M=0")
    assert code == 0, err


def test_shrink_below_pages_in_use_is_reported_not_failed(machine, run_cli, tmp_path):
    # Two 2M pages really in use (a hugetlbfs file mapped and touched), then
    # the pool is shrunk to 1: the kernel keeps the busy pages as surplus and
    # nr_hugepages reads 2; rmctl reads back the persistent pool (1) and says so.
    import mmap

    path = str(tmp_path / "huge")
    code, out, err = run_cli("hugepages", "set", "2M=4")
    assert code == 0, err
    code, out, err = run_cli("hugepages", "mount", path, "--page-size", "2M")
    assert code == 0, err
    fd = os.open(f"{path}/busy", os.O_CREAT | os.O_RDWR)
    m = None
    try:
        os.ftruncate(fd, 4 << 20)
        m = mmap.mmap(fd, 4 << 20)
        m[0] = m[2 << 20] = 1  # fault both pages in
        code, out, err = run_cli("hugepages", "show", "-o", "json")
        doc = json.loads(out)
        [g] = [p for p in doc["pools"] if p["page_size"] == 2 << 20]
        assert (g["total"], g["free"], g["in_use"]) == (4, 2, 2)

        code, out, err = run_cli("hugepages", "set", "2M=1", "-o", "json")
        assert code == 0, (out, err)
        [p] = json.loads(out)["pools"]
        assert (p["previous"], p["requested"], p["in_use"]) == (4, 1, 2)
        assert (p["status"], p["achieved"], p["now"], p["surplus_now"]) == ("applied", 1, 2, 1)
        assert "surplus" in p["note"]
        assert read(P2M) == "2" and read(f"{SYS_HP}/hugepages-2048kB/surplus_hugepages") == "1"

        code, out, err = run_cli("hugepages", "show", "-o", "json")
        doc = json.loads(out)
        [g] = [p for p in doc["pools"] if p["page_size"] == 2 << 20]
        [n0] = [p for n in doc["nodes"] if n["id"] == 0 for p in n["pools"] if p["page_size"] == 2 << 20]
        assert (g["total"], g["surplus"], g["in_use"]) == (2, 1, 2)  # not 3: surplus counted once
        assert n0["in_use"] == 2

        code, out, err = run_cli("hugepages", "set", "2M=1", "-o", "json")  # idempotent
        assert code == 0, err
        assert json.loads(out)["pools"][0]["status"] == "unchanged"
        code, out, err = run_cli("hugepages", "set", "2M=1")
        assert code == 0 and "surplus" in out
    finally:
        if m is not None:
            m.close()
        os.close(fd)
        os.unlink(f"{path}/busy")
    assert read(P2M) == "1" and read(f"{SYS_HP}/hugepages-2048kB/surplus_hugepages") == "0"
    code, out, err = run_cli("hugepages", "umount", path, "--rmdir")
    assert code == 0, err
    code, out, err = run_cli("hugepages", "set", "2M=0")
    assert code == 0, err
