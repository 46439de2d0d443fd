"""What a plan is for: the command and arguments (or the profile) a saved plan records.

Every plan a command prints (``--dry-run -o json``, ``rmctl plan -o
json``) carries an ``intent``::

    "intent": {"command": "hugepages set", "args": {"assignments": ["2M=512"], "node": 0, ...}}
    "intent": {"command": "plan", "args": {"file": "/etc/rmctl/worker.yaml"}, "profile": "<the YAML text>"}

``rmctl apply -f PLAN`` plans the intent again on this node
(rmctl.ops.saved_plans) and runs only what rmctl would plan now: a saved
plan is input, and its actions are never trusted on their own (issue 15).

:data:`SCHEMAS` is the one list of the commands whose plans may be applied
and of their arguments, each with its type; the use case that makes a
plan records its intent through :func:`make` (which checks it against the
schema, so a renamed argument fails its tests), and apply reads it back
through :func:`parse`, which refuses anything else (exit 5).  Paths are
recorded absolute: the plan may be applied from another directory.
``cpu run`` records none: its plan runs a command, which apply does not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from rmctl.errors import InvalidPlanError

# argument types (PATHS: one path, or a list of them: request evaluate's FILE...)
STR, INT, BOOL, STRS, PATH, PATHS = "str", "int", "bool", "strs", "path", "paths"
#: the longest string, and the most list items, an intent argument may hold
MAX_TEXT, MAX_ITEMS = 4096, 64
#: the longest profile text a plan may record (the saved plan's own read cap is 4 MiB)
MAX_PROFILE = 1 << 20

#: command -> {argument: type}; an argument may always be null (absent: the command's default)
SCHEMAS: dict[str, dict[str, str]] = {
    "plan": {"file": PATH},
    "hugepages set": {"assignments": STRS, "node": INT, "per_node": STR, "overcommit": INT,
                      "all_or_nothing": BOOL, "force": BOOL},
    "hugepages size": {"amount": STR, "page_size": STR, "nodes": STR, "spread": STR, "all_or_nothing": BOOL,
                       "force": BOOL},
    "hugepages mount": {"path": STR, "page_size": STR, "size": STR, "min_size": STR, "nr_inodes": STR,
                        "uid": INT, "gid": INT, "mode": STR},
    "hugepages umount": {"path": STR, "rmdir": BOOL},
    "hugepages boot-args": {"assignments": STRS, "per_node": BOOL, "default_size": STR},
    "cpu reserve": {"name": STR, "count": INT, "cpus": STR, "numa": INT, "socket": INT, "near": STR,
                    "from_": STR, "prefer_numa": STR, "options": STRS, "owner_pid": INT, "force": BOOL},
    "cpu release": {"name": STR},
    "cpu reconcile": {},
    "cpu reserve-system": {"count": INT, "cpus": STR, "clear": BOOL},
    "cpu pin": {"pid": INT, "reservation": STR, "cpus": STR, "force": BOOL},
    "cpu cpuset": {"name": STR, "partition": STR, "move": INT, "parent": STR},
    "request evaluate --reserve": {"name": STR, "file": PATHS, "class_dir": PATH, "max_numa_nodes": INT},
    "request release": {"name": STR},
}


def make(command: str, profile: str | None = None, **args: Any) -> dict[str, Any]:
    """Return the intent of ``command`` run with ``args`` (the use case's own keyword names).

    Paths become absolute (``-`` stays: standard input).  An argument the
    schema does not name is a bug in the caller (ValueError), not input.
    """
    schema = SCHEMAS[command]
    unknown = set(args) - set(schema)
    if unknown:
        raise ValueError(f"intent of {command!r}: unknown arguments {sorted(unknown)}")
    out: dict[str, Any] = {}
    for k, v in args.items():
        if v is None:
            continue
        if schema[k] == PATHS and not isinstance(v, str):
            v = [x if x == "-" else os.path.abspath(x) for x in v]
            if len(v) == 1:
                v = v[0]  # one file: recorded as before
        elif schema[k] in (PATH, PATHS) and v != "-":
            v = os.path.abspath(v)
        elif schema[k] == STRS:
            v = [str(x) for x in v]
        out[k] = v
    intent: dict[str, Any] = {"command": command, "args": out}
    if profile is not None:
        intent["profile"] = profile
    return intent


def stamp(data: dict[str, Any], intent: Mapping[str, Any], key: str = "plan") -> dict[str, Any]:
    """Record ``intent`` in the plan that document body ``data`` holds under ``key`` (if any); return ``data``."""
    plan = data.get(key)
    if isinstance(plan, dict):
        plan["intent"] = dict(intent)
    return data


def parse(intent: Any) -> tuple[str, dict[str, Any], str | None]:
    """Return (command, arguments, profile text) of a saved plan's intent; InvalidPlanError (exit 5) otherwise.

    Every argument is checked against :data:`SCHEMAS` (name, type, size)
    before anything is planned with it.
    """
    if intent is None:
        raise InvalidPlanError(
            "the saved plan records no intent (the command or profile it was made for), so rmctl cannot "
            "check its actions", hint="make the plan again with this rmctl (rmctl plan -f PROFILE -o json, or the "
                                      "command's --dry-run -o json)")
    if not isinstance(intent, Mapping) or set(intent) - {"command", "args", "profile"}:
        raise InvalidPlanError("the saved plan's intent is not {command, args[, profile]}")
    command = intent.get("command")
    if not isinstance(command, str) or command not in SCHEMAS:
        raise InvalidPlanError(f"the saved plan is for {str(command)[:80]!r}, which apply does not run",
                               hint="commands whose plans apply runs: " + ", ".join(sorted(SCHEMAS)))
    raw = intent.get("args") or {}
    if not isinstance(raw, Mapping):
        raise InvalidPlanError("the saved plan's intent arguments are not a mapping")
    schema = SCHEMAS[command]
    args: dict[str, Any] = {}
    for k, v in raw.items():
        if k not in schema:
            raise InvalidPlanError(f"the saved plan's intent gives {command} an argument it does not take: {str(k)[:80]!r}")
        if v is not None:
            args[k] = _checked(command, k, schema[k], v)
    profile = intent.get("profile")
    if command == "plan":
        if not isinstance(profile, str) or not profile or len(profile) > MAX_PROFILE:
            raise InvalidPlanError("the saved plan of a profile does not record the profile's text")
    elif profile is not None:
        raise InvalidPlanError(f"the saved plan's intent records a profile for {command}")
    return command, args, profile


def _checked(command: str, name: str, kind: str, v: Any) -> Any:
    def bad(what: str) -> InvalidPlanError:
        return InvalidPlanError(f"the saved plan's intent gives {command} {name}={str(v)[:80]!r}: {what}")

    if kind == BOOL:
        if not isinstance(v, bool):
            raise bad("not true or false")
        return v
    if kind == INT:
        if not isinstance(v, int) or isinstance(v, bool) or not -(1 << 31) <= v < 1 << 31:
            raise bad("not an integer")
        return v
    if kind == STRS:
        if not isinstance(v, list) or len(v) > MAX_ITEMS or not all(isinstance(x, str) for x in v):
            raise bad(f"not a list of at most {MAX_ITEMS} strings")
        for x in v:
            _text(x, bad)
        return list(v)
    if kind == PATHS and isinstance(v, list):
        if not v or len(v) > MAX_ITEMS:
            raise bad(f"not a list of 1 to {MAX_ITEMS} paths")
        return [_checked(command, name, PATHS, x) for x in v]
    if kind == PATHS and v == "-":  # a profile's text is recorded; a request read from stdin is not
        raise bad("standard input cannot be read again when the plan is applied: save it to a file and plan "
                  "from that")
    _text(v, bad)
    if kind in (PATH, PATHS) and v != "-" and not os.path.isabs(v):
        raise bad("not an absolute path")
    return v


def _text(v: Any, bad) -> None:
    if not isinstance(v, str) or len(v) > MAX_TEXT or "\0" in v or "\n" in v:
        raise bad(f"not a one-line string of at most {MAX_TEXT} characters")
