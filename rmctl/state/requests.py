"""Request reservations over the reservations state: one code path for every caller.

``rmctl request evaluate --reserve NAME`` (rmctl.ops.request_reservations)
and the ``spec.requests`` entries of a NodeProfile (rmctl.ops.profile)
both evaluate a ResourceRequest against what the state already holds and
record the result as one reservation of kind ``request``: CPUs, devices
(PCI addresses), the hugepage pages per NUMA node it counts on and the
memory per node, plus the request itself (so a second apply of the same
profile can tell "already reserved as asked" from "a different request
under that name").

The functions return new states; they never write.
"""

from __future__ import annotations

import json
from typing import Any

from rmctl.errors import ConflictError
from rmctl.planning.requests import Reserved, evaluate
from rmctl.state.records import REQUEST_KIND, Reservation, ReservationState, thaw
from rmctl.state.reservations import check_name


def reserved_from_state(state: ReservationState, exclude: str | None = None):
    """Return a planning.requests.Reserved of what the state's reservations (and system CPUs) hold."""
    r = Reserved(cpus=state.reserved_cpus(exclude=exclude) | state.system_cpus)
    for name, rec in state.reservations.items():
        if name == exclude:
            continue
        for a in rec.devices:
            r.devices[a] = name
        for h in rec.hugepage_holdings():
            key = (h.page_size, h.node)
            r.hugepages[key] = r.hugepages.get(key, 0) + h.pages
        for node, b in (rec.memory or {}).items():
            r.memory[node] = r.memory.get(node, 0) + b
    return r


def request_data(req) -> dict[str, Any]:
    """Return ``req.to_data()`` as it reads back from the JSON state (for comparisons)."""
    return json.loads(json.dumps(req.to_data()))


def same_request(rec: Reservation, req) -> bool:
    """Return True when reservation ``rec`` was made for exactly this request."""
    return rec.kind == REQUEST_KIND and rec.request is not None and thaw(rec.request) == request_data(req)


def reserve_request(node, state: ReservationState, name: str, req, classes, *,
                    max_numa_nodes: int | None = None, also=None) -> tuple[Any, ReservationState, Reservation | None]:
    """Evaluate ``req`` against ``state``; when it fits, add reservation ``name``.

    ``also``: a Reserved of what others hold too (the kubelet's pods).
    Returns ``(evaluation, new state, reservation)``; the reservation is
    None when the request does not fit (the evaluation's ``reasons`` say
    why; the state is returned as it was).  A name already in the state is
    a ConflictError (exit 5).
    """
    check_name(name)
    if state.get(name) is not None:
        raise ConflictError(f"a reservation named {name!r} already exists",
                            hint=f"release it first (rmctl request release {name}) or pick another name")
    reserved = reserved_from_state(state)
    if also is not None:  # what others hold beside rmctl (the kubelet: rmctl.ops.requests.with_kubelet)
        from rmctl.planning.requests import Reserved

        devices = dict(also.devices)
        devices.update(reserved.devices)
        pages = dict(also.hugepages)
        for key, n in reserved.hugepages.items():
            pages[key] = pages.get(key, 0) + n
        reserved = Reserved(cpus=reserved.cpus | also.cpus, devices=devices, hugepages=pages,
                            memory=dict(reserved.memory))
    ev = (evaluate(node, req, classes, reserved=reserved) if max_numa_nodes is None
          else evaluate(node, req, classes, reserved=reserved, max_numa_nodes=max_numa_nodes))
    if not ev.fits:
        return ev, state, None
    rec = Reservation.new(
        name, cpus=ev.cpus, kind=REQUEST_KIND, nodes=ev.numa_nodes, devices=ev.device_addresses,
        hugepages={size: dict(per) for size, per in ev.hugepages.items()},
        memory=dict(ev.memory), request=request_data(req))
    return ev, state.with_reservation(rec), rec


def summary(name: str, rec: Reservation) -> str:
    """Return the one-line description of request reservation ``rec`` (plans, state summaries)."""
    return f"reserve {name}: CPUs {rec.cpus.to_list() or '-'}, devices {', '.join(rec.devices) or '-'}"
