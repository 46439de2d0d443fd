"""``rmctl plan|apply|undo|verify``: node profiles and saved plans.

- :func:`plan`: the ordered actions that would make this node match a
  profile, each with current -> desired and whether it needs a reboot;
  with ``detailed_exitcode``: 0 no changes, 2 changes (Terraform's
  convention).  The Plan document is a saved plan (it carries the node
  fingerprint).
- :func:`apply`: runs the actions in order with read-back; on the first
  failure stops and rolls back (``rollback=False`` keeps what was done).
  Exit 0; the deciding step's status otherwise (rmctl.execute.status: 1 a
  step failed, 4 a shortfall, 5 stale, 6 not permitted).  A saved plan
  runs only when it is what rmctl plans now for the intent it records
  (rmctl.ops.saved_plans); otherwise it is refused before any change
  (exit 5), unless ``force``, which applies what rmctl plans now for that
  intent.  Every apply writes a journal under the state dir.
- :func:`undo`: reverts the newest apply that changed something and is
  not undone yet.
- :func:`verify`: exit 0 when the running node matches the profile, 4
  when it does not (what differs is listed).

Planning (discovery, the allocator, requests' CEL, a saved plan's
check, which plans its intent again) runs before the state lock is taken;
the lock is held from the check that the state file is still what the
plan expects, through the run, to the journal.  A state changed
meanwhile by another rmctl makes the profile or saved plan be planned
(checked) again, at least once, then while ``--lock-timeout`` lasts;
after that exit 5 (``conflict``).  So a long plan never makes a
concurrent ``cpu reserve`` wait (issue 15 item 4), and nothing
interleaves.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from rmctl.discovery.root import Root
from rmctl.errors import ConflictError, ExitCode, ParseError, UsageError
from rmctl.execute.executor import apply as run_plan
from rmctl.execute.status import error_of, exit_status
from rmctl.model.actions import plan_from_data
from rmctl.model.plan import NOT_RUN, UNCHANGED, ApplyReport, Plan, StepResult
from rmctl.ops import saved_plans, statedir
from rmctl.ops.hosts import host_for, require_live
from rmctl.ops.outcome import Message, Outcome
from rmctl.ops.profile_plan import ProfilePlan, effect_mismatches, node_for, plan_profile
from rmctl.profile import load_profile
from rmctl.render.plan import plan_data, report_data
from rmctl.state import journal
from rmctl.state.ledger import STATE_FILE, Ledger

#: the largest saved plan ``apply -f`` reads (a plan keeps the state text before and after each state step)
MAX_PLAN_BYTES = 64 << 20
#: ``plan --detailed-exitcode`` when something would change (Terraform's convention; not an error)
CHANGES_PENDING = 2
DEFAULT_LOCK_TIMEOUT = 10.0


def plan_file(root: Root, state_dir: str, path: str, kubelet_root: str | None = None) -> ProfilePlan:
    """Return the ProfilePlan of the profile in ``path`` on ``root`` (the kubelet's pods under ``kubelet_root``)."""
    return _plan_and_node(root, state_dir, path, kubelet_root)[0]


def _plan_and_node(root: Root, state_dir: str, path: str, kubelet_root: str | None = None):
    profile = load_profile(path)
    node = node_for(root, profile)
    return plan_profile(profile, node, host_for(root), root, state_dir=state_dir, kubelet_root=kubelet_root), node


def load_input(path: str) -> tuple[str, dict[str, Any] | None]:
    """Return ("plan", plan data) for a saved JSON plan, else ("profile", None).

    A saved plan is ``rmctl plan -o json`` (a Plan document) or the
    ``--dry-run -o json`` document of any command that changes the node
    (``hugepages set``, ``hugepages mount``, ``cpu reserve``, ``request
    evaluate --reserve``...): those hold the Plan under ``plan``.
    """
    from rmctl.resources.yamlio import read_bounded

    if path == "-":
        return "profile", None
    try:
        head = read_bounded(path, MAX_PLAN_BYTES)  # never blocks on a FIFO; refused past the cap (exit 2)
    except (OSError, UnicodeDecodeError):
        return "profile", None  # load_profile reports it
    if not head.lstrip().startswith("{"):
        return "profile", None
    try:
        doc = json.loads(head)
    except ValueError as e:
        raise ParseError(f"{path}: not valid JSON: {e}") from None
    except RecursionError:
        raise ParseError(f"{path}: not valid JSON: nested too deeply") from None
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

def plan(root: Root, state_dir: str, path: str, *, detailed_exitcode: bool = False,
         kubelet_root: str | None = None) -> Outcome:
    """Return the Plan document of the profile in ``path``; ``view``: the ProfilePlan."""
    pp = plan_file(root, state_dir, path, kubelet_root)
    code = CHANGES_PENDING if detailed_exitcode and pp.changes() else ExitCode.OK
    return Outcome(kind="Plan", data=pp.to_data(), exit_code=code, view=pp)


# -- apply ----------------------------------------------------------------------------------

def apply(root: Root, state_dir: str, path: str, *, dry_run: bool = False, rollback: bool = True,
          force: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
          kubelet_root: str | None = None) -> Outcome:
    """Apply the profile or saved plan in ``path``; return the ApplyReport document (a Plan on a dry run).

    A saved plan runs only when it is what rmctl plans now for the intent
    it records (rmctl.ops.saved_plans.check: InvalidPlanError or
    StalePlanError, exit 5, before anything runs); ``force`` applies what
    rmctl plans now for that intent instead of a stale plan.

    ``view``: ("plan", Plan, title) for a saved plan's dry run, ("profile",
    ProfilePlan) for a profile's, ("report", ApplyReport, title, journal
    path) after a run.
    """
    kind, doc = load_input(path)
    saved = plan_from_data(doc) if kind == "plan" and doc is not None else None
    if dry_run:
        # never reaches the executor, never takes the lock, writes nothing
        if saved is not None:
            checked = saved_plans.check(root, state_dir, saved, host_for(root), force=force,
                                        lock_timeout=lock_timeout, kubelet_root=kubelet_root)
            note = " (every action is in effect already)" if checked.in_effect else ""
            return Outcome(kind="Plan", data=plan_data(checked.plan, changed=not checked.in_effect),
                           messages=checked.messages,
                           view=("plan", checked.plan, f"plan {path} (dry run: nothing changed){note}"))
        pp = plan_file(root, state_dir, path, kubelet_root)
        return Outcome(kind="Plan", data=pp.to_data(), view=("profile", pp))
    require_live(root, "apply a plan" if saved is not None else "apply a profile")
    # Before anything changes: the state dir (journal, reservations) must be
    # writable (exit 6).  Planning happens before the lock (see the module docstring).
    journal.check_writable(state_dir)
    host = host_for(root)
    profile_doc = None
    warnings: tuple[Message, ...] = ()
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    attempts = 0
    while True:
        attempts += 1
        in_effect = False
        if saved is not None:
            checked = saved_plans.check(root, state_dir, saved, host, force=force, lock_timeout=lock_timeout,
                                        kubelet_root=kubelet_root)
            the_plan, warnings, in_effect = checked.plan, checked.messages, checked.in_effect
            source = f"plan {path}"
        else:
            pp = plan_file(root, state_dir, path, kubelet_root)
            the_plan = pp.plan(only_changes=False)  # unchanged steps are reported as such
            profile_doc = pp.profile.raw
            source = f"profile {path}"
        with _state_lock(root, state_dir, "rmctl apply", lock_timeout, deadline):
            moved = None if in_effect else state_moved(the_plan)
            if moved is None:
                # every action in effect already: nothing runs, not even the executor
                report = unchanged_report(the_plan, host) if in_effect else run_plan(the_plan, host,
                                                                                     rollback=rollback)
                code = exit_status(report)
                entry = journal.new_entry(report, command="apply", profile=profile_doc,
                                          fingerprint=the_plan.fingerprint, source=source)
                jpath = journal.write(state_dir, entry, None, f"journal of apply {entry.id}")
                break
        if attempts > 1 and time.monotonic() >= deadline:
            doing = "the saved plan was checked" if saved is not None else "the profile was planned"
            raise ConflictError(f"state file {moved} changed while {doing} ({attempts} attempts)",
                                hint="other rmctl commands are changing the reservations: apply again, "
                                     "or raise --lock-timeout", details={"path": moved, "attempts": attempts})
    messages: tuple[Message, ...] = warnings
    err = error_of(report)
    if err is not None:
        from rmctl.units import counted

        hint = (f"rolled back {counted(len(report.rolled_back), 'change')}; fix the cause and apply again"
                if report.rolled_back else err.hint)
        messages += (Message(err.message, hint=hint),)
    return Outcome(kind="ApplyReport", data=report_document(report, int(code), {"journal": jpath}, plan=the_plan),
                   exit_code=code, messages=messages, view=("report", report, f"apply {source}", jpath))


def unchanged_report(plan: Plan, host) -> ApplyReport:
    """Return the report of a plan whose every action is in effect already (nothing was run)."""
    steps = []
    for a in plan.actions:
        cur = a.current(host)
        steps.append(StepResult(a, UNCHANGED, "already at target", cur, cur))
    return ApplyReport(steps=steps)


def _state_lock(root: Root, state_dir: str, command: str, lock_timeout: float, deadline: float | None = None):
    """Return a context holding the state lock of ``state_dir`` (the Ledger of ``root``: rmctl.ops.statedir).

    A saved plan replaces no other state file (rmctl.execute.confine), so
    this one lock covers every state change of an apply or undo.  The lock
    needs a writable state dir: AccessDenied (exit 6) otherwise, before
    anything is changed.  ``deadline`` (time.monotonic()): when to stop
    waiting (default: ``lock_timeout`` from now).
    """
    return statedir.for_root(root, os.path.abspath(state_dir), command, lock_timeout).locked(deadline)


def state_moved(the_plan: Plan) -> str | None:
    """Return the first state file whose text is not what ``the_plan`` expects of it (call under the lock), or None.

    The first action on each state file carries the digest planning saw
    (None: no file); later ones expect what the one before wrote.  A file
    already as the action leaves it has not moved (a plan applied twice).
    """
    from rmctl.model.plan import _ABSENT
    from rmctl.model.profile_actions import sha256

    seen = set()
    for a in the_plan.actions:
        p = getattr(a, "path", None)
        if a.kind not in saved_plans.STATE_KINDS or not p or os.path.basename(p) != STATE_FILE or p in seen:
            continue
        seen.add(p)
        text = Ledger(os.path.dirname(os.path.abspath(p))).read_text()
        cur = None if text is None else sha256(text)
        if cur != getattr(a, "expect_sha256", None) and not a.done(_ABSENT if cur is None else cur):
            return p
    return None


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
    # A journal is a file in the state dir: read back as untrusted as a saved plan (issue 15), its
    # undo runs only what the saved-plan allow-list accepts, refused before anything runs
    saved_plans.confine(the_plan, state_dir, host_for(root), f"the undo of apply {entry.id} (journal {path})")
    if dry_run:
        return Outcome(kind="Plan", data=plan_data(the_plan),
                       view=("plan", the_plan, f"undo apply {entry.id} (dry run: nothing changed)"))
    require_live(root, "undo an apply")
    journal.check_writable(state_dir)
    with _state_lock(root, state_dir, "rmctl undo", lock_timeout):
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


def verify(root: Root, state_dir: str, path: str, kubelet_root: str | None = None) -> Outcome:
    """Say whether the running node matches the profile in ``path``: the Verification document, exit 0 or 4.

    Mismatches: the plan's changes, plus what is recorded as asked but not
    in effect (isolated CPUs pending a reboot, reservations holding
    offline CPUs or absent devices).
    """
    pp, node = _plan_and_node(root, state_dir, path, kubelet_root)
    mismatches = [{"field": i.field, "kind": i.action.kind, "target": i.action.target(),
                   "current": _txt(i.current), "desired": _txt(i.desired), "reboot": i.reboot,
                   "detail": "needs a reboot" if i.reboot else "differs"}
                  for i in pp.changes()]
    prof = pp.profile
    planned = {m["field"] for m in mismatches}
    mismatches += [m for m in effect_mismatches(prof, node, state_dir, root, kubelet_root)
                   if m["field"] not in planned]
    match = not mismatches
    return Outcome(kind="Verification", data={"profile": prof.name, "match": match, "mismatches": mismatches},
                   exit_code=ExitCode.OK if match else ExitCode.UNSATISFIABLE)
