"""cel-go's optional value tests, transcribed.

Source: google/cel-go cel/cel_test.go (``TestOptionalValues``, ``TestOptionalMacroError``),
the stored copy read from the code index (the version whose ``TestOptionalValues`` declares
``m``, ``l``, ``optm``, ``optl``, ``x``, ``y``, ``z`` and the ``proto2`` ``TestAllTypes``).
Kubernetes enables ``cel.OptionalTypes()`` from 1.28 (apiserver/pkg/cel/environment/base.go).

Each row: ``expr``, the input (``vars``; unbound variables are declared only) and the
expected output as a CEL literal (``value``) or error. Rows that build protobuf messages
are skipped: DRA has no message types.
"""

OPTIMIZE = False  # the file builds programs without cel.OptOptimize

SOURCE = {
    "repo": "google/cel-go",
    "path": "cel/cel_test.go",
    "version": "TestOptionalValues as stored in the code index (proto2 TestAllTypes rows)",
}

_T = {
    "m": "map(string, map(string, string))",
    "l": "list(string)",
    "optm": "optional(map(string, map(string, string)))",
    "optl": "optional(list(string))",
    "x": "optional(int)",
    "y": "optional(int)",
    "z": "int",
}
NONE = ("optional.none",)


def _in(**values) -> dict:
    return {n: (t, values.get(n, ...)) for n, t in _T.items()}


def of(v):
    return ("optional.of", v)


_C = {"c": {"dashed-index": "goodbye"}}

CASES = {
    "or_orValue": dict(expr="x.or(y).orValue(z)", vars=_in(x=NONE, y=NONE, z=42), value="42"),
    "optMap_none": dict(expr="x.optMap(y, y + 1)", vars=_in(x=NONE), value="optional.none()"),
    "optMap_value": dict(expr="x.optMap(y, y + 1)", vars=_in(x=of(42)), value="optional.of(43)"),
    "ofNonZeroValue_or": dict(expr="optional.ofNonZeroValue(z).or(optional.of(10)).value() == 42", vars=_in(z=42)),
    "has_ternary": dict(
        expr="(has(m.x) ? optional.of(m.x) : optional.none()).hasValue()", vars=_in(m={}), value="false"
    ),
    "optional_select_absent": dict(expr="m.?x.hasValue()", vars=_in(m={}), value="false"),
    "has_optional_select_absent": dict(expr="has(m.?x.y)", vars=_in(m={}), value="false"),
    "has_optional_select_present": dict(expr="has(m.?x.y)", vars=_in(m={"x": {"y": "z"}}), value="true"),
    "ofNonZeroValue_empty_or": dict(
        expr="optional.ofNonZeroValue('').or(optional.of(m.c['dashed-index'])).orValue('default value')",
        vars=_in(m=_C),
        value="'goodbye'",
    ),
    "optional_index_found": dict(
        expr="m.c[?'dashed-index'].orValue('default value')", vars=_in(m=_C), value="'goodbye'"
    ),
    "optional_index_absent": dict(
        expr="m.c[?'missing-index'].orValue('default value')", vars=_in(m={"c": {}}), value="'default value'"
    ),
    "select_on_optional_found": dict(
        expr="optm.c.index.orValue('default value')",
        vars=_in(optm=of({"c": {"index": "goodbye"}})),
        value="'goodbye'",
    ),
    "select_on_optional_absent_or_none": dict(
        expr="optm.c.missing.or(optl[0]).orValue('default value')",
        vars=_in(optm=of({"c": {}}), optl=NONE),
        value="'default value'",
    ),
    "select_on_optional_absent_or_list": dict(
        expr="optm.c.missing.or(optl[0]).orValue('default value')",
        vars=_in(optm=of({"c": {}}), optl=of(["list-value"])),
        value="'list-value'",
    ),
    "index_on_optional_found": dict(
        expr="optm.c['index'].orValue('default value')",
        vars=_in(optm=of({"c": {"index": "goodbye"}})),
        value="'goodbye'",
    ),
    "index_on_optional_absent": dict(
        expr="optm.c['missing'].orValue('default value')", vars=_in(optm=of({"c": {}})), value="'default value'"
    ),
    "has_on_optional": dict(
        expr="has(optm.c) && !has(optm.c.missing)",
        vars=_in(optm=of({"c": {"entry": "hello world"}})),
        value="true",
    ),
    "error_propagates": dict(
        expr="optional.ofNonZeroValue(m.a.z).orValue(m.c['dashed-index'])",
        vars=_in(m=_C),
        error="no such key: a",
        typed="any",
    ),
    "optional_chain_size": dict(
        expr="m.?c.missing.or(m.?c['dashed-index']).orValue('').size()", vars=_in(m=_C), value="7"
    ),
    "optional_map_entries": dict(
        expr="{?'nested_map': optional.ofNonZeroValue({?'map': m.?c})}",
        vars=_in(m=_C),
        value="{'nested_map': {'map': {'dashed-index': 'goodbye'}}}",
    ),
    "optional_map_entries_absent": dict(
        expr="{?'nested_map': optional.ofNonZeroValue({?'map': m.?c}), 'singleton': true}",
        vars=_in(m={}),
        compile_error="expected type 'map(string, map(string, string))' but found 'bool'",
        cluster="Kubernetes enables HomogeneousAggregateLiterals (environment/base.go): the map's values are a "
        "map (the optional entry's) and a bool, a compile error there",
    ),
    "optional_list_elements": dict(
        expr="[?m.?c, ?x, ?y]",
        vars=_in(m={}, x=of(42), y=NONE),
        compile_error="expected type 'map(string, string)' but found 'int'",
        cluster="Kubernetes enables HomogeneousAggregateLiterals (environment/base.go): the optional elements "
        "are map(string, string) and int, a compile error there",
    ),
    "optional_list_element_zero": dict(
        expr="[?optional.ofNonZeroValue(m.?c.orValue({}))]", vars=_in(m={"c": []}), value="[]"
    ),
    "ofNonZeroValue_empty_map": dict(
        expr="optional.ofNonZeroValue({?'nested_map': optional.ofNonZeroValue({?'map': m.?c})})",
        vars=_in(m={}),
        value="optional.none()",
    ),
    # TestOptionalMacroError
    "optMap_macro_error": dict(
        expr="x.optMap(y.z, y.z + 1)", vars=_in(), compile_error="variable name must be a simple identifier"
    ),
}

_PROTO = "protobuf messages (TestAllTypes) are not in rmctl's environment: DRA has no message types"
SKIPPED = {
    "TestAllTypes{?single_double_wrapper: optional.ofNonZeroValue(0.0)}": _PROTO,
    "optional.ofNonZeroValue(TestAllTypes{?single_double_wrapper: optional.ofNonZeroValue(0.0)})": _PROTO,
    "TestAllTypes{?map_string_string: m[?'nested']} (empty)": _PROTO,
    "TestAllTypes{?map_string_string: optional.ofNonZeroValue(m[?'nested'].orValue({}))}": _PROTO,
    "TestAllTypes{?map_string_string: m[?'nested']} (hello: world)": _PROTO,
    "TestAllTypes{repeated_string: [...], ?repeated_int32: ...}": _PROTO,
}
