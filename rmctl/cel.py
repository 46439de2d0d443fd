"""CEL for device selectors, in DRA's dialect, over cel-python (``celpy``).

Variables are the ones DRA gives a DeviceClass or a request selector
(kubernetes staging/src/k8s.io/dynamic-resource-allocation/cel/compile.go):

* ``device.driver``: the driver name (rmctl: the kernel driver bound, or "");
* ``device.attributes["domain"].name``: typed attributes by qualified name;
* ``device.capacity["domain"].name``: capacities, always Kubernetes quantities.

Looking up a domain no device publishes gives an empty map (as in DRA), so
``"memory" in device.capacity["rmctl.io"]`` is a safe guard; looking up a
missing name in it is an evaluation error, reported for that device only.

``quantity()`` follows k8s.io/apiserver/pkg/cel/library/quantity.go and
k8s.io/apimachinery/pkg/api/resource: exact arithmetic, so ``1Gi`` is
1073741824 and ``1G`` is 1000000000 and the two never compare equal.
``semver()`` follows the DRA semver library (blang/semver rules).

Compile once (:func:`compile_selector`), evaluate per device
(:meth:`Selector.evaluate`), which never raises for a device's data.
celpy is imported here only, so only class/request commands pay for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import celpy
from celpy import celtypes

from rmctl.errors import UsageError

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


class CelError(UsageError):
    """A selector does not compile; ``line``/``column`` are 1-based in the expression."""

    code = "cel_error"


# --------------------------------------------------------------------------
# Kubernetes quantities
# --------------------------------------------------------------------------

# apimachinery/pkg/api/resource/suffix.go: binary suffixes are powers of 2,
# decimal ones powers of 10; "e"/"E" introduce a decimal exponent.
_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|([eE][+-]?\d+))?$")


def parse_quantity(text: str) -> Fraction:
    """Return the exact value of a Kubernetes quantity string (``16Gi``, ``1.5G``, ``100m``, ``1e3``)."""
    m = _QUANTITY.match(str(text).strip()) if isinstance(text, str) else None
    if not m or str(text).strip() != text:
        raise ValueError(f"quantities must match the regular expression "
                         f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    sign, num, suffix, exp = m.groups()
    value = Fraction(num)
    if exp:
        value *= Fraction(10) ** int(exp[1:])
    elif suffix in _BINARY:
        value *= _BINARY[suffix]
    else:
        value *= _DECIMAL[suffix or ""]
    return -value if sign == "-" else value


def _format_quantity(v: Fraction) -> str:
    """Return a canonical-ish string (binary suffix when exact, else plain/decimal)."""
    if v.denominator == 1:
        n = v.numerator
        for suf, f in reversed(list(_BINARY.items())):
            if n and n % f == 0:
                return f"{n // f}{suf}"
        return str(n)
    for suf in ("m", "u", "n"):
        scaled = v / _DECIMAL[suf]
        if scaled.denominator == 1:
            return f"{scaled.numerator}{suf}"
    return str(float(v))


class Quantity:
    """An exact Kubernetes quantity as a CEL value (``quantity("16Gi")``)."""

    __slots__ = ("value",)

    def __init__(self, value: Fraction | int | str):
        self.value = parse_quantity(value) if isinstance(value, str) else Fraction(value)

    def __eq__(self, other):  # quantity("1Gi") == quantity("1024Mi") is true in k8s CEL
        if isinstance(other, Quantity):
            return self.value == other.value
        return NotImplemented

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        return hash(self.value)

    def __repr__(self):
        return f"quantity({_format_quantity(self.value)!r})"

    def __str__(self):
        return _format_quantity(self.value)


# --------------------------------------------------------------------------
# Semantic versions (DRA's semver library: semver("1.2.3"), isSemver())
# --------------------------------------------------------------------------

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
                     r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")


@dataclass(frozen=True)
class Semver:
    """A semantic version (semver.org 2.0); build metadata is ignored when comparing."""

    major: int
    minor: int
    patch: int
    pre: tuple = ()

    @classmethod
    def parse(cls, text: str) -> "Semver":
        m = _SEMVER.match(str(text))
        if not m:
            raise ValueError(f"invalid semver {text!r}")
        pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split(".")) if m.group(4) else ()
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)

    def _key(self):
        # A pre-release sorts before the release; numeric identifiers sort
        # before alphanumeric ones (semver.org item 11).
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def cmp(self, other: "Semver") -> int:
        a, b = self._key(), other._key()
        return (a > b) - (a < b)

    def __str__(self):
        s = f"{self.major}.{self.minor}.{self.patch}"
        return s + ("-" + ".".join(str(p) for p in self.pre) if self.pre else "")


# --------------------------------------------------------------------------
# CEL functions (methods are functions whose first argument is the receiver)
# --------------------------------------------------------------------------

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


def normalize_semver(text: str) -> str:
    """Return ``text`` as semver() with normalize=true reads it (library/semverlib.go normalizeAndParse).

    Drops a leading "v", strips leading zeros, fills a missing minor/patch
    with 0 ("v1.2" -> "1.2.0"); a short version cannot carry -pre or +build.
    """
    s = text[1:] if text.startswith("v") else text
    parts = s.split(".", 2)
    for i, p in enumerate(parts):
        if len(p) > 1:
            p = p.lstrip("0")
            if not p or not p[0].isdigit():
                p = "0" + p
            parts[i] = p
    if len(parts) < 3:
        if any(c in parts[-1] for c in "+-"):
            raise ValueError(f"invalid semver {text!r}: short version cannot contain PreRelease/Build meta data")
        parts += ["0"] * (3 - len(parts))
    return ".".join(parts)


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


# --------------------------------------------------------------------------
# Device -> CEL activation
# --------------------------------------------------------------------------

class _Domains(celtypes.MapType):
    """domain -> map of names; an unknown domain is an empty map (DRA does the same)."""

    def __getitem__(self, key):
        if key not in self:
            return celtypes.MapType({})
        return super().__getitem__(key)


def _cel_attribute(v: Any):
    """Return a CEL value for an attribute: bool, int, string or version (DRA's four types)."""
    if isinstance(v, dict) and len(v) == 1:  # ResourceSlice shape {"int": 3} / {"version": "1.2.3"}
        (k, inner), = v.items()
        if k == "version":
            try:
                return Semver.parse(str(inner))
            except ValueError:
                return celtypes.StringType(str(inner))
        return _cel_attribute(inner)
    if isinstance(v, (Semver, Quantity)):
        return v
    if type(v).__name__ == "Version" and isinstance(v, str):  # rmctl.model.pci.Version (DRA version type)
        try:
            return Semver.parse(str(v))
        except ValueError:
            return celtypes.StringType(str(v))
    if isinstance(v, bool):
        return celtypes.BoolType(v)
    if isinstance(v, int):
        return celtypes.IntType(v)
    if isinstance(v, float):
        return celtypes.DoubleType(v)
    if v is None:
        return celtypes.StringType("")
    return celtypes.StringType(str(v))


def _cel_capacity(v: Any) -> Quantity:
    """Return a Quantity for a capacity: ints are exact (bytes), strings are quantities."""
    if isinstance(v, dict):  # ResourceSlice shape {"value": "80Gi"}
        v = v.get("value")
    if isinstance(v, Quantity):
        return v
    if isinstance(v, bool):
        return Quantity(int(v))
    if isinstance(v, (int, Fraction)):
        return Quantity(v)
    return Quantity(str(v))


def split_qualified(name: str, default_domain: str = "rmctl.io") -> tuple[str, str]:
    """Return (domain, id) of a qualified name ``domain/id``; bare ids are in ``default_domain``."""
    domain, sep, ident = name.rpartition("/")
    return (domain, ident) if sep else (default_domain, name)


def device_activation(driver: str | None, attributes: dict[str, Any], capacity: dict[str, Any]) -> dict:
    """Return the CEL activation ``{"device": ...}`` for one device.

    ``attributes`` and ``capacity`` are keyed by qualified names
    (``rmctl.io/kind``, ``resource.kubernetes.io/numaNode``).  A capacity
    that does not parse as a quantity is left out (and so is "missing").
    """
    attrs: dict = {}
    for q, v in attributes.items():
        dom, ident = split_qualified(q)
        attrs.setdefault(celtypes.StringType(dom), {})[celtypes.StringType(ident)] = _cel_attribute(v)
    caps: dict = {}
    for q, v in capacity.items():
        dom, ident = split_qualified(q)
        try:
            caps.setdefault(celtypes.StringType(dom), {})[celtypes.StringType(ident)] = _cel_capacity(v)
        except ValueError:
            continue
    device = celtypes.MapType({
        celtypes.StringType("driver"): celtypes.StringType(driver or ""),
        celtypes.StringType("attributes"): _Domains({k: celtypes.MapType(v) for k, v in attrs.items()}),
        celtypes.StringType("capacity"): _Domains({k: celtypes.MapType(v) for k, v in caps.items()}),
    })
    return {"device": device}


# --------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------

_ENV: celpy.Environment | None = None


def _env() -> celpy.Environment:
    global _ENV
    if _ENV is None:
        _ENV = celpy.Environment()
    return _ENV


#: attribute/capacity references written as device.attributes["dom"].name or ["dom"]["name"]
_REF = re.compile(r'device\.(attributes|capacity)\[\s*"([^"]+)"\s*\](?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([^"]+)"\s*\])')


@dataclass
class Outcome:
    """One selector on one device: ``value`` True/False, or ``error`` (then value False)."""

    value: bool
    error: str | None = None

    def to_data(self) -> dict:
        return {"value": self.value, "error": self.error}


class Selector:
    """A compiled CEL selector; ``source`` is the expression text."""

    def __init__(self, source: str, program, where: str = ""):
        self.source = source
        self.where = where
        self._program = program

    def evaluate(self, activation: dict) -> Outcome:
        """Return the outcome on one device; a runtime error is an Outcome, never raised."""
        try:
            v = self._program.evaluate(activation)
        except celpy.CELEvalError as e:
            return Outcome(False, describe_eval_error(e))
        except Exception as e:  # celpy bug or odd data: still this device's problem only
            return Outcome(False, f"{type(e).__name__}: {e}")
        if isinstance(v, celpy.CELEvalError):
            return Outcome(False, describe_eval_error(v))
        if not isinstance(v, celtypes.BoolType) and not isinstance(v, bool):
            return Outcome(False, f"selector returned {type(v).__name__}, not bool")
        return Outcome(bool(v))

    def references(self) -> list[tuple[str, str, str]]:
        """Return (kind, domain, name) for each attribute/capacity the expression names literally."""
        out = []
        for m in _REF.finditer(self.source):
            out.append((m.group(1), m.group(2), m.group(3) or m.group(4)))
        return out


def compile_selector(source: str, where: str = "") -> Selector:
    """Return the compiled selector; raise CelError naming ``where`` and line:col on bad syntax."""
    if not isinstance(source, str) or not source.strip():
        raise CelError(f"{where}: empty CEL expression" if where else "empty CEL expression")
    env = _env()
    try:
        ast = env.compile(source)
    except celpy.CELParseError as e:
        line = getattr(e, "line", None)
        col = getattr(e, "column", None)
        pos = f"{line}:{col}" if line is not None else "?"
        msg = f"CEL syntax error at {pos} (line:column of the expression) in {source!r}"
        raise CelError(
            f"{where}: {msg}" if where else msg,
            hint="check the expression near that column (CEL: https://github.com/google/cel-spec)",
            details={"line": line, "column": col, "expression": source},
        ) from None
    except Exception as e:  # lark errors that celpy does not wrap
        raise CelError(f"{where}: CEL error in {source!r}: {e}", details={"expression": source}) from None
    _check_functions(ast, source, where)
    return Selector(source, env.program(ast, functions=FUNCTIONS), where)


def _check_literal(tree, name: str, source: str, where: str) -> None:
    """Raise CelError when quantity("...")/semver("...") is given a constant it can never parse.

    The Kubernetes libraries would fail on every device at run time; a
    constant is known when the class loads, so it is refused there, with
    its position.
    """
    import ast as pyast

    args = tree.children[1].children if len(tree.children) > 1 else []
    if not args or len(args) > (2 if name == "semver" else 1):
        return
    tokens = list(args[0].scan_values(lambda v: True))
    if len(tokens) != 1 or getattr(tokens[0], "type", "") != "STRING_LIT":
        return  # not a plain string constant: only known per device
    tok = tokens[0]
    try:
        text = pyast.literal_eval(str(tok))
    except Exception:
        return
    if not isinstance(text, str):
        return
    try:
        if name == "quantity":
            parse_quantity(text)
        elif len(args) == 1:
            Semver.parse(text)
        else:
            return
    except ValueError as e:
        line, col = getattr(tok, "line", None), getattr(tok, "column", None)
        msg = f"invalid {name} {text!r} at {line}:{col} (line:column of the expression): {e}"
        raise CelError(f"{where}: {msg}" if where else msg,
                       hint=("quantities look like 16Gi, 16G, 500m, 1e3" if name == "quantity"
                             else 'versions look like 1.2.3; semver("v1.2", true) normalizes'),
                       details={"line": line, "column": col, "expression": source}) from None


def _known_functions() -> frozenset:
    from celpy.evaluation import base_functions

    return frozenset(FUNCTIONS) | frozenset(k for k in base_functions if k[:1].isalpha()) | _MACROS


def _check_functions(ast, source: str, where: str) -> None:
    """Raise CelError for a call to a function CEL does not define here (cel-go: a compile error).

    celpy resolves names only when evaluating, which would turn a typo
    such as ``lowerAcsii()`` into an error on every device instead of a
    bad selector; DRA's type-checker refuses it when the class is created.
    """
    import difflib

    known = _known_functions()
    for tree in ast.iter_subtrees():
        if tree.data == "member_dot_arg":
            tok = tree.children[1]
        elif tree.data == "ident_arg":
            tok = tree.children[0]
        else:
            continue
        name = str(tok)
        if name in known:
            if tree.data == "ident_arg" and name in ("quantity", "semver"):
                _check_literal(tree, name, source, where)
            continue
        line, col = getattr(tok, "line", None), getattr(tok, "column", None)
        close = difflib.get_close_matches(name, sorted(known), n=1)
        msg = f"undeclared function {name!r} at {line}:{col} (line:column of the expression) in {source!r}"
        raise CelError(f"{where}: {msg}" if where else msg,
                       hint=(f"did you mean {close[0]!r}? " if close else "")
                       + "functions: the CEL standard ones, Kubernetes quantity/semver/regex/lists and cel-go's strings",
                       details={"line": line, "column": col, "expression": source})



_NO_MEMBER = re.compile(r"no such member in mapping: '([^']+)'")
_NO_KEY = re.compile(r"no such key.*?StringType\('([^']+)'\)")
_TREE = re.compile(r"tree='([^']*)'")


def describe_eval_error(e: Exception) -> str:
    """Return a one-line reason for a CEL runtime error (celpy nests and reprs them)."""
    try:
        return _describe(e)
    except Exception:  # never let the description of an error become one
        return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def _describe(e: Exception) -> str:
    text = str(e)
    trees = _TREE.findall(text)
    m = _NO_MEMBER.search(text)
    if m:
        where = f" ({trees[0]})" if trees else ""
        return f"no such key: {m.group(1)!r}{where}"
    m = _NO_KEY.search(text)
    if m:
        where = f" ({trees[0]})" if trees else ""
        return f"no such key: {m.group(1)!r}{where}"
    m = _NO_OVERLOAD.search(text)
    if m:
        op = m.group(1) or m.group(2)
        op = _OPERATORS.get(op, op)
        types = ", ".join(t.rsplit(".", 1)[-1] for t in _TYPE_NAME.findall(m.group(3)))
        msg = f"no such overload: {op} applied to ({types})"
        if "Semver" in types or "Quantity" in types:
            msg += "; compare versions and quantities with compareTo, isGreaterThan or isLessThan"
        return msg
    args = getattr(e, "args", ())
    out = args[0] if args and isinstance(args[0], str) else (text.splitlines()[0] if text else type(e).__name__)
    # celpy appends its whole activation to "undeclared reference" errors
    return out.split(" (in activation", 1)[0]


_NO_OVERLOAD = re.compile(r"found no matching overload for (?:Token\('RULE', '([a-z_]+)'\)|(\S+)) applied to '\(([^)]*)\)'")
_TYPE_NAME = re.compile(r"<class '([^']+)'>")
_OPERATORS = {"relation_lt": "<", "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
              "relation_eq": "==", "relation_ne": "!=", "addition_add": "+", "addition_sub": "-",
              "multiplication_mul": "*", "multiplication_div": "/", "multiplication_mod": "%"}
