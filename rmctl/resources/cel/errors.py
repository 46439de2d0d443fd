"""Errors of the CEL engine: compile-time issues (with their offset) and CelError for users."""

from __future__ import annotations

from rmctl.errors import UsageError


class CelError(UsageError):
    """A selector does not compile (exit 2); ``details`` has line/column in the expression."""

    code = "cel_error"


class CelIssue(Exception):
    """A problem found while compiling: ``message`` at ``offset`` (0-based) of ``source``."""

    kind = "error"

    def __init__(self, message: str, source: str, offset: int):
        super().__init__(message)
        self.message = message
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        self.hint: str | None = None

    @property
    def line(self) -> int:
        return self.source.count("\n", 0, self.offset) + 1

    @property
    def column(self) -> int:
        """1-based column in code points, as cel-go reports it."""
        return self.offset - (self.source.rfind("\n", 0, self.offset) + 1) + 1

    def snippet(self) -> str:
        """Return the line of the expression and a caret under the column (cel-go's style)."""
        start = self.source.rfind("\n", 0, self.offset) + 1
        end = self.source.find("\n", self.offset)
        text = self.source[start:] if end < 0 else self.source[start:end]
        if len(text) > 160:  # keep the line readable around the column
            lo = max(0, self.column - 80)
            return f" | ...{text[lo : lo + 150]}...\n | ...{'.' * (self.column - 1 - lo)}^"
        return f" | {text}\n | {'.' * (self.column - 1)}^"


class CelSyntaxError(CelIssue):
    kind = "syntax"


class CelCheckError(CelIssue):
    kind = "type"


class CelCostError(CelIssue):
    kind = "cost"


class EvalError(Exception):
    """A CEL runtime error (an error *value*: ``a || b`` may still absorb it)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LimitExceeded(Exception):
    """An evaluation went past its cost budget or its time: never absorbed, fails the evaluation."""
