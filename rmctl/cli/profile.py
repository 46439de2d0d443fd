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
    from rmctl.execute.host import Host, LiveHost

    if settings.root.is_live:
        return LiveHost()
    return Host(settings.root.base)  # reads only: plans for a snapshot never act


def _plan_profile(settings, path: str):
    from rmctl.provision import plan_profile
    from rmctl.profile import load_profile

    profile = load_profile(path)
    # devices only when the profile names some (discovering them costs time)
    node = settings.node(devices=bool(profile.requests) or any(r.near for r in profile.reservations))
    return plan_profile(profile, node, _host(settings), state_dir=settings.state_dir)


def _load_input(path: str):
    """Return ("plan", dict) for a saved JSON plan, else ("profile", None)."""
    import json

    if path == "-":
        return "profile", None
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(1 << 22)
    except OSError:
        return "profile", None  # load_profile reports it
    if head.lstrip().startswith("{"):
        try:
            doc = json.loads(head)
        except ValueError as e:
            from rmctl.errors import ParseError

            raise ParseError(f"{path}: not valid JSON: {e}") from None
        if isinstance(doc, dict) and doc.get("kind") == "Plan":
            return "plan", doc
    return "profile", None


def _txt(v):
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    return v


def _print_plan(settings, pp) -> None:
    """Print one line per change: field, what, current -> desired, [reboot] (Terraform-like)."""
    ch = pp.changes()
    out = sys.stdout
    if not ch:
        out.write(f"profile {pp.profile.name}: no changes; the node matches.\n")
        return
    out.write(f"profile {pp.profile.name}: {len(ch)} change(s), in order:\n")
    width = max(len(i.field) for i in ch)
    for n, i in enumerate(ch, 1):
        verb = {"mkdir": "mkdir ", "mount": "mount ", "boot-args": "kernel command line "}.get(i.action.kind, "")
        reboot = "  [needs a reboot]" if i.reboot else ""
        out.write(f"  {n}. {i.field:<{width}}  {verb}{i.action.target()}: "
                  f"{_txt(i.current)} -> {_txt(i.desired)}{reboot}\n")
    if any(i.reboot for i in ch):
        out.write("Changes marked [needs a reboot] take effect only after a reboot; apply reports them.\n")


def _exit_for(report) -> int:
    from rmctl.errors import ExitCode
    from rmctl.model.plan import FAILED, STALE

    statuses = {s.status for s in report.steps}
    if STALE in statuses:
        return int(ExitCode.CONFLICT)
    if FAILED in statuses:
        try:
            from rmctl.model.hugepage_actions import shortfall_of
        except ImportError:  # pragma: no cover
            shortfall_of = None
        if shortfall_of and any(shortfall_of(s) is not None for s in report.steps):
            return int(ExitCode.UNSATISFIABLE)
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)


def _report_data(report, exit_code: int, extra: dict | None = None) -> dict:
    from rmctl.model.plan import NOT_RUN

    d = report.to_data()
    d["reboot_required"] = [s.action.describe() for s in report.steps
                            if s.action.reboot and s.status == NOT_RUN]
    d["exit_code"] = exit_code
    d["ok"] = exit_code == 0
    if extra:
        d.update(extra)
    return d


def _print_report(settings, report, title: str) -> None:
    from rich.table import Table

    from rmctl.cli.output import console

    con = console(settings)
    t = Table(title=title, title_justify="left")
    for col in ("#", "status", "action", "detail"):
        t.add_column(col, overflow="fold")
    for n, s in enumerate(report.steps, 1):
        t.add_row(str(n), s.status, s.action.describe(), s.detail)
    con.print(t)
    for s in report.rolled_back:
        con.print(f"rolled back: {s.action.describe()} [{s.status}]")
    c = report.counts()
    con.print(", ".join(f"{v} {k}" for k, v in c.items() if v) or "nothing to do")


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
                                      help="NodeProfile YAML, or a plan saved with `rmctl plan -o json`.")],
    output: Output = Format.table,
    dry_run: DryRun = False,
    no_rollback: Annotated[bool, typer.Option("--no-rollback", help="On a failure keep what was already changed.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Apply a saved plan even if the node changed since it was made.")] = False,
):
    from rmctl.errors import StalePlanError
    from rmctl.execute.executor import apply
    from rmctl.model.plan import Plan

    settings = ctx.obj
    f = fmt(output)
    kind, doc = _load_input(file)
    profile_doc = None
    if kind == "plan":
        plan = Plan.from_data(doc)
        node = settings.node()
        if not dry_run:
            settings.require_live("apply a plan")
        host = _host(settings)
        stale = _stale_reasons(plan, node, host)
        if stale and not force:
            raise StalePlanError("the saved plan is stale: " + "; ".join(stale[:3]),
                                 hint="make a new plan with `rmctl plan -f PROFILE -o json`, or apply with --force",
                                 details={"reasons": stale})
        if stale and force:
            plan = _without_expects(plan)
        if dry_run:
            _emit_plan_only(settings, plan, f)
            return
        source = f"plan {file}"
    else:
        pp = _plan_profile(settings, file)
        if dry_run:
            if f == "table":
                _print_plan(settings, pp)
            else:
                from rmctl.cli.output import emit

                emit("Plan", pp.to_data(), f)
            return
        settings.require_live("apply a profile")
        host = _host(settings)
        plan = pp.plan(only_changes=False)  # unchanged steps are reported as such
        profile_doc = pp.profile.raw
        source = f"profile {file}"
    with _state_lock(settings, plan, "rmctl apply"):
        report = apply(plan, host, rollback=not no_rollback)
    code = _exit_for(report)
    from rmctl import journal

    entry = journal.new_entry(report, command="apply", profile=profile_doc,
                              fingerprint=plan.fingerprint, source=source)
    path = journal.entry_path(settings.state_dir, entry)
    _write_state(path, journal.dumps(entry), None, f"journal of apply {entry['id']}")
    if f == "table":
        _print_report(settings, report, f"apply {source}")
        sys.stdout.write(f"journal: {path}\n")
    else:
        from rmctl.cli.output import emit

        emit("ApplyReport", _report_data(report, code, {"journal": path}), f)
    if code:
        failed = [s for s in report.steps if s.status in ("failed", "stale")]
        if failed:
            sys.stderr.write(f"rmctl: error: {failed[0].status}: {failed[0].action.describe()}: {failed[0].detail}\n")
            if report.rolled_back:
                sys.stderr.write(f"hint: rolled back {len(report.rolled_back)} change(s); fix the cause and apply again\n")
        raise typer.Exit(code)


def _state_lock(settings, plan, command: str):
    """Return the reservations-state lock when ``plan`` changes that file, else a no-op context."""
    import contextlib

    from rmctl.ledger import Ledger

    lg = Ledger(settings.state_dir, lock_timeout=settings.lock_timeout, command=command)
    if any(getattr(a, "path", None) == lg.path for a in plan.actions):
        return lg.locked()
    return contextlib.nullcontext()


def _stale_reasons(plan, node, host) -> list[str]:
    from rmctl.provision import node_fingerprint

    out = []
    fp = node_fingerprint(node)
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


def _emit_plan_only(settings, plan, f: str) -> None:
    if f == "table":
        from rmctl.cli.output import console

        con = console(settings)
        for n, a in enumerate(plan.actions, 1):
            con.print(f"{n}. {a.describe()}")
        if not plan.actions:
            con.print("no changes")
    else:
        from rmctl.cli.output import emit

        emit("Plan", plan.to_data(), f)


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
        _emit_plan_only(settings, plan, f)
        return
    settings.require_live("undo an apply")
    with _state_lock(settings, plan, "rmctl undo"):
        report = apply(plan, _host(settings), rollback=False)
    code = _exit_for(report)
    if code == 0:
        _write_state(path, journal.dumps(journal.mark_undone(entry, report)), _read(path),
                     f"journal {entry['id']} undone")
    if f == "table":
        _print_report(settings, report, f"undo apply {entry['id']}")
    else:
        from rmctl.cli.output import emit

        emit("UndoReport", _report_data(report, code, {"journal": path}), f)
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
