"""One device as the CEL activation ``{"device": ...}`` of DRA's selectors.

As DRA's DeviceMatches builds it (dynamic-resource-allocation/cel/compile.go):
qualified names are split into domain and name (a bare name is in the
driver's domain: rmctl's default is ``rmctl.io``), values keep their type
(bool, int, string, version; lists of those stay CEL lists), capacities are
quantities, and a domain no device publishes reads as an empty map.
"""

from __future__ import annotations

from fractions import Fraction

from rmctl.resources.cel.quantity import Quantity
from rmctl.resources.cel.semver import Semver
from rmctl.resources.cel.values import DomainMap

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

#: the domain of attribute names written without one (DRA: the driver's name)
DEFAULT_DOMAIN = "rmctl.io"


def _version(text: str) -> Any:
    try:
        return Semver.parse(text)
    except ValueError:
        return text


def cel_attribute(v: Any) -> Any:
    """Return the CEL value of an attribute: bool, int, string, version, or a list of them."""
    if isinstance(v, dict) and len(v) == 1:  # ResourceSlice shape {"int": 3} / {"version": "1.2.3"}
        ((k, inner),) = v.items()
        if k == "version":
            return _version(str(inner))
        if k.endswith("Values"):  # list-type attributes: {"stringValues": [...]}, {"versionValues": [...]}
            return [_version(str(x)) if k == "versionValues" else cel_attribute(x) for x in inner or []]
        return cel_attribute(inner)
    if isinstance(v, (Semver, Quantity)):
        return v
    if type(v).__name__ == "Version" and isinstance(v, str):  # rmctl.model.pci.Version (DRA's version type)
        return _version(str(v))
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [cel_attribute(x) for x in v]
    if v is None:
        return ""
    return str(v)


def cel_capacity(v: Any) -> Quantity:
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


def split_qualified(name: str, default_domain: str = DEFAULT_DOMAIN) -> tuple[str, str]:
    """Return (domain, id) of a qualified name ``domain/id``; bare ids are in ``default_domain``."""
    domain, sep, ident = name.partition("/")
    return (domain, ident) if sep else (default_domain, name)


def device_activation(
    driver: str | None,
    attributes: dict[str, Any],
    capacity: dict[str, Any],
    *,
    allow_multiple_allocations: bool = False,
    default_domain: str = DEFAULT_DOMAIN,
) -> dict:
    """Return the CEL activation ``{"device": ...}`` for one device.

    ``attributes`` and ``capacity`` are keyed by qualified names
    (``rmctl.io/kind``, ``resource.kubernetes.io/numaNode``); ``driver``
    is what ``device.driver`` reads.  A capacity that does not parse as a
    quantity is left out (and so is "missing").
    """
    attrs: dict[str, dict] = {}
    for q, v in attributes.items():
        dom, ident = split_qualified(q, default_domain)
        attrs.setdefault(dom, {})[ident] = cel_attribute(v)
    caps: dict[str, dict] = {}
    for q, v in capacity.items():
        dom, ident = split_qualified(q, default_domain)
        try:
            caps.setdefault(dom, {})[ident] = cel_capacity(v)
        except ValueError:
            continue
    return {
        "device": {
            "driver": driver or "",
            "attributes": DomainMap(attrs),
            "capacity": DomainMap(caps),
            "allowMultipleAllocations": bool(allow_multiple_allocations),
        }
    }
