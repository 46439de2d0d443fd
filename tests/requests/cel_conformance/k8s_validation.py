"""Kubernetes' CEL validation-rule tests for the library functions, transcribed.

Source: kubernetes/kubernetes
staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation_test.go
(``TestValidationExpressions``), the stored copy read from the code index (its "stdlib list
functions" section has the ``dyn([]).sum()`` rows). Kubernetes has no lists_test.go or
regex_test.go in apiserver/pkg/cel/library: the list, regex and optional functions are
tested here, on a custom resource ``self`` of the section's schema. The sections taken:
"maps", "stdlib list functions", "stdlib regex functions", "optionals", "quantity",
"IP and CIDR" and the "cost for extended lib calculated correctly" rows. ``valid`` rows
must evaluate to true; ``errors`` rows carry the substring of the error.

``self`` is declared as an object with the section's fields; the values are what the
structural schema converts the object to (a ``double`` list holds doubles).
The CRD environment runs with ``cel.OptOptimize`` (environment/base.go), as DRA's does: constant
list literals are built once, so ``[1,2,3,4].isSorted()`` costs 4.
"""

SOURCE = {
    "repo": "kubernetes/kubernetes",
    "path": "staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation_test.go",
    "version": "TestValidationExpressions as stored in the code index (with the dyn([]).sum() rows)",
}

OPTIMIZE = True

_LISTS_T = (
    "{ints: list(int), unsortedInts: list(int), emptyInts: list(int),"
    " doubles: list(double), unsortedDoubles: list(double), emptyDoubles: list(double),"
    " intBackedDoubles: list(double), unsortedIntBackedDDoubles: list(double), emptyIntBackedDDoubles: list(double),"
    " strings: list(string), unsortedStrings: list(string), emptyStrings: list(string),"
    " objs: list({f1: string, f2: string})}"
)
_LISTS_V = {
    "ints": [1, 2, 2, 3],
    "unsortedInts": [2, 1],
    "emptyInts": [],
    "doubles": [1.0, 2.0, 2.0, 3.0],
    "unsortedDoubles": [2.0, 1.0],
    "emptyDoubles": [],
    "intBackedDoubles": [1.0, 2.0, 2.0, 3.0],
    "unsortedIntBackedDDoubles": [2.0, 1.0],
    "emptyIntBackedDDoubles": [],
    "strings": ["a", "b", "b", "c"],
    "unsortedStrings": ["b", "a"],
    "emptyStrings": [],
    "objs": [{"f1": "a", "f2": "a"}, {"f1": "a", "f2": "b"}, {"f1": "a", "f2": "b"}, {"f1": "a", "f2": "c"}],
}
LISTS = {"self": (_LISTS_T, _LISTS_V)}

REGEX = {"self": ("{str: string}", {"str": "this is a 123 string 456"})}

OPTIONALS = {
    "self": (
        "{presentObj: {presentStr: string}, absentObj: {absentStr: string}, m: map(string, string), l: list(string)}",
        {"presentObj": {"presentStr": "value"}, "m": {"k": "v"}, "l": ["a"]},
    )
}

MAPS = {
    "self": (
        "{val1: map(string, string), val2: map(string, string)}",
        {"val1": {"k1": "a", "k2": "b"}, "val2": {"k2": "b", "k1": "a"}},
    )
}

OBJS = {"self": ("{val1: string, val2: string}", {"val1": "20", "val2": "200M"})}

SECTIONS = {
    "maps": (
        MAPS,
        [
            "self.val1 == self.val2",
            "'k1' in self.val1",
            "!('k3' in self.val1)",
            "self.val1 == {'k1': 'a', 'k2': 'b'}",
        ],
        {"{'k1': 'a', 'k2': 1, 'k2': false}": "expected type 'string' but found 'int'"},
    ),
    "stdlib list functions": (
        LISTS,
        [
            "self.ints.sum() == 8",
            "self.ints.min() == 1",
            "self.ints.max() == 3",
            "self.emptyInts.sum() == 0",
            "self.ints.isSorted()",
            "self.emptyInts.isSorted()",
            "self.unsortedInts.isSorted() == false",
            "self.ints.indexOf(2) == 1",
            "self.ints.lastIndexOf(2) == 2",
            "self.ints.indexOf(10) == -1",
            "self.ints.lastIndexOf(10) == -1",
            "self.doubles.sum() == 8.0",
            "self.doubles.min() == 1.0",
            "self.doubles.max() == 3.0",
            "self.emptyDoubles.sum() == 0.0",
            "self.doubles.isSorted()",
            "self.emptyDoubles.isSorted()",
            "self.unsortedDoubles.isSorted() == false",
            "self.doubles.indexOf(2.0) == 1",
            "self.doubles.lastIndexOf(2.0) == 2",
            "self.doubles.indexOf(10.0) == -1",
            "self.doubles.lastIndexOf(10.0) == -1",
            "self.intBackedDoubles.sum() == 8.0",
            "self.intBackedDoubles.min() == 1.0",
            "self.intBackedDoubles.max() == 3.0",
            "self.emptyIntBackedDDoubles.sum() == 0.0",
            "self.intBackedDoubles.isSorted()",
            "self.unsortedIntBackedDDoubles.isSorted() == false",
            "self.intBackedDoubles.indexOf(2.0) == 1",
            "self.intBackedDoubles.lastIndexOf(2.0) == 2",
            "self.intBackedDoubles.indexOf(10.0) == -1",
            "self.intBackedDoubles.lastIndexOf(10.0) == -1",
            "self.strings.min() == 'a'",
            "self.strings.max() == 'c'",
            "self.strings.isSorted()",
            "self.emptyStrings.isSorted()",
            "self.unsortedStrings.isSorted() == false",
            "self.strings.indexOf('b') == 1",
            "self.strings.lastIndexOf('b') == 2",
            "self.strings.indexOf('x') == -1",
            "self.strings.lastIndexOf('x') == -1",
            "[[1], [2]].indexOf([1]) == 0",
            "[{'a': 1}, {'b': 2}].lastIndexOf({'b': 2}) == 1",
            "self.objs.indexOf(self.objs[1]) == 1",
            "self.objs.lastIndexOf(self.objs[1]) == 2",
            "([0] + self.emptyInts).min() == 0",
            "dyn([]).sum() == 0",
            "dyn([1, 2]).sum() == 3",
            "dyn([1.0, 2.0]).sum() == 3.0",
            "[].sum() == 0",
        ],
        {
            "self.emptyInts.min() == 1": "min called on empty list",
            "self.emptyInts.max() == 3": "max called on empty list",
            "self.emptyDoubles.min() == 1.0": "min called on empty list",
            "self.emptyDoubles.max() == 3.0": "max called on empty list",
            "self.emptyStrings.min() == 'a'": "min called on empty list",
            "self.emptyStrings.max() == 'c'": "max called on empty list",
            "['a', 'b'].sum() == 'c'": "found no matching overload for 'sum' applied to 'list(string).()",
            "[[1], [2]].min() == [1]": "found no matching overload for 'min' applied to 'list(list(int)).()",
            "[{'a': 1}, {'b': 2}].max() == {'b': 2}": "found no matching overload for 'max' applied to "
            "'list(map(string, int)).()",
        },
    ),
    "stdlib regex functions": (
        REGEX,
        [
            "self.str.find('[0-9]+') == '123'",
            "self.str.find('[0-9]+') != '456'",
            "self.str.find('xyz') == ''",
            "self.str.findAll('[0-9]+') == ['123', '456']",
            "self.str.findAll('[0-9]+', 0) == []",
            "self.str.findAll('[0-9]+', 1) == ['123']",
            "self.str.findAll('[0-9]+', 2) == ['123', '456']",
            "self.str.findAll('[0-9]+', 3) == ['123', '456']",
            "self.str.findAll('[0-9]+', -1) == ['123', '456']",
            "self.str.findAll('xyz') == []",
            "self.str.findAll('xyz', 1) == []",
        ],
        {
            "self.str.find(')') == ''": "error parsing regexp: unexpected ): `)`",
            "self.str.findAll(')') == []": "error parsing regexp: unexpected ): `)`",
            "self.str.findAll(')', 1) == []": "error parsing regexp: unexpected ): `)`",
            "self.str.matches('x++')": "invalid matches argument",
        },
    ),
    "optionals": (
        OPTIONALS,
        [
            "self.?presentObj.?presentStr == optional.of('value')",
            "self.presentObj.?presentStr == optional.of('value')",
            "self.presentObj.?presentStr.or(optional.of('nope')) == optional.of('value')",
            "self.presentObj.?presentStr.orValue('') == 'value'",
            "self.presentObj.?presentStr.hasValue() == true",
            "self.presentObj.?presentStr.optMap(v, v == 'value').hasValue()",
            "self.?absentObj.?absentStr == optional.none()",
            "self.?absentObj.?absentStr.or(optional.of('nope')) == optional.of('nope')",
            "self.?absentObj.?absentStr.orValue('nope') == 'nope'",
            "self.?absentObj.?absentStr.hasValue() == false",
            "self.?absentObj.?absentStr.optMap(v, v == 'value').hasValue() == false",
            "self.m[?'k'] == optional.of('v')",
            "self.m[?'k'].or(optional.of('nope')) == optional.of('v')",
            "self.m[?'k'].orValue('') == 'v'",
            "self.m[?'k'].hasValue() == true",
            "self.m[?'k'].optMap(v, v == 'v').hasValue()",
            "self.m[?'x'] == optional.none()",
            "self.m[?'x'].or(optional.of('nope')) == optional.of('nope')",
            "self.m[?'x'].orValue('nope') == 'nope'",
            "self.m[?'x'].hasValue() == false",
            "self.l[?0] == optional.of('a')",
            "self.l[?1] == optional.none()",
            "self.l[?0].orValue('') == 'a'",
            "self.l[?0].hasValue() == true",
            "self.l[?0].optMap(v, v == 'a').hasValue()",
            "self.l[?1].or(optional.of('nope')) == optional.of('nope')",
            "self.l[?1].orValue('nope') == 'nope'",
            "self.l[?1].hasValue() == false",
            "optional.ofNonZeroValue(1).hasValue()",
            "optional.ofNonZeroValue(uint(1)).hasValue()",
            "optional.ofNonZeroValue(1.1).hasValue()",
            "optional.ofNonZeroValue('a').hasValue()",
            "optional.ofNonZeroValue(true).hasValue()",
            "optional.ofNonZeroValue(['a']).hasValue()",
            "optional.ofNonZeroValue({'k': 'v'}).hasValue()",
            "optional.ofNonZeroValue(null) == optional.none()",
            "optional.ofNonZeroValue(0) == optional.none()",
            "optional.ofNonZeroValue(uint(0)) == optional.none()",
            "optional.ofNonZeroValue(0.0) == optional.none()",
            "optional.ofNonZeroValue('') == optional.none()",
            "optional.ofNonZeroValue(false) == optional.none()",
            "optional.ofNonZeroValue([]) == optional.none()",
            "optional.ofNonZeroValue({}) == optional.none()",
            "{?'k': optional.none(), 'k2': 'v2'} == {'k2': 'v2'}",
            "{?'k': optional.of('v'), 'k2': 'v2'} == {'k': 'v', 'k2': 'v2'}",
            "['a', ?optional.none(), 'c'] == ['a', 'c']",
            "['a', ?optional.of('v'), 'c'] == ['a', 'v', 'c']",
        ],
        {"self.absentObj.?absentStr == optional.none()": "no such key: absentObj"},
    ),
    "quantity": (
        OBJS,
        [
            "isQuantity(self.val1)",
            "isQuantity(self.val2)",
            'isQuantity("20Mi")',
            'quantity(self.val2) == quantity("0.2G") && quantity("0.2G") == quantity("200M")',
            'quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && '
            'quantity("0.002G") == quantity("2000k")',
            'quantity(self.val1).isLessThan(quantity("100M"))',
            'quantity(self.val2).isGreaterThan(quantity("50M"))',
            'quantity(self.val2).compareTo(quantity("0.2G")) == 0',
            'quantity("50k").add(quantity(self.val1)) == quantity("50.02k")',
            'quantity("50k").sub(quantity(self.val1)) == quantity("49980")',
            "quantity(self.val1).isInteger()",
        ],
        {},
    ),
    "IP and CIDR": (
        OBJS,
        [
            'isIP("192.168.0.1")',
            'ip.isCanonical("127.0.0.1")',
            'ip("192.168.0.1").family() > 0',
            'ip("0.0.0.0").isUnspecified()',
            'ip("127.0.0.1").isLoopback()',
            'ip("224.0.0.1").isLinkLocalMulticast()',
            'ip("192.168.0.1").isGlobalUnicast()',
            'cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))',
            'cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25")',
            'cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/33"))',
            "cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()",
            "cidr('192.168.0.0/16').prefixLength() == 16",
            "cidr('::1/128').ip().family() == 6",
        ],
        {},
    ),
}

CASES: dict[str, dict] = {}
for _section, (_vars, _valid, _errors) in SECTIONS.items():
    for _e in _valid:
        CASES[f"{_section}: {_e}"] = dict(expr=_e, vars=_vars)
    for _e, _m in _errors.items():
        _bad_literal = "found no matching overload" in _m or "expected type" in _m or "regexp" in _m or "matches" in _m
        CASES[f"{_section}: {_e}"] = dict(expr=_e, vars=_vars, **{"compile_error" if _bad_literal else "error": _m})

# "cost for extended lib calculated correctly": the whole evaluation's cost (cel.OptOptimize)
for _e, _cost in {
    "[1,2,3,4].isSorted()": 4,
    "size('abc 123 def 123'.split(' ')) > 0": 5,
    "size(['aa', 'bb', 'cc', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join(' ')) > 0": 7,
}.items():
    CASES[f"cost for extended lib calculated correctly: {_e}"] = dict(expr=_e, vars=OBJS, actual_cost=_cost)

_TIME = "timestamps and durations are not in rmctl's environment (no DRA attribute has those types)"
SKIPPED = {
    "stdlib list functions: self.durations.*, self.dates.* (18 rows)": _TIME,
    "optionals: optional.ofNonZeroValue(timestamp(...)) / (duration(...)) (4 rows)": _TIME,
    'IP and CIDR: type(ip("192.168.0.1")) == net.IP': "type values are not in rmctl's environment "
    "(docs/cel.md: type() gives the name only); DRA selectors have no use for them",
    'IP and CIDR: type(cidr("2001:db8::/32").ip()) == net.IP': "type values (see above)",
    "cost for extended lib calculated correctly: url('https:://kubernetes.io/').getHostname() != 'test'": "the "
    "url library is not in rmctl's environment (docs/cel.md)",
    "maps: self.objs (objects and listMaps sections)": "CRD object/listMap semantics are not CEL library "
    "functions; DRA selectors have no objects but device",
}
