"""``rmctl request evaluate|explain``: does a ResourceRequest fit this node (or those snapshots)?

Read-only: an evaluation subtracts what the reservations state already
holds (on the live machine only: a snapshot describes another node, whose
state is not here) and changes nothing.  Exit status: 0 when the request
fits (with several roots: when at least one node fits), 4 when it does
not; the evaluation is the document either way.

Reserving the result (``evaluate --reserve``) and releasing it are the
reservation use cases', which share :func:`load_request` and
:func:`discover_roots` with these.
"""

from __future__ import annotations

from collections.abc import Sequence

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import ExitCode
from rmctl.ledger import Ledger
from rmctl.model.fingerprint import fingerprint
from rmctl.model.node import NodeModel
from rmctl.ops.classes import load as load_classes
from rmctl.ops.outcome import Outcome
from rmctl.planning.requests import Evaluation, Reserved, evaluate
from rmctl.request_reservations import reserved_from_state
from rmctl.resources.classes import ResourceClass
from rmctl.resources.request import ResourceRequest, check_classes, load_request as read_request


def load_request(file: str, class_dir: str | None) -> tuple[ResourceRequest, dict[str, ResourceClass]]:
    """Return the request in ``file`` ('-': stdin) and the classes it may use (directory + its own).

    Every class the request names must exist (InputError, exit 2).
    """
    classes = load_classes(class_dir)
    req = read_request(file)
    merged = dict(classes)
    merged.update(req.classes)
    check_classes(req, merged)
    return req, merged


def discover_roots(root: Root, roots: Sequence[str] = ()) -> list[NodeModel]:
    """Return the node models (devices included) of ``roots``, or of ``root`` when none are given."""
    if not roots:
        return [discover(root, devices=True)]
    return [discover(Root.open(r), devices=True) for r in roots]


def held(node: NodeModel, state_dir: str, lock_timeout: float = 10.0) -> Reserved:
    """Return what the reservations in ``state_dir`` hold on ``node``; nothing for a snapshot.

    Read without the state lock (an evaluation reserves nothing).
    """
    if not node.source.live:
        return Reserved()
    state = Ledger(state_dir, lock_timeout=lock_timeout, command="rmctl request").load(fingerprint(node))
    return reserved_from_state(state)


def _evaluations(root: Root, file: str, roots: Sequence[str], class_dir: str | None, state_dir: str,
                 lock_timeout: float, max_numa_nodes: int) -> tuple[ResourceRequest, list[Evaluation]]:
    req, classes = load_request(file, class_dir)
    evs = [evaluate(n, req, classes, reserved=held(n, state_dir, lock_timeout), max_numa_nodes=max_numa_nodes)
           for n in discover_roots(root, roots)]
    return req, evs


def _status(fits: bool) -> ExitCode:
    return ExitCode.OK if fits else ExitCode.UNSATISFIABLE


def evaluate_request(root: Root, file: str, *, roots: Sequence[str] = (), class_dir: str | None = None,
                     state_dir: str, lock_timeout: float = 10.0, max_numa_nodes: int = 8) -> Outcome:
    """Evaluate the request in ``file`` on ``root`` (or each of ``roots``).

    One node: the RequestEvaluation document.  Several: the
    RequestEvaluationList (``fits`` when any node fits, ``fitting_nodes``,
    one evaluation per node).  ``view``: the evaluations.
    """
    req, evs = _evaluations(root, file, roots, class_dir, state_dir, lock_timeout, max_numa_nodes)
    if len(evs) == 1:
        ev = evs[0]
        return Outcome(kind="RequestEvaluation", data=ev.to_data(), exit_code=_status(ev.fits), view=tuple(evs))
    fits = any(e.fits for e in evs)
    data = {"request": req.name, "fits": fits, "fitting_nodes": [e.node for e in evs if e.fits],
            "nodes": [e.to_data() for e in evs]}
    return Outcome(kind="RequestEvaluationList", data=data, exit_code=_status(fits), view=tuple(evs))


def explain_request(root: Root, file: str, *, roots: Sequence[str] = (), class_dir: str | None = None,
                    state_dir: str, lock_timeout: float = 10.0, max_numa_nodes: int = 8) -> Outcome:
    """Explain the request: as :func:`evaluate_request`, every selector's result on every device included.

    One node: the RequestExplanation document; several: the
    RequestExplanationList (``fits`` when any node fits).
    """
    req, evs = _evaluations(root, file, roots, class_dir, state_dir, lock_timeout, max_numa_nodes)
    fits = any(e.fits for e in evs)
    if len(evs) == 1:
        return Outcome(kind="RequestExplanation", data=evs[0].to_data(explain=True), exit_code=_status(fits),
                       view=tuple(evs))
    data = {"request": req.name, "fits": fits, "nodes": [e.to_data(explain=True) for e in evs]}
    return Outcome(kind="RequestExplanationList", data=data, exit_code=_status(fits), view=tuple(evs))
