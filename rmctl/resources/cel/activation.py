"""One device as the CEL activation ``{"device": ...}`` of DRA's selectors."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from celpy import celtypes

from rmctl.resources.cel.quantity import Quantity
from rmctl.resources.cel.semver import Semver


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
