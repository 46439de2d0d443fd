"""End to end on this machine (root, CI): apply/undo a profile for real, restore everything.

The machine starts with 0 pages in every 2M pool and no hugetlbfs mount at
our temp path; the ``live_node`` fixture records the 2M pools and restores
them, and unmounts, whatever happens.
"""

import json
import os

import pytest

from tests.profiles.conftest import GLOBAL, POOL  # noqa: F401
from tests.profiles.conftest import read_sysfs as _read
from tests.profiles.conftest import write_sysfs as _write

pytestmark = pytest.mark.e2e


def _mounted(path):
    with open("/proc/mounts") as f:
        return [ln.split() for ln in f if ln.split()[1] == path]


@pytest.fixture
def live_node(pools, tmp_path):
    """A temp mount point; unmounted after (the pools fixture restores the 2M pools)."""
    mnt = tmp_path / "huge-2m"
    mnt.mkdir()
    try:
        yield str(mnt)
    finally:
        while _mounted(str(mnt)):
            os.system(f"umount {mnt}")


def _profile(tmp_path, mnt, *, extra=""):
    f = tmp_path / "worker.yaml"
    f.write_text(f"""\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {{name: worker}}
spec:
  hugepages:
  - {{pageSize: 2Mi, count: 8, node: 0}}
  mounts:
  - {{path: {mnt}, pageSize: 2Mi}}
{extra}""")
    return str(f)


def _state(tmp_path):
    import json

    p = tmp_path / "state" / "state.json"
    return json.loads(p.read_text()) if p.exists() else None  # the file as scripts read it


def test_plan_apply_plan_undo(run_cli, live_node, tmp_path):
    prof = _profile(tmp_path, live_node, extra="  reservations:\n  - {name: db, count: 1}\n")
    assert _read(POOL) == "0" and not _mounted(live_node) and _state(tmp_path) is None
    code, out, err = run_cli("plan", "-f", prof, "-o", "json", "--detailed-exitcode")
    assert code == 2, err
    plan = json.loads(out)
    assert [a["kind"] for a in plan["actions"]] == ["hugepage-pool", "mount", "replace-state"]
    assert plan["actions"][0]["current"] == "0" and plan["actions"][0]["desired"] == "8"
    assert plan["fingerprint"]
    assert not any(a["reboot"] for a in plan["actions"])

    code, out, err = run_cli("apply", "-f", prof, "-o", "json")
    assert code == 0, err + out
    rep = json.loads(out)
    assert rep["counts"]["applied"] == 3 and rep["counts"]["failed"] == 0
    assert _read(POOL) == "8"
    m = _mounted(live_node)
    assert m and m[-1][2] == "hugetlbfs" and "pagesize=2M" in m[-1][3]
    st = _state(tmp_path)
    assert list(st["reservations"]) == ["db"] and len(st["reservations"]["db"]["cpus"]) >= 1
    code, out, err = run_cli("cpu", "list", "-o", "json")
    assert code == 0, err
    assert [(r["name"], r["cpus"]) for r in json.loads(out)["reservations"]] == [("db", st["reservations"]["db"]["cpus"])]
    assert os.path.exists(rep["journal"])

    code, out, err = run_cli("plan", "-f", prof, "--detailed-exitcode")
    assert code == 0, out + err
    assert "no changes" in out
    code, out, err = run_cli("verify", "-f", prof)
    assert code == 0 and "matches" in out

    code, out, err = run_cli("apply", "-f", prof, "-o", "json")  # idempotent: all unchanged
    assert code == 0, err
    rep = json.loads(out)
    assert rep["changed"] is False and rep["counts"]["applied"] == 0 and rep["counts"]["unchanged"] >= 3

    code, out, err = run_cli("undo", "-o", "json")
    assert code == 0, err + out
    assert json.loads(out)["counts"]["applied"] == 3
    assert _read(POOL) == "0" and not _mounted(live_node) and _state(tmp_path) is None
    code, out, err = run_cli("cpu", "list", "-o", "json")
    assert code == 0 and json.loads(out)["reservations"] == []
    code, out, err = run_cli("verify", "-f", prof)
    assert code == 4 and "mismatch" in out
    code, out, err = run_cli("undo")
    assert code == 0 and "nothing to undo" in out


def test_second_action_fails_rolls_back_first(run_cli, live_node, tmp_path):
    # mkdir under /proc cannot succeed: action 2 fails after action 1 grew the pool.
    prof = _profile(tmp_path, "/proc/rmctl-cannot-exist/huge")
    code, out, err = run_cli("apply", "-f", prof, "-o", "json")
    assert code == 1, out + err
    rep = json.loads(out)
    statuses = [s["status"] for s in rep["steps"]]
    assert statuses[:2] == ["applied", "failed"] and set(statuses[2:]) <= {"not-run"}
    assert [r["status"] for r in rep["rolled_back"]] == ["applied"]
    assert _read(POOL) == "0"
    assert "rolled back" in err


def test_stale_saved_plan_refused_and_forced(run_cli, live_node, tmp_path):
    prof = _profile(tmp_path, live_node)
    code, out, err = run_cli("plan", "-f", prof, "-o", "json")
    assert code == 0
    saved = tmp_path / "plan.json"
    saved.write_text(out)
    _write(POOL, 2)  # the node changes after planning
    assert _read(POOL) == "2"
    code, out, err = run_cli("apply", "-f", str(saved))
    assert code == 5 and "stale" in err
    assert _read(POOL) == "2" and not _mounted(live_node)
    assert not os.path.exists(tmp_path / "state" / "journal")
    code, out, err = run_cli("apply", "-f", str(saved), "--force", "-o", "json")
    assert code == 0, err + out
    assert _read(POOL) == "8" and _mounted(live_node)


def test_saved_plan_applies_when_fresh(run_cli, live_node, tmp_path):
    prof = _profile(tmp_path, live_node)
    code, out, err = run_cli("plan", "-f", prof, "-o", "json")
    saved = tmp_path / "plan.json"
    saved.write_text(out)
    code, out, err = run_cli("apply", "-f", str(saved), "-o", "json")
    assert code == 0, err + out
    assert _read(POOL) == "8" and _mounted(live_node)
    code, out, err = run_cli("undo")
    assert code == 0 and _read(POOL) == "0" and not _mounted(live_node)


def test_dry_run_writes_nothing(run_cli, live_node, tmp_path):
    prof = _profile(tmp_path, live_node, extra="  reservations:\n  - {name: db, count: 1}\n")
    code, out, err = run_cli("apply", "-f", prof, "--dry-run", "-o", "json")
    assert code == 0, err
    assert [a["kind"] for a in json.loads(out)["actions"]] == ["hugepage-pool", "mount", "replace-state"]
    assert _read(POOL) == "0" and not _mounted(live_node)
    assert not os.path.exists(tmp_path / "state")
