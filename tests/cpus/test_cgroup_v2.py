"""cgroup v2 cpusets on a fake cgroup2 tree (tests/cpus/cgroupfs.py), through the executor.

Detection (pure v2, hybrid v1+v2 like this VM, v2 without cpuset), the
plans, the applied state, idempotence, removal, partitions the kernel
reports invalid (undone, with the kernel's reason), nested parents.
"""

import json
import os

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery.cgroup import cpuset_hierarchy
from rmctl.discovery.root import Root
from rmctl.errors import DiscoveryError, ExitCode, UsageError
from rmctl.execute.executor import apply
from rmctl.execute.status import raise_for_report
from rmctl.model.actions import plan_from_data
from rmctl.model.cgroup import CpusetHierarchy
from rmctl.model.cpu_actions import partition_state
from rmctl.model.plan import APPLIED, FAILED, UNCHANGED, Plan
from rmctl.planning import cgroups
from rmctl.state.ledger import Change, Ledger
from rmctl.state.records import CgroupRef, Reservation
from tests.conftest import NODE_FIXTURES
from tests.cpus.cgroupfs import MOUNT, NOT_EXCLUSIVE, CgroupV2Host, build_v2

# This VM's /proc/mounts cgroup lines (v1 cpuset beside a v2 mount offering only hugetlb).
HYBRID_MOUNTS = """tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
"""


def read(base, path):
    with open(os.path.join(base, path.lstrip("/"))) as f:
        return f.read().strip()


def bare(tmp_path, mounts):
    write(tmp_path, "proc/mounts", mounts)
    os.makedirs(tmp_path / "sys/devices/system/cpu", exist_ok=True)
    return Root.open(str(tmp_path))


def write(base, path, text):
    p = os.path.join(base, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text + "\n")


# -- detection -------------------------------------------------------------------------
def test_pure_v2_is_v2(tmp_path):
    base = build_v2(tmp_path)
    h = cpuset_hierarchy(Root.open(base))
    assert (h.version, h.mount, h.path("a")) == (2, MOUNT, f"{MOUNT}/rmctl-a")


def test_gpu_node_fixture_is_pure_v2():
    """The real pure-v2 GPU host: one cgroup2 mount offering cpuset."""
    h = cpuset_hierarchy(Root.open(os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")))
    assert (h.version, h.mount) == (2, "/sys/fs/cgroup")


def test_hybrid_picks_v1(tmp_path):
    write(tmp_path, "sys/fs/cgroup/unified/cgroup.controllers", "hugetlb")
    write(tmp_path, "sys/fs/cgroup/cpuset/cpuset.cpus", "0-1")
    h = cpuset_hierarchy(bare(tmp_path, HYBRID_MOUNTS))
    assert (h.version, h.mount) == (1, "/sys/fs/cgroup/cpuset")


def test_v2_offering_cpuset_wins_over_v1(tmp_path):
    base = build_v2(tmp_path, v1_cpuset=True)
    assert cpuset_hierarchy(Root.open(base)).version == 2


def test_v2_without_cpuset_is_a_clear_error(tmp_path):
    base = build_v2(tmp_path, controllers="cpu io memory pids")
    with pytest.raises(DiscoveryError) as e:
        cpuset_hierarchy(Root.open(base))
    assert e.value.exit_code == ExitCode.DISCOVERY
    assert "cgroup2 at /sys/fs/cgroup does not offer the cpuset controller" in str(e.value)
    assert "cpu io memory pids" in str(e.value)
    assert "cgroup_disable=cpuset" in e.value.hint


def test_no_cgroup_mount(tmp_path):
    with pytest.raises(DiscoveryError, match="no cpuset cgroup hierarchy"):
        cpuset_hierarchy(bare(tmp_path, "proc /proc proc rw 0 0\n"))


def test_parent_must_exist_and_be_below(tmp_path):
    base = build_v2(tmp_path)
    with pytest.raises(UsageError, match="no cgroup /sys/fs/cgroup/nope"):
        cpuset_hierarchy(Root.open(base), "nope")
    with pytest.raises(UsageError, match="bad parent"):
        cpuset_hierarchy(Root.open(base), "../etc")


# -- plans ----------------------------------------------------------------------------
def test_v2_plan_order(tmp_path):
    h = CpusetHierarchy(2, MOUNT)
    acts = cgroups.create_actions(h, "a", "2-3", "0", partition="isolated", move_pid=7)
    assert [a.kind for a in acts] == ["cgroup-enable", "mkdir", "write", "write", "cpuset-partition",
                                      "cgroup-attach"]
    assert acts[0].path == f"{MOUNT}/cgroup.subtree_control"
    assert [a.path for a in acts[2:5]] == [f"{MOUNT}/rmctl-a/cpuset.cpus", f"{MOUNT}/rmctl-a/cpuset.mems",
                                          f"{MOUNT}/rmctl-a/cpuset.cpus.partition"]


def test_v2_plan_enables_every_ancestor(tmp_path):
    h = CpusetHierarchy(2, MOUNT, "rmctl.slice/sub")
    acts = cgroups.create_actions(h, "a", "2", "0")
    assert [a.path for a in acts if a.kind == "cgroup-enable"] == [
        f"{MOUNT}/cgroup.subtree_control", f"{MOUNT}/rmctl.slice/cgroup.subtree_control",
        f"{MOUNT}/rmctl.slice/sub/cgroup.subtree_control"]
    assert acts[-3].path == f"{MOUNT}/rmctl.slice/sub/rmctl-a"


def test_v1_plan_has_no_controller_step_and_no_partition():
    h = CpusetHierarchy(1, "/sys/fs/cgroup/cpuset")
    assert [a.kind for a in cgroups.create_actions(h, "a", "1", "0")] == ["mkdir", "write", "write"]
    with pytest.raises(UsageError, match="need cgroup v2"):
        cgroups.create_actions(h, "a", "1", "0", partition="isolated")


def test_unknown_partition_type():
    with pytest.raises(UsageError, match="unknown partition type"):
        cgroups.create_actions(CpusetHierarchy(2, MOUNT), "a", "1", "0", partition="exclusive")


def test_plan_round_trips_through_json():
    acts = cgroups.create_actions(CpusetHierarchy(2, MOUNT), "a", "2-3", "0", partition="root", move_pid=9)
    acts += cgroups.remove_actions({"path": f"{MOUNT}/x/rmctl-a", "version": 2, "mount": MOUNT})
    plan = Plan(actions=acts, fingerprint="f" * 64, command="t")
    back = plan_from_data(json.loads(json.dumps(plan.to_data())))
    assert back.actions == plan.actions


# -- applying ---------------------------------------------------------------------------
def test_create_applies_and_is_idempotent(tmp_path):
    base = build_v2(tmp_path, procs=(1, 4242))
    host = CgroupV2Host(base)
    h = cpuset_hierarchy(Root.open(base))
    plan = Plan(actions=cgroups.create_actions(h, "a", "4-5", "0", move_pid=4242))
    report = apply(plan, host)
    assert [s.status for s in report.steps] == [APPLIED] * 5, report.to_data()
    cg = f"{MOUNT}/rmctl-a"
    assert read(base, f"{MOUNT}/cgroup.subtree_control") == "cpuset"
    assert read(base, f"{cg}/cpuset.cpus") == "4-5"
    assert read(base, f"{cg}/cpuset.cpus.effective") == "4-5"
    assert read(base, f"{cg}/cpuset.mems") == "0"
    assert read(base, f"{cg}/cgroup.procs") == "4242"
    assert read(base, f"{MOUNT}/cgroup.procs") == "1"
    again = apply(plan, host)
    assert [s.status for s in again.steps] == [UNCHANGED] * 5


def test_controller_already_enabled_is_unchanged(tmp_path):
    base = build_v2(tmp_path, subtree="cpuset cpu memory")
    host = CgroupV2Host(base)
    report = apply(Plan(actions=cgroups.create_actions(CpusetHierarchy(2, MOUNT), "a", "1", "0")), host)
    assert report.steps[0].status == UNCHANGED
    assert read(base, f"{MOUNT}/cgroup.subtree_control") == "cpuset cpu memory"


def test_isolated_partition_valid(tmp_path):
    base = build_v2(tmp_path)
    host = CgroupV2Host(base)
    acts = cgroups.create_actions(CpusetHierarchy(2, MOUNT), "a", "6-7", "0", partition="isolated")
    report = apply(Plan(actions=acts), host)
    assert all(s.status == APPLIED for s in report.steps), report.to_data()
    assert read(base, f"{MOUNT}/rmctl-a/cpuset.cpus.partition") == "isolated"
    assert read(base, f"{MOUNT}/cpuset.cpus.effective") == "0-5,8-15"
    assert read(base, f"{MOUNT}/cpuset.cpus.isolated") == "6-7"
    # removal gives the CPUs back
    report = apply(Plan(actions=cgroups.remove_actions(cgroups.record(CpusetHierarchy(2, MOUNT), "a", "isolated"))),
                   host)
    assert report.steps[0].status == APPLIED
    assert read(base, f"{MOUNT}/cpuset.cpus.effective") == "0-15"
    assert read(base, f"{MOUNT}/cpuset.cpus.isolated") == ""


def _sibling(base, host, cpus):
    """Another (non-rmctl) cgroup at the top holding ``cpus``."""
    host.write_text(f"{MOUNT}/cgroup.subtree_control", "+cpuset")
    host.mkdir(f"{MOUNT}/other")
    host.write_text(f"{MOUNT}/other/cpuset.cpus", cpus)


def test_invalid_partition_fails_with_the_kernels_reason(tmp_path):
    base = build_v2(tmp_path)
    host = CgroupV2Host(base)
    _sibling(base, host, "2-5")
    acts = cgroups.create_actions(CpusetHierarchy(2, MOUNT), "a", "4-5", "0", partition="isolated")
    report = apply(Plan(actions=acts), host)
    step = report.steps[4]
    assert step.status == FAILED
    assert step.after == f"isolated invalid ({NOT_EXCLUSIVE})"
    with pytest.raises(Exception) as e:
        raise_for_report(report)
    assert e.value.exit_code == ExitCode.FAILED
    assert "made the isolated partition invalid: Cpu list in cpuset.cpus not exclusive" in str(e.value)
    assert "sibling" in str(e.value) and e.value.hint


def test_invalid_partition_under_a_member_parent(tmp_path):
    base = build_v2(tmp_path)
    host = CgroupV2Host(base)
    host.mkdir(f"{MOUNT}/rmctl.slice")
    h = cpuset_hierarchy(Root.open(base), "rmctl.slice")
    report = apply(Plan(actions=cgroups.create_actions(h, "a", "3", "0", partition="root")), host)
    assert report.steps[-1].status == FAILED
    assert report.steps[-1].after == "root invalid (Parent is not a partition root)"


def test_cpuset_transaction_rolls_back_an_invalid_partition(tmp_path):
    """Through the ledger as `cpu cpuset` uses it: nothing left behind, state unchanged."""
    base = build_v2(tmp_path)
    host = CgroupV2Host(base)
    _sibling(base, host, "0-3")
    ledger = Ledger(str(tmp_path / "state"))
    ledger.update("fp", lambda st: Change(st.with_reservation(Reservation.new("a", cpus=CpuSet.parse("2-3"), nodes=[0]))))
    before = read(tmp_path / "state", "state.json")
    h = cpuset_hierarchy(Root.open(base))

    def with_cgroup(st):
        rec = st.get("a").with_cgroup(CgroupRef.of(h, "a", "isolated"))
        return Change(st.with_reservation(rec), before=tuple(cgroups.create_actions(h, "a", "2-3", "0",
                                                                                     partition="isolated")))

    with pytest.raises(Exception) as e:
        ledger.update("fp", with_cgroup, host=host, rollback=True)
    assert "not exclusive" in str(e.value) and "undone" in str(e.value)
    assert not os.path.exists(os.path.join(base, MOUNT.lstrip("/"), "rmctl-a"))
    assert read(tmp_path / "state", "state.json") == before


def test_remove_moves_processes_to_the_parent_then_removes(tmp_path):
    base = build_v2(tmp_path, procs=(1, 50, 51))
    host = CgroupV2Host(base)
    h = CpusetHierarchy(2, MOUNT)
    apply(Plan(actions=cgroups.create_actions(h, "a", "1", "0", move_pid=50)), host)
    host.write_text(f"{MOUNT}/rmctl-a/cgroup.procs", "51")
    # a plain rmdir is refused while processes are inside (EBUSY)
    with pytest.raises(Exception, match="Device or resource busy"):
        host.rmdir(f"{MOUNT}/rmctl-a")
    report = apply(Plan(actions=cgroups.remove_actions(cgroups.record(h, "a", None))), host)
    assert report.steps[0].status == APPLIED, report.to_data()
    assert not os.path.exists(os.path.join(base, MOUNT.lstrip("/"), "rmctl-a"))
    assert sorted(read(base, f"{MOUNT}/cgroup.procs").split()) == ["1", "50", "51"]
    # removing again changes nothing
    assert apply(Plan(actions=cgroups.remove_actions(cgroups.record(h, "a", None))), host).steps[0].status == UNCHANGED


def test_nested_parent_enables_each_ancestor_and_removal_goes_to_the_root(tmp_path):
    base = build_v2(tmp_path, procs=(1, 60))
    host = CgroupV2Host(base)
    host.write_text(f"{MOUNT}/cgroup.subtree_control", "+memory")
    host.mkdir(f"{MOUNT}/rmctl.slice")
    h = cpuset_hierarchy(Root.open(base), "rmctl.slice")
    report = apply(Plan(actions=cgroups.create_actions(h, "a", "2", "0", move_pid=60)), host)
    assert all(s.status == APPLIED for s in report.steps), report.to_data()
    assert read(base, f"{MOUNT}/cgroup.subtree_control") == "cpuset memory"
    assert read(base, f"{MOUNT}/rmctl.slice/cgroup.subtree_control") == "cpuset"
    assert read(base, f"{MOUNT}/rmctl.slice/rmctl-a/cgroup.procs") == "60"
    rec = cgroups.record(h, "a", None)
    (act,) = cgroups.remove_actions(rec)
    assert act.to == f"{MOUNT}/cgroup.procs"  # the slice may hold no process (it has cpuset enabled)
    assert apply(Plan(actions=[act]), host).steps[0].status == APPLIED
    assert "60" in read(base, f"{MOUNT}/cgroup.procs").split()


def test_enabling_cpuset_in_a_busy_parent_fails_clearly(tmp_path):
    """v2's no-internal-process rule: a non-root cgroup with processes cannot enable controllers."""
    base = build_v2(tmp_path, procs=(1, 70))
    host = CgroupV2Host(base)
    host.mkdir(f"{MOUNT}/busy")
    host.write_text(f"{MOUNT}/busy/cgroup.procs", "70")
    h = cpuset_hierarchy(Root.open(base), "busy")
    report = apply(Plan(actions=cgroups.create_actions(h, "a", "2", "0")), host)
    assert [s.status for s in report.steps][:2] == [APPLIED, FAILED]
    assert "Device or resource busy" in report.steps[1].detail
    assert report.steps[2].status == "not-run"


def test_partition_state_parse():
    assert partition_state("isolated\n") == ("isolated", None)
    assert partition_state("member") == ("member", None)
    assert partition_state("root invalid (Parent is not a partition root)") == (
        "root", "Parent is not a partition root")
    assert partition_state("isolated invalid") == ("isolated", "invalid")
    assert partition_state(None) == (None, None)
