"""What every Kubernetes manifest reader here shares: bounded reading, headers, names, quantities.

Manifests are untrusted input (rmctl runs as root; a file handed over by
someone else, a ``kubectl get -o yaml`` dump, a Helm rendering), so they
are read within bounds before YAML sees them (:mod:`rmctl.resources.manifests`,
re-exported here) and counted while they are composed: at most :data:`MAX_FILE_BYTES` per file, :data:`MAX_DOCUMENTS`
documents and :data:`MAX_NODES` YAML values (an alias counted as every
value it stands for, without expanding it, so a "billion laughs" document
stops at the budget after a few hundred events), only regular files (a
FIFO or a device is refused, never waited on).  YAML is parsed by
:mod:`rmctl.resources.yamlio` (``SafeLoader`` only, duplicate keys refused,
positions kept, depth bounded).

Names and limits follow the API server's validation
(k8s.io/apimachinery/pkg/util/validation: DNS-1123 labels and subdomains;
staging/src/k8s.io/api/resource/v1/types.go for the DRA limits).
"""

from __future__ import annotations

import re
from fractions import Fraction

# the bounded reading is rmctl.resources.manifests' (an rmctl request is read without this package)
from rmctl.resources.manifests import (  # noqa: F401  # re-exported
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_NODES,
    read_manifests,
    read_text,
)
from rmctl.resources.yamlio import Reader, item_pos, pos

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")  # RFC 1123 label, at most 63
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")  # at most 253
#: a C identifier, DRA's attribute and capacity IDs (resource/v1 QualifiedName, at most 32)
C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


# -- headers -----------------------------------------------------------------------

class Meta:
    """An object's identity: apiVersion, kind, name, namespace and where it was written."""

    __slots__ = ("api_version", "kind", "name", "namespace", "where", "doc")

    def __init__(self, api_version: str, kind: str, name: str, namespace: str | None, where: str, doc: dict):
        self.api_version = api_version
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.where = where  #: "file:line:col" of the document
        self.doc = doc

    def ref(self) -> str:
        """Return ``Kind namespace/name`` (``Kind name`` when cluster-scoped)."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


def meta(rd: Reader, doc: dict, *, namespaced: bool = True, path: str = "metadata", parent=None,
         key: str = "metadata") -> tuple[str, str | None]:
    """Return (name, namespace) of an ObjectMeta; the name may come from generateName.

    Only the fields rmctl uses are checked; the rest of ObjectMeta (labels,
    annotations, uid, ownerReferences, managedFields...) is allowed and not read.
    """
    parent = doc if parent is None else parent
    m = parent.get(key) if isinstance(parent, dict) else None
    if m is None:
        m = {}
    rd.mapping(m, path, parent, key)
    name = m.get("name")
    if name is None and m.get("generateName"):
        name = str(m["generateName"]) + "<generated>"
    if name is not None:
        if not isinstance(name, str) or not name:
            rd.fail(pos(m, "name"), f"{path}.name", "expected a non-empty string")
        if "<generated>" not in name and (len(name) > 253 or not DNS_SUBDOMAIN.match(name)):
            rd.fail(pos(m, "name"), f"{path}.name",
                    f"{name!r} is not a valid name (lowercase letters, digits, '-' and '.', at most 253)")
    ns = None
    if namespaced:
        ns = m.get("namespace", "default")
        if not isinstance(ns, str) or not DNS_LABEL.match(ns) or len(ns) > 63:
            rd.fail(pos(m, "namespace"), f"{path}.namespace", f"{ns!r} is not a valid namespace name")
    return name or "", ns


def dns_label(rd: Reader, value, path: str, parent, key) -> str:
    """Return ``value`` checked to be a DNS-1123 label (request, container and claim names)."""
    if not isinstance(value, str) or not value:
        rd.fail(pos(parent, key), path, "expected a non-empty string")
    if len(value) > 63 or not DNS_LABEL.match(value):
        rd.fail(pos(parent, key), path,
                f"{value!r} must be a DNS label (lowercase letters, digits and '-', at most 63 characters)")
    return value


def quantity(rd: Reader, value, path: str, parent, key) -> Fraction:
    """Return a Kubernetes quantity (``8``, ``500m``, ``4Gi``, a YAML number) as an exact Fraction."""
    from rmctl.resources.cel import parse_quantity

    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        rd.fail(pos(parent, key), path, "expected a quantity such as 8, 500m or 4Gi")
    text = repr(value) if isinstance(value, float) else str(value)
    try:
        q = parse_quantity(text)
    except ValueError:
        rd.fail(pos(parent, key), path, f"{value!r} is not a Kubernetes quantity (8, 500m, 4Gi, 1.5)")
    if q < 0:
        rd.fail(pos(parent, key), path, f"{value!r} must not be negative")
    return q


def fully_qualified(rd: Reader, value, path: str, parent, key) -> str:
    """Return a DRA FullyQualifiedName (``domain/ID``), as matchAttribute requires (resource/v1 types.go)."""
    if not isinstance(value, str) or "/" not in value:
        rd.fail(pos(parent, key), path,
                f"{value!r} must be a fully qualified attribute name: DOMAIN/NAME, e.g. resource.kubernetes.io/pcieRoot")
    domain, _, ident = value.rpartition("/")
    if len(domain) > 63 or not DNS_SUBDOMAIN.match(domain) or len(ident) > 32 or not C_IDENTIFIER.match(ident):
        rd.fail(pos(parent, key), path,
                f"{value!r} is not DOMAIN/NAME (a DNS subdomain of at most 63 characters, a C identifier of at most 32)")
    return value


def seq_of_maps(rd: Reader, obj, key: str, path: str, *, max_items: int | None = None) -> list[dict]:
    """Return ``obj[key]`` checked to be a list of mappings (absent or null: [])."""
    raw = obj.get(key)
    if raw is None:
        return []
    lst = rd.seq(raw, path, obj, key)
    if max_items is not None and len(lst) > max_items:
        rd.fail(pos(obj, key), path, f"at most {max_items} entries, got {len(lst)}")
    for i, item in enumerate(lst):
        if not isinstance(item, dict):
            rd.fail(item_pos(lst, i), f"{path}[{i}]", "expected a mapping")
    return lst


def where(rd: Reader, obj, key: str | None = None) -> str:
    """Return ``file:line:col`` of a mapping or one of its keys."""
    return f"{rd.filename}:{pos(obj, key)}"
