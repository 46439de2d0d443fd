"""``rmctl apply -f PLAN.json``: a saved plan runs only if it is what rmctl would plan now for its intent.

A saved plan is input like a snapshot or a YAML file: whoever could write
the file may have edited it, and rmctl runs it as root (issue 15, "saved
plans execute anything").  So before anything runs, :func:`check`:

1. refuses every action outside what rmctl manages
   (rmctl.execute.confine: hugepage pools, rmctl's cpuset cgroups,
   hugetlbfs mount points, this state dir's state file, affinity), exit 5
   ``invalid_plan``;
2. reads the plan's intent (rmctl.ops.intent: the command and arguments,
   or the profile's text) and refuses a plan without one, or with one
   apply does not run (``cpu run``), exit 5;
3. walks the plan as the executor would (rmctl.execute.simulate), each
   expectation against what the actions before it leave: a plan whose
   actions are all in effect already is reported unchanged, and nothing
   is planned again;
4. plans the intent again on this node, through the same use case the
   command runs (its ``--dry-run``), and compares: every action, path and
   value must be the same, in the same order (state files compared as
   states: the times they were stamped at may differ).  A node that
   changed since (an expectation that no longer holds, another
   fingerprint) is ``stale_plan``; a plan that differs from what rmctl
   plans while the node did not change was edited: ``invalid_plan``.
   Both exit 5, before anything runs.

What runs is then the saved plan as reviewed, with each state file's
``previous`` (what undo puts back) read from the machine, not the file.
``--force`` runs what rmctl plans now for the intent instead (a stale plan
made current); it never runs the saved actions unchecked.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, fields, replace
from typing import Any

from rmctl.discovery.parse import parse_mounts
from rmctl.discovery.root import Root
from rmctl.errors import InvalidPlanError, RmctlError, StalePlanError
from rmctl.execute.confine import refusals
from rmctl.execute.host import Host
from rmctl.execute.simulate import OverlayHost, walk
from rmctl.model.actions import plan_from_data
from rmctl.model.plan import Plan, ReplaceFile
from rmctl.model.profile_actions import StateReplace, sha256
from rmctl.ops import intent as intents
from rmctl.ops.outcome import Message, warning
from rmctl.state.ledger import STATE_FILE
from rmctl.units import counted

#: the action kinds that replace or remove the state file
STATE_KINDS = ("replace-file", "replace-state", "remove-file")
_STAMP = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")


@dataclass
class Checked:
    """A saved plan that may run: ``plan`` (what runs), ``in_effect`` (every action already is: nothing runs),
    ``messages`` (warnings for stderr), ``intent`` in words."""

    plan: Plan
    in_effect: bool = False
    messages: tuple[Message, ...] = ()
    what: str = ""


def check(root: Root, state_dir: str, saved: Plan, host, *, force: bool = False, lock_timeout: float = 10.0,
          kubelet_root: str | None = None) -> Checked:
    """Return the plan to run for ``saved`` on ``root`` (read through ``host``); InvalidPlanError or
    StalePlanError (exit 5) before anything runs otherwise."""
    state_file = os.path.join(os.path.abspath(state_dir), STATE_FILE)
    mounts = cgroup_mounts(host)
    if saved.intent is None and saved.command.startswith("cpu run"):
        raise InvalidPlanError("a 'cpu run' plan runs a command, which apply does not do",
                               hint="run the command with rmctl cpu run; nothing was changed")
    _confined(saved, state_file, mounts, host, "the saved plan")
    command, args, profile = intents.parse(saved.intent)
    what = describe(command, args)
    # the state file is this machine's, whatever the root (rmctl.ops.hosts.state_host)
    elsewhere = {} if getattr(host, "live", False) else {state_file: Host("/")}
    w = walk(saved, host, elsewhere)
    if w.nothing_to_do:
        return Checked(plan=saved, in_effect=True, what=what)
    try:
        fresh = replan(root, state_dir, command, args, profile, lock_timeout=lock_timeout, kubelet_root=kubelet_root)
    except RmctlError as e:
        raise StalePlanError(f"the saved plan is stale: rmctl would not plan {what} now: {e.message}",
                             hint=e.hint or "make a new plan", details={"reasons": w.stale, "cause": e.code}) from None
    _confined(fresh, state_file, mounts, host, f"the plan of {what}")
    reasons = list(w.stale)
    if saved.fingerprint and fresh.fingerprint and saved.fingerprint != fresh.fingerprint:
        reasons.insert(0, f"node fingerprint {fresh.fingerprint[:12]} differs from the plan's {saved.fingerprint[:12]}")
    diffs = differences(saved, fresh)
    if force:
        messages: tuple[Message, ...] = ()
        if reasons or diffs:
            messages = (warning(f"--force: applying what rmctl plans now for {what}, not the saved actions ("
                                + "; ".join((reasons + diffs)[:2]) + ")"),)
        return Checked(plan=with_previous(fresh.with_intent(saved.intent), host, elsewhere), messages=messages,
                       what=what)
    details = {"reasons": reasons, "differences": diffs, "intent": what}
    if reasons:
        raise StalePlanError("the saved plan is stale: " + "; ".join(reasons[:3]),
                             hint="make a new plan (rmctl plan -f PROFILE -o json, or the command's "
                                  "--dry-run -o json), or apply with --force to apply what rmctl plans now",
                             details=details)
    if diffs:
        raise InvalidPlanError(f"the saved plan is not what rmctl plans for {what}: " + "; ".join(diffs[:3]),
                               hint="the plan file was edited, or made by another rmctl: make a new plan",
                               details=details)
    return Checked(plan=with_previous(saved, host, elsewhere), what=what)


def confine(plan: Plan, state_dir: str, host, whose: str) -> None:
    """Refuse (InvalidPlanError, exit 5) a plan read from a file (a saved plan, an undo journal's steps)
    with any action outside rmctl.execute.confine's allow-list; ``whose`` names it in the message."""
    _confined(plan, os.path.join(os.path.abspath(state_dir), STATE_FILE), cgroup_mounts(host), host, whose)


def _confined(plan: Plan, state_file: str, mounts: list[str], host, whose: str) -> None:
    bad = refusals(plan, state_file=state_file, cgroup_mounts=mounts, host=host)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InvalidPlanError(f"{whose} asks for what rmctl does not do: {bad[0]}{more}",
                               hint="rmctl applies only the changes its own commands plan (docs/security.md, "
                                    "'Saved plans'); nothing was changed",
                               details={"refused": bad})


def cgroup_mounts(host) -> list[str]:
    """Return the mount points of the cgroup and cgroup2 file systems ``host`` has."""
    try:
        text = host.read_text("/proc/mounts") or ""
    except RmctlError:
        return []
    return [m for _s, m, fstype, _o in parse_mounts(text) if fstype in ("cgroup", "cgroup2")]


def describe(command: str, args: dict[str, Any]) -> str:
    """Return the intent in words: ``'hugepages set' (assignments=['2M=512'], node=0)``, ``profile FILE``."""
    if command == "plan":
        return f"profile {args.get('file', '-')}"
    given = ", ".join(f"{k.rstrip('_')}={v!r}" for k, v in args.items())
    return f"'{command}'" + (f" ({given})" if given else "")


# -- planning the intent again ------------------------------------------------------------------

def replan(root: Root, state_dir: str, command: str, args: dict[str, Any], profile: str | None, *,
           lock_timeout: float = 10.0, kubelet_root: str | None = None) -> Plan:
    """Return the plan rmctl makes now for the intent (the command's own use case, as a dry run)."""
    if command == "plan":
        from rmctl.ops.profile_plan import plan_of_text

        source = args.get("file") or "<stdin>"
        return plan_of_text(root, state_dir, profile or "", "<stdin>" if source == "-" else source,
                            kubelet_root=kubelet_root).plan()
    st: dict[str, Any] = {"lock_timeout": lock_timeout}
    kube: dict[str, Any] = {"kubelet_root": kubelet_root}
    try:
        if command.startswith("hugepages "):
            from rmctl.ops import hugepages as hp

            outcome = {
                "hugepages set": lambda: hp.set_pools(root, dry_run=True, **args),
                "hugepages size": lambda: hp.size_pools(root, apply_plan=False, **args),
                "hugepages mount": lambda: hp.mount(root, dry_run=True, **args),
                "hugepages umount": lambda: hp.umount(root, dry_run=True, **args),
                "hugepages boot-args": lambda: hp.boot_args(root, **args),
            }[command]()
        elif command.startswith("cpu "):
            from rmctl.ops import cpu

            outcome = {
                "cpu reserve": lambda: cpu.reserve(root, state_dir, dry_run=True, **st, **kube, **args),
                "cpu release": lambda: cpu.release(root, state_dir, dry_run=True, **st, **args),
                "cpu reconcile": lambda: cpu.reconcile(root, state_dir, dry_run=True, **st),
                "cpu reserve-system": lambda: cpu.reserve_system(root, state_dir, dry_run=True, **st, **args),
                "cpu pin": lambda: cpu.pin(root, state_dir, dry_run=True, **st, **kube, **args),
                "cpu cpuset": lambda: cpu.cpuset(root, state_dir, dry_run=True, **st, **args),
            }[command]()
        else:
            from rmctl.ops import request_reservations as rr

            outcome = {
                "request evaluate --reserve": lambda: rr.reserve(root, state_dir, dry_run=True, **st, **kube, **args),
                "request release": lambda: rr.release(root, state_dir, dry_run=True, **st, **args),
            }[command]()
    except TypeError as e:  # a required argument missing from the intent
        raise InvalidPlanError(f"the saved plan's intent cannot be run as {command}: {e}") from None
    if outcome.exit_code:
        why = "; ".join(m.text for m in outcome.messages) or f"it exits {int(outcome.exit_code)}"
        raise StalePlanError(f"{command} would not succeed now: {why}")
    data = outcome.data.get("plan")
    if data is None:
        return Plan(command=command)
    return plan_from_data(data)


# -- comparing ------------------------------------------------------------------------------------

def differences(saved: Plan, fresh: Plan) -> list[str]:
    """Return how ``saved`` differs from ``fresh`` (empty: the same actions, paths and values, in order)."""
    a, b = [_comparable(x) for x in saved.actions], [_comparable(x) for x in fresh.actions]
    out = []
    for i, (x, y) in enumerate(zip(a, b, strict=False), 1):  # the longer one: below
        if x != y:
            keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
            shown = ", ".join(f"{k} {_cut(x.get(k))} (rmctl plans {_cut(y.get(k))})" for k in keys[:2])
            out.append(f"action {i} ({x.get('kind')} {_cut(x.get('path') or x.get('pid') or '')}): {shown}")
    if len(a) > len(b):
        out += [f"action {i} ({x.get('kind')}) is not in what rmctl plans" for i, x in enumerate(a[len(b):], len(b) + 1)]
    elif len(b) > len(a):
        out.append(f"rmctl plans {counted(len(b) - len(a), 'more action')} than the saved plan has")
    return out


def _cut(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "...'"


def _comparable(action) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": action.kind}
    for f in fields(action):
        d[f.name] = getattr(action, f.name)
    if action.kind in STATE_KINDS:
        # the chain of expectations is checked by the walk; what undo restores is read from the machine
        d.pop("expect_sha256", None)
        d.pop("previous", None)
        if "content" in d:
            d["content"] = state_view(d["content"])
    return json.loads(json.dumps(d, default=list))


def state_view(text: Any) -> Any:
    """Return a state file's text as a comparable value: the parsed document without the times it was
    stamped at and its checksum (each valid stamp becomes ``<time>``); the text itself when it is not
    one."""
    if not isinstance(text, str):
        return text
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(doc, dict):
        return text
    doc = dict(doc)
    doc.pop("checksum", None)
    if doc.get("updated") is None or _is_stamp(doc.get("updated")):
        doc["updated"] = "<time>"
    res = doc.get("reservations")
    if isinstance(res, dict):
        out = {}
        for name, rec in res.items():
            if isinstance(rec, dict):
                rec = dict(rec)
                if _is_stamp(rec.get("created")):
                    rec["created"] = "<time>"
                cu = rec.get("created_unix")
                if isinstance(cu, (int, float)) and not isinstance(cu, bool) and 0 <= cu < 1e11:
                    rec["created_unix"] = "<time>"
            out[name] = rec
        doc["reservations"] = out
    return doc


def _is_stamp(v: Any) -> bool:
    return isinstance(v, str) and bool(_STAMP.match(v))


def with_previous(plan: Plan, host, elsewhere: dict | None = None) -> Plan:
    """Return ``plan`` with each state-file replacement a StateReplace whose ``previous`` (what undo puts
    back) is the text the machine holds before it, read now (through the actions before it), not the
    plan's.  Plans saved from ``cpu reserve --dry-run`` and friends replace the state by digest only;
    this makes them undoable too."""
    ov = OverlayHost(host, elsewhere)
    acts = []
    for a in plan.actions:
        if isinstance(a, ReplaceFile):
            text = ov.read_text(a.path)
            a = StateReplace(path=a.path, content=a.content, summary=a.summary, previous=text,
                             expect_sha256=None if text is None else sha256(text))
        acts.append(a)
        try:
            if not a.reboot and not a.done(a.current(ov)):
                a.perform(ov)
        except RmctlError:
            pass  # the executor meets the same error and reports it

    return replace(plan, actions=tuple(acts))
