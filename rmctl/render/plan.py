"""Plans and apply reports for people and scripts: one renderer for every mutating command.

``plan_data(plan)`` and ``report_data(report)`` are the bodies of the
``Plan`` and ``ApplyReport`` documents (``-o json|yaml``, through
``rmctl.cli.output.emit``); ``print_plan`` / ``print_report`` draw the
tables (rich is imported inside them: only the table path pays for it).
A ``--dry-run`` prints the plan and never reaches the executor.
"""

from __future__ import annotations

from rmctl.model.plan import APPLIED, FAILED, NOT_RUN, STALE, UNCHANGED, ApplyReport, Plan

_STATUS_STYLE = {APPLIED: "green", UNCHANGED: "dim", FAILED: "red", NOT_RUN: "yellow", STALE: "red"}


def plan_data(plan: Plan, *, dry_run: bool = True, changed: bool | None = None) -> dict:
    """Return the plan as document data: command, fingerprint, actions, notes, dry_run.

    Each action carries ``kind``, its fields, ``description`` and, for
    boot arguments, ``reboot_required``.  The plan's summary uses the
    apply report's words: ``changed`` (would anything change: by default,
    are there actions), ``changes`` (how many actions) and
    ``reboot_required`` (the actions that take effect only after a reboot,
    described; a list, as in the report).
    """
    d = plan.to_data()
    d.pop("apiVersion", None)
    d.pop("kind", None)
    d["dry_run"] = dry_run
    d["changed"] = bool(plan.actions) if changed is None else changed
    d["changes"] = len(plan.actions) if d["changed"] else 0
    d["reboot_required"] = [a.describe() for a in plan.actions if a.reboot]
    return d


def report_data(report: ApplyReport, *, plan: Plan | None = None) -> dict:
    """Return the apply report as document data: ok, changed, changes (steps applied), counts, steps,
    rolled_back."""
    d = report.to_data()
    d["changes"] = d["counts"].get(APPLIED, 0)
    if plan is not None:
        d["command"] = plan.command
        d["fingerprint"] = plan.fingerprint
        d["notes"] = list(plan.notes)
    return d


def plan_text(plan: Plan | None, *, title: str = "plan (dry run, nothing changed):") -> str:
    """Return a plan as plain lines (no rich): the title, then one ``  - action`` line each."""
    actions = plan.actions if plan is not None else []
    lines = [title] + [f"  - {a.describe()}" for a in actions]
    if not actions:
        lines.append("  (nothing to do)")
    return "\n".join(lines) + "\n"


_VERBS = {"mkdir": "mkdir ", "mount": "mount ", "boot-args": "kernel command line "}


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return " ".join(str(x) for x in v)
    return str(v)


def review_rows(plan: Plan, review: list[dict] | None = None) -> list[dict]:
    """Return one row per action: n, field, kind, target, current, desired, reboot.

    ``review`` (optional, one dict per action) gives the profile field and
    the current/desired values a planner read; without it ``current`` is
    what the action expects to find (its ``expected()``) and ``desired``
    its target value.
    """
    rows = []
    for i, a in enumerate(plan.actions):
        r = review[i] if review is not None and i < len(review) else {}
        exp = a.expected()
        rows.append({"n": i + 1, "field": r.get("field", ""), "kind": a.kind, "target": a.target(),
                     "current": _cell(r["current"]) if "current" in r else ("" if exp is None else _cell(exp)),
                     "desired": _cell(r["desired"]) if "desired" in r else _cell(a.desired()),
                     "reboot": bool(a.reboot)})
    return rows


def print_plan(con, plan: Plan, *, title: str = "Plan (dry run: nothing changed)",
               review: list[dict] | None = None, empty: str | None = None) -> None:
    """Print the actions of a plan, numbered: what, where, to which value, what was seen.

    With ``review`` (see :func:`review_rows`: profile plans) the table shows
    the profile field of each action and ``current -> desired``; actions
    that need a reboot are marked ``[needs a reboot]``.  ``empty`` replaces
    the "nothing to do" line.
    """
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    if review is not None:
        # one line per action, never wrapped (Terraform's plan reads this way; long
        # state paths and CPU lists stay greppable on a pipe)
        if not plan.actions:
            con.print(escape(empty or f"{title}: nothing to do"), soft_wrap=True)
        else:
            con.print(f"[bold]{escape(title)}:[/bold]", soft_wrap=True)
            rows = review_rows(plan, review)
            width = max(len(r["field"]) for r in rows)
            for r in rows:
                verb = _VERBS.get(r["kind"], "")
                reboot = "  [yellow]\\[needs a reboot][/yellow]" if r["reboot"] else ""
                con.print(f"  {r['n']}. {escape(r['field']):<{width}}  {verb}{escape(r['target'])}: "
                          f"{escape(r['current'])} -> {escape(r['desired'])}{reboot}", soft_wrap=True)
        for note in plan.notes:
            con.print(f"note: {escape(note)}", soft_wrap=True)
        if any(a.reboot for a in plan.actions):
            con.print("[yellow]Changes marked \\[needs a reboot] take effect only after a reboot; "
                      "apply reports them.[/yellow]", soft_wrap=True)
        return
    if not plan.actions:
        con.print(f"[bold]{title}[/bold]: nothing to do")
    else:
        t = Table(title=f"[bold]{title}[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, header_style="bold")
        for col, j in (("#", "right"), ("action", "left"), ("target", "left"), ("value", "left"),
                       ("seen", "left")):
            t.add_column(col, justify=j)  # type: ignore[arg-type]
        for i, a in enumerate(plan.actions, 1):
            exp = a.expected()
            seen = "" if exp is None else str(exp)
            kind = a.kind + (" [yellow](reboot)[/yellow]" if a.reboot else "")
            t.add_row(str(i), kind, a.target(), a.desired(), seen)
        con.print(t)
    for note in plan.notes:
        con.print(f"note: {note}")
    if any(a.reboot for a in plan.actions):
        con.print("[yellow]some actions take effect only after a reboot[/yellow]")


def print_report(con, report: ApplyReport, *, title: str = "Applied") -> None:
    """Print one line per step with its status, then the counts (and any rollback)."""
    from rich import box
    from rich.table import Table

    def table(steps, heading):
        t = Table(title=f"[bold]{heading}[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, header_style="bold")
        for col in ("#", "status", "action", "detail"):
            t.add_column(col, justify="right" if col == "#" else "left")
        for i, s in enumerate(steps, 1):
            st = _STATUS_STYLE.get(s.status, "")
            t.add_row(str(i), f"[{st}]{s.status}[/{st}]" if st else s.status, s.action.describe(), s.detail)
        return t

    con.print(table(report.steps, title))
    counts = report.counts()
    con.print(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "nothing to do")
    if report.rolled_back:
        con.print(table(report.rolled_back, "Rolled back"))
