"""The stable machine-readable schema: one envelope for every JSON/YAML document.

Every document is ``{"apiVersion": "rmctl.io/v1alpha1", "kind": KIND, ...}``
followed by the command's own keys (``summary``, ``reservations``,
``devices``...).  CPU sets are canonical cpulist strings, sizes are bytes.
Errors are ``kind: Error`` with ``error: {code, message, hint}`` and
``exit_code``.  The same bytes are printed on a terminal and on a pipe.
"""

from __future__ import annotations

import json

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
    err = {"code": code, "message": message, "hint": hint}
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


def dumps(doc: dict[str, Any], fmt: str) -> str:
    """Return ``doc`` as JSON or YAML text (a trailing newline included)."""
    if fmt == "json":
        return json.dumps(doc, indent=2, default=_default) + "\n"
    if fmt == "yaml":
        import yaml  # only for yaml output: it costs ~30 ms to import

        plain = json.loads(json.dumps(doc, default=_default))
        return yaml.safe_dump(plain, sort_keys=False, default_flow_style=False)
    raise ValueError(fmt)
