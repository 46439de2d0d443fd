"""The executor: apply a Plan through a Host, with read-back.

For each action, in order (sqlite-utils' transform/transform_sql split; the
kubelet's "expect" checks on checkpoints):

1. read the current value through the host;
2. already at the target -> ``unchanged`` (apply is idempotent);
3. differs from what the plan saw (``expected()``) -> ``stale``: stop,
   nothing more runs (the machine changed since planning);
4. act, then read back (retrying where the action asks: the kernel grants
   hugepages after compaction); not at the target -> ``failed``.

On the first failure the remaining actions are ``not-run``; with
``rollback=True`` the applied ones are undone in reverse order from the
values read before each step.  Reboot-only actions are never performed:
they are ``not-run`` with "needs a reboot" unless already in effect.
"""

from __future__ import annotations

import time

from rmctl.errors import RmctlError, StalePlanError
from rmctl.model.plan import APPLIED, FAILED, NOT_RUN, STALE, UNCHANGED, ApplyReport, Plan, StepResult


def apply(plan: Plan, host, *, rollback: bool = False, continue_on=None, sleep=time.sleep) -> ApplyReport:
    """Apply ``plan`` on ``host``; return the report (never raises for a failed step).

    ``continue_on(step)``: for a step that acted but read back short of its
    target, True lets the later steps run (hugepage pools: a shortfall on one
    pool must not starve the others of their try); errors and stale values
    always stop.
    """
    report = ApplyReport()
    stopped = False
    for action in plan.actions:
        if stopped:
            report.steps.append(StepResult(action, NOT_RUN, "an earlier step did not complete"))
            continue
        try:
            before = action.current(host)
        except RmctlError as e:
            report.steps.append(StepResult(action, FAILED, str(e), error=e))
            stopped = True
            continue
        if action.done(before):
            report.steps.append(StepResult(action, UNCHANGED, "already at target", before, before))
            continue
        if action.reboot:
            report.steps.append(StepResult(action, NOT_RUN, "needs a reboot to take effect", before))
            continue
        exp = action.expected()
        if exp is not None and before != exp:
            detail = f"changed since planning: plan saw {exp!r}, now {before!r}"
            report.steps.append(StepResult(action, STALE, detail, before, error=StalePlanError(
                detail, hint="another process changed it; run the command again")))
            stopped = True
            continue
        try:
            action.perform(host)
            after = action.current(host)
            retries = getattr(action, "retries", 0)
            delay = getattr(action, "retry_delay", 0.0)
            while not action.done(after) and retries > 0:
                sleep(delay)
                # Writing again asks the kernel to try again (hugetlb: compaction).
                action.perform(host)
                after = action.current(host)
                retries -= 1
        except RmctlError as e:  # AccessDenied keeps its class (exit 6): rmctl.execute.status
            report.steps.append(StepResult(action, FAILED, str(e), before, error=e))
            stopped = True
            continue
        if action.done(after):
            report.steps.append(StepResult(action, APPLIED, "", before, after))
        else:
            step = StepResult(action, FAILED, f"read back {after!r}", before, after,
                              error=action.readback_error(after))
            report.steps.append(step)
            stopped = not (continue_on is not None and continue_on(step))
    if stopped and rollback:
        report.rolled_back = rollback_steps(report, host)
    return report


def rollback_steps(report: ApplyReport, host) -> list[StepResult]:
    """Undo applied (and failed-but-changed) steps in reverse order; return what was done."""
    out: list[StepResult] = []
    for step in reversed(report.steps):
        if step.status not in (APPLIED, FAILED):
            continue
        if step.status == FAILED and (step.after is None or step.after == step.before):
            continue
        undo = step.action.undo(step.before)
        if undo is None:
            continue
        try:
            undo.perform(host)
            after = undo.current(host)
            ok = undo.done(after)
            out.append(StepResult(undo, APPLIED if ok else FAILED, "rollback", step.after, after,
                                  error=None if ok else undo.readback_error(after)))
        except RmctlError as e:
            out.append(StepResult(undo, FAILED, f"rollback: {e}", error=e))
    return out


def undo_plan(report: ApplyReport) -> Plan:
    """Return the plan that reverts every applied step of ``report`` (newest first)."""
    actions = []
    for step in reversed(report.steps):
        if step.status == APPLIED:
            u = step.action.undo(step.before)
            if u is not None:
                actions.append(u)
    return Plan(actions=actions, command="undo")
