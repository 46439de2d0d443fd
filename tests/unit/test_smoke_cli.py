import json


def test_topology_json_live(run_cli):
    code, out, err = run_cli("topology", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "Topology"
    assert doc["summary"]["pus_online"] >= 1


def test_missing_root_exit_3(run_cli):
    code, out, err = run_cli("--root", "/nonexistent-root", "topology")
    assert code == 3
    assert "does not exist" in err
    assert "Traceback" not in err + out
