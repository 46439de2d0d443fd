"""What ``request evaluate`` of rmctl's request (one class, one node) imports: issue 14's budget of 120 ms.

Each run is a fresh interpreter and what ``sys.modules`` gained is the
evidence (as tests/test_imports.py), so the answer is the same on every
run, unlike a wall time.  The request and root are the benchmark's
(benchmarks/bench_request_evaluate.py: the class big-gpu, two CEL
selectors, on gpu-node.tar.gz unpacked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile

import pytest

from tests.conftest import NODE_FIXTURES

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with open(os.path.join(REPO, "benchmarks", "big-gpu-request.yaml"), encoding="utf-8") as _f:
    REQUEST = _f.read()  # the benchmark's (benchmarks/bench_request_evaluate.py)

PROBE = r"""
import json, sys
before = set(sys.modules)  # the interpreter's own (the probe runs without site: run_probe)
sys.argv = ["rmctl"] + json.loads(sys.argv[1])
from rmctl.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
sys.stdout.flush()
sys.stderr.write("\nIMPORTED " + json.dumps({"code": code, "before": sorted(before),
                                               "modules": sorted(set(sys.modules) - before)}) + "\n")
"""

#: what an rmctl ResourceRequest under the kubelet's default policies never needs
LAZY = (
    "rmctl.resources.kube",  # Kubernetes manifests and the kubelet's policies (flags, --kubelet-config)
    "ipaddress",  # CEL's ip() and cidr() only
    "dataclasses",  # and inspect (ast, dis, tokenize) with it: the path's types are rmctl.model.value's
    "inspect",
    "typing",  # annotations only, under TYPE_CHECKING
    # Go's JSON decoder: each checkpoint reader imports it only for a checkpoint that exists
    "rmctl.discovery.kubelet.gotypes",
)


@pytest.fixture(scope="module")
def gpu_node(tmp_path_factory):
    d = tmp_path_factory.mktemp("gpu-node")
    with tarfile.open(os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")) as tf:
        try:
            tf.extractall(d, filter="data")
        except TypeError:  # Python < 3.10.12 has no filter (as conftest.fixture_root)
            tf.extractall(d)
    return str(d / "gpu-node")


@pytest.fixture(scope="module")
def gpu_node_with_kubelet_dir(gpu_node, tmp_path_factory):
    """gpu-node with an empty /var/lib/kubelet: every checkpoint's directory is there, no checkpoint is."""
    import shutil

    d = tmp_path_factory.mktemp("gpu-node-var") / "gpu-node"
    shutil.copytree(gpu_node, d, symlinks=True)
    (d / "var" / "lib" / "kubelet").mkdir(parents=True)
    return str(d)


def run_probe(argv: list[str]) -> dict:
    """Run rmctl with ``argv`` in a fresh interpreter; return its exit code, stdout and what it imported.

    -S: no site, so no .pth file runs: an editable install's path hook (pip install -e, as .ci/run does)
    imports pathlib, ipaddress... before the probe's first line, which would hide them from ``modules``
    (as tests/test_imports.py).  rmctl comes from the checkout, PyYAML and the rest from the
    environment's site-packages, named on PYTHONPATH instead."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("RMCTL_", "_RMCTL"))}
    libs = dict.fromkeys([REPO, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    e["PYTHONPATH"] = os.pathsep.join(libs)
    p = subprocess.run([sys.executable, "-S", "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                       cwd=REPO, env=e, timeout=60)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("IMPORTED ")]
    assert lines, p.stderr[-2000:]
    return {**json.loads(lines[-1][len("IMPORTED "):]), "stdout": p.stdout}


@pytest.mark.parametrize("root", ["gpu_node", "gpu_node_with_kubelet_dir"])
@pytest.mark.parametrize("verb", ["evaluate", "explain"])
def test_one_class_one_node_imports_no_lazy_module(request, tmp_path, verb, root):
    """The snapshot as captured (no var/), and with the kubelet's directory but no checkpoint in it (a
    node whose resource managers are all off): the missing checkpoints load no decoder either way."""
    req = tmp_path / "req.yaml"
    req.write_text(REQUEST)
    r = run_probe(["--root", request.getfixturevalue(root), "request", verb, str(req), "-o", "json"])
    assert r["code"] == 4, r["stdout"]  # the snapshot's GPU has no memory capacity: evaluated, does not fit
    assert json.loads(r["stdout"])["request"] == "train"
    preloaded = [m for m in r["before"] if m.startswith(LAZY)]
    assert not preloaded, f"{preloaded} were imported before the probe ran: it cannot see whether rmctl imports them"
    bad = [m for m in r["modules"] if m.startswith(LAZY)]
    assert not bad, f"request {verb} imported {bad}: import them where they are needed (issue 14)"


def test_kubelet_flags_still_load_the_policies(gpu_node, tmp_path):
    """The lazy path is only for the defaults: a kubelet flag reads the policies (and changes the answer)."""
    req = tmp_path / "req.yaml"
    req.write_text(REQUEST)
    r = run_probe(["--root", gpu_node, "request", "evaluate", str(req), "--max-allowable-numa-nodes", "9",
                   "-o", "json"])
    assert r["code"] == 4
    assert "rmctl.resources.kube.kubelet" in r["modules"]


def test_evaluate_defaults_are_the_kubelets():
    """ops.requests passes no policy to evaluate() for the kubelet's defaults: the two must agree."""
    import inspect

    from rmctl.planning.requests import evaluate
    from rmctl.resources.kube.kubelet import KubeletPolicies

    params = inspect.signature(evaluate).parameters
    pol = KubeletPolicies()
    assert params["max_numa_nodes"].default == pol.max_numa_nodes
    assert params["prefer_closest"].default is pol.prefer_closest_numa
    assert not pol.sources and pol.topology_policy == "none"  # nothing laid over the request's own policy


def test_yaml_non_printable_seed_matches_the_same_characters():
    """rmctl.resources.yamlio puts its NON_PRINTABLE in re's cache under PyYAML's pattern: every code point
    must be matched by both or by neither (the seed changes the cost of the compile, not the reader)."""
    import re

    from rmctl.resources import yamlio

    try:
        from re import _compiler as sre_compile  # Python 3.11+
    except ImportError:  # pragma: no cover  # 3.10
        import sre_compile  # type: ignore[no-redef]
    theirs = sre_compile.compile(yamlio.YAML_NON_PRINTABLE, 0)  # not through re's cache: PyYAML's own class
    ours = re.compile(yamlio.NON_PRINTABLE)
    every = "".join(map(chr, range(0x110000)))
    assert [m.start() for m in theirs.finditer(every)] == [m.start() for m in ours.finditer(every)]


SEED_PROBE = r"""
import rmctl.resources.yamlio as y
import yaml
print(yaml.reader.Reader.NON_PRINTABLE.pattern == y.NON_PRINTABLE)
"""


def test_yaml_reader_gets_the_seeded_pattern():
    """The seed works on this Python and PyYAML: yaml.reader's NON_PRINTABLE is the cheap compile (57M
    instructions less, issue 14).  A PyYAML that changes its pattern fails here: update YAML_NON_PRINTABLE."""
    p = subprocess.run([sys.executable, "-c", SEED_PROBE], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert p.stdout.split() == ["True"], p.stderr


def test_kubelet_read_without_checkpoints_is_the_empty_state(tmp_path):
    """No var/, or the kubelet's directory without a checkpoint: the same empty state (every manager off)."""
    from rmctl.discovery import kubelet
    from rmctl.discovery.root import Root

    bare, with_dir = tmp_path / "bare", tmp_path / "with-kubelet-dir"
    for d in (bare, with_dir):
        (d / "sys" / "devices" / "system" / "cpu").mkdir(parents=True)  # what Root.open asks of a root
    (with_dir / "var" / "lib" / "kubelet" / "device-plugins").mkdir(parents=True)
    with Root.open(str(bare)) as r:
        a = kubelet.read(r)
    with Root.open(str(with_dir)) as r:
        b = kubelet.read(r)
    assert a == b and not a.present()
