"""Kubernetes quantities as CEL values (k8s.io/apimachinery/pkg/api/resource, library/quantity.go).

Exact arithmetic: ``1Gi`` is 1073741824 and ``1G`` is 1000000000 and the two
never compare equal.  Standard library only.
"""

from __future__ import annotations

import re
from fractions import Fraction

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


# apimachinery/pkg/api/resource/suffix.go: binary suffixes are powers of 2,
# decimal ones powers of 10; "e"/"E" introduce a decimal exponent.
_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_DECIMAL: dict[str, Fraction | int] = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_QUANTITY = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|([eE][+-]?\d+))?\Z", re.ASCII)


#: apimachinery's splitRE, the shape checked before the suffix (resource/quantity.go)
_K8S_SHAPE = re.compile(r"[+-]?[0-9.]+[eEinumkKMGTP]*[-+]?[0-9]*", re.ASCII)

#: apimachinery's bound: a quantity is capped at 2^63-1 in magnitude (resource/quantity.go maxAllowed)
MAX_QUANTITY = Fraction(INT64_MAX)
#: and rounded up (away from zero) to a multiple of 1n
NANO = Fraction(1, 10**9)
#: the largest decimal exponent kept exactly (above it 1eN is 1e1100)
_MAX_EXP = 1100
#: the exponent of 1e<exp> is an int32 in ParseQuantity (strconv.ParseInt(..., 10, 32))
_INT32 = 1 << 31


def parse_quantity(text: str) -> Fraction:
    """Return the exact value of a Kubernetes quantity string (``16Gi``, ``1.5G``, ``100m``, ``1e3``).

    Like apimachinery's ParseQuantity, a value is rounded up to a multiple
    of 1n, and a binary-suffixed one capped at 2^63-1.  ``1e99999999`` is
    parsed in microseconds (its exponent is clamped at 1100).
    """
    if not isinstance(text, str) or len(text) > 1024:
        raise ValueError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    m = _QUANTITY.match(text)
    if not m or m.group(0) != text:
        if _K8S_SHAPE.fullmatch(text):  # apimachinery's first check passes, its suffix parse does not
            raise ValueError(f"unable to parse quantity's suffix: {text!r}")
        raise ValueError(
            f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}"
        )
    sign, num, suffix, exp = m.groups()
    value = Fraction(num)
    if exp:
        e = exp[1:].lstrip("+-").lstrip("0") or "0"
        if len(e) > 10 or int(e) >= _INT32:
            raise ValueError(f"unable to parse quantity's suffix: {text!r}")
        e10 = -int(e) if exp[1:].startswith("-") else int(e)
        if value == 0:
            pass
        elif e10 < -_MAX_EXP:  # below 1n whatever the mantissa (< 1e1024 here): rounds up to 1n
            value = NANO
        else:
            # Go's inf.Dec keeps 1e99999999 as (1, scale); a Python integer of that
            # size would take minutes, so the exponent is clamped (docs/cel.md)
            value *= Fraction(10) ** min(e10, _MAX_EXP)
    elif suffix in _BINARY:
        value *= _BINARY[suffix]
    else:
        value *= _DECIMAL[suffix or ""]
    if value.denominator != 1 and (value / NANO).denominator != 1:
        value = Fraction(-((-value.numerator * 10**9) // value.denominator), 10**9)  # round up to 1n
    if suffix in _BINARY:  # ParseQuantity caps BinarySI amounts only
        value = min(value, MAX_QUANTITY)
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
