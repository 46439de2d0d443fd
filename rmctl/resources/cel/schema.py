"""DRA's ``device`` variable, declared for the checker, with the attributes rmctl publishes.

DRA (dynamic-resource-allocation/cel/compile.go) declares ``device`` as an
object with ``driver`` (string), ``attributes`` (domain -> name -> a value
of any of the four attribute types, or a list of them) and ``capacity``
(domain -> name -> quantity), and ``allowMultipleAllocations`` (bool).
Size bounds come from the API (k8s.io/api/resource/v1/types.go) and feed
the cost estimator exactly as DRA's sizeEstimator uses them.

rmctl is stricter where it knows more: the domains rmctl publishes
(``rmctl.io`` and the standard ``resource.kubernetes.io``, docs/devices.md,
rmctl/model/pci.py ``build_attributes``) are declared name by name with
their types, so ``device.attributes["rmctl.io"].kind == 1`` and
``.kindd`` are refused at load, with a did-you-mean.  Other domains keep
DRA's rule: any name, a value of any type.  The declared domains are an
input (:class:`DeviceSchema`), not constants: a view with the NVIDIA
driver's ``gpu.nvidia.com`` domain passes its own.
"""

from __future__ import annotations

from rmctl.resources.cel import limits as L
from rmctl.resources.cel.types import BOOL, DYN, INT, QUANTITY, SEMVER, STRING, Type, map_of

RMCTL_DOMAIN = "rmctl.io"
DRA_DOMAIN = "resource.kubernetes.io"

#: DRA's four attribute types by name (resource.k8s.io DeviceAttribute: bool, int, string, version)
ATTRIBUTE_TYPES: dict[str, Type] = {"bool": BOOL, "int": INT, "string": STRING, "version": SEMVER}

#: the attributes rmctl publishes (docs/devices.md "Attributes"), domain -> name -> type name
RMCTL_ATTRIBUTES: dict[str, dict[str, str]] = {
    DRA_DOMAIN: {"pciBusID": "string", "pcieRoot": "string", "numaNode": "int"},
    RMCTL_DOMAIN: {
        "vendor": "string",
        "device": "string",
        "class": "string",
        "kind": "string",
        "numa": "int",
        "driver": "string",
        "vendorName": "string",
        "deviceName": "string",
        "virtio": "string",
        "iommuGroup": "int",
        "sriovRole": "string",
        "sriovTotalVFs": "int",
        "physfn": "string",
        "pcieGeneration": "int",
        "pcieWidth": "int",
        "interface": "string",
        "rdma": "bool",
        "linkLayer": "string",
        "model": "string",
        "productName": "string",
        "uuid": "string",
        "computeCapability": "version",
        "migMode": "bool",
        "driverVersion": "version",
    },
}

#: the capacities rmctl publishes (docs/devices.md "Capacity"), domain -> names
RMCTL_CAPACITY: dict[str, tuple[str, ...]] = {RMCTL_DOMAIN: ("memory", "speed", "storage")}


class DeviceSchema:
    """What the checker knows about devices: declared domains with typed names.

    ``attributes``: domain -> name -> DRA type name (bool, int, string,
    version); ``capacity``: domain -> names.  Lookups in other domains are
    typed as DRA types them (any value).  Treat as immutable.
    """

    __slots__ = ("attributes", "capacity")

    def __init__(
        self, attributes: dict[str, dict[str, str]] | None = None, capacity: dict[str, tuple[str, ...]] | None = None
    ):
        self.attributes = RMCTL_ATTRIBUTES if attributes is None else attributes
        self.capacity = RMCTL_CAPACITY if capacity is None else capacity

    def known_attributes(self) -> dict[str, dict[str, str]]:
        """Return domain -> attribute name -> type name (bool, int, string, version)."""
        return {d: dict(names) for d, names in self.attributes.items()}

    def known_capacity(self) -> dict[str, tuple[str, ...]]:
        return {d: tuple(names) for d, names in self.capacity.items()}

    def device_type(self) -> Type:
        """Return the type of ``device`` (DRA's kubernetes.DRADevice, with rmctl's declared domains)."""
        domain = STRING.sized(L.DEVICE_MAX_DOMAIN_LENGTH)
        ident = STRING.sized(L.DEVICE_MAX_ID_LENGTH)
        n = L.RESOURCE_SLICE_MAX_ATTRIBUTES_AND_CAPACITIES_PER_DEVICE
        any_attr = DYN.sized(L.ATTRIBUTE_MAX_ELEMENTS)
        inner_attrs = map_of(ident, any_attr, n)
        declared_attrs = {
            d: map_of(ident, any_attr, n, fields={k: _attr_type(t) for k, t in names.items()}, strict=True)
            for d, names in self.attributes.items()
        }
        inner_caps = map_of(ident, QUANTITY, n)
        declared_caps = {
            d: map_of(ident, QUANTITY, n, fields={k: QUANTITY for k in names}, strict=True)
            for d, names in self.capacity.items()
        }
        return Type(
            "object",
            "kubernetes.DRADevice",
            fields={
                "driver": STRING.sized(L.DRIVER_NAME_MAX_LENGTH),
                "attributes": map_of(domain, inner_attrs, n, fields=declared_attrs),
                "capacity": map_of(domain, inner_caps, n, fields=declared_caps),
                "allowMultipleAllocations": BOOL,
            },
        )


def _attr_type(name: str) -> Type:
    t = ATTRIBUTE_TYPES[name]
    # string values are bounded by DeviceAttributeMaxValueLength; the
    # estimator uses DRA's bound for every attribute (scalar or list)
    return t.sized(L.ATTRIBUTE_MAX_ELEMENTS) if t is STRING else t


DEFAULT_SCHEMA = DeviceSchema()


def known_attributes(schema: DeviceSchema | None = None) -> dict[str, dict[str, str]]:
    """Return the attribute names rmctl publishes and their DRA types, per domain (for did-you-mean)."""
    return (schema or DEFAULT_SCHEMA).known_attributes()
