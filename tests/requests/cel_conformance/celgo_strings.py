"""cel-go's strings extension tests, transcribed (the functions DRA's environment has).

Source: google/cel-go ext/strings_test.go, the version with ``TestFunctionsForVersions``
and ``'tacocat'.indexOf('a', 30) == -1`` (cel-go v0.23 and later; read from the code
index, the newest stored copy). ``stringTests`` (each expression must evaluate to true,
``err`` is a substring of the runtime error), ``TestStringsVersions`` and the costs of
``TestQuoteUnquote``.

The cluster's environment differs from the file's ``cel.NewEnv(Strings())`` in two ways,
and the cases say so in ``cluster``:

* Kubernetes loads ``ext.Strings(ext.StringsVersion(2))`` (apiserver/pkg/cel/environment/
  base.go): ``reverse`` (version 3) is an undeclared reference there;
* DRA type-checks every selector (dynamic-resource-allocation/cel/compile.go), so the
  ``parseOnly`` cases, which cel-go evaluates unchecked to a runtime "no such overload",
  are refused at load with the checker's "found no matching overload".

Case keys: ``expr``; ``error`` (runtime error substring) or ``compile_error``; ``cost``
(estimated min, max) and ``actual_cost``; ``cluster`` (why the expectation is the
cluster's rather than the file's).
"""

OPTIMIZE = False  # the file builds programs without cel.OptOptimize

SOURCE = {"repo": "google/cel-go", "path": "ext/strings_test.go", "version": "v0.23+ (TestFunctionsForVersions)"}

_V3 = "Kubernetes loads ext.Strings version 2 (environment/base.go): reverse() is version 3, undeclared there"
_CHECKED = "DRA type-checks selectors: cel-go's parse-only runtime 'no such overload' is a compile error"
_JOIN_COST = (
    "the cluster estimates join() on a list literal from the size of an element it cannot know (Kubernetes' "
    "library/cost.go sizes list elements by the estimator only; DRA's knows the device's fields only): "
    "the worst case is unbounded and the API server refuses the selector"
)
_COST = "exceeds the limit"

CASES = {
    # CharAt
    "charAt/middle": dict(expr=r"'tacocat'.charAt(3) == 'o'"),
    "charAt/end": dict(expr=r"'tacocat'.charAt(7) == ''"),
    "charAt/unicode": dict(expr=r"'©αT'.charAt(0) == '©' && '©αT'.charAt(1) == 'α' && '©αT'.charAt(2) == 'T'"),
    # indexOf
    "indexOf/empty": dict(expr=r"'tacocat'.indexOf('') == 0"),
    "indexOf/string": dict(expr=r"'tacocat'.indexOf('ac') == 1"),
    "indexOf/none": dict(expr=r"'tacocat'.indexOf('none') == -1"),
    "indexOf/empty_offset": dict(expr=r"'tacocat'.indexOf('', 3) == 3"),
    "indexOf/char_offset": dict(expr=r"'tacocat'.indexOf('a', 3) == 5"),
    "indexOf/string_offset": dict(expr=r"'tacocat'.indexOf('at', 3) == 5"),
    "indexOf/unicode_char": dict(expr=r"'ta©o©αT'.indexOf('©') == 2"),
    "indexOf/unicode_char_offset": dict(expr=r"'ta©o©αT'.indexOf('©', 3) == 4"),
    "indexOf/unicode_string_offset": dict(expr=r"'ta©o©αT'.indexOf('©αT', 3) == 4"),
    "indexOf/unicode_string_nomatch": dict(expr=r"'ta©o©αT'.indexOf('©α', 5) == -1"),
    "indexOf/last_char": dict(expr=r"'ijk'.indexOf('k') == 2"),
    "indexOf/whole": dict(expr=r"'hello wello'.indexOf('hello wello') == 0"),
    "indexOf/offset_7": dict(expr=r"'hello wello'.indexOf('ello', 6) == 7"),
    "indexOf/longer_nomatch": dict(expr=r"'hello wello'.indexOf('elbo room!!') == -1"),
    "indexOf/longer_than_string": dict(expr=r"'hello wello'.indexOf('elbo room!!!') == -1"),
    # lastIndexOf
    "lastIndexOf/empty": dict(expr=r"'tacocat'.lastIndexOf('') == 7"),
    "lastIndexOf/string": dict(expr=r"'tacocat'.lastIndexOf('at') == 5"),
    "lastIndexOf/none": dict(expr=r"'tacocat'.lastIndexOf('none') == -1"),
    "lastIndexOf/empty_offset": dict(expr=r"'tacocat'.lastIndexOf('', 3) == 3"),
    "lastIndexOf/char_offset": dict(expr=r"'tacocat'.lastIndexOf('a', 3) == 1"),
    "lastIndexOf/unicode_char": dict(expr=r"'ta©o©αT'.lastIndexOf('©') == 4"),
    "lastIndexOf/unicode_char_offset": dict(expr=r"'ta©o©αT'.lastIndexOf('©', 3) == 2"),
    "lastIndexOf/unicode_string_offset": dict(expr=r"'ta©o©αT'.lastIndexOf('©α', 4) == 4"),
    "lastIndexOf/offset_6": dict(expr=r"'hello wello'.lastIndexOf('ello', 6) == 1"),
    "lastIndexOf/nomatch": dict(expr=r"'hello wello'.lastIndexOf('low') == -1"),
    "lastIndexOf/longer_nomatch": dict(expr=r"'hello wello'.lastIndexOf('elbo room!!') == -1"),
    "lastIndexOf/longer_than_string": dict(expr=r"'hello wello'.lastIndexOf('elbo room!!!') == -1"),
    "lastIndexOf/whole": dict(expr=r"'hello wello'.lastIndexOf('hello wello') == 0"),
    "lastIndexOf/overlapping": dict(expr=r"'bananananana'.lastIndexOf('nana', 7) == 6"),
    # lowerAscii
    "lowerAscii/ascii": dict(expr=r"'TacoCat'.lowerAscii() == 'tacocat'"),
    "lowerAscii/non_ascii": dict(expr=r"'TacoCÆt'.lowerAscii() == 'tacocÆt'"),
    "lowerAscii/words": dict(expr=r"'TacoCÆt Xii'.lowerAscii() == 'tacocÆt xii'"),
    # replace
    "replace/no_match": dict(expr=r'"12 days 12 hours".replace("{0}", "2") == "12 days 12 hours"'),
    "replace/all": dict(expr=r'"{0} days {0} hours".replace("{0}", "2") == "2 days 2 hours"'),
    "replace/limit": dict(
        expr=r'"{0} days {0} hours".replace("{0}", "2", 1).replace("{0}", "23") == "2 days 23 hours"'
    ),
    "replace/unicode": dict(expr=r'"1 ©αT taco".replace("αT", "o©α") == "1 ©o©α taco"'),
    "replace/empty_old": dict(expr=r'"hello hello".replace("", "_") == "_h_e_l_l_o_ _h_e_l_l_o_"'),
    "replace/empty_new": dict(expr=r'"hello hello".replace("h", "") == "ello ello"'),
    # split
    "split/space": dict(expr=r'"hello world".split(" ") == ["hello", "world"]'),
    "split/limit_0": dict(expr=r'"hello world events!".split(" ", 0) == []'),
    "split/limit_1": dict(expr=r'"hello world events!".split(" ", 1) == ["hello world events!"]'),
    "split/unicode_negative_limit": dict(expr=r'"o©o©o©o".split("©", -1) == ["o", "o", "o", "o"]'),
    # substring
    "substring/from": dict(expr=r'"tacocat".substring(4) == "cat"'),
    "substring/end": dict(expr=r'"tacocat".substring(7) == ""'),
    "substring/range": dict(expr=r'"tacocat".substring(0, 4) == "taco"'),
    "substring/empty_range": dict(expr=r'"tacocat".substring(4, 4) == ""'),
    "substring/unicode": dict(expr="'ta©o©αT'.substring(2, 6) == \"©o©α\""),
    "substring/unicode_end": dict(expr="'ta©o©αT'.substring(7, 7) == \"\""),
    # trim
    "trim/ascii_space": dict(expr=r'" \f\n\r\t\vtext  ".trim() == "text"'),
    "trim/unicode_space_1": dict(expr=r'"\u0085\u00a0\u1680text".trim() == "text"'),
    "trim/unicode_space_2": dict(
        expr=r'"text\u2000\u2001\u2002\u2003\u2004\u2004\u2006\u2007\u2008\u2009".trim() == "text"'
    ),
    "trim/unicode_space_3": dict(expr=r'"\u200atext\u2028\u2029\u202F\u205F\u3000".trim() == "text"'),
    "trim/not_whitespace": dict(
        expr='"\\u180etext\\u200b\\u200c\\u200d\\u2060\\ufeff".trim()\n\t\t\t\t'
        '== "\\u180etext\\u200b\\u200c\\u200d\\u2060\\ufeff"'
    ),
    # upperAscii
    "upperAscii/ascii": dict(expr=r"'tacoCat'.upperAscii() == 'TACOCAT'"),
    "upperAscii/non_ascii": dict(expr=r"'tacoCαt'.upperAscii() == 'TACOCαT'"),
    # reverse (version 3)
    "reverse/gums": dict(expr=r"'gums'.reverse() == 'smug'", compile_error="undeclared reference", cluster=_V3),
    "reverse/palindromes": dict(
        expr=r"'palindromes'.reverse() == 'semordnilap'", compile_error="undeclared reference", cluster=_V3
    ),
    "reverse/words": dict(
        expr=r"'John Smith'.reverse() == 'htimS nhoJ'", compile_error="undeclared reference", cluster=_V3
    ),
    "reverse/digits": dict(
        expr=r"'u180etext'.reverse() == 'txete081u'", compile_error="undeclared reference", cluster=_V3
    ),
    "reverse/plus": dict(expr=r"'2600+U'.reverse() == 'U+0062'", compile_error="undeclared reference", cluster=_V3),
    "reverse/zero_width": dict(
        expr=r"'\u180e\u200b\u200c\u200d\u2060\ufeff'.reverse() == '\ufeff\u2060\u200d\u200c\u200b\u180e'",
        compile_error="undeclared reference",
        cluster=_V3,
    ),
    # join
    "join/no_separator": dict(expr=r"['x', 'y'].join() == 'xy'", compile_error=_COST, cluster=_JOIN_COST),
    "join/separator": dict(expr=r"['x', 'y'].join('-') == 'x-y'", compile_error=_COST, cluster=_JOIN_COST),
    "join/empty": dict(expr=r"[].join() == ''"),
    "join/empty_separator": dict(expr=r"[].join('-') == ''"),
    # strings.quote
    "quote/newline": dict(expr=r'strings.quote("first\nsecond") == "\"first\\nsecond\""'),
    "quote/bell": dict(expr=r'strings.quote("bell\a") == "\"bell\\a\""'),
    "quote/backspace": dict(expr=r'strings.quote("\bbackspace") == "\"\\bbackspace\""'),
    "quote/form_feed": dict(expr=r'strings.quote("\fform feed") == "\"\\fform feed\""'),
    "quote/carriage_return": dict(expr=r'strings.quote("carriage \r return") == "\"carriage \\r return\""'),
    "quote/tab": dict(expr=r'strings.quote("horizontal tab\t") == "\"horizontal tab\\t\""'),
    "quote/vertical_tab": dict(expr=r'strings.quote("vertical \v tab") == "\"vertical \\v tab\""'),
    "quote/double_slash": dict(expr=r'strings.quote("double \\\\ slash") == "\"double \\\\\\\\ slash\""'),
    "quote/two_escapes": dict(expr=r'strings.quote("two escape sequences \a\n") == "\"two escape sequences \\a\\n\""'),
    "quote/verbatim": dict(expr=r'strings.quote("verbatim") == "\"verbatim\""'),
    "quote/ends_with_slash": dict(expr=r'strings.quote("ends with \\") == "\"ends with \\\\\""'),
    "quote/starts_with_slash": dict(expr=r'strings.quote("\\ starts with") == "\"\\\\ starts with\""'),
    "quote/printable_unicode": dict(expr=r'strings.quote("printable unicode😀") == "\"printable unicode😀\""'),
    "quote/mid_quote": dict(expr=r'strings.quote("mid string \" quote") == "\"mid string \\\" quote\""'),
    "quote/single_quoted": dict(
        expr=r'''strings.quote('single-quote with "double quote"') == "\"single-quote with \\\"double quote\\\"\""'''
    ),
    "quote/size_y": dict(expr=r'''strings.quote("size('ÿ')") == "\"size('ÿ')\""'''),
    "quote/size_greek": dict(expr=r'''strings.quote("size('πέντε')") == "\"size('πέντε')\""'''),
    "quote/cyrillic": dict(expr=r'strings.quote("завтра") == "\"завтра\""'),
    "quote/emoji_escapes": dict(
        expr=r'strings.quote("\U0001F431\U0001F600\U0001F61B") == "\"\U0001F431\U0001F600\U0001F61B\""'
    ),
    "quote/mixed": dict(expr=r'strings.quote("ta©o©αT") == "\"ta©o©αT\""'),
    "quote/empty": dict(expr=r'strings.quote("") == "\"\""'),
    # format with a non-literal format string
    "format/non_literal": dict(expr=r'''strings.quote('%s %s').format(['hello', 'world']) == "\"hello world\""'''),
    # errors of checked expressions
    "error/charAt_30": dict(expr=r"'tacocat'.charAt(30) == ''", error="index out of range: 30"),
    "indexOf/offset_past_end": dict(expr=r"'tacocat'.indexOf('a', 30) == -1"),
    "error/lastIndexOf_negative": dict(expr=r"'tacocat'.lastIndexOf('a', -1) == -1", error="index out of range: -1"),
    "lastIndexOf/offset_past_end": dict(expr=r"'tacocat'.lastIndexOf('a', 30) == -1"),
    "error/substring_40": dict(expr=r'"tacocat".substring(40) == "cat"', error="index out of range: 40"),
    "error/substring_negative": dict(expr=r'"tacocat".substring(-1) == "cat"', error="index out of range: -1"),
    "error/substring_end_50": dict(expr=r'"tacocat".substring(1, 50) == "cat"', error="index out of range: 50"),
    "error/substring_49_50": dict(expr=r'"tacocat".substring(49, 50) == "cat"', error="index out of range: 49"),
    "error/substring_reversed": dict(
        expr=r'"tacocat".substring(4, 3) == ""', error="invalid substring range. start: 4, end: 3"
    ),
}

# parse-only cases: cel-go evaluates them unchecked ("no such overload"); DRA checks them
_PARSE_ONLY = [
    r'42.charAt(2) == ""',
    "'hello'.charAt(true) == \"\"",
    r"24.indexOf('2') == 0",
    r"'hello'.indexOf(true) == 1",
    r"42.indexOf('4', 0) == 0",
    r"'42'.indexOf(4, 0) == 0",
    r"'42'.indexOf('4', '0') == 0",
    r"'42'.indexOf('4', 0, 1) == 0",
    r'42.split("2") == ["4"]',
    r'42.replace(2, 1) == "41"',
    r'"42".replace(2, 1) == "41"',
    r'"42".replace("2", 1) == "41"',
    r'42.replace("2", "1", 1) == "41"',
    r'"42".replace(2, "1", 1) == "41"',
    r'"42".replace("2", 1, 1) == "41"',
    r'"42".replace("2", "1", "1") == "41"',
    r'"42".replace("2", "1", 1, false) == "41"',
    r'42.split("") == ["4", "2"]',
    r'"42".split(2) == ["4"]',
    r'42.split("2", "1") == ["4"]',
    r'"42".split(2, 1) == ["4"]',
    r'"42".split("2", "1") == ["4"]',
    r'"42".split("2", 1, 1) == ["4"]',
    "'hello'.substring(1, 2, 3) == \"\"",
    r'30.substring(true, 3) == ""',
    r'"tacocat".substring(true, 3) == ""',
    r'"tacocat".substring(0, false) == ""',
]
for _i, _e in enumerate(_PARSE_ONLY):
    CASES[f"parse_only/{_i}"] = dict(expr=_e, compile_error="found no matching overload", cluster=_CHECKED)

# TestStringsVersions: what each version declares; DRA has version 2
VERSIONS = {
    "chatAt": "''.charAt(0) == ''",
    "indexOf": "'a'.indexOf('a') == 0",
    "lastIndexOf": "'a'.lastIndexOf('a') == 0",
    "join": "['a', 'b'].join() == 'ab'",
    "joinSep": "['a', 'b'].join('-') == 'a-b'",
    "lowerAscii": "'a'.lowerAscii() == 'a'",
    "replace": "'hello hello'.replace('he', 'we') == 'wello wello'",
    "split": "'hello hello hello'.split(' ') == ['hello', 'hello', 'hello']",
    "substring": "'tacocat'.substring(4) == 'cat'",
    "trim": "'  \\ttrim\\n    '.trim() == 'trim'",
    "upperAscii": "'TacoCat'.upperAscii() == 'TACOCAT'",
    "format": "'a %d'.format([1]) == 'a 1'",
    "quote": r"""strings.quote('\a \b "double quotes"') == '"\\a \\b \\"double quotes\\""'""",
}
for _n, _e in VERSIONS.items():
    CASES[f"versions/{_n}"] = (
        dict(expr=_e, compile_error=_COST, cluster=_JOIN_COST) if _n.startswith("join") else dict(expr=_e)
    )
CASES["versions/reverse"] = dict(expr="'taco'.reverse() == 'ocat'", compile_error="undeclared reference", cluster=_V3)

# TestQuoteUnquote: strings.quote(%q of the input) with its estimated (fixed) and actual cost
_QUOTE_COSTS = {
    "remove quotes only": (r'"this is a test"', 2),
    "mid-string newline": (r'"first\nsecond"', 2),
    "bell": (r'"bell\a"', 1),
    "backspace": (r'"\bbackspace"', 1),
    "form feed": (r'"\fform feed"', 1),
    "carriage return": (r'"carriage \r return"', 2),
    "horizontal tab": (r'"horizontal \ttab"', 2),
    "vertical tab": (r'"vertical \v tab"', 2),
    "double slash": (r'"double \\\\ slash"', 2),
    "two escape sequences": (r'"two escape sequences \a\n"', 3),
    "ends with slash": (r'"ends with \\"', 2),
    "starts with slash": (r'"\\ starts with"', 2),
    "printable unicode": (r'"printable unicode😀"', 2),
    "mid-string quote": (r'"mid-string \" quote"', 2),
    "single-quote with double quote": (r'"single-quote with \"double quote\""', 4),
    "CEL-only escape sequences": (r'"\\? and \\`"', 1),
    "test cost": (r'"this is a very very very long string used to ensure that cost tracking works"', 8),
}
for _n, (_lit, _c) in _QUOTE_COSTS.items():
    CASES[f"quote_cost/{_n}"] = dict(expr=f"strings.quote({_lit})", typed="any", cost=(_c, _c), actual_cost=_c)

SKIPPED = {
    "TestQuoteUnquote/missing opening quote": "tests the Go test's own unquote helper, not CEL",
    "TestQuoteUnquote/missing closing quote": "tests the Go test's own unquote helper, not CEL",
    "TestQuoteUnquote/invalid utf8": "needs a Go string with invalid UTF-8; a CEL/YAML selector is valid UTF-8",
    "TestQuoteUnquote/trailing single slash": "tests the Go test's own unquote helper, not CEL",
}
