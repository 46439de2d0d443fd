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
from rmctl.model.fingerprint import fingerprint
from rmctl.model.node import NodeModel
from rmctl.ops.classes import load as load_classes
from rmctl.ops.outcome import Outcome, note
from rmctl.planning.requests import Evaluation, Reserved, evaluate
from rmctl.resources.classes import ResourceClass
from rmctl.resources.request import ResourceRequest, check_classes, load_request as read_request
from rmctl.state.ledger import Ledger
from rmctl.state.requests import reserved_from_state


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


def with_kubelet(root: Root, node: NodeModel, reserved: Reserved, kubelet_root: str | None) -> tuple[Reserved, list[str]]:
    """Return ``reserved`` plus what the kubelet under ``root`` holds (its checkpoints), and notes.

    The kubelet's exclusive CPUs, the devices its device manager allocated
    (tied to PCI addresses, named by pod) and the hugepages its Memory
    Manager promised but no process uses yet are taken.  On the live node
    the PodResources API names the pods when its socket is there.
    KubeletCheckpointError (exit 5) for a corrupt checkpoint: what the
    kubelet holds is then unknown, and guessing "nothing" could hand out a
    pod's GPU.
    """
    from rmctl.discovery import kubelet
    from rmctl.planning.kubelet import kubelet_held

    state = kubelet.read(root, kubelet_root, api=root.is_live)
    if not state.present():
        return reserved, []
    k = kubelet_held(node, state)
    devices = dict(reserved.devices)
    for addr, who in k.devices:
        devices.setdefault(addr, who)
    pages = dict(reserved.hugepages)
    for key, n in k.hugepages:
        pages[key] = pages.get(key, 0) + n
    notes = []
    if k.unresolved:
        notes.append(f"{len(k.unresolved)} device(s) the kubelet allocated are not tied to a PCI device "
                     f"({', '.join(sorted({h.resource for h in k.unresolved}))}): not counted as taken")
    return Reserved(cpus=reserved.cpus | k.cpus, devices=devices, hugepages=pages,
                    memory=dict(reserved.memory)), notes


def _evaluations(root: Root, file: str, roots: Sequence[str], class_dir: str | None, state_dir: str,
                 lock_timeout: float, max_numa_nodes: int,
                 kubelet_root: str | None = None) -> tuple[ResourceRequest, list[Evaluation], list[str]]:
    req, classes = load_request(file, class_dir)
    evs, notes = [], []
    for r in ([root] if not roots else [Root.open(x) for x in roots]):
        n = discover(r, devices=True)
        reserved, more = with_kubelet(r, n, held(n, state_dir, lock_timeout), kubelet_root)
        notes += more
        evs.append(evaluate(n, req, classes, reserved=reserved, max_numa_nodes=max_numa_nodes))
    return req, evs, notes


def _status(fits: bool) -> ExitCode:
    return ExitCode.OK if fits else ExitCode.UNSATISFIABLE


def evaluate_request(root: Root, file: str, *, roots: Sequence[str] = (), class_dir: str | None = None,
                     state_dir: str, lock_timeout: float = 10.0, max_numa_nodes: int = 8,
                     kubelet_root: str | None = None) -> Outcome:
    """Evaluate the request in ``file`` on ``root`` (or each of ``roots``).

    One node: the RequestEvaluation document.  Several: the
    RequestEvaluationList (``fits`` when any node fits, ``fitting_nodes``,
    one evaluation per node).  ``view``: the evaluations.  What the
    kubelet under ``kubelet_root`` holds is taken (:func:`with_kubelet`).
    """
    req, evs, notes = _evaluations(root, file, roots, class_dir, state_dir, lock_timeout, max_numa_nodes,
                                   kubelet_root)
    msgs = tuple(note(n) for n in notes)
    if len(evs) == 1:
        ev = evs[0]
        return Outcome(kind="RequestEvaluation", data=ev.to_data(), exit_code=_status(ev.fits), view=tuple(evs),
                       messages=msgs)
    fits = any(e.fits for e in evs)
    data = {"request": req.name, "fits": fits, "fitting_nodes": [e.node for e in evs if e.fits],
            "nodes": [e.to_data() for e in evs]}
    return Outcome(kind="RequestEvaluationList", data=data, exit_code=_status(fits), view=tuple(evs), messages=msgs)


def explain_request(root: Root, file: str, *, roots: Sequence[str] = (), class_dir: str | None = None,
                    state_dir: str, lock_timeout: float = 10.0, max_numa_nodes: int = 8,
                    kubelet_root: str | None = None) -> Outcome:
    """Explain the request: as :func:`evaluate_request`, every selector's result on every device included.

    One node: the RequestExplanation document; several: the
    RequestExplanationList (``fits`` when any node fits).
    """
    req, evs, notes = _evaluations(root, file, roots, class_dir, state_dir, lock_timeout, max_numa_nodes,
                                   kubelet_root)
    msgs = tuple(note(n) for n in notes)
    fits = any(e.fits for e in evs)
    if len(evs) == 1:
        return Outcome(kind="RequestExplanation", data=evs[0].to_data(explain=True), exit_code=_status(fits),
                       view=tuple(evs), messages=msgs)
    data = {"request": req.name, "fits": fits, "nodes": [e.to_data(explain=True) for e in evs]}
    return Outcome(kind="RequestExplanationList", data=data, exit_code=_status(fits), view=tuple(evs),
                   messages=msgs)
