"""Journey (e), issue 11: the Ansible example (examples/ansible/) as an operator runs it against this VM with
``-c local``: first ``--check --diff`` (a plan, nothing changed), then for real, then ``--check`` again (nothing
would change), then undo.yml in ``--check`` and for real.

It runs ``ansible-playbook`` from the venv (ansible-core is in the test
extra) in the example's directory with the shipped profile, so it changes
this machine for real (machine_lock held; put back even when it fails).
Only the paths that would land outside the test (state dir, profile
destination, snapshot) are given with ``-e``.

Finding 8: check mode failed (the task reading the plan got no JSON); the
Plan said ``reboot_required: bool`` where the report said a list.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, require_root
from tests.journeys import worker_node
from tests.journeys.console import RMCTL, environ

pytestmark = pytest.mark.e2e

EXAMPLE = os.path.join(REPO, "examples", "ansible")
BIN = os.path.dirname(sys.executable)


def _playbook(tmp_path, name: str, *flags: str, extra: dict[str, str]) -> tuple[dict[str, int], str]:
    exe = os.path.join(BIN, "ansible-playbook")
    assert os.path.exists(exe), f"ansible-playbook not in {BIN}: pip install -e '.[test]'"
    env = environ(LC_ALL="C.UTF-8", LANG="C.UTF-8", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
                  ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"), ANSIBLE_NOCOLOR="1",
                  ANSIBLE_RETRY_FILES_ENABLED="False")
    argv = [exe, "-i", "localhost,", "-c", "local", name, *flags, "-e", f"ansible_python_interpreter={sys.executable}"]
    for k, v in extra.items():
        argv += ["-e", f"{k}={v}"]
    r = subprocess.run(argv, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)",
                  r.stdout)
    assert m, r.stdout[-2000:]
    return dict(zip(("ok", "changed", "unreachable", "failed", "skipped"), map(int, m.groups()), strict=True)), r.stdout


def _task(out: str, title: str) -> str:
    """Return the status word (ok, changed, skipping, failed) of the task whose title starts with ``title``."""
    m = re.search(r"TASK \[" + re.escape(title) + r"[^\n]*\n(?:[^\n]*\n)*?(ok|changed|skipping|failed):", out)
    assert m, out[-3000:]
    return m.group(1)


def test_ansible_check_then_apply_then_undo(machine_lock, tmp_path):
    require_root()
    state = tmp_path / "state"
    extra = {"rmctl": RMCTL, "rmctl_state_dir": str(state), "rmctl_profile_dest": str(tmp_path / "etc" / "profile.yaml"),
             "rmctl_snapshot_remote": str(tmp_path / "snap.tar.gz"), "rmctl_snapshot_local": str(tmp_path / "snaps")}
    with worker_node.restored() as before:
        pool = before[worker_node.NODE_POOL]

        # --check --diff: the plan says what would change; nothing changes, not even the snapshot
        recap, out = _playbook(tmp_path, "site.yml", "--check", "--diff", extra=extra)
        assert _task(out, "Plan the profile") == "changed"  # something would change
        assert _task(out, "Apply the profile") == "skipping"
        assert _task(out, "Capture a snapshot") == "skipping"
        assert "set the 2Mi pool on node 0 to 128 pages" in out and "mount -t hugetlbfs" in out  # --diff
        assert recap["failed"] == 0
        assert worker_node.read(worker_node.NODE_POOL) == pool and not worker_node.mounted()
        assert not state.exists() and not (tmp_path / "etc").exists() and not (tmp_path / "snap.tar.gz").exists()

        # for real: applied, the snapshot fetched, the node verified
        recap, out = _playbook(tmp_path, "site.yml", extra=extra)
        assert _task(out, "Apply the profile") == "changed"
        assert _task(out, "Plan the profile") == "skipping"  # no --check, no --diff: apply only
        assert _task(out, "Verify the running node matches") == "ok"
        assert _task(out, "Report what does not match") == "skipping"
        assert worker_node.read(worker_node.NODE_POOL) == "128" and worker_node.mounted()
        assert os.path.getsize(tmp_path / "snaps" / "localhost.tar.gz") > 0
        assert set(json.loads((state / "state.json").read_text())["reservations"]) == {"db"}

        # --check again: nothing would change
        recap, out = _playbook(tmp_path, "site.yml", "--check", extra=extra)
        assert _task(out, "Plan the profile") == "ok" and recap["changed"] == 0, out[-3000:]

        # undo.yml --check --diff: it would revert; nothing is reverted
        undo_extra = {k: extra[k] for k in ("rmctl", "rmctl_state_dir")}
        recap, out = _playbook(tmp_path, "undo.yml", "--check", "--diff", extra=undo_extra)
        assert recap["changed"] == 1 and "remove directory /mnt/huge-2m" in out
        assert worker_node.read(worker_node.NODE_POOL) == "128" and worker_node.mounted()

        # undo.yml for real
        recap, out = _playbook(tmp_path, "undo.yml", extra=undo_extra)
        assert recap["changed"] == 1
        assert worker_node.read(worker_node.NODE_POOL) == pool and not worker_node.mounted()
        recap, out = _playbook(tmp_path, "undo.yml", "--check", extra=undo_extra)
        assert recap["changed"] == 0  # nothing left to undo
