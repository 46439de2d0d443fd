"""`rmctl plan|apply|undo|verify`: node profiles (registered by rmctl.cli).

- ``plan -f PROFILE``: the ordered actions that would make this node match,
  each with current -> desired and whether it needs a reboot.  With
  ``--detailed-exitcode``: 0 no changes, 2 changes (Terraform's convention).
  ``-o json`` is a saved plan (it carries the node fingerprint).
- ``apply -f PROFILE|PLAN.json``: runs the actions in order with read-back;
  on the first failure stops and rolls back (``--no-rollback`` keeps what
  was done).  Exit 0; 1 a step failed; 4 a shortfall (fewer hugepages than
  asked); 5 a stale saved plan (refused before any change unless
  ``--force``).  Every apply writes a journal under the state dir.
- ``undo``: reverts the newest apply that changed something and is not
  undone yet.
- ``verify -f PROFILE``: exit 0 when the running node matches the profile,
  4 when it does not (what differs is listed; 4 is "partial" in rmctl's
  exit codes, so 1 keeps meaning "an error stopped us").
"""

from __future__ import annotations

import sys

import typer
from typing import Annotated

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, fmt

ProfileFile = Annotated[str, typer.Option("--file", "-f", metavar="PROFILE",
                                          help="NodeProfile YAML file (- for stdin).")]


def register(app) -> None:
    """Add plan, apply, undo and verify at the top level."""
    app.command("plan", help="Show the ordered actions that would make this node match a profile.")(plan_cmd)
    app.command("apply", help="Make this node match a profile (or a saved plan), with rollback and a journal.")(apply_cmd)
    app.command("undo", help="Revert the last apply that changed something (from its journal).")(undo_cmd)
    app.command("verify", help="Say whether the running node matches a profile (exit 0 yes, 4 no).")(verify_cmd)


# -- helpers --------------------------------------------------------------------

def _host(settings):
    from rmctl.ops.hosts import host_for

    return host_for(settings.root)  # on a snapshot: reads only, plans for it never act


def _plan_profile(settings, path: str):
    from rmctl.provision import plan_profile
    from rmctl.profile import load_profile

    profile = load_profile(path)
    # devices only when the profile names some (discovering them costs time)
    node = settings.node(devices=bool(profile.requests) or any(r.near for r in profile.reservations))
    return plan_profile(profile, node, _host(settings), state_dir=settings.state_dir)


def _load_input(path: str):
    """Return ("plan", plan data) for a saved JSON plan, else ("profile", None).

    A saved plan is ``rmctl plan -o json`` (a Plan document) or the
    ``--dry-run -o json`` document of any command that changes the node
    (``hugepages set``, ``hugepages mount``, ``cpu reserve``, ``request
    evaluate --reserve``...): those hold the Plan under ``plan``.
    """
    import json

    if path == "-":
        return "profile", None
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(1 << 22)
    except (OSError, UnicodeDecodeError):
        return "profile", None  # load_profile reports it
    if head.lstrip().startswith("{"):
        from rmctl.errors import ParseError, UsageError

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
    return "profile", None


def _txt(v):
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    return v


def _print_plan(settings, pp) -> None:
    """Print the changes of a profile plan (render.plan.print_plan with the review columns)."""
    from rmctl.cli.output import console
    from rmctl.render.plan import print_plan

    ch = pp.changes()
    print_plan(console(settings), pp.plan(), title=f"profile {pp.profile.name}: {len(ch)} change(s), in order",
               review=[{"field": i.field, "current": i.current, "desired": i.desired} for i in ch],
               empty=f"profile {pp.profile.name}: no changes; the node matches.")


def _exit_for(report) -> int:
    from rmctl.execute.status import exit_status

    return int(exit_status(report))


def _report_data(report, exit_code: int, extra: dict | None = None, plan=None) -> dict:
    from rmctl.model.plan import NOT_RUN
    from rmctl.render.plan import report_data

    d = report_data(report, plan=plan)
    d["reboot_required"] = [s.action.describe() for s in report.steps
                            if s.action.reboot and s.status == NOT_RUN]
    d["exit_code"] = exit_code
    d["ok"] = exit_code == 0
    if extra:
        d.update(extra)
    return d


def _print_report(settings, report, title: str) -> None:
    from rmctl.cli.output import console
    from rmctl.render.plan import print_report

    print_report(console(settings), report, title=title)


def _write_state(path: str, content: str, previous: str | None, summary: str) -> None:
    """Write a state file (journal) through the executor, as every change is."""
    from rmctl.errors import ApplyError
    from rmctl.execute.executor import apply
    from rmctl.execute.host import Host
    from rmctl.model.plan import Plan
    from rmctl.model.profile_actions import StateReplace

    rep = apply(Plan(actions=[StateReplace.of(path, content, previous, summary)], command="journal"), Host("/"))
    if not rep.ok:
        raise ApplyError(f"cannot write {path}: {rep.steps[0].detail}", hint="check --state-dir")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


# -- commands -----------------------------------------------------------------

@handle_errors
def plan_cmd(
    ctx: typer.Context,
    file: ProfileFile,
    output: Output = Format.table,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
                                                    help="Exit 0 when nothing would change, 2 when something would.")] = False,
):
    settings = ctx.obj
    pp = _plan_profile(settings, file)
    f = fmt(output)
    if f == "table":
        _print_plan(settings, pp)
    else:
        from rmctl.cli.output import emit

        emit("Plan", pp.to_data(), f)
    if detailed_exitcode and pp.changes():
        raise typer.Exit(2)


@handle_errors
def apply_cmd(
    ctx: typer.Context,
    file: Annotated[str, typer.Option("--file", "-f", metavar="PROFILE|PLAN.json",
                                      help="NodeProfile YAML, or a plan saved with `rmctl plan -o json` "
                                           "or any command's `--dry-run -o json`.")],
    output: Output = Format.table,
    dry_run: DryRun = False,
    no_rollback: Annotated[bool, typer.Option("--no-rollback", help="On a failure keep what was already changed.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Apply a saved plan even if the node changed since it was made.")] = False,
):
    from rmctl.execute.executor import apply
    from rmctl.model.plan import Plan

    settings = ctx.obj
    f = fmt(output)
    kind, doc = _load_input(file)
    saved = Plan.from_data(doc) if kind == "plan" else None
    if dry_run:
        # never reaches the executor, never takes the lock, writes nothing
        if saved is not None:
            _emit_plan_only(settings, _checked(settings, saved, force), f, title=f"plan {file} (dry run: nothing changed)")
        else:
            pp = _plan_profile(settings, file)
            if f == "table":
                _print_plan(settings, pp)
            else:
                from rmctl.cli.output import emit

                emit("Plan", pp.to_data(), f)
        return
    settings.require_live("apply a plan" if saved is not None else "apply a profile")
    from rmctl import journal

    # Before anything changes: the state dir (journal, reservations) must be
    # writable (exit 6), and the state lock is held from planning to the
    # journal, so a concurrent apply, cpu reserve or request --reserve waits
    # (or times out, exit 5) instead of interleaving.
    journal.check_writable(settings.state_dir)
    host = _host(settings)
    profile_doc = None
    with _state_lock(settings, saved, "rmctl apply"):
        if saved is not None:
            plan = _undoable(_checked(settings, saved, force), host)
            source = f"plan {file}"
        else:
            pp = _plan_profile(settings, file)
            plan = pp.plan(only_changes=False)  # unchanged steps are reported as such
            profile_doc = pp.profile.raw
            source = f"profile {file}"
        report = apply(plan, host, rollback=not no_rollback)
        code = _exit_for(report)
        entry = journal.new_entry(report, command="apply", profile=profile_doc,
                                  fingerprint=plan.fingerprint, source=source)
        path = journal.entry_path(settings.state_dir, entry)
        _write_state(path, journal.dumps(entry), None, f"journal of apply {entry['id']}")
    if f == "table":
        _print_report(settings, report, f"apply {source}")
        sys.stdout.write(f"journal: {path}\n")
    else:
        from rmctl.cli.output import emit

        emit("ApplyReport", _report_data(report, code, {"journal": path}, plan=plan), f)
    if code:
        failed = [s for s in report.steps if s.status in ("failed", "stale")]
        if failed:
            sys.stderr.write(f"rmctl: error: {failed[0].status}: {failed[0].action.describe()}: {failed[0].detail}\n")
            if report.rolled_back:
                sys.stderr.write(f"hint: rolled back {len(report.rolled_back)} change(s); fix the cause and apply again\n")
        raise typer.Exit(code)


def _checked(settings, plan, force: bool):
    """Return the saved ``plan`` if it is fresh for this node; StalePlanError (5) unless ``force``."""
    from rmctl.errors import StalePlanError

    stale = _stale_reasons(plan, settings.node(), _host(settings))
    if stale and not force:
        raise StalePlanError("the saved plan is stale: " + "; ".join(stale[:3]),
                             hint="make a new plan (rmctl plan -f PROFILE -o json, or the command's "
                                  "--dry-run -o json), or apply with --force",
                             details={"reasons": stale})
    return _without_expects(plan) if stale else plan


def _undoable(plan, host):
    """Return ``plan`` with each state-file ReplaceFile turned into a StateReplace that keeps the old text.

    Plans saved from ``cpu reserve --dry-run`` and friends replace the
    state by digest only; applied as they are, ``rmctl undo`` could not put
    the old text back.  Read under the lock, the text that matches the
    digest the plan expects is the one it replaces: recording it changes
    nothing about what is written, and makes the step undoable.
    """
    import dataclasses

    from rmctl.model.plan import ReplaceFile
    from rmctl.model.profile_actions import StateReplace, sha256

    acts = []
    for a in plan.actions:
        if type(a) is ReplaceFile:
            text = host.read_text(a.path)
            if (text is None and a.expect_sha256 is None) or (text is not None and sha256(text) == a.expect_sha256):
                a = StateReplace(path=a.path, content=a.content, summary=a.summary, previous=text,
                                 expect_sha256=a.expect_sha256)
        acts.append(a)
    return dataclasses.replace(plan, actions=acts) if dataclasses.is_dataclass(plan) else \
        type(plan)(actions=acts, fingerprint=plan.fingerprint, command=plan.command, notes=plan.notes)


def _state_lock(settings, plan, command: str):
    """Return a context holding the state lock of --state-dir (and of any other state file ``plan`` replaces).

    The lock needs a writable state dir: AccessDenied (exit 6) otherwise,
    before anything is changed.
    """
    import contextlib
    import os

    from rmctl.ledger import STATE_FILE, Ledger

    dirs = [os.path.abspath(settings.state_dir)]
    for a in (plan.actions if plan is not None else []):
        path = getattr(a, "path", None)
        if a.kind in ("replace-file", "replace-state", "remove-file") and path \
                and os.path.basename(path) == STATE_FILE and os.path.dirname(os.path.abspath(path)) not in dirs:
            dirs.append(os.path.dirname(os.path.abspath(path)))
    stack = contextlib.ExitStack()
    try:
        for d in sorted(dirs):  # one order for every process: no lock-order deadlock
            stack.enter_context(Ledger(d, lock_timeout=settings.lock_timeout, command=command).locked())
    except BaseException:
        stack.close()
        raise
    return stack


def _stale_reasons(plan, node, host) -> list[str]:
    from rmctl.model.fingerprint import fingerprint

    out = []
    fp = fingerprint(node)
    if plan.fingerprint and fp != plan.fingerprint:
        out.append(f"node fingerprint {fp} differs from the plan's {plan.fingerprint}")
    for a in plan.actions:
        exp = a.expected()
        if exp is None:
            continue
        cur = a.current(host)
        if not a.done(cur) and cur != exp:
            out.append(f"{a.target()}: plan saw {exp!r}, now {cur!r}")
    return out


def _without_expects(plan):
    import dataclasses

    acts = []
    for a in plan.actions:
        names = {f.name for f in dataclasses.fields(a)}
        kw = {k: None for k in ("expect", "expect_sha256") if k in names}
        acts.append(dataclasses.replace(a, **kw) if kw else a)
    return type(plan)(actions=acts, fingerprint=plan.fingerprint, command=plan.command, notes=plan.notes)


def _emit_plan_only(settings, plan, f: str, *, title: str = "Plan (dry run: nothing changed)") -> None:
    if f == "table":
        from rmctl.cli.output import console
        from rmctl.render.plan import print_plan

        print_plan(console(settings), plan, title=title)
    else:
        from rmctl.cli.output import emit
        from rmctl.render.plan import plan_data

        emit("Plan", plan_data(plan), f)


@handle_errors
def undo_cmd(
    ctx: typer.Context,
    output: Output = Format.table,
    dry_run: DryRun = False,
):
    from rmctl import journal
    from rmctl.execute.executor import apply
    from rmctl.model.plan import Plan

    settings = ctx.obj
    f = fmt(output)
    found = journal.last_undoable(settings.state_dir)
    if found is None:
        if f == "table":
            sys.stdout.write(f"nothing to undo: no apply journal with changes under {settings.state_dir}\n")
        else:
            from rmctl.cli.output import emit
            from rmctl.model.plan import ApplyReport

            emit("UndoReport", _report_data(ApplyReport(), 0, {"journal": None}), f)
        return
    path, entry = found
    plan = Plan(actions=journal.undo_actions(entry), command="undo")
    if dry_run:
        _emit_plan_only(settings, plan, f, title=f"undo apply {entry['id']} (dry run: nothing changed)")
        return
    settings.require_live("undo an apply")
    journal.check_writable(settings.state_dir)
    with _state_lock(settings, plan, "rmctl undo"):
        # read again under the lock: a concurrent undo may have done it already
        again = journal.last_undoable(settings.state_dir)
        if again is None or again[0] != path:
            from rmctl.errors import ConflictError

            raise ConflictError(f"journal {entry['id']} changed while waiting for the state lock "
                                "(another undo or apply ran)", hint="run rmctl undo again")
        report = apply(plan, _host(settings), rollback=False)
        code = _exit_for(report)
        if code == 0:
            _write_state(path, journal.dumps(journal.mark_undone(entry, report)), _read(path),
                         f"journal {entry['id']} undone")
    if f == "table":
        _print_report(settings, report, f"undo apply {entry['id']}")
    else:
        from rmctl.cli.output import emit

        emit("UndoReport", _report_data(report, code, {"journal": path}, plan=plan), f)
    if code:
        sys.stderr.write("rmctl: error: undo did not complete; the journal stays pending\n")
        raise typer.Exit(code)


@handle_errors
def verify_cmd(
    ctx: typer.Context,
    file: ProfileFile,
    output: Output = Format.table,
):
    settings = ctx.obj
    pp = _plan_profile(settings, file)
    mismatches = [{"field": i.field, "kind": i.action.kind, "target": i.action.target(),
                   "current": _txt(i.current), "desired": _txt(i.desired), "reboot": i.reboot,
                   "detail": "needs a reboot" if i.reboot else "differs"}
                  for i in pp.changes()]
    prof = pp.profile
    from rmctl.provision import effect_mismatches

    planned = {m["field"] for m in mismatches}
    node = settings.node(devices=bool(prof.requests) or any(r.near for r in prof.reservations))
    mismatches += [m for m in effect_mismatches(prof, node, settings.state_dir, settings.root)
                   if m["field"] not in planned]
    match = not mismatches
    f = fmt(output)
    if f == "table":
        out = sys.stdout
        if match:
            out.write(f"profile {prof.name}: the node matches\n")
        else:
            out.write(f"profile {prof.name}: {len(mismatches)} mismatch(es)\n")
            for m in mismatches:
                out.write(f"  {m['field']}: {m['target']}: {m['current']} -> {m['desired']} ({m['detail']})\n")
    else:
        from rmctl.cli.output import emit

        emit("Verification", {"profile": prof.name, "match": match, "mismatches": mismatches}, f)
    if not match:
        raise typer.Exit(4)
