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


def _fn_semver(s, normalize=None):
    try:
        return Semver.parse(str(s))
    except ValueError as e:
        return _err(str(e))


def _fn_is_semver(s, normalize=None):
    return celtypes.BoolType(bool(_SEMVER.match(str(s))))


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


FUNCTIONS = {
    "quantity": _fn_quantity, "isQuantity": _fn_is_quantity,
    "semver": _fn_semver, "isSemver": _fn_is_semver,
    "compareTo": _fn_compare_to, "isGreaterThan": _fn_greater, "isLessThan": _fn_less,
    "add": _fn_add, "sub": _fn_sub, "asInteger": _fn_as_integer, "isInteger": _fn_is_integer,
    "asApproximateFloat": _fn_as_float, "sign": _fn_sign,
    "major": _version_part("major"), "minor": _version_part("minor"), "patch": _version_part("patch"),
}


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
    return Selector(source, env.program(ast, functions=FUNCTIONS), where)


_NO_MEMBER = re.compile(r"no such member in mapping: '([^']+)'")
_NO_KEY = re.compile(r"no such key.*?StringType\('([^']+)'\)")
_TREE = re.compile(r"tree='([^']*)'")


def describe_eval_error(e: Exception) -> str:
    """Return a one-line reason for a CEL runtime error (celpy nests and reprs them)."""
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
    args = getattr(e, "args", ())
    if args and isinstance(args[0], str):
        return args[0]
    return text.splitlines()[0] if text else type(e).__name__
