"""Reservations of request results, through the reservations ledger (rmctl.ledger, issue 3).

Kept apart from :mod:`rmctl.cli.request` so that the ledger's API is used
in one place only.  A request reservation is a ledger reservation whose
record also lists ``devices`` (PCI addresses) and ``hugepages`` (pages per
page size and NUMA node), so ``rmctl cpu release NAME`` and ``rmctl request
release NAME`` free the same thing.
"""

from __future__ import annotations

from rmctl.errors import UsageError


def _ledger():
    try:
        from rmctl import ledger
    except ImportError:
        raise UsageError("reservations are not available in this build (no rmctl.ledger)",
                         hint="evaluate without --reserve") from None
    return ledger


def reserved(settings, exclude: str | None = None):
    """Return a planning.requests.Reserved from the ledger (empty when there is none yet)."""
    from rmctl.planning.requests import Reserved

    try:
        from rmctl import ledger  # noqa: F401
    except ImportError:
        return Reserved()
    return _reserved_from_ledger(settings, exclude)


def _reserved_from_ledger(settings, exclude):  # pragma: no cover - replaced when the ledger lands
    from rmctl.planning.requests import Reserved

    return Reserved()


def reserve(settings, name, req, ev, node, *, dry_run: bool, output):
    _ledger()
    raise UsageError("reservations are not available in this build")


def release(settings, name, *, dry_run: bool, output):
    _ledger()
    raise UsageError("reservations are not available in this build")
