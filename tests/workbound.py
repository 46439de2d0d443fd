"""Deterministic work bounds for tests: Python lines executed and peak memory.

No clocks: ``lines(fn, limit)`` counts the line events of every Python frame
while ``fn`` runs and stops it with WorkExceeded at ``limit`` (so a test of
quadratic code fails at once instead of running for minutes);
``peak_bytes(fn)`` is tracemalloc's peak while ``fn`` runs.
"""

from __future__ import annotations

import sys
import tracemalloc


class WorkExceeded(Exception):
    """More lines ran than the bound allows."""


def lines(fn, limit: int):
    """Return (lines executed, fn's result or the RmctlError it raised); WorkExceeded past ``limit``."""
    from rmctl.errors import RmctlError

    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count > limit:
                sys.settrace(None)
                raise WorkExceeded(f"more than {limit} lines")
        return tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn()
    except RmctlError as e:
        result = e
    finally:
        sys.settrace(old)
    return count, result


def peak_bytes(fn) -> tuple[int, object]:
    """Return (peak bytes allocated while ``fn`` ran, its result or the RmctlError it raised)."""
    from rmctl.errors import RmctlError

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
    except RmctlError as e:
        result = e
    peak = tracemalloc.get_traced_memory()[1] - base
    if started:
        tracemalloc.stop()
    return peak, result
