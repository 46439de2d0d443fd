"""docs/security.md's limits are the code's (issue 15): every number in its Limits tables is the value of
the constant the row names, and every ``MAX_*`` constant of rmctl is in a row (or listed here, with why not).
"""

from __future__ import annotations

import ast
import importlib
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(REPO, "docs", "security.md")

#: constants named like limits that are not limits of input, and why
NOT_LIMITS = {
    "rmctl.resources.cel.quantity.MAX_QUANTITY": "a quantity's value saturates there (as Kubernetes' does): "
                                                 "not a refusal",
    "rmctl.exports.resourceslice.MAX_DEVICES": "output: slices are split at the API's ResourceSliceMaxDevices",
}
#: names that are limits without MAX_ in their name (read caps, chunk sizes, cache sizes)
ALSO = {"READ_CAP", "KEEP_BYTES", "CHUNK", "PIECE", "DRAIN_BYTES", "DIR_CACHE", "STALE_TMP_SECONDS",
        "DEFAULT_LOCK_TIMEOUT"}
_UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "hour": 3600, "hours": 3600, "s": 1}
_VALUE = re.compile(r"\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(KiB|MiB|GiB|hours?|s\b)?")
_CONST = re.compile(r"`(rmctl(?:\.\w+)+)\.(\w+)`")


def limit_rows() -> list[tuple[str, str, str]]:
    """Return (limit, value, where) of every row of the tables under '## Limits'."""
    text = open(DOC, encoding="utf-8").read()
    section = text[text.index("\n## Limits\n"):]
    section = section[: section.index("\n## ", 5)]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and line.startswith("|") and cells[0] not in ("limit", "---"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def value_of(cell: str) -> float:
    m = _VALUE.match(cell)
    assert m, f"no number at the start of {cell!r}"
    return float(m.group(1).replace(",", "")) * _UNITS.get(m.group(2) or "", 1)


def test_every_documented_number_is_the_constants_value():
    rows = limit_rows()
    checked = 0
    for limit, value, where in rows:
        for module, name in _CONST.findall(where):
            const = getattr(importlib.import_module(module), name)
            assert float(const) == value_of(value), f"{limit}: docs say {value}, {module}.{name} is {const}"
            checked += 1
    assert checked >= 60, checked


def _limit_constants() -> set[str]:
    out = set()
    pkg = os.path.join(REPO, "rmctl")
    for dirpath, _, names in os.walk(pkg):
        for n in names:
            if not n.endswith(".py"):
                continue
            path = os.path.join(dirpath, n)
            module = os.path.relpath(path, REPO)[:-3].replace(os.sep, ".").removesuffix(".__init__")
            for node in ast.parse(open(path, encoding="utf-8").read()).body:
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, ast.AnnAssign) else []
                for t in targets:
                    elts = t.elts if isinstance(t, ast.Tuple) else [t]
                    for e in elts:
                        if isinstance(e, ast.Name) and (re.fullmatch(r"_?MAX_[A-Z0-9_]+", e.id) or e.id in ALSO):
                            out.add(f"{module}.{e.id}")
    return out


def test_every_limit_constant_is_documented():
    documented = {f"{m}.{n}" for _, _, where in limit_rows() for m, n in _CONST.findall(where)}
    missing = sorted(_limit_constants() - documented - set(NOT_LIMITS))
    assert not missing, "limits not in docs/security.md's Limits tables: " + ", ".join(missing)
