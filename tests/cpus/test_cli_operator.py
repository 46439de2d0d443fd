"""`rmctl cpu` for operators and reviewers: plans carry the node fingerprint, cpuset plans on
cgroup v2 roots, the list table on a 256-CPU fixture, reserve/reconcile wording, completion."""

import json
import os
import subprocess
import sys

import pytest

from tests import synth
from tests.conftest import NODE_FIXTURES, SYSFS_FIXTURES
from tests.cpus.cgroupfs import build_v2

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def v2root(tmp_path):
    root = synth.build(tmp_path / "root", sockets=2, cores=4, threads=2)
    build_v2(root)
    return root


@pytest.fixture
def cli(run_cli, v2root, tmp_path):
    state = str(tmp_path / "state")

    def run(*args):
        return run_cli("--root", v2root, "--state-dir", state, *args)

    return run


def test_every_cpu_dry_run_plan_has_the_node_fingerprint(cli, v2root):
    from rmctl.discovery import discover
    from rmctl.discovery.root import Root
    from rmctl.model.fingerprint import fingerprint

    fp = fingerprint(discover(Root.open(v2root)))
    assert cli("cpu", "reserve", "a", "--count", "2")[0] == 0
    for args in (("reserve", "b", "--count", "2"), ("release", "a"), ("reconcile",),
                 ("reserve-system", "--cpus", "7"), ("cpuset", "a", "--partition", "isolated")):
        code, out, err = cli("cpu", *args, "--dry-run", "-o", "json")
        assert code == 0, (args, err)
        plan = json.loads(out)["plan"]
        assert plan["fingerprint"] == fp, args
    # pin and run act on this machine: their plans carry this machine's fingerprint
    for args in (("pin", str(os.getpid()), "--cpus", "0"), ("run", "--count", "1")):
        extra = ("--", "true") if args[0] == "run" else ()
        env = dict(os.environ, NO_COLOR="1", PYTHONPATH=REPO, RMCTL_STATE_DIR=os.path.dirname(v2root) + "/live")
        p = subprocess.run([sys.executable, "-m", "rmctl", "cpu", *args, "--dry-run", "-o", "json", *extra],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
        assert p.returncode == 0, p.stderr
        fp_live = json.loads(p.stdout)["plan"]["fingerprint"]
        assert isinstance(fp_live, str) and len(fp_live) == 64


def test_cpuset_dry_run_on_a_v2_root_plans_the_v2_files(cli, v2root):
    assert cli("cpu", "reserve", "a", "--count", "2")[0] == 0
    code, out, err = cli("cpu", "cpuset", "a", "--partition", "isolated", "--dry-run", "-o", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["cgroup"] == {"path": "/sys/fs/cgroup/rmctl-a", "version": 2, "partition": "isolated",
                           "mount": "/sys/fs/cgroup"}
    acts = [(a["kind"], a.get("path")) for a in d["plan"]["actions"]]
    assert acts[:5] == [("cgroup-enable", "/sys/fs/cgroup/cgroup.subtree_control"),
                        ("mkdir", "/sys/fs/cgroup/rmctl-a"),
                        ("write", "/sys/fs/cgroup/rmctl-a/cpuset.cpus"),
                        ("write", "/sys/fs/cgroup/rmctl-a/cpuset.mems"),
                        ("cpuset-partition", "/sys/fs/cgroup/rmctl-a/cpuset.cpus.partition")]
    assert acts[5][0] == "replace-file"
    # nothing written under the root, the state unchanged
    assert not os.path.exists(os.path.join(v2root, "sys/fs/cgroup/rmctl-a"))
    code, out, _ = cli("cpu", "list", "-o", "json")
    assert json.loads(out)["reservations"][0]["cgroup"] is None
    # the human plan
    code, out, _ = cli("cpu", "cpuset", "a", "--parent", "", "--dry-run")
    assert "would create /sys/fs/cgroup/rmctl-a (cgroup v2)" in out
    assert "enable the cpuset controller in /sys/fs/cgroup/cgroup.subtree_control" in out


def test_cpuset_without_dry_run_on_a_snapshot_is_refused(cli):
    assert cli("cpu", "reserve", "a", "--count", "1")[0] == 0
    code, _, err = cli("cpu", "cpuset", "a")
    assert code != 0 and "snapshot" in err


def test_cpuset_v2_without_cpuset_controller_exits_3(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=1, cores=2, threads=1)
    build_v2(root, controllers="cpu io memory pids")
    st = str(tmp_path / "st")
    assert run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "a", "--count", "1")[0] == 0
    code, out, err = run_cli("--root", root, "--state-dir", st, "cpu", "cpuset", "a", "--dry-run")
    assert code == 3
    assert "does not offer the cpuset controller" in err and "cpu io memory pids" in err
    code, out, _ = run_cli("--root", root, "--state-dir", st, "cpu", "cpuset", "a", "--dry-run", "-o", "json")
    assert code == 3 and json.loads(out)["exit_code"] == 3


def test_cpuset_plan_on_the_gpu_node_snapshot_is_v2(run_cli, tmp_path):
    snap = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
    st = str(tmp_path / "st")
    assert run_cli("--root", snap, "--state-dir", st, "cpu", "reserve", "g", "--count", "4")[0] == 0
    code, out, err = run_cli("--root", snap, "--state-dir", st, "cpu", "cpuset", "g", "--partition", "root",
                             "--dry-run", "-o", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["cgroup"]["version"] == 2 and d["plan"]["fingerprint"]
    # the GPU node already enables cpuset for its children: the step is planned, apply finds it done
    assert d["plan"]["actions"][0]["kind"] == "cgroup-enable"


def test_list_table_groups_a_256_cpu_node(run_cli, tmp_path):
    fx = os.path.join(SYSFS_FIXTURES, "hwloc-256ia64-64n2s2c.tar.bz2")
    st = str(tmp_path / "st")

    def run(*a):
        return run_cli("--root", fx, "--state-dir", st, *a)

    assert run("cpu", "reserve-system", "--count", "4")[0] == 0
    code, out, _ = run("cpu", "reserve", "web", "--count", "8")
    assert code == 0 and out.startswith("reserved web: 8 CPUs 4-11 on NUMA nodes 1,2")
    assert run("cpu", "reserve", "db", "--count", "3", "--numa", "5")[0] == 0
    code, out, err = run("--no-color", "cpu", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) < 30  # ranges per state, not 256 rows
    assert "CPUs (256): 4 system, 11 reserved, 241 free" in out
    rows = [ln for ln in lines if "│" in ln]
    states = [r.split("│")[1].strip() for r in rows if r.split("│")[1].strip().startswith(
        ("system", "reserved", "free"))]
    assert states == ["system", "reserved by db", "reserved by web", "free"]
    web = next(r for r in rows if "reserved by web" in r)
    assert [c.strip() for c in web.split("│")[2:5]] == ["8", "4-11", "1-2"]


def test_reserve_and_reconcile_wording(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=2, cores=4, threads=2, offline=(3,))
    st = str(tmp_path / "st")
    code, out, _ = run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "a", "--count", "2", "--socket", "1")
    assert code == 0 and out.strip() == "reserved a: 2 CPUs 4,12 on NUMA node 1, socket 1, 1 core"
    code, out, _ = run_cli("--root", root, "--state-dir", st, "cpu", "reconcile")
    assert code == 0
    assert out.splitlines() == ["reconcile: 1 reservation checked, 0 dropped, 0 problems",
                                "  nothing to do: every owner is alive and every reserved CPU is online"]


def test_reconcile_names_offline_cpus(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=1, cores=4, threads=1)
    st = str(tmp_path / "st")
    assert run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "a", "--cpus", "2-3")[0] == 0
    with open(os.path.join(root, "sys/devices/system/cpu/cpu3/online"), "w") as f:
        f.write("0\n")
    with open(os.path.join(root, "sys/devices/system/cpu/online"), "w") as f:
        f.write("0-2\n")
    with open(os.path.join(root, "sys/devices/system/cpu/offline"), "w") as f:
        f.write("3\n")
    code, out, err = run_cli("--root", root, "--state-dir", st, "cpu", "reconcile")
    assert code == 0, err
    assert "  problem: reservation a holds offline CPUs 3: release it and reserve again (rmctl cpu release a)" in out


def test_completion_of_reservation_names_and_values(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"reservations": {"db": {}, "web": {}}}))

    def complete(words):
        env = dict(os.environ, _RMCTL_COMPLETE="complete_bash", COMP_WORDS=words,
                   COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)))
        p = subprocess.run([sys.executable, "-m", "rmctl"], env=env, capture_output=True, text=True, cwd=REPO,
                           timeout=60)
        return p.stdout.split()

    st = f"--state-dir {tmp_path}"
    assert complete(f"rmctl {st} cpu release ") == ["db", "web"]
    assert complete(f"rmctl {st} cpu cpuset w") == ["web"]
    assert complete(f"rmctl {st} cpu pin 1 --reservation d") == ["db"]
    assert complete(f"rmctl {st} cpu run --reservation ") == ["db", "web"]
    assert complete("rmctl cpu reserve a --option align") == ["align-by-socket"]
    assert complete("rmctl cpu cpuset a --partition i") == ["isolated"]


def test_cpus_outside_the_allowed_set_are_never_handed_out(run_cli, tmp_path):
    """Issue 3: CPUs outside this process's allowed set (proc/self/status Cpus_allowed_list) stay out."""
    root = synth.build(tmp_path / "root", sockets=2, cores=4, threads=1)
    os.makedirs(os.path.join(root, "proc/self"), exist_ok=True)
    with open(os.path.join(root, "proc/self/status"), "w") as f:
        f.write("Name:\trmctl\nCpus_allowed_list:\t4-7\n")
    st = str(tmp_path / "st")

    def run(*a):
        return run_cli("--root", root, "--state-dir", st, *a)

    code, out, err = run("cpu", "reserve", "a", "--count", "2", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["reservation"]["cpus"] == "4-5"
    assert run("cpu", "reserve", "b", "--count", "3")[0] == 4
    assert run("cpu", "reserve", "c", "--cpus", "1")[0] == 2
    code, out, _ = run("cpu", "list", "-o", "json")
    states = {c["id"]: c["state"] for c in json.loads(out)["cpus"]}
    assert [states[c] for c in range(8)] == ["not-allowed"] * 4 + ["reserved"] * 2 + ["free"] * 2
