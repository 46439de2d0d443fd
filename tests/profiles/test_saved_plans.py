"""`rmctl apply -f PLAN.json` with plans saved from any command's --dry-run -o json; locking and exit 6.

The live tests change hugepage pools for real (machine_lock, pools restored
in teardown); the cpu-reserve ones change only the state file under the
test's state dir.
"""

import json
import os

import pytest

from tests import synth
from tests.profiles.conftest import GLOBAL, POOL  # noqa: F401
from tests.profiles.conftest import read_sysfs as _read
from tests.profiles.conftest import write_sysfs as _write


def _save(tmp_path, out, name="plan.json"):
    p = tmp_path / name
    p.write_text(out)
    return str(p)


@pytest.mark.e2e
def test_hugepages_set_dry_run_plan_applies_and_undoes(run_cli, pools, tmp_path):
    want = int(pools[GLOBAL]) + 2
    code, out, err = run_cli("hugepages", "set", f"2M={want}", "--dry-run", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["plan"]["fingerprint"]  # the node it was made on
    saved = _save(tmp_path, out)
    code, out, err = run_cli("apply", "-f", saved, "--dry-run")
    assert code == 0 and "hugepage-pool" in out and _read(GLOBAL) == pools[GLOBAL]
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 0, err + out
    doc = json.loads(out)
    assert doc["kind"] == "ApplyReport" and doc["command"] == "hugepages set" and doc["counts"]["applied"] == 1
    assert _read(GLOBAL) == str(want)
    code, out, err = run_cli("undo")
    assert code == 0, err
    assert _read(GLOBAL) == pools[GLOBAL]


@pytest.mark.e2e
def test_stale_dry_run_plan_refused(run_cli, pools, tmp_path):
    code, out, _ = run_cli("hugepages", "set", f"2M={int(pools[GLOBAL]) + 2}", "--dry-run", "-o", "json")
    saved = _save(tmp_path, out)
    _write(GLOBAL, int(pools[GLOBAL]) + 1)  # the node changed after the plan was made
    code, out, err = run_cli("apply", "-f", saved)
    assert code == 5 and "stale" in err
    assert _read(GLOBAL) == str(int(pools[GLOBAL]) + 1)


def test_cpu_reserve_dry_run_plan_applies_and_undoes(run_cli, tmp_path):
    """A `cpu reserve --dry-run -o json` plan: only the state file changes, and undo restores it exactly."""
    state = tmp_path / "state" / "state.json"
    code, out, err = run_cli("cpu", "reserve-system", "--count", "1", "-o", "json")
    assert code == 0, err
    before = state.read_text()
    code, out, err = run_cli("cpu", "reserve", "db", "--count", "1", "--dry-run", "-o", "json")
    assert code == 0, err
    saved = _save(tmp_path, out)
    assert state.read_text() == before
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 0, err
    assert "db" in json.loads(state.read_text())["reservations"]
    # applied again: the state is already as the plan leaves it
    code, out, err = run_cli("apply", "-f", saved, "-o", "json")
    assert code == 0 and json.loads(out)["changed"] is False
    code, out, err = run_cli("undo", "-o", "json")
    assert code == 0, err
    assert state.read_text() == before


def test_cpu_reserve_plan_stale_after_another_reservation(run_cli, tmp_path):
    code, out, _ = run_cli("cpu", "reserve", "db", "--count", "1", "--dry-run", "-o", "json")
    saved = _save(tmp_path, out)
    assert run_cli("cpu", "reserve", "other", "--count", "1")[0] == 0
    code, out, err = run_cli("apply", "-f", saved)
    assert code == 5 and "stale" in err
    assert "db" not in json.loads((tmp_path / "state" / "state.json").read_text())["reservations"]


def test_documents_without_a_plan_are_refused(run_cli, tmp_path):
    p = _save(tmp_path, json.dumps({"apiVersion": "rmctl.io/v1alpha1", "kind": "RequestReservation", "plan": None}))
    code, out, err = run_cli("apply", "-f", p)
    assert code == 2 and "holds no plan" in err
    p = _save(tmp_path, json.dumps({"kind": "Topology"}), "t.json")
    code, out, err = run_cli("apply", "-f", p)
    assert code == 2 and "not an rmctl plan" in err


def test_saved_plan_on_a_snapshot_root_is_refused_but_dry_runs(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=1, cores=2, threads=1, hugepages={"per_node": {(0, 2048): 1}})
    code, out, err = run_cli("--root", root, "hugepages", "set", "2M=4", "--dry-run", "-o", "json")
    assert code == 0, err
    saved = _save(tmp_path, out)
    code, out, err = run_cli("--root", root, "apply", "-f", saved)
    assert code == 2 and "snapshot" in err
    code, out, err = run_cli("--root", root, "apply", "-f", saved, "--dry-run", "-o", "json")
    assert code == 0 and json.loads(out)["actions"][0]["kind"] == "hugepage-pool"
    assert not (tmp_path / "state").exists()


def _profile(tmp_path, count):
    p = tmp_path / "p.yaml"
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: w}\nspec:\n"
                 f"  hugepages:\n  - {{pageSize: 2Mi, count: {count}, node: 0}}\n")
    return str(p)


@pytest.mark.e2e
def test_state_dir_not_writable_exit_6_before_any_change(run_cli, pools, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")  # a file where the state dir should be: refused even as root
    prof = _profile(tmp_path, int(pools[POOL]) + 2)
    code, out, err = run_cli("--state-dir", str(blocker / "state"), "apply", "-f", prof)
    assert code == 6, err
    assert _read(POOL) == pools[POOL]


@pytest.mark.e2e
def test_concurrent_apply_waits_for_the_lock(run_cli, pools, tmp_path):
    from rmctl.state.ledger import Ledger

    prof = _profile(tmp_path, int(pools[POOL]) + 2)
    with Ledger(str(tmp_path / "state"), command="test holder").locked():
        code, out, err = run_cli("--lock-timeout", "0.2", "apply", "-f", prof)
        assert code == 5 and "test holder" in err
        assert _read(POOL) == pools[POOL]
        assert not os.path.exists(tmp_path / "state" / "journal")
    code, out, err = run_cli("apply", "-f", prof)
    assert code == 0, err
    assert _read(POOL) == str(int(pools[POOL]) + 2)
