"""The Ansible example, for real against localhost (root, CI): changed, then unchanged, then undone."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, require_root

pytestmark = pytest.mark.e2e

EXAMPLE = os.path.join(REPO, "examples", "ansible")
BIN = os.path.dirname(sys.executable)  # the venv's bin: ansible-core comes with the test extra
POOL = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"


def _read(p):
    with open(p) as f:
        return f.read().strip()


def _mounted(path):
    with open("/proc/mounts") as f:
        return any(ln.split()[1] == path for ln in f)


def _playbook(name, tmp_path, extra):
    exe = os.path.join(BIN, "ansible-playbook")
    assert os.path.exists(exe), f"ansible-playbook not in {BIN}: install the test extra (pip install -e '.[test]')"
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    args = [exe, "-i", "localhost,", "-c", "local", os.path.join(EXAMPLE, name),
            "-e", f"ansible_python_interpreter={sys.executable}"]
    for k, v in extra.items():
        args += ["-e", f"{k}={v}"]
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    m = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", r.stdout)
    assert m, r.stdout[-2000:]
    return int(m.group(2)), r.stdout


def _task(out, title):
    """Return the status word (ok, changed, failed, skipping) of the task whose title starts with ``title``."""
    m = re.search(r"TASK \[" + re.escape(title) + r"[^\n]*\n(\w+):", out)
    assert m, out[-2000:]
    return m.group(1)


def test_playbook_changes_then_not_then_undo(machine_lock, tmp_path):
    require_root()
    mnt = tmp_path / "huge"
    mnt.mkdir()
    prof = tmp_path / "profile.yaml"
    prof.write_text(f"""\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {{name: ansible-test}}
spec:
  hugepages:
  - {{pageSize: 2Mi, count: 4, node: 0}}
  mounts:
  - {{path: {mnt}, pageSize: 2Mi}}
""")
    extra = {"rmctl": os.path.join(BIN, "rmctl"), "rmctl_profile": str(prof),
             "rmctl_state_dir": str(tmp_path / "state"), "rmctl_profile_dest": str(tmp_path / "etc" / "profile.yaml"),
             "rmctl_snapshot_remote": str(tmp_path / "snap.tar.gz"), "rmctl_snapshot_local": str(tmp_path / "snaps")}
    before = _read(POOL)
    assert before == "0"
    try:
        changed, out = _playbook("site.yml", tmp_path, extra)
        assert _task(out, "Apply the profile") == "changed", out[-3000:]
        assert changed >= 1
        assert _read(POOL) == "4" and _mounted(str(mnt))
        assert os.path.getsize(tmp_path / "snaps" / "localhost.tar.gz") > 0
        changed, out = _playbook("site.yml", tmp_path, extra)
        assert _task(out, "Apply the profile") == "ok", out[-3000:]
        assert changed == 0, out[-3000:]  # idempotent: nothing changed the second time
        changed, out = _playbook("undo.yml", tmp_path, {k: extra[k] for k in ("rmctl", "rmctl_state_dir")})
        assert changed == 1
        assert _read(POOL) == before and not _mounted(str(mnt))
    finally:
        if _mounted(str(mnt)):
            subprocess.run(["umount", str(mnt)])
        with open(POOL, "w") as f:
            f.write(before)
