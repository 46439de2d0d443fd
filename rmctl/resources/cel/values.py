"""CEL runtime values: Python values plus the few kinds Python lacks (uint, optional, IP, CIDR).

bool, int (int64), :class:`UInt`, float (double), str, bytes, None
(null), list, dict (map), :class:`~rmctl.resources.cel.quantity.Quantity`,
:class:`~rmctl.resources.cel.semver.Semver`, :class:`IPAddr`, :class:`CIDR`,
:class:`Optional`.  :func:`equals` is CEL's heterogeneous equality
(``1 == 1u``, ``true != 1``).
"""

from __future__ import annotations

import math
from decimal import Decimal

from rmctl.resources.cel.errors import EvalError
from rmctl.resources.cel.quantity import Quantity
from rmctl.resources.cel.semver import Semver
from rmctl.resources.cel.syntax import UInt

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    import ipaddress  # at run time only where an IP is made (rmctl.resources.cel.library): issue 14
    from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1

__all__ = [
    "UInt",
    "Optional",
    "IPAddr",
    "CIDR",
    "ErrValue",
    "equals",
    "type_name",
    "check_int",
    "check_uint",
    "to_string",
    "format_double",
]


class DomainMap(dict):
    """device.attributes / device.capacity: an unknown domain reads as an empty map (DRA's mapper.Find)."""

    __slots__ = ()


class ErrValue:
    """An error held as a value (a comprehension accumulator after a failed step)."""

    __slots__ = ("err",)

    def __init__(self, err: EvalError):
        self.err = err


class Optional:
    """cel-go's optional value: ``optional.of(x)`` or ``optional.none()``."""

    __slots__ = ("value", "present")

    def __init__(self, value: Any = None, present: bool = False):
        self.value = value
        self.present = present

    def __eq__(self, other):
        if not isinstance(other, Optional):
            return NotImplemented
        return self.present == other.present and (not self.present or equals(self.value, other.value))

    def __hash__(self):
        return hash(self.present)

    def __repr__(self):
        return f"optional.of({self.value!r})" if self.present else "optional.none()"


NONE = Optional()


class IPAddr:
    """A net.IP value (k8s.io/apiserver/pkg/cel/library/ip.go)."""

    __slots__ = ("addr",)

    def __init__(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address):
        self.addr = addr

    def __eq__(self, other):
        return isinstance(other, IPAddr) and self.addr == other.addr

    def __hash__(self):
        return hash(self.addr)

    def __str__(self):
        return str(self.addr)


class CIDR:
    """A net.CIDR value: an address and a prefix length (library/cidr.go)."""

    __slots__ = ("addr", "prefix")

    def __init__(self, addr, prefix: int):
        self.addr = addr
        self.prefix = prefix

    @property
    def network(self):
        import ipaddress

        return ipaddress.ip_network(f"{self.addr}/{self.prefix}", strict=False)

    def __eq__(self, other):
        return isinstance(other, CIDR) and self.addr == other.addr and self.prefix == other.prefix

    def __hash__(self):
        return hash((self.addr, self.prefix))

    def __str__(self):
        return f"{self.addr}/{self.prefix}"


def type_name(v: Any) -> str:
    """Return the CEL type name of a runtime value (for 'no such overload' messages)."""
    t = type(v)
    if t is bool:
        return "bool"
    if t is UInt:
        return "uint"
    if t is int:
        return "int"
    if t is float:
        return "double"
    if t is str:
        return "string"
    if t is bytes:
        return "bytes"
    if v is None:
        return "null_type"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "map"
    if t is Quantity:
        return "kubernetes.Quantity"
    if t is Semver:
        return "kubernetes.Semver"
    if t is IPAddr:
        return "net.IP"
    if t is CIDR:
        return "net.CIDR"
    if t is Optional:
        return "optional_type"
    return t.__name__


def equals(a: Any, b: Any) -> bool:
    """CEL equality: numbers compare by value across int/uint/double; other types must match."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in _NUM and tb in _NUM:
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if not _has_key(b, k) or not equals(v, _get_key(b, k)):
                return False
        return True
    if ta is not tb:
        return False
    return a == b


_NUM = (int, UInt, float)


def _has_key(m: dict, k: Any) -> bool:
    return any(equals(k, x) for x in m) if type(k) is bool or k.__class__ in _NUM else k in m


def _get_key(m: dict, k: Any) -> Any:
    if type(k) is bool or k.__class__ in _NUM:
        for x, v in m.items():
            if equals(k, x):
                return v
    return m[k]


def map_lookup(m: dict, k: Any) -> tuple[bool, Any]:
    """Return (found, value) of key ``k``; numeric keys match across int/uint/double, bool keys only bools."""
    if type(k) is str:
        try:
            return True, m[k]
        except KeyError:
            return False, None
    for x, v in m.items():
        if equals(k, x):
            return True, v
    return False, None


def check_int(v: int) -> int:
    if v < INT64_MIN or v > INT64_MAX:
        raise EvalError("integer overflow")
    return v


def check_uint(v: int) -> UInt:
    if v < 0 or v > UINT64_MAX:
        raise EvalError("unsigned integer overflow")
    return UInt(v)


def format_double(d: float) -> str:
    """Go's strconv.FormatFloat(d, 'g', -1, 64), as cel-go's string(double) gives it."""
    if math.isnan(d):
        return "NaN"
    if math.isinf(d):
        return "+Inf" if d > 0 else "-Inf"
    if d == 0:
        return "-0" if math.copysign(1, d) < 0 else "0"
    sign, digits, exp = Decimal(repr(d)).normalize().as_tuple()
    ds = "".join(str(x) for x in digits)
    dp = len(ds) + int(exp)  # position of the decimal point
    x = dp - 1
    s = "-" if sign else ""
    if x < -4 or x >= 6:  # shortest form: Go uses %e past these exponents
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{s}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if dp <= 0:
        return f"{s}0.{'0' * -dp}{ds}"
    if dp >= len(ds):
        return s + ds + "0" * (dp - len(ds))
    return f"{s}{ds[:dp]}.{ds[dp:]}"


def to_string(v: Any) -> str:
    """string(v) for the types CEL converts (int, uint, double, bool, string, bytes, and the opaque ones)."""
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int or t is UInt:
        return str(int(v))
    if t is float:
        return format_double(v)
    if t is bytes:
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise EvalError("invalid UTF-8 in bytes, cannot convert to string") from None
    if t in (Quantity, Semver, IPAddr, CIDR):
        return str(v)
    raise EvalError(f"no such overload: string({type_name(v)})")
