"""Kubernetes' CEL library tests, transcribed (the functions rmctl's selectors support).

Each case: ``expr`` and one of ``value`` (a CEL literal the result must equal), ``runtime_error``
(a regular expression, as in the Go tests) or ``compile_error`` (a regular expression).
A runtime error on a constant argument (``quantity("10Mo")``) is refused when rmctl loads the
selector: the runner accepts it there (docs/cel.md, "Deliberate differences").

Sources (kubernetes/kubernetes, staging/src/k8s.io/apiserver/pkg/cel/library/):
* ``quantity_test.go`` TestQuantity;
* ``semver_test.go`` TestSemver (version 1: the optional normalize argument).
"""

QUANTITY = {
    "parse": dict(expr='quantity("12Mi")', value='quantity("12Mi")'),
    "parseInvalidSuffix": dict(expr='quantity("10Mo")', runtime_error="quantities must match the regular expression.*"),
    "parseInvalidSuffixPassesRegex": dict(expr='quantity("10Mm")', runtime_error="unable to parse quantity's suffix"),
    "isQuantity": dict(expr='isQuantity("20")', value="true"),
    "isQuantity_megabytes": dict(expr='isQuantity("20M")', value="true"),
    "isQuantity_mebibytes": dict(expr='isQuantity("20Mi")', value="true"),
    "isQuantity_invalidSuffix": dict(expr='isQuantity("20Mo")', value="false"),
    "isQuantity_passingRegex": dict(expr='isQuantity("10Mm")', value="false"),
    "isQuantity_noOverload": dict(
        expr="isQuantity([1, 2, 3])", compile_error="found no matching overload for 'isQuantity' applied to.*"
    ),
    "equality_reflexivity": dict(expr='quantity("200M") == quantity("200M")', value="true"),
    "equality_symmetry": dict(
        expr='quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")', value="true"
    ),
    "equality_transitivity": dict(
        expr='quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") '
        '&& quantity("0.002G") == quantity("2000k")',
        value="true",
    ),
    "inequality": dict(expr='quantity("200M") == quantity("0.3G")', value="false"),
    "quantity_less": dict(expr='quantity("50M").isLessThan(quantity("50Mi"))', value="true"),
    "quantity_less_obvious": dict(expr='quantity("50M").isLessThan(quantity("100M"))', value="true"),
    "quantity_less_false": dict(expr='quantity("100M").isLessThan(quantity("50M"))', value="false"),
    "quantity_greater": dict(expr='quantity("50Mi").isGreaterThan(quantity("50M"))', value="true"),
    "quantity_greater_obvious": dict(expr='quantity("150Mi").isGreaterThan(quantity("100Mi"))', value="true"),
    "quantity_greater_false": dict(expr='quantity("50M").isGreaterThan(quantity("100M"))', value="false"),
    "compare_equal": dict(expr='quantity("200M").compareTo(quantity("0.2G"))', value="0"),
    "compare_less": dict(expr='quantity("50M").compareTo(quantity("50Mi"))', value="-1"),
    "compare_greater": dict(expr='quantity("50Mi").compareTo(quantity("50M"))', value="1"),
    "add_quantity": dict(expr='quantity("50k").add(quantity("20")) == quantity("50.02k")', value="true"),
    "add_int": dict(expr='quantity("50k").add(20).isLessThan(quantity("50020"))', value="false"),
    "sub_quantity": dict(expr='quantity("50k").sub(quantity("20")) == quantity("49.98k")', value="true"),
    "sub_int": dict(expr='quantity("50k").sub(20) == quantity("49980")', value="true"),
    "multiply": dict(expr='quantity("50k").mul(2) == quantity("100000")', value="true"),
    # the Go test compares within 0.0001
    "divide_float_result": dict(
        expr='quantity("10000").div(3).asApproximateFloat() - 3333.3333 < 0.0001 && '
        'quantity("10000").div(3).asApproximateFloat() - 3333.3333 > -0.0001',
        value="true",
    ),
    "divide_scaled": dict(expr='quantity("10k").div(2) == quantity("5000")', value="true"),
    "integer_division": dict(expr='quantity("10000").divInt(3) == quantity("3333")', value="true"),
    "arith_chain_1": dict(expr='quantity("50k").add(20).sub(quantity("100k")).asInteger()', value="-49980"),
    "arith_chain": dict(expr='quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger()', value="20"),
    "as_integer": dict(expr='quantity("50k").asInteger()', value="50000"),
    "as_integer_error": dict(
        expr='quantity("9999999999999999999999999999999999999G").asInteger()',
        runtime_error="cannot convert value to integer",
    ),
    "is_integer": dict(expr='quantity("9999999999999999999999999999999999999G").isInteger()', value="false"),
    "is_integer_2": dict(expr='quantity("50").isInteger()', value="true"),
    "as_float": dict(expr='quantity("50.703k").asApproximateFloat()', value="50703.0"),
}

SEMVER = {
    "parse": dict(expr='semver("1.2.3")', value='semver("1.2.3")'),
    "parseInvalidVersion": dict(expr='semver("v1.0")', runtime_error="No Major.Minor.Patch elements found"),
    "isSemver": dict(expr='isSemver("1.2.3-beta.1+build.1")', value="true"),
    "isSemver_empty_false": dict(expr='isSemver("")', value="false"),
    "isSemver_v_prefix_false": dict(expr='isSemver("v1.0.0")', value="false"),
    "isSemver_v_leading_whitespace_false": dict(expr='isSemver(" 1.0.0")', value="false"),
    "isSemver_v_contains_whitespace_false": dict(expr='isSemver("1. 0.0")', value="false"),
    "isSemver_v_trailing_whitespace_false": dict(expr='isSemver("1.0.0 ")', value="false"),
    "isSemver_leading_zeros_false": dict(expr='isSemver("01.01.01")', value="false"),
    "isSemver_major_only_false": dict(expr='isSemver("1")', value="false"),
    "isSemver_major_minor_only_false": dict(expr='isSemver("1.1")', value="false"),
    "isSemver_empty_normalize_false": dict(expr='isSemver("", true)', value="false"),
    "isSemver_v_leading_whitespace_normalize_false": dict(expr='isSemver(" 1.0.0", true)', value="false"),
    "isSemver_v_contains_whitespace_normalize_false": dict(expr='isSemver("1. 0.0", true)', value="false"),
    "isSemver_v_trailing_whitespace_normalize_false": dict(expr='isSemver("1.0.0 ", true)', value="false"),
    "isSemver_v_prefix_normalize_true": dict(expr='isSemver("v1.0.0", true)', value="true"),
    "isSemver_leading_zeros_normalize_true": dict(expr='isSemver("01.01.01", true)', value="true"),
    "isSemver_major_only_normalize_true": dict(expr='isSemver("1", true)', value="true"),
    "isSemver_major_minor_only_normalize_true": dict(expr='isSemver("1.1", true)', value="true"),
    "isSemver_noOverload": dict(
        expr="isSemver([1, 2, 3])", compile_error="found no matching overload for 'isSemver' applied to.*"
    ),
    "equality_normalize": dict(expr='semver("v01.01", true) == semver("1.1.0")', value="true"),
    "equality_reflexivity": dict(expr='semver("1.2.3") == semver("1.2.3")', value="true"),
    "inequality": dict(expr='semver("1.2.3") == semver("1.0.0")', value="false"),
    "semver_less": dict(expr='semver("1.0.0").isLessThan(semver("1.2.3"))', value="true"),
    "semver_less_false": dict(expr='semver("1.0.0").isLessThan(semver("1.0.0"))', value="false"),
    "semver_greater": dict(expr='semver("1.2.3").isGreaterThan(semver("1.0.0"))', value="true"),
    "semver_greater_false": dict(expr='semver("1.0.0").isGreaterThan(semver("1.0.0"))', value="false"),
    "compare_equal": dict(expr='semver("1.2.3").compareTo(semver("1.2.3"))', value="0"),
    "compare_less": dict(expr='semver("1.0.0").compareTo(semver("1.2.3"))', value="-1"),
    "compare_greater": dict(expr='semver("1.2.3").compareTo(semver("1.0.0"))', value="1"),
    "major": dict(expr='semver("1.2.3").major()', value="1"),
    "minor": dict(expr='semver("1.2.3").minor()', value="2"),
    "patch": dict(expr='semver("1.2.3").patch()', value="3"),
}

SUITES = {"quantity_test.go": QUANTITY, "semver_test.go": SEMVER}
