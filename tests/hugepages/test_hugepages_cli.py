"""`rmctl hugepages` through the CLI on snapshots and synthetic roots (no machine changes)."""

import hashlib
import json
import os

import pytest

from rmctl.execute.host import RootHost
from rmctl.ops import hosts as ops_hosts
from rmctl.ops import hugepages as ops_hp
from rmctl.planning import hugepages as hp
from tests import synth
from tests.conftest import fixture_names

M2, G1 = 2 << 20, 1 << 30


def tree_digest(base):
    """Return a digest of every file's path and content under ``base`` (to prove zero writes)."""
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(base)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(p.encode())
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


@pytest.fixture
def synth_root(tmp_path):
    return synth.build(tmp_path / "root", sockets=2, cores=2, threads=1,
                       hugepages={"per_node": {(0, 2048): 10}})


@pytest.fixture
def no_host(monkeypatch):
    """Fail the test if any command asks for a Host (nothing may be applied)."""
    calls = []

    def factory():
        calls.append(1)
        raise AssertionError("a Host was requested")

    monkeypatch.setattr(ops_hosts, "host_factory", factory)
    return calls


def test_show_fixture_per_node_2m_pools(run_cli, fixture_root):
    # hwloc-32intel64-2p8co2t+8ve: 4096 x 2 MiB pages, 2048 on each of its 2 nodes, all free
    root = fixture_root("hwloc-32intel64-2p8co2t+8ve")
    code, out, err = run_cli("--root", root, "hugepages", "show", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "Hugepages" and doc["apiVersion"] == "rmctl.io/v1alpha1"
    assert doc["page_sizes"] == [M2, G1]
    per_node = {(n["id"], p["page_size"]): (p["total"], p["free"]) for n in doc["nodes"] for p in n["pools"]}
    assert per_node[(0, M2)] == (2048, 2048) and per_node[(1, M2)] == (2048, 2048)
    assert per_node[(0, G1)] == (0, 0)
    [g2] = [p for p in doc["pools"] if p["page_size"] == M2]
    assert g2["total"] == 4096
    assert g2["obtainable_basis"] == "free-memory"  # the snapshot has no proc/buddyinfo
    code, out, err = run_cli("--root", root, "hugepages", "show")
    assert code == 0 and "2048" in out and "Hugepage pools" in out


@pytest.mark.parametrize("name", fixture_names())
def test_show_every_fixture(run_cli, fixture_root, name):
    code, out, err = run_cli("--root", fixture_root(name), "hugepages", "show", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert isinstance(doc["pools"], list) and isinstance(doc["nodes"], list)
    code, out, err = run_cli("--root", fixture_root(name), "hugepages", "show")
    assert code == 0, err
    assert "Traceback" not in out + err


def test_dry_run_writes_nothing(run_cli, synth_root, no_host):
    before = tree_digest(synth_root)
    for args in (["set", "2M=64", "--node", "1", "--dry-run"],
                 ["set", "2M=4", "1G=2", "--dry-run"],
                 ["size", "4Gi", "--page-size", "1G"],
                 ["mount", "/mnt/huge", "--page-size", "2M", "--size", "8M", "--dry-run"],
                 ["mount", "/mnt/huge", "--page-size", "2M", "--fstab"],
                 ["umount", "/mnt/huge", "--rmdir", "--dry-run"],
                 ["boot-args", "1G=4", "--per-node"]):
        code, out, err = run_cli("--root", synth_root, "hugepages", *args, "-o", "json")
        assert code == 0, (args, err)
        doc = json.loads(out)
        assert doc["apiVersion"] == "rmctl.io/v1alpha1"
    assert tree_digest(synth_root) == before
    assert no_host == []


def test_set_dry_run_json_plan(run_cli, synth_root):
    code, out, err = run_cli("--root", synth_root, "hugepages", "set", "2M=64", "--node", "1", "--dry-run", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "HugepagePools" and doc["dry_run"] is True and doc["status"] == "planned"
    [a] = doc["plan"]["actions"]
    assert a["kind"] == "hugepage-pool"
    assert a["path"] == "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
    assert (a["value"], a["expect"]) == ("64", "0")
    assert doc["pools"][0]["requested"] == 64 and doc["pools"][0]["previous"] == 0


def test_snapshot_root_refuses_apply(run_cli, synth_root, no_host):
    before = tree_digest(synth_root)
    for args in (["set", "2M=64"], ["size", "4Gi", "--page-size", "1G", "--apply"],
                 ["mount", "/mnt/huge", "--page-size", "2M"], ["umount", "/mnt/huge"]):
        code, out, err = run_cli("--root", synth_root, "hugepages", *args)
        assert code == 2, (args, err)
        assert "snapshot" in err
    assert tree_digest(synth_root) == before


@pytest.mark.parametrize("args,code,text", [
    (["set", "3M=4"], 2, "not offered"),
    (["set", "2Mb=4"], 2, "bits"),
    (["set", "2M=-4"], 2, "bad page count"),
    (["set", "2M=x"], 2, "bad page count"),
    (["set", "2M=4", "--node", "9"], 2, "does not exist"),
    (["set", "2M", "--per-node", "0:4,7:1"], 2, "does not exist"),
    (["set", "2M=4", "--node", "0", "--per-node", "0:4"], 2, "exclude"),
    (["set", "1G=1", "--overcommit", "2"], 2, "gigantic"),
    (["set", "1G=64", "--node", "0"], 4, "free"),
    (["size", "64Gi", "--page-size", "1G", "--nodes", "0"], 4, "free"),
    (["size", "4Gi", "--page-size", "1G", "--spread", "wide"], 2, "spread"),
    (["mount", "relative", "--page-size", "2M"], 2, "absolute"),
    (["mount", "/mnt/h", "--page-size", "2M", "--min-size", "64M", "--dry-run"], 4, "min_size"),
    (["boot-args", "5M=4"], 2, "not offered"),
])
def test_bad_input_exit_codes(run_cli, synth_root, no_host, args, code, text):
    before = tree_digest(synth_root)
    c, out, err = run_cli("--root", synth_root, "hugepages", *args, "-o", "json")
    assert c == code, (args, out, err)
    assert text in err
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["exit_code"] == code
    assert "Traceback" not in err
    assert tree_digest(synth_root) == before


def test_mount_conflicts_on_snapshot(run_cli, tmp_path):
    root = synth.build(tmp_path / "r", sockets=1, cores=2, threads=1)
    with open(os.path.join(root, "proc/mounts"), "a") as f:
        f.write("hugetlbfs /mnt/h hugetlbfs rw,relatime,pagesize=2M,size=4194304 0 0\n")
    os.makedirs(os.path.join(root, "mnt/full"))
    open(os.path.join(root, "mnt/full/file"), "w").close()
    c, out, err = run_cli("--root", root, "hugepages", "mount", "/mnt/h", "--page-size", "2M", "--size", "4M",
                          "--dry-run", "-o", "json")
    assert c == 0 and json.loads(out)["state"] == "identical"
    c, out, err = run_cli("--root", root, "hugepages", "mount", "/mnt/h", "--page-size", "2M", "--dry-run")
    assert c == 5 and "different hugetlbfs mount" in err
    c, out, err = run_cli("--root", root, "hugepages", "mount", "/mnt/full", "--page-size", "2M", "--dry-run")
    assert c == 5 and "non-empty" in err
    c, out, err = run_cli("--root", root, "hugepages", "mount", "/mnt/h", "--page-size", "2M", "--size", "4M", "--fstab")
    assert c == 0 and out.strip() == "hugetlbfs /mnt/h hugetlbfs pagesize=2M,size=4194304 0 0"


def test_boot_args_json(run_cli, synth_root):
    c, out, err = run_cli("--root", synth_root, "hugepages", "boot-args", "1G=8", "2M=0:16,1:16",
                          "--default-size", "1G", "-o", "json")
    assert c == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "HugepageBootArgs"
    assert doc["args"] == "hugepagesz=2M hugepages=0:16,1:16 hugepagesz=1G hugepages=8 default_hugepagesz=1G"
    assert doc["unchanged"] is False
    assert doc["plan"]["actions"][0]["reboot_required"] is True


class CappedRootHost(RootHost):
    """A RootHost whose "kernel" grants at most ``caps[path]`` pages."""

    def __init__(self, base, caps):
        super().__init__(base)
        self.caps = caps

    def write_text(self, path, value):
        if path in self.caps:
            value = str(min(int(value), self.caps[path]))
        super().write_text(path, value)


def _pool_plan(tmp_path):
    root = synth.build(tmp_path / "r", sockets=2, cores=2, threads=1)
    from rmctl.discovery import discover
    from rmctl.discovery.root import Root

    node = discover(Root.open(root))
    return root, hp.plan_set(node, [(M2, {0: 8, 1: 8})])


def test_shortfall_keeps_going_without_all_or_nothing(tmp_path):
    root, pp = _pool_plan(tmp_path)
    p0, p1 = (a.path for a in pp.plan.actions)
    host = CappedRootHost(root, {p0: 3})
    report = ops_hp.run_pool_plan(pp.plan, host, all_or_nothing=False)
    assert [s.status for s in report.steps] == ["failed", "applied"]
    assert host.read_text(p0).strip() == "3" and host.read_text(p1).strip() == "8"
    from rmctl.model.hugepage_actions import shortfall_of

    assert shortfall_of(report.steps[0]) == 3


def test_shortfall_all_or_nothing_restores_every_pool(tmp_path):
    root, pp = _pool_plan(tmp_path)
    p0, p1 = (a.path for a in pp.plan.actions)
    host = CappedRootHost(root, {p1: 5})
    report = ops_hp.run_pool_plan(pp.plan, host, all_or_nothing=True)
    assert [s.status for s in report.steps] == ["applied", "failed"]
    assert report.rolled_back
    assert host.read_text(p0).strip() == "0" and host.read_text(p1).strip() == "0"


def test_snapshot_capture_keeps_buddyinfo_so_show_estimates_the_same(run_cli, tmp_path):
    # hugepages show on a capture must give the machine's "obtainable" numbers
    # (buddyinfo basis and gigantic size), not a free-memory fallback
    from rmctl.discovery import capture, manifest, paths
    from rmctl.discovery.root import Root

    assert paths.PROC_BUDDYINFO in manifest.MANIFEST
    root = synth.build(tmp_path / "r", sockets=2, cores=2, threads=1)
    dest = str(tmp_path / "cap.tar.gz")
    capture.capture(Root.open(root), dest)
    docs = []
    for r in (root, dest):
        code, out, err = run_cli("--root", r, "hugepages", "show", "-o", "json")
        assert code == 0, err
        doc = json.loads(out)
        docs.append([(p["page_size"], p["obtainable"], p["obtainable_basis"], p["gigantic"]) for p in doc["pools"]])
    assert docs[0] == docs[1]
    assert {b for _, _, b, _ in docs[1]} == {"buddyinfo", "buddyinfo-max-order"}


def test_overcommit_with_a_node_says_it_is_global(run_cli, synth_root):
    code, out, err = run_cli("--root", synth_root, "hugepages", "set", "2M", "--overcommit", "4", "--node", "0",
                             "--dry-run", "-o", "json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    [a] = plan["actions"]
    assert a["path"] == "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages"
    assert any("global" in n for n in plan["notes"])


def test_mount_percent_of_an_empty_pool_hints_why(run_cli, tmp_path, no_host):
    root = synth.build(tmp_path / "r", sockets=1, cores=2, threads=1)
    code, out, err = run_cli("--root", root, "hugepages", "mount", "/mnt/h", "--page-size", "2M", "--size", "50%",
                             "--dry-run")
    assert code == 2
    assert "less than one 2Mi page" in err and "pool's 0 pages" in err


def test_local_spread_follows_the_node_order_given(run_cli, synth_root):
    # 15 GiB free per node: 20 x 1G pages from node 1 first
    code, out, err = run_cli("--root", synth_root, "hugepages", "size", "20Gi", "--page-size", "1G",
                             "--nodes", "1,0", "--spread", "local", "-o", "json")
    assert code == 0, err
    sizing = json.loads(out)["sizing"]
    assert [(r["node"], r["pages"]) for r in sizing["per_node"]] == [(1, 15), (0, 5)]


def test_umount_dry_run_of_nothing_plans_nothing(run_cli, synth_root):
    """Issue 11 finding 12: `umount --dry-run` planned an umount when nothing was mounted."""
    code, out, err = run_cli("--root", synth_root, "hugepages", "umount", "/mnt/nothing", "--dry-run", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["state"] == "not-mounted" and doc["plan"]["actions"] == []
    code, out, err = run_cli("--root", synth_root, "hugepages", "umount", "/mnt/nothing", "--dry-run")
    assert code == 0 and "nothing to do" in out and "umount /mnt/nothing" not in out


def test_modes_print_in_octal(run_cli, synth_root):
    """Issue 11 finding 12: a mkdir's mode printed as 493; it is 0755, as chmod takes it, and reads back."""
    from rmctl.model.actions import action_from_data, plan_data_roundtrip
    from rmctl.model.plan import MakeDir, Plan

    code, out, err = run_cli("--root", synth_root, "hugepages", "mount", "/mnt/huge", "--page-size", "2M",
                             "--mode", "1770", "--dry-run", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    mkdir = next(a for a in doc["plan"]["actions"] if a["kind"] == "mkdir")
    assert mkdir["mode"] == "0755" and doc["request"]["mode"] == "1770"
    assert '"mode": 493' not in out
    # a saved plan or journal of before (the number) and of now (octal text) read back alike
    assert action_from_data({"kind": "mkdir", "path": "/x", "mode": 493}) == MakeDir(path="/x")
    assert action_from_data({"kind": "mkdir", "path": "/x", "mode": "0755"}) == MakeDir(path="/x")
    assert plan_data_roundtrip(Plan(actions=[MakeDir(path="/x", mode=0o1770)])).actions[0].mode == 0o1770
    from rmctl.errors import UsageError

    with pytest.raises(UsageError):
        action_from_data({"kind": "mkdir", "path": "/x", "mode": "rwx"})


def test_numa_is_the_one_spelling_old_ones_still_work(run_cli, synth_root):
    """Issue 11 finding 12: --node, --nodes and --numa named the same thing; --numa is it, the others hidden aliases."""
    from tests.cli.helpers import run_typer

    for cmd, new, old, value in ((["set", "2M=64", "--dry-run"], "--numa", "--node", "1"),
                                 (["size", "64Mi", "--page-size", "2M"], "--numa", "--nodes", "1,0")):
        a = run_cli("--root", synth_root, "hugepages", *cmd, new, value, "-o", "json")
        b = run_cli("--root", synth_root, "hugepages", *cmd, old, value, "-o", "json")
        assert a[0] == 0 and a[1] == b[1], (cmd, a[2], b[2])
        both = run_cli("--root", synth_root, "hugepages", *cmd, new, "0", old, value)
        assert both[0] == 2 and "disagree" in both[2]
        help_text = run_typer(["hugepages", cmd[0], "--help"])[1]
        assert new in help_text and f"{old} " not in help_text
    # every command that takes a NUMA node spells it --numa
    for argv in (["cpu", "reserve", "--help"], ["cpu", "run", "--help"], ["devices", "list", "--help"]):
        assert "--numa" in run_typer(argv)[1]
