"""The PodResources API client against a real gRPC server on a Unix socket, and the join.

The server (tests/kubelet/server.py) is built from the same api.proto as the
client and serves the acceptance scenario's API answer; the checkpoints of
the same scenario must say the same per container.
"""

from __future__ import annotations

import os

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery import kubelet
from rmctl.discovery.kubelet import join
from rmctl.discovery.kubelet.podresources import client
from rmctl.discovery.root import Root
from tests import synth
from tests.kubelet.server import serve

pytest.importorskip("grpc", reason="the test extra installs grpcio")


@pytest.fixture
def scenario(tmp_path):
    return synth.kubelet_scenario(tmp_path / "node")


@pytest.fixture
def sock(tmp_path):
    # Unix socket paths are limited to ~107 bytes: keep it short
    d = tmp_path / "pr"
    d.mkdir()
    return str(d / "kubelet.sock")


def _from_api(view):
    out = {}
    for pod in view.pods:
        for c in pod.containers:
            if not (c.cpus or c.devices or c.memory):
                continue
            out[(pod.namespace, pod.name, c.name)] = {
                "cpus": c.cpus.to_list(),
                "devices": sorted((d.resource, tuple(sorted(d.device_ids)), d.nodes) for d in c.devices),
                "memory": sorted((m.resource, m.size, m.nodes) for m in c.memory)}
    return out


def _from_checkpoints(state):
    out = {}
    for h in state.containers():
        out[(h.namespace, h.pod, h.container)] = {
            "cpus": h.cpus.to_list(),
            "devices": sorted((d.resource, tuple(sorted(d.device_ids())), d.nodes()) for d in h.devices),
            "memory": sorted((b.resource, b.size, b.nodes) for b in h.memory)}
    return out


def test_api_gives_the_same_answers_as_the_checkpoints(scenario, sock):
    with serve(sock, scenario["api"]):
        view = client.query(sock, timeout=10)
    assert view.notes == ()
    state = join.with_api(kubelet.read(Root.open(scenario["root"])), view)
    assert dict(state.names) and {u: (n.namespace, n.name) for u, n in state.names} == scenario["names"]
    assert _from_api(view) == _from_checkpoints(state)
    assert ("default", "web-0", "app") in _from_api(view)
    assert view.allocatable.cpus == CpuSet.parse("1-7,9-15")
    assert [(d.resource, d.nodes) for d in view.allocatable.devices] == [("nvidia.com/gpu", (0,))]
    assert state.notes == ()


def test_get_one_pod(scenario, sock):
    with serve(sock, scenario["api"]):
        view = client.query(sock, timeout=10, pod=("batch", "solver"))
    assert [p.name for p in view.pods] == ["solver"] and view.notes == ()
    assert [c.cpus.to_list() for c in view.pods[0].containers] == ["4-5,12-13", "6,14"]


def test_old_kubelet_without_get_degrades_with_a_note(scenario, sock):
    with serve(sock, scenario["api"], methods=("List", "GetAllocatableResources")):
        view = client.query(sock, timeout=10, pod=("default", "web-0"))
    assert [p.name for p in view.pods] == ["web-0"]
    assert len(view.notes) == 1 and "no PodResources Get" in view.notes[0] and "UNIMPLEMENTED" in view.notes[0]


def test_get_behind_its_feature_gate_degrades_with_a_note(scenario, sock):
    with serve(sock, scenario["api"], get_error="PodResources API Get method disabled"):
        view = client.query(sock, timeout=10, pod=("default", "web-0"))
    assert [p.name for p in view.pods] == ["web-0"] and "disabled" in view.notes[0]


def test_kubelet_before_1_21_has_no_allocatable(scenario, sock):
    with serve(sock, scenario["api"], methods=("List",)):
        view = client.query(sock, timeout=10)
    assert len(view.pods) == 3 and view.allocatable is None
    assert "no allocatable resources" in view.notes[0]


def test_missing_socket_is_a_note_not_an_error(tmp_path):
    view = client.query(str(tmp_path / "nothing.sock"), timeout=1)
    assert view.pods == () and "no PodResources socket" in view.notes[0]


def test_a_plain_file_is_not_a_socket(tmp_path):
    p = tmp_path / "kubelet.sock"
    p.write_text("")
    assert "no PodResources socket" in client.query(str(p), timeout=1).notes[0]


def test_read_with_api_on_a_snapshot_says_why_there_are_no_names(scenario):
    state = kubelet.read(Root.open(scenario["root"]), api=True)
    assert state.api is None and "live node only" in state.notes[0]


def test_join_leaves_ambiguous_pods_unnamed(scenario, sock):
    api = dict(scenario["api"])
    twin = dict(api["pods"][1], name="solver-twin")
    api["pods"] = api["pods"] + [twin]
    with serve(sock, api):
        view = client.query(sock, timeout=10)
    state = join.with_api(kubelet.read(Root.open(scenario["root"])), view)
    assert state.name_of(synth.POD_SOLVER) is None
    assert state.name_of(synth.POD_WEB).name == "web-0"
    assert any("several pods" in n for n in state.notes)


def test_grpc_is_not_imported_to_read_checkpoints(scenario):
    import subprocess
    import sys

    code = ("import sys; from rmctl.discovery import kubelet; from rmctl.discovery.root import Root; "
            f"kubelet.read(Root.open({scenario['root']!r})); print('grpc' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert out.stdout.strip() == "False"


def test_show_on_the_live_node_names_pods_through_the_api(run_cli, scenario, tmp_path):
    """The live root, a kubelet root of our own with the scenario's checkpoints and a PodResources server."""
    import json
    import shutil

    kroot = tmp_path / "k"
    shutil.copytree(os.path.join(scenario["root"], "var/lib/kubelet"), kroot)
    (kroot / "pod-resources").mkdir()
    sock = str(kroot / "pod-resources" / "kubelet.sock")
    if len(sock) > 100:
        pytest.skip("temporary path too long for a Unix socket")
    # the device checkpoint sits at the fixed /var/lib/kubelet/device-plugins of this machine, which
    # has none; ours is found under the kubelet root
    with serve(sock, scenario["api"]):
        code, out, err = run_cli("--kubelet-root", str(kroot), "kubelet", "show", "-o", "json")
        code2, out2, _ = run_cli("--kubelet-root", str(kroot), "kubelet", "show", "--pod", "batch/solver", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    names = {(p["namespace"], p["name"]): p for p in doc["pods"]}
    assert set(names) == {("default", "web-0"), ("batch", "solver")}
    assert names[("default", "web-0")]["uid"] == synth.POD_WEB
    assert doc["api"]["socket"] == sock and doc["api"]["notes"] == []
    assert code2 == 0 and [p["name"] for p in json.loads(out2)["pods"]] == ["solver"]
