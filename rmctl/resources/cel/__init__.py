"""CEL for device selectors, in DRA's dialect: parser, type checker, cost estimator and evaluator.

Variables are the ones DRA gives a DeviceClass or a request selector
(kubernetes staging/src/k8s.io/dynamic-resource-allocation/cel/compile.go):

* ``device.driver``: the driver name (an input of :func:`device_activation`);
* ``device.attributes["domain"].name``: typed attributes by qualified name;
* ``device.capacity["domain"].name``: capacities, always Kubernetes quantities;
* ``device.allowMultipleAllocations``: bool.

A selector is compiled once (:func:`compile_selector`): parsed, type-checked
against the declared ``device`` (:mod:`.schema`), and its worst-case cost
estimated; anything DRA's API server would refuse (a non-bool result, an
undeclared name, a wrong overload, a bad regex constant, a cost past
1,000,000) is a :class:`CelError` at load.  :meth:`Selector.evaluate` runs
it on one device within the same cost budget and a wall-clock guard.

The engine is rmctl's own (no third-party CEL package; RE2 for regexes),
see docs/cel.md for why and for every deliberate difference from cel-go.
This package imports nothing heavy until a selector is compiled: the names
below load their module on first use.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "CelError": "errors",
    "Quantity": "quantity",
    "parse_quantity": "quantity",
    "Semver": "semver",
    "normalize_semver": "semver",
    "DeviceSchema": "schema",
    "known_attributes": "schema",
    "DEFAULT_SCHEMA": "schema",
    "device_activation": "activation",
    "split_qualified": "activation",
    "Outcome": "selector",
    "Selector": "selector",
    "compile_selector": "selector",
    "check_selector": "selector",
    "describe_eval_error": "selector",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
