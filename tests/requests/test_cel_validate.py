"""`rmctl class validate` refuses bad selectors at load, every one of them, with positions (issue 13)."""

from __future__ import annotations

import json

CLASS = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {{name: {name}}}
spec:
  selectors:
{selectors}"""


def write(tmp_path, name: str, *cels: str):
    p = tmp_path / f"{name}.yaml"
    p.write_text(CLASS.format(name=name, selectors="".join(f"  - cel: {c}\n" for c in cels)))
    return str(p)


def test_validate_refuses_the_issue_examples_with_positions(run_cli, tmp_path):
    a = write(tmp_path, "a", "'1'", "'no_such_var'", """'device.attributes["rmctl.io"].kind == 1'""")
    b = write(tmp_path, "b", '''"'x'.matches('(')"''')
    code, out, err = run_cli("class", "validate", a, b)
    assert code == 2 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(
        f"rmctl: error: {a}:6:5: CEL type error at 1:1 of the expression: "
        "must evaluate to bool or the unknown type, not int"
    )
    assert "(and 3 more errors)" in first
    assert f"{a}:7:5: CEL type error at 1:1 of the expression: undeclared reference to 'no_such_var'" in err
    assert f"{a}:8:5: CEL type error at 1:36 of the expression: found no matching overload for '_==_'" in err
    assert f"{b}:6:5: CEL type error at 1:13 of the expression: invalid regular expression '('" in err


def test_validate_error_document_lists_every_error(run_cli, tmp_path):
    a = write(tmp_path, "a", "'1'", """'device.attributes["rmctl.io"].kindd == "gpu"'""")
    code, out, err = run_cli("class", "validate", a, "-o", "json")
    assert code == 2
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["error"]["code"] == "cel_error"
    errors = doc["error"]["details"]["errors"]
    assert [(e["line"], e["column"], e["expression"]["column"]) for e in errors] == [(6, 5, 1), (7, 5, 30)]
    assert "did you mean 'kind'" in errors[1]["hint"]


def test_valid_classes_still_validate(run_cli, tmp_path):
    a = write(
        tmp_path,
        "a",
        """'device.attributes["rmctl.io"].kind == "gpu"'""",
        """'cel.bind(r, device.attributes["rmctl.io"], r.?numa.orValue(0) >= 0)'""",
    )
    code, out, err = run_cli("class", "validate", a)
    assert code == 0, err
    assert "class a: ok (2 selectors)" in out
