"""One request over many nodes: roots read in parallel, results streamed as they come (issue 14 item 2).

A :class:`Fleet` is what ``request evaluate|explain`` return for several
roots (rmctl.discovery.roots: ``--root`` repeated, a directory of
snapshots, ``--roots-from``).  Iterating it reads the roots in up to
``jobs`` worker processes (rmctl.ops.pool) and yields one
:class:`NodeResult` per root, in the order they finish, so a caller can
print each node as soon as it is known; :meth:`Fleet.outcome` then gives
the whole document, nodes in the order of the roots.

A root that cannot be read (missing, hostile tarball) is a result too: its
error, for that node; the other nodes go on.  The exit status
(:meth:`Fleet.outcome`):

- 0 when the request fits on at least one node (pods: every pod admitted there);
- 4 when every node was read and it fits on none;
- otherwise the exit code of the first failed node in root order (3 for
  an unreadable root): "fits nowhere" is not known when nodes are missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import cast

from rmctl.discovery.roots import fleet_roots
from rmctl.errors import ExitCode, RmctlError
from rmctl.model.record import record
from rmctl.ops.outcome import Message, Outcome
from rmctl.ops.outcome import error as error_message
from rmctl.ops.outcome import note as note_message
from rmctl.ops.outcome import warning as warning_message
from rmctl.ops.pool import default_jobs, unordered

__all__ = ["Fleet", "NodeError", "NodeResult", "default_jobs", "fleet_roots"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class NodeError:
    """Why one root of a fleet could not be read or evaluated: an RmctlError's code, text and exit code."""

    code: str
    message: str
    hint: str | None
    exit_code: int

    @classmethod
    def of(cls, e: BaseException) -> NodeError:
        if isinstance(e, RmctlError):
            return cls(e.code, e.message, e.hint, int(e.exit_code))
        return cls("internal_error", f"internal error: {type(e).__name__}: {e}",
                   "rerun with --debug for a traceback, and report it", int(ExitCode.FAILED))

    def to_data(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


@record
class NodeResult:
    """One node of a fleet: its position in the roots, the root, and the value or the error.

    ``value``: what the per-node function returned (an Evaluation, or a
    (NodeModel, pod evaluations) pair); ``notes``: its notes for stderr;
    ``fits``: its verdict (False for an error).
    """

    index: int
    root: str
    value: Any = None
    error: NodeError | None = None
    notes: tuple[str, ...] = ()
    fits: bool = False


class Fleet:
    """The nodes of one fleet command, read when iterated (see the module doc).

    ``node(root)`` returns ``(value, notes, fits)`` for one root (run in a
    worker); ``document(result)`` the (kind, data) of one node's JSON Lines
    record; ``finish(results)`` the Outcome of the whole fleet from the
    results in root order (every node read or failed).
    """

    def __init__(self, roots: Sequence[str], node: Callable[[str], tuple], *, jobs: int | None,
                 document: Callable[[NodeResult], tuple[str, dict]],
                 finish: Callable[[list[NodeResult]], Outcome], name: str, pods: bool = False):
        self.roots = tuple(roots)
        self.pods = pods  #: the values are (NodeModel, pod evaluations), not Evaluations
        self.jobs = default_jobs() if not jobs else jobs
        self.name = name  #: the request's name
        self._node, self._document, self._finish = node, document, finish
        self._results: dict[int, NodeResult] = {}
        self._done = False

    def __len__(self) -> int:
        return len(self.roots)

    def __iter__(self) -> Iterator[NodeResult]:
        if self._done:
            yield from (self._results[i] for i in sorted(self._results))
            return
        for i, ok, value in unordered(self._node, self.roots, self.jobs):
            if ok:
                got, notes, fits = cast("tuple[object, list[str], bool]", value)
                r = NodeResult(i, self.roots[i], value=got, notes=tuple(notes), fits=bool(fits))
            else:
                r = NodeResult(i, self.roots[i], error=NodeError.of(value))  # type: ignore[arg-type]
            self._results[i] = r
            yield r
        self._done = True

    def document(self, r: NodeResult) -> tuple[str, dict]:
        """Return the (kind, data) of one node's record: its evaluation, or an Error naming the node."""
        if r.error is not None:
            return "Error", {"node": r.root, "error": r.error.to_data(), "exit_code": r.error.exit_code}
        return self._document(r)

    def outcome(self) -> Outcome:
        """Return the Outcome of the whole fleet (reading what is left first); nodes in root order."""
        for _ in self:
            pass
        results = [self._results[i] for i in range(len(self.roots))]
        out = self._finish(results)
        return out.with_messages(*fleet_messages(results, decided=out.exit_code == ExitCode.OK))

    @staticmethod
    def status(results: list[NodeResult]) -> ExitCode:
        """Return the fleet's exit status (the module doc's rule)."""
        if any(r.fits for r in results):
            return ExitCode.OK
        failed = [r for r in results if r.error is not None]
        if failed:
            return ExitCode(failed[0].error.exit_code)  # type: ignore[union-attr]
        return ExitCode.UNSATISFIABLE


def fleet_messages(results: list[NodeResult], *, decided: bool = False) -> list[Message]:
    """Return the stderr lines of a fleet: each note once, then the nodes that could not be read.

    ``decided``: the request fits somewhere, so an unreadable node is a
    warning; otherwise it is why the answer is not known (an error).
    """
    out: list[Message] = []
    seen: set[str] = set()
    for r in results:
        for n in r.notes:
            if n not in seen:
                seen.add(n)
                out.append(note_message(n))
    failed = [r for r in results if r.error is not None]
    for r in failed:
        e = r.error
        assert e is not None
        text = f"node {r.root} could not be read: {e.message}"
        out.append(warning_message(text, e.hint) if decided else error_message(text, e.hint))
    return out


def errors_data(results: list[NodeResult]) -> list[dict]:
    """Return the ``errors`` of a fleet document: one entry per node that could not be read."""
    return [{"node": r.root, **r.error.to_data(), "exit_code": r.error.exit_code}
            for r in results if r.error is not None]
