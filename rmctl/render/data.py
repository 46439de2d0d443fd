"""The stable machine-readable schema: one envelope for every JSON/YAML document.

Every document is ``{"apiVersion": "rmctl.io/v1alpha1", "kind": KIND, ...}``
followed by the command's own keys (``summary``, ``reservations``,
``devices``...).  CPU sets are canonical cpulist strings, sizes are bytes.
Errors are ``kind: Error`` with ``error: {code, message, hint}`` and
``exit_code``.  The same bytes are printed on a terminal and on a pipe.
"""

from __future__ import annotations

try:  # the C function json.dumps uses, without importing json (and re, enum): topology -o json's fast path
    from _json import encode_basestring_ascii as _str
except ImportError:  # an interpreter without the _json accelerator
    from json.encoder import encode_basestring_ascii as _str

from rmctl.cpuset import CpuSet

TYPE_CHECKING = False  # the typing module costs ~2 ms on the fast path; type checkers see True
if TYPE_CHECKING:
    from typing import Any

API_VERSION = "rmctl.io/v1alpha1"
#: bumped on incompatible changes of any document; additions keep it
SCHEMA_VERSION = 1


def document(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` wrapped in the versioned envelope."""
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": kind, "schemaVersion": SCHEMA_VERSION}
    doc.update(data)
    return doc


def error_document(code: str, message: str, hint: str | None, exit_code: int,
                   details: dict | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "hint": hint}
    if details:
        err["details"] = details
    return document("Error", {"error": err, "exit_code": exit_code})


def _default(o: Any):
    if isinstance(o, CpuSet):
        return o.to_list()
    if isinstance(o, (set, frozenset, tuple)):
        return sorted(o) if isinstance(o, (set, frozenset)) else list(o)
    if hasattr(o, "to_data"):
        return o.to_data()
    raise TypeError(f"not serialisable: {type(o).__name__}")


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o in (_INF, -_INF):
        return "Infinity" if o > 0 else "-Infinity"
    return float.__repr__(o)


_INF = float("inf")


def _key(k: Any) -> str:
    if isinstance(k, str):
        return k
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return int.__repr__(k)
    if isinstance(k, float):
        return _float(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _pretty(doc: Any) -> str:
    """Return ``json.dumps(doc, indent=2, default=_default)``, byte for byte, faster.

    The json module indents in pure Python, one generator per container;
    here each container is one join, scalars are encoded inline and keys
    once per document: about 1.4x faster, which is a quarter of ``topology
    -o json`` on 4,096 CPUs (tests/unit/test_render_json.py checks the bytes
    against json.dumps).
    """
    keys: dict[Any, str] = {}

    def key(k: Any) -> str:
        s = keys.get(k) if type(k) is str else None
        if s is None:
            s = _str(_key(k)) + ": "
            if type(k) is str:
                keys[k] = s
        return s

    def value(v: Any, ind: str) -> str:
        t = type(v)
        if t is str:
            return _str(v)
        if t is int:
            return int.__repr__(v)
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        return encode(v, ind)

    def encode(o: Any, ind: str) -> str:
        # the order of json.encoder's tests, subclasses included
        if isinstance(o, str):
            return _str(o)
        if o is None:
            return "null"
        if o is True:
            return "true"
        if o is False:
            return "false"
        if isinstance(o, int):
            return int.__repr__(o)
        if isinstance(o, float):
            return _float(o)
        if isinstance(o, (list, tuple)):
            if not o:
                return "[]"
            inner = ind + "  "
            return "[" + inner + ("," + inner).join([value(v, inner) for v in o]) + ind + "]"
        if isinstance(o, dict):
            if not o:
                return "{}"
            inner = ind + "  "
            return "{" + inner + ("," + inner).join([key(k) + value(v, inner) for k, v in o.items()]) + ind + "}"
        return encode(_default(o), ind)

    return encode(doc, "\n")


def dumps(doc: dict[str, Any], fmt: str) -> str:
    """Return ``doc`` as JSON, JSON on one line (``jsonl``: a JSON Lines record) or YAML, newline-terminated."""
    if fmt == "json":
        return _pretty(doc) + "\n"
    import json

    if fmt == "jsonl":
        return json.dumps(doc, default=_default, separators=(",", ":")) + "\n"
    if fmt == "yaml":
        import yaml  # only for yaml output: it costs ~30 ms to import

        plain = json.loads(json.dumps(doc, default=_default))
        return yaml.safe_dump(plain, sort_keys=False, default_flow_style=False)
    raise ValueError(fmt)
