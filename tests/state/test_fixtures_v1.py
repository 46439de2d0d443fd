"""State files and journals written by an older rmctl (tests/fixtures/state/v1) still load, list, release, undo.

The files were made by tests/fixtures/state/make-v1.sh with the rmctl of
v1/VERSION, before the state code moved into rmctl/state (issue 10).
Nothing here writes to the fixtures: each test works on a copy.  Numbers
in the assertions are the fixtures' (see tests/fixtures/state/README.md).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.conftest import NODE_FIXTURES

V1 = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "state", "v1")
SNAP_ROOT = os.path.join(V1, "snapshot", "node.tar.gz")
DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")  # the fingerprint of live/ and journal/ (f0ad11bf...)
#: where make-v1.sh ran; journals and saved plans name these absolute paths
MADE_IN = "/tmp/rmctl-state-fixture"
JOURNALS = sorted(os.listdir(os.path.join(V1, "journal", "journal")))
PENDING, UNDONE = JOURNALS  # the profile apply (in effect); the saved plan (undone)


def _text(*parts: str) -> str:
    with open(os.path.join(V1, *parts), encoding="utf-8") as f:
        return f.read()


def _copy_state(tmp_path, which: str) -> str:
    d = tmp_path / "state"
    d.mkdir()
    shutil.copy(os.path.join(V1, which, "state.json"), d / "state.json")
    if which == "journal":
        shutil.copytree(os.path.join(V1, "journal", "journal"), d / "journal")
    return str(d)


def _state(state_dir: str) -> dict:
    with open(os.path.join(state_dir, "state.json"), encoding="utf-8") as f:
        return json.load(f)


def _without_age(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    for r in doc.get("reservations", []):
        r.pop("age_seconds", None)
    return doc


# -- load -------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["snapshot", "live", "journal"])
def test_v1_state_loads_and_saves_byte_for_byte(which):
    from rmctl.state.ledger import dumps, parse

    text = _text(which, "state.json")
    state = parse(text, os.path.join(V1, which, "state.json"))
    assert dumps(state) == text  # what is read and written again is what the old rmctl wrote


def test_v1_state_records_read_back():
    from rmctl.cpuset import CpuSet
    from rmctl.state.ledger import parse
    from rmctl.state.records import CgroupRef, HugepageHolding

    snap = parse(_text("snapshot", "state.json"), "snapshot/state.json")
    assert snap.system_cpus == CpuSet.parse("0,8") and snap.fingerprint
    assert snap.names() == ["db", "train", "web"]
    train = snap.get("train")
    assert train.kind == "request" and train.devices == ("0000:3b:00.0",) and train.cpus == CpuSet.parse("3,11")
    assert list(train.hugepage_holdings()) == [HugepageHolding(2 << 20, 0, 16)] and train.memory == {0: 1 << 30}
    assert train.request["devices"][0]["class"] == "gpu"
    db = snap.get("db")
    assert db.kind == "cpu" and db.memory is None and db.request is None  # CPU reservations record neither
    assert db.constraints["near"] == "0000:5e:00.0"
    live = parse(_text("live", "state.json"), "live/state.json")
    web = live.get("web")
    assert web.owner.command == "sleep 100000" and web.owner.pid > 0 and web.owner.start_time > 0
    assert web.cgroup == CgroupRef(path="/sys/fs/cgroup/cpuset/rmctl-web", version=1, partition=None,
                                   mount="/sys/fs/cgroup/cpuset")


def test_v1_records_are_immutable_and_changes_are_new_states():
    import dataclasses

    from rmctl.state import reservations as rsv
    from rmctl.state.ledger import dumps, parse

    text = _text("live", "state.json")
    state = parse(text, "live/state.json")
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.get("web").cpus = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        state.reservations["x"] = state.get("web")  # type: ignore[index]
    with pytest.raises(TypeError):
        state.get("nicjob").hugepages[2 << 20][0] = 1  # type: ignore[index]
    after, rec = rsv.release(state, "web")
    assert rec is state.get("web") and after.names() == ["nicjob"] and state.names() == ["nicjob", "web"]
    assert dumps(state) == text  # the state released from is untouched
    again = parse(dumps(after), "x")
    assert again.get("nicjob") == state.get("nicjob")


# -- list ---------------------------------------------------------------------------------

@pytest.mark.parametrize("which,root", [("snapshot", SNAP_ROOT), ("live", DEV_VM)])
def test_v1_cpu_list_is_what_the_old_rmctl_listed(run_cli, tmp_path, which, root):
    sd = _copy_state(tmp_path, which)
    code, out, err = run_cli("--root", root, "--state-dir", sd, "cpu", "list", "-o", "json")
    assert code == 0, err
    assert _without_age(json.loads(out)) == _without_age(json.loads(_text(which, "cpu-list.json")))
    assert _text(which, "state.json") == open(os.path.join(sd, "state.json")).read()  # listing writes nothing


def test_v1_state_holds_what_it_reserved(run_cli, tmp_path):
    # the train reservation holds GPU 0000:3b:00.0 and CPUs of node 0: the same
    # request again gets the other GPU, on node 1
    sd = _copy_state(tmp_path, "snapshot")
    code, out, err = run_cli("--root", SNAP_ROOT, "--state-dir", sd, "request", "evaluate",
                             os.path.join(V1, "snapshot", "train.yaml"), "--reserve", "train2", "-o", "json")
    assert code == 0, err
    ev = json.loads(out)["evaluation"]
    assert ev["numa_nodes"] == [1] and ev["devices"] == ["0000:af:00.0"]
    state = _state(sd)
    assert state["reservations"]["train"] == json.loads(_text("snapshot", "state.json"))["reservations"]["train"]


# -- release ----------------------------------------------------------------------------

@pytest.mark.parametrize("group,name", [("cpu", "web"), ("cpu", "train"), ("request", "train"), ("request", "db")])
def test_v1_snapshot_release(run_cli, tmp_path, group, name):
    sd = _copy_state(tmp_path, "snapshot")
    before = _state(sd)
    code, out, err = run_cli("--root", SNAP_ROOT, "--state-dir", sd, group, "release", name, "-o", "json")
    assert code == 0, err
    released = json.loads(out)["released"]
    assert released["name"] == name and released["cpus"] == before["reservations"][name]["cpus"]
    after = _state(sd)
    assert name not in after["reservations"]
    for other, rec in before["reservations"].items():
        if other != name:
            assert after["reservations"][other] == rec
    assert after["system_cpus"] == "0,8"


def test_v1_live_release_without_cgroup_on_the_dev_vm_snapshot(run_cli, tmp_path):
    sd = _copy_state(tmp_path, "live")
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, "request", "release", "nicjob", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["released"]["devices"] == ["0000:00:03.0"]
    assert sorted(_state(sd)["reservations"]) == ["web"]


def test_v1_live_release_with_cgroup_dry_run_plans_the_cgroup_removal(run_cli, tmp_path):
    sd = _copy_state(tmp_path, "live")
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, "cpu", "release", "web", "--dry-run", "-o", "json")
    assert code == 0, err
    acts = json.loads(out)["plan"]["actions"]
    assert acts[0]["kind"] == "cgroup-remove" and acts[0]["path"] == "/sys/fs/cgroup/cpuset/rmctl-web"
    assert acts[-1]["kind"] == "replace-file"
    assert _text("live", "state.json") == open(os.path.join(sd, "state.json")).read()


# -- undo -------------------------------------------------------------------------------

def test_v1_journals_read_back():
    from rmctl.state import journal

    entries = [e for _, e in journal.entries(os.path.join(V1, "journal"))]
    assert [e.id + ".json" for e in entries] == JOURNALS
    assert entries[0].undone is None and entries[0].profile["metadata"]["name"] == "worker"
    assert entries[1].undone.ok is True and not entries[1].failed
    assert [s.status for s in entries[0].steps] == ["applied", "unchanged", "applied", "applied", "applied"]
    for (_, e), name in zip(journal.entries(os.path.join(V1, "journal")), JOURNALS, strict=True):
        assert journal.dumps(e) == _text("journal", "journal", name)  # byte for byte
    path, entry = journal.last_undoable(os.path.join(V1, "journal"))
    assert os.path.basename(path) == PENDING
    assert journal.last_profile(os.path.join(V1, "journal"))["metadata"]["name"] == "worker"


def _moved(sd: str) -> None:
    """Rewrite the copied journals for the state dir they now live in (``sd``): what moving a state dir with
    its journals takes, since an undo changes only the state file of the state dir it runs with (issue 15)."""
    for name in JOURNALS:
        p = os.path.join(sd, "journal", name)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        with open(p, "w", encoding="utf-8") as f:
            f.write(text.replace(f"{MADE_IN}/journal/state.json", f"{sd}/state.json"))


def test_v1_undo_dry_run_plans_the_reverse_of_the_pending_apply(run_cli, tmp_path):
    sd = _copy_state(tmp_path, "journal")
    # as made: its undo would replace the state file of another state dir (make-v1.sh's), refused (exit 5)
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, "undo", "--dry-run", "-o", "json")
    assert code == 5 and f"{MADE_IN}/journal/state.json" in err and "state dir this apply uses" in err, err
    _moved(sd)
    moved = open(os.path.join(sd, "journal", PENDING)).read()
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, "undo", "--dry-run", "-o", "json")
    assert code == 0, err
    acts = json.loads(out)["actions"]
    assert [a["kind"] for a in acts] == ["replace-state", "remove-file", "umount", "hugepage-pool"]
    assert acts[0]["path"] == f"{sd}/state.json" and acts[3]["value"] == "0"
    assert open(os.path.join(sd, "journal", PENDING)).read() == moved


def test_v1_undo_reverts_the_pending_apply(tmp_path):
    # The journal's undo plan, run by the executor on a root where the
    # apply's results are in place (RootHost: files under tmp_path, the mount
    # simulated): the pool goes back to 0, the mount away, the state file
    # back to absent (the apply created it).
    from rmctl.execute.executor import apply
    from rmctl.execute.host import RootHost
    from rmctl.model.plan import Plan
    from rmctl.state import journal

    pool = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
    os.makedirs(tmp_path / pool.lstrip("/"))
    host = RootHost(str(tmp_path))
    host.write_text(f"{pool}/nr_hugepages", "8\n")
    host.write_text(f"{pool}/surplus_hugepages", "0\n")
    host.replace_file(f"{MADE_IN}/journal/state.json", _text("journal", "state.json"))
    host.mount("hugetlbfs", f"{MADE_IN}/mnt", "hugetlbfs", "pagesize=2M")
    entry = journal.parse(_text("journal", "journal", PENDING), PENDING)
    report = apply(Plan(actions=entry.undo_actions(), command="undo"), host)
    assert report.ok and report.changed, report.to_data()
    assert host.read_text(f"{pool}/nr_hugepages") == "0"
    assert host.mount_at(f"{MADE_IN}/mnt") is None
    assert host.read_text(f"{MADE_IN}/journal/state.json") is None
    marked = entry.undone_by(report)
    assert marked.undone.ok is True and entry.undone is None
    assert json.loads(journal.dumps(marked))["undone"]["steps"][0]["status"] == "applied"


def test_v1_undo_use_case_reverts_and_marks_the_journal(tmp_path, monkeypatch):
    # `rmctl undo` (rmctl.ops.profile.undo) on a copy of the v1 journals: the
    # machine is a RootHost under tmp_path (the tests' Host seam) where the
    # apply's results are in place; the journal is rewritten with `undone`
    # and nothing else of it changes.
    from rmctl.discovery.root import Root
    from rmctl.execute.host import RootHost
    from rmctl.ops import hosts
    from rmctl.ops.profile import undo

    sd = _copy_state(tmp_path, "journal")
    _moved(sd)
    base = tmp_path / "machine"
    pool = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB"
    os.makedirs(base / pool.lstrip("/"))
    host = RootHost(str(base))
    host.write_text(f"{pool}/nr_hugepages", "8\n")
    host.write_text(f"{pool}/surplus_hugepages", "0\n")
    host.replace_file(f"{sd}/state.json", _text("journal", "state.json"))
    host.mount("hugetlbfs", f"{MADE_IN}/mnt", "hugetlbfs", "pagesize=2M")
    monkeypatch.setattr(hosts, "host_factory", lambda: host)

    planned = undo(Root("/"), sd, dry_run=True)
    assert planned.kind == "Plan" and len(planned.data["actions"]) == 4
    out = undo(Root("/"), sd)
    assert out.ok and out.data["ok"] is True and out.data["counts"]["applied"] == 4, out.data
    assert host.read_text(f"{pool}/nr_hugepages") == "0" and host.mount_at(f"{MADE_IN}/mnt") is None
    written = json.loads(open(os.path.join(sd, "journal", PENDING)).read())
    old = json.loads(_text("journal", "journal", PENDING).replace(f"{MADE_IN}/journal/state.json", f"{sd}/state.json"))
    assert written["undone"]["ok"] is True and [s["status"] for s in written["undone"]["steps"]] == ["applied"] * 4
    assert {k: v for k, v in written.items() if k != "undone"} == {k: v for k, v in old.items() if k != "undone"}
    again = undo(Root("/"), sd)
    assert again.view == ("nothing", sd) and again.data["journal"] is None
