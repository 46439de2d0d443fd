"""Saved plans: fresh when a profile changes the state file twice (issue 11, finding 1), and never trusted
(issue 15, item 2): `apply -f` runs only what rmctl would plan now for the plan's intent, inside the paths it
manages; anything else is refused with exit 5 before anything runs.

Most cases change only the state file under the test's state dir; the
hugepage ones change the 2M pools for real (``pools`` restores them).
"""

import glob
import hashlib
import json
import os

import pytest

from tests.conftest import NODE_FIXTURES, REPO
from tests.profiles.conftest import GLOBAL  # noqa: F401
from tests.profiles.conftest import read_sysfs as _read

GPU_NODE = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")
PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: two}
spec:
  systemReservedCPUs: {count: 1}
  reservations:
  - {name: db, count: 1}
"""


def _save(tmp_path, out, name="plan.json"):
    p = tmp_path / name
    p.write_text(out if isinstance(out, str) else json.dumps(out))
    return str(p)


def _state(tmp_path):
    p = tmp_path / "state" / "state.json"
    return json.loads(p.read_text()) if p.exists() else None


def _error(out):
    doc = json.loads(out)
    assert doc["kind"] == "Error", out
    return doc["error"]


def _profile(tmp_path, text=PROFILE):
    p = tmp_path / "two.yaml"
    p.write_text(text)
    return str(p)


# -- issue 11, finding 1: a profile that changes the state file twice -------------------------------

def test_profile_plan_changing_the_state_twice_applies(run_cli, tmp_path):
    """Failed before: 'plan saw ce25e4..., now <absent>' (exit 5) straight after planning."""
    code, out, err = run_cli("plan", "-f", _profile(tmp_path), "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [a["kind"] for a in doc["actions"]] == ["replace-state", "replace-state"]
    assert doc["intent"]["command"] == "plan" and doc["intent"]["profile"] == PROFILE
    saved = _save(tmp_path, out)
    code, out, err = run_cli("apply", "-f", saved, "--dry-run", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["changed"] is True and _state(tmp_path) is None
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["changed"] is True and rep["changes"] == 2 and rep["reboot_required"] == []
    st = _state(tmp_path)
    assert st["system_cpus"] and set(st["reservations"]) == {"db"}
    assert run_cli("verify", "-f", _profile(tmp_path))[0] == 0
    code, out, err = run_cli("undo", "-o", "json")
    assert code == 0 and _state(tmp_path) is None, err


@pytest.mark.parametrize("snapshot", [GPU_NODE, DEV_VM], ids=["gpu-node", "dev-vm"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-state", "existing-state"])
def test_profile_plan_on_a_snapshot_dry_runs(run_cli, tmp_path, snapshot, existing):
    """The issue's own words: `--root SNAP plan -f PROFILE -o json; --root SNAP apply -f plan.json --dry-run`;
    also when the snapshot's state dir holds a reservation already (the state file is read on this machine,
    not beneath the snapshot)."""
    st = ("--state-dir", str(tmp_path / "snapstate"))
    if existing:
        code, out, err = run_cli("--root", snapshot, *st, "cpu", "reserve-system", "--count", "1")
        assert code == 0, err
    before = (tmp_path / "snapstate" / "state.json").read_text() if existing else None
    code, out, err = run_cli("--root", snapshot, *st, "plan", "-f", _profile(tmp_path), "-o", "json")
    assert code == 0, err
    assert json.loads(out)["changes"] == (1 if existing else 2)
    saved = _save(tmp_path, out)
    code, out, err = run_cli("--root", snapshot, *st, "apply", "-f", saved, "--dry-run")
    assert code == 0, err
    after = (tmp_path / "snapstate" / "state.json").read_text() if existing else None
    assert after == before and (existing or not (tmp_path / "snapstate").exists())


def _example_profiles():
    out = []
    for p in sorted(glob.glob(os.path.join(REPO, "examples", "**", "*.yaml"), recursive=True)):
        with open(p) as f:
            if "kind: NodeProfile" in f.read():
                out.append(p)
    return out


@pytest.mark.parametrize("profile", _example_profiles(), ids=lambda p: os.path.relpath(p, REPO))
@pytest.mark.parametrize("snapshot", [GPU_NODE, DEV_VM], ids=["gpu-node", "dev-vm"])
def test_every_shipped_profile_plans_and_its_saved_plan_is_fresh(run_cli, tmp_path, profile, snapshot):
    st = ("--state-dir", str(tmp_path / "snapstate"))
    code, out, err = run_cli("--root", snapshot, *st, "plan", "-f", profile, "-o", "json")
    assert code == 0, err  # every shipped profile fits the 2-CPU VM and the GPU node
    code, out, err = run_cli("--root", snapshot, *st, "apply", "-f", _save(tmp_path, out), "--dry-run", "-o", "json")
    assert code == 0, err


def test_shipped_profiles_exist():
    assert os.path.join(REPO, "examples", "ansible", "profiles", "worker.yaml") in _example_profiles()


# -- issue 15, item 2: a saved plan runs only what rmctl plans now ----------------------------------

def _reserve_plan(run_cli, tmp_path, *args):
    code, out, err = run_cli("cpu", "reserve", "db", "--count", "1", *args, "--dry-run", "-o", "json")
    assert code == 0, err
    return json.loads(out)["plan"]


@pytest.mark.parametrize("action,path", [
    ({"kind": "replace-file", "path": "/etc/cron.d/rmctl-pwn", "content": "* * * * * root id > /tmp/pwned\n"},
     "/etc/cron.d/rmctl-pwn"),
    ({"kind": "write", "path": "/etc/hostname", "value": "pwned"}, "/etc/hostname"),
], ids=["replace-file-cron", "write-hostname"])
def test_the_issues_edited_plans_are_refused_and_nothing_is_written(run_cli, tmp_path, action, path):
    plan = _reserve_plan(run_cli, tmp_path)
    plan["actions"] = [action] + plan["actions"]
    before = open(path).read() if os.path.exists(path) else None
    for extra in (("--dry-run",), ()):
        code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), *extra, "-o", "json")
        assert code == 5, err
        e = _error(out)
        assert e["code"] == "invalid_plan" and path in e["message"] and "rmctl does not do" in e["message"]
    assert (open(path).read() if os.path.exists(path) else None) == before
    assert _state(tmp_path) is None and not (tmp_path / "state" / "journal").exists()


def test_state_value_differing_from_what_rmctl_plans_is_refused(run_cli, tmp_path):
    """An allowed path (the state file), but CPUs the allocator would not choose: refused, nothing written."""
    assert run_cli("cpu", "reserve-system", "--count", "1")[0] == 0
    before = (tmp_path / "state" / "state.json").read_text()
    plan = _reserve_plan(run_cli, tmp_path)
    act = plan["actions"][0]
    content = json.loads(act["content"])
    content["reservations"]["db"]["cpus"] = content["system_cpus"]  # edited: the system CPU
    body = {k: v for k, v in content.items() if k != "checksum"}
    content["checksum"] = "sha256:" + hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()  # a careful editor
    act["content"] = json.dumps(content, indent=2, sort_keys=True) + "\n"
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 5, err
    e = _error(out)
    assert e["code"] == "invalid_plan" and "not what rmctl plans" in e["message"], e
    assert (tmp_path / "state" / "state.json").read_text() == before


@pytest.mark.e2e
def test_pool_value_differing_from_what_rmctl_plans_is_refused(run_cli, pools, tmp_path):
    want = int(pools[GLOBAL]) + 2
    code, out, err = run_cli("hugepages", "set", f"2M={want}", "--dry-run", "-o", "json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert plan["intent"] == {"command": "hugepages set",
                              "args": {"assignments": [f"2M={want}"], "all_or_nothing": False, "force": False}}
    plan["actions"][0]["value"] = str(want + 50)
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 5, err
    e = _error(out)
    assert e["code"] == "invalid_plan" and "value" in e["message"] and f"'{want}'" in e["message"]
    assert _read(GLOBAL) == pools[GLOBAL]
    # the intent edited to match: rmctl plans it again from the intent, and the actions must follow
    plan["intent"]["args"]["assignments"] = [f"2M={want + 50}"]
    plan["actions"][0]["value"] = str(want)
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 5 and _error(out)["code"] == "invalid_plan"
    assert _read(GLOBAL) == pools[GLOBAL]


def test_a_consistent_forgery_outside_the_allow_list_is_refused(run_cli, tmp_path):
    """Intent and actions edited together (a mount over /etc/rmctl-pwn): the allow-list still refuses it."""
    code, out, err = run_cli("hugepages", "mount", "/mnt/rmctl-never", "--page-size", "2M", "--dry-run", "-o", "json")
    assert code == 0, err
    text = out.replace("/mnt/rmctl-never", "/etc/rmctl-pwn")
    plan = json.loads(text)["plan"]
    assert plan["intent"]["args"]["path"] == "/etc/rmctl-pwn"
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 5, err
    assert _error(out)["code"] == "invalid_plan" and "not a place rmctl mounts" in _error(out)["message"]
    assert not os.path.exists("/etc/rmctl-pwn")


def test_a_plan_without_intent_is_refused(run_cli, tmp_path):
    plan = _reserve_plan(run_cli, tmp_path)
    del plan["intent"]
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 5 and _error(out)["code"] == "invalid_plan" and "records no intent" in err
    assert _state(tmp_path) is None


@pytest.mark.parametrize("edit,why", [
    (lambda i: i.update(command="cpu run"), "which apply does not run"),
    (lambda i: i["args"].update(count=2), "not what rmctl plans"),
    (lambda i: i["args"].update(count="1; rm -rf /"), "not an integer"),
    (lambda i: i["args"].update(shell="true"), "does not take"),
    (lambda i: i.update(profile="kind: NodeProfile"), "records a profile"),
], ids=["command", "count", "count-type", "unknown-arg", "profile"])
def test_an_edited_intent_is_refused(run_cli, tmp_path, edit, why):
    plan = _reserve_plan(run_cli, tmp_path)
    edit(plan["intent"])
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 5, err
    assert _error(out)["code"] == "invalid_plan" and why in err, err
    assert _state(tmp_path) is None


def test_cpu_run_plans_are_not_applied(run_cli, tmp_path):
    code, out, err = run_cli("cpu", "run", "--count", "1", "--dry-run", "-o", "json", "--", "true")
    assert code == 0, err
    code, out, err = run_cli("apply", "-f", _save(tmp_path, json.loads(out)["plan"]), "-o", "json")
    assert code == 5 and _error(out)["code"] == "invalid_plan" and "runs a command" in err, err
    assert _state(tmp_path) is None


def test_a_plan_for_another_state_dir_is_refused(run_cli, tmp_path):
    other = str(tmp_path / "other")
    code, out, err = run_cli("--state-dir", other, "cpu", "reserve", "db", "--count", "1", "--dry-run", "-o", "json")
    assert code == 0, err
    saved = _save(tmp_path, out)
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 5 and "state dir this apply uses" in err
    assert _state(tmp_path) is None and not os.path.exists(other)
    code, out, err = run_cli("--state-dir", other, "apply", "-f", saved, "-o", "json")
    assert code == 0, err
    assert "db" in json.loads(open(os.path.join(other, "state.json")).read())["reservations"]


def test_stale_plan_refused_then_forced_applies_what_rmctl_plans_now(run_cli, tmp_path):
    saved = _save(tmp_path, _reserve_plan(run_cli, tmp_path))
    assert run_cli("cpu", "reserve", "other", "--count", "1")[0] == 0
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 5 and _error(out)["code"] == "stale_plan", err
    assert "db" not in _state(tmp_path)["reservations"]
    code, out, err = run_cli("apply", "-f", saved, "--force", "-o", "json")
    assert code == 0, err
    assert "--force: applying what rmctl plans now" in err
    st = _state(tmp_path)["reservations"]
    assert set(st) == {"db", "other"} and st["db"]["cpus"] != st["other"]["cpus"]


def test_applied_plan_applied_again_is_unchanged_and_runs_nothing(run_cli, tmp_path):
    saved = _save(tmp_path, _reserve_plan(run_cli, tmp_path))
    assert run_cli("apply", "-f", saved)[0] == 0
    text = (tmp_path / "state" / "state.json").read_text()
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 0 and json.loads(out)["changed"] is False and json.loads(out)["changes"] == 0
    assert (tmp_path / "state" / "state.json").read_text() == text
    code, out, err = run_cli("apply", "-f", saved, "--dry-run", "-o", "json")
    assert code == 0 and json.loads(out)["changed"] is False


@pytest.mark.e2e
def test_saved_cpuset_plan_applies_real_cgroup_and_an_edited_one_is_refused(run_cli, machine_lock, tmp_path):
    """A `cpu cpuset --dry-run -o json` plan creates the real cgroup; the same plan with other CPUs in
    cpuset.cpus (an allowed path, another value) is refused first."""
    from tests.conftest import require_root

    require_root()
    assert run_cli("cpu", "reserve", "saved-cg", "--count", "1")[0] == 0
    try:
        code, out, err = run_cli("cpu", "cpuset", "saved-cg", "--dry-run", "-o", "json")
        assert code == 0, err
        plan = json.loads(out)["plan"]
        assert plan["intent"] == {"command": "cpu cpuset", "args": {"name": "saved-cg"}}
        cpus = [a for a in plan["actions"] if a["path"].endswith("/cpuset.cpus")][0]
        path = os.path.dirname(cpus["path"])
        edited = json.loads(json.dumps(plan))
        [a for a in edited["actions"] if a["path"].endswith("/cpuset.cpus")][0]["value"] = "0-1"
        code, out, err = run_cli("apply", "-f", _save(tmp_path, edited, "edited.json"), "-o", "json")
        assert code == 5 and _error(out)["code"] == "invalid_plan", err
        assert not os.path.exists(path)
        code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
        assert code == 0, err
        assert os.path.isdir(path) and open(f"{path}/cpuset.cpus").read().strip() == cpus["value"]
        assert _state(tmp_path)["reservations"]["saved-cg"]["cgroup"]["path"] == path
    finally:
        code, out, err = run_cli("cpu", "release", "saved-cg")
        assert code == 0, err
    assert not os.path.exists(path)


ONE_CPU_REQUEST = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: one}
spec:
  topologyPolicy: best-effort
  cpus: {count: 1}
"""


def test_request_reserve_plan_applies_and_an_edited_device_list_is_refused(run_cli, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(ONE_CPU_REQUEST)
    code, out, err = run_cli("request", "evaluate", str(p), "--reserve", "job", "--dry-run", "-o", "json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert plan["intent"] == {"command": "request evaluate --reserve",
                              "args": {"name": "job", "file": str(p), "max_numa_nodes": 8}}
    edited = json.loads(json.dumps(plan))
    content = json.loads(edited["actions"][0]["content"])
    content["reservations"]["job"]["devices"] = ["0000:00:1f.0"]  # a device the request did not ask for
    edited["actions"][0]["content"] = json.dumps(content)
    code, out, err = run_cli("apply", "-f", _save(tmp_path, edited, "edited.json"), "-o", "json")
    assert code == 5 and _error(out)["code"] == "invalid_plan", err
    assert _state(tmp_path) is None
    code, out, err = run_cli("apply", "-f", _save(tmp_path, plan), "-o", "json")
    assert code == 0, err
    assert _state(tmp_path)["reservations"]["job"]["kind"] == "request"


def test_request_read_from_stdin_cannot_be_planned_again(run_cli, tmp_path):
    code, out, err = run_cli("request", "evaluate", "-", "--reserve", "job", "--dry-run", "-o", "json",
                             input=ONE_CPU_REQUEST)
    assert code == 0, err
    code, out, err = run_cli("apply", "-f", _save(tmp_path, json.loads(out)["plan"]), "-o", "json")
    assert code == 5 and _error(out)["code"] == "invalid_plan" and "standard input" in err, err
    assert _state(tmp_path) is None


# -- issue 15: an undo journal is a saved input too ---------------------------------------------------

def _edited_journal(run_cli, tmp_path, action, before):
    """Apply PROFILE (state changes only), then add to its journal an applied step whose undo is ``action``
    with ``before`` written back; return the journal's path and text."""
    code, _, err = run_cli("apply", "-f", _profile(tmp_path), "-o", "json")
    assert code == 0, err
    [path] = glob.glob(str(tmp_path / "state" / "journal" / "*.json"))
    doc = json.loads(open(path).read())
    doc["steps"].append({"action": action, "status": "applied", "before": before, "after": action.get("value"),
                         "detail": ""})
    text = json.dumps(doc)
    with open(path, "w") as f:
        f.write(text)
    return path, text


@pytest.mark.parametrize("kind", ["write", "replace-state"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
def test_an_undo_journal_edited_to_write_elsewhere_is_refused_before_anything_runs(run_cli, tmp_path, dry_run,
                                                                                   kind):
    """A journal step `write X` undoes as `write X <before>`, a `replace-state X` that created X as `remove X`:
    X outside what rmctl manages is refused (exit 5), and nothing else of the undo runs (the state the apply
    wrote stays, the journal stays pending)."""
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    action = ({"kind": "write", "path": str(victim), "value": "x"} if kind == "write" else
              {"kind": "replace-state", "path": str(victim), "content": "untouched\n", "previous": None})
    path, text = _edited_journal(run_cli, tmp_path, action, "pwned\n" if kind == "write" else None)
    state = (tmp_path / "state" / "state.json").read_text()
    code, out, err = run_cli("undo", *(("--dry-run",) if dry_run else ()), "-o", "json")
    assert code == 5, err
    e = _error(out)
    assert e["code"] == "invalid_plan" and str(victim) in e["message"] and "journal" in e["message"], e
    assert victim.read_text() == "untouched\n"
    assert (tmp_path / "state" / "state.json").read_text() == state and open(path).read() == text


def test_an_undo_journal_edited_to_write_etc_is_refused(run_cli, tmp_path):
    """The brief's case: /etc/x (its dry run and its run refused alike; nothing is created)."""
    target = "/etc/rmctl-undo-journal-test"
    assert not os.path.exists(target)
    _edited_journal(run_cli, tmp_path, {"kind": "write", "path": target, "value": "x"}, "pwned\n")
    try:
        for extra in (("--dry-run",), ()):
            code, out, err = run_cli("undo", *extra, "-o", "json")
            assert code == 5 and _error(out)["code"] == "invalid_plan", err
        assert not os.path.exists(target)
    finally:
        if os.path.exists(target):
            os.unlink(target)


def test_an_unedited_undo_journal_still_undoes(run_cli, tmp_path):
    """The allow-list accepts every undo rmctl's own applies make (here: the state restored, then removed)."""
    code, _, err = run_cli("apply", "-f", _profile(tmp_path), "-o", "json")
    assert code == 0, err
    code, _, err = run_cli("undo", "--dry-run", "-o", "json")
    assert code == 0, err
    code, _, err = run_cli("undo", "-o", "json")
    assert code == 0 and _state(tmp_path) is None, err
