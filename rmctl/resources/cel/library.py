"""The functions of DRA's CEL environment: declarations (for the checker) and implementations.

What a DRA selector may call is what the Kubernetes base environment
declares (k8s.io/apiserver/pkg/cel/environment/base.go) plus DRA's own
additions (dynamic-resource-allocation/cel/compile.go):

* CEL's standard functions and operators (cel-spec langdef.md), with
  cross-type numeric comparisons (``1 < 1.5``, cel.CrossTypeNumericComparisons);
* cel-go ext.Strings (charAt, indexOf, lastIndexOf, lowerAscii, upperAscii,
  replace, split, substring, trim, join, format, strings.quote; version 2, as Kubernetes loads it),
  ext.Sets (sets.contains, sets.equivalent, sets.intersects), ext.Bindings
  (cel.bind, a macro), optional types (optional.of/none/ofNonZeroValue,
  hasValue, value, orValue, or, ``.?``, ``[?]``), two-variable comprehensions;
* Kubernetes' libraries: lists (isSorted, sum, min, max, indexOf,
  lastIndexOf), regex (find, findAll), quantity, semver, ip and cidr;
* DRA's ``includes``.

Every regular expression runs on RE2 (google-re2): linear time, no
backtracking.  Timestamps, durations and protobuf messages are not in the
environment (no DRA attribute has those types); see docs/cel.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

from rmctl.resources.cel import limits as L
from rmctl.resources.cel.errors import EvalError
from rmctl.resources.cel.quantity import INT64_MAX, INT64_MIN, Quantity, parse_quantity
from rmctl.resources.cel.semver import Semver, is_semver, normalize_semver
from rmctl.resources.cel.types import (
    BOOL,
    BYTES,
    DOUBLE,
    DYN,
    INT,
    QUANTITY,
    SEMVER,
    STRING,
    TYPE,
    UINT,
    A,
    K,
    Type,
    V,
    list_of,
    map_of,
    optional_of,
)
from rmctl.resources.cel.types import CIDR as CIDR_T
from rmctl.resources.cel.types import IP as IP_T
from rmctl.resources.cel.values import (
    CIDR,
    NONE,
    DomainMap,
    IPAddr,
    Optional,
    UInt,
    check_int,
    check_uint,
    equals,
    map_lookup,
    to_string,
    type_name,
)

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any


class Overload:
    __slots__ = ("id", "member", "params", "result", "impl", "strict")

    def __init__(
        self,
        id: str,
        member: bool,
        params: tuple[Type, ...],
        result: Type,
        impl: Callable[..., Any] | None = None,
        strict: bool = True,
    ):
        self.id = id
        self.member = member
        self.params = params
        self.result = result
        self.impl = impl
        self.strict = strict  #: errors in arguments propagate (all but the logical operators)


DECLS: dict[str, list[Overload]] = {}
BY_ID: dict[str, Overload] = {}


def decl(
    name: str, oid: str, params: list[Type] | tuple, result: Type, impl=None, member: bool = False, strict: bool = True
) -> None:
    ov = Overload(oid, member, tuple(params), result, impl, strict)
    DECLS.setdefault(name, []).append(ov)
    BY_ID[oid] = ov


def err(msg: str) -> EvalError:
    return EvalError(msg)


# --------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise err("division by zero")
    if a == INT64_MIN and b == -1:
        raise err("integer overflow")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _int_mod(a: int, b: int) -> int:
    if b == 0:
        raise err("modulus by zero")
    if a == INT64_MIN and b == -1:
        raise err("integer overflow")
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def _dbl_div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _size_check(n: int) -> None:
    if n > L.MAX_VALUE_SIZE:
        raise err(f"value of {n} elements exceeds the size limit of {L.MAX_VALUE_SIZE}")


def _str_add(a: str, b: str) -> str:
    _size_check(len(a) + len(b))
    return a + b


def _list_add(a: list, b: list) -> list:
    _size_check(len(a) + len(b))
    return list(a) + list(b)


def _arith(check: Callable[[Any], Any], op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    return lambda a, b: check(op(a, b))


for _n, _t, _chk in (("int64", INT, check_int), ("uint64", UINT, check_uint), ("double", DOUBLE, float)):
    decl("_+_", f"add_{_n}", [_t, _t], _t, _arith(_chk, lambda a, b: a + b))
    decl("_-_", f"subtract_{_n}", [_t, _t], _t, _arith(_chk, lambda a, b: a - b))
    decl("_*_", f"multiply_{_n}", [_t, _t], _t, _arith(_chk, lambda a, b: a * b))
decl("_/_", "divide_int64", [INT, INT], INT, _int_div)
decl("_/_", "divide_uint64", [UINT, UINT], UINT, lambda a, b: UInt(_int_div(a, b)))
decl("_/_", "divide_double", [DOUBLE, DOUBLE], DOUBLE, _dbl_div)
decl("_%_", "modulo_int64", [INT, INT], INT, _int_mod)
decl("_%_", "modulo_uint64", [UINT, UINT], UINT, lambda a, b: UInt(_int_mod(a, b)))
decl("_+_", "add_string", [STRING, STRING], STRING, _str_add)


def _bytes_add(a: bytes, b: bytes) -> bytes:
    _size_check(len(a) + len(b))
    return a + b


decl("_+_", "add_bytes", [BYTES, BYTES], BYTES, _bytes_add)
decl("_+_", "add_list", [list_of(A), list_of(A)], list_of(A), _list_add)
decl("-_", "negate_int64", [INT], INT, lambda a: check_int(-a))
decl("-_", "negate_double", [DOUBLE], DOUBLE, lambda a: -a)
decl("!_", "logical_not", [BOOL], BOOL, lambda a: not a)
decl("_==_", "equals", [A, A], BOOL, equals)
decl("_!=_", "not_equals", [A, A], BOOL, lambda a, b: not equals(a, b))

_ORDERED = {"bool": BOOL, "int64": INT, "uint64": UINT, "double": DOUBLE, "string": STRING, "bytes": BYTES}
_NUMERIC = {"int64": INT, "uint64": UINT, "double": DOUBLE}
_REL = {
    "_<_": ("less", lambda a, b: a < b),
    "_<=_": ("less_equals", lambda a, b: a <= b),
    "_>_": ("greater", lambda a, b: a > b),
    "_>=_": ("greater_equals", lambda a, b: a >= b),
}
for _op, (_name, _fn) in _REL.items():
    for _tn, _t in _ORDERED.items():
        decl(_op, f"{_name}_{_tn}", [_t, _t], BOOL, _fn)
    # cel.CrossTypeNumericComparisons(true) (environment/base.go)
    for _an, _at in _NUMERIC.items():
        for _bn, _bt in _NUMERIC.items():
            if _an != _bn:
                decl(_op, f"{_name}_{_an}_{_bn}", [_at, _bt], BOOL, _fn)


def _in_list(x, lst) -> bool:
    return any(equals(x, y) for y in lst)


def _in_map(x, m) -> bool:
    return map_lookup(m, x)[0]


decl("@in", "in_list", [A, list_of(A)], BOOL, _in_list)
decl("@in", "in_map", [K, map_of(K, V)], BOOL, _in_map)


def _index_list(lst, i):
    if type(i) is float:
        if i != int(i) if math.isfinite(i) else True:
            raise err(f"unsupported index value {i}")
        i = int(i)
    i = int(i)
    if i < 0 or i >= len(lst):
        raise err(f"index out of bounds: {i}")
    return lst[i]


def _index_map(m, k):
    found, v = map_lookup(m, k)
    if not found:
        if type(m) is DomainMap:
            return {}
        raise err(f"no such key: {k}")
    return v


decl("_[_]", "index_list", [list_of(A), INT], A, _index_list)
decl("_[_]", "index_list_uint", [list_of(A), UINT], A, _index_list)
decl("_[_]", "index_map", [map_of(K, V), K], V, _index_map)

# logical operators: evaluated by the evaluator (non-strict); declared for the checker
decl("_&&_", "logical_and", [BOOL, BOOL], BOOL, strict=False)
decl("_||_", "logical_or", [BOOL, BOOL], BOOL, strict=False)
decl("_?_:_", "conditional", [BOOL, A, A], A, strict=False)
decl("@not_strictly_false", "not_strictly_false", [BOOL], BOOL, strict=False)


def _map_insert(m, k, v):
    if map_lookup(m, k)[0]:
        raise err(f"insert failed: key {k} already exists")
    out = dict(m)
    out[k] = v
    _size_check(len(out))
    return out


def _map_merge(m, other):
    """cel.@mapInsert(map, map): transformMapEntry's step (ext/comprehensions.go)."""
    out = dict(m)
    for k, v in other.items():
        if map_lookup(out, k)[0]:
            raise err(f"insert failed: key {to_string(k) if type(k) is not str else k} already exists")
        out[k] = v
    _size_check(len(out))
    return out


decl("cel.@mapInsert", "cel_@mapInsert_map_key_value", [map_of(K, V), K, V], map_of(K, V), _map_insert)
decl("cel.@mapInsert", "cel_@mapInsert_map_map", [map_of(K, V), map_of(K, V)], map_of(K, V), _map_merge)

# --------------------------------------------------------------------------
# size and conversions
# --------------------------------------------------------------------------

for _t, _id in ((STRING, "string"), (BYTES, "bytes"), (list_of(A), "list"), (map_of(K, V), "map")):
    decl("size", f"size_{_id}", [_t], INT, len)
    decl("size", f"{_id}_size", [_t], INT, len, member=True)


def _to_int(v):
    t = type(v)
    if t is int:
        return v
    if t is UInt:
        return check_int(int(v))
    if t is float:
        if not math.isfinite(v) or v <= -9.223372036854776e18 or v >= 9.223372036854776e18:
            raise err("range error converting double to int")
        return int(v)
    if t is str:
        try:
            return check_int(int(v, 10)) if v.strip() == v and "_" not in v else _bad_int(v)
        except ValueError:
            raise err(f"cannot convert string {v[:40]!r} to int") from None
    raise err(f"no such overload: int({type_name(v)})")


def _bad_int(v):
    raise ValueError(v)


def _to_uint(v):
    t = type(v)
    if t is UInt:
        return v
    if t is int:
        return check_uint(v)
    if t is float:
        if not math.isfinite(v) or v < 0 or v >= 1.8446744073709552e19:
            raise err("range error converting double to uint")
        return UInt(int(v))
    if t is str:
        try:
            if v.strip() != v or "_" in v or v.startswith(("+", "-")):
                raise ValueError(v)
            return check_uint(int(v, 10))
        except ValueError:
            raise err(f"cannot convert string {v[:40]!r} to uint") from None
    raise err(f"no such overload: uint({type_name(v)})")


def _to_double(v):
    t = type(v)
    if t is float:
        return v
    if t is int or t is UInt:
        return float(v)
    if t is str:
        try:
            if "_" in v or v.strip() != v:
                raise ValueError(v)
            return float(v)
        except ValueError:
            raise err(f"cannot convert string {v[:40]!r} to double") from None
    raise err(f"no such overload: double({type_name(v)})")


_BOOLS = {
    "1": True,
    "t": True,
    "T": True,
    "TRUE": True,
    "true": True,
    "True": True,
    "0": False,
    "f": False,
    "F": False,
    "FALSE": False,
    "false": False,
    "False": False,
}


def _to_bool(v):
    if type(v) is bool:
        return v
    if type(v) is str and v in _BOOLS:
        return _BOOLS[v]
    raise err(f"cannot convert {type_name(v)} {str(v)[:40]!r} to bool")


for _t in (INT, UINT, DOUBLE, STRING):
    decl("int", f"{_t}_to_int64", [_t], INT, _to_int)
    decl("uint", f"{_t}_to_uint64", [_t], UINT, _to_uint)
    decl("double", f"{_t}_to_double", [_t], DOUBLE, _to_double)
for _t in (INT, UINT, DOUBLE, BOOL, STRING, BYTES, QUANTITY, SEMVER, IP_T, CIDR_T):
    decl("string", f"{_t}_to_string", [_t], STRING, to_string)
decl("bytes", "bytes_to_bytes", [BYTES], BYTES, lambda b: b)
decl("bytes", "string_to_bytes", [STRING], BYTES, lambda s: s.encode("utf-8"))
decl("bool", "bool_to_bool", [BOOL], BOOL, _to_bool)
decl("bool", "string_to_bool", [STRING], BOOL, _to_bool)
decl("dyn", "to_dyn", [A], DYN, lambda x: x)


def _type_of(v):
    return type_name(v)


decl("type", "type", [A], TYPE, _type_of)

# --------------------------------------------------------------------------
# strings: the standard ones and cel-go ext.Strings
# --------------------------------------------------------------------------

_RE2 = None


def re2_module():
    """Return google-re2's module (imported on the first regex, ~8 ms)."""
    global _RE2
    if _RE2 is None:
        import re2  # type: ignore[import-untyped]

        _RE2 = re2
    return _RE2


_REGEX_CACHE: dict[str, Any] = {}


def compile_regex(pattern: str):
    """Return the RE2 program of ``pattern``; raise EvalError with RE2's reason when it does not compile."""
    r = _REGEX_CACHE.get(pattern)
    if r is not None:
        return r
    re2 = re2_module()
    opts = re2.Options()
    opts.log_errors = False  # RE2 would print every bad pattern on stderr
    try:
        r = re2.compile(pattern, opts)
    except re2.error as e:
        msg = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise err(f"error parsing regexp: {_go_regexp_error(msg)}") from None
    if len(_REGEX_CACHE) < 256:
        _REGEX_CACHE[pattern] = r
    return r


#: RE2's (C++) error texts -> Go regexp/syntax's, which the cluster prints: "error parsing regexp: <code>: `<arg>`"
_RE2_TO_GO = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "invalid UTF-8": "invalid UTF-8",
    "pattern too large - compile failed": "expression too large",
}


def _go_regexp_error(msg: str) -> str:
    code, sep, arg = msg.partition(": ")
    go = _RE2_TO_GO.get(code)
    if go is None or not sep:
        return msg
    return f"{go}: `{arg}`"


def _matches(s, p):
    return compile_regex(p).search(s) is not None


decl("matches", "matches", [STRING, STRING], BOOL, _matches)
decl("matches", "matches_string", [STRING, STRING], BOOL, _matches, member=True)
decl("contains", "contains_string", [STRING, STRING], BOOL, lambda s, x: x in s, member=True)
decl("startsWith", "starts_with_string", [STRING, STRING], BOOL, lambda s, x: s.startswith(x), member=True)
decl("endsWith", "ends_with_string", [STRING, STRING], BOOL, lambda s, x: s.endswith(x), member=True)


def _char_at(s, i):
    if i < 0 or i > len(s):
        raise err(f"index out of range: {i}")
    return s[i : i + 1]


def _index_of(s, sub, start=0):
    # cel-go ext/strings.go indexOfOffset: "" gives the offset; past the end -1, not an error
    if sub == "":
        return start
    if start < 0:
        raise err(f"index out of range: {start}")
    if start >= len(s):
        return -1
    return s.find(sub, start)


def _last_index_of(s, sub, end=None):
    # cel-go ext/strings.go lastIndexOf / lastIndexOfOffset
    if end is None:
        if sub == "":
            return len(s)
        end = len(s) - 1
    if sub == "":
        return end
    if end < 0:
        raise err(f"index out of range: {end}")
    if end >= len(s):
        return -1
    return s.rfind(sub, 0, end + len(sub))


def _ascii(fn):
    return lambda s: "".join(fn(c) if c.isascii() else c for c in s)


def _replace(s, old, new, n=-1):
    count = s.count(old) + (1 if old == "" else 0) if n < 0 else n
    _size_check(len(s) + max(0, count) * max(0, len(new) - len(old)))
    return s.replace(old, new) if n < 0 else s.replace(old, new, n)


def _split(s, sep, n=-1):
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if 0 < n < len(chars):
            return chars[: n - 1] + ["".join(chars[n - 1 :])]
        return chars
    return s.split(sep) if n < 0 else s.split(sep, n - 1)


def _substring(s, start, end=None):
    end = len(s) if end is None else end
    if start < 0 or start > len(s):
        raise err(f"index out of range: {start}")
    if end < 0 or end > len(s):
        raise err(f"index out of range: {end}")
    if start > end:
        raise err(f"invalid substring range. start: {start}, end: {end}")
    return s[start:end]


def _join(lst, sep=""):
    if not all(type(x) is str for x in lst):
        raise err("join: list elements must be strings")
    out = sep.join(lst)
    _size_check(len(out))
    return out


def _trim(s):
    # Go's strings.TrimSpace: unicode.IsSpace
    return s.strip(
        " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
        "\u200a\u2028\u2029\u202f\u205f\u3000"
    )


def quote(s: str) -> str:
    """strings.quote (cel-go ext/strings.go quote): a double-quoted CEL string literal."""
    out = ['"']
    esc = {
        "\a": "\\a",
        "\b": "\\b",
        "\f": "\\f",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\v": "\\v",
        "\\": "\\\\",
        '"': '\\"',
    }
    for c in s:
        out.append(esc.get(c, c))
    out.append('"')
    return "".join(out)


decl("charAt", "string_char_at_int", [STRING, INT], STRING, _char_at, member=True)
decl("indexOf", "string_index_of_string", [STRING, STRING], INT, _index_of, member=True)
decl("indexOf", "string_index_of_string_int", [STRING, STRING, INT], INT, _index_of, member=True)
decl("lastIndexOf", "string_last_index_of_string", [STRING, STRING], INT, _last_index_of, member=True)
decl("lastIndexOf", "string_last_index_of_string_int", [STRING, STRING, INT], INT, _last_index_of, member=True)
decl("lowerAscii", "string_lower_ascii", [STRING], STRING, _ascii(str.lower), member=True)
decl("upperAscii", "string_upper_ascii", [STRING], STRING, _ascii(str.upper), member=True)
decl("replace", "string_replace_string_string", [STRING, STRING, STRING], STRING, _replace, member=True)
decl("replace", "string_replace_string_string_int", [STRING, STRING, STRING, INT], STRING, _replace, member=True)
decl("split", "string_split_string", [STRING, STRING], list_of(STRING), _split, member=True)
decl("split", "string_split_string_int", [STRING, STRING, INT], list_of(STRING), _split, member=True)
decl("substring", "string_substring_int", [STRING, INT], STRING, _substring, member=True)
decl("substring", "string_substring_int_int", [STRING, INT, INT], STRING, _substring, member=True)
decl("trim", "string_trim", [STRING], STRING, _trim, member=True)
decl("join", "list_join", [list_of(STRING)], STRING, _join, member=True)
decl("join", "list_join_string", [list_of(STRING), STRING], STRING, _join, member=True)
decl("strings.quote", "strings_quote", [STRING], STRING, quote)


def _format(fmt: str, args: list) -> str:
    from rmctl.resources.cel.formatting import format_string

    out = format_string(fmt, args)
    _size_check(len(out))
    return out


decl("format", "string_format", [STRING, list_of(DYN)], STRING, _format, member=True)

# --------------------------------------------------------------------------
# Kubernetes regex library (library/regex.go)
# --------------------------------------------------------------------------


def _find(s, p):
    m = compile_regex(p).search(s)
    return m.group(0) if m else ""


def _find_all(s, p, limit=-1):
    if limit == 0:
        return []
    out = []
    for m in compile_regex(p).finditer(s):
        out.append(m.group(0))
        if 0 < limit <= len(out):
            break
    return out


decl("find", "string_find_string", [STRING, STRING], STRING, _find, member=True)
decl("findAll", "string_find_all_string", [STRING, STRING], list_of(STRING), _find_all, member=True)
decl("findAll", "string_find_all_string_int", [STRING, STRING, INT], list_of(STRING), _find_all, member=True)

# --------------------------------------------------------------------------
# Kubernetes lists library (library/lists.go)
# --------------------------------------------------------------------------

_COMPARABLE = (INT, UINT, DOUBLE, BOOL, STRING, BYTES, QUANTITY, SEMVER)


def _lt(a, b) -> bool:
    if isinstance(a, Quantity):
        return a.value < b.value
    if isinstance(a, Semver):
        return a.cmp(b) < 0
    return a < b


def _is_sorted(lst):
    return all(not _lt(b, a) for a, b in zip(lst, lst[1:], strict=False))


def _sum(lst):
    if not lst:
        return 0
    t = type(lst[0])
    if t is float:
        return float(sum(lst))
    total = sum(int(x) for x in lst)
    return check_uint(total) if t is UInt else check_int(total)


def _min(lst):
    if not lst:
        raise err("min called on empty list")
    best = lst[0]
    for x in lst[1:]:
        if _lt(x, best):
            best = x
    return best


def _max(lst):
    if not lst:
        raise err("max called on empty list")
    best = lst[0]
    for x in lst[1:]:
        if _lt(best, x):
            best = x
    return best


def _list_index_of(lst, x):
    for i, y in enumerate(lst):
        if equals(x, y):
            return i
    return -1


def _list_last_index_of(lst, x):
    for i in range(len(lst) - 1, -1, -1):
        if equals(x, lst[i]):
            return i
    return -1


for _t in _COMPARABLE:
    decl("isSorted", f"list_{_t}_is_sorted_bool", [list_of(_t)], BOOL, _is_sorted, member=True)
    decl("min", f"list_{_t}_min_{_t}", [list_of(_t)], _t, _min, member=True)
    decl("max", f"list_{_t}_max_{_t}", [list_of(_t)], _t, _max, member=True)
for _t in (INT, UINT, DOUBLE):
    decl("sum", f"list_{_t}_sum_{_t}", [list_of(_t)], _t, _sum, member=True)
decl("indexOf", "list_a_index_of_int", [list_of(A), A], INT, _list_index_of, member=True)
decl("lastIndexOf", "list_a_last_index_of_int", [list_of(A), A], INT, _list_last_index_of, member=True)

# --------------------------------------------------------------------------
# cel-go ext.Sets
# --------------------------------------------------------------------------

decl(
    "sets.contains",
    "list_sets_contains_list",
    [list_of(A), list_of(A)],
    BOOL,
    lambda a, b: all(_in_list(x, a) for x in b),
)
decl(
    "sets.equivalent",
    "list_sets_equivalent_list",
    [list_of(A), list_of(A)],
    BOOL,
    lambda a, b: all(_in_list(x, a) for x in b) and all(_in_list(x, b) for x in a),
)
decl(
    "sets.intersects",
    "list_sets_intersects_list",
    [list_of(A), list_of(A)],
    BOOL,
    lambda a, b: any(_in_list(x, a) for x in b),
)

# --------------------------------------------------------------------------
# optional types (cel-go cel/library.go optionalLib)
# --------------------------------------------------------------------------


def _zero(v) -> bool:
    return (
        v is None
        or v is False
        or (type(v) in (int, UInt, float) and v == 0)
        or (isinstance(v, (str, bytes, list, tuple, dict)) and len(v) == 0)
    )


def _opt_value(o):
    if not o.present:
        raise err("optional.none() dereference")
    return o.value


decl("optional.of", "optional_of", [A], optional_of(A), lambda x: Optional(x, True))
decl(
    "optional.ofNonZeroValue",
    "optional_ofNonZeroValue",
    [A],
    optional_of(A),
    lambda x: NONE if _zero(x) else Optional(x, True),
)
decl("optional.none", "optional_none", [], optional_of(A), lambda: NONE)
decl("hasValue", "optional_hasValue", [optional_of(A)], BOOL, lambda o: o.present, member=True)
decl("value", "optional_value", [optional_of(A)], A, _opt_value, member=True)
decl(
    "orValue",
    "optional_orValue_value",
    [optional_of(A), A],
    A,
    lambda o, d: o.value if o.present else d,
    member=True,
    strict=False,
)
decl(
    "or",
    "optional_or_optional",
    [optional_of(A), optional_of(A)],
    optional_of(A),
    lambda o, p: o if o.present else p,
    member=True,
    strict=False,
)


def _opt_index_map(m, k):
    found, v = map_lookup(m, k)
    if not found and type(m) is DomainMap:
        return Optional({}, True)  # DRA: every domain is present, unknown ones empty
    return Optional(v, True) if found else NONE


def _opt_index_list(lst, i):
    i = int(i)
    return Optional(lst[i], True) if 0 <= i < len(lst) else NONE


decl("_[?_]", "map_optindex_optional_value", [map_of(K, V), K], optional_of(V), _opt_index_map)
decl("_[?_]", "list_optindex_optional_int", [list_of(A), INT], optional_of(A), _opt_index_list)
decl(
    "_[?_]",
    "optional_map_optindex_optional_value",
    [optional_of(map_of(K, V)), K],
    optional_of(V),
    lambda o, k: _opt_index_map(o.value, k) if o.present else NONE,
)
decl(
    "_[?_]",
    "optional_list_optindex_optional_int",
    [optional_of(list_of(A)), INT],
    optional_of(A),
    lambda o, i: _opt_index_list(o.value, i) if o.present else NONE,
)
decl(
    "_[_]",
    "optional_map_index_value",
    [optional_of(map_of(K, V)), K],
    optional_of(V),
    lambda o, k: _opt_index_map(o.value, k) if o.present else NONE,
)
decl(
    "_[_]",
    "optional_list_index_int",
    [optional_of(list_of(A)), INT],
    optional_of(A),
    lambda o, i: _opt_index_list(o.value, i) if o.present else NONE,
)

# --------------------------------------------------------------------------
# Kubernetes quantity library (library/quantity.go)
# --------------------------------------------------------------------------


def _quantity(s):
    try:
        return Quantity(s)
    except ValueError as e:
        raise err(str(e)) from None


def _is_quantity(s):
    try:
        parse_quantity(s)
        return True
    except ValueError:
        return False


def _q_int(q):
    v = q.value
    if v.denominator != 1 or not INT64_MIN <= v.numerator <= INT64_MAX:
        raise err("cannot convert value to integer")
    return v.numerator


def _q_is_int(q):
    v = q.value
    return v.denominator == 1 and INT64_MIN <= v.numerator <= INT64_MAX


def _q_cmp(a, b):
    return (a.value > b.value) - (a.value < b.value)


def _q_arith(sign):
    def f(a, b):
        bv = b.value if isinstance(b, Quantity) else Fraction(int(b))
        return _q_new(a.value + sign * bv)

    return f


def _q_new(v: Fraction) -> Quantity:
    out = Quantity.__new__(Quantity)
    out.value = v
    return out


def _q_div(a, n, integer=False):
    if n == 0:
        raise err("division by zero")
    v = a.value / n
    if integer:
        v = Fraction(int(v))  # truncates toward zero
    elif (v * 10**9).denominator != 1:
        v = Fraction(-((-v.numerator * 10**9) // v.denominator), 10**9)
    return _q_new(v)


decl("quantity", "string_to_quantity", [STRING], QUANTITY, _quantity)
decl("mul", "quantity_mul_int", [QUANTITY, INT], QUANTITY, lambda a, n: _q_new(a.value * n), member=True)
decl("div", "quantity_div_int", [QUANTITY, INT], QUANTITY, _q_div, member=True)
decl("divInt", "quantity_div_int_int", [QUANTITY, INT], QUANTITY, lambda a, n: _q_div(a, n, True), member=True)
decl("isQuantity", "is_quantity_string", [STRING], BOOL, _is_quantity)
decl("sign", "quantity_sign", [QUANTITY], INT, lambda q: (q.value > 0) - (q.value < 0), member=True)
decl("isInteger", "quantity_is_integer", [QUANTITY], BOOL, _q_is_int, member=True)
decl("asInteger", "quantity_as_integer", [QUANTITY], INT, _q_int, member=True)
decl("asApproximateFloat", "quantity_as_float", [QUANTITY], DOUBLE, lambda q: float(q.value), member=True)
decl(
    "isGreaterThan", "quantity_is_greater_than", [QUANTITY, QUANTITY], BOOL, lambda a, b: _q_cmp(a, b) > 0, member=True
)
decl("isLessThan", "quantity_is_less_than", [QUANTITY, QUANTITY], BOOL, lambda a, b: _q_cmp(a, b) < 0, member=True)
decl("compareTo", "quantity_compare_to", [QUANTITY, QUANTITY], INT, _q_cmp, member=True)
decl("add", "quantity_add", [QUANTITY, QUANTITY], QUANTITY, _q_arith(1), member=True)
decl("add", "quantity_add_int", [QUANTITY, INT], QUANTITY, _q_arith(1), member=True)
decl("sub", "quantity_sub", [QUANTITY, QUANTITY], QUANTITY, _q_arith(-1), member=True)
decl("sub", "quantity_sub_int", [QUANTITY, INT], QUANTITY, _q_arith(-1), member=True)

# --------------------------------------------------------------------------
# semver (library/semverlib.go, DRA's)
# --------------------------------------------------------------------------


def _semver(s, normalize=False):
    try:
        return Semver.parse(normalize_semver(s) if normalize else s)
    except ValueError as e:
        raise err(f"{e}") from None


def _is_semver(s, normalize=False):
    try:
        return is_semver(normalize_semver(s) if normalize else s)
    except ValueError:
        return False


decl("semver", "string_to_semver", [STRING], SEMVER, _semver)
decl("semver", "string_bool_to_semver", [STRING, BOOL], SEMVER, _semver)
decl("isSemver", "is_semver_string", [STRING], BOOL, _is_semver)
decl("isSemver", "is_semver_string_bool", [STRING, BOOL], BOOL, _is_semver)
decl("isGreaterThan", "semver_is_greater_than", [SEMVER, SEMVER], BOOL, lambda a, b: a.cmp(b) > 0, member=True)
decl("isLessThan", "semver_is_less_than", [SEMVER, SEMVER], BOOL, lambda a, b: a.cmp(b) < 0, member=True)
decl("compareTo", "semver_compare_to", [SEMVER, SEMVER], INT, lambda a, b: a.cmp(b), member=True)
decl("major", "semver_major", [SEMVER], INT, lambda v: v.major, member=True)
decl("minor", "semver_minor", [SEMVER], INT, lambda v: v.minor, member=True)
decl("patch", "semver_patch", [SEMVER], INT, lambda v: v.patch, member=True)

# --------------------------------------------------------------------------
# ip and cidr (library/ip.go, library/cidr.go)
# --------------------------------------------------------------------------


def _go_q(s: str) -> str:
    from rmctl.resources.cel.formatting import go_quote

    return go_quote(s[:64] + ("..." if len(s) > 64 else ""))


def parse_ip(s: str):
    """Parse an IP as Kubernetes' ip() does: no zones, no IPv4-mapped IPv6, no leading zeros."""
    import ipaddress  # here: ~2 ms of import that a selector without ip() or cidr() never needs (issue 14)

    if "%" in s:
        raise err(f"IP address with zone value is not allowed: {s}")
    try:
        a = ipaddress.ip_address(s)
    except ValueError:
        # Kubernetes' message (library/ip.go), Go's %q of the input; netip's own detail is not repeated
        raise err(f"IP Address {_go_q(s)} parse error during conversion from string") from None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        raise err(f"IPv4-mapped IPv6 address is not allowed: {s}")
    return a


def parse_cidr(s: str) -> CIDR:
    import ipaddress

    if "%" in s:
        raise err(f"CIDR with zone value is not allowed: {s}")
    addr, slash, plen = s.partition("/")
    if not slash or not plen.isdigit() or (len(plen) > 1 and plen[0] == "0"):
        raise err(f"network address parse error during conversion from string: invalid CIDR {_go_q(s)}")
    try:
        a = ipaddress.ip_address(addr)
        n = int(plen)
        if n > a.max_prefixlen:
            raise ValueError
    except ValueError:
        raise err(f"network address parse error during conversion from string: invalid CIDR {_go_q(s)}") from None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        raise err(f"IPv4-mapped IPv6 address is not allowed: {s}")
    return CIDR(a, n)


def _link_local_multicast_v4():  # made when first used: ipaddress is imported lazily
    import ipaddress

    return ipaddress.ip_network("224.0.0.0/24")


def _ok(fn):
    def f(s):
        try:
            fn(s)
            return True
        except EvalError:
            return False

    return f


def _contains_ip(c: CIDR, ip) -> bool:
    a = ip.addr if isinstance(ip, IPAddr) else parse_ip(ip)
    return a.version == c.addr.version and a in c.network


def _contains_cidr(c: CIDR, other) -> bool:
    o = other if isinstance(other, CIDR) else parse_cidr(other)
    return o.addr.version == c.addr.version and o.prefix >= c.prefix and o.network.subnet_of(c.network)


decl("ip", "string_to_ip", [STRING], IP_T, lambda s: IPAddr(parse_ip(s)))
decl("isIP", "is_ip", [STRING], BOOL, _ok(parse_ip))
decl("ip.isCanonical", "ip_is_canonical", [STRING], BOOL, lambda s: str(parse_ip(s)) == s)
decl("family", "ip_family", [IP_T], INT, lambda ip: ip.addr.version, member=True)
decl("isUnspecified", "ip_is_unspecified", [IP_T], BOOL, lambda ip: ip.addr.is_unspecified, member=True)
decl("isLoopback", "ip_is_loopback", [IP_T], BOOL, lambda ip: ip.addr.is_loopback, member=True)
decl(
    "isLinkLocalMulticast",
    "ip_is_link_local_multicast",
    [IP_T],
    BOOL,
    lambda ip: (
        ip.addr.is_multicast
        and (
            ip.addr in _link_local_multicast_v4()
            if ip.addr.version == 4
            else (int(ip.addr) >> 112) & 0xFF0F == 0xFF02
        )
    ),
    member=True,
)
decl("isLinkLocalUnicast", "ip_is_link_local_unicast", [IP_T], BOOL, lambda ip: ip.addr.is_link_local, member=True)
decl(
    "isGlobalUnicast",
    "ip_is_global_unicast",
    [IP_T],
    BOOL,
    lambda ip: (
        not (
            ip.addr.is_unspecified
            or ip.addr.is_loopback
            or ip.addr.is_multicast
            or ip.addr.is_link_local
            or (ip.addr.version == 4 and int(ip.addr) == 0xFFFFFFFF)
        )
    ),
    member=True,
)
decl("cidr", "string_to_cidr", [STRING], CIDR_T, parse_cidr)
decl("isCIDR", "is_cidr", [STRING], BOOL, _ok(parse_cidr))
decl("containsIP", "cidr_contains_ip_string", [CIDR_T, STRING], BOOL, _contains_ip, member=True)
decl("containsIP", "cidr_contains_ip_ip", [CIDR_T, IP_T], BOOL, _contains_ip, member=True)
decl("containsCIDR", "cidr_contains_cidr_string", [CIDR_T, STRING], BOOL, _contains_cidr, member=True)
decl("containsCIDR", "cidr_contains_cidr", [CIDR_T, CIDR_T], BOOL, _contains_cidr, member=True)
decl("ip", "cidr_ip", [CIDR_T], IP_T, lambda c: IPAddr(c.addr), member=True)
decl("masked", "cidr_masked", [CIDR_T], CIDR_T, lambda c: CIDR(c.network.network_address, c.prefix), member=True)
decl("prefixLength", "cidr_prefix_length", [CIDR_T], INT, lambda c: c.prefix, member=True)

# --------------------------------------------------------------------------
# DRA's includes() (dynamic-resource-allocation/cel: list-type attributes)
# --------------------------------------------------------------------------


def _includes(attr, x):
    if isinstance(attr, (list, tuple)):
        if len(attr) > L.RESOURCE_SLICE_MAX_ATTRIBUTE_VALUES_PER_DEVICE:
            raise err(
                f"'includes' function cannot be applied to lists longer than "
                f"{L.RESOURCE_SLICE_MAX_ATTRIBUTE_VALUES_PER_DEVICE} values"
            )
        return _in_list(x, attr)
    return equals(attr, x)


decl("includes", "dyn_includes_dyn", [DYN, DYN], BOOL, _includes, member=True)


def function_names() -> list[str]:
    """Return every function name a selector may call (for did-you-mean)."""
    return sorted(n for n in DECLS if not n.startswith(("_", "@", "!", "-", "cel.@")))
