"""Safe shared state: 64 concurrent reservations, lock timeouts, SIGKILLed lock holders."""

import json
import os
import signal
import subprocess
import sys
import time

from rmctl.cpuset import CpuSet
from rmctl.state import ledger
from tests import synth

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rmctl(*args):
    return [sys.executable, "-m", "rmctl", *args]


def env():
    e = dict(os.environ, NO_COLOR="1")
    e["PYTHONPATH"] = REPO + os.pathsep + e.get("PYTHONPATH", "")
    return e


def test_64_processes_reserve_one_cpu_each(tmp_path):
    root = synth.build(tmp_path / "root", sockets=2, cores=16, threads=2)
    st = str(tmp_path / "state")
    base = ["--root", root, "--state-dir", st, "--lock-timeout", "300"]
    procs = [subprocess.Popen(rmctl(*base, "cpu", "reserve", f"p{i}", "--count", "1", "-o", "json"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), cwd=REPO)
             for i in range(64)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
        results.append(json.loads(out)["reservation"]["cpus"])
    cpus = [c for r in results for c in CpuSet.parse(r)]
    assert len(cpus) == 64 and len(set(cpus)) == 64, "a CPU was handed out twice"
    with open(os.path.join(st, "state.json")) as f:
        state = ledger.parse(f.read(), "state.json")
    assert len(state.reservations) == 64
    assert {r.cpus.to_list() for r in state.reservations.values()} == set(results)
    p = subprocess.run(rmctl(*base, "cpu", "reserve", "one-more", "--count", "1"),
                       capture_output=True, env=env(), cwd=REPO)
    assert p.returncode == 4, p.stderr.decode()


HOLD = """
import sys, time
from rmctl.state.ledger import Ledger
with Ledger(sys.argv[1], command="rmctl test-holder").locked():
    print("locked", flush=True)
    time.sleep(300)
"""


def _holder(st):
    p = subprocess.Popen([sys.executable, "-c", HOLD, st], stdout=subprocess.PIPE, env=env(), cwd=REPO)
    assert p.stdout.readline().strip() == b"locked"
    return p


def test_lock_timeout_names_holder_and_sigkill_releases(tmp_path):
    root = synth.build(tmp_path / "root", sockets=1, cores=4, threads=1)
    st = str(tmp_path / "state")
    base = ["--root", root, "--state-dir", st]
    holder = _holder(st)
    try:
        p = subprocess.run(rmctl(*base, "--lock-timeout", "0.5", "cpu", "reserve", "a", "--count", "1"),
                           capture_output=True, env=env(), cwd=REPO)
        assert p.returncode == 5
        assert f"PID {holder.pid}" in p.stderr.decode() and "test-holder" in p.stderr.decode()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        t0 = time.monotonic()
        p = subprocess.run(rmctl(*base, "--lock-timeout", "20", "cpu", "reserve", "a", "--count", "1"),
                           capture_output=True, env=env(), cwd=REPO)
        assert p.returncode == 0, p.stderr.decode()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert time.monotonic() - t0 < 60


def test_killed_owner_is_dropped_by_reconcile(tmp_path, run_cli):
    # reconcile checks owners only on the live root; use the live machine with its own state dir
    st = str(tmp_path / "state")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        code, out, err = run_cli("--state-dir", st, "cpu", "reserve", "w", "--count", "1",
                                 "--owner-pid", str(child.pid), "-o", "json")
        assert code == 0, err
        owner = json.loads(out)["reservation"]["owner"]
        assert owner["pid"] == child.pid and owner["start_time"] > 0
        code, out, _ = run_cli("--state-dir", st, "cpu", "reconcile", "-o", "json")
        assert json.loads(out)["dropped"] == []
    finally:
        child.kill()
        child.wait()
    code, out, _ = run_cli("--state-dir", st, "cpu", "reconcile", "-o", "json")
    assert [r["name"] for r in json.loads(out)["dropped"]] == ["w"]
    code, out, _ = run_cli("--state-dir", st, "cpu", "list", "-o", "json")
    assert json.loads(out)["reservations"] == []


def test_reused_pid_is_not_the_owner():
    import dataclasses

    from rmctl.discovery.root import Root
    from rmctl.state.owners import owner_alive, owner_of

    root = Root.open("/")
    me = owner_of(root, os.getpid())
    assert owner_alive(root, me)
    assert not owner_alive(root, dataclasses.replace(me, start_time=me.start_time + 1))


def test_stat_parsing_survives_odd_command_names():
    from rmctl.state.owners import parse_stat_start_time

    fields = " ".join(str(i) for i in range(3, 53))
    assert parse_stat_start_time(f"123 (a b) c)) {fields}") == 22
