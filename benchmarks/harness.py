"""What every benchmark here times with: one child's CPU and wall time, alternating pairs, medians.

CPU time is the child's own (``wait4``'s rusage: user + system of that
process and nothing else); the child runs from ``/`` (``python -m``
would put the working directory first on ``sys.path``) with stdout and
stderr discarded.  Pairs alternate who goes first, after a warm-up, and
the ratio is the median of the per-pair ratios, so a change in the VM's
speed during a run moves both sides of a pair alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time


def run(cmd: list[str], env: dict | None = None, ok=(0,)) -> tuple[float, float]:
    """Return (CPU seconds, wall seconds) of one run of ``cmd``; exit the benchmark if its status is not in ``ok``."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir("/")
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execvpe(cmd[0], cmd, os.environ if env is None else env)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}")
    return ru.ru_utime + ru.ru_stime, wall


def paired(a: tuple, b: tuple, runs: int, warmup: int = 2) -> dict:
    """Run A and B (each ``(cmd[, env[, ok]])``) alternately: medians of CPU (``a``, ``b``) and wall
    (``wall_a``, ``wall_b``) seconds, the median of the per-pair CPU ratios (``ratio``), ``n`` pairs."""
    for _ in range(warmup):
        run(*a)
        run(*b)
    ca, cb, wa, wb, ratios = [], [], [], [], []
    for i in range(runs):
        if i % 2:
            (y, wy), (x, wx) = run(*b), run(*a)
        else:
            (x, wx), (y, wy) = run(*a), run(*b)
        ca.append(x)
        cb.append(y)
        wa.append(wx)
        wb.append(wy)
        ratios.append(x / y if y else float("inf"))
    med = statistics.median
    return {"a": med(ca), "b": med(cb), "wall_a": med(wa), "wall_b": med(wb), "ratio": med(ratios), "n": runs}


def alone(a: tuple, runs: int, warmup: int = 2) -> dict:
    """Run A (``(cmd[, env[, ok]])``) ``runs`` times after a warm-up: medians of CPU and wall seconds."""
    for _ in range(warmup):
        run(*a)
    samples = [run(*a) for _ in range(runs)]
    return {"a": statistics.median(s[0] for s in samples), "wall_a": statistics.median(s[1] for s in samples),
            "n": runs}


def find_rmctl(given: str | None) -> list[str]:
    """Return the rmctl command to time: ``given``, else the one beside this Python, on PATH, or ``python -m rmctl``."""
    if given:
        return [given]
    for cand in (os.path.join(os.path.dirname(sys.executable), "rmctl"), shutil.which("rmctl")):
        if cand and os.path.exists(cand):
            return [cand]
    return [sys.executable, "-m", "rmctl"]
