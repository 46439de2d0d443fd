"""Profiles reserve ResourceRequests (spec.requests): CPUs + devices, the `request evaluate --reserve` way.

Synthetic roots with devices and the gpu-node snapshot (plan / --dry-run
only: a snapshot is never changed), the executor on the state file for
apply / idempotence / undo, and the live CLI with a CPU-only request (only
the state file under the test's state dir changes: nothing on the machine).
"""

import json
import os

import pytest

from tests import synth

HEAD = "apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: gpu}\nspec:\n"

REQUEST = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  topologyPolicy: single-numa-node
  cpus: {count: 2}
  hugepages: {2Mi: 4Mi}
  devices:
  - {name: gpu, class: gpu, count: 1}
"""

PROFILE = HEAD + """  reservations:
  - {name: db, count: 2}
  requests:
  - {name: train, file: train.yaml}
  - name: infer
    spec:
      topologyPolicy: single-numa-node
      cpus: 1
      devices: [{name: gpu, class: gpu}]
"""


@pytest.fixture
def root(tmp_path):
    # node 0: CPUs 0,1,4,5 and GPU 01.0; node 1: CPUs 2,3,6,7 and GPU 02.0; 2M pools of 4 free pages per node
    return synth.build(tmp_path / "root", sockets=2, cores=2, threads=2,
                       hugepages={"per_node": {(0, 2048): 4, (1, 2048): 4}},
                       devices=[synth.Device("0000:00:01.0", numa_node=0), synth.Device("0000:00:02.0", numa_node=1)])


def _files(tmp_path, profile=PROFILE, request=REQUEST):
    (tmp_path / "train.yaml").write_text(request)
    p = tmp_path / "profile.yaml"
    p.write_text(profile)
    return str(p)


def _plan(root, path, state):
    from rmctl.discovery import Root, discover
    from rmctl.execute.host import Host
    from rmctl.ops.profile_plan import plan_profile
    from rmctl.profile import load_profile

    # state actions are real files under tmp_path: the host is the real file system
    r = Root.open(root)
    return plan_profile(load_profile(path), discover(r, devices=True), Host("/"), r, state_dir=state)


def test_plan_reserves_devices_after_cpu_reservations(run_cli, root, tmp_path):
    code, out, err = run_cli("--root", root, "plan", "-f", _files(tmp_path), "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [(a["field"], a["kind"]) for a in doc["actions"]] == [
        ("spec.reservations[0]", "replace-state"), ("spec.requests[0]", "replace-state"),
        ("spec.requests[1]", "replace-state")]
    train, infer = doc["actions"][1], doc["actions"][2]
    assert "devices 0000:00:02.0" in train["desired"] or "devices 0000:00:01.0" in train["desired"]
    # the two requests never share a GPU, and neither takes db's CPUs
    state = json.loads(infer["content"])["reservations"]
    assert state["train"]["kind"] == state["infer"]["kind"] == "request"
    assert set(state["train"]["devices"]).isdisjoint(state["infer"]["devices"])
    cpus = [set(state[n]["cpus"].replace("-", ",").split(",")) for n in ("db", "train", "infer")]
    assert not (cpus[0] & cpus[1]) and not (cpus[0] & cpus[2]) and not (cpus[1] & cpus[2])
    # hugepage pages are recorded per node, as `request evaluate --reserve` records them
    (node,) = state["train"]["nodes"]
    assert state["train"]["hugepages"] == {str(2 << 20): {str(node): 2}}
    assert not (tmp_path / "state").exists()
    code, out, _ = run_cli("--root", root, "plan", "-f", _files(tmp_path))
    assert code == 0 and "spec.requests[1]" in out and "devices 0000:00:0" in out


def test_apply_idempotent_and_undo_through_the_executor(root, tmp_path):
    from rmctl.execute.executor import apply
    from rmctl.execute.host import Host
    from rmctl.state import journal

    state = str(tmp_path / "state")
    path = _files(tmp_path)
    pp = _plan(root, path, state)
    rep = apply(pp.plan(only_changes=False), Host("/"), rollback=True)
    assert rep.ok and rep.counts()["applied"] == 3
    recs = json.loads(open(os.path.join(state, "state.json")).read())["reservations"]
    assert sorted(recs) == ["db", "infer", "train"]
    assert sorted(recs["train"]["devices"] + recs["infer"]["devices"]) == ["0000:00:01.0", "0000:00:02.0"]
    # second plan: nothing to change; apply of all steps reports unchanged
    again = _plan(root, path, state)
    assert again.changes() == []
    rep2 = apply(again.plan(only_changes=False), Host("/"))
    assert rep2.ok and not rep2.changed and rep2.counts()["unchanged"] == 3
    # undo from the journal restores "no state file"
    undo = apply(type(pp.plan())(actions=journal.new_entry(rep, command="apply").undo_actions()), Host("/"))
    assert undo.ok and not os.path.exists(os.path.join(state, "state.json"))


def test_same_request_shared_with_request_evaluate_reserve(root, tmp_path):
    """A reservation made by `request evaluate --reserve` of the same request counts as done."""
    from rmctl.discovery import Root, discover
    from rmctl.model.fingerprint import fingerprint
    from rmctl.resources.classes import load_classes
    from rmctl.resources.request import load_request
    from rmctl.state.ledger import Ledger, dumps
    from rmctl.state.requests import reserve_request

    path = _files(tmp_path, profile=HEAD + "  requests:\n  - {name: train, file: train.yaml}\n")
    node = discover(Root.open(root), devices=True)
    lg = Ledger(str(tmp_path / "state"))
    st = lg.load(fingerprint(node))
    ev, st, rec = reserve_request(node, st, "train", load_request(str(tmp_path / "train.yaml")), load_classes(None))
    assert rec is not None
    os.makedirs(lg.state_dir)
    with open(lg.path, "w") as f:
        f.write(dumps(st))
    assert _plan(root, path, lg.state_dir).changes() == []
    # a different request under that name is a conflict (exit 5), naming the field
    from rmctl.errors import ConflictError

    _files(tmp_path, profile=HEAD + "  requests:\n  - {name: train, file: train.yaml}\n",
           request=REQUEST.replace("count: 2}", "count: 1}"))
    with pytest.raises(ConflictError, match=r"spec.requests\[0\].name.*not for this request"):
        _plan(root, path, lg.state_dir)


def test_request_that_does_not_fit_exits_4(run_cli, root, tmp_path):
    prof = HEAD + "  requests:\n  - name: big\n    spec: {devices: [{name: gpu, class: gpu, count: 3}]}\n"
    code, out, err = run_cli("--root", root, "plan", "-f", _files(tmp_path, profile=prof))
    assert code == 4 and "spec.requests[0]" in err and "does not fit" in err


def test_inline_errors_name_the_profile_position(run_cli, root, tmp_path):
    prof = HEAD + "  requests:\n  - name: bad\n    spec:\n      cpus: {count: 1}\n      gpus: 1\n"
    p = _files(tmp_path, profile=prof)
    code, out, err = run_cli("--root", root, "plan", "-f", p)
    assert code == 2
    assert f"{p}:9:7: spec.requests[0].spec.gpus: unknown field" in err
    # an unknown class names the profile field and the request's position
    prof = HEAD + "  requests:\n  - name: bad\n    spec: {devices: [{name: x, class: fpga}]}\n"
    code, out, err = run_cli("--root", root, "plan", "-f", _files(tmp_path, profile=prof))
    assert code == 2 and "fpga" in err


@pytest.mark.parametrize("entry,words", [
    ("{name: db, file: train.yaml}", "already defined by spec.reservations[0]"),
    ("{name: x, file: a.yaml, spec: {cpus: 1}}", "exactly one of file"),
    ("{name: x, spec: [1]}", "must be a mapping"),
    ("{name: x, file: missing.yaml}", "missing.yaml: no such file"),
])
def test_entry_validation(run_cli, root, tmp_path, entry, words):
    prof = HEAD + "  reservations:\n  - {name: db, count: 1}\n  requests:\n  - " + entry + "\n"
    code, out, err = run_cli("--root", root, "plan", "-f", _files(tmp_path, profile=prof))
    assert code == 2 and words in err and "spec.requests[0]" in err


def test_verify_catches_reserved_devices_that_are_gone(run_cli, root, tmp_path):
    from rmctl.execute.executor import apply
    from rmctl.execute.host import Host

    state = str(tmp_path / "state")
    path = _files(tmp_path)
    assert apply(_plan(root, path, state).plan(), Host("/")).ok
    env = {"RMCTL_STATE_DIR": state}
    code, out, err = run_cli("--root", root, "verify", "-f", path, "-o", "json", env=env)
    assert code == 0, out + err
    # the same node shape without its GPUs (same fingerprint): the reservations are not in effect
    bare = synth.build(tmp_path / "bare", sockets=2, cores=2, threads=2,
                       hugepages={"per_node": {(0, 2048): 4, (1, 2048): 4}})
    code, out, err = run_cli("--root", bare, "verify", "-f", path, "-o", "json", env=env)
    doc = json.loads(out)
    assert code == 4 and not doc["match"]
    gone = [m for m in doc["mismatches"] if "not on this node" in m["detail"]]
    assert {m["field"] for m in gone} == {"spec.requests[0]", "spec.requests[1]"}


def test_gpu_node_dry_run_reserves_the_h200(run_cli, tmp_path):
    from tests.devices.helpers import gpu_node_snapshot

    snap = gpu_node_snapshot(tmp_path)
    prof = HEAD + ("  systemReservedCPUs: {count: 1}\n  requests:\n  - name: train\n    spec:\n"
                   "      cpus: 4\n      devices:\n      - name: gpu\n        class: gpu\n        selectors:\n"
                   "        - cel: device.capacity[\"rmctl.io\"].memory.compareTo(quantity(\"100Gi\")) >= 0\n")
    p = _files(tmp_path, profile=prof)
    code, out, err = run_cli("--root", snap, "apply", "-f", p, "--dry-run", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    (req,) = [a for a in doc["actions"] if a["field"] == "spec.requests[0]"]
    rec = json.loads(req["content"])["reservations"]["train"]
    assert rec["devices"] == ["0000:00:06.0"] and rec["kind"] == "request"
    assert "0" not in rec["cpus"].split(",")  # the system CPU is not handed out
    assert not (tmp_path / "state").exists()
    code, _, err = run_cli("--root", snap, "apply", "-f", p)
    assert code == 2 and "snapshot" in err


ONE_CPU = HEAD + "  requests:\n  - name: job\n    spec: {topologyPolicy: best-effort, cpus: 1}\n"


def test_live_apply_plan_verify_undo(run_cli, tmp_path):
    """On this machine a CPU-only request changes only the state file (in the test's state dir)."""
    p = _files(tmp_path, profile=ONE_CPU)
    state = tmp_path / "state" / "state.json"
    code, out, err = run_cli("plan", "-f", p, "--detailed-exitcode")
    assert code == 2, err
    code, out, err = run_cli("apply", "-f", p, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["counts"]["applied"] == 1
    rec = json.loads(state.read_text())["reservations"]["job"]
    assert rec["kind"] == "request" and rec["cpus"]
    code, out, err = run_cli("apply", "-f", p, "-o", "json")
    assert code == 0 and json.loads(out)["changed"] is False
    assert run_cli("verify", "-f", p)[0] == 0
    code, out, err = run_cli("cpu", "list", "-o", "json")
    assert code == 0 and "job" in out
    code, out, err = run_cli("undo", "-o", "json")
    assert code == 0, err
    assert not state.exists()
    assert run_cli("verify", "-f", p)[0] == 4
