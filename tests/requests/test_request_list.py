"""`rmctl request list` (issue 11 finding 10: there was none): the request reservations, with what they hold."""

from __future__ import annotations

import json
import os

from tests.conftest import SHARED

DEV_VM = os.path.join(SHARED, "fixtures", "nodes", "dev-vm.tar.gz")

REQUEST = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: svc}
spec:
  cpus: 1
  memory: 256Mi
  devices:
  - {name: nic, class: nic}
"""


def test_request_list_shows_what_each_request_reservation_holds(run_cli, tmp_path):
    req = tmp_path / "r.yaml"
    req.write_text(REQUEST)
    cli = ("--root", DEV_VM, "--state-dir", str(tmp_path / "st"))
    code, out, err = run_cli(*cli, "request", "list", "-o", "json")
    assert code == 0 and json.loads(out)["reservations"] == []
    assert "no request reservations" in run_cli(*cli, "request", "list")[1]
    assert run_cli(*cli, "request", "evaluate", str(req), "--reserve", "web")[0] == 0
    assert run_cli(*cli, "cpu", "reserve", "plain", "-n", "1")[0] == 0
    code, out, err = run_cli(*cli, "request", "list", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "RequestReservationList"
    [r] = doc["reservations"]  # the CPU reservation is cpu list's, and a note says so
    assert (r["name"], r["kind"], r["devices"], r["request"]["name"]) == ("web", "request", ["0000:00:03.0"], "svc")
    assert r["memory"] == {"0": 256 << 20} and len(r["cpus"]) == 1
    assert "1 other reservation of CPUs only" in err
    table = run_cli(*cli, "request", "list")[1]
    assert "web" in table and "svc" in table and "0000:00:03.0" in table and "256" in table
    # released: gone from the list
    assert run_cli(*cli, "request", "release", "web")[0] == 0
    assert json.loads(run_cli(*cli, "request", "list", "-o", "json")[1])["reservations"] == []
