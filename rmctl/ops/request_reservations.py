"""``rmctl request evaluate --reserve NAME`` and ``rmctl request release NAME``: request results in the state.

A request reservation is an ordinary reservation of kind ``request``
(rmctl.state.requests) whose record also lists ``devices`` (PCI
addresses), ``hugepages`` (page size -> NUMA node -> pages) and
``memory`` (node -> bytes), so ``rmctl cpu release NAME`` and ``rmctl
request release NAME`` free the same thing, the same way
(rmctl.ops.cpu.release_reservation).

The evaluation runs inside the state update (rmctl.state.ledger.Ledger.update):
before the state lock is taken, then committed under it only if the state
is still the one evaluated against (else evaluated again), so two
concurrent ``--reserve`` runs cannot pick the same CPUs or devices, and a
long CEL evaluation never holds the lock.
Like ``cpu reserve``, a snapshot root may be planned for with a
``--state-dir`` of its own: the state is the only thing written.

Hugepages: the pages come from the pools' free pages as they are; the
reservation records how many pages per node it counts on (later
evaluations subtract them), and no pool is resized.  Sizing pools is
``rmctl hugepages set``; the plan printed says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from rmctl.discovery.root import Root
from rmctl.errors import ExitCode, UsageError
from rmctl.model.fingerprint import fingerprint
from rmctl.ops import statedir
from rmctl.ops.cpu import DEFAULT_LOCK_TIMEOUT, ledger, release_reservation
from rmctl.ops.intent import make
from rmctl.ops.outcome import Outcome, Text, note
from rmctl.ops.requests import finding_warnings, load_request
from rmctl.state.ledger import Change
from rmctl.state.records import ReservationState
from rmctl.state.requests import reserve_request, summary
from rmctl.state.reservations import check_name

#: what the RequestReservation document says of hugepages
HUGEPAGE_NOTE = ("pages are taken from the pools' free pages; no pool is resized "
                 "(size pools with 'rmctl hugepages set')")


def reserve(root: Root, state_dir: str, name: str, file: str | Sequence[str], *, roots: Sequence[str] = (),
            class_dir: str | None = None, dry_run: bool = False, max_numa_nodes: int = 8,
            lock_timeout: float = DEFAULT_LOCK_TIMEOUT, kubelet_root: str | None = None) -> Outcome:
    """Evaluate the request in ``file`` and record the result as reservation ``name`` (see the module docstring).

    What the kubelet under ``kubelet_root`` holds (its pods' exclusive CPUs,
    allocated devices, promised hugepages) is never reserved.

    Exit 0 when it fits (reserved, or on a dry run: would be), 4 when it
    does not (the evaluation is the document either way).  ``view``:
    (the evaluation, Text of the reservation's lines and the dry run's plan).
    """
    check_name(name)
    if len(roots) > 1:
        raise UsageError("--reserve takes one node, not several --root",
                         hint="evaluate across nodes first, then reserve on the one chosen")
    req, classes = load_request(file, class_dir)
    from rmctl.discovery import discover
    from rmctl.ops.requests import with_kubelet
    from rmctl.planning.requests import Reserved

    node_root = Root.open(roots[0]) if roots else root
    node = discover(node_root, devices=True)
    kubelet_reserved, notes = with_kubelet(node_root, node, Reserved(), kubelet_root)

    def change(state: ReservationState) -> Change:
        # the same evaluation and record as a profile's spec.requests (rmctl.state.requests)
        ev, new, rec = reserve_request(node, state, name, req, classes, max_numa_nodes=max_numa_nodes,
                                       also=kubelet_reserved)
        return Change(new, summary=summary(name, rec) if rec is not None else "", value=ev)

    up = ledger(node_root, state_dir, f"rmctl request evaluate --reserve {name}", lock_timeout).update(
        fingerprint(node), change, dry_run=dry_run, command=f"request evaluate --reserve {name}")
    ev = up.value
    evd = ev.to_data()
    data = {"name": name, "reserved": bool(ev.fits and not dry_run), "dry_run": dry_run, "evaluation": evd,
            "hugepage_plan": {"pages": evd["hugepages"], "pool_changes": [], "note": HUGEPAGE_NOTE},
            "plan": up.plan.with_intent(make("request evaluate --reserve", name=name, file=file, class_dir=class_dir,
                                             max_numa_nodes=max_numa_nodes)).to_data()
            if (dry_run and up.plan is not None) else None}
    lines: list[str] = []
    if ev.fits:
        verb = "would reserve" if dry_run else "reserved"
        lines.append(f"{verb} {name}: CPUs {ev.cpus.to_list() or '-'}, devices {', '.join(ev.device_addresses) or '-'}")
        for size, per in sorted(ev.hugepages.items()):
            lines.append(f"hugepages {size} B pages counted on: "
                         + ", ".join(f"node {n} {p}" for n, p in sorted(per.items()))
                         + " (from free pages; no pool change)")
    text = Text(tuple(lines), up.plan if (dry_run and ev.fits) else None)
    return Outcome(kind="RequestReservation", data=data,
                   messages=tuple(note(n) for n in notes) + finding_warnings([ev])
                   + statedir.dry_run_notes(node_root, state_dir, dry_run),
                   exit_code=ExitCode.OK if ev.fits else ExitCode.UNSATISFIABLE, view=(ev, text))


def release(root: Root, state_dir: str, name: str, *, dry_run: bool = False,
            lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Release reservation ``name`` (any kind: the same as 'rmctl cpu release'): the RequestRelease document."""
    rec, up = release_reservation(root, state_dir, name, dry_run=dry_run, command=f"request release {name}",
                                  lock_timeout=lock_timeout)
    data = {"released": {"name": name, "kind": rec.kind, "cpus": rec.cpus.to_list(), "devices": list(rec.devices),
                         "hugepages": rec.to_data()["hugepages"]},
            "dry_run": dry_run}
    if dry_run:
        data["plan"] = up.plan.with_intent(make("request release", name=name)).to_data() \
            if up.plan is not None else None
    verb = "would release" if dry_run else "released"
    line = f"{verb} {name}: CPUs {rec.cpus.to_list() or '-'}, devices {', '.join(rec.devices) or '-'}"
    return Outcome(kind="RequestRelease", data=data, view=Text((line,), up.plan if dry_run else None),
                   messages=statedir.dry_run_notes(root, state_dir, dry_run))


def list_requests(root: Root, state_dir: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Return the RequestReservationList document: every reservation ``request evaluate --reserve`` (or a
    profile's ``spec.requests``) made, by name, with its CPUs, devices, hugepage pages and memory per node.

    ``view``: (the reservation views, now: the time the table's ages count to).
    """
    import time

    from rmctl.discovery import discover
    from rmctl.state.records import REQUEST_KIND

    node = discover(root)
    state = ledger(root, state_dir, "rmctl request list", lock_timeout).load(fingerprint(node))
    views = [state.reservations[n].view() for n in state.names() if state.reservations[n].kind == REQUEST_KIND]
    others = sum(1 for n in state.names() if state.reservations[n].kind != REQUEST_KIND)
    messages = (note(f"{others} other reservation{'s' if others != 1 else ''} of CPUs only: rmctl cpu list"),) \
        if others else ()
    return Outcome(kind="RequestReservationList", data={"reservations": views}, messages=messages,
                   view=(views, time.time()))
