"""The parts of DRA's CEL environment selectors may use (issue 13 item 3), and the checker's refusals."""

from __future__ import annotations

import os

import pytest

from rmctl.resources.cel import CelError, DeviceSchema, compile_selector, device_activation, known_attributes

ACT = device_activation(
    "nvidia",
    {
        "rmctl.io/kind": "gpu",
        "rmctl.io/numa": 1,
        "rmctl.io/productName": "NVIDIA H200",
        "rmctl.io/driverVersion": {"version": "580.159.4"},
        "example.com/names": {"stringValues": ["fish", "bird"]},
        "example.com/ratio": 1,
        "example.com/ip": "10.1.2.3",
    },
    {"rmctl.io/memory": 150754820096},
)


def ev(expr: str):
    return compile_selector(expr).evaluate(ACT)


@pytest.mark.parametrize(
    "expr",
    [
        # cel.bind (ext.Bindings, enabled by DRA's compile.go)
        'cel.bind(r, device.attributes["rmctl.io"], r.kind == "gpu" && r.numa == 1)',
        # optional syntax and orValue (DRA's "no such key" error suggests them)
        'device.attributes["rmctl.io"].?pcieWidth.orValue(16) == 16',
        'device.attributes["rmctl.io"][?"kind"].orValue("") == "gpu"',
        'device.attributes[?"nope.io"].hasValue()',  # an unknown domain is an empty map in DRA
        "optional.of(1).value() == 1 && !optional.none().hasValue()",
        "[?optional.none(), ?optional.of(2)] == [2]",
        '{?"a": optional.none(), "b": 1} == {"b": 1}',
        'device.attributes["rmctl.io"].?numa.optMap(n, n + 1).orValue(0) == 2',
        # sets (cel-go ext.Sets)
        'sets.contains(device.attributes["example.com"].names, ["bird"])',
        'sets.intersects(["a", "fish"], device.attributes["example.com"].names)',
        "sets.equivalent([1, 2], [2, 1, 1])",
        # format and strings.quote (ext.Strings)
        '"%s has %d nodes".format([device.attributes["rmctl.io"].kind, 2]) == "gpu has 2 nodes"',
        'strings.quote("a\\nb") == "\\"a\\\\nb\\""',
        '"%.2f".format([1.0 / 3.0]) == "0.33"',
        # int/double comparison (cel.CrossTypeNumericComparisons)
        'device.attributes["rmctl.io"].numa > 0.5',
        'device.attributes["example.com"].ratio < 1.5 && 1u < 2 && 2.0 >= 1',
        # two-variable comprehensions
        '{"a": 1, "b": 2}.all(k, v, v > 0 && k != "")',
        "[10, 20].exists(i, v, i == 1 && v == 20)",
        "[1, 2].transformList(i, v, v * 10) == [10, 20]",
        '{"a": 1}.transformMap(k, v, v + 1) == {"a": 2}',
        "[1, 2, 3].existsOne(i, v, v == 2)",
        # ip and cidr (Kubernetes' library)
        'ip(device.attributes["example.com"].ip).family() == 4',
        'cidr("10.0.0.0/8").containsIP(device.attributes["example.com"].ip)',
        'cidr("10.0.0.0/8").containsCIDR("10.1.0.0/16") && !isIP("10.0.0.01") && isCIDR("fd00::/8")',
        # list-valued attributes are CEL lists
        'device.attributes["example.com"].names.size() == 2',
        '"fish" in device.attributes["example.com"].names',
        # triple-quoted strings keep their newline
        '"""a\nb""".contains("\\n")',
        '"""a\nb""".size() == 3',
        # semver and quantity on rmctl's typed attributes
        'device.attributes["rmctl.io"].driverVersion.isGreaterThan(semver("580.0.0"))',
        'device.capacity["rmctl.io"].memory.isGreaterThan(quantity("140Gi"))',
        # Kubernetes' lists and regex libraries, cel-go strings
        '[3, 1, 2].max() == 3 && [1, 2].isSorted() && [1, 2].sum() == 3 && [1, 2].indexOf(2) == 1',
        'device.attributes["rmctl.io"].productName.find("H[0-9]+") == "H200"',
        'device.attributes["rmctl.io"].productName.lowerAscii().split(" ")[1] == "h200"',
        '"a,b".split(",") == ["a", "b"] && "abc".substring(1) == "bc"',
        'device.attributes["example.com"].names.join("-") == "fish-bird"',
        '"abc".charAt(1) == "b" && "a b".indexOf(" ") == 1 && "abc".indexOf("c", 9) == -1',
        # heterogeneous equality and error absorption (cel-go)
        "dyn(1) == 1u && dyn(1) == 1.0 && dyn(true) != 1",
        "(1 / 0 == 1) || true",
    ],
)
def test_environment(expr):
    out = ev(expr)
    assert out.error is None, out.error
    assert out.value is True


@pytest.mark.parametrize(
    "expr, message",
    [
        ('"fish".exists(c, c == "f")', "cannot be range of a comprehension"),
        # Kubernetes loads ext.Strings version 2: reverse() (version 3) is not declared there
        ('"abc".reverse() == "cba"', "undeclared reference to 'reverse'"),
        # cel.HomogeneousAggregateLiterals (environment/base.go)
        ('[1, "a"].size() == 2', "expected type 'int' but found 'string'"),
        # Kubernetes sizes a list's elements by its estimator only (library/cost.go): a literal's
        # strings are of unknown size to DRA, so the worst case is unbounded and the API server refuses it
        ('["a", "b"].join("-") == "a-b"', "exceeds the limit of 1000000"),
        ('["a", "b"].indexOf("b") == 1', "exceeds the limit of 1000000"),
        ("1", "must evaluate to bool or the unknown type, not int"),
        ("no_such_var", "undeclared reference to 'no_such_var'"),
        ('device.attributes["rmctl.io"].kind == 1', "found no matching overload for '_==_' applied to '(string, int)'"),
        ("'x'.matches('(')", "invalid regular expression '('"),
        ("'x'.find('x++')", "invalid regular expression 'x++'"),
        ('["a", "b"].sum() == 1', "found no matching overload for 'sum' applied to 'list(string).()'"),
        ("isQuantity([1, 2, 3])", "found no matching overload for 'isQuantity'"),
        ('device.attributes["rmctl.io"].kindd == "gpu"', "undefined attribute 'kindd' in domain \"rmctl.io\""),
        ('device.drivr == ""', "undefined field 'drivr'"),
        ('device.attributes["rmctl.io"].kind.lowerAcsii() == "gpu"', "undeclared reference to 'lowerAcsii'"),
        ('quantity("16 Gi").sign() == 1', "invalid quantity '16 Gi'"),
        ("1 == 1.0", "found no matching overload for '_==_' applied to '(int, double)'"),
    ],
)
def test_refused_at_load(expr, message):
    with pytest.raises(CelError) as e:
        compile_selector(expr, "c.yaml:3:9")
    assert message in e.value.message
    assert e.value.message.startswith("c.yaml:3:9: ")
    assert e.value.details["line"] == 1 and e.value.details["column"] >= 1


def test_a_runtime_error_names_the_problem_like_cel_go():
    assert ev('device.attributes["example.com"].nope == 1').error == "no such key: nope"
    assert (
        ev(
            'device.attributes["example.com"].names.exists(x, x.size() > 10) || '
            'device.attributes["example.com"].ratio.exists(x, true)'
        ).error
        == "got 'int', expected iterable type"
    )
    assert "division by zero" in ev('1 / (device.attributes["rmctl.io"].numa - 1) == 0').error


def test_known_attributes_and_extra_domains():
    known = known_attributes()
    assert known["rmctl.io"]["kind"] == "string" and known["rmctl.io"]["driverVersion"] == "version"
    assert known["resource.kubernetes.io"]["numaNode"] == "int"
    # the declared domains are an input: NVIDIA's driver domain typed, rmctl's left open
    nv = DeviceSchema(
        attributes={"gpu.nvidia.com": {"type": "string", "cudaComputeCapability": "version"}},
        capacity={"gpu.nvidia.com": ("memory",)},
    )
    ok = compile_selector('device.attributes["gpu.nvidia.com"].type == "gpu"', schema=nv)
    act = device_activation("gpu.nvidia.com", {"type": "gpu"}, {}, default_domain="gpu.nvidia.com")
    assert ok.evaluate(act).value is True
    with pytest.raises(CelError) as e:
        compile_selector('device.attributes["gpu.nvidia.com"].typ == "gpu"', schema=nv)
    assert "did you mean 'type'" in e.value.hint
    assert compile_selector('device.attributes["rmctl.io"].anything == 1', schema=nv).max_cost > 0


_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize(
    "fixture",
    [
        "../shared/fixtures/nodes/gpu-node.tar.gz",
        "../shared/fixtures/nodes/dev-vm.tar.gz",
        "tests/fixtures/snapshots/h200-vm-capture.tar.gz",
    ],
)
def test_declared_attributes_match_what_discovery_publishes(fixture):
    """Every attribute rmctl's discovery publishes is declared in schema.py, with its DRA type."""
    from rmctl.discovery import Root, discover
    from rmctl.model.pci import attribute_type

    node = discover(Root.open(os.path.join(_REPO, fixture)), devices=True)
    known = known_attributes()
    seen = 0
    for d in node.devices:
        for q, v in d.attributes.items():
            dom, name = q.split("/", 1)
            assert name in known.get(dom, {}), f"{q} is published but not declared in rmctl/resources/cel/schema.py"
            assert known[dom][name] == attribute_type(v), q
            seen += 1
        for q in d.capacity:
            dom, name = q.split("/", 1)
            assert name in DeviceSchema().known_capacity().get(dom, ()), q
    assert seen > 10
