"""--reserve: CPUs and devices in the ledger under its lock; release by request or cpu release."""

import json

from rmctl.cpuset import CpuSet
from rmctl.discovery import Root, discover
from rmctl.planning.requests import evaluate
from rmctl.resources.classes import load_classes
from rmctl.resources.request import request_from_document
from rmctl.resources.yamlio import load_documents
from rmctl.state.records import Reservation, ReservationState
from rmctl.state.requests import reserved_from_state
from tests import synth

ONE_CPU = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: one}
spec:
  topologyPolicy: best-effort
  cpus: {count: 1}
"""


def test_reserve_dry_run_release_on_this_machine(run_cli, tmp_path):
    # Live root, state dir in tmp: only the state file is written, the machine is not changed.
    p = tmp_path / "r.yaml"
    p.write_text(ONE_CPU)
    code, out, _ = run_cli("request", "evaluate", str(p), "--reserve", "job1", "--dry-run", "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["reserved"] is False and doc["plan"]["actions"][0]["kind"] == "replace-file"
    assert not (tmp_path / "state" / "state.json").exists()
    code, out, err = run_cli("request", "evaluate", str(p), "--reserve", "job1", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["reserved"] is True
    cpu = doc["evaluation"]["cpus"]
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    rec = state["reservations"]["job1"]
    assert rec["kind"] == "request" and rec["cpus"] == cpu and rec["devices"] == []
    # the same name again: conflict, nothing changed
    code, _, err = run_cli("request", "evaluate", str(p), "--reserve", "job1")
    assert code == 5 and "already exists" in err
    # a second request does not get the reserved CPU
    code, out, _ = run_cli("request", "evaluate", str(p), "-o", "json")
    if code == 0:
        assert json.loads(out)["cpus"] != cpu
    code, out, _ = run_cli("request", "release", "job1", "-o", "json")
    assert code == 0 and json.loads(out)["released"]["cpus"] == cpu
    assert "job1" not in json.loads((tmp_path / "state" / "state.json").read_text())["reservations"]
    # cpu release frees a request reservation too
    assert run_cli("request", "evaluate", str(p), "--reserve", "job2")[0] == 0
    code, _, err = run_cli("cpu", "release", "job2")
    assert code == 0, err
    assert json.loads((tmp_path / "state" / "state.json").read_text())["reservations"] == {}


def test_reserve_on_a_snapshot_writes_only_its_state_dir(run_cli, tmp_path):
    # issue #3: reservations work against a snapshot --root with a --state-dir of
    # its own (planning for a captured node); nothing is written under the root
    import hashlib
    import os

    root = synth.build(tmp_path / "n", sockets=1, cores=2, threads=1)

    def digest():
        h = hashlib.sha256()
        for d, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                h.update(os.path.join(d, f).encode() + open(os.path.join(d, f), "rb").read())
        return h.hexdigest()

    before = digest()
    p = tmp_path / "r.yaml"
    p.write_text(ONE_CPU)
    assert run_cli("--root", root, "request", "evaluate", str(p), "--reserve", "x", "--dry-run")[0] == 0
    assert not (tmp_path / "state" / "state.json").exists()
    code, _, err = run_cli("--root", root, "request", "evaluate", str(p), "--reserve", "x")
    assert code == 0, err
    assert "x" in json.loads((tmp_path / "state" / "state.json").read_text())["reservations"]
    assert digest() == before
    # a state dir inside the snapshot root is refused before anything is written
    code, _, err = run_cli("--root", root, "--state-dir", os.path.join(root, "var/lib/rmctl"),
                           "request", "evaluate", str(p), "--reserve", "y")
    assert code == 2 and "inside the snapshot root" in err
    assert not os.path.exists(os.path.join(root, "var"))


def test_existing_device_reservations_are_honoured(tmp_path):
    root = synth.build(tmp_path / "n", sockets=2, cores=3, threads=2, devices=[
        synth.Device("0000:00:01.0", numa_node=0), synth.Device("0000:00:02.0", numa_node=1)])
    node = discover(Root.open(root), devices=True)
    state = ReservationState(fingerprint="x").with_reservation(
        Reservation.new("other", cpus=CpuSet.parse("0-1,6-7"), devices=["0000:00:01.0"]))
    held = reserved_from_state(state)
    assert held.cpus == CpuSet.parse("0-1,6-7") and held.devices == {"0000:00:01.0": "other"}
    req = request_from_document(load_documents(ONE_CPU.replace("count: 1", "count: 4") + """  devices:
  - name: gpu
    class: gpu
""", "r.yaml")[0], "r.yaml")
    ev = evaluate(node, req, load_classes(None), reserved=held)
    assert ev.fits and ev.devices == {"gpu": ("0000:00:02.0",)} and ev.numa_nodes == (1,)
    assert not (ev.cpus & held.cpus)
    state = state.with_reservation(Reservation.new("more", devices=["0000:00:02.0"]))
    ev = evaluate(node, req, load_classes(None), reserved=reserved_from_state(state))
    assert not ev.fits and any("already reserved" in r for r in ev.reasons)
    m = {x.address: x.reserved_by for x in ev.matches["gpu"]}
    assert m == {"0000:00:01.0": "other", "0000:00:02.0": "more"}
