"""Reservations of request results, through the reservations ledger (rmctl.ledger).

Kept apart from :mod:`rmctl.cli.request` so the ledger's API is used in one
place.  A request reservation is an ordinary ledger reservation (kind
"request") whose record also lists ``devices`` (PCI addresses),
``hugepages`` (page size -> NUMA node -> pages) and ``memory`` (node ->
bytes), so ``rmctl cpu release NAME`` and ``rmctl request release NAME``
free the same thing.

The evaluation runs inside the ledger transaction (under the state lock),
so two concurrent ``--reserve`` runs cannot pick the same CPUs or devices.

Hugepages: the pages come from the pools' free pages as they are; the
reservation records how many pages per node it counts on (later
evaluations subtract them), and no pool is resized.  Sizing pools is
``rmctl hugepages set``; the plan printed says so.
"""

from __future__ import annotations

from rmctl.cli.options import fmt
from rmctl.model.fingerprint import fingerprint


def _ledger(settings, command: str):
    from rmctl.ledger import Ledger

    return Ledger(settings.state_dir, lock_timeout=settings.lock_timeout, command=command)


def reserve(settings, name: str, req, classes, node, *, dry_run: bool, output, max_numa_nodes: int = 8):
    """Evaluate under the lock and record the result as reservation ``name``; exit 4 when it does not fit."""
    import sys

    import typer

    from rmctl import reservations as rsv
    from rmctl.errors import ExitCode
    from rmctl.request_reservations import reserve_request, summary

    rsv.check_name(name)
    # Like cpu reserve (issue #3): a snapshot root may be planned for with a
    # --state-dir of its own; the state is the only thing written, never the root.
    ledger = _ledger(settings, f"rmctl request evaluate --reserve {name}")
    ev = None
    with ledger.transaction(fingerprint(node), dry_run=dry_run, command=f"request evaluate --reserve {name}") as txn:
        # the same evaluation and record as a profile's spec.requests (rmctl.request_reservations)
        ev, rec = reserve_request(node, txn.state, name, req, classes, max_numa_nodes=max_numa_nodes)
        if rec is not None:
            txn.summary = summary(name, rec)
    f = fmt(output)
    data = {"name": name, "reserved": bool(ev.fits and not dry_run), "dry_run": dry_run,
            "evaluation": ev.to_data(),
            "hugepage_plan": {"pages": ev.to_data()["hugepages"], "pool_changes": [],
                              "note": "pages are taken from the pools' free pages; no pool is resized "
                                      "(size pools with 'rmctl hugepages set')"},
            "plan": txn.plan.to_data() if (dry_run and txn.plan is not None) else None}
    if f != "table":
        from rmctl.cli.output import emit

        emit("RequestReservation", data, f)
    else:
        from rmctl.cli.output import print_renderables
        from rmctl.render.requests import evaluation_renderables

        print_renderables(settings, evaluation_renderables(ev))
        if ev.fits:
            verb = "would reserve" if dry_run else "reserved"
            sys.stdout.write(f"{verb} {name}: CPUs {ev.cpus.to_list() or '-'}, "
                             f"devices {', '.join(ev.device_addresses) or '-'}\n")
            for size, per in sorted(ev.hugepages.items()):
                sys.stdout.write(f"hugepages {size} B pages counted on: "
                                 + ", ".join(f"node {n} {p}" for n, p in sorted(per.items()))
                                 + " (from free pages; no pool change)\n")
            if dry_run:
                from rmctl.render.plan import plan_text

                sys.stdout.write(plan_text(txn.plan))
    raise typer.Exit(int(ExitCode.OK if ev.fits else ExitCode.UNSATISFIABLE))


def release(settings, name: str, *, dry_run: bool, output):
    """Release reservation ``name`` (any kind: the same as 'rmctl cpu release')."""
    import sys

    from rmctl.planning import cgroups
    from rmctl import reservations as rsv

    rsv.check_name(name)
    node = settings.node()
    ledger = _ledger(settings, f"rmctl request release {name}")
    with ledger.transaction(fingerprint(node), dry_run=dry_run, command=f"request release {name}") as txn:
        rec = rsv.release(txn.state, name)
        if rec.get("cgroup"):
            settings.require_live("remove a cgroup")
            txn.before = cgroups.remove_actions(rec["cgroup"])
        txn.summary = f"release {name}"
    data = {"released": {"name": name, "kind": rec.get("kind"), "cpus": rec.get("cpus", ""),
                         "devices": list(rec.get("devices") or []), "hugepages": rec.get("hugepages") or {}},
            "dry_run": dry_run}
    f = fmt(output)
    if f != "table":
        from rmctl.cli.output import emit

        if dry_run:
            data["plan"] = txn.plan.to_data() if txn.plan is not None else None
        emit("RequestRelease", data, f)
        return
    verb = "would release" if dry_run else "released"
    sys.stdout.write(f"{verb} {name}: CPUs {rec.get('cpus') or '-'}, devices {', '.join(rec.get('devices') or []) or '-'}\n")
    if dry_run:
        from rmctl.render.plan import plan_text

        sys.stdout.write(plan_text(txn.plan))
