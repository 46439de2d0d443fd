"""Actions for profiles: state files that can be undone.

:class:`rmctl.model.plan.ReplaceFile` knows the digest of what it replaces,
not the text, so it cannot be undone.  ``StateReplace`` also carries the
previous text (``previous``; None: the file did not exist) so that
``rmctl undo`` and rollback restore the reservations state exactly
(pipx's transaction: back up, change, restore on failure), and
``RemoveFile`` restores "did not exist".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from rmctl.model.plan import _ABSENT, Action, ReplaceFile


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class StateReplace(ReplaceFile):
    """Replace a state file atomically; undo puts ``previous`` back (or removes the file)."""

    kind: ClassVar[str] = "replace-state"
    previous: str | None = None

    @classmethod
    def of(cls, path: str, content: str, previous: str | None, summary: str = "") -> StateReplace:
        """Return the action replacing ``previous`` (None: absent) by ``content`` at ``path``."""
        return cls(path=path, content=content, summary=summary, previous=previous,
                   expect_sha256=None if previous is None else sha256(previous))

    def undo(self, previous_digest):
        if self.previous is None:
            return RemoveFile(path=self.path, expect_sha256=sha256(self.content), summary=self.summary)
        return StateReplace(path=self.path, content=self.previous, previous=self.content,
                            expect_sha256=sha256(self.content), summary=f"restore: {self.summary}".strip())

    def to_data(self):
        d = super().to_data()
        d["previous"] = self.previous
        return d


@dataclass(frozen=True)
class RemoveFile(Action):
    """Remove a state file (undo of creating it); ``expect_sha256``: what planning saw."""

    kind: ClassVar[str] = "remove-file"
    path: str = ""
    expect_sha256: str | None = None
    summary: str = ""

    def current(self, host):
        text = host.read_text(self.path)
        return _ABSENT if text is None else sha256(text)

    def done(self, current):
        return current == _ABSENT

    def expected(self):
        return self.expect_sha256

    def perform(self, host):
        host.remove_file(self.path)

    def undo(self, previous):
        return None  # the text is gone; StateReplace.undo is the way back

    def describe(self):
        s = f": {self.summary}" if self.summary else ""
        return f"remove {self.path}{s}"

    def target(self):
        return self.path

    def desired(self):
        return "absent"
