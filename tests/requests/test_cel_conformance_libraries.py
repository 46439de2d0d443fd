"""cel-go's and Kubernetes' CEL library tests, run through rmctl's loader and evaluator.

Each data module in ``tests/requests/cel_conformance/`` names its source file (repository,
path, version) and holds ``CASES`` (name -> case) and ``SKIPPED`` (name -> reason: what rmctl
deliberately does not support, docs/cel.md "Deliberate differences"). A case:

* ``expr``: the CEL expression; ``value`` (a CEL literal the result must equal) or, by
  default, the expression itself must evaluate to true;
* ``error``: a substring of the runtime error; ``compile_error``: a substring of the load error;
* ``vars``: name -> (type, value) for the files that declare variables (``...``: declared, not
  bound, as a Go test's environment declares variables its input may leave out); ``hints``: name ->
  the size bound cel-go's test estimator gives that variable;
* ``cost``: the estimated (min, max) and ``actual_cost`` the evaluation's cost, in cel-go's units;
* ``typed``: "any" for an expression that is not a bool (the cost tests: checked, estimated and
  run, not loaded as a selector); the costs are the expression's own, without the ``== value``;
* a module's ``SIZE_HINT(type)``: its source's test size estimator (cost_test.go bounds strings
  and bytes to 12), where DRA's knows only the device's declared bounds;
* a module's ``OPTIMIZE``: whether its source builds programs with ``cel.OptOptimize`` (constant
  literals built once, at no run-time cost), as Kubernetes' environment does; default true;
* ``load_error_ok``: the runtime ``error`` of a constant argument may come when rmctl loads the
  selector (docs/cel.md difference 2);
* ``cluster``: why the expectation is DRA's environment's rather than the source file's.

Expressions without variables go through :func:`compile_selector`, the loader of classes
and requests (DRA's ``device`` environment, type check, cost limit); the others are parsed,
checked against their declared variables, estimated and run by the same engine.
"""

from __future__ import annotations

import pytest

from rmctl.resources.cel import CelError, compile_selector, device_activation, limits
from rmctl.resources.cel.checker import check
from rmctl.resources.cel.cost import estimate
from rmctl.resources.cel.errors import CelIssue, EvalError, LimitExceeded
from rmctl.resources.cel.evaluator import Program
from rmctl.resources.cel.syntax import UInt, parse
from rmctl.resources.cel.types import (
    BOOL,
    BYTES,
    DOUBLE,
    DYN,
    INT,
    NULL,
    STRING,
    UINT,
    Type,
    list_of,
    map_of,
    optional_of,
)
from rmctl.resources.cel.values import NONE, Optional
from tests.requests.cel_conformance import (
    celgo_bindings,
    celgo_comprehensions,
    celgo_formatting,
    celgo_optionals,
    celgo_sets,
    celgo_strings,
    k8s_compat,
    k8s_cost,
    k8s_ip_cidr,
    k8s_validation,
)

MODULES = [
    celgo_strings,
    celgo_formatting,
    celgo_sets,
    celgo_bindings,
    celgo_comprehensions,
    celgo_optionals,
    k8s_validation,
    k8s_cost,
    k8s_ip_cidr,
]

# -- declared variables ---------------------------------------------------------

_PRIM = {
    "int": INT,
    "uint": UINT,
    "double": DOUBLE,
    "string": STRING,
    "bool": BOOL,
    "bytes": BYTES,
    "dyn": DYN,
    "null": NULL,
}


def parse_type(spec: str) -> Type:
    """'list(int)', 'map(string, list(int))', 'optional(int)', '{a: int, b: string}' -> Type."""
    t, rest = _type(spec.replace(" ", ""))
    assert not rest, spec
    return t


def _type(s: str) -> tuple[Type, str]:
    if s.startswith("{"):
        fields: dict[str, Type] = {}
        s = s[1:]
        while not s.startswith("}"):
            name, s = s.split(":", 1)
            fields[name], s = _type(s)
            s = s[1:] if s.startswith(",") else s
        return Type("object", "self", fields=fields), s[1:]
    for name in ("list", "map", "optional"):
        if s.startswith(name + "("):
            s = s[len(name) + 1 :]
            params = []
            while True:
                p, s = _type(s)
                params.append(p)
                if s.startswith(","):
                    s = s[1:]
                    continue
                assert s.startswith(")"), s
                s = s[1:]
                break
            if name == "list":
                return list_of(params[0]), s
            if name == "map":
                return map_of(params[0], params[1]), s
            return optional_of(params[0]), s
    n = 0
    while n < len(s) and (s[n].isalnum() or s[n] == "_"):
        n += 1
    return _PRIM[s[:n]], s[n:]


def to_value(v):
    """Python test data -> rmctl runtime value: ('uint', n), ('optional.of', v), ('optional.none',)."""
    if isinstance(v, tuple):
        if v[0] == "uint":
            return UInt(v[1])
        if v[0] == "optional.of":
            return Optional(to_value(v[1]), True)
        if v[0] == "optional.none":
            return NONE
        raise AssertionError(v)
    if isinstance(v, list):
        return [to_value(x) for x in v]
    if isinstance(v, dict):
        return {k: to_value(x) for k, x in v.items()}
    return v


# -- running one case ----------------------------------------------------------


class Loaded:
    def __init__(self, checked, est, selector=None):
        self.checked = checked
        self.est = est
        self.selector = selector


def load(expr: str, variables: dict[str, Type], require_bool: bool, size_hint=None) -> Loaded:
    """rmctl's loader: compile_selector for device selectors, else parse, check and estimate."""
    if not variables and require_bool and size_hint is None:
        sel = compile_selector(expr, "conformance:1:1")
        return Loaded(sel.checked, estimate(sel.checked), sel)
    checked = check(parse(expr), variables)
    t = checked.result_type
    if require_bool and t.kind not in ("bool", "dyn"):
        raise AssertionError(f"{expr} has type {t}, not bool")
    est = estimate(checked, size_hint)
    return Loaded(checked, est)


def message(e: Exception) -> str:
    if isinstance(e, CelError):
        return e.details.get("message", str(e)) if e.details else str(e)
    return getattr(e, "message", str(e))


def run(loaded: Loaded, values: dict, optimize: bool = True) -> tuple[object, str | None, int]:
    """Return (value, runtime error, cost)."""
    if loaded.selector is not None and optimize:
        out = loaded.selector.evaluate(device_activation("", {}, {}))
        return out.value, out.error, out.cost
    if loaded.selector is not None:
        values = device_activation("", {}, {})
    try:
        v, cost = Program(loaded.checked, optimize=optimize).run(values, limits.MAX_COST, 5.0)
    except (EvalError, LimitExceeded) as e:
        return None, message(e), 0
    return v, None, cost


def check_case(case: dict, optimize: bool = True, size_hint=None) -> None:
    decl = case.get("vars", {})
    hints = case.get("hints", {})
    variables = {n: parse_type(spec).sized(hints.get(n)) for n, (spec, _) in decl.items()}
    values = {n: to_value(v) for n, (_, v) in decl.items() if v is not ...}
    expr = case["expr"]
    require_bool = case.get("typed", "bool") == "bool" and "value" not in case
    if "compile_error" in case:
        with pytest.raises((CelError, CelIssue)) as e:
            load(expr, variables, require_bool, size_hint)
        assert case["compile_error"] in message(e.value), message(e.value)
        return
    try:
        loaded = load(expr, variables, require_bool, size_hint)
    except (CelError, CelIssue) as e:
        # a constant that cannot work is refused at load by rmctl (docs/cel.md difference 2)
        if not (case.get("load_error_ok") and "error" in case):
            raise
        assert case["error"] in message(e), message(e)
        return
    if "cost" in case:
        assert loaded.est == tuple(case["cost"]), f"estimated cost {loaded.est}, cel-go {case['cost']}"
    value, error, cost = run(loaded, values, optimize)
    if "error" in case:
        assert error is not None and case["error"] in error, (value, error)
        return
    assert error is None, error
    if "actual_cost" in case:
        assert cost == case["actual_cost"], f"actual cost {cost}, cel-go {case['actual_cost']}"
    if "value" in case:
        # the result equals the expected CEL literal, compared by CEL's own ==
        loaded = load(f"({expr}) == ({case['value']})", variables, True)
        value, error, _ = run(loaded, values, optimize)
        assert error is None, error
        assert value is True, f"{expr} != {case['value']}"
    elif require_bool:
        assert value is True, value


CASES = [(m.__name__.rsplit(".", 1)[1], name) for m in MODULES for name in m.CASES]
BY_MODULE = {m.__name__.rsplit(".", 1)[1]: m for m in MODULES}


@pytest.mark.parametrize("module, name", CASES, ids=[f"{m}:{n}" for m, n in CASES])
def test_library_case(module, name):
    m = BY_MODULE[module]
    check_case(m.CASES[name], optimize=getattr(m, "OPTIMIZE", True), size_hint=getattr(m, "SIZE_HINT", None))


def test_every_module_names_its_source_and_skips_by_name():
    for m in MODULES + [k8s_compat]:
        assert m.SOURCE["repo"] and m.SOURCE["path"] and m.SOURCE["version"], m.__name__
        for name, reason in m.SKIPPED.items():
            assert name not in getattr(m, "CASES", {}), f"{m.__name__}: {name} both run and skipped"
            assert reason.strip(), f"{m.__name__}: {name} skipped without a reason"


@pytest.mark.parametrize("name", sorted(k8s_compat.KNOWN_FUNCTIONS))
def test_kubernetes_library_function_is_declared_or_documented(name):
    """library_compatibility_test.go: every Kubernetes library function, declared or skipped by name."""
    from rmctl.resources.cel import library

    if name in k8s_compat.SKIPPED:
        assert name not in library.DECLS, f"{name} is declared: drop it from SKIPPED"
        return
    assert name in library.DECLS, f"{name} is neither declared nor skipped with a reason"
