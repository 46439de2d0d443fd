"""cel-go's two-variable comprehension tests, transcribed.

Source: google/cel-go ext/comprehensions_test.go at 40037713e3da89c9450faadbb105b340b2afae31
(``TestTwoVarComprehensions``: each expression must evaluate to true;
``TestTwoVarComprehensionsStaticErrors``; ``TestTwoVarComprehensionsRuntimeErrors``).
Kubernetes enables ``ext.TwoVarComprehensions()`` from 1.32 (environment/base.go).

The file's environment also loads ``ext.Lists()`` and the newest ``ext.Strings()``;
Kubernetes loads neither ext.Lists nor Strings version 3, so the rows that call
``flatten``, ``sort`` or ``reverse`` are undeclared references there (``cluster``).
The Go source indents the expressions with tabs; they are written here with spaces
(whitespace, insignificant to CEL).
"""

OPTIMIZE = False  # the file builds programs without cel.OptOptimize

SOURCE = {
    "repo": "google/cel-go",
    "path": "ext/comprehensions_test.go",
    "version": "40037713e3da89c9450faadbb105b340b2afae31",
}

_LISTS = "ext.Lists (flatten, sort) is not in Kubernetes' environment (environment/base.go): undeclared there"
_REVERSE = "Kubernetes loads ext.Strings version 2 (environment/base.go): reverse() is version 3, undeclared there"
_MIXED = "Kubernetes enables HomogeneousAggregateLiterals: [0, 0u] is a compile error there"
_SPLIT_COST = (
    "split() of each element of a split() result: the cluster cannot bound the elements' size (Kubernetes' "
    "library/cost.go; DRA's estimator knows the device's fields only) and refuses the selector for its cost"
)

CASES = {
    # list.all()
    "list.all/index_and_value": dict(expr="[1, 2, 3, 4].all(i, v, i < 5 && v > 0)"),
    "list.all/index_lt_value": dict(expr="[1, 2, 3, 4].all(i, v, i < v)"),
    "list.all/false": dict(expr="[1, 2, 3, 4].all(i, v, i > v) == false"),
    "list.all/optional_index": dict(
        expr="""
        cel.bind(listA, [1, 2, 3, 4],
        cel.bind(listB, [1, 2, 3, 4, 5],
           listA.all(i, v, listB[?i].hasValue() && listB[i] == v)
        ))
        """
    ),
    "list.all/optional_index_false": dict(
        expr="""
        cel.bind(listA, [1, 2, 3, 4, 5, 6],
        cel.bind(listB, [1, 2, 3, 4, 5],
           listA.all(i, v, listB[?i].hasValue() && listB[i] == v)
        )) == false
        """
    ),
    # list.exists()
    "list.exists": dict(
        expr="""
        cel.bind(l, ['hello', 'world', 'hello!', 'worlds'],
          l.exists(i, v,
            v.startsWith('hello') && l[?(i+1)].optMap(next, next.endsWith('world')).orValue(false)
          )
        )
        """
    ),
    # list.existsOne()
    "list.existsOne": dict(
        expr="""
        cel.bind(l, ['hello', 'world', 'hello!', 'worlds'],
          l.existsOne(i, v,
            v.startsWith('hello') && l[?(i+1)].optMap(next, next.endsWith('world')).orValue(false)
          )
        )
        """
    ),
    "list.exists_one/false": dict(
        expr="""
        cel.bind(l, ['hello', 'goodbye', 'hello!', 'goodbye'],
          l.exists_one(i, v,
            v.startsWith('hello') && l[?(i+1)].optMap(next, next == "goodbye").orValue(false)
          )
        ) == false
        """
    ),
    # list.transformList()
    "list.transformList/format": dict(
        expr="""
        ['Hello', 'world'].transformList(i, v, "[%d]%s".format([i, v.lowerAscii()])) == ["[0]hello", "[1]world"]
        """
    ),
    "list.transformList/filter_none": dict(
        expr="""
        ['hello', 'world'].transformList(i, v, v.startsWith('greeting'), "[%d]%s".format([i, v])) == []
        """
    ),
    "list.transformList/arith": dict(
        expr="""
        [1, 2, 3].transformList(indexVar, valueVar, (indexVar * valueVar) + valueVar) == [1, 4, 9]
        """
    ),
    "list.transformList/filter": dict(
        expr="""
        [1, 2, 3].transformList(indexVar, valueVar, indexVar % 2 == 0, (indexVar * valueVar) + valueVar) == [1, 9]
        """
    ),
    # list.transformMap()
    "list.transformMap/lists": dict(
        expr="""
        ['Hello', 'world'].transformMap(i, v, [v.lowerAscii()]) == {0: ['hello'], 1: ['world']}
        """
    ),
    "list.transformMap/round_trip": dict(
        expr="""
        // round-tripping example
        ['world', 'Hello'].transformMap(i, v, [v.lowerAscii()])
          .transformList(k, v, v) // extract the list back form the map
          .flatten()
          .sort() == ['hello', 'world']
        """,
        compile_error="undeclared reference",
        cluster=_LISTS,
    ),
    "list.transformMap/arith": dict(
        expr="""
        [1, 2, 3].transformMap(indexVar, valueVar,
          (indexVar * valueVar) + valueVar) == {0: 1, 1: 4, 2: 9}
        """
    ),
    "list.transformMap/filter": dict(
        expr="""
        [1, 2, 3].transformMap(indexVar, valueVar, indexVar % 2 == 0,
            (indexVar * valueVar) + valueVar) == {0: 1, 2: 9}
        """
    ),
    # list.transformMapEntry()
    "list.transformMapEntry/split": dict(
        expr="""
        "key1:value1 key2:value2 key3:value3".split(" ")
        .transformMapEntry(i, v,
          cel.bind(entry, v.split(":"),
            entry.size() == 2 ? {entry[0]: entry[1]} : {}
          )
        ) == {'key1': 'value1', 'key2': 'value2', 'key3': 'value3'}
        """,
        compile_error="exceeds the limit",
        cluster=_SPLIT_COST,
    ),
    "list.transformMapEntry/optional_entry": dict(
        expr="""
        "key1:value1:extra key2:value2 key3".split(" ")
        .transformMapEntry(i, v,
          cel.bind(entry, v.split(":"), {?entry[0]: entry[?1]})
        ) == {'key1': 'value1', 'key2': 'value2'}
        """,
        compile_error="exceeds the limit",
        cluster=_SPLIT_COST,
    ),
    # map.all()
    "map.all": dict(
        expr="""
        {'hello': 'world', 'hello!': 'world'}.all(k, v, k.startsWith('hello') && v == 'world')
        """
    ),
    "map.all/false": dict(
        expr="""
        {'hello': 'world', 'hello!': 'worlds'}.all(k, v, k.startsWith('hello') && v.endsWith('world')) == false
        """
    ),
    # map.exists()
    "map.exists": dict(
        expr="""
        {'hello': 'world', 'hello!': 'worlds'}.exists(k, v, k.startsWith('hello') && v.endsWith('world'))
        """
    ),
    # map.existsOne()
    "map.existsOne": dict(
        expr="""
        {'hello': 'world', 'hello!': 'worlds'}.existsOne(k, v, k.startsWith('hello') && v.endsWith('world'))
        """
    ),
    # map.exists_one()
    "map.exists_one": dict(
        expr="""
        {'hello': 'world', 'hello!': 'worlds'}.exists_one(k, v, k.startsWith('hello') && v.endsWith('world'))
        """
    ),
    "map.exists_one/false": dict(
        expr="""
        {'hello': 'world', 'hello!': 'wow, world'}.exists_one(k, v, k.startsWith('hello') && v.endsWith('world')) == false
        """
    ),
    # map.transformList()
    "map.transformList/format": dict(
        expr="""
        {'Hello': 'world'}.transformList(k, v, "%s=%s".format([k.lowerAscii(), v])) == ["hello=world"]
        """
    ),
    "map.transformList/filter_none": dict(
        expr="""
        {'hello': 'world'}.transformList(k, v, k.startsWith('greeting'), "%s=%s".format([k, v])) == []
        """
    ),
    "map.transformList/keys_sorted": dict(
        expr="""
        {'greeting': 'hello', 'farewell': 'goodbye'}
          .transformList(k, _, k).sort() == ['farewell', 'greeting']
        """,
        compile_error="undeclared reference",
        cluster=_LISTS,
    ),
    "map.transformList/values_sorted": dict(
        expr="""
        {'greeting': 'hello', 'farewell': 'goodbye'}
          .transformList(_, v, v).sort() == ['goodbye', 'hello']
        """,
        compile_error="undeclared reference",
        cluster=_LISTS,
    ),
    # map.transformMap()
    "map.transformMap/format": dict(
        expr="""
        {'hello': 'world', 'goodbye': 'cruel world'}.transformMap(k, v, "%s, %s!".format([k, v]))
           == {'hello': 'hello, world!', 'goodbye': 'goodbye, cruel world!'}
        """
    ),
    "map.transformMap/filter": dict(
        expr="""
        {'hello': 'world', 'goodbye': 'cruel world'}.transformMap(k, v, v.startsWith('world'), "%s, %s!".format([k, v]))
           == {'hello': 'hello, world!'}
        """
    ),
    # map.transformMapEntry()
    "map.transformMapEntry/reverse": dict(
        expr="""
        {'hello': 'world', 'greetings': 'tacocat'}.transformMapEntry(k, v, {k.reverse(): v.reverse()})
           == {'olleh': 'dlrow', 'sgniteerg': 'tacocat'}
        """,
        compile_error="undeclared reference",
        cluster=_REVERSE,
    ),
    "map.transformMapEntry/reverse_filter": dict(
        expr="""
        {'hello': 'world', 'greetings': 'tacocat'}.transformMapEntry(k, v, v.reverse() == v, {k.reverse(): v.reverse()})
           == {'sgniteerg': 'tacocat'}
        """,
        compile_error="undeclared reference",
        cluster=_REVERSE,
    ),
    "map.transformMapEntry/empty": dict(
        expr="""
        {'hello': 'world', 'greetings': 'tacocat'}.transformMapEntry(k, v, {}) == {}
        """
    ),
}

_STATIC = [
    ("[].all(i.j, k, i.j < k)", "argument must be a simple name"),
    ("[].all(j, i.k, j < i.k)", "argument must be a simple name"),
    ("1.all(j, k, j < k)", "cannot be range"),
    ("[].exists(i.j, k, i.j < k)", "argument must be a simple name"),
    ("[].exists(j, i.k, j < i.k)", "argument must be a simple name"),
    ("''.exists(j, k, j < k)", "cannot be range"),
    ("[].exists_one(i.j, k, i.j < k)", "argument must be a simple name"),
    ("[].existsOne(j, i.k, j < i.k)", "argument must be a simple name"),
    ("[].transformList(i.j, k, i.j + k)", "argument must be a simple name"),
    ("[].transformList(j, i.k, j + i.k)", "argument must be a simple name"),
    ("{}.transformMap(i.j, k, i.j + k)", "argument must be a simple name"),
    ("{}.transformMap(j, i.k, j + i.k)", "argument must be a simple name"),
    ("{}.transformMapEntry(j, i.k, {j: i.k})", "argument must be a simple name"),
    ("{}.transformMapEntry(i.j, k, {k: i.j})", "argument must be a simple name"),
    ("{}.transformMapEntry(j, k, 'bad filter', {k: j})", "no matching overload"),
    ("[1, 2].transformList(i, v, v % 2 == 0 ? [v] : v)", "no matching overload"),
    ("{'hello': 'world', 'greetings': 'tacocat'}.transformMapEntry(k, v, []) == {}", "no matching overload"),
]
for _i, (_e, _m) in enumerate(_STATIC):
    # the file's table repeats "[].exists_one(i.j, k, i.j < k)"; it is kept once
    CASES[f"static_error/{_i}"] = dict(expr=_e, compile_error=_m)

CASES["runtime_error/duplicate_key"] = dict(
    expr="[1, 1].transformMapEntry(i, v, {v: i})", error="insert failed: key 1 already exists", typed="any"
)
CASES["runtime_error/duplicate_numeric_key"] = dict(
    expr="[0, 0u].transformMapEntry(i, v, {v: i})",
    compile_error="expected type 'int' but found 'uint'",
    cluster=_MIXED,
    typed="any",
)

SKIPPED: dict[str, str] = {}
