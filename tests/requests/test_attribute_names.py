"""Attribute names checked against what rmctl publishes, beyond the CEL checker (issue 11 finding 9).

The checker refuses ``device.attributes["rmctl.io"].produtName``; these
are the spellings it lets through: a presence test of a name rmctl does
not publish in its own domain (refused, did-you-mean), a matchAttribute
naming one (refused), and a domain one typo from rmctl's (a warning from
``class validate``: another driver may publish it).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import NODE_FIXTURES

DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")

CLASS = """\
apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {{name: c}}
spec:
  selectors:
  - cel: '{cel}'
"""

REQUEST = """\
apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {{name: r}}
spec:
  devices:
  - {{name: n, class: nic}}
  constraints:
  - matchAttribute: {attr}
"""


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("cel,col,name,mean", [
    ('"produtName" in device.attributes["rmctl.io"]', 1, "produtName", "productName"),
    ('!("numaa" in device.attributes["rmctl.io"])', 3, "numaa", "numa"),
    ('"pciBusId" in device.attributes["resource.kubernetes.io"]', 1, "pciBusId", "pciBusID"),
    ('"memry" in device.capacity["rmctl.io"]', 1, "memry", "memory"),
    ('[1].all(x, "kindd" in device.attributes["rmctl.io"])', 12, "kindd", "kind"),
])
def test_a_presence_test_of_a_name_rmctl_does_not_publish_is_refused(run_cli, tmp_path, cel, col, name, mean):
    f = _write(tmp_path, "c.yaml", CLASS.format(cel=cel))
    code, out, err = run_cli("class", "validate", f)
    assert code == 2, out
    assert f"c.yaml:6:5: CEL type error at 1:{col} of the expression: '{name}' is not" in err
    assert "the test is false on every device" in err and f"did you mean '{mean}'?" in err
    # the same rule wherever the class loads: a request naming it is refused before anything is evaluated
    req = _write(tmp_path, "r.yaml", REQUEST.format(attr="resource.kubernetes.io/pcieRoot").replace("class: nic", "class: c"))
    code, _, err = run_cli("--root", DEV_VM, "request", "evaluate", req, "--class-dir", str(tmp_path))
    assert code == 2 and f"'{name}' is not" in err


@pytest.mark.parametrize("cel", [
    '"productName" in device.attributes["rmctl.io"]',          # a published name: the usual guard
    '"x" in device.attributes["gpu.nvidia.com"]',              # another driver's domain: any name
    'device.attributes["rmctl.io"].kind == "nic"',
])
def test_presence_tests_of_published_names_and_other_domains_load(run_cli, tmp_path, cel):
    f = _write(tmp_path, "c.yaml", CLASS.format(cel=cel))
    code, out, err = run_cli("class", "validate", f, "-o", "json")
    assert code == 0, err
    assert json.loads(out)["warnings"] == [] and err == ""


def test_a_domain_one_typo_from_rmctls_is_a_warning(run_cli, tmp_path):
    f = _write(tmp_path, "c.yaml", CLASS.format(cel='device.attributes["rmctl.oi"].kind == "gpu"'))
    code, out, err = run_cli("class", "validate", f, "-o", "json")
    assert code == 0, err  # legal: another driver may publish rmctl.oi
    doc = json.loads(out)
    assert doc["valid"] is True
    want = "c.yaml:6:5: domain \"rmctl.oi\" (attributes 'kind') is not one rmctl publishes; did you mean \"rmctl.io\"?"
    assert [w for w in doc["warnings"] if want in w] and want in err and "warning" in err


@pytest.mark.parametrize("attr,ok", [
    ("rmctl.io/numaa", False), ("resource.kubernetes.io/numaNod", False),
    ("rmctl.io/numa", True), ("resource.kubernetes.io/pcieRoot", True), ("gpu.nvidia.com/anything", True),
])
def test_match_attribute_names_are_checked_in_rmctls_domains(run_cli, tmp_path, attr, ok):
    f = _write(tmp_path, "r.yaml", REQUEST.format(attr=attr))
    code, out, err = run_cli("--root", DEV_VM, "request", "evaluate", f)
    if ok:
        assert code in (0, 4), err  # loads: fits or not on this node
    else:
        assert code == 2, out
        assert "r.yaml:8:5: spec.constraints[0].matchAttribute: rmctl publishes no attribute" in err
        assert "did you mean" in err
