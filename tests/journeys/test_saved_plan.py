"""Journey (b), issue 11: plan a shipped profile to JSON, apply the saved plan for real on this VM, verify (0),
undo, verify (4); each step as a user types it, with the installed ``rmctl`` console script.

It changes this machine for real (the 2M pool on node 0, a hugetlbfs
mount at /mnt/huge-2m, reservations in the journey's own state dir), so
it holds machine_lock and puts the machine back even when it fails.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import require_root
from tests.journeys import worker_node
from tests.journeys.console import environ, shell

pytestmark = pytest.mark.e2e


def test_plan_save_apply_verify_undo_verify(machine_lock, tmp_path):
    require_root()
    env = environ(RMCTL_PROFILE=worker_node.WORKER, STATE=str(tmp_path / "state"))
    with worker_node.restored() as before:
        # 1. plan the shipped profile, saved as JSON
        r = shell(f'cd {tmp_path} && rmctl --state-dir "$STATE" plan -f "$RMCTL_PROFILE" -o json > plan.json',
                  env=env)
        assert r.returncode == 0, r.stderr
        plan = json.loads((tmp_path / "plan.json").read_text())
        assert plan["kind"] == "Plan" and plan["changed"] is True and plan["reboot_required"] == []
        assert [a["field"] for a in plan["actions"]] == [
            "spec.hugepages[0]", "spec.mounts[0]", "spec.mounts[0]", "spec.systemReservedCPUs",
            "spec.reservations[0]"]  # the state file changes twice: issue 11, finding 1
        assert worker_node.read(worker_node.NODE_POOL) == before[worker_node.NODE_POOL]  # a plan changes nothing

        # 2. review it, then apply the saved plan for real
        r = shell(f'cd {tmp_path} && rmctl --state-dir "$STATE" apply -f plan.json --dry-run', env=env)
        assert r.returncode == 0, r.stderr
        r = shell(f'cd {tmp_path} && rmctl --state-dir "$STATE" apply -f plan.json -o json > report.json', env=env)
        assert r.returncode == 0, r.stderr
        report = json.loads((tmp_path / "report.json").read_text())
        assert report["kind"] == "ApplyReport" and report["changed"] is True and report["changes"] == 5
        assert report["counts"]["applied"] == 5 and report["reboot_required"] == []
        assert worker_node.read(worker_node.NODE_POOL) == "128" and worker_node.mounted()

        # 3. verify: the node matches the profile
        r = shell('rmctl --state-dir "$STATE" verify -f "$RMCTL_PROFILE"', env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "the node matches" in r.stdout

        # the same saved plan again: it is not what the node needs now (Terraform: a saved plan is used once)
        r = shell(f'cd {tmp_path} && rmctl --state-dir "$STATE" apply -f plan.json', env=env)
        assert r.returncode == 5 and "stale" in r.stderr, r.stderr

        # 4. undo, 5. verify: exit 4, with what differs
        r = shell('rmctl --state-dir "$STATE" undo', env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert worker_node.read(worker_node.NODE_POOL) == before[worker_node.NODE_POOL]
        assert not worker_node.mounted()
        r = shell('rmctl --state-dir "$STATE" verify -f "$RMCTL_PROFILE" -o json', env=env)
        assert r.returncode == 4, r.stdout + r.stderr
        fields = {m["field"] for m in json.loads(r.stdout)["mismatches"]}
        assert fields == {"spec.hugepages[0]", "spec.mounts[0]", "spec.systemReservedCPUs", "spec.reservations[0]"}
