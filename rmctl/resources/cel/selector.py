"""Selectors: compile once (parse, check, estimate), evaluate per device.

:func:`compile_selector` refuses at load what DRA's API server refuses
when a DeviceClass or claim is created: bad syntax, a type error, a result
that is not bool, an estimated worst-case cost over 1,000,000 units
(DRA's CELSelectorExpressionMaxCost), an expression over 10 Ki
characters; and what rmctl knows cannot work on its devices (an
attribute name it does not publish, a bad regex or quantity constant).
Each refusal is a :class:`CelError` (exit 2) naming the file position and
the column in the expression.

:meth:`Selector.evaluate` runs on one device: the result, or the runtime
error (cel-go's message), never an exception; DRA fails the allocation on
such an error, which the planner does (rmctl.planning.requests).
"""

from __future__ import annotations

from rmctl.resources.cel import limits as L
from rmctl.resources.cel.checker import Checked, check
from rmctl.resources.cel.cost import estimate
from rmctl.resources.cel.errors import CelCheckError, CelCostError, CelError, CelIssue, EvalError, LimitExceeded
from rmctl.resources.cel.evaluator import Program
from rmctl.resources.cel.schema import DEFAULT_SCHEMA, DeviceSchema
from rmctl.resources.cel.syntax import parse

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any


class Outcome:
    """One selector on one device: ``value`` True/False, or ``error`` (then value False)."""

    __slots__ = ("value", "error", "cost")

    def __init__(self, value: bool, error: str | None = None, cost: int = 0):
        self.value = value
        self.error = error
        self.cost = cost

    def __repr__(self) -> str:
        return f"Outcome(value={self.value!r}, error={self.error!r}, cost={self.cost})"

    def to_data(self) -> dict:
        return {"value": self.value, "error": self.error}


class Selector:
    """A compiled selector: ``source`` text, ``where`` (file:line:col), its worst-case ``max_cost``."""

    def __init__(self, source: str, checked: Checked, max_cost: int, where: str = ""):
        self.source = source
        self.where = where
        self.checked = checked
        self.max_cost = max_cost
        self._program: Program | None = None

    @property
    def program(self) -> Program:
        if self._program is None:
            prog = _PROGRAMS.get(id(self.checked))
            if prog is None or prog[0] is not self.checked:
                prog = _PROGRAMS[id(self.checked)] = (self.checked, Program(self.checked))
            self._program = prog[1]
        return self._program

    def evaluate(
        self, activation: dict[str, Any], *, cost_limit: int = L.MAX_COST, seconds: float = L.MAX_EVAL_SECONDS
    ) -> Outcome:
        """Return the outcome on one device; a runtime error is an Outcome, never raised."""
        try:
            v, cost = self.program.run(activation, cost_limit, seconds)
        except EvalError as e:
            return Outcome(False, e.message)
        except LimitExceeded as e:
            return Outcome(False, str(e))
        except RecursionError:  # cannot happen within MAX_NESTING; never a traceback if it does
            return Outcome(False, "expression too deeply nested to evaluate")
        if v is True or v is False:
            return Outcome(v, None, cost)
        # DRA: "CEL result of type list could not be converted to bool"
        from rmctl.resources.cel.values import type_name

        return Outcome(False, f"CEL result of type {type_name(v)} could not be converted to bool", cost)

    def references(self) -> list[tuple[str, str, str]]:
        """Return (kind, domain, name) for each attribute/capacity the expression names with constants."""
        return list(self.checked.references)


def _where(where: str, issue: CelIssue) -> str:
    return f"{where}: " if where else ""


def compile_selector(source: str, where: str = "", schema: DeviceSchema | None = None) -> Selector:
    """Return the compiled selector; raise CelError naming ``where`` and the expression's line:col."""
    if not isinstance(source, str) or not source.strip():
        raise CelError(
            f"{where}: empty CEL expression" if where else "empty CEL expression",
            hint='a selector is a CEL expression of type bool, e.g. device.attributes["rmctl.io"].kind == "gpu"',
        )
    schema = schema or DEFAULT_SCHEMA
    key = (source, id(schema))
    hit = _COMPILED.get(key)
    if hit is not None and hit[0] is schema:
        return Selector(source, hit[1], hit[2], where)
    try:
        parsed = parse(source)
        checked = check(parsed, _variables(schema))
        t = checked.result_type
        if t.kind not in ("bool", "dyn"):
            raise CelCheckError(f"must evaluate to bool or the unknown type, not {t}", source, 0)
        cost = estimate(checked)[1]
        if cost > L.MAX_COST:
            x = CelCostError(
                f"estimated worst-case cost {cost} exceeds the limit of {L.MAX_COST} "
                "(DRA's CELSelectorExpressionMaxCost; the API server refuses it)",
                source,
                0,
            )
            x.hint = (
                # cel-go saturates an unknown size at 2^64-1
                "the worst case is unbounded: a string list literal's join(), indexOf(), min(), max() or "
                "isSorted(), or a split() of split() results, has elements of a size the cluster cannot "
                "bound (its estimator knows the device's fields only; docs/cel.md)"
                if cost >= 1 << 60
                else "nested comprehensions multiply: each .all()/.exists() over n items costs n times its "
                "body; avoid nesting them over lists or maps"
            )
            raise x
    except CelIssue as e:
        raise to_cel_error(e, where) from None
    if len(_COMPILED) < 1024:
        _COMPILED[key] = (schema, checked, cost)
    return Selector(source, checked, cost, where)


#: compile once per process: (source, schema) -> (schema, checked, cost); program per checked expression
_COMPILED: dict[tuple[str, int], tuple[DeviceSchema, Checked, int]] = {}
_PROGRAMS: dict[int, tuple[Checked, Program]] = {}


def to_cel_error(e: CelIssue, where: str = "") -> CelError:
    """Return the user-facing CelError of a compile issue: file position, expression position, snippet."""
    prefix = _where(where, e)
    what = (
        {"syntax": "CEL syntax error", "type": "CEL type error", "cost": "CEL cost"}[e.kind]
        if e.kind in ("syntax", "type", "cost")
        else "CEL error"
    )
    pos = f" at {e.line}:{e.column} of the expression" if e.kind != "cost" else ""
    msg = f"{prefix}{what}{pos}: {e.message}"
    snippet = e.snippet() if e.kind != "cost" else None
    hint = "\n".join(x for x in (e.hint or ("the expression:" if snippet else None), snippet) if x)
    return CelError(
        msg,
        hint=hint or None,
        details={"line": e.line, "column": e.column, "expression": e.source, "kind": e.kind, "message": e.message},
    )


def check_selector(source: str, where: str = "", schema: DeviceSchema | None = None) -> CelError | None:
    """Return the CelError compile_selector would raise, or None when the selector is valid."""
    try:
        compile_selector(source, where, schema)
    except CelError as e:
        return e
    return None


_VARS: dict[int, dict] = {}


def _variables(schema: DeviceSchema) -> dict:
    key = id(schema)
    v = _VARS.get(key)
    if v is None or v["schema"] is not schema:
        v = _VARS[key] = {"schema": schema, "vars": {"device": schema.device_type()}}
    return v["vars"]


def describe_eval_error(e: Exception) -> str:
    """Return a one-line reason for a CEL runtime error."""
    return getattr(e, "message", None) or str(e).splitlines()[0] if str(e) else type(e).__name__
