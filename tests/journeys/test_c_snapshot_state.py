"""Journey (c), issue 11 finding 2: reserve on a snapshot with its own state dir, then use the live node normally;
each step as a user types it, with the installed ``rmctl`` console script.

Before, ``rmctl --root SNAP cpu reserve x -n 4`` wrote the default state
dir stamped with the snapshot's fingerprint, and every live ``cpu list``,
``cpu reserve`` and ``request evaluate`` then exited 5 "belongs to another
node".  Now the default state dir is this machine's alone: a snapshot
reservation there is refused (exit 2) before anything is written, and a
snapshot's own state dir never touches the live node.

The live commands here use the real default state dir (/var/lib/rmctl)
and only read it or plan (--dry-run); the journey checks it is exactly as
it was, file for file.  machine_lock: nobody else's test writes it meanwhile.
"""

from __future__ import annotations

import json
import os

from rmctl.ops.statedir import DEFAULT_STATE_DIR
from tests.conftest import NODE_FIXTURES
from tests.journeys.console import environ, shell

GPU_NODE = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")

WEB = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: web}
spec:
  cpus: {count: 1}
"""


def _tree(path: str) -> dict[str, tuple[int, float, bytes | None]] | None:
    """Return every entry under ``path`` with its mode, mtime and (files) bytes; None when it does not exist."""
    if not os.path.lexists(path):
        return None
    out = {}
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(base, name)
            st = os.lstat(p)
            data = open(p, "rb").read() if os.path.isfile(p) and not os.path.islink(p) else None
            out[os.path.relpath(p, path)] = (st.st_mode, st.st_mtime, data)
    return out


def test_snapshot_state_dir_leaves_the_live_node_alone(tmp_path, machine_lock):
    (tmp_path / "web.yaml").write_text(WEB)
    env = environ(GPU_NODE=GPU_NODE)  # no RMCTL_STATE_DIR: the default state dir, as a user has it
    before = _tree(DEFAULT_STATE_DIR)

    def sh(line: str):
        return shell(f"cd {tmp_path} && {line}", env=env)

    # the default state dir is refused for a snapshot reservation, before anything is written
    for line in ('rmctl --root "$GPU_NODE" cpu reserve db -n 4',
                 'rmctl --root "$GPU_NODE" request evaluate web.yaml --reserve w',
                 f'rmctl --root "$GPU_NODE" --state-dir {DEFAULT_STATE_DIR} cpu reserve db -n 4'):
        r = sh(line)
        assert r.returncode == 2, (line, r.returncode, r.stderr)
        assert "snapshot" in r.stderr and "--state-dir" in r.stderr and "Traceback" not in r.stderr
        assert _tree(DEFAULT_STATE_DIR) == before, line

    # reserve on the snapshot with a state dir of its own
    r = sh('rmctl --root "$GPU_NODE" --state-dir gpu-state cpu reserve db -n 4 -o json')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["reservation"]["cpus"] == "0-3"
    r = sh('rmctl --root "$GPU_NODE" --state-dir gpu-state cpu list -o json')
    assert r.returncode == 0 and [v["name"] for v in json.loads(r.stdout)["reservations"]] == ["db"], r.stderr

    # the live node, used normally: no "another node", nothing of the snapshot's
    r = sh("rmctl cpu list -o json")
    assert r.returncode == 0, r.stderr
    assert "db" not in {v["name"] for v in json.loads(r.stdout)["reservations"]}
    r = sh("rmctl cpu reserve web -n 1 --dry-run")
    assert r.returncode == 0, r.stderr
    r = sh("rmctl request evaluate web.yaml")
    assert r.returncode == 0, r.stderr
    for r in (sh("rmctl cpu list"), sh("rmctl cpu reserve web -n 1 --dry-run"), sh("rmctl request evaluate web.yaml")):
        assert "another node" not in r.stderr, r.stderr
    # and the snapshot's own state dir, seen from the live node, is another node's: refused, not used
    r = sh("rmctl --state-dir gpu-state cpu list")
    assert r.returncode == 5 and "another node" in r.stderr and "state reset" in r.stderr, r.stderr

    assert _tree(DEFAULT_STATE_DIR) == before
