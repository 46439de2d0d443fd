"""Journey (a), issue 11: capture this node, evaluate a request on the capture and on gpu-node.tar.gz, reserve,
evaluate again (it agrees with what --reserve took), release, evaluate again (the first answer); each step as a
user types it, with the installed ``rmctl`` console script.

Findings 2 and 3 on the way: a snapshot's reservations go in a state dir
of its own (``--state-dir``), and a plain ``request evaluate`` honours
them exactly as ``--reserve`` does.  Nothing on the machine changes (the
capture only reads; the state dirs are the journey's own).
"""

from __future__ import annotations

import json
import os
import tarfile

from tests.conftest import NODE_FIXTURES
from tests.journeys.console import environ, shell

GPU_NODE = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
GPU_ADDRESS = "0000:00:06.0"  # gpu-node's H200

WEB = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: web}
spec:
  cpus: {count: 1}
  memory: 64Mi
"""

TRAIN = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  cpus: {count: 2}
  devices:
  - name: gpu
    class: gpu
"""


def _json(r) -> dict:
    assert r.stdout, r.stderr
    return json.loads(r.stdout)


def test_capture_evaluate_reserve_evaluate_release(tmp_path):
    (tmp_path / "web.yaml").write_text(WEB)
    (tmp_path / "train.yaml").write_text(TRAIN)
    env = environ(GPU_NODE=GPU_NODE)

    def sh(line: str):
        return shell(f"cd {tmp_path} && {line}", env=env)

    # 1. capture the live node
    r = sh("rmctl snapshot capture live.tar.gz")
    assert r.returncode == 0, r.stderr
    assert tarfile.is_tarfile(tmp_path / "live.tar.gz")

    # 2. evaluate on the capture and on gpu-node (one command, two roots; each its own answer)
    r = sh('rmctl request evaluate web.yaml --root live.tar.gz --root "$GPU_NODE" -o json')
    assert r.returncode == 0, r.stderr
    live, gpu = _json(r)["nodes"]
    assert live["fits"] and gpu["fits"] and live["node"] == "live.tar.gz"
    first_live = sh("rmctl --root live.tar.gz request evaluate web.yaml -o json")
    assert first_live.returncode == 0 and _json(first_live)["cpus"] == live["cpus"]
    r = sh('rmctl --root "$GPU_NODE" request evaluate train.yaml -o json')
    assert r.returncode == 0, r.stderr
    first_gpu = _json(r)
    assert first_gpu["devices"] == [GPU_ADDRESS]

    # 3. reserve: a snapshot's reservations need a state dir of their own (the default one is this machine's)
    r = sh('rmctl --root "$GPU_NODE" request evaluate train.yaml --reserve g')
    assert r.returncode == 2 and "--state-dir" in r.stderr and "Traceback" not in r.stderr
    r = sh('rmctl --root "$GPU_NODE" --state-dir gpu-state request evaluate train.yaml --reserve g -o json')
    assert r.returncode == 0, r.stderr
    took = _json(r)
    assert took["reserved"] is True and took["evaluation"]["devices"] == [GPU_ADDRESS]
    r = sh("rmctl --root live.tar.gz request evaluate web.yaml --state-dir live-state --reserve w -o json")
    assert r.returncode == 0, r.stderr
    took_live = _json(r)["evaluation"]

    # 4. evaluate again: the evaluation counts the reservation, as --reserve would
    r = sh('rmctl --root "$GPU_NODE" --state-dir gpu-state request evaluate train.yaml -o json')
    assert r.returncode == 4, r.stdout + r.stderr
    again = _json(r)
    assert not again["fits"] and any(f"{GPU_ADDRESS} by g" in x for x in again["reasons"]), again["reasons"]
    r = sh('rmctl --root "$GPU_NODE" --state-dir gpu-state request evaluate train.yaml --reserve g2 --dry-run -o json')
    assert r.returncode == 4 and _json(r)["evaluation"]["reasons"] == again["reasons"]
    r = sh("rmctl --root live.tar.gz --state-dir live-state request evaluate web.yaml -o json")
    assert r.returncode in (0, 4), r.stderr
    again_live = _json(r)
    taken = set(took_live["cpus"].split(","))
    if again_live["fits"]:  # another CPU, not the one w holds
        assert not taken & set(again_live["cpus"].split(","))
    r = sh("rmctl --root live.tar.gz --state-dir live-state request evaluate web.yaml --reserve w2 --dry-run -o json")
    assert r.returncode == (0 if again_live["fits"] else 4)
    dry = _json(r)["evaluation"]
    assert (dry["fits"], dry["cpus"], dry["reasons"]) == (again_live["fits"], again_live["cpus"], again_live["reasons"])

    # 5. release, 6. evaluate again: the first answer
    assert sh('rmctl --root "$GPU_NODE" --state-dir gpu-state request release g').returncode == 0
    assert sh("rmctl --root live.tar.gz --state-dir live-state request release w").returncode == 0
    r = sh('rmctl --root "$GPU_NODE" --state-dir gpu-state request evaluate train.yaml -o json')
    assert r.returncode == 0 and _json(r)["devices"] == first_gpu["devices"], r.stderr
    r = sh("rmctl --root live.tar.gz --state-dir live-state request evaluate web.yaml -o json")
    assert r.returncode == 0 and _json(r)["cpus"] == _json(first_live)["cpus"], r.stderr
