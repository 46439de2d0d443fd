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
