"""Issue 11 findings 3 and 4: one view of what is taken, and findings that change an answer are used and shown.

3. ``request evaluate`` on a root ignored the reservations made there:
   after ``--reserve g`` took gpu-node's only GPU, a plain evaluate of
   the same file still said it fits with that GPU (``--reserve g2`` said
   it is taken).  Now every evaluation takes the reservations of the
   state dir that applies to its root (rmctl.ops.requests.held), exactly
   as ``--reserve`` does.
4. On gpu-node.tar.gz requests saw node0's 3.2 GiB free while the machine
   has 125.9 GiB (the ``node_memory_mismatch`` finding) and refused 16Gi
   without mentioning it.  Now memory is judged on the machine's, with a
   warning naming the finding, and reservations count it.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.cli.helpers import run_main
from tests.conftest import NODE_FIXTURES

GPU_NODE = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")

GPU = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  cpus: {count: 2}
  devices:
  - name: gpu
    class: gpu
"""

MEMORY = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {{name: mem}}
spec:
  cpus: {{count: 1}}
  memory: {memory}
"""


@pytest.fixture
def request_file(tmp_path):
    def write(text: str, name: str = "r.yaml") -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return write


def _evaluate(*argv):
    code, out, err = run_main(["request", "evaluate", *argv, "-o", "json"])
    return code, json.loads(out), err


def test_a_plain_evaluate_takes_what_reserve_took(tmp_path, request_file):
    req, state = request_file(GPU), str(tmp_path / "gpu-state")
    at = ["--root", GPU_NODE, "--state-dir", state]
    code, doc, err = _evaluate(req, *at)
    assert code == 0 and doc["devices"] == ["0000:00:06.0"], err
    assert run_main(["request", "evaluate", req, *at, "--reserve", "g"])[0] == 0
    # the plain evaluation now agrees with --reserve: the only GPU is taken, by g
    code, doc, _ = _evaluate(req, *at)
    assert code == 4 and not doc["fits"]
    assert any("0000:00:06.0 by g" in r for r in doc["reasons"]), doc["reasons"]
    code, out, _ = run_main(["request", "evaluate", req, *at, "--reserve", "g2", "--dry-run", "-o", "json"])
    assert code == 4 and json.loads(out)["evaluation"]["reasons"] == doc["reasons"]
    code, _, err = run_main(["request", "explain", req, *at])
    assert code == 4
    # released: it fits again
    assert run_main(["request", "release", "g", *at])[0] == 0
    assert _evaluate(req, *at)[0] == 0


def test_several_roots_each_take_their_own_state(tmp_path, request_file):
    req, state = request_file(GPU), str(tmp_path / "gpu-state")
    assert run_main(["request", "evaluate", req, "--root", GPU_NODE, "--state-dir", state, "--reserve", "g"])[0] == 0
    code, doc, err = _evaluate(req, "--root", GPU_NODE, "--root", DEV_VM, "--state-dir", state)
    gpu, dev = doc["nodes"]
    assert not gpu["fits"] and any("by g" in r for r in gpu["reasons"])
    # the state dir is gpu-node's: dev-vm is evaluated without it, and a note says so (not an error)
    assert f"{DEV_VM}: the state dir" in err and "another node's reservations" in err


def test_memory_not_attributed_to_nodes_falls_back_to_the_machine(tmp_path, request_file):
    state = str(tmp_path / "s")
    code, doc, err = _evaluate(request_file(MEMORY.format(memory="16Gi")), "--root", GPU_NODE, "--state-dir", state)
    assert code == 0 and doc["fits"], doc["reasons"]
    assert doc["warnings"] and doc["warnings"][0].startswith("node_memory_mismatch: ")
    assert "rmctl: warning: node_memory_mismatch: " in err
    mem = next(r for r in doc["resources"] if r["resource"] == "memory")
    assert "available on the machine" in mem["reason"] and mem["hints"] is None
    # more than the machine has: still refused
    code, doc, _ = _evaluate(request_file(MEMORY.format(memory="200Gi")), "--root", GPU_NODE, "--state-dir", state)
    assert code == 4


def test_machine_memory_reservations_are_counted(tmp_path, request_file):
    at = ["--root", GPU_NODE, "--state-dir", str(tmp_path / "s")]
    big = request_file(MEMORY.format(memory="120Gi"), "big.yaml")
    small = request_file(MEMORY.format(memory="16Gi"), "small.yaml")
    assert _evaluate(big, *at)[0] == 0  # 125.4 GiB available
    assert run_main(["request", "evaluate", small, *at, "--reserve", "m"])[0] == 0
    code, doc, _ = _evaluate(big, *at)  # 16Gi of it is reserved now
    assert code == 4 and any("memory" in r for r in doc["reasons"])


def test_a_node_that_says_its_memory_is_judged_per_node(tmp_path, request_file):
    from tests import synth

    root = synth.build(tmp_path / "n", sockets=2, cores=2, threads=1)
    code, doc, _ = _evaluate(request_file(MEMORY.format(memory="1Gi")), "--root", root,
                             "--state-dir", str(tmp_path / "s"))
    assert doc["warnings"] == []
    mem = next(r for r in doc["resources"] if r["resource"] == "memory")
    assert mem["reason"].startswith("free per node")
