"""request evaluate and explain say why: the failing selector and devices, the attribute a
constraint lacks, a short hint column on 8 nodes, the table of several roots at 80 columns."""

import json

from rmctl.planning import topology_manager as tm
from rmctl.planning.topology_manager import Hint
from tests.requests.helpers import FIXTURE_64, H200, request_file

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
    p = request_file(tmp_path, "  devices:\n  - {name: gpu, class: gpu}\n"
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
    p = request_file(tmp_path, "  topologyPolicy: best-effort\n  cpus: {count: 2}\n  devices:\n  - {name: gpu, class: gpu}\n")
    code, out, _ = run_cli("request", "evaluate", p, "--root", H200, "--root", FIXTURE_64, env={"COLUMNS": "80"})
    lines = out.splitlines()
    # a fleet streams (issue 14 item 2): header, one row per node as it is read, why not, then the count
    assert code == 0 and lines[0].split() == ["NODE", "FITS", "NUMA", "CPUS", "DEVICES"]
    assert lines[-1] == "request r: fits on 1 of 2 nodes"
    assert max(len(x) for x in lines) <= 80
    rows = {x.split()[0]: x for x in lines[1:3]}
    assert rows["h200-vm-capture"].split()[1] == "yes" and "0000:00:06.0" in rows["h200-vm-capture"]
    assert rows["hwloc-256ia64-64n2s2c"].split()[1] == "no"
    assert lines[3] == "why not on hwloc-256ia64-64n2s2c:" and "more than 8 NUMA" in " ".join(x.strip() for x in lines[4:])
