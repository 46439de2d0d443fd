"""Request reservations over the reservations state: one code path for every caller.

``rmctl request evaluate --reserve NAME`` (rmctl.cli.request_ledger) and
the ``spec.requests`` entries of a NodeProfile (rmctl.provision) both
evaluate a ResourceRequest against what the state already holds and
record the result as one reservation of kind ``request``: CPUs, devices
(PCI addresses), the hugepage pages per NUMA node it counts on and the
memory per node, plus the request itself (so a second apply of the same
profile can tell "already reserved as asked" from "a different request
under that name").

The functions change the state *dict* handed to them (inside a ledger
transaction, or a profile plan's chained state); they never write.
"""

from __future__ import annotations

import json

from rmctl.errors import ConflictError

REQUEST_KIND = "request"


def reserved_from_state(state: dict, exclude: str | None = None):
    """Return a planning.requests.Reserved of what the state's reservations (and system CPUs) hold."""
    from rmctl import reservations as rsv
    from rmctl.planning.requests import Reserved

    r = Reserved(cpus=rsv.reserved_cpus(state, exclude=exclude) | rsv.system_cpus(state))
    for name, rec in state.get("reservations", {}).items():
        if name == exclude:
            continue
        for a in rec.get("devices") or []:
            r.devices[str(a)] = name
        for size, per in (rec.get("hugepages") or {}).items():
            for node, pages in per.items():
                key = (int(size), int(node))
                r.hugepages[key] = r.hugepages.get(key, 0) + int(pages)
        for node, b in (rec.get("memory") or {}).items():
            r.memory[int(node)] = r.memory.get(int(node), 0) + int(b)
    return r


def request_data(req) -> dict:
    """Return ``req.to_data()`` as it reads back from the JSON state (for comparisons)."""
    return json.loads(json.dumps(req.to_data()))


def same_request(rec: dict, req) -> bool:
    """Return True when reservation ``rec`` was made for exactly this request."""
    return rec.get("kind") == REQUEST_KIND and rec.get("request") == request_data(req)


def reserve_request(node, state: dict, name: str, req, classes: dict, *, max_numa_nodes: int | None = None):
    """Evaluate ``req`` against ``state`` and, when it fits, add reservation ``name`` to it.

    Returns ``(evaluation, record)``; ``record`` is None when the request
    does not fit (the evaluation's ``reasons`` say why; ``state`` is left
    as it was).  A name already in the state is a ConflictError (exit 5).
    """
    from rmctl import reservations as rsv
    from rmctl.ledger import new_reservation
    from rmctl.planning.requests import evaluate

    rsv.check_name(name)
    if name in state["reservations"]:
        raise ConflictError(f"a reservation named {name!r} already exists",
                            hint=f"release it first (rmctl request release {name}) or pick another name")
    kw = {} if max_numa_nodes is None else {"max_numa_nodes": max_numa_nodes}
    ev = evaluate(node, req, classes, reserved=reserved_from_state(state), **kw)
    if not ev.fits:
        return ev, None
    rec = new_reservation(
        name, cpus=ev.cpus.to_list(), kind=REQUEST_KIND, nodes=list(ev.numa_nodes),
        devices=ev.device_addresses,
        hugepages={str(size): {str(n): p for n, p in per.items()} for size, per in ev.hugepages.items()},
        memory={str(n): b for n, b in ev.memory.items()},
        request=req.to_data())
    state["reservations"][name] = rec
    return ev, rec


def summary(name: str, rec: dict) -> str:
    """Return the one-line description of request reservation ``rec`` (plans, state summaries)."""
    return f"reserve {name}: CPUs {rec.get('cpus') or '-'}, devices {', '.join(rec.get('devices') or []) or '-'}"
