"""Every action kind, and reading actions and plans back from their data (saved plans, journals).

A kind registers itself in :data:`rmctl.model.plan.ACTION_KINDS` when its
class is made, so reading data back needs every module that defines
kinds imported: this module imports them (the generic ones in
``plan.py``, and ``cpu_actions``, ``hugepage_actions``,
``profile_actions``), so whoever reads a plan or a journal imports this,
never a list of module names.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from rmctl.errors import UsageError
from rmctl.model import cpu_actions, hugepage_actions, profile_actions
from rmctl.model.plan import ACTION_KINDS, PLAN_SCHEMA, Action, Plan

#: the modules whose kinds this one registers (imported above for that)
KIND_MODULES = (cpu_actions, hugepage_actions, profile_actions)


def action_from_data(d: dict[str, Any]) -> Action:
    """Return the Action that ``d`` (an ``Action.to_data()``) describes; UsageError for an unknown or bad one."""
    kind = d.get("kind")
    cls = ACTION_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise UsageError(f"unknown action kind {kind!r} in plan")
    names = {f.name for f in fields(cls)}
    try:
        # JSON has no tuples: sequence fields (BootArgs.add...) come back as lists,
        # which would make a frozen action unhashable and unequal to the original.
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in names})
    except (TypeError, ValueError) as e:
        raise UsageError(f"bad {kind} action in plan: {e}") from None


def plan_from_data(d: dict[str, Any]) -> Plan:
    """Return the Plan that ``d`` (a ``Plan.to_data()``, a saved plan) describes; UsageError when it is none."""
    if not isinstance(d, dict) or d.get("kind") != "Plan":
        raise UsageError("not an rmctl plan (kind: Plan expected)")
    if d.get("apiVersion") != PLAN_SCHEMA:
        raise UsageError(f"unsupported plan apiVersion {d.get('apiVersion')!r}; expected {PLAN_SCHEMA}")
    acts = d.get("actions") or []
    if not isinstance(acts, list):
        raise UsageError("plan actions must be a list")
    intent = d.get("intent")
    if intent is not None and not isinstance(intent, dict):
        raise UsageError("plan intent must be a mapping")
    return Plan(actions=[action_from_data(a) for a in acts], fingerprint=d.get("fingerprint"),
                command=d.get("command", ""), notes=list(d.get("notes") or []), intent=intent)


def plan_data_roundtrip(plan: Plan) -> Plan:
    """Return the plan after a JSON round trip (what a saved plan becomes)."""
    return plan_from_data(json.loads(json.dumps(plan.to_data(), default=list)))
