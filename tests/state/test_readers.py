"""Every command that reads the reservations state reads it through rmctl.state (typed records)."""

from __future__ import annotations

import json


def test_kubelet_check_reads_the_state_on_this_machine(run_cli, tmp_path):
    # the live root only: a reservation and system CPUs in a state dir of our own (nothing else changes)
    sd = str(tmp_path / "state")
    assert run_cli("--state-dir", sd, "cpu", "reserve-system", "--cpus", "0")[0] == 0
    code, out, err = run_cli("--state-dir", sd, "kubelet", "check", "-o", "json")
    assert code in (0, 4), err
    assert "internal error" not in err and json.loads(out)["kind"] == "KubeletCheck"


def test_export_nfd_reads_the_system_cpus(run_cli, tmp_path):
    sd = str(tmp_path / "state")
    assert run_cli("--state-dir", sd, "cpu", "reserve-system", "--cpus", "0")[0] == 0
    code, out, err = run_cli("--state-dir", sd, "export", "nfd", "-o", "json")
    assert code == 0, err
    assert "internal error" not in err
