"""The walk of a saved plan on an overlay (issue 11, finding 1) and the allow-list of what a saved plan may touch
(issue 15, item 2): pure, on a RootHost under a temporary directory."""

import os

import pytest

from rmctl.execute.confine import MOUNT_TREES, mount_point_allowed, refusals
from rmctl.execute.host import RootHost
from rmctl.execute.simulate import OverlayHost, walk
from rmctl.model.cpu_actions import AttachProcess, EnableController, MemBind, RemoveCgroup, SetPartition
from rmctl.model.hugepage_actions import SetPoolPages
from rmctl.model.plan import BootArgs, MakeDir, Mount, Plan, RemoveDir, ReplaceFile, SetAffinity, Unmount, WriteValue
from rmctl.model.profile_actions import StateReplace, sha256

STATE = "/var/lib/rmctl/state.json"
POOL = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
NODE_POOL = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
CG = "/sys/fs/cgroup/cpuset"


def _host(tmp_path, files=None):
    for p, text in (files or {}).items():
        real = tmp_path / p.lstrip("/")
        real.parent.mkdir(parents=True, exist_ok=True)
        real.write_text(text)
    return RootHost(str(tmp_path))


# -- the walk: each expectation against what the actions before it leave -----------------------

def test_chained_state_replacements_are_fresh(tmp_path):
    """The profile case of finding 1: the second replacement expects the first one's text, not the file."""
    a = StateReplace.of(STATE, "one\n", None, "system CPUs 0")
    b = StateReplace.of(STATE, "two\n", "one\n", "reservation db")
    w = walk(Plan(actions=[a, b]), _host(tmp_path))
    assert w.stale == [] and w.acting == [a, b]
    assert not (tmp_path / STATE.lstrip("/")).exists()  # nothing written


def test_chain_is_stale_when_the_file_changed(tmp_path):
    a = StateReplace.of(STATE, "one\n", None, "system CPUs 0")
    b = StateReplace.of(STATE, "two\n", "one\n", "reservation db")
    w = walk(Plan(actions=[a, b]), _host(tmp_path, {STATE: "someone else's\n"}))
    assert len(w.stale) == 1 and "plan saw '<absent>'" in w.stale[0]


def test_every_action_in_effect(tmp_path):
    host = _host(tmp_path, {STATE: "two\n", POOL: "4\n"})
    plan = Plan(actions=[SetPoolPages(path=POOL, value="4", expect="0", page_size=2 << 20),
                         ReplaceFile(path=STATE, content="two\n", expect_sha256=sha256("one\n"))])
    assert walk(plan, host).nothing_to_do


def test_overlay_models_cgroup_files_mounts_and_removed_dirs(tmp_path):
    host = _host(tmp_path, {f"{CG}/cgroup.procs": "1\n", f"{CG}/cgroup.subtree_control": "cpu\n"})
    ov = OverlayHost(host)
    ov.write_text(f"{CG}/cgroup.subtree_control", "+cpuset")
    assert ov.read_text(f"{CG}/cgroup.subtree_control").split() == ["cpu", "cpuset"]
    ov.mkdir(f"{CG}/rmctl-db")
    ov.write_text(f"{CG}/rmctl-db/cgroup.procs", "42")
    assert AttachProcess(path=f"{CG}/rmctl-db/cgroup.procs", pid=42).current(ov) is True
    ov.rmdir(f"{CG}/rmctl-db")
    assert not ov.isdir(f"{CG}/rmctl-db") and ov.read_text(f"{CG}/rmctl-db/cgroup.procs") is None
    ov.mount("none", "/mnt/huge", "hugetlbfs", "pagesize=2M")
    assert ov.mount_at("/mnt/huge")[1] == "hugetlbfs"
    ov.umount("/mnt/huge")
    assert ov.mount_at("/mnt/huge") is None
    assert host.calls == [] and not (tmp_path / CG.lstrip("/") / "rmctl-db").exists()  # the host saw nothing


def test_mount_plan_walks_clean(tmp_path):
    plan = Plan(actions=[MakeDir(path="/mnt/huge"), Mount(path="/mnt/huge", source="hugetlbfs",
                                                           options="pagesize=2M")])
    assert walk(plan, _host(tmp_path)).stale == []


# -- the allow-list ------------------------------------------------------------------------------

def _refused(*actions, state=STATE, host=None):
    return refusals(Plan(actions=list(actions)), state_file=state, cgroup_mounts=[CG, "/sys/fs/cgroup/unified"],
                    host=host)


def test_the_issues_edited_plans_are_refused():
    """issue 15: 'replace-file /etc/cron.d/rmctl-pwn' and 'write /etc/hostname'."""
    bad = _refused(ReplaceFile(path="/etc/cron.d/rmctl-pwn", content="* * * * * root sh\n"),
                   WriteValue(path="/etc/hostname", value="pwned"))
    assert len(bad) == 2
    assert "action 1 (replace-file '/etc/cron.d/rmctl-pwn')" in bad[0] and "not a file rmctl manages" in bad[0]
    assert "action 2 (write '/etc/hostname')" in bad[1]


@pytest.mark.parametrize("action", [
    SetPoolPages(path=POOL, value="8", page_size=2 << 20),
    SetPoolPages(path=NODE_POOL, value="0", page_size=2 << 20, node=0),
    WriteValue(path="/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_overcommit_hugepages", value="2"),
    StateReplace.of(STATE, "{}\n", None),
    EnableController(path="/sys/fs/cgroup/unified/cgroup.subtree_control"),
    MakeDir(path=f"{CG}/rmctl-db"),
    WriteValue(path=f"{CG}/rmctl-db/cpuset.cpus", value="1", compare="cpulist"),
    WriteValue(path=f"{CG}/kube/rmctl-db/cpuset.mems", value="0", compare="cpulist"),
    SetPartition(path="/sys/fs/cgroup/unified/rmctl-db/cpuset.cpus.partition", value="isolated"),
    AttachProcess(path=f"{CG}/rmctl-db/cgroup.procs", pid=42),
    RemoveCgroup(path=f"{CG}/rmctl-db", to=f"{CG}/cgroup.procs"),
    SetAffinity(pid=42, cpus="1"),
    BootArgs(add=("isolcpus=1",)),
], ids=lambda a: a.kind)
def test_what_rmctl_plans_is_allowed(action):
    assert _refused(action) == []


def test_mount_points():
    for p in ("/dev/hugepages", "/dev/hugepages1G", "/dev/hugepages/libvirt", "/mnt/huge-2m", "/tmp/x/huge",
              "/run/hugepages/kvm", "/var/lib/hugetlbfs/global/pagesize-2MB"):
        assert mount_point_allowed(p), p
    for p in ("/", "/etc", "/etc/cron.d", "/mnt", "/tmp", "/usr/lib/x", "/root/huge", "/mnt/../etc", "mnt/x",
              "/mnt/x\n", "/dev/shm", "/proc/x", "/home/u/huge", "/var/lib/rmctl"):
        assert not mount_point_allowed(p), p
    assert "/mnt" in MOUNT_TREES
    assert _refused(MakeDir(path="/mnt/huge"), Mount(path="/mnt/huge", source="hugetlbfs", options="pagesize=2M")) == []
    assert _refused(Unmount(path="/mnt/huge"), RemoveDir(path="/mnt/huge")) == []


@pytest.mark.parametrize("action,why", [
    (WriteValue(path="/proc/sys/kernel/core_pattern", value="|/tmp/x"), "not a kernel interface"),
    (WriteValue(path=POOL, value="8; rm -rf /"), "not a page count"),
    (SetPoolPages(path="/sys/kernel/mm/hugepages/hugepages-2048kB/../../../../etc/passwd", value="1"),
     "not a hugepage pool file"),
    (SetPoolPages(path="/etc/passwd", value="1"), "not a hugepage pool file"),
    (WriteValue(path=f"{CG}/kubepods/cpuset.cpus", value="0-1"), "not a kernel interface"),
    (WriteValue(path="/etc/rmctl-x/cpuset.cpus", value="0"), "not a kernel interface"),
    (SetPartition(path=f"{CG}/rmctl-db/cpuset.cpus.partition", value="isolated invalid"), "not a partition type"),
    (EnableController(path=f"{CG}/cgroup.subtree_control", controller="pids"), "cpuset controller only"),
    (EnableController(path="/etc/cgroup.subtree_control"), "not the cgroup.subtree_control"),
    (AttachProcess(path=f"{CG}/kubepods/cgroup.procs", pid=1), "not the cgroup.procs of an rmctl-NAME"),
    (RemoveCgroup(path=f"{CG}/system.slice"), "not an rmctl-NAME cgroup"),
    (MakeDir(path="/etc/cron.d/x"), "not a directory rmctl manages"),
    (MakeDir(path="/mnt/huge"), "not a directory rmctl manages"),  # no mount there in the plan
    (Mount(path="/etc/sudoers.d", source="hugetlbfs"), "not a place rmctl mounts"),
    (Mount(path="/mnt/x", fstype="ext4", source="/dev/sda1"), "hugetlbfs only"),
    (Mount(path="/mnt/x", source="hugetlbfs", options="pagesize=2M,exec"), "not a hugetlbfs option"),
    (Unmount(path="/home"), "not a place rmctl mounts"),
    (Mount(path="/var/lib/rmctl", source="hugetlbfs"), "not a place"),
    (ReplaceFile(path="/tmp/other-state/state.json", content="{}"), "state dir this apply uses"),
    (StateReplace(path="/etc/shadow", content=""), "not a file rmctl manages"),
    (SetAffinity(pid=0, cpus="0"), "not a process ID"),
    (MemBind(nodes="0"), "cpu run"),
    (BootArgs.__new__(BootArgs), None),  # reported only: never performed
], ids=lambda v: v.kind if hasattr(v, "kind") else str(v)[:20])
def test_what_rmctl_never_plans_is_refused(action, why):
    bad = _refused(action)
    if why is None:
        assert bad == []
    else:
        assert len(bad) == 1 and why in bad[0], bad


def test_mount_point_reached_through_a_link_is_refused(tmp_path):
    host = _host(tmp_path)
    (tmp_path / "mnt").mkdir()
    (tmp_path / "etc").mkdir()
    os.symlink(str(tmp_path / "etc"), tmp_path / "mnt" / "link")
    bad = _refused(MakeDir(path="/mnt/link/huge"), Mount(path="/mnt/link/huge", source="hugetlbfs"), host=host)
    assert len(bad) == 2 and "/mnt/link is a symbolic link" in bad[0]


def test_state_dir_mount_refused_even_below_an_allowed_tree():
    bad = _refused(Mount(path="/tmp/st", source="hugetlbfs"), state="/tmp/st/state.json")
    assert bad and "state dir" in bad[0]
