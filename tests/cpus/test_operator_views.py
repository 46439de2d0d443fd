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
