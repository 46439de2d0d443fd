"""What a use case returns: the document to render, messages for stderr, the exit status.

A use case never prints and never exits: it returns an :class:`Outcome`
and the CLI renders it (``rmctl.cli.output.finish``): the document as
JSON/YAML (``kind`` + ``data``, the envelope of rmctl.render.data) or as
a table (from ``data``, and from ``view`` for what a table shows beyond
the document), then each message on stderr, then ``exit_code``.

An error that stops a use case before it has anything to show is raised
(an :class:`rmctl.errors.RmctlError`, reported at the CLI's one boundary);
an Outcome with a non-zero ``exit_code`` is a result that is still printed
(an evaluation that does not fit, an apply report with a failed step), its
``messages`` saying why.

Built on :mod:`rmctl.model.record`, not dataclasses, and without the
typing module: the topology fast path returns an Outcome too and has no
time for either (tests/test_imports.py).
"""

from __future__ import annotations

from rmctl.errors import ExitCode
from rmctl.model.record import record, replace

TYPE_CHECKING = False  # the typing module costs ~2 ms on the fast path; type checkers see True
if TYPE_CHECKING:
    from typing import Any

#: message levels, in the order a reader should care
ERROR, WARNING, NOTE = "error", "warning", "note"


@record
class Message:
    """One line for stderr: ``level`` (error|warning|note), ``text``, and ``hint``, the operator's next step."""

    text: str
    level: str = ERROR
    hint: str | None = None

    def lines(self) -> str:
        """Return the stderr text: ``rmctl: LEVEL: TEXT`` plus ``hint: HINT`` (newline-terminated)."""
        out = f"rmctl: {self.level}: {self.text}\n"
        return out + (f"hint: {self.hint}\n" if self.hint else "")


@record
class Outcome:
    """The result of one use case.

    ``kind`` and ``data``: the JSON/YAML document (``data`` is its body, not
    changed after the Outcome is made).  ``exit_code``: the process's exit
    status.  ``messages``: stderr lines printed after the document.
    ``view``: whatever the table renderer needs beyond ``data`` (a plan, an
    evaluation, a report; :class:`Text` for lines); never serialised.  An
    empty ``kind``: no document at all (``cpu run``: the command's output
    is the child's own).
    """

    kind: str
    data: dict[str, Any]
    exit_code: ExitCode | int = ExitCode.OK  #: an int only where a child's status is passed on (cpu run)
    messages: tuple[Message, ...] = ()
    view: Any = None

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    def with_messages(self, *messages: Message) -> Outcome:
        """Return this outcome with ``messages`` added after its own."""
        return replace(self, messages=self.messages + tuple(messages))


@record
class Text:
    """A view for commands whose table output is lines: ``lines``, then ``plan`` (a dry run's) as text,
    then ``after``."""

    lines: tuple[str, ...] = ()
    plan: Any = None
    after: tuple[str, ...] = ()


def error(text: str, hint: str | None = None) -> Message:
    return Message(text=text, level=ERROR, hint=hint)


def warning(text: str, hint: str | None = None) -> Message:
    return Message(text=text, level=WARNING, hint=hint)


def note(text: str, hint: str | None = None) -> Message:
    return Message(text=text, level=NOTE, hint=hint)
