"""Round-3 review of issue 6: NUMA cap, deduplicated merge, CEL parity, explain naming the failing selector."""

import json
import os
import random

import pytest

from rmctl.planning import topology_manager as tm
from rmctl.planning.topology_manager import Hint, HintMerger, mask_of
from rmctl.resources.cel import CelError, compile_selector, device_activation
from tests import synth
from tests.conftest import REPO, SYSFS_FIXTURES

H200 = os.path.join(REPO, "tests", "fixtures", "snapshots", "h200-vm-capture.tar.gz")
FIXTURE_64 = os.path.join(SYSFS_FIXTURES, "hwloc-256ia64-64n2s2c.tar.bz2")


def _req(tmp_path, body, name="r.yaml"):
    p = tmp_path / name
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec:\n" + body)
    return str(p)


# -- Topology Manager: max-allowable-numa-nodes and the merge cost -----------------------

def test_too_many_numa_nodes_follows_the_kubelet():
    assert tm.too_many_numa_nodes("none", list(range(64))) is None
    assert tm.too_many_numa_nodes("best-effort", list(range(8))) is None
    msg = tm.too_many_numa_nodes("restricted", list(range(9)))
    assert "more than 8 NUMA nodes" in msg and "this node has 9" in msg
    assert tm.too_many_numa_nodes("restricted", list(range(9)), limit=10) is None


def test_64_node_fixture_is_refused_without_enumerating_hints(run_cli, tmp_path, monkeypatch):
    calls = []
    real = tm.capacity_hints
    monkeypatch.setattr(tm, "capacity_hints", lambda *a, **k: calls.append(1) or real(*a, **k))
    path = _req(tmp_path, "  topologyPolicy: best-effort\n  cpus: {count: 4}\n  memory: 1Gi\n")
    code, out, err = run_cli("--root", FIXTURE_64, "request", "evaluate", path, "-o", "json")
    assert code == 4, err
    doc = json.loads(out)
    assert doc["fits"] is False and "more than 8 NUMA nodes" in doc["reasons"][0] and "has 64" in doc["reasons"][0]
    assert calls == []  # refused before any 2^64 enumeration
    # policy none is never refused: it fits and computes no hints at all
    path = _req(tmp_path, "  topologyPolicy: none\n  cpus: {count: 4}\n  memory: 1Gi\n", "n.yaml")
    code, out, err = run_cli("--root", FIXTURE_64, "request", "evaluate", path, "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["fits"] is True and doc["cpus"] == "0-3", err
    assert calls == [] and any("NUMA hints not computed" in n for n in doc["notes"])
    assert all(r["hints"] is None for r in doc["resources"])
    # the long per-node list is summarised
    mem = next(r for r in doc["resources"] if r["resource"] == "memory")
    assert "on each of 64 nodes" in mem["reason"]


def test_max_allowable_numa_nodes_option_range(run_cli, tmp_path):
    path = _req(tmp_path, "  cpus: {count: 1}\n")
    code, _, err = run_cli("request", "evaluate", path, "--max-allowable-numa-nodes", "13")
    assert code == 2 and "max-allowable-numa-nodes" in err
    code, _, err = run_cli("request", "evaluate", path, "--max-allowable-numa-nodes", "7")
    assert code == 2


def test_raised_limit_evaluates_a_12_node_machine(tmp_path):
    from rmctl.discovery import discover
    from rmctl.discovery.root import Root
    from rmctl.planning.requests import evaluate
    from rmctl.resources.classes import builtin_classes
    from rmctl.resources.request import load_request

    root = synth.build(tmp_path, sockets=12, cores=2, threads=2, devices=[
        synth.Device(f"0000:00:{i + 1:02x}.0", numa_node=i, driver="nvidia") for i in range(12)])
    path = _req(tmp_path, "  topologyPolicy: best-effort\n  cpus: {count: 6}\n"
                "  devices:\n  - {name: gpu, class: gpu, count: 2}\n")
    node = discover(Root.open(root), devices=True)
    req = load_request(path)
    refused = evaluate(node, req, builtin_classes())
    assert not refused.fits and "more than 8 NUMA nodes" in refused.reasons[0]
    ev = evaluate(node, req, builtin_classes(), max_numa_nodes=12)
    assert ev.fits and ev.numa_nodes == [0, 1] and ev.admission.hint == Hint(mask_of([0, 1]), True)


def test_merge_counts_distinct_states_not_permutations():
    nodes = list(range(8))
    every = [Hint(m, bin(m).count("1") == 1) for m in tm.iterate_masks(nodes)]  # 255 hints
    merger = HintMerger(nodes, [every, every, every, every], "best-effort")
    best = merger.merge()
    assert best == Hint(1, True)
    # 255^4 = 4.2e9 permutations; the distinct partial merges are bounded by 2 * 2^8 + 1 per provider
    assert merger.states <= 4 * (2 * 256 + 1) + 1


@pytest.mark.parametrize("seed", range(40))
def test_deduplicated_merge_equals_the_kubelets_exhaustive_walk(seed):
    rnd = random.Random(seed)
    nodes = list(range(rnd.choice([2, 3, 4])))
    masks = list(tm.iterate_masks(nodes))
    lists = []
    for _ in range(rnd.randint(1, 4)):
        lists.append([Hint(None if rnd.random() < 0.1 else rnd.choice(masks), rnd.random() < 0.5)
                      for _ in range(rnd.randint(0, 4))])
    for policy in ("best-effort", "restricted"):
        dist = {a: {b: (10 if a == b else 20 + rnd.randint(0, 3)) for b in nodes} for a in nodes}
        for closest in (False, True):
            m = HintMerger(nodes, lists, policy, dist, closest)
            assert m.merge() == m.merge_exhaustive(), (lists, policy, closest)


# -- CEL parity with the Kubernetes environment DRA uses -----------------------------------

def _h200_gpu():
    from rmctl.discovery import discover
    from rmctl.discovery.root import Root
    from rmctl.planning.requests import device_views

    node = discover(Root.open(H200), devices=True)
    return next(v for v in device_views(node) if v.kind == "gpu")


@pytest.fixture(scope="module")
def gpu():
    return _h200_gpu().activation()


@pytest.mark.parametrize("expr", [
    'device.attributes["rmctl.io"].computeCapability.isGreaterThan(semver("8.0.0"))',
    'device.attributes["rmctl.io"].computeCapability.compareTo(semver("9.0.0")) == 0',
    'device.attributes["rmctl.io"].driverVersion.isGreaterThan(semver("550.0.0"))',
    'device.attributes["rmctl.io"].driverVersion.major() == 580',
    'device.attributes["rmctl.io"].driverVersion.isLessThan(semver("v580.159.10", true))',
    'semver("9.0", true) == device.attributes["rmctl.io"].computeCapability',
    'device.attributes["resource.kubernetes.io"].pciBusID == "0000:00:06.0"',
    'device.attributes["resource.kubernetes.io"].pciBusID.startsWith("0000:00:")',
    'device.attributes["rmctl.io"].productName.lowerAscii() == "nvidia h200"',
    'device.attributes["rmctl.io"].productName.upperAscii().endsWith("H200")',
    'device.attributes["rmctl.io"].productName.split(" ")[1] == "H200"',
    'device.attributes["rmctl.io"].productName.substring(7) == "H200"',
    'device.attributes["rmctl.io"].productName.indexOf("H") == 7',
    'device.attributes["rmctl.io"].productName.replace("NVIDIA ", "") == "H200"',
    'device.attributes["rmctl.io"].productName.find("H[0-9]+") == "H200"',
    '" x ".trim() == "x" && ["a", "b"].join("-") == "a-b" && [1, 2, 3].sum() == 6',
    'device.attributes["rmctl.io"].vendor in ["0x10de", "0x1002"]',
    '"memory" in device.capacity["rmctl.io"] && has(device.capacity["rmctl.io"].memory)',
    '!has(device.attributes["rmctl.io"].numa)',
    'device.capacity["rmctl.io"].memory.compareTo(quantity("140Gi")) >= 0',
    'device.capacity["rmctl.io"].memory.isLessThan(quantity("141Gi"))',
    'device.capacity["rmctl.io"].memory.asInteger() == 150754820096',
    'quantity("1G").isLessThan(quantity("1Gi")) && quantity("1e3") == quantity("1k")',
    'quantity("1500m").compareTo(quantity("1.5")) == 0 && !quantity("100m").isInteger()',
])
def test_kubernetes_cel_expressions_on_the_h200(gpu, expr):
    o = compile_selector(expr).evaluate(gpu)
    assert o.error is None and o.value is True, o.error


def test_unknown_function_is_a_compile_error_with_position():
    with pytest.raises(CelError) as e:
        compile_selector('device.attributes["rmctl.io"].productName.lowerAcsii() == "x"', "c.yaml:7:9")
    assert "c.yaml:7:9" in e.value.message and "at 1:43 of the expression" in e.value.message
    assert "undeclared reference to 'lowerAcsii'" in e.value.message
    assert "lowerAscii" in e.value.hint


@pytest.mark.parametrize("expr, bad", [
    ('device.capacity["rmctl.io"].memory.compareTo(quantity("16GB")) >= 0', '"16GB"'),
    ('device.attributes["rmctl.io"].driverVersion.isGreaterThan(semver("550"))', '"550"'),
])
def test_constant_bad_quantity_or_semver_is_refused_at_load(expr, bad):
    with pytest.raises(CelError) as e:
        compile_selector(expr, "c.yaml:1:1")
    assert f"at 1:{expr.index(bad) + 1} " in e.value.message  # 1-based column of the literal


def test_runtime_errors_are_one_readable_line():
    act = device_activation("", {"rmctl.io/kind": "gpu"}, {})
    # versions have no '<' in CEL: refused at load, with the method to use
    with pytest.raises(CelError) as e:
        compile_selector('semver("1.2.3") < semver("1.3.0")')
    assert "found no matching overload for '_<_' applied to '(kubernetes.Semver, kubernetes.Semver)'" in str(e.value)
    assert "isLessThan" in e.value.hint
    o = compile_selector('device.attributes["rmctl.io"].kind.charAt(99) == "x"').evaluate(act)
    assert o.value is False and "index out of range" in o.error and "activation" not in o.error


# -- explain and evaluate say which selector fails -------------------------------------

BIG = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: big-gpu}
spec:
  selectors:
  - cel: '"kind" in device.attributes["rmctl.io"] && device.attributes["rmctl.io"].kind == "gpu"'
  - cel: 'device.capacity["rmctl.io"].memory.compareTo(quantity("200Gi")) >= 0'
---
"""


def test_evaluate_names_the_failing_selector_on_the_h200_capture(run_cli, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(BIG + "apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec:\n"
                 "  devices:\n  - {name: gpu, class: big-gpu}\n")
    code, out, _ = run_cli("--root", H200, "request", "evaluate", str(p), "-o", "json")
    doc = json.loads(out)
    assert code == 4
    why = next(r for r in doc["reasons"] if r.startswith("device/gpu"))
    assert "S2 (class big-gpu)" in why and 'quantity("200Gi")' in why and "0000:00:06.0" in why
    code, out, _ = run_cli("--root", H200, "request", "explain", str(p), env={"COLUMNS": "80"})
    assert code == 4
    lines = out.splitlines()
    assert max(len(x) for x in lines) <= 80
    row = next(x for x in lines if x.startswith("0000:00:06.0"))
    assert row.split()[1:] == ["no", "true", "false"]
    # S2 runs only where S1 is true (DRA stops at the first selector that is not true),
    # so the devices without memory never raise "no such key"
    others = [x for x in lines if x.startswith("0000:") and not x.startswith("0000:00:06.0")]
    assert others and all(x.split()[1:] == ["no", "false", "-"] for x in others)
    assert not any("error on" in x for x in lines)


def test_constraint_failure_names_the_device_without_the_attribute(run_cli, tmp_path):
    p = _req(tmp_path, "  devices:\n  - {name: gpu, class: gpu}\n"
             "  constraints:\n  - {matchAttribute: resource.kubernetes.io/numaNode}\n")
    code, out, _ = run_cli("--root", H200, "request", "explain", p, "-o", "json")
    doc = json.loads(out)
    assert code == 4
    assert any("0000:00:06.0 has no such attribute" in r for r in doc["reasons"])
    assert any("not a typo" in h and "numaNode" in h for h in doc["typo_hints"])


def test_hint_column_is_short_on_8_nodes():
    from rmctl.render.requests import hint_text

    hints = [Hint(m, bin(m).count("1") == 1) for m in tm.iterate_masks(list(range(8)))]
    text = hint_text(hints)
    assert text.startswith("*{0} *{1} *{2} *{3}") and text.endswith("+251 more")


def test_multi_root_table_short_names_and_reasons_below(run_cli, tmp_path):
    p = _req(tmp_path, "  topologyPolicy: best-effort\n  cpus: {count: 2}\n  devices:\n  - {name: gpu, class: gpu}\n")
    code, out, _ = run_cli("request", "evaluate", p, "--root", H200, "--root", FIXTURE_64, env={"COLUMNS": "80"})
    lines = out.splitlines()
    assert code == 0 and lines[0] == "request r: fits on 1 of 2 node(s)"
    assert max(len(x) for x in lines) <= 80
    assert lines[2].split()[:2] == ["h200-vm-capture", "yes"] and "0000:00:06.0" in lines[2]
    assert lines[3].split()[:2] == ["hwloc-256ia64-64n2s2c", "no"]
    assert lines[4] == "why not on hwloc-256ia64-64n2s2c:" and "more than 8 NUMA" in " ".join(x.strip() for x in lines[5:])
