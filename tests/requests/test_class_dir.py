"""A class directory with bad files (issue 11 finding 9): validate names every error of every file,
a misspelt attribute gets a did-you-mean, and `class list` shows the good classes and names the bad files."""

from __future__ import annotations

import json

GOOD = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: virtio-rng}
spec:
  selectors:
  - cel: '"virtio" in device.attributes["rmctl.io"] && device.attributes["rmctl.io"].virtio == "rng"'
"""

#: the README promised this is refused: productName misspelt
TYPO = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: h200}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].produtName == "NVIDIA H200"'
"""

#: two errors in one file: a bad selector and an unknown field
TWO = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: two}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].kindd == "gpu"'
  - cel: 'device.attributes["rmctl.io"].vendr == "0x10de"'
"""


def _dir(tmp_path, **files):
    d = tmp_path / "classes"
    d.mkdir()
    for name, text in files.items():
        (d / f"{name}.yaml").write_text(text)
    return str(d)


def test_misspelt_attribute_is_refused_with_a_did_you_mean(run_cli, tmp_path):
    d = _dir(tmp_path, typo=TYPO)
    code, out, err = run_cli("class", "validate", f"{d}/typo.yaml")
    assert code == 2
    assert "typo.yaml:6:5" in err and "produtName" in err and "did you mean 'productName'" in err


def test_validate_reports_every_error_of_every_file(run_cli, tmp_path):
    d = _dir(tmp_path, a_typo=TYPO, b_two=TWO, c_good=GOOD)
    code, out, err = run_cli("class", "validate", "--class-dir", d, "-o", "json")
    assert code == 2
    errors = json.loads(out)["error"]["details"]["errors"]
    assert [(e["file"].rsplit("/", 1)[1], e["line"]) for e in errors] == \
        [("a_typo.yaml", 6), ("b_two.yaml", 6), ("b_two.yaml", 7)]
    assert "did you mean 'kind'" in errors[1]["hint"] and "did you mean 'vendor'" in errors[2]["hint"]


def test_one_bad_file_does_not_make_class_list_fail(run_cli, tmp_path):
    d = _dir(tmp_path, a_typo=TYPO, b_good=GOOD)
    code, out, err = run_cli("class", "list", "--class-dir", d, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    names = [c["name"] for c in doc["classes"]]
    assert "virtio-rng" in names and "gpu" in names and "h200" not in names
    [bad] = doc["invalid"]
    assert bad["file"].endswith("a_typo.yaml") and bad["line"] == 6 and bad["code"] == "cel_error"
    assert "a_typo.yaml" in err and "rmctl class validate" in err
    code, out, err = run_cli("class", "list", "--class-dir", d)
    assert code == 0 and "virtio-rng" in out and "a_typo.yaml" in err
    # a class of a good file is shown; one of the bad file is not found, and the error names the bad file
    assert run_cli("class", "show", "virtio-rng", "--class-dir", d)[0] == 0
    code, out, err = run_cli("class", "show", "h200", "--class-dir", d)
    assert code == 2 and "a_typo.yaml" in err


def test_duplicate_names_list_the_first_and_name_the_second_file(run_cli, tmp_path):
    d = _dir(tmp_path, a=GOOD, b=GOOD)
    doc = json.loads(run_cli("class", "list", "--class-dir", d, "-o", "json")[1])
    assert [c["source"] for c in doc["classes"] if c["name"] == "virtio-rng"] == [f"{d}/a.yaml"]
    assert [i["file"] for i in doc["invalid"]] == [f"{d}/b.yaml"] and "also defined" in doc["invalid"][0]["message"]


def test_requests_still_refuse_a_class_dir_with_a_bad_file(run_cli, tmp_path):
    """Evaluating on part of the classes could hand out the wrong device: a bad file stops evaluate (exit 2)."""
    d = _dir(tmp_path, a_typo=TYPO, b_good=GOOD)
    req = tmp_path / "r.yaml"
    req.write_text("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec: {cpus: 1}\n")
    code, out, err = run_cli("request", "evaluate", str(req), "--class-dir", d)
    assert code == 2 and "a_typo.yaml:6:5" in err
