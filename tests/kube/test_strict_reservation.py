"""Issue 12 item 7: `cpu reserve --option strict-cpu-reservation` and profiles, with the kubelet's meaning.

The kubelet's option (KEP-4540) takes its reserved CPUs out of the shared
pool as well, so no pod runs there, not even Burstable or BestEffort ones.
On an rmctl reservation it says the same of the reservation's CPUs: they
join reservedSystemCPUs and ``export kubelet-config`` must turn the option
on; a kubelet version without it, or a profile turning it off, is refused
instead of warned about.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests import synth


@pytest.fixture
def cli(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=2, cores=4, threads=2)
    state = str(tmp_path / "state")

    def run(*args):
        return run_cli("--root", root, "--state-dir", state, *args)

    return run


def test_cpu_reserve_accepts_and_records_the_option(cli):
    code, out, err = cli("cpu", "reserve", "db", "--count", "2", "--option", "strict-cpu-reservation", "-o", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["reservation"]["cpus"] == "0,8"  # the option changes no choice of CPUs
    assert d["reservation"]["options"] == {"strict-cpu-reservation": True}


def test_export_requires_the_option_the_reservation_asked_for(cli, tmp_path):
    cli("cpu", "reserve-system", "--cpus", "1,9")
    cli("cpu", "reserve", "db", "--count", "2", "--option", "strict-cpu-reservation")
    code, out, err = cli("export", "kubelet-config")
    assert code == 0, err
    cfg = yaml.safe_load(out)
    assert cfg["reservedSystemCPUs"] == "0-1,8-9"
    assert cfg["cpuManagerPolicyOptions"] == {"strict-cpu-reservation": "true"}
    assert "required by reservation db" in out
    # a kubelet without the option cannot keep pods off those CPUs: refused, stdout empty
    code, out, err = cli("export", "kubelet-config", "--kubelet-version", "1.31")
    assert code == 2 and not out and "reservation db asks for strict-cpu-reservation" in err


def test_without_the_option_an_old_kubelet_is_only_warned_about(cli):
    cli("cpu", "reserve-system", "--cpus", "1,9")
    cli("cpu", "reserve", "db", "--count", "2")
    code, out, err = cli("export", "kubelet-config", "--kubelet-version", "1.31")
    assert code == 0 and "has no strict-cpu-reservation" in err


def test_a_profile_turning_it_off_conflicts_with_a_strict_reservation(cli, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("""apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: w}
spec:
  systemReservedCPUs: {cpus: "1,9"}
  reservations:
  - {name: db, count: 2, options: [strict-cpu-reservation]}
  kubelet:
    cpuManagerPolicyOptions: {strict-cpu-reservation: "false"}
""")
    code, out, err = cli("plan", "-f", str(p), "-o", "json")
    assert code == 0, err  # the profile's reservation takes the option (planning accepts it)
    code, out, err = cli("export", "kubelet-config", "-f", str(p))
    assert code == 5 and not out and "turns strict-cpu-reservation off" in err


def test_unknown_options_are_still_refused(cli):
    code, _, err = cli("cpu", "reserve", "db", "--count", "1", "--option", "strict-cpu")
    assert code == 2 and "strict-cpu-reservation" in err  # the hint lists it
