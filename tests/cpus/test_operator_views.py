"""Operator views of CPUs (issue 11 findings 10 and 12): stable documents, who runs on reserved CPUs,
pins that would land on another owner's CPUs, clearing the system CPUs, --watch."""

from __future__ import annotations

import json

import pytest

from tests import synth


@pytest.fixture
def root(tmp_path):
    return synth.build(tmp_path / "root", sockets=1, cores=4, threads=1)


@pytest.fixture
def cli(run_cli, root, tmp_path):
    state = str(tmp_path / "state")

    def run(*args):
        return run_cli("--root", root, "--state-dir", state, *args)

    return run


def test_cpu_list_json_is_the_same_on_every_run(cli, monkeypatch):
    """age_seconds made every run differ; `created` (UTC) says when, the table counts the age."""
    import time

    assert cli("cpu", "reserve", "a", "-n", "1")[0] == 0
    first = cli("cpu", "list", "-o", "json")[1]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)
    second = cli("cpu", "list", "-o", "json")[1]
    assert first == second
    rec = json.loads(first)["reservations"][0]
    assert "age_seconds" not in rec and rec["created"].endswith("Z") and rec["created_unix"] > 0
    table = cli("cpu", "list")[1]
    assert " 60m " in table or " 1h " in table or "60m" in table, table


def test_reserve_system_clear(cli, tmp_path):
    """Issue 11 finding 10: system CPUs could be set but never cleared."""
    assert cli("cpu", "reserve-system", "--cpus", "0-1")[0] == 0
    assert json.loads(cli("cpu", "list", "-o", "json")[1])["system_cpus"] == "0-1"
    code, out, err = cli("cpu", "reserve-system", "--clear", "--dry-run", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["system_cpus"] == "" and doc["plan"]["actions"]
    assert json.loads(cli("cpu", "list", "-o", "json")[1])["system_cpus"] == "0-1"  # a dry run changed nothing
    code, out, err = cli("cpu", "reserve-system", "--clear")
    assert code == 0 and "cleared the system CPUs" in out
    assert cli("cpu", "reserve", "all", "-n", "4")[0] == 0  # every CPU may be reserved again
    for bad in (["--clear", "--count", "1"], ["--clear", "--cpus", "0"], []):
        code, out, err = cli("cpu", "reserve-system", *bad)
        assert code == 2 and "--clear" in err, (bad, err)


def test_reserve_system_clear_saved_plan_applies(run_cli, tmp_path):
    """The plan of --clear records it as its intent: `apply -f` runs it (this machine; only the state dir changes)."""
    live = ("--state-dir", str(tmp_path / "live"))
    assert run_cli(*live, "cpu", "reserve-system", "--cpus", "0")[0] == 0
    code, out, err = run_cli(*live, "cpu", "reserve-system", "--clear", "--dry-run", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["plan"]["intent"] == {"command": "cpu reserve-system", "args": {"clear": True}}
    plan = tmp_path / "plan.json"
    plan.write_text(out)
    code, out, err = run_cli(*live, "apply", "-f", str(plan))
    assert code == 0, err
    assert json.loads(run_cli(*live, "cpu", "list", "-o", "json")[1])["system_cpus"] == ""


# -- who runs on reserved CPUs, and pins onto another owner's CPUs (this machine; only the state dir and
# -- the affinity of the test's own sleep processes change) ---------------------------------------------

@pytest.fixture
def procs():
    """Start processes the test may pin; kill them at the end."""
    import subprocess

    started = []

    def start(argv):
        p = subprocess.Popen(argv, start_new_session=True)  # its own group: its children die with it
        started.append(p)
        return p

    yield start
    import os
    import signal

    for p in started:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # a `sh -c "sleep & wait"` leaves no pinned sleep behind
        except ProcessLookupError:
            pass
        p.wait()


def _child_of(pid: int) -> int:
    import time

    for _ in range(200):
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
        if kids:
            return int(kids[0])
        time.sleep(0.01)
    raise AssertionError(f"process {pid} started no child")


def test_pin_onto_another_owners_cpus_needs_force(run_cli, tmp_path, procs):
    """Issue 11 finding 10: `cpu pin PID --cpus 1` succeeded silently on CPU 1 reserved by another owner."""
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    st = ("--state-dir", str(tmp_path / "live"))
    owner = procs(["sh", "-c", "sleep 300 & wait"])
    child = _child_of(owner.pid)
    stranger = procs(["sleep", "300"])
    assert run_cli(*st, "cpu", "reserve", "svc", "--cpus", "1", "--owner-pid", str(owner.pid))[0] == 0
    # the owner and its descendants may be pinned there
    code, out, err = run_cli(*st, "cpu", "pin", str(child), "--cpus", "1")
    assert code == 0, err
    # anyone else is refused, naming the reservation and its owner; nothing changed
    before = os.sched_getaffinity(stranger.pid)
    code, out, err = run_cli(*st, "cpu", "pin", str(stranger.pid), "--cpus", "1", "-o", "json")
    assert code == 5
    doc = json.loads(out)
    assert doc["error"]["code"] == "conflict" and doc["error"]["details"]["reservations"] == ["svc"]
    assert f"owner PID {owner.pid}" in doc["error"]["message"] and "--force" in doc["error"]["hint"]
    assert os.sched_getaffinity(stranger.pid) == before
    # --force pins, with a warning naming whose CPUs they are
    code, out, err = run_cli(*st, "cpu", "pin", str(stranger.pid), "--cpus", "1", "--force")
    assert code == 0 and "warning: --force" in err and "'svc'" in err
    assert os.sched_getaffinity(stranger.pid) == {1}
    # joining the reservation by name is not refused
    assert run_cli(*st, "cpu", "pin", str(stranger.pid), "--reservation", "svc")[0] == 0
    # free CPUs are not guarded
    assert run_cli(*st, "cpu", "pin", str(stranger.pid), "--cpus", "0")[0] == 0

    # cpu list -v: the owner's child is the owner's; the stranger, pinned back onto CPU 1, intrudes
    assert run_cli(*st, "cpu", "pin", str(stranger.pid), "--cpus", "1", "--force")[0] == 0
    code, out, err = run_cli(*st, "-v", "cpu", "list", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    role = {o["pid"]: o["role"] for o in doc["occupants"]}
    assert role[child] == "owner" and role[stranger.pid] == "intruder", role
    assert doc["intruders"] == sum(1 for o in doc["occupants"] if o["role"] == "intruder") >= 1
    assert all(o["reservation"] == "svc" for o in doc["occupants"])
    assert "on reserved CPUs" in err and "in svc" in err
    table = run_cli(*st, "cpu", "list", "-v")[1]
    assert "threads on reserved CPUs" in table and "intruder" in table
    # without -v the document is as before (no thread is read)
    assert "occupants" not in json.loads(run_cli(*st, "cpu", "list", "-o", "json")[1])


def test_pinned_into_an_ownerless_reservation_is_its_own(run_cli, tmp_path, procs):
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    st = ("--state-dir", str(tmp_path / "live"))
    p = procs(["sleep", "300"])
    assert run_cli(*st, "cpu", "reserve", "box", "--cpus", "1")[0] == 0
    assert run_cli(*st, "cpu", "pin", str(p.pid), "--reservation", "box")[0] == 0
    doc = json.loads(run_cli(*st, "cpu", "list", "-v", "-o", "json")[1])
    assert {o["role"] for o in doc["occupants"] if o["pid"] == p.pid} == {"pinned"}


def test_occupants_on_a_snapshot_say_why_there_are_none(cli):
    assert cli("cpu", "reserve", "a", "-n", "1")[0] == 0
    code, out, err = cli("-v", "cpu", "list", "-o", "json")
    assert code == 0 and json.loads(out)["occupants"] is None and "snapshot holds no processes" in err


def test_occupant_roles():
    """The rules of rmctl.planning.occupants on made-up threads."""
    from rmctl.cpuset import CpuSet
    from rmctl.discovery.tasks import Task, parse_task_stat
    from rmctl.planning.occupants import Holder, foreign_holders, occupants

    def t(pid, tid, cpu, allowed, ppid=1, kernel=False, comm="x"):
        return Task(pid, tid, comm, "S", cpu, CpuSet.parse(allowed), ppid, kernel)

    hs = [Holder("db", CpuSet.parse("2-3"), owner_pid=100), Holder("box", CpuSet.parse("4")),
          Holder("cg", CpuSet.parse("5"), cgroup="/rmctl-cg")]
    tasks = [t(100, 100, 2, "2-3"), t(101, 101, 3, "0-7", ppid=100),  # the owner and its child
             t(200, 200, 2, "0-7"),                                  # allowed everywhere, ran on db's CPU
             t(201, 201, 0, "2"),                                    # confined to db's CPU by someone else
             t(300, 300, 4, "4"), t(301, 301, 4, "0-7"),             # pinned into box; a visitor
             t(400, 400, 5, "0-7"), t(401, 401, 5, "0-7"),           # in the cgroup; not
             t(2, 9, 2, "2", kernel=True),                           # a per-CPU kernel thread
             t(500, 500, 0, "0-1")]                                  # elsewhere: not listed
    got = {(o.pid, o.reservation): o.role for o in occupants(hs, tasks, {400: ("/rmctl-cg/sub",), 401: ("/",)})}
    assert got == {(100, "db"): "owner", (101, "db"): "owner", (200, "db"): "intruder", (201, "db"): "intruder",
                   (300, "box"): "pinned", (301, "box"): "intruder", (400, "cg"): "cgroup", (401, "cg"): "intruder",
                   (2, "db"): "kernel"}
    assert [h.name for h in foreign_holders(hs, CpuSet.parse("2,4"), 101, [100, 1])] == ["box"]
    assert [h.name for h in foreign_holders(hs, CpuSet.parse("2,4"), 555, [1])] == ["db", "box"]
    # comm with spaces and parentheses; processor is field 39
    line = "42 (a (b) c) S 7 42 42 0 -1 4194560 " + " ".join(["0"] * 29) + " 3 0 0"
    assert parse_task_stat(line) == ("a (b) c", "S", 7, 4194560, 3)
