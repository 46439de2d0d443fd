"""Selectors cannot hang a node: cost, length, nesting, time and regex limits (issues 13 and 15)."""

from __future__ import annotations

import time

import pytest

from rmctl.resources.cel import CelError, compile_selector, device_activation, limits, parse_quantity

ACT = device_activation("", {"rmctl.io/kind": "gpu", "rmctl.io/productName": "aa"}, {})
TEN = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"


def nested_all(depth: int) -> str:
    """Kubernetes' "expensive" selector (dynamic-resource-allocation/cel/compile_test.go) at ``depth``."""
    e = "int('1'.find('[0-9]*')) < 100"
    for i in reversed(range(depth)):
        e = f"{TEN}.all(v{i}, {e})"
    return e


def test_depth_7_nested_all_is_refused_at_load_with_a_cost_message():
    with pytest.raises(CelError) as e:
        compile_selector(nested_all(7), "c.yaml:6:9")
    assert "c.yaml:6:9" in e.value.message
    assert "estimated worst-case cost 85555551 exceeds the limit of 1000000" in e.value.message
    assert e.value.exit_code == 2


def test_depth_5_passes_estimation_and_is_stopped_at_run_time():
    sel = compile_selector(nested_all(5))
    assert sel.max_cost == 855551 <= limits.MAX_COST
    t = time.monotonic()
    out = sel.evaluate(ACT)
    assert out.value is False and "operation cancelled" in out.error
    assert time.monotonic() - t < 5  # generous: the guard is 0.5 s


def test_the_runtime_cost_budget_stops_what_the_clock_would_not():
    # a budget of 1000 units is spent long before 0.5 s
    out = compile_selector(nested_all(3)).evaluate(ACT, cost_limit=1000, seconds=60)
    assert out.value is False and out.error == "operation cancelled: actual cost limit exceeded"


def test_find_uses_re2_not_a_backtracking_engine():
    sel = compile_selector('("' + "a" * 64 + 'b").find("(a+)+$") == ""')
    t = time.monotonic()
    assert sel.evaluate(ACT).value is True
    assert time.monotonic() - t < 1  # Python's re takes hours here
    assert compile_selector('"xaay".findAll("a+") == ["aa"]').evaluate(ACT).value is True


@pytest.mark.parametrize("terms", [10_000, 2_000])
def test_long_and_chain_is_a_clean_error_or_evaluates(terms):
    expr = " && ".join(["true"] * terms)
    if len(expr) > limits.MAX_EXPRESSION_LENGTH:
        with pytest.raises(CelError, match="the limit is 10240"):
            compile_selector(expr)
    else:  # 1,400 terms fit in 10 Ki: balanced, no recursion error
        assert compile_selector(expr).evaluate(ACT).value is True


def test_10000_term_chain_in_a_class_file_exits_2(run_cli, tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(
        "apiVersion: rmctl.io/v1alpha1\nkind: ResourceClass\nmetadata: {name: c}\nspec:\n  selectors:\n"
        "  - cel: '" + " && ".join(['device.driver == "x"'] * 10_000) + "'\n"
    )
    code, _, err = run_cli("class", "validate", str(p))
    assert code == 2 and "Traceback" not in err and "the limit is 10240" in err and f"{p}:6:" in err


def test_deep_nesting_is_a_clean_error():
    ok = "(" * 100 + "true" + ")" * 100
    assert compile_selector(ok).evaluate(ACT).value is True
    for bad in (
        "(" * 300 + "true" + ")" * 300,
        "!" * 400 + "true",
        "[" * 300 + "]" * 300 + " == []",
        "device" + ".x" * 300 + " == 1",
        "1" + " + 1" * 400 + " == 1",
    ):
        with pytest.raises(CelError, match="nesting exceeds the limit of 250"):
            compile_selector(bad)


def test_huge_quantity_exponent_parses_at_once():
    t = time.monotonic()
    assert parse_quantity("1e99999999") > parse_quantity("1e100")
    assert compile_selector('quantity("1e99999999").isGreaterThan(quantity("1"))').evaluate(ACT).value is True
    assert parse_quantity("1e-99999999") == parse_quantity("1n")  # rounded up to 1n, as apimachinery does
    assert time.monotonic() - t < 1
    with pytest.raises(ValueError):
        parse_quantity("1e99999999999")  # the exponent is an int32 in ParseQuantity


def test_string_growth_is_refused_at_load_and_bounded_at_run_time():
    grow = '"aa"' + '.replace("a", "aaaaaaaaaa")' * 9 + ' == ""'
    with pytest.raises(CelError, match="estimated worst-case cost"):
        compile_selector(grow)
    # from an attribute (size known only at run time): the budget or the size guard stops it
    dyn = 'device.attributes["rmctl.io"].productName' + '.replace("a", "aaaaaaaaaa")' * 9 + ' == ""'
    with pytest.raises(CelError, match="estimated worst-case cost"):
        compile_selector(dyn)
    sel = compile_selector('device.attributes["rmctl.io"].productName.replace("a", "aaaaaaaaaa") == ""')
    big = device_activation("", {"rmctl.io/productName": "a" * 200_000}, {})
    out = sel.evaluate(big)
    assert out.value is False and ("size limit" in out.error or "cost limit" in out.error)


def test_wall_clock_guard_stops_a_long_evaluation():
    sel = compile_selector(nested_all(4))
    out = sel.evaluate(ACT, seconds=0.001)
    assert out.value is False and "wall-clock guard" in out.error
