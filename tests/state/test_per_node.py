"""Issue 11 finding 2: one snapshot reservation no longer locks the live node out of its own state.

``rmctl --root EPYC.tar.gz cpu reserve x -n 4`` wrote the default state dir
stamped with the snapshot's fingerprint; afterwards every live command
exited 5 "belongs to another node", even after ``cpu release x``, and no
command reset it.  Now (rmctl.ops.statedir): a snapshot never reads or
writes the default state dir (writing is refused, exit 2, hint
--state-dir); a state dir of another node names both fingerprints and
``rmctl state show`` / ``state reset --yes``, which clear it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil

import pytest

from rmctl.cli import context
from rmctl.ops import statedir
from tests.cli.helpers import run_main
from tests.conftest import fixture_tarball
from tests.journeys.console import environ, rmctl

EPYC = fixture_tarball("utillinux-x86_64-epyc_7451")


def _digest(d: str) -> str | None:
    p = os.path.join(d, "state.json")
    return hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.exists(p) else None


@pytest.mark.parametrize("argv", [
    ["cpu", "reserve", "x", "-n", "4"],
    ["cpu", "reserve-system", "-n", "1"],
    ["cpu", "release", "x"],
    ["cpu", "reconcile"],
])
def test_a_snapshot_is_refused_the_real_default_state_dir(argv):
    # as a user types it, no RMCTL_STATE_DIR: the default /var/lib/rmctl, which must stay as it is
    before = _digest(statedir.DEFAULT_STATE_DIR)
    p = rmctl("--root", EPYC, *argv, "-o", "json", env=environ())
    assert p.returncode == 2, p.stderr
    doc = json.loads(p.stdout)
    assert doc["error"]["code"] == "snapshot_state_dir"
    assert "--state-dir" in doc["error"]["hint"]
    assert _digest(statedir.DEFAULT_STATE_DIR) == before


@pytest.fixture
def default_dir(tmp_path, monkeypatch):
    """The default state dir, moved to a temporary directory for this test (the rule is by path)."""
    d = str(tmp_path / "var-lib-rmctl")
    monkeypatch.setattr(statedir, "DEFAULT_STATE_DIR", d)
    monkeypatch.setattr(context, "DEFAULT_STATE_DIR", d)
    monkeypatch.delenv("RMCTL_STATE_DIR", raising=False)
    return d


def test_live_and_snapshot_keep_to_their_own_state(default_dir, tmp_path):
    # the live node reserves in the default state dir
    code, _, err = run_main(["cpu", "reserve", "live", "-n", "1"])
    assert code == 0, err
    live_state = _digest(default_dir)
    # a snapshot with the default state dir: refused, nothing written; its reads see nothing there
    code, _, err = run_main(["--root", EPYC, "cpu", "reserve", "x", "-n", "4"])
    assert code == 2 and "give the snapshot a state dir of its own: --state-dir" in err
    code, out, err = run_main(["--root", EPYC, "cpu", "list", "-o", "json"])
    assert code == 0, err  # it exited 5: the live state "belongs to another node"
    assert json.loads(out)["reservations"] == []
    code, out, err = run_main(["--root", EPYC, "cpu", "reserve", "x", "-n", "4", "--dry-run"])
    assert code == 0 and "would reserve x" in out
    assert "without --dry-run this is refused" in err
    assert _digest(default_dir) == live_state
    # the snapshot with a state dir of its own: reserve, list, release
    snap = str(tmp_path / "epyc-state")
    assert run_main(["--root", EPYC, "--state-dir", snap, "cpu", "reserve", "x", "-n", "4"])[0] == 0
    code, out, _ = run_main(["--root", EPYC, "--state-dir", snap, "cpu", "list", "-o", "json"])
    assert [r["name"] for r in json.loads(out)["reservations"]] == ["x"]
    # the live node is untouched and works normally
    code, out, err = run_main(["cpu", "list", "-o", "json"])
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["reservations"]] == ["live"]
    assert run_main(["cpu", "release", "live"])[0] == 0
    assert run_main(["--root", EPYC, "--state-dir", snap, "cpu", "release", "x"])[0] == 0


def _stamp(args, state):
    code, _, err = run_main([*args, "--state-dir", state, "cpu", "reserve", "x", "-n", "1"])
    assert code == 0, err


@pytest.mark.parametrize("stamped_by,used_by", [(["--root", EPYC], []), ([], ["--root", EPYC])],
                         ids=["snapshot-then-live", "live-then-snapshot"])
def test_another_nodes_state_dir_names_both_fingerprints_and_the_way_out(tmp_path, stamped_by, used_by):
    state = str(tmp_path / "s")
    _stamp(stamped_by, state)
    have = json.loads(open(os.path.join(state, "state.json")).read())["node"]["fingerprint"]
    for argv in (["cpu", "list"], ["cpu", "reserve", "y", "-n", "1"]):
        code, out, err = run_main([*used_by, "--state-dir", state, *argv, "-o", "json"])
        assert code == 5
        doc = json.loads(out)["error"]
        mine = doc["details"]["node_fingerprint"]
        assert doc["details"]["state_fingerprint"] == have and mine != have
        assert have[:12] in doc["message"] and mine[:12] in doc["message"]
        assert f"--state-dir {state} state show" in doc["hint"] and "state reset --yes" in doc["hint"]
    # state show: never refused; it says whose state it is and what it holds
    code, out, err = run_main([*used_by, "--state-dir", state, "state", "show", "-o", "json"])
    assert code == 0, err
    shown = json.loads(out)
    assert shown["belongs_to"] == "another node" and shown["fingerprint"] == have
    assert [r["name"] for r in shown["reservations"]] == ["x"]
    # reset without --yes: shows, changes nothing
    before = _digest(state)
    code, out, err = run_main([*used_by, "--state-dir", state, "state", "reset"])
    assert code == 0 and "x (cpu)" in out and "state reset --yes" in err
    assert _digest(state) == before
    # reset --yes: cleared; the node that was locked out uses it normally
    code, out, err = run_main([*used_by, "--state-dir", state, "state", "reset", "--yes", "-o", "json"])
    assert code == 0, err
    assert json.loads(out)["cleared"] is True
    code, out, err = run_main([*used_by, "--state-dir", state, "cpu", "reserve", "y", "-n", "1", "-o", "json"])
    assert code == 0, err
    code, out, _ = run_main([*used_by, "--state-dir", state, "state", "show", "-o", "json"])
    assert json.loads(out)["belongs_to"] == "this node"
    # and a second reset of a clear state writes nothing
    assert run_main([*used_by, "--state-dir", state, "state", "reset", "--yes"])[0] == 0
    before = _digest(state)
    code, out, _ = run_main([*used_by, "--state-dir", state, "state", "reset", "--yes", "-o", "json"])
    assert code == 0 and json.loads(out)["cleared"] is False and _digest(state) == before


def test_state_show_of_an_empty_dir(tmp_path):
    code, out, err = run_main(["--state-dir", str(tmp_path / "none"), "state", "show", "-o", "json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["exists"] is False and doc["belongs_to"] == "no node yet" and doc["reservations"] == []
    assert not (tmp_path / "none").exists()  # showing creates nothing


@pytest.mark.e2e
def test_state_reset_removes_the_cgroups_the_reservations_recorded(tmp_path, machine_lock):
    """``state reset --yes`` on this machine: the cpuset cgroup of a reservation (``cpu cpuset``) is removed with
    it, for real (cgroup v1 or v2, whichever this machine has); the apply journals stay."""
    from tests.conftest import require_root

    require_root()
    env = environ(RMCTL_STATE_DIR=str(tmp_path / "state"))
    path = None
    try:
        r = rmctl("cpu", "reserve", "reset-cg", "-n", "1", env=env)
        assert r.returncode == 0, r.stderr
        r = rmctl("cpu", "cpuset", "reset-cg", "-o", "json", env=env)
        assert r.returncode == 0, r.stderr
        path = json.loads(r.stdout)["cgroup"]["path"]
        assert os.path.isdir(path)
        r = rmctl("state", "reset", "-o", "json", env=env)  # without --yes: shown, nothing removed
        assert r.returncode == 0 and os.path.isdir(path), r.stderr
        r = rmctl("state", "reset", "--yes", "-o", "json", env=env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["cleared"] is True
        assert not os.path.exists(path)
        r = rmctl("cpu", "list", "-o", "json", env=env)
        assert r.returncode == 0 and json.loads(r.stdout)["reservations"] == [], r.stderr
    finally:
        if path and os.path.isdir(path):
            os.rmdir(path)  # no task was moved there: an empty cgroup rmdirs


SNAPSHOT_PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: snap}
spec:
  systemReservedCPUs: {count: 1}
  reservations:
  - {name: db, count: 2}
"""


#: apply journals of a profile applied (tests/fixtures/state/make-v1.sh)
JOURNALS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "state", "v1", "journal")


def _no_node(state_dir: str) -> None:
    """Make the state in ``state_dir`` belong to no node (as an old rmctl wrote it), its reservations kept."""
    from rmctl.state.ledger import Ledger, dumps, parse

    lg = Ledger(state_dir)
    state = parse(lg.read_text(), lg.path)
    with open(lg.path, "w") as f:
        f.write(dumps(dataclasses.replace(state, fingerprint=None)))


def _timeless(text: str, state_dir: str):
    """Return the JSON document ``text`` without what differs between two runs: the state dir's path, the
    times in the state files a plan would write (and so their digests)."""
    doc = json.loads(text.replace(state_dir, "STATE"))
    for a in doc.get("actions", []) if isinstance(doc, dict) else []:
        a.pop("content_sha256", None)
        a.pop("expect_sha256", None)
        if isinstance(a.get("content"), str):
            state = json.loads(a["content"])
            for k in ("checksum", "updated"):
                state.pop(k)
            for rec in state["reservations"].values():
                rec.pop("created")
                rec.pop("created_unix")
            a["content"] = state
    return doc


@pytest.mark.parametrize("stamp", ["this node", "no node"])
def test_a_snapshots_plan_verify_and_exports_never_read_the_default_state_dir(default_dir, tmp_path, stamp):
    """``rmctl --root snap plan|verify`` of a profile with CPUs, and ``export kubelet-config|nfd --root snap``,
    read the reservations of the snapshot's state dir: with the default one, none (rmctl.ops.statedir).  They
    read the live node's: exit 5 "belongs to another node", or (state of no node) the live node's
    reservations planned around on the snapshot."""
    code, _, err = run_main(["cpu", "reserve-system", "-n", "1"])
    assert code == 0, err
    code, _, err = run_main(["cpu", "reserve", "live-only", "-n", "1"])
    assert code == 0, err
    if stamp == "no node":
        _no_node(default_dir)
    # this machine's apply journals (a profile applied here): a snapshot's export has no profile from them
    shutil.copytree(os.path.join(JOURNALS, "journal"), os.path.join(default_dir, "journal"))
    code, out, err = run_main(["export", "nfd", "-o", "json"])
    assert code == 0 and "rmctl-profile" in out, err  # the live node's profile in effect: the journals'
    live_state = _digest(default_dir)
    prof = tmp_path / "p.yaml"
    prof.write_text(SNAPSHOT_PROFILE)
    # what a state dir of its own (empty) gives the snapshot: the default one must give the same
    own_dir = str(tmp_path / "own")
    own = ["--state-dir", own_dir]
    for argv in (["plan", "-f", str(prof), "-o", "json"], ["verify", "-f", str(prof), "-o", "json"],
                 ["export", "kubelet-config", "-f", str(prof), "-o", "json"],
                 ["export", "nfd", "-f", str(prof), "-o", "json"], ["export", "nfd", "-o", "json"]):
        want = run_main(["--root", EPYC, *own, *argv])
        got = run_main(["--root", EPYC, *argv])
        assert got[0] == want[0] and want[0] in (0, 4), (argv, got[2])  # verify: 4, the profile is not applied
        # the same document (but for the state file's path and the times in the state a plan would write)
        assert _timeless(got[1], default_dir) == _timeless(want[1], own_dir), argv
        assert "live-only" not in got[1], argv
    assert _digest(default_dir) == live_state
    assert not (tmp_path / "own").exists()  # planning and exporting write no state


def test_a_refused_ledger_holds_nothing_and_writes_nothing(tmp_path):
    """Ledger(refusal=...): the state dir seen from a root it is not for (statedir.ledger). Its file is not read,
    a dry run plans against an empty state, and every write raises the refusal before ``change`` runs."""
    from rmctl.cpuset import CpuSet
    from rmctl.errors import SnapshotStateDirError
    from rmctl.state.ledger import Change, Ledger

    d = str(tmp_path / "default")
    Ledger(d).update(None, lambda s: Change(s.with_system_cpus(CpuSet.parse("0"))))
    before = _digest(d)
    assert before is not None
    no = statedir.refusal("snap.tar", d)
    lg = Ledger(d, refusal=no)
    assert lg.read_text() is None and lg.load("fp").system_cpus == CpuSet()
    seen = []

    def change(s):
        seen.append(s)
        return Change(s.with_system_cpus(CpuSet.parse("1")))

    up = lg.update("fp", change, dry_run=True)
    assert seen[0].system_cpus == CpuSet() and up.plan.actions  # planned against no state
    seen.clear()
    for write in (lambda: lg.update("fp", change), lg.check_writable, lambda: lg.locked().__enter__()):
        with pytest.raises(SnapshotStateDirError) as e:
            write()
        assert e.value is no
    assert seen == [] and _digest(d) == before
    # and ops.statedir hands it out for a snapshot with the default state dir, a plain Ledger otherwise
    assert statedir.ledger("snap.tar", False, statedir.DEFAULT_STATE_DIR, "t").refusal is not None
    assert statedir.ledger("snap.tar", False, d, "t").refusal is None
    assert statedir.ledger("/", True, statedir.DEFAULT_STATE_DIR, "t").refusal is None
