"""Slow work never runs under the state lock (issue 15 item 4).

A long CEL evaluation (``request evaluate --reserve``) or profile plan
used to hold the state lock, so a concurrent ``cpu reserve`` timed out
(exit 5).  Now the change is computed first and committed under the lock
only when the state is still the one it was computed from; otherwise it
is computed again.  The slow part here is a barrier, not a sleep: the
evaluation waits until the concurrent reservation has finished, which on
the old code deadlocks into the reservation's lock timeout.
"""

from __future__ import annotations

import threading

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery.root import Root
from rmctl.errors import ConflictError
from rmctl.state.ledger import Change, Ledger
from tests import synth

ONE_CPU = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: one}
spec:
  cpus: {count: 1}
"""


class Barrier:
    """Wrap ``fn``: its first call computes, then signals ``started`` and waits for ``go`` (a slow
    computation whose input goes stale meanwhile); every call is counted."""

    def __init__(self, fn):
        self.fn = fn
        self.calls = 0
        self.started = threading.Event()
        self.go = threading.Event()

    def __call__(self, *a, **kw):
        self.calls += 1
        result = self.fn(*a, **kw)
        if self.calls == 1:
            self.started.set()
            assert self.go.wait(120), "the concurrent command never finished"
        return result


def _in_thread(fn):
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # handed to the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_a_slow_request_evaluation_does_not_make_cpu_reserve_time_out(tmp_path, monkeypatch):
    from rmctl.ops import cpu, request_reservations
    from rmctl.state import requests as state_requests

    root = synth.build(tmp_path / "root", sockets=1, cores=4, threads=1)
    st = str(tmp_path / "state")
    req = tmp_path / "r.yaml"
    req.write_text(ONE_CPU)
    slow = Barrier(state_requests.evaluate)
    monkeypatch.setattr(state_requests, "evaluate", slow)
    t, out = _in_thread(lambda: request_reservations.reserve(Root.open(root), st, "slow", str(req), lock_timeout=30))
    assert slow.started.wait(120)
    # the evaluation is in progress: a reservation with a 1 s lock timeout goes through
    quick = cpu.reserve(Root.open(root), st, "quick", count=1, lock_timeout=1)
    slow.go.set()
    t.join(120)
    assert "error" not in out, out.get("error")
    assert quick.exit_code == 0 and out["value"].exit_code == 0
    assert slow.calls == 2  # evaluated again: the state moved while it was evaluated
    state = Ledger(st).load()
    a, b = state.reservations["quick"].cpus, state.reservations["slow"].cpus
    assert a and b and not (a & b)


def test_a_slow_profile_plan_does_not_make_cpu_reserve_time_out(tmp_path, monkeypatch):
    from rmctl.ops import cpu, profile

    live = Root.open("/")
    if len(CpuSet.parse((live.read("sys/devices/system/cpu/online") or "0").strip())) < 2:
        pytest.skip("needs two online CPUs")
    st = str(tmp_path / "state")
    prof = tmp_path / "p.yaml"
    prof.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: t}\n"
                    "spec:\n  reservations:\n  - {name: p1, count: 1}\n")
    slow = Barrier(profile.plan_file)
    monkeypatch.setattr(profile, "plan_file", slow)
    t, out = _in_thread(lambda: profile.apply(live, st, str(prof), lock_timeout=30))
    assert slow.started.wait(120)
    quick = cpu.reserve(live, st, "quick", count=1, lock_timeout=1)
    slow.go.set()
    t.join(120)
    assert "error" not in out, out.get("error")
    assert quick.exit_code == 0 and out["value"].exit_code == 0, out["value"].messages
    assert slow.calls == 2
    state = Ledger(st).load()
    assert not (state.reservations["quick"].cpus & state.reservations["p1"].cpus)


def test_a_state_that_keeps_moving_is_a_conflict_after_one_replan(tmp_path):
    st = str(tmp_path / "state")
    other = Ledger(st, command="other")
    calls = []

    def change(state):
        calls.append(state)
        n = len(calls)
        # another rmctl commits while this change is being computed (the lock is not held now)
        other.update(None, lambda s: Change(s.with_system_cpus(CpuSet([n]))))
        return Change(state.with_system_cpus(CpuSet([100])), value=n)

    with pytest.raises(ConflictError, match="changed while"):
        Ledger(st, lock_timeout=0).update(None, change)
    assert len(calls) == 2  # planned, planned again once, then refused (exit 5)
    assert str(Ledger(st).load().system_cpus) == "2"  # the other's commit stands; ours wrote nothing


def test_a_change_computed_from_the_current_state_commits_at_once(tmp_path):
    st = str(tmp_path / "state")
    calls = []

    def change(state):
        calls.append(1)
        return Change(state.with_system_cpus(CpuSet([1])))

    up = Ledger(st).update(None, change)
    assert up.changed and len(calls) == 1


def test_a_slow_saved_plan_check_does_not_make_cpu_reserve_time_out(tmp_path, monkeypatch, run_cli):
    """``apply -f plan.json`` plans the plan's intent again to check it (rmctl.ops.saved_plans.check): before
    the lock too.  With --force the check's fresh plan for the moved state is what runs."""
    import json

    from rmctl.ops import cpu, profile, saved_plans

    live = Root.open("/")
    if len(CpuSet.parse((live.read("sys/devices/system/cpu/online") or "0").strip())) < 2:
        pytest.skip("needs two online CPUs")
    st = str(tmp_path / "state")
    code, out, err = run_cli("--state-dir", st, "cpu", "reserve", "p1", "--count", "1", "--dry-run", "-o", "json")
    assert code == 0, err
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(json.loads(out)["plan"]))
    slow = Barrier(saved_plans.check)
    monkeypatch.setattr(saved_plans, "check", slow)
    t, out_ = _in_thread(lambda: profile.apply(live, st, str(plan), force=True, lock_timeout=30))
    assert slow.started.wait(120)
    quick = cpu.reserve(live, st, "quick", count=1, lock_timeout=1)
    slow.go.set()
    t.join(120)
    assert "error" not in out_, out_.get("error")
    assert quick.exit_code == 0 and out_["value"].exit_code == 0, out_["value"].messages
    assert slow.calls == 2  # checked again: the state moved while it was checked
    state = Ledger(st).load()
    assert not (state.reservations["quick"].cpus & state.reservations["p1"].cpus)
