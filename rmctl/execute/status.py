"""From an apply report to an exit status: the one mapping every command that applies a plan uses.

Each failed or stale step carries the RmctlError that stopped it
(``StepResult.error``, set by the executor): AccessDenied from a host
(exit 6), StalePlanError for a value that changed since planning (5), an
UnsatisfiableError for a hugepage shortfall (4, ``SetPoolPages``), an
ApplyError for anything else (1).  The step that decides is the first one
that stopped the run (stale or failed, in plan order); only when every
such step is a shortfall (the hugepage executor lets the other pools have
their try after one) does the first shortfall decide.  Nothing here
matches text.
"""

from __future__ import annotations

from rmctl.errors import ApplyError, ExitCode, RmctlError, UnsatisfiableError
from rmctl.model.plan import FAILED, STALE, ApplyReport, StepResult


def deciding_step(report: ApplyReport) -> StepResult | None:
    """Return the step whose error decides the report's exit status, or None when every step went well."""
    bad = [s for s in report.steps if s.status in (FAILED, STALE)]
    for s in bad:
        if not isinstance(s.error, UnsatisfiableError):
            return s
    return bad[0] if bad else None


def exit_status(report: ApplyReport) -> ExitCode:
    """Return the exit status of an applied plan: OK, or the deciding step's error's exit code."""
    step = deciding_step(report)
    if step is None:
        return ExitCode.OK
    return step.error.exit_code if step.error is not None else ExitCode.FAILED


def error_of(report: ApplyReport) -> RmctlError | None:
    """Return the error of the deciding step, worded for the operator (same class and exit code); None: none.

    The message names the action ("write '4' to PATH failed: ..."), and
    says when the steps before it were rolled back.
    """
    step = deciding_step(report)
    if step is None:
        return None
    err = step.error
    if err is None:  # a step built by hand without an error: still a failure (exit 1)
        err = ApplyError(step.detail)
    what = step.action.describe()
    if step.status == STALE:
        message = f"{what}: {err.message}"
    else:
        message = f"{what} failed: {err.message}"
    if report.rolled_back:
        message += f" (the {len(report.rolled_back)} step(s) before it were undone)"
    out = type(err)(message, hint=err.hint, details=dict(err.details))
    return out


def raise_for_report(report: ApplyReport) -> None:
    """Raise the error of the deciding step (see error_of); return when the report is clean."""
    err = error_of(report)
    if err is not None:
        raise err
