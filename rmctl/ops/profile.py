"""``rmctl plan|apply|undo|verify``: node profiles and saved plans.

- :func:`plan`: the ordered actions that would make this node match a
  profile, each with current -> desired and whether it needs a reboot;
  with ``detailed_exitcode``: 0 no changes, 2 changes (Terraform's
  convention).  The Plan document is a saved plan (it carries the node
  fingerprint).
- :func:`apply`: runs the actions in order with read-back; on the first
  failure stops and rolls back (``rollback=False`` keeps what was done).
  Exit 0; the deciding step's status otherwise (rmctl.execute.status: 1 a
  step failed, 4 a shortfall, 5 stale, 6 not permitted); a stale saved
  plan is refused before any change unless ``force``.  Every apply
  writes a journal under the state dir.
- :func:`undo`: reverts the newest apply that changed something and is
  not undone yet.
- :func:`verify`: exit 0 when the running node matches the profile, 4
  when it does not (what differs is listed).

The state lock is held from planning to the journal, so a concurrent
apply, cpu reserve or request --reserve waits (or times out, exit 5)
instead of interleaving.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from typing import Any

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import ConflictError, ExitCode, ParseError, StalePlanError, UsageError
from rmctl.execute.executor import apply as run_plan
from rmctl.execute.status import error_of, exit_status
from rmctl.model.actions import plan_from_data
from rmctl.model.fingerprint import fingerprint
from rmctl.model.plan import NOT_RUN, ApplyReport, Plan, ReplaceFile
from rmctl.model.profile_actions import StateReplace, sha256
from rmctl.ops.hosts import host_for, require_live
from rmctl.ops.outcome import Message, Outcome
from rmctl.ops.profile_plan import ProfilePlan, effect_mismatches, plan_profile
from rmctl.profile import load_profile
from rmctl.render.plan import plan_data, report_data
from rmctl.state import journal
from rmctl.state.ledger import STATE_FILE, Ledger

#: ``plan --detailed-exitcode`` when something would change (Terraform's convention; not an error)
CHANGES_PENDING = 2
DEFAULT_LOCK_TIMEOUT = 10.0


def _node_for(root: Root, profile):
    # devices only when the profile names some (discovering them costs time)
    return discover(root, devices=bool(profile.requests) or any(r.near for r in profile.reservations))


def plan_file(root: Root, state_dir: str, path: str) -> ProfilePlan:
    """Return the ProfilePlan of the profile in ``path`` on ``root``."""
    return _plan_and_node(root, state_dir, path)[0]


def _plan_and_node(root: Root, state_dir: str, path: str):
    profile = load_profile(path)
    node = _node_for(root, profile)
    return plan_profile(profile, node, host_for(root), root, state_dir=state_dir), node


def load_input(path: str) -> tuple[str, dict[str, Any] | None]:
    """Return ("plan", plan data) for a saved JSON plan, else ("profile", None).

    A saved plan is ``rmctl plan -o json`` (a Plan document) or the
    ``--dry-run -o json`` document of any command that changes the node
    (``hugepages set``, ``hugepages mount``, ``cpu reserve``, ``request
    evaluate --reserve``...): those hold the Plan under ``plan``.
    """
    if path == "-":
        return "profile", None
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(1 << 22)
    except (OSError, UnicodeDecodeError):
        return "profile", None  # load_profile reports it
    if not head.lstrip().startswith("{"):
        return "profile", None
    try:
        doc = json.loads(head)
    except ValueError as e:
        raise ParseError(f"{path}: not valid JSON: {e}") from None
    if isinstance(doc, dict) and doc.get("kind") == "Plan":
        return "plan", doc
    if isinstance(doc, dict) and "plan" in doc:
        inner = doc["plan"]
        if isinstance(inner, dict) and inner.get("kind") == "Plan":
            return "plan", inner
        raise UsageError(f"{path}: this {doc.get('kind') or 'JSON'} document holds no plan "
                         "(nothing would change, or it was not made with --dry-run)",
                         hint="save the output of the command's --dry-run -o json, or of rmctl plan -o json")
    raise UsageError(f"{path}: a JSON file that is not an rmctl plan (kind {doc.get('kind')!r})"
                     if isinstance(doc, dict) else f"{path}: a JSON file that is not an rmctl plan",
                     hint="give a NodeProfile YAML, or a plan saved with rmctl plan -o json / --dry-run -o json")


def report_document(report: ApplyReport, exit_code: int, extra: dict | None = None,
                    plan: Plan | None = None) -> dict[str, Any]:
    """Return the ApplyReport/UndoReport document: the report, reboot-pending steps, the exit status."""
    d = report_data(report, plan=plan)
    d["reboot_required"] = [s.action.describe() for s in report.steps
                            if s.action.reboot and s.status == NOT_RUN]
    d["exit_code"] = exit_code
    d["ok"] = exit_code == 0
    if extra:
        d.update(extra)
    return d


# -- plan -----------------------------------------------------------------------------------

def plan(root: Root, state_dir: str, path: str, *, detailed_exitcode: bool = False) -> Outcome:
    """Return the Plan document of the profile in ``path``; ``view``: the ProfilePlan."""
    pp = plan_file(root, state_dir, path)
    code = CHANGES_PENDING if detailed_exitcode and pp.changes() else ExitCode.OK
    return Outcome(kind="Plan", data=pp.to_data(), exit_code=code, view=pp)


# -- apply ----------------------------------------------------------------------------------

def apply(root: Root, state_dir: str, path: str, *, dry_run: bool = False, rollback: bool = True,
          force: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Apply the profile or saved plan in ``path``; return the ApplyReport document (a Plan on a dry run).

    ``view``: ("plan", Plan, title) for a saved plan's dry run, ("profile",
    ProfilePlan) for a profile's, ("report", ApplyReport, title, journal
    path) after a run.
    """
    kind, doc = load_input(path)
    saved = plan_from_data(doc) if kind == "plan" and doc is not None else None
    if dry_run:
        # never reaches the executor, never takes the lock, writes nothing
        if saved is not None:
            checked = _checked(root, saved, force)
            return Outcome(kind="Plan", data=plan_data(checked),
                           view=("plan", checked, f"plan {path} (dry run: nothing changed)"))
        pp = plan_file(root, state_dir, path)
        return Outcome(kind="Plan", data=pp.to_data(), view=("profile", pp))
    require_live(root, "apply a plan" if saved is not None else "apply a profile")
    # Before anything changes: the state dir (journal, reservations) must be
    # writable (exit 6), and the state lock is held from planning to the journal.
    journal.check_writable(state_dir)
    host = host_for(root)
    profile_doc = None
    with _state_lock(state_dir, saved, "rmctl apply", lock_timeout):
        if saved is not None:
            the_plan = _undoable(_checked(root, saved, force), host)
            source = f"plan {path}"
        else:
            pp = plan_file(root, state_dir, path)
            the_plan = pp.plan(only_changes=False)  # unchanged steps are reported as such
            profile_doc = pp.profile.raw
            source = f"profile {path}"
        report = run_plan(the_plan, host, rollback=rollback)
        code = exit_status(report)
        entry = journal.new_entry(report, command="apply", profile=profile_doc, fingerprint=the_plan.fingerprint,
                                  source=source)
        jpath = journal.write(state_dir, entry, None, f"journal of apply {entry.id}")
    messages: tuple[Message, ...] = ()
    err = error_of(report)
    if err is not None:
        hint = (f"rolled back {len(report.rolled_back)} change(s); fix the cause and apply again"
                if report.rolled_back else err.hint)
        messages = (Message(err.message, hint=hint),)
    return Outcome(kind="ApplyReport", data=report_document(report, int(code), {"journal": jpath}, plan=the_plan),
                   exit_code=code, messages=messages, view=("report", report, f"apply {source}", jpath))


def _checked(root: Root, saved: Plan, force: bool) -> Plan:
    """Return the saved plan if it is fresh for this node; StalePlanError (5) unless ``force``."""
    stale = _stale_reasons(saved, discover(root), host_for(root))
    if stale and not force:
        raise StalePlanError("the saved plan is stale: " + "; ".join(stale[:3]),
                             hint="make a new plan (rmctl plan -f PROFILE -o json, or the command's "
                                  "--dry-run -o json), or apply with --force",
                             details={"reasons": stale})
    return _without_expects(saved) if stale else saved


def _undoable(saved: Plan, host) -> Plan:
    """Return ``saved`` with each state-file ReplaceFile turned into a StateReplace that keeps the old text.

    Plans saved from ``cpu reserve --dry-run`` and friends replace the
    state by digest only; applied as they are, ``rmctl undo`` could not put
    the old text back.  Read under the lock, the text that matches the
    digest the plan expects is the one it replaces: recording it changes
    nothing about what is written, and makes the step undoable.
    """
    acts = []
    for a in saved.actions:
        if type(a) is ReplaceFile:
            text = host.read_text(a.path)
            if (text is None and a.expect_sha256 is None) or (text is not None and sha256(text) == a.expect_sha256):
                a = StateReplace(path=a.path, content=a.content, summary=a.summary, previous=text,
                                 expect_sha256=a.expect_sha256)
        acts.append(a)
    return Plan(actions=acts, fingerprint=saved.fingerprint, command=saved.command, notes=list(saved.notes))


def _state_lock(state_dir: str, the_plan: Plan | None, command: str, lock_timeout: float):
    """Return a context holding the state lock of ``state_dir`` (and of any other state file the plan replaces).

    The lock needs a writable state dir: AccessDenied (exit 6) otherwise,
    before anything is changed.
    """
    dirs = [os.path.abspath(state_dir)]
    for a in (the_plan.actions if the_plan is not None else []):
        p = getattr(a, "path", None)
        if a.kind in ("replace-file", "replace-state", "remove-file") and p \
                and os.path.basename(p) == STATE_FILE and os.path.dirname(os.path.abspath(p)) not in dirs:
            dirs.append(os.path.dirname(os.path.abspath(p)))
    stack = contextlib.ExitStack()
    try:
        for d in sorted(dirs):  # one order for every process: no lock-order deadlock
            stack.enter_context(Ledger(d, lock_timeout=lock_timeout, command=command).locked())
    except BaseException:
        stack.close()
        raise
    return stack


def _stale_reasons(saved: Plan, node, host) -> list[str]:
    out = []
    fp = fingerprint(node)
    if saved.fingerprint and fp != saved.fingerprint:
        out.append(f"node fingerprint {fp} differs from the plan's {saved.fingerprint}")
    for a in saved.actions:
        exp = a.expected()
        if exp is None:
            continue
        cur = a.current(host)
        if not a.done(cur) and cur != exp:
            out.append(f"{a.target()}: plan saw {exp!r}, now {cur!r}")
    return out


def _without_expects(saved: Plan) -> Plan:
    acts = []
    for a in saved.actions:
        names = {f.name for f in dataclasses.fields(a)}
        kw = {k: None for k in ("expect", "expect_sha256") if k in names}
        acts.append(dataclasses.replace(a, **kw) if kw else a)
    return Plan(actions=acts, fingerprint=saved.fingerprint, command=saved.command, notes=list(saved.notes))


# -- undo ---------------------------------------------------------------------------------------

def undo(root: Root, state_dir: str, *, dry_run: bool = False,
         lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Revert the newest apply that changed something and is not undone yet (from its journal).

    The UndoReport document (a Plan on a dry run).  ``view``: ("nothing",
    state dir), ("plan", Plan, title) or ("report", ApplyReport, title,
    journal path).  An undo that does not complete leaves the journal
    pending (exit: the deciding step's).
    """
    found = journal.last_undoable(state_dir)
    if found is None:
        return Outcome(kind="UndoReport", data=report_document(ApplyReport(), 0, {"journal": None}),
                       view=("nothing", state_dir))
    path, entry = found
    the_plan = Plan(actions=entry.undo_actions(), command="undo")
    if dry_run:
        return Outcome(kind="Plan", data=plan_data(the_plan),
                       view=("plan", the_plan, f"undo apply {entry.id} (dry run: nothing changed)"))
    require_live(root, "undo an apply")
    journal.check_writable(state_dir)
    with _state_lock(state_dir, the_plan, "rmctl undo", lock_timeout):
        # read again under the lock: a concurrent undo may have done it already
        again = journal.last_undoable(state_dir)
        if again is None or again[0] != path:
            raise ConflictError(f"journal {entry.id} changed while waiting for the state lock "
                                "(another undo or apply ran)", hint="run rmctl undo again")
        report = run_plan(the_plan, host_for(root), rollback=False)
        code = exit_status(report)
        if code == ExitCode.OK:
            journal.write(state_dir, entry.undone_by(report), journal.read_text(path), f"journal {entry.id} undone")
    messages: tuple[Message, ...] = ()
    if code != ExitCode.OK:
        err = error_of(report)
        why = f": {err.message}" if err is not None else ""
        messages = (Message(f"undo did not complete; the journal stays pending{why}",
                            hint=err.hint if err is not None else None),)
    return Outcome(kind="UndoReport", data=report_document(report, int(code), {"journal": path}, plan=the_plan),
                   exit_code=code, messages=messages, view=("report", report, f"undo apply {entry.id}", path))


# -- verify -------------------------------------------------------------------------------------

def _txt(v):
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    return v


def verify(root: Root, state_dir: str, path: str) -> Outcome:
    """Say whether the running node matches the profile in ``path``: the Verification document, exit 0 or 4.

    Mismatches: the plan's changes, plus what is recorded as asked but not
    in effect (isolated CPUs pending a reboot, reservations holding
    offline CPUs or absent devices).
    """
    pp, node = _plan_and_node(root, state_dir, path)
    mismatches = [{"field": i.field, "kind": i.action.kind, "target": i.action.target(),
                   "current": _txt(i.current), "desired": _txt(i.desired), "reboot": i.reboot,
                   "detail": "needs a reboot" if i.reboot else "differs"}
                  for i in pp.changes()]
    prof = pp.profile
    planned = {m["field"] for m in mismatches}
    mismatches += [m for m in effect_mismatches(prof, node, state_dir, root)
                   if m["field"] not in planned]
    match = not mismatches
    return Outcome(kind="Verification", data={"profile": prof.name, "match": match, "mismatches": mismatches},
                   exit_code=ExitCode.OK if match else ExitCode.UNSATISFIABLE)
