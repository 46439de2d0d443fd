"""`rmctl plan|apply|undo|verify`: node profiles (registered by rmctl.cli).

- ``plan -f PROFILE``: the ordered actions that would make this node match,
  each with current -> desired and whether it needs a reboot.  With
  ``--detailed-exitcode``: 0 no changes, 2 changes, 1 any error (Terraform's
  convention; the error document keeps the precise code).  ``-o json`` is a
  saved plan (it carries the node fingerprint and its intent).
- ``apply -f PROFILE|PLAN.json``: runs the actions in order with read-back;
  on the first failure stops and rolls back (``--no-rollback`` keeps what
  was done).  Exit 0; 1 a step failed; 4 a shortfall (fewer hugepages than
  asked); 5 a saved plan that is stale, or not what rmctl plans now for
  the intent it records (refused before any change; ``--force`` applies
  what rmctl plans now instead).  Every apply writes a journal under the
  state dir.
- ``undo``: reverts the newest apply that changed something and is not
  undone yet.
- ``verify -f PROFILE``: exit 0 when the running node matches the profile,
  4 when it does not (what differs is listed; 4 is "partial" in rmctl's
  exit codes, so 1 keeps meaning "an error stopped us").
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

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


# -- renderers (tables for people) ------------------------------------------------

def _print_profile_plan(settings, pp) -> None:
    """Print the changes of a profile plan (render.plan.print_plan with the review columns)."""
    from rmctl.cli.output import console
    from rmctl.render.plan import print_plan

    ch = pp.changes()
    changes = f"{len(ch)} change" + ("" if len(ch) == 1 else "s")
    print_plan(console(settings), pp.plan(), title=f"profile {pp.profile.name}: {changes}, in order",
               review=[{"field": i.field, "current": i.current, "desired": i.desired} for i in ch],
               empty=f"profile {pp.profile.name}: no changes; the node matches.")


def _plan_table(settings, outcome) -> None:
    _print_profile_plan(settings, outcome.view)


def _apply_table(settings, outcome) -> None:
    """Print what apply/undo returned: a plan (dry run), a report and its journal, or 'nothing to undo'."""
    from rmctl.cli.output import console
    from rmctl.render.plan import print_plan, print_report

    what = outcome.view[0]
    if what == "profile":
        _print_profile_plan(settings, outcome.view[1])
    elif what == "plan":
        print_plan(console(settings), outcome.view[1], title=outcome.view[2])
    elif what == "nothing":
        sys.stdout.write(f"nothing to undo: no apply journal with changes under {outcome.view[1]}\n")
    else:
        _, report, title, journal = outcome.view
        print_report(console(settings), report, title=title)
        if outcome.kind == "ApplyReport":
            sys.stdout.write(f"journal: {journal}\n")


def _verify_table(settings, outcome) -> None:
    d = outcome.data
    out = sys.stdout
    if d["match"]:
        out.write(f"profile {d['profile']}: the node matches\n")
        return
    out.write(f"profile {d['profile']}: {len(d['mismatches'])} mismatch(es)\n")
    for m in d["mismatches"]:
        out.write(f"  {m['field']}: {m['target']}: {m['current']} -> {m['desired']} ({m['detail']})\n")


# -- commands -----------------------------------------------------------------

@handle_errors
def plan_cmd(
    ctx: typer.Context,
    file: ProfileFile,
    output: Output = Format.table,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
                                                    help="Exit 0 when nothing would change, 2 when something would, "
                                                         "1 on any error (Terraform's convention).")] = False,
):
    from rmctl.cli.output import finish
    from rmctl.ops import profile as ops

    s = ctx.obj
    finish(s, ops.plan(s.root, s.state_dir, file, detailed_exitcode=detailed_exitcode, kubelet_root=s.kubelet_root), fmt(output),
           table=_plan_table)


@handle_errors
def apply_cmd(
    ctx: typer.Context,
    file: Annotated[str, typer.Option("--file", "-f", metavar="PROFILE|PLAN.json",
                                      help="NodeProfile YAML, or a plan saved with `rmctl plan -o json` "
                                           "or any command's `--dry-run -o json`.")],
    output: Output = Format.table,
    dry_run: DryRun = False,
    no_rollback: Annotated[bool, typer.Option("--no-rollback", help="On a failure keep what was already changed.")] = False,
    force: Annotated[bool, typer.Option("--force", help="A saved plan that is stale: apply what rmctl plans now "
                                                        "for the profile or command it records, not its actions.")] = False,
):
    from rmctl.cli.output import finish
    from rmctl.ops import profile as ops

    s = ctx.obj
    finish(s, ops.apply(s.root, s.state_dir, file, dry_run=dry_run, rollback=not no_rollback, force=force,
                        lock_timeout=s.lock_timeout, kubelet_root=s.kubelet_root), fmt(output), table=_apply_table)


@handle_errors
def undo_cmd(
    ctx: typer.Context,
    output: Output = Format.table,
    dry_run: DryRun = False,
):
    from rmctl.cli.output import finish
    from rmctl.ops import profile as ops

    s = ctx.obj
    finish(s, ops.undo(s.root, s.state_dir, dry_run=dry_run, lock_timeout=s.lock_timeout), fmt(output),
           table=_apply_table)


@handle_errors
def verify_cmd(
    ctx: typer.Context,
    file: ProfileFile,
    output: Output = Format.table,
):
    from rmctl.cli.output import finish
    from rmctl.ops import profile as ops

    s = ctx.obj
    finish(s, ops.verify(s.root, s.state_dir, file, kubelet_root=s.kubelet_root), fmt(output), table=_verify_table)
