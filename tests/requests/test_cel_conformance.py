"""Kubernetes' own CEL tests, run through rmctl's selector loader (docs/cel.md lists the differences)."""

from __future__ import annotations

import re

import pytest

from rmctl.resources.cel import CelError, compile_selector, device_activation, limits
from rmctl.resources.cel.checker import check
from rmctl.resources.cel.cost import estimate
from rmctl.resources.cel.evaluator import Program
from rmctl.resources.cel.schema import DEFAULT_SCHEMA
from rmctl.resources.cel.selector import _variables
from rmctl.resources.cel.syntax import parse
from tests.requests.cel_conformance import dra_compile, k8s_library


def _attrs(attrs: dict) -> dict:
    return {k: ({"version": v[1]} if isinstance(v, tuple) else v) for k, v in attrs.items()}


def _activation(case: dict) -> dict:
    driver = case.get("driver", "")
    return device_activation(
        driver,
        _attrs(case.get("attributes", {})),
        case.get("capacity", {}),
        allow_multiple_allocations=case.get("allow_multiple_allocations", False),
        default_domain=driver,
    )


@pytest.mark.parametrize("name", sorted(dra_compile.CASES))
def test_dra_compile_cases(name):
    case = dra_compile.CASES[name]
    expr = case["expression"]
    if "compile_error" in case:
        with pytest.raises(CelError) as e:
            compile_selector(expr, "test.yaml:1:1")
        assert case["compile_error"] in str(e.value)
        assert e.value.exit_code == 2
        return
    checked = check(parse(expr), _variables(DEFAULT_SCHEMA))
    if "cost" in case:
        assert estimate(checked)[1] == case["cost"], "estimated cost differs from DRA's compile_test.go"
    if case.get("cost", 0) > limits.MAX_COST:
        # the API server refuses what DRA's compiler estimates past the limit: rmctl refuses at load
        with pytest.raises(CelError, match="cost"):
            compile_selector(expr)
        error = None
        try:
            Program(checked).run(_activation(case), seconds=600)  # the budget, not the clock, must stop it
        except Exception as x:  # LimitExceeded
            error = str(x)
        assert error and case["match_error"] in error
        return
    sel = compile_selector(expr)
    out = sel.evaluate(_activation(case))
    if "match_error" in case:
        assert out.error and case["match_error"] in out.error, out
        assert out.value is False
    else:
        assert out.error is None, out.error
        assert out.value is case["match"]
    if "cost" in case and out.error is None:
        assert out.cost <= case["cost"], "the actual cost must stay under the estimate (compile_test.go)"


LIBRARY = [(suite, name) for suite, cases in k8s_library.SUITES.items() for name in sorted(cases)]


@pytest.mark.parametrize("suite, name", LIBRARY, ids=[f"{s}:{n}" for s, n in LIBRARY])
def test_kubernetes_library_cases(suite, name):
    case = k8s_library.SUITES[suite][name]
    act = device_activation("", {}, {})
    if "value" in case:
        sel = compile_selector(f"({case['expr']}) == {case['value']}")
        out = sel.evaluate(act)
        assert out.error is None and out.value is True, out
        return
    if "compile_error" in case:
        with pytest.raises(CelError) as e:
            compile_selector(f"({case['expr']}) == dyn(0)")
        assert re.search(case["compile_error"], e.value.details["message"])
        return
    # a runtime error: at load when its argument is a constant (rmctl), else when evaluated
    try:
        out = compile_selector(f"({case['expr']}) == dyn(0)").evaluate(act)
    except CelError as e:
        assert re.search(case["runtime_error"], e.details["message"]), e
        return
    assert out.error and re.search(case["runtime_error"], out.error), out
