"""`rmctl cpu` on synthetic roots: the JSON contract, exit codes, dry-run, state file rules."""

import json
import os

import pytest

from rmctl.cpuset import CpuSet
from tests import synth


@pytest.fixture
def root(tmp_path):
    return synth.build(tmp_path / "root", sockets=2, cores=4, threads=2, numa_per_socket=1)


@pytest.fixture
def cli(run_cli, root, tmp_path):
    state = str(tmp_path / "state")

    def run(*args):
        return run_cli("--root", root, "--state-dir", state, *args)

    run.state = state
    return run


def doc(out):
    return json.loads(out)


def test_reserve_json_contract_and_list(cli):
    code, out, err = cli("cpu", "reserve", "a", "--count", "2", "-o", "json")
    assert code == 0, err
    d = doc(out)
    assert d["kind"] == "CpuReservation" and d["apiVersion"] == "rmctl.io/v1alpha1"
    # 2 CPUs on the dual socket synth tree (linux numbering: siblings i, i+8) = core 0
    assert d["reservation"]["name"] == "a" and d["reservation"]["cpus"] == "0,8"
    code, out, _ = cli("cpu", "list", "-o", "json")
    d = doc(out)
    assert [(r["name"], r["cpus"], r["owner"]) for r in d["reservations"]] == [("a", "0,8", None)]
    states = {c["id"]: c["state"] for c in d["cpus"]}
    assert states[0] == states[8] == "reserved" and states[1] == "free"
    assert {c["id"]: c["reservation"] for c in d["cpus"]}[8] == "a"


def test_dry_run_shows_same_object_and_writes_nothing(cli):
    code, out, _ = cli("cpu", "reserve", "a", "--count", "3", "--numa", "1", "--dry-run", "-o", "json")
    assert code == 0
    d = doc(out)
    assert d["dry_run"] is True and d["reservation"]["cpus"] == "4-5,12"
    assert [a["kind"] for a in d["plan"]["actions"]] == ["replace-file"]
    assert not os.path.exists(cli.state)
    code, out, _ = cli("cpu", "reserve", "a", "--count", "3", "--numa", "1", "-o", "json")
    assert doc(out)["reservation"]["cpus"] == "4-5,12"


@pytest.mark.parametrize("args,exit_code", [
    (["--count", "0"], 2), (["--count", "-1"], 2), (["--cpus", "3-1"], 2), (["--cpus", "x"], 2),
    (["--count", "1", "--option", "bogus"], 2), (["--count", "1", "--option", "full-pcpus-only=maybe"], 2),
    (["--count", "1", "--numa", "7"], 2), (["--count", "2", "--cpus", "1"], 2), ([], 2),
    (["--count", "17"], 4), (["--count", "9", "--numa", "0"], 4),
    (["--count", "3", "--option", "full-pcpus-only"], 4),
])
def test_exit_codes(cli, args, exit_code):
    code, out, err = cli("cpu", "reserve", "x", *args)
    assert code == exit_code, err
    assert "Traceback" not in err + out
    assert not os.path.exists(os.path.join(cli.state, "state.json"))


def test_unsatisfiable_names_constraint_and_closest_fit(cli):
    code, out, err = cli("cpu", "reserve", "x", "--count", "9", "--numa", "0", "-o", "json")
    assert code == 4
    e = doc(out)["error"]
    assert e["details"]["constraint"] == "numa"
    assert "--numa 0" in e["message"] and "closest fit" in e["message"]
    assert e["details"]["closest_fit"]["without"] == "numa"
    assert len(CpuSet.parse(e["details"]["closest_fit"]["cpus"])) == 9


def test_name_clash_and_cpu_clash_exit_5(cli):
    assert cli("cpu", "reserve", "a", "--cpus", "1,9")[0] == 0
    assert cli("cpu", "reserve", "a", "--count", "1")[0] == 5
    code, _, err = cli("cpu", "reserve", "b", "--cpus", "9-10")
    assert code == 5 and "held by reservation a" in err


def test_system_cpus_never_handed_out(cli):
    code, out, _ = cli("cpu", "reserve-system", "--count", "2", "-o", "json")
    assert code == 0 and doc(out)["system_cpus"] == "0,8"
    code, out, _ = cli("cpu", "reserve", "all", "--count", "14", "-o", "json")
    assert code == 0 and CpuSet.parse(doc(out)["reservation"]["cpus"]) == CpuSet.parse("1-7,9-15")
    assert cli("cpu", "reserve", "more", "--count", "1")[0] == 4
    assert cli("cpu", "reserve", "sys", "--cpus", "0")[0] == 5


def test_offline_cpus_never_handed_out(run_cli, tmp_path):
    root = synth.build(tmp_path / "r", sockets=1, cores=4, threads=1, offline=(1,))
    st = str(tmp_path / "s")
    code, out, _ = run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "a", "--count", "3", "-o", "json")
    assert code == 0 and doc(out)["reservation"]["cpus"] == "0,2-3"
    assert run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "b", "--cpus", "1")[0] == 2


def test_options_change_the_choice(cli):
    code, out, _ = cli("cpu", "reserve", "a", "--count", "2", "--option", "distribute-cpus-across-cores", "-o", "json")
    assert doc(out)["reservation"]["cpus"] == "0-1"
    assert doc(out)["reservation"]["options"] == {"distribute-cpus-across-cores": True}


def test_from_and_socket_constraints(cli):
    code, out, _ = cli("cpu", "reserve", "a", "--count", "2", "--from", "5-7,13-15", "-o", "json")
    assert doc(out)["reservation"]["cpus"] == "5,13"
    code, out, _ = cli("cpu", "reserve", "b", "--count", "1", "--socket", "1", "-o", "json")
    assert doc(out)["reservation"]["cpus"] == "4"  # core 5 is taken whole: lowest free core


def test_near_uses_device_numa_node_or_local_cpus(run_cli, tmp_path):
    root = synth.build(tmp_path / "r", sockets=2, cores=4, threads=1, devices=[
        synth.Device("0000:3b:00.0", numa_node=1),
        synth.Device("0000:af:00.0", numa_node=-1, local_cpus="2-3"),
    ])
    st = str(tmp_path / "s")
    code, out, err = run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "g", "--count", "2",
                             "--near", "0000:3b:00.0", "-o", "json")
    assert code == 0, err
    assert doc(out)["reservation"]["cpus"] == "4-5"
    code, out, _ = run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "n", "--count", "2",
                           "--near", "af:00.0", "-o", "json")
    assert doc(out)["reservation"]["cpus"] == "2-3"
    code, _, err = run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "z", "--count", "1",
                           "--near", "0000:00:09.0")
    assert code == 2 and "no PCI device" in err


def test_release_and_unknown_release(cli):
    cli("cpu", "reserve", "a", "--count", "1")
    code, out, _ = cli("cpu", "release", "a", "-o", "json")
    assert code == 0 and doc(out)["released"]["name"] == "a"
    assert cli("cpu", "release", "a")[0] == 2
    code, out, _ = cli("cpu", "list", "-o", "json")
    assert doc(out)["reservations"] == []


def test_corrupt_or_unknown_version_never_overwritten(cli):
    cli("cpu", "reserve", "a", "--count", "1")
    path = os.path.join(cli.state, "state.json")
    text = open(path).read()
    open(path, "w").write(text.replace('"0"', '"1"', 1) if '"0"' in text else text[:-20])
    bad = open(path).read()
    code, out, err = cli("cpu", "reserve", "b", "--count", "1")
    assert code == 5 and path in err and "mv " in err
    assert open(path).read() == bad
    d = json.loads(text)
    d["version"] = 99
    open(path, "w").write(json.dumps(d))
    code, _, err = cli("cpu", "list")
    assert code == 5 and "version 99" in err


def test_other_nodes_state_refused(run_cli, tmp_path):
    st = str(tmp_path / "s")
    r1 = synth.build(tmp_path / "r1", sockets=1, cores=2, threads=1)
    r2 = synth.build(tmp_path / "r2", sockets=2, cores=2, threads=1)
    assert run_cli("--root", r1, "--state-dir", st, "cpu", "reserve", "a", "--count", "1")[0] == 0
    code, _, err = run_cli("--root", r2, "--state-dir", st, "cpu", "reserve", "b", "--count", "1")
    assert code == 5 and "another node" in err


def test_state_dir_not_writable_exit_6(run_cli, root, tmp_path):
    if os.geteuid() == 0:
        # root ignores permission bits; a file in the way of the directory is the same refusal
        blocker = tmp_path / "ro"
        blocker.write_text("")
        st = str(blocker / "state")
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        st = str(ro / "state")
    code, _, err = run_cli("--root", root, "--state-dir", st, "cpu", "reserve", "a", "--count", "1")
    assert code == 6, err


def test_snapshot_root_refuses_machine_changes(cli):
    cli("cpu", "reserve", "a", "--count", "1")
    assert cli("cpu", "pin", str(os.getpid()), "--reservation", "a")[0] == 2
    assert cli("cpu", "cpuset", "a")[0] == 2
    assert cli("cpu", "run", "--reservation", "a", "--", "true")[0] == 125  # env(1)'s "rmctl itself failed"
    assert cli("cpu", "reserve", "o", "--count", "1", "--owner-pid", str(os.getpid()))[0] == 2


def test_state_file_is_checksummed_and_versioned(cli):
    import json

    from rmctl.state import ledger
    from rmctl.state.records import STATE_VERSION

    cli("cpu", "reserve", "a", "--count", "1")
    text = open(os.path.join(cli.state, "state.json")).read()
    ledger.parse(text, "state.json")  # checks version and checksum
    d = json.loads(text)
    assert d["version"] == STATE_VERSION and d["checksum"] == ledger.checksum(d)
    rec = d["reservations"]["a"]
    for key in ("cpus", "devices", "hugepages", "kind", "owner", "created"):
        assert key in rec
