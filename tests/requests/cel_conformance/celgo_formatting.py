"""cel-go's string.format tests (the formatter of ext.Strings versions 1 to 3), transcribed.

Source: google/cel-go ext/formatting_test.go at 64e0a8ce51fa59aba76b120fe3246b4b05f66a19
(``TestStringFormat``, ``TestStringFormatHeterogeneousLiterals``). Kubernetes loads
``ext.Strings(ext.StringsVersion(2))`` (apiserver/pkg/cel/environment/base.go), which
formats with this formatter (formatting.go; formatting_v2.go is version 4), with
compile-time validation of literal format calls on (``StringsValidateFormatCalls``
defaults to true) and no locale, so ``%f`` and ``%e`` format as ``en_US`` does.

Each row of the Go table is ``"<format>".format([<formatArgs>])`` (Go's ``%q`` of the
format); ``value`` is the expected output as a CEL string literal, ``error`` / ``compile_error``
the expected message, ``cost``/``actual_cost`` cel-go's estimated and actual cost.

Where the cluster differs from the file's run (``skipCompileCheck: true`` rows, a runtime
error in the file), ``cluster`` says so: DRA validates the literal call when the selector
is created, so the same message is a compile error there.
"""

import json
import math

OPTIMIZE = False  # the file builds programs without cel.OptOptimize

SOURCE = {
    "repo": "google/cel-go",
    "path": "ext/formatting_test.go",
    "version": "64e0a8ce51fa59aba76b120fe3246b4b05f66a19",
}

_VALIDATED = (
    "Kubernetes' ext.Strings validates literal format calls at compile time (StringsValidateFormatCalls "
    "defaults to true); the file's skipCompileCheck row is a runtime error only without that"
)


def _lit(s: str) -> str:
    """A CEL string literal for ``s`` (what Go's %q gives for these strings)."""
    return json.dumps(s, ensure_ascii=False)


def _case(fmt, args, out=None, cost=None, err=None, vars=None, compile_time=False, cluster=None, typed=None):
    c: dict = {"expr": f"{_lit(fmt)}.format([{args}])"}
    if out is not None:
        c["value"] = _lit(out)
    if cost is not None:
        c["cost"] = (cost, cost)
        c["actual_cost"] = cost
    if err is not None:
        c["compile_error" if compile_time else "error"] = err
    if vars:
        c["vars"] = vars
    if cluster:
        c["cluster"] = cluster
    return c


_SCI = "\u202f\u00d7\u202f10"

CASES = {
    "no-op": _case("no substitution", "", "no substitution", 12),
    "mid-string substitution": _case("str is %s and some more", '"filler"', "str is filler and some more", 13),
    "percent escaping": _case("%% and also %%", "", "% and also %", 12),
    "substution inside escaped percent signs": _case("%%%s%%", '"text"', "%text%", 11),
    "substitution with one escaped percent sign on the right": _case(
        "%s%%", '"percent on the right"', "percent on the right%", 11
    ),
    "substitution with one escaped percent sign on the left": _case(
        "%%%s", '"percent on the left"', "%percent on the left", 11
    ),
    "multiple substitutions": _case(
        "%d %d %d, %s %s %s, %d %d %d, %s %s %s",
        '1, 2, 3, "A", "B", "C", 4, 5, 6, "D", "E", "F"',
        "1 2 3, A B C, 4 5 6, D E F",
        14,
    ),
    "percent sign escape sequence support": _case("%%escaped %s%%", '"percent"', "%escaped percent%", 12),
    "fixed point formatting clause": _case("%.3f", "1.2345", "1.234", 11),
    "binary formatting clause": _case("this is 5 in binary: %b", "5", "this is 5 in binary: 101", 13),
    "negative binary formatting clause": _case("this is -5 in binary: %b", "-5", "this is -5 in binary: -101", 13),
    "uint support for binary formatting": _case(
        "unsigned 64 in binary: %b", "uint(64)", "unsigned 64 in binary: 1000000", 14
    ),
    "bool support for binary formatting": _case("bit set from bool: %b", "true", "bit set from bool: 1", 13),
    "octal formatting clause": _case("%o", "11", "13", 11),
    "negative octal formatting clause": _case("%o", "-11", "-13", 11),
    "uint support for octal formatting clause": _case(
        "this is an unsigned octal: %o", "uint(65535)", "this is an unsigned octal: 177777", 14
    ),
    "lowercase hexadecimal formatting clause": _case("%x is 30 in hexadecimal", "30", "1e is 30 in hexadecimal", 13),
    "uppercase hexadecimal formatting clause": _case("%X is 20 in hexadecimal", "30", "1E is 20 in hexadecimal", 13),
    "negative hexadecimal formatting clause": _case("%x is -30 in hexadecimal", "-30", "-1e is -30 in hexadecimal", 13),
    "unsigned support for hexadecimal formatting clause": _case(
        "%X is 6000 in hexadecimal", "uint(6000)", "1770 is 6000 in hexadecimal", 14
    ),
    "string support with hexadecimal formatting clause": _case("%x", '"Hello world!"', "48656c6c6f20776f726c6421", 11),
    "string support with uppercase hexadecimal formatting clause": _case(
        "%X", '"Hello world!"', "48656C6C6F20776F726C6421", 11
    ),
    "byte support with hexadecimal formatting clause": _case("%x", 'b"byte string"', "6279746520737472696e67", 11),
    "byte support with hexadecimal formatting clause leading zero": _case(
        "%x", r'b"\x00\x00byte string\x00"', "00006279746520737472696e6700", 11
    ),
    "byte support with uppercase hexadecimal formatting clause": _case(
        "%X", 'b"byte string"', "6279746520737472696E67", 11
    ),
    "scientific notation formatting clause": _case("%.6e", "1052.032911275", f"1.052033{_SCI}\u2070\u00b3", 11),
    "default precision for fixed-point clause": _case("%f", "2.71828", "2.718280", 11),
    "default precision for scientific notation": _case("%e", "2.71828", f"2.718280{_SCI}\u2070\u2070", 11),
    "default precision for string": _case("%s", "2.71", "2.71", 11),
    "default list precision for string": _case("%s", "[2.71]", "[2.710000]", 21),
    "default scientific notation for string": _case("%s", "0.000000002", "2e-09", 11),
    "default list scientific notation for string": _case("%s", "[0.000000002]", "[0.000000]", 21),
    "unicode output for scientific notation": _case(
        "unescaped unicode: %e, escaped unicode: %e",
        "2.71828, 2.71828",
        f"unescaped unicode: 2.718280{_SCI}\u2070\u2070, escaped unicode: 2.718280{_SCI}\u2070\u2070",
        15,
    ),
    "NaN support for fixed-point": _case("%f", '"NaN"', "NaN", 11),
    "positive infinity support for fixed-point": _case("%f", '"Infinity"', "\u221e", 11),
    "negative infinity support for fixed-point": _case("%f", '"-Infinity"', "-\u221e", 11),
    "NaN support for string": _case("%s", 'double("NaN")', "NaN"),
    "positive infinity support for string": _case("%s", 'double("Inf")', "+Inf"),
    "negative infinity support for string": _case("%s", 'double("-Inf")', "-Inf"),
    "infinity list support for string": _case(
        "%s", '[double("NaN"),double("+Inf"), double("-Inf")]', '["NaN", "+Inf", "-Inf"]'
    ),
    "uint support for decimal clause": _case("%d", "uint(64)", "64", 12),
    "null support for string": _case("null: %s", "null", "null: null", 11),
    "int support for string": _case("%s", "999999999999", "999999999999", 11),
    "bytes support for string": _case("some bytes: %s", 'b"xyz"', "some bytes: xyz", 12),
    "type() support for string": _case("type is %s", 'type("test string")', "type is string", 12),
    "boolean support for %s": _case(
        "true bool: %s, false bool: %s", "true, false", "true bool: true, false bool: false", 13
    ),
    "dyntype support for string formatting clause": _case(
        "dynamic string: %s", "dynStr", "dynamic string: a string", 13, vars={"dynStr": ("dyn", "a string")}
    ),
    "dyntype support for numbers with string formatting clause": _case(
        "dynIntStr: %s dynDoubleStr: %s",
        "dynIntStr, dynDoubleStr",
        "dynIntStr: 32 dynDoubleStr: 56.8",
        15,
        vars={"dynIntStr": ("dyn", 32), "dynDoubleStr": ("dyn", 56.8)},
    ),
    "dyntype support for integer formatting clause": _case(
        "dynamic int: %d", "dynInt", "dynamic int: 128", 13, vars={"dynInt": ("dyn", 128)}
    ),
    "dyntype support for integer formatting clause (unsigned)": _case(
        "dynamic unsigned int: %d",
        "dynUnsignedInt",
        "dynamic unsigned int: 256",
        14,
        vars={"dynUnsignedInt": ("dyn", ("uint", 256))},
    ),
    "dyntype support for hex formatting clause": _case(
        "dynamic hex int: %x", "dynHexInt", "dynamic hex int: 16", 13, vars={"dynHexInt": ("dyn", 22)}
    ),
    "dyntype support for hex formatting clause (uppercase)": _case(
        "dynamic hex int: %X (uppercase)",
        "dynHexInt",
        "dynamic hex int: 1A (uppercase)",
        15,
        vars={"dynHexInt": ("dyn", 26)},
    ),
    "dyntype support for unsigned hex formatting clause": _case(
        "dynamic hex int: %x (unsigned)",
        "dynUnsignedHexInt",
        "dynamic hex int: 1f4 (unsigned)",
        14,
        vars={"dynUnsignedHexInt": ("dyn", ("uint", 500))},
    ),
    "dyntype support for fixed-point formatting clause": _case(
        "dynamic double: %.3f", "dynDouble", "dynamic double: 4.500", 13, vars={"dynDouble": ("dyn", 4.5)}
    ),
    "dyntype support for scientific notation": _case(
        "(dyntype) e: %e", "dynE", f"(dyntype) e: 2.718280{_SCI}\u2070\u2070", 13, vars={"dynE": ("dyn", 2.71828)}
    ),
    "dyntype NaN/infinity support for fixed-point": _case(
        "NaN: %f, infinity: %f",
        "dynNaN, dynInf",
        "NaN: NaN, infinity: \u221e",
        15,
        vars={"dynNaN": ("dyn", math.nan), "dynInf": ("dyn", math.inf)},
    ),
    "dyntype support for lists": _case(
        "dyntype list: %s",
        "dynList",
        'dyntype list: [6, 4.200000, "a string"]',
        13,
        vars={"dynList": ("dyn", [6, 4.2, "a string"])},
    ),
    # errors the file sees at run time (skipCompileCheck) and DRA at compile time
    "unrecognized formatting clause": _case(
        "%a",
        "1",
        err='could not parse formatting clause: unrecognized formatting clause "a"',
        compile_time=True,
        cluster=_VALIDATED,
    ),
    "out of bounds arg index": _case(
        "%d %d %d", "0, 1", err="index 2 out of range", compile_time=True, cluster=_VALIDATED
    ),
    "string substitution is not allowed with binary clause": _case(
        "string is %b",
        '"abc"',
        err="error during formatting: only integers and bools can be formatted as binary, was given string",
        compile_time=True,
        cluster=_VALIDATED,
    ),
    "string substitution not allowed with octal clause": _case(
        "octal: %o",
        '"a string"',
        err="error during formatting: octal clause can only be used on integers, was given string",
        compile_time=True,
        cluster=_VALIDATED,
    ),
    "double substitution not allowed with hex clause": _case(
        "double is %x",
        "0.5",
        err="error during formatting: only integers, byte buffers, and strings can be formatted as hex, "
        "was given double",
        compile_time=True,
        cluster=_VALIDATED,
    ),
    "uppercase not allowed for scientific clause": _case(
        "double is %E",
        "0.5",
        err='could not parse formatting clause: unrecognized formatting clause "E"',
        compile_time=True,
        cluster=_VALIDATED,
    ),
    # compile-time validation (the file's own compile-time rows)
    "compile-time cardinality check (too few for string)": _case(
        "%s %s", '"abc"', err="index 1 out of range", compile_time=True
    ),
    "compile-time cardinality check (too many for string)": _case(
        "%s %s",
        '"abc", "def", "ghi"',
        err="too many arguments supplied to string.format (expected 2, got 3)",
        compile_time=True,
    ),
    "compile-time syntax check (unexpected end of string)": _case(
        "filler %", "", err="unexpected end of string", compile_time=True
    ),
    "compile-time syntax check (unrecognized formatting clause)": _case(
        "%j", "123", err='could not parse formatting clause: unrecognized formatting clause "j"', compile_time=True
    ),
    "compile-time %d check": _case(
        "int is %d",
        "5.2",
        err="error during formatting: decimal clause can only be used on integers",
        compile_time=True,
    ),
    "compile-time %f check": _case(
        "double is %f",
        "true",
        err="error during formatting: fixed-point clause can only be used on doubles",
        compile_time=True,
    ),
    "compile-time precision syntax check": _case(
        "double is %.34",
        "5.0",
        err="could not parse formatting clause: error while parsing precision: could not find end of precision "
        "specifier",
        compile_time=True,
    ),
    "compile-time %e check": _case(
        "double is %e",
        "true",
        err="error during formatting: scientific clause can only be used on doubles",
        compile_time=True,
    ),
    "compile-time %b check": _case(
        "string is %b",
        '"a string"',
        err="error during formatting: only integers and bools can be formatted as binary",
        compile_time=True,
    ),
    "compile-time %x check": _case(
        "%x is a double",
        "2.5",
        err="error during formatting: only integers, byte buffers, and strings can be formatted as hex",
        compile_time=True,
    ),
    "compile-time %X check": _case(
        "%X is a double",
        "2.5",
        err="error during formatting: only integers, byte buffers, and strings can be formatted as hex",
        compile_time=True,
    ),
    "compile-time %o check": _case(
        "an octal: %o",
        "3.14",
        err="error during formatting: octal clause can only be used on integers",
        compile_time=True,
    ),
    # TestStringFormatHeterogeneousLiterals (with ValidateHomogeneousAggregateLiterals, as Kubernetes)
    "heterogeneous/list": dict(
        expr='"list: %s".format([[[1, 2, [3.0, 4]]]])', value=_lit("list: [[1, 2, [3.000000, 4]]]")
    ),
    "heterogeneous/list size": dict(
        expr='"list size: %d".format([[[1, 2, [3.0, 4]]].size()])', value=_lit("list size: 1")
    ),
    "heterogeneous/list element": dict(
        expr='"list element: %s".format([[[1, 2, [3.0, 4]]][0]])', value=_lit("list element: [1, 2, [3.000000, 4]]")
    ),
}

# null is accepted by no clause but %s
for _verb, _msg in {
    "d": "decimal clause can only be used on integers",
    "e": "scientific clause can only be used on doubles",
    "f": "fixed-point clause can only be used on doubles",
    "x": "only integers, byte buffers, and strings can be formatted as hex",
    "X": "only integers, byte buffers, and strings can be formatted as hex",
    "b": "only integers and bools can be formatted as binary",
    "o": "octal clause can only be used on integers",
}.items():
    CASES[f"null not allowed for %{_verb}"] = _case(
        f"null: %{_verb}",
        "null",
        err=f"error during formatting: {_msg}, was given null_type",
        compile_time=True,
        cluster=_VALIDATED,
    )

_TIME = "timestamps and durations are not in rmctl's environment (no DRA attribute has those types)"
_LOCALE = "Kubernetes sets no locale: string.format always formats as en_US there"
_PROTO = "protobuf messages are not in rmctl's environment (DRA has no message types)"

SKIPPED = {
    "locale support": _LOCALE,
    "dyntype support for fixed-point formatting clause (comma separator locale)": _LOCALE,
    "timestamp support for string": _TIME,
    "duration support for string": _TIME,
    "small duration support for string": _TIME,
    "list support for string": _TIME,
    "map support for string": _TIME + "; and a nl_NL locale",
    "dyntype support for timestamp": _TIME,
    "dyntype support for duration": _TIME,
    "dyntype support for maps": _TIME,
    "duration substitution not allowed with decimal clause": _TIME,
    "map support (all key types)": "a map literal with both 1 and true as keys (docs/cel.md difference 9: "
    "Python's dict; DRA's maps are keyed by strings)",
    "message field support": _PROTO,
    "object not allowed": _PROTO,
    "object inside list": _PROTO,
    "object inside map": _PROTO,
    "compile-time %s check": _PROTO,
    "compile-time check for objects inside list literal": _PROTO,
    "TestLiteralOutput/map literal support": _TIME,
    "TestLiteralOutput/list literal support": _TIME,
    "TestBadLocale": _LOCALE,
}
