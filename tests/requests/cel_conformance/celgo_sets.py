"""cel-go's sets extension tests, transcribed.

Source: google/cel-go ext/sets_test.go at 2e4306bcbba3075a0858977d2dd1bf4faf62c53e
(``TestSets``: every expression must evaluate to true; ``estimatedCost`` and ``actualCost``
in cel-go's units; ``x`` a declared ``list(int)``, ``hints`` its size bound).

The file's environment is ``cel.NewEnv(Sets())``. Kubernetes' base environment adds
``cel.HomogeneousAggregateLiterals()`` and ``cel.ValidateHomogeneousAggregateLiterals()``
(apiserver/pkg/cel/environment/base.go), so a list literal mixing ``1``, ``1u`` and ``1.0``
is refused when a DRA selector is created ("expected type 'int' but found 'double'"); those
rows carry the cluster's compile error and say so in ``cluster``.
"""

OPTIMIZE = False  # the file builds programs without cel.OptOptimize

SOURCE = {"repo": "google/cel-go", "path": "ext/sets_test.go", "version": "2e4306bcbba3075a0858977d2dd1bf4faf62c53e"}

MAXU = (1 << 64) - 1

_MIXED = (
    "Kubernetes enables HomogeneousAggregateLiterals (environment/base.go): a list literal mixing "
    "numeric types is a compile error there"
)


def _ok(cost: int) -> dict:
    return {"cost": (cost, cost), "actual_cost": cost}


def _mixed(expected: str, found: str) -> dict:
    return {"compile_error": f"expected type '{expected}' but found '{found}'", "cluster": _MIXED}


_ROWS = [
    # set containment
    ("sets.contains([], [])", _ok(21)),
    ("sets.contains([1], [])", _ok(21)),
    ("sets.contains([1], [1])", _ok(22)),
    ("sets.contains([1], [1, 1])", _ok(23)),
    ("sets.contains([1, 1], [1])", _ok(23)),
    ("sets.contains([2, 1], [1])", _ok(23)),
    ("sets.contains([1, 2, 3, 4], [2, 3])", _ok(29)),
    ("sets.contains([1], [1.0, 1])", _mixed("double", "int")),
    ("sets.contains([1, 2], [2u, 2.0])", _mixed("uint", "double")),
    ("sets.contains([1, 2u], [2, 2.0])", _mixed("int", "uint")),
    ("sets.contains([1, 2.0, 3u], [1.0, 2u, 3])", _mixed("int", "double")),
    ("sets.contains([[1], [2, 3]], [[2, 3.0]])", _mixed("int", "double")),
    ("!sets.contains([1], [2])", _ok(23)),
    ("!sets.contains([1], [1, 2])", _ok(24)),
    ('!sets.contains([1], ["1", 1])', _mixed("string", "int")),
    ("!sets.contains([1], [1.1, 1u])", _mixed("double", "uint")),
    # set equivalence
    ("sets.equivalent([], [])", _ok(21)),
    ("sets.equivalent([1], [1])", _ok(23)),
    ("sets.equivalent([1], [1, 1])", _ok(25)),
    ("sets.equivalent([1, 1], [1])", _ok(25)),
    ("sets.equivalent([1], [1u, 1.0])", _mixed("uint", "double")),
    ("sets.equivalent([1, 2, 3], [3u, 2.0, 1])", _mixed("uint", "double")),
    ("sets.equivalent([[1.0], [2, 3]], [[1], [2, 3.0]])", _mixed("list(double)", "list(int)")),
    ("!sets.equivalent([2, 1], [1])", _ok(26)),
    ("!sets.equivalent([1], [1, 2])", _ok(26)),
    ("!sets.equivalent([1, 2], [2u, 2, 2.0])", _mixed("uint", "int")),
    ("!sets.equivalent([1, 2], [1u, 2, 2.3])", _mixed("uint", "int")),
    # set intersection
    ("sets.intersects([1], [1])", _ok(22)),
    ("sets.intersects([1], [1, 1])", _ok(23)),
    ("sets.intersects([1, 1], [1])", _ok(23)),
    ("sets.intersects([2, 1], [1])", _ok(23)),
    ("sets.intersects([1], [1, 2])", _ok(23)),
    ("sets.intersects([1], [1.0, 2])", _mixed("double", "int")),
    ("sets.intersects([1, 2], [2u, 2, 2.0])", _mixed("uint", "int")),
    ("sets.intersects([1, 2], [1u, 2, 2.3])", _mixed("uint", "int")),
    ("sets.intersects([[1], [2, 3]], [[1, 2], [2, 3.0]])", _mixed("list(int)", "list(dyn)")),
    ("!sets.intersects([], [])", _ok(22)),
    ("!sets.intersects([1], [])", _ok(22)),
    ("!sets.intersects([1], [2])", _ok(23)),
    ('!sets.intersects([1], ["1", 2])', _mixed("string", "int")),
    ("!sets.intersects([1], [1.1, 2u])", _mixed("double", "uint")),
]

CASES = {expr: dict(expr=expr, **extra) for expr, extra in _ROWS}
CASES["sets.contains(x, [1, 2, 3])"] = dict(
    expr="sets.contains(x, [1, 2, 3])",
    vars={"x": ("list(int)", [5, 4, 3, 2, 1])},
    hints={"x": 10},
    cost=(12, 42),
    actual_cost=27,
)
CASES["sets.contains(x, [1, 1, 1, 1, 1])"] = dict(
    expr="sets.contains(x, [1, 1, 1, 1, 1])",
    vars={"x": ("list(int)", [5, 4, 3, 2, 1])},
    cost=(12, MAXU),
    actual_cost=37,
)

SKIPPED: dict[str, str] = {}
