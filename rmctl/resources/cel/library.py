"""CEL functions of DRA's environment, for celpy (methods are functions whose first argument is the receiver).

Kubernetes' quantity and semver libraries, cel-go ext.Strings (v2) and the
Kubernetes regex and list libraries (k8s.io/apiserver/pkg/cel/library/).
"""

from __future__ import annotations

import re

import celpy
from celpy import celtypes

from rmctl.resources.cel.quantity import INT64_MAX, INT64_MIN, Quantity, parse_quantity
from rmctl.resources.cel.semver import _SEMVER, Semver, normalize_semver


def _err(message: str):
    # Returning (not raising) a CELEvalError makes celpy propagate it as the
    # expression's error value; raised ValueErrors would be renamed "overflow".
    return celpy.CELEvalError(message)


def _fn_quantity(s):
    if not isinstance(s, str):
        return _err(f"quantity() takes a string, not {type(s).__name__}")
    try:
        return Quantity(str(s))
    except ValueError as e:
        return _err(str(e))


def _fn_is_quantity(s):
    try:
        parse_quantity(str(s))
        return celtypes.BoolType(True)
    except ValueError:
        return celtypes.BoolType(False)


def _fn_semver(s, normalize=None):
    try:
        text = str(s)
        return Semver.parse(normalize_semver(text) if normalize else text)
    except ValueError as e:
        return _err(str(e))


def _fn_is_semver(s, normalize=None):
    try:
        text = str(s)
        return celtypes.BoolType(bool(_SEMVER.match(normalize_semver(text) if normalize else text)))
    except ValueError:
        return celtypes.BoolType(False)


def _operand(x, like):
    """Return ``x`` as the receiver's type: quantities accept ints (quantity.go add/sub)."""
    if isinstance(like, Quantity):
        if isinstance(x, Quantity):
            return x
        if isinstance(x, int) and not isinstance(x, bool):
            return Quantity(int(x))
    if isinstance(like, Semver) and isinstance(x, Semver):
        return x
    return None


def _cmp(a, b):
    o = _operand(b, a)
    if o is None:
        return None
    if isinstance(a, Quantity):
        return (a.value > o.value) - (a.value < o.value)
    return a.cmp(o)


def _fn_compare_to(a, b):
    c = _cmp(a, b)
    return _err(f"no such overload: {type(a).__name__}.compareTo({type(b).__name__})") if c is None else celtypes.IntType(c)


def _fn_greater(a, b):
    c = _cmp(a, b)
    return _err(f"no such overload: {type(a).__name__}.isGreaterThan({type(b).__name__})") if c is None else celtypes.BoolType(c > 0)


def _fn_less(a, b):
    c = _cmp(a, b)
    return _err(f"no such overload: {type(a).__name__}.isLessThan({type(b).__name__})") if c is None else celtypes.BoolType(c < 0)


def _fn_add(a, b):
    o = _operand(b, a)
    if not isinstance(a, Quantity) or o is None:
        return _err(f"no such overload: {type(a).__name__}.add({type(b).__name__})")
    return Quantity(a.value + o.value)


def _fn_sub(a, b):
    o = _operand(b, a)
    if not isinstance(a, Quantity) or o is None:
        return _err(f"no such overload: {type(a).__name__}.sub({type(b).__name__})")
    return Quantity(a.value - o.value)


def _fn_as_integer(a):
    if not isinstance(a, Quantity):
        return _err(f"no such overload: {type(a).__name__}.asInteger()")
    # quantity.go asInteger: error unless the value is an integer in int64
    if a.value.denominator != 1 or not INT64_MIN <= a.value.numerator <= INT64_MAX:
        return _err(f"cannot convert value to integer: {a}")
    return celtypes.IntType(a.value.numerator)


def _fn_is_integer(a):
    if not isinstance(a, Quantity):
        return _err(f"no such overload: {type(a).__name__}.isInteger()")
    return celtypes.BoolType(a.value.denominator == 1 and INT64_MIN <= a.value.numerator <= INT64_MAX)


def _fn_as_float(a):
    if not isinstance(a, Quantity):
        return _err(f"no such overload: {type(a).__name__}.asApproximateFloat()")
    return celtypes.DoubleType(float(a.value))


def _fn_sign(a):
    if not isinstance(a, Quantity):
        return _err(f"no such overload: {type(a).__name__}.sign()")
    return celtypes.IntType((a.value > 0) - (a.value < 0))


def _version_part(name):
    def f(a):
        if not isinstance(a, Semver):
            return _err(f"no such overload: {type(a).__name__}.{name}()")
        return celtypes.IntType(getattr(a, name))
    return f


# -- cel-go ext.Strings (v2) and the Kubernetes regex and list libraries ------
# DRA compiles selectors in the Kubernetes base environment
# (k8s.io/apiserver/pkg/cel/environment/base.go: ext.Strings, library.Regex,
# library.Lists ...), so selectors written for a cluster may use these.

def _s(x):
    return isinstance(x, str)


def _strfn(name, check, fn):
    def f(*args):
        if not check(*args):
            return _err(f"no such overload: {name}({', '.join(type(a).__name__ for a in args)})")
        try:
            return fn(*args)
        except (IndexError, ValueError) as e:
            return _err(f"{name}: {e}")
    return f


def _substring(s, start, end=None):
    end = len(s) if end is None else int(end)
    if not 0 <= int(start) <= end <= len(s):
        raise IndexError(f"index out of range: {start}, {end} (size {len(s)})")
    return celtypes.StringType(s[int(start):end])


def _char_at(s, i):
    if not 0 <= int(i) <= len(s):
        raise IndexError(f"index out of range: {i}")
    return celtypes.StringType(s[int(i):int(i) + 1])


def _index_of(x, sub, start=0):
    if isinstance(x, list):  # library.Lists indexOf
        for i, v in enumerate(x):
            if v == sub:
                return celtypes.IntType(i)
        return celtypes.IntType(-1)
    if not 0 <= int(start) <= len(x):
        raise IndexError(f"index out of range: {start}")
    return celtypes.IntType(x.find(sub, int(start)))


def _last_index_of(x, sub, end=None):
    if isinstance(x, list):
        for i in range(len(x) - 1, -1, -1):
            if x[i] == sub:
                return celtypes.IntType(i)
        return celtypes.IntType(-1)
    return celtypes.IntType(x.rfind(sub, 0, len(x) if end is None else int(end) + len(sub)))


def _split(s, sep, limit=None):
    if limit is not None and int(limit) == 0:
        return celtypes.ListType([])
    parts = s.split(sep, int(limit) - 1) if limit is not None and int(limit) > 0 else s.split(sep)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _replace(s, old, new, n=None):
    return celtypes.StringType(s.replace(old, new) if n is None or int(n) < 0 else s.replace(old, new, int(n)))


def _join(lst, sep=""):
    return celtypes.StringType(str(sep).join(str(x) for x in lst))


def _find(s, pattern):
    m = re.search(pattern, s)
    return celtypes.StringType(m.group(0) if m else "")


def _find_all(s, pattern, limit=None):
    found = [celtypes.StringType(m.group(0)) for m in re.finditer(pattern, s)]
    return celtypes.ListType(found if limit is None or int(limit) < 0 else found[:int(limit)])


def _is_list(x, *rest):
    return isinstance(x, list)


def _list_sum(lst):
    total = 0
    for v in lst:
        total = total + v
    return total if lst else celtypes.IntType(0)


def _list_max(lst):
    if not lst:
        raise ValueError("max of an empty list")
    return max(lst)


def _is_sorted(lst):
    return celtypes.BoolType(all(a <= b for a, b in zip(lst, lst[1:])))


STRING_FUNCTIONS = {
    "charAt": _strfn("charAt", lambda s, i: _s(s), _char_at),
    "indexOf": _strfn("indexOf", lambda x, sub, *r: _s(x) and _s(sub) or isinstance(x, list), _index_of),
    "lastIndexOf": _strfn("lastIndexOf", lambda x, sub, *r: _s(x) and _s(sub) or isinstance(x, list), _last_index_of),
    "lowerAscii": _strfn("lowerAscii", _s, lambda s: celtypes.StringType(
        "".join(c.lower() if c.isascii() else c for c in s))),
    "upperAscii": _strfn("upperAscii", _s, lambda s: celtypes.StringType(
        "".join(c.upper() if c.isascii() else c for c in s))),
    "replace": _strfn("replace", lambda s, a, b, *r: _s(s) and _s(a) and _s(b), _replace),
    "split": _strfn("split", lambda s, sep, *r: _s(s) and _s(sep), _split),
    "substring": _strfn("substring", lambda s, *r: _s(s), _substring),
    "trim": _strfn("trim", _s, lambda s: celtypes.StringType(s.strip())),
    "reverse": _strfn("reverse", _s, lambda s: celtypes.StringType(s[::-1])),
    "join": _strfn("join", _is_list, _join),
    "find": _strfn("find", lambda s, p: _s(s) and _s(p), _find),
    "findAll": _strfn("findAll", lambda s, p, *r: _s(s) and _s(p), _find_all),
    "sum": _strfn("sum", _is_list, _list_sum),
    "max": _strfn("max", _is_list, _list_max),
    "isSorted": _strfn("isSorted", _is_list, _is_sorted),
}


FUNCTIONS = {
    "quantity": _fn_quantity, "isQuantity": _fn_is_quantity,
    "semver": _fn_semver, "isSemver": _fn_is_semver,
    "compareTo": _fn_compare_to, "isGreaterThan": _fn_greater, "isLessThan": _fn_less,
    "add": _fn_add, "sub": _fn_sub, "asInteger": _fn_as_integer, "isInteger": _fn_is_integer,
    "asApproximateFloat": _fn_as_float, "sign": _fn_sign,
    "major": _version_part("major"), "minor": _version_part("minor"), "patch": _version_part("patch"),
    **STRING_FUNCTIONS,
}

#: Names celpy evaluates itself: macros and the standard functions
#: (celpy.evaluation: member_dot_arg / ident_arg macros, base_functions).
_MACROS = frozenset({"has", "dyn", "all", "exists", "exists_one", "map", "filter", "reduce", "min"})
