#!/usr/bin/env python3
"""Time ``request evaluate`` (one class, CEL selectors) against ``topology -o json`` on the same root.

Budget (issue 13): on ../shared/fixtures/nodes/gpu-node.tar.gz, ``rmctl
--root ROOT request evaluate REQ -o json`` with one class costs at most
120 ms more than ``rmctl --root ROOT topology -o json``.  The request uses
the class ``big-gpu`` (two selectors: a guarded kind lookup and a
quantity comparison) and asks for one device and 4 CPUs.

Method as in ../shared/reference/performance-baselines.md: whole-process
wall time, warm-up runs, then A B A B pairs (the order alternating);
prints each median, the median of the per-pair differences and ratios, and
the same for CPU time (user + system), which a loaded machine disturbs less.
The root is unpacked once to a directory, so both commands read the same
files and neither pays for the tarball.  Informational: exits 0 whatever
the numbers, unless ``--check`` is given (then 1 past the budget).

    python benchmarks/bench_request_evaluate.py [--runs 30] [--rmctl PATH] [--check]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("RMCTL_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
BUDGET_MS = 120.0

#: the request every request-evaluate benchmark and tests/requests/test_import_budget.py evaluate
with open(os.path.join(HERE, "big-gpu-request.yaml"), encoding="utf-8") as _f:
    REQUEST = _f.read()


CPU: list[float] = []  #: CPU seconds (user + system) of each run, in order


def wall(cmd: list[str]) -> float:
    """Return the wall time of one run; its CPU time goes to CPU (steadier on a loaded machine)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    if p.returncode not in (0, 4):  # 4: does not fit is still a timed evaluation
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode()[-500:]}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rmctl", default=shutil.which("rmctl") or os.path.join(os.path.dirname(sys.executable), "rmctl"))
    ap.add_argument("--tarball", default=os.path.join(SHARED, "fixtures", "nodes", "gpu-node.tar.gz"))
    ap.add_argument("--check", action="store_true", help="exit 1 when past the budget")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rmctl-bench-")
    try:
        with tarfile.open(args.tarball) as t:
            t.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(tmp)
        entries = os.listdir(tmp)
        root = os.path.join(tmp, entries[0]) if len(entries) == 1 and os.path.isdir(os.path.join(tmp, entries[0])) \
            else tmp
        req = os.path.join(tmp, "req.yaml")
        with open(req, "w") as f:
            f.write(REQUEST)
        a = [args.rmctl, "--root", root, "request", "evaluate", req, "-o", "json"]
        b = [args.rmctl, "--root", root, "topology", "-o", "json"]
        for _ in range(3):
            wall(a)
            wall(b)
        ta, tb, ca, cb = [], [], [], []
        for i in range(args.runs):
            if i % 2:
                y, x = wall(b), wall(a)
                ca.append(CPU[-1])
                cb.append(CPU[-2])
            else:
                x, y = wall(a), wall(b)
                ca.append(CPU[-2])
                cb.append(CPU[-1])
            ta.append(x)
            tb.append(y)
        diff = statistics.median(x - y for x, y in zip(ta, tb, strict=True)) * 1e3
        ratio = statistics.median(x / y for x, y in zip(ta, tb, strict=True))
        print(f"request evaluate (1 class) median {statistics.median(ta) * 1e3:.1f} ms")
        print(f"topology -o json           median {statistics.median(tb) * 1e3:.1f} ms")
        print(f"paired difference median {diff:.1f} ms (budget {BUDGET_MS:.0f} ms), paired ratio {ratio:.2f}x, "
              f"{args.runs} pairs")
        cdiff = statistics.median(x - y for x, y in zip(ca, cb, strict=True)) * 1e3
        print(f"CPU time: request evaluate median {statistics.median(ca) * 1e3:.1f} ms, topology "
              f"{statistics.median(cb) * 1e3:.1f} ms, paired difference median {cdiff:.1f} ms")
        return 1 if args.check and diff > BUDGET_MS else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
