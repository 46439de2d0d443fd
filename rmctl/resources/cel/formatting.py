"""``"...".format([...])``: cel-go's formatter of ext.Strings versions 1 to 3, which Kubernetes loads.

Kubernetes' base environment has ``ext.Strings(ext.StringsVersion(2))``
(apiserver/pkg/cel/environment/base.go), whose ``format`` is cel-go's
ext/formatting.go (formatting_v2.go is version 4): clauses ``%s %d %f %e %b %x %X %o``,
a precision ``%.3f``, ``%%``; no locale is set, so ``%f`` and ``%e`` print as
golang.org/x/text/message does for ``en_US`` (``1,234.500``; ``2.718280 × 10⁰⁰``,
and ``∞`` for infinity). Its quirks are kept, as DRA has them: ``%e`` ignores
the precision (the Go code passes it as a width), a list or map under ``%s``
prints its doubles as ``%.6f`` and its strings quoted.

:func:`validate` is cel-go's ``stringFormatValidator`` (on by default): a literal
format string with a literal argument list is checked when the selector loads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rmctl.resources.cel.errors import EvalError
from rmctl.resources.cel.syntax import UInt
from rmctl.resources.cel.values import format_double, type_name

DEFAULT_PRECISION = 6


class FormatError(Exception):
    """A formatting error; ``node`` is the argument expression it is about (compile time)."""

    def __init__(self, message: str, node: Any = None):
        super().__init__(message)
        self.message = message
        self.node = node


def _clause_error(msg: str, given: str, node: Any = None) -> FormatError:
    return FormatError(f"{msg}, was given {given}", node)


_STRING_CLAUSE = (
    "string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, "
    "and timestamps"
)
_DECIMAL = "decimal clause can only be used on integers"
_FIXED = "fixed-point clause can only be used on doubles"
_SCIENTIFIC = "scientific clause can only be used on doubles"
_BINARY = "only integers and bools can be formatted as binary"
_HEX = "only integers, byte buffers, and strings can be formatted as hex"
_OCTAL = "octal clause can only be used on integers"


# -- the format string ------------------------------------------------------------


def _parse(
    fmt: str, clause: Callable[[str, int | None, int], str], nargs: int, arg_requested: Callable[[int], None]
) -> str:
    """cel-go parseFormatString: call ``clause(verb, precision, index)`` for each clause.

    ``arg_requested(index)`` is cel-go's ``Arg``: at run time it fails past the list's end
    before the end of the string is looked at; the validator's only counts.
    """
    out: list[str] = []
    i = 0
    k = 0
    n = len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        if i + 1 < n and fmt[i + 1] == "%":
            out.append("%")
            i += 2
            continue
        arg_requested(k)
        if i + 1 >= n:
            raise FormatError("unexpected end of string")
        if k >= nargs:
            raise FormatError(f"index {k} out of range")
        j = i + 1
        precision: int | None = None
        if fmt[j] == ".":
            j += 1
            start = j
            while True:
                if j >= n:
                    raise FormatError(
                        "could not parse formatting clause: error while parsing precision: "
                        "could not find end of precision specifier"
                    )
                if not ("0" <= fmt[j] <= "9"):
                    break
                j += 1
            digits = fmt[start:j]
            if not digits:
                raise FormatError(
                    "could not parse formatting clause: error while parsing precision: error while converting "
                    'precision to integer: strconv.Atoi: parsing "": invalid syntax'
                )
            precision = int(digits)
        verb = fmt[j]
        if verb not in "sdfebxXo":
            raise FormatError(f'could not parse formatting clause: unrecognized formatting clause "{verb}"')
        try:
            out.append(clause(verb, precision, k))
        except FormatError as e:
            raise FormatError(f"error during formatting: {e.message}", e.node) from None
        i = j + 1
        k += 1
    return "".join(out)


# -- run time ---------------------------------------------------------------------


def format_string(fmt: str, args: list) -> str:
    """Return ``fmt.format(args)`` as cel-go's formatter does; raise EvalError with its message."""

    def arg(k: int) -> None:
        if k >= len(args):
            raise FormatError(f"index {k} out of range")

    try:
        return _parse(fmt, lambda verb, prec, k: _format(verb, prec, args[k]), len(args), arg)
    except FormatError as e:
        raise EvalError(e.message) from None


def _format(verb: str, precision: int | None, a: Any) -> str:
    if verb == "s":
        return _string(a)
    if verb == "d":
        return _decimal(a)
    if verb == "f":
        return _fixed(_double_arg(a, _FIXED), DEFAULT_PRECISION if precision is None else precision)
    if verb == "e":
        return _scientific(_double_arg(a, _SCIENTIFIC), DEFAULT_PRECISION if precision is None else precision)
    t = type(a)
    if verb == "b":
        if t is bool:
            return "1" if a else "0"
        if t is int or t is UInt:
            return format(int(a), "b")
        raise _clause_error(_BINARY, type_name(a))
    if verb in "xX":
        if t is str:
            h = a.encode("utf-8").hex()
        elif t is bytes:
            h = a.hex()
        elif t is int or t is UInt:
            h = format(int(a), "x")
        else:
            raise _clause_error(_HEX, type_name(a))
        return h.upper() if verb == "X" else h
    # "o"
    if t is int or t is UInt:
        return format(int(a), "o")
    raise _clause_error(_OCTAL, type_name(a))


def _decimal(a: Any) -> str:
    if type(a) is int or type(a) is UInt:
        return str(int(a))
    raise _clause_error(_DECIMAL, type_name(a))


def _double_arg(a: Any, what: str) -> float:
    # the strings "NaN", "Infinity" and "-Infinity" are accepted too (ext/formatting.go)
    if type(a) is float:
        return a
    if type(a) is str and a in ("NaN", "Infinity", "-Infinity"):
        return float(a.replace("Infinity", "inf"))
    raise _clause_error(what, type_name(a))


def _fixed(x: float, precision: int) -> str:
    """x/text/message en_US for %.Nf: grouped thousands, ∞ for infinity."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    s = f"{x:.{min(precision, 1000)}f}"
    sign = "-" if s.startswith("-") else ""
    s = s.lstrip("-")
    whole, dot, frac = s.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + dot + frac


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _scientific(x: float, width: int) -> str:
    """x/text/message en_US for %e: ``2.718280 × 10⁰⁰``; the clause's precision arrives as a width."""
    if math.isnan(x):
        s = "NaN"
    elif math.isinf(x):
        s = "∞" if x > 0 else "-∞"
    else:
        mantissa, _, exp = f"{x:.{DEFAULT_PRECISION}e}".partition("e")
        e = int(exp)
        digits = f"{abs(e):02d}"
        s = f"{mantissa}\u202f\u00d7\u202f10" + (("-" if e < 0 else "") + digits).translate(_SUPERSCRIPT)
    return s.rjust(min(width, 1000))


def _string(a: Any) -> str:
    t = type(a)
    if t is str:
        return a
    if isinstance(a, (list, tuple)):
        return _format_list(a)
    if isinstance(a, dict):
        return _format_map(a)
    if a is None:
        return "null"
    if t is bool:
        return "true" if a else "false"
    if t is int or t is UInt:
        return str(int(a))
    if t is float:
        return format_double(a)
    if t is bytes:
        try:
            return a.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("invalid UTF-8 in bytes, cannot convert to string") from None
    raise _clause_error(_STRING_CLAUSE, type_name(a))


def _member(a: Any) -> str:
    """A list element or map value: cel-go clauseForType, then quoteForCEL."""
    t = type(a)
    if t is int or t is UInt:
        return str(int(a))
    if t is float:
        s = _go_fixed(a)
        return go_quote(s) if math.isnan(a) or math.isinf(a) else s
    if t is str:
        return go_quote(a)
    if t is bytes:
        return "b" + go_quote(a.decode("utf-8", "replace"))
    if t is bool or a is None:
        return _string(a)
    if isinstance(a, (list, tuple)):
        return _format_list(a)
    if isinstance(a, dict):
        return _format_map(a)
    raise FormatError(f"no formatting function for {type_name(a)}")


def _go_fixed(x: float) -> str:
    """Go fmt's %.6f (no locale): NaN, +Inf, -Inf for the special values."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return f"{x:.6f}"


def _format_list(a: list | tuple) -> str:
    return "[" + ", ".join(_member(x) for x in a) + "]"


def _format_map(m: dict) -> str:
    pairs = []
    for k, v in m.items():
        tk = type(k)
        if tk is str:
            ks = go_quote(k)
        elif tk is bool:
            ks = "true" if k else "false"
        elif tk is int or tk is UInt:
            ks = str(int(k))
        else:
            raise FormatError(f"no formatting function for map key of type {type_name(k)}")
        pairs.append((ks, _member(v)))
    pairs.sort(key=lambda p: p[0])
    return "{" + ", ".join(f"{k}:{v}" for k, v in pairs) + "}"


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """Go's strconv.Quote (fmt %q): double quotes, Go escapes, printable Unicode kept."""
    out = ['"']
    for c in s:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c in _GO_ESCAPES:
            out.append(_GO_ESCAPES[c])
        elif c.isprintable() or c == " ":
            out.append(c)
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


# -- compile time -------------------------------------------------------------------

#: the type kinds each clause accepts (ext/formatting.go stringFormatChecker); dyn passes
_ACCEPTS = {
    "d": (("int", "uint"), _DECIMAL),
    "f": (("double", "string"), _FIXED),
    "e": (("double", "string"), _SCIENTIFIC),
    "b": (("int", "uint", "bool"), _BINARY),
    "x": (("int", "uint", "string", "bytes"), _HEX),
    "X": (("int", "uint", "string", "bytes"), _HEX),
    "o": (("int", "uint"), _OCTAL),
}
_STRING_KINDS = ("list", "map", "int", "uint", "double", "bool", "string", "bytes", "type", "null")


def validate(fmt: str, args: list, type_of: Callable[[Any], Any]) -> FormatError | None:
    """cel-go's stringFormatValidator on a literal call: the error (with its argument node) or None.

    ``args`` are the argument list literal's element expressions, ``type_of`` their checked types.
    """
    requested = [0]

    def arg_requested(k: int) -> None:
        requested[0] += 1

    def clause(verb: str, precision: int | None, k: int) -> str:
        node = args[k]
        if verb == "s":
            bad = _verify_string(node, type_of)
            if bad is not None:
                raise _clause_error(_STRING_CLAUSE, _type_name(type_of(bad)), bad)
            return ""
        kinds, msg = _ACCEPTS[verb]
        t = type_of(node)
        if t.kind not in ("dyn", "error") and t.kind not in kinds:
            raise _clause_error(msg, _type_name(t), node)
        return ""

    try:
        _parse(fmt, clause, len(args), arg_requested)
    except FormatError as e:
        return e
    if len(args) > requested[0]:
        return FormatError(f"too many arguments supplied to string.format (expected {requested[0]}, got {len(args)})")
    return None


def _verify_string(node: Any, type_of: Callable[[Any], Any]) -> Any:
    """Return the node %s cannot format (a list or map literal is checked element by element), or None."""
    from rmctl.resources.cel.syntax import ListExpr, MapExpr

    t = type_of(node)
    if t.kind not in ("dyn", "error") and t.kind not in _STRING_KINDS:
        return node
    if isinstance(node, ListExpr):
        for x in node.elements:
            bad = _verify_string(x, type_of)
            if bad is not None:
                return bad
    elif isinstance(node, MapExpr):
        for en in node.entries:
            for x in (en.key, en.value):
                bad = _verify_string(x, type_of)
                if bad is not None:
                    return bad
    return None


def _type_name(t: Any) -> str:
    """cel-go's Type.TypeName(): the kind's name for lists and maps, the full name of an opaque type."""
    if t.kind == "null":
        return "null_type"
    if t.kind in ("list", "map"):
        return t.kind
    if t.kind == "opaque":
        return t.name
    return str(t)
