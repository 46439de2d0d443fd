"""Class and request files: shapes, positions, safe YAML, unknown kinds/fields/classes."""

import os

import pytest

from rmctl.resources.cel import CelError
from rmctl.resources.classes import builtin_classes, load_classes
from rmctl.resources.request import check_classes, load_request
from rmctl.resources.yamlio import InputError

CLASS = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: big-gpu}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].kind == "gpu"'
  - cel: 'device.capacity["rmctl.io"].memory.compareTo(quantity("80Gi")) >= 0'
"""

REQUEST = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  topologyPolicy: single-numa-node      # none | best-effort | restricted | single-numa-node
  cpus: {count: 8, wholeCores: false}
  memory: 16Gi
  hugepages: {2Mi: 1Gi}
  devices:
  - name: gpu
    class: gpu                           # or big-gpu, or any class in --class-dir
    count: 1                             # or allocationMode: All
    selectors:
    - cel: 'device.attributes["rmctl.io"].vendor == "0x10de"'
  constraints:
  - matchAttribute: resource.kubernetes.io/numaNode
    requests: [gpu]
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_builtin_selectors_compile_on_first_use_and_all_compile():
    """Built-ins compile lazily (issue 14: class list and completion compile nothing); each one compiles."""
    from rmctl.resources.cel import Selector

    classes = builtin_classes()
    assert all(s._compiled is None for c in classes.values() for s in c.selectors)
    for c in classes.values():
        for s in c.selectors:
            assert isinstance(s.compiled, Selector) and s.compiled is s.compiled


def test_class_names_read_names_only(tmp_path):
    import subprocess
    import sys

    d = tmp_path / "classes"
    d.mkdir()
    write(d, "big.yaml", CLASS)
    write(d, "broken.yaml", "kind: [unclosed\n")
    write(d, "bad-cel.yaml", CLASS.replace("big-gpu", "bad-gpu").replace(">= 0", ">= >="))
    code = ("import sys; from rmctl.resources.classes import class_names; "
            f"print(sorted(class_names({str(d)!r}))); print('rmctl.resources.cel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == str(sorted(["accel", "bad-gpu", "big-gpu", "gpu", "nic", "nvme", "rdma"]))
    assert out[1] == "False"  # no selector compiled, not even the CEL engine imported


def test_issue_shapes_load(tmp_path):
    d = tmp_path / "classes"
    d.mkdir()
    write(d, "big.yaml", CLASS)
    classes = load_classes(str(d), strict_dir=True)
    assert set(builtin_classes()) == {"gpu", "nic", "rdma", "nvme", "accel"}
    assert "big-gpu" in classes and len(classes["big-gpu"].selectors) == 2
    assert classes["big-gpu"].selectors[1].where.endswith("big.yaml:7:5")
    req = load_request(write(tmp_path, "r.yaml", REQUEST))
    assert req.policy == "single-numa-node" and req.cpus == 8 and not req.whole_cores
    assert req.memory == 16 << 30 and req.hugepages == {2 << 20: 1 << 30}
    assert req.devices[0].choices[0].class_name == "gpu" and req.devices[0].choices[0].count == 1
    assert req.constraints[0].attribute == "resource.kubernetes.io/numaNode"
    check_classes(req, classes)


def test_python_tag_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    text = CLASS.replace("metadata: {name: big-gpu}",
                         f"metadata: {{name: !!python/object/apply:os.system ['touch {marker}']}}")
    with pytest.raises(InputError) as e:
        load_classes(os.path.dirname(write(tmp_path, "evil.yaml", text)))
    assert "evil.yaml:3:" in str(e.value)
    assert not marker.exists()


def test_syntax_error_in_class_names_file_and_position(tmp_path):
    text = CLASS.replace('>= 0\'', '>= \'')
    with pytest.raises(CelError) as e:
        load_classes(os.path.dirname(write(tmp_path, "bad.yaml", text)))
    assert "bad.yaml:7:5" in str(e.value) and "at 1:" in str(e.value)


@pytest.mark.parametrize("change,where,words", [
    (("cpus: {count: 8, wholeCores: false}", "cpus: {count: 8, wholecores: false}"), "r.yaml:6:", "unknown field"),
    (("kind: ResourceRequest", "kind: ResourceClaim"), "r.yaml:2:", "unknown kind"),
    (("topologyPolicy: single-numa-node", "topologyPolicy: strict"), "r.yaml:5:", "topologyPolicy"),
    (("memory: 16Gi", "memory: lots"), "r.yaml:7:", "bad size"),
    (("requests: [gpu]", "requests: [gpus]"), "r.yaml:17:", "no device request named"),
    (("    count: 1 ", "    count: 0 "), "r.yaml:12:", "at least 1"),
    (("spec:", "spec: ["), "r.yaml:", "r.yaml"),
])
def test_bad_requests_name_file_and_position(tmp_path, change, where, words):
    text = REQUEST.replace(*change)
    assert text != REQUEST
    with pytest.raises(InputError) as e:
        load_request(write(tmp_path, "r.yaml", text))
    assert where in str(e.value) and words in str(e.value)
    assert e.value.exit_code == 2


def test_unknown_class_names_request_and_suggests(tmp_path):
    req = load_request(write(tmp_path, "r.yaml", REQUEST.replace("class: gpu ", "class: gpuu ")))
    with pytest.raises(InputError) as e:
        check_classes(req, load_classes(None))
    assert "r.yaml:11:5" in str(e.value) and "gpuu" in str(e.value) and "gpu" in e.value.hint


def test_duplicate_class_names_across_files(tmp_path):
    write(tmp_path, "a.yaml", CLASS)
    write(tmp_path, "b.yaml", CLASS)
    with pytest.raises(InputError) as e:
        load_classes(str(tmp_path))
    assert "a.yaml" in str(e.value) and "b.yaml" in str(e.value)


def test_first_available_and_all(tmp_path):
    text = REQUEST.replace("""  - name: gpu
    class: gpu                           # or big-gpu, or any class in --class-dir
    count: 1                             # or allocationMode: All
""", """  - name: gpu
    firstAvailable:
    - {name: big, class: gpu, count: 2}
    - {name: small, class: gpu, allocationMode: All}
""").replace("""    selectors:
    - cel: 'device.attributes["rmctl.io"].vendor == "0x10de"'
""", "")
    req = load_request(write(tmp_path, "r.yaml", text))
    d = req.devices[0]
    assert d.first_available and [c.name for c in d.choices] == ["big", "small"]
    assert d.choices[0].count == 2 and d.choices[1].all
