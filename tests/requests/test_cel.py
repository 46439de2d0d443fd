"""CEL selectors: DRA variables, Kubernetes quantities, errors per device; parity with the
Kubernetes CEL environment DRA uses, on the H200 capture."""

import pytest

from rmctl.resources.cel import CelError, Quantity, compile_selector, device_activation, parse_quantity
from tests.requests.helpers import H200

GPU = device_activation(
    "nvidia",
    {"rmctl.io/kind": "gpu", "rmctl.io/vendor": "0x10de", "resource.kubernetes.io/numaNode": 1,
     "rmctl.io/driverVersion": {"version": "580.159.4"}},
    # NVIDIA H200 as NVML reported it (gpu-node.nvml.json): 150754820096 bytes
    {"rmctl.io/memory": 150754820096},
)


def ev(expr, act=GPU):
    return compile_selector(expr, "t.yaml:1:1").evaluate(act)


@pytest.mark.parametrize("expr,expected", [
    ('quantity("1Gi") == quantity("1024Mi")', True),
    ('quantity("1G") == quantity("1Gi")', False),
    ('quantity("1Gi").isGreaterThan(quantity("1G"))', True),
    ('quantity("1G").isLessThan(quantity("1Gi"))', True),
    ('quantity("1G").compareTo(quantity("1000M")) == 0', True),
    ('quantity("1Gi").compareTo(quantity("1G")) == 1', True),
    ('quantity("1G").asInteger() == 1000000000', True),
    ('quantity("1Gi").asInteger() == 1073741824', True),
    ('quantity("1.5Gi").asInteger() == 1610612736', True),
    ('quantity("1Gi").add(quantity("1G")).asInteger() == 2073741824', True),
    ('quantity("1Gi").sub(1).asInteger() == 1073741823', True),
    ('quantity("500m").asApproximateFloat() == 0.5', True),
    ('quantity("1e3").asInteger() == 1000', True),
    ('isQuantity("16Gi") && !isQuantity("16 Gi")', True),
    # 150754820096 B is 140.4 GiB: at least 100Gi and 150G, less than 141Gi and 200Gi
    ('device.capacity["rmctl.io"].memory.compareTo(quantity("100Gi")) >= 0', True),
    ('device.capacity["rmctl.io"].memory.compareTo(quantity("150G")) >= 0', True),
    ('device.capacity["rmctl.io"].memory.isLessThan(quantity("141Gi"))', True),
    ('device.capacity["rmctl.io"].memory.compareTo(quantity("200Gi")) >= 0', False),
    ('device.attributes["rmctl.io"].kind == "gpu" && device.driver == "nvidia"', True),
    ('device.attributes["resource.kubernetes.io"].numaNode == 1', True),
    ('device.attributes["rmctl.io"].driverVersion.isGreaterThan(semver("580.0.0"))', True),
    ('semver("1.0.0-rc.1").isLessThan(semver("1.0.0"))', True),
    ('"kind" in device.attributes["rmctl.io"]', True),
    ('"memory" in device.capacity["other.io"]', False),
])
def test_expressions(expr, expected):
    o = ev(expr)
    assert o.error is None, o.error
    assert o.value is expected


def test_quantity_exact_binary_vs_decimal():
    assert parse_quantity("16Gi") == 16 * 2**30
    assert parse_quantity("16G") == 16 * 10**9
    assert Quantity("16Gi") != Quantity("16G")
    assert parse_quantity("100m") * 10 == 1
    with pytest.raises(ValueError):
        parse_quantity("16GB")


def test_syntax_error_names_position():
    with pytest.raises(CelError) as e:
        compile_selector('device.driver == "x" &&', "classes/a.yaml:7:9")
    msg = str(e.value)
    assert "classes/a.yaml:7:9" in msg
    assert "1:" in msg and e.value.details["line"] == 1 and e.value.details["column"] >= 20
    assert e.value.exit_code == 2


def test_multiline_syntax_error_line():
    with pytest.raises(CelError) as e:
        compile_selector('device.driver == "x" &&\n  (device.driver ==', "f.yaml:1:1")
    assert e.value.details["line"] == 2


def test_missing_attribute_is_reported_not_raised():
    # a domain rmctl does not declare: any name type-checks, a missing one fails at run time
    o = ev('device.capacity["other.io"].memroy.compareTo(quantity("1Gi")) > 0')
    assert o.value is False
    assert o.error == "no such key: memroy"
    o = ev('device.attributes["nope.io"].x == 1')
    assert o.value is False and o.error == "no such key: x"


def test_undeclared_name_in_rmctl_domain_is_refused_at_load_with_did_you_mean():
    with pytest.raises(CelError) as e:
        compile_selector('device.capacity["rmctl.io"].memroy.compareTo(quantity("1Gi")) > 0', "t.yaml:3:9")
    assert "t.yaml:3:9" in e.value.message and "undefined capacity 'memroy'" in e.value.message
    assert "did you mean 'memory'" in e.value.hint


def test_error_short_circuits_like_cel():
    assert ev('false && device.attributes["nope.io"].x == 1').value is False
    assert ev('device.attributes["nope.io"].x == 1 || true').value is True
    # commutative, as in cel-go: the error is absorbed whichever side it is on
    assert ev('device.attributes["nope.io"].x == 1 && false').value is False


def test_non_bool_result_is_an_error():
    with pytest.raises(CelError, match="must evaluate to bool or the unknown type, not string"):
        compile_selector('device.driver')
    # a dyn value (a domain rmctl does not declare) is checked when it is evaluated
    o = ev('device.attributes["nope.io"].x')
    assert o.value is False and o.error == "no such key: x"
    o = ev('device.attributes["rmctl.io"].kind == "gpu" ? dyn(1) : dyn(true)')
    assert o.value is False and "CEL result of type int could not be converted to bool" in o.error


def test_references_for_typo_hints():
    s = compile_selector('device.attributes["rmctl.io"].kind == "gpu" && device.capacity["rmctl.io"]["memory"].isGreaterThan(quantity("1"))')
    assert s.references() == [("attributes", "rmctl.io", "kind"), ("capacity", "rmctl.io", "memory")]


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
    # (join() needs a list whose elements' size the cluster can bound: not a literal, docs/cel.md)
    '" x ".trim() == "x" && [1, 2, 3].sum() == 6',
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
