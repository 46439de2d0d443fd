"""Kubernetes' CEL library cost tests, transcribed.

Source: kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/cel/library/cost_test.go at
008b3652959ca58af8be3fb5b6ecfe9ae7638282 (``testCost``: the estimated cost range with
Kubernetes' ``CostEstimator`` and a test size estimator that bounds strings and bytes of
unknown size to 12, and the actual cost of one evaluation; the program is built without
``cel.OptOptimize``, so every list literal costs its 10 units at run time too).

Rows on types rmctl does not have (durations, timestamps, url, authz, format.named,
jsonpatch) are skipped by name; ``TestSetsCost`` repeats cel-go's ext/sets_test.go rows,
which celgo_sets.py transcribes.
"""

SOURCE = {
    "repo": "kubernetes/kubernetes",
    "path": "staging/src/k8s.io/apiserver/pkg/cel/library/cost_test.go",
    "version": "008b3652959ca58af8be3fb5b6ecfe9ae7638282",
}

OPTIMIZE = False


def SIZE_HINT(t):  # noqa: N802 - testCostEstimator.EstimateSize: strings and bytes of unknown size are 0..12
    return (0, 12) if t.kind in ("string", "bytes") else None


INT_LIST = "[1, 2, 3, 4, 5]"
UINT_LIST = "[uint(1), uint(2), uint(3), uint(4), uint(5)]"
DOUBLE_LIST = "[1.0, 2.0, 3.0, 4.0, 5.0]"
BOOL_LIST = "[false, true, false, true, false]"
STRING_LIST = "['012345678901', '012345678901', '012345678901', '012345678901', '012345678901']"
BYTES_LIST = (
    "[bytes('012345678901'), bytes('012345678901'), bytes('012345678901'), bytes('012345678901'), "
    "bytes('012345678901')]"
)
STRING_LITERAL = "'01234567890123456789012345678901234567890123456789'"

CASES: dict[str, dict] = {}


def _add(name: str, expr: str, est: tuple[int, int], actual: int) -> None:
    CASES[name] = dict(expr=expr, typed="any", cost=est, actual_cost=actual)


# TestListsCost
for _lit, _est, _act in ((INT_LIST, (15, 15), 15), (UINT_LIST, (20, 20), 20), (DOUBLE_LIST, (15, 15), 15)):
    _add(f"TestListsCost/{_lit}.sum()", f"{_lit}.sum()", _est, _act)
for _op in (".isSorted()", ".max()", ".min()"):
    for _lit, _est, _act in (
        (INT_LIST, (15, 15), 15),
        (UINT_LIST, (20, 20), 20),
        (DOUBLE_LIST, (15, 15), 15),
        (BOOL_LIST, (15, 15), 15),
        (STRING_LIST, (15, 25), 15),
        (BYTES_LIST, (25, 35), 25),
    ):
        _add(f"TestListsCost/{_lit}{_op}", f"{_lit}{_op}", _est, _act)

# TestIndexOfCost
for _op in (".indexOf(%s)", ".lastIndexOf(%s)"):
    for _lit, _param, _est, _act in (
        (INT_LIST, "3", (15, 15), 15),
        (UINT_LIST, "uint(3)", (21, 21), 21),
        (DOUBLE_LIST, "3.0", (15, 15), 15),
        (BOOL_LIST, "true", (15, 15), 15),
        (STRING_LIST, "'x'", (15, 25), 15),
        (BYTES_LIST, "bytes('x')", (26, 36), 26),
        (STRING_LITERAL, "'123'", (5, 5), 5),
    ):
        _e = _lit + _op % _param
        _add(f"TestIndexOfCost/{_e}", _e, _est, _act)

# TestIPCost
_IPS = {"ip('192.168.0.1')": 2, "ip('2001:db8:3333:4444:5555:6666:7777:8888')": 4}
for _ip, _base in _IPS.items():
    _add(f"TestIPCost/{_ip}", _ip, (_base, _base), _base)
    for _op in (
        ".family()",
        ".isUnspecified()",
        ".isLoopback()",
        ".isLinkLocalMulticast()",
        ".isLinkLocalUnicast()",
        ".isGlobalUnicast()",
    ):
        _add(f"TestIPCost/{_ip}{_op}", _ip + _op, (_base + 1, _base + 1), _base + 1)
    _add(f"TestIPCost/{_ip} == ip('192.168.0.1')", f"{_ip} == ip('192.168.0.1')", (_base + 3, _base + 3), _base + 3)

# TestIPIsCanonicalCost
for _e, _c in {
    "ip.isCanonical('192.168.0.1')": 3,
    "ip.isCanonical('2001:db8:3333:4444:5555:6666:7777:8888')": 8,
    "ip.isCanonical('2001:db8::abcd')": 3,
}.items():
    _add(f"TestIPIsCanonicalCost/{_e}", _e, (_c, _c), _c)

# TestCIDRCost: (op, +min, +max, +runtime) on the base cost 2 of either CIDR
_COMMON = [
    ("", 0, 0, 0),
    (".ip()", 1, 1, 1),
    (".prefixLength()", 1, 1, 1),
    (".masked()", 1, 1, 1),
    (" == cidr('2001:db8::/32')", 3, 3, 3),
]
_V4 = _COMMON + [
    (".containsCIDR(cidr('192.0.0.0/30'))", 5, 9, 5),
    (".containsCIDR(cidr('192.168.0.0/16'))", 5, 9, 5),
    (".containsCIDR('192.0.0.0/30')", 5, 9, 5),
    (".containsCIDR('192.168.0.0/16')", 5, 9, 5),
    (".containsIP(ip('192.0.0.1'))", 2, 5, 2),
    (".containsIP(ip('192.169.0.1'))", 3, 6, 3),
    (".containsIP(ip('192.169.169.250'))", 3, 6, 3),
    (".containsIP('192.0.0.1')", 2, 5, 2),
    (".containsIP('192.169.0.1')", 3, 6, 3),
]
_V6 = _COMMON + [
    (".containsCIDR(cidr('2001:db8::/126'))", 5, 9, 5),
    (".containsCIDR(cidr('2001:db8::/32'))", 5, 9, 5),
    (".containsCIDR('2001:db8::/126')", 5, 9, 5),
    (".containsCIDR('2001:db8::/32')", 5, 9, 5),
    (".containsIP(ip('2001:db8:3333:4444:5555:6666:7777:8888'))", 5, 8, 5),
    (".containsIP(ip('2001:db8::1'))", 3, 6, 3),
    (".containsIP('2001:db8:3333:4444:5555:6666:7777:8888')", 5, 8, 5),
    (".containsIP('2001:db8::1')", 3, 6, 3),
]
for _cidr, _ops in (("cidr('192.168.0.0/16')", _V4), ("cidr('2001:db8::/32')", _V6)):
    for _op, _mn, _mx, _rt in _ops:
        _add(f"TestCIDRCost/{_cidr}{_op}", _cidr + _op, (2 + _mn, 2 + _mx), 2 + _rt)

# TestStringLibrary
for _n, _e, _est, _act in (
    ("lowerAscii", "'ABCDEFGHIJ abcdefghij'.lowerAscii()", (3, 3), 3),
    ("lowerAsciiEquals", "'ABCDEFGHIJ abcdefghij'.lowerAscii() == 'abcdefghij ABCDEFGHIJ'.lowerAscii()", (7, 9), 9),
    ("upperAscii", "'ABCDEFGHIJ abcdefghij'.upperAscii()", (3, 3), 3),
    ("upperAsciiEquals", "'ABCDEFGHIJ abcdefghij'.upperAscii() == 'abcdefghij ABCDEFGHIJ'.upperAscii()", (7, 9), 9),
    ("quote", "strings.quote('ABCDEFGHIJ abcdefghij')", (3, 3), 3),
    ("quoteEquals", "strings.quote('ABCDEFGHIJ abcdefghij') == strings.quote('ABCDEFGHIJ abcdefghij')", (7, 11), 9),
    ("replace", "'abc 123 def 123'.replace('123', '456')", (3, 3), 3),
    ("replace between all chars", "'abc 123 def 123'.replace('', 'x')", (3, 3), 3),
    ("replace with empty", "'abc 123 def 123'.replace('123', '')", (3, 3), 3),
    ("replace with limit", "'abc 123 def 123'.replace('123', '456', 1)", (3, 3), 3),
    ("split", "'abc 123 def 123'.split(' ')", (3, 3), 3),
    ("split with limit", "'abc 123 def 123'.split(' ', 1)", (3, 3), 3),
    ("substring", "'abc 123 def 123'.substring(5)", (2, 2), 2),
    ("substring with end", "'abc 123 def 123'.substring(5, 8)", (2, 2), 2),
    ("trim", "'  abc 123 def 123  '.trim()", (2, 2), 2),
    ("join with separator", "['aa', 'bb', 'cc', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join(' ')", (11, 23), 15),
    ("join", "['aa', 'bb', 'cc', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join()", (10, 22), 13),
    ("find", "'abc 123 def 123'.find('123')", (2, 2), 2),
    ("findAll", "'abc 123 def 123'.findAll('123')", (2, 2), 2),
    ("findAll with limit", "'abc 123 def 123'.findAll('123', 1)", (2, 2), 2),
):
    _add(f"TestStringLibrary/{_n}", _e, _est, _act)

# TestQuantityCost
for _n, _e, _est, _act in (
    ("path", 'quantity("12Mi")', (1, 1), 1),
    ("isQuantity", 'isQuantity("20")', (1, 1), 1),
    ("isQuantity_megabytes", 'isQuantity("20M")', (1, 1), 1),
    ("equality_reflexivity", 'quantity("200M") == quantity("200M")', (3, 3), 3),
    ("equality_symmetry", 'quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")', (3, 6), 6),
    (
        "equality_transitivity",
        'quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && '
        'quantity("0.002G") == quantity("2000k")',
        (3, 9),
        9,
    ),
    ("quantity_less", 'quantity("50M").isLessThan(quantity("50Mi"))', (3, 3), 3),
    ("quantity_greater", 'quantity("50Mi").isGreaterThan(quantity("50M"))', (3, 3), 3),
    ("compare_equal", 'quantity("200M").compareTo(quantity("0.2G")) > 0', (4, 4), 4),
    ("add_quantity", 'quantity("50k").add(quantity("20")) == quantity("50.02k")', (5, 5), 5),
    ("sub_quantity", 'quantity("50k").sub(quantity("20")) == quantity("49.98k")', (5, 5), 5),
    ("sub_int", 'quantity("50k").sub(20) == quantity("49980")', (4, 4), 4),
    ("arith_chain_1", 'quantity("50k").add(20).sub(quantity("100k")).asInteger() > 0', (6, 6), 6),
    ("arith_chain", 'quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger() > 0', (7, 7), 7),
    ("as_integer", 'quantity("50k").asInteger() > 0', (3, 3), 3),
    ("is_integer", 'quantity("50").isInteger()', (2, 2), 2),
    ("as_float", 'quantity("50.703k").asApproximateFloat() > 0.0', (3, 3), 3),
):
    _add(f"TestQuantityCost/{_n}", _e, _est, _act)

# TestSemverCost
for _n, _e, _est, _act in (
    ("semver", 'semver("1.0.0")', (1, 1), 1),
    ("semver long input", 'semver("1234.56789012345.67890123456789")', (4, 4), 4),
    ("isSemver", 'isSemver("1.0.0")', (1, 1), 1),
    ("isSemver long input", 'isSemver("1234.56789012345.67890123456789")', (4, 4), 4),
    ("major", 'semver("1.2.3").major()', (2, 2), 2),
    ("minor", 'semver("1.2.3").minor()', (2, 2), 2),
    ("patch", 'semver("1.2.3").patch()', (2, 2), 2),
    ("isLessThan", 'semver("1.0.0").isLessThan(semver("1.1.0"))', (3, 3), 3),
    ("isGreaterThan", 'semver("1.1.0").isGreaterThan(semver("1.0.0"))', (3, 3), 3),
    ("compareTo", 'semver("1.0.0").compareTo(semver("1.2.3"))', (3, 3), 3),
):
    _add(f"TestSemverCost/{_n}", _e, _est, _act)

# TestTwoVariableComprehensionCost
for _n, _e, _est, _act in (
    ("map all", "{'a': 1, 'b': 2}.all(k, v, v > 0)", (37, 41), 41),
    ("map exists", "{'a': 1, 'b': 2}.exists(k, v, v > 0)", (39, 43), 40),
    ("map existsOne", "{'a': 1, 'b': 2}.existsOne(k, v, v > 0)", (38, 40), 40),
    ("map transformMap", "{'a': 1, 'b': 2}.transformMap(k, v, v + 1)", (71, 71), 71),
    ("map transformMap with filter", "{'a': 1, 'b': 2}.transformMap(k, v, v < 5, v + 1)", (67, 75), 75),
    ("map transformMapEntry", "{'a': 1, 'b': 2}.transformMapEntry(k, v, {k: v + 1})", (131, 131), 131),
    (
        "map transformMapEntry with filter",
        "{'a': 1, 'b': 2}.transformMapEntry(k, v, v < 5, {k: v + 1})",
        (67, 135),
        135,
    ),
    ("list all", "[1, 2].all(i, v, v > 0)", (17, 21), 21),
    ("list exists", "[1, 2].exists(i, v, v > 0)", (19, 23), 20),
    ("list existsOne", "[1, 2].existsOne(i, v, v > 0)", (18, 20), 20),
    ("list transformList", "[1, 2].transformList(i, v, v + 1)", (49, 49), 49),
    ("list transformList with filter", "[1, 2].transformList(i, v, v < 5, v + 1)", (27, 53), 53),
):
    _add(f"TestTwoVariableComprehensionCost/{_n}", _e, _est, _act)

_TIME = "durations and timestamps are not in rmctl's environment (no DRA attribute has those types)"
SKIPPED = {
    "TestListsCost/durationListLiteral (sum, isSorted, max, min)": _TIME,
    "TestListsCost/timestampListLiteral (isSorted, max, min)": _TIME,
    "TestIndexOfCost/durationListLiteral, timestampListLiteral": _TIME,
    "TestURLsCost": "the url library is not in rmctl's environment (docs/cel.md)",
    "TestStringLibrary/jsonpatch.escapeKey": "the jsonpatch library is not in DRA's selectors (MutatingAdmissionPolicy only)",
    "TestAuthzLibrary": "the authz library is not in DRA's selectors (authorizer is not a selector variable)",
    "TestNameFormatCost": "Kubernetes' format.named library is not in rmctl's environment (docs/cel.md)",
    "TestSetsCost": "the same rows as cel-go ext/sets_test.go, transcribed in celgo_sets.py",
    "TestSize": "calls the Go estimator with synthetic AST nodes of given sizes; the replace() size "
    "rules it checks are exercised through celgo_strings.py and the rows above",
    "TestTypeEquality": "checks the Go estimator handles every Kubernetes type; rmctl's _==_ on "
    "quantity, semver, ip and cidr costs 1 (rows above)",
}
