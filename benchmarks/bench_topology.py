#!/usr/bin/env python3
"""Time ``rmctl topology -o json`` against lscpu and lstopo, alternating runs.

Live (this machine): ``rmctl topology -o json`` vs ``lscpu -J`` and
``lstopo-no-graphics``.  On the 96-CPU EPYC fixture
(utillinux-x86_64-epyc_7451, extracted to a temporary directory):
``rmctl --root DIR topology -o json`` vs ``lscpu -J --sysroot DIR`` and
``lstopo-no-graphics --input DIR``.  Method as in
../shared/reference/performance-baselines.md: whole-process wall time, warm-up
runs, then A B A B pairs; prints each median and the median of the per-pair
ratios.  Budget (issue #2): the fixture JSON path within 2.5x of
``lscpu --sysroot``.  Informational: exits 0 whatever the ratios (a CI
alarm, if any, belongs elsewhere).

    python benchmarks/bench_topology.py [--runs 30] [--rmctl PATH] [--table]
"""

from __future__ import annotations

import argparse
import os
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
FIXTURE = "utillinux-x86_64-epyc_7451"

sys.path.insert(0, HERE)
from harness import find_rmctl  # noqa: E402


def wall(cmd: list[str]) -> float:
    """Return the wall time in seconds of one run of ``cmd`` (stdout to a pipe, discarded)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode()[-500:]}")
    return dt


def paired(a: list[str], b: list[str], runs: int, warmup: int = 3) -> tuple[float, float, float]:
    """Run A and B alternately; return (median A, median B, median of A/B per pair), seconds."""
    for _ in range(warmup):
        wall(a)
        wall(b)
    ta, tb, ratios = [], [], []
    for i in range(runs):
        # alternate which goes first, so neither always gets the warmer cache
        if i % 2:
            y, x = wall(b), wall(a)
        else:
            x, y = wall(a), wall(b)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def extract_fixture(dest: str) -> str:
    """Extract the EPYC fixture under ``dest``; return its root directory."""
    import json

    base = os.path.join(SHARED, "fixtures", "sysfs", FIXTURE)
    with open(base + ".expected.json") as f:
        inner = json.load(f)["root_in_tarball"]
    with tarfile.open(base + ".tar.gz") as tf:
        try:
            tf.extractall(dest, filter="data")
        except TypeError:
            tf.extractall(dest)
    return os.path.join(dest, inner)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="pairs per comparison (default 30)")
    ap.add_argument("--rmctl", help="the rmctl executable (default: beside this python, or on PATH)")
    ap.add_argument("--table", action="store_true", help="also time the human table output")
    args = ap.parse_args()
    rmctl = find_rmctl(args.rmctl)
    for tool in ("lscpu", "lstopo-no-graphics"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: install util-linux and hwloc")
    rows = []
    with tempfile.TemporaryDirectory(prefix="rmctl-bench-") as tmp:
        root = extract_fixture(tmp)
        cases = [
            ("live", rmctl + ["topology", "-o", "json"], ["lscpu", "-J"]),
            ("live", rmctl + ["topology", "-o", "json"], ["lstopo-no-graphics"]),
            (FIXTURE, rmctl + ["--root", root, "topology", "-o", "json"], ["lscpu", "-J", "--sysroot", root]),
            (FIXTURE, rmctl + ["--root", root, "topology", "-o", "json"], ["lstopo-no-graphics", "--input", root]),
        ]
        if args.table:
            cases += [
                ("live", rmctl + ["topology"], ["lstopo-no-graphics"]),
                (FIXTURE, rmctl + ["--root", root, "topology"], ["lstopo-no-graphics", "--input", root]),
                ("live", rmctl + ["--help"], ["lstopo-no-graphics"]),
            ]
        for where, a, b in cases:
            ma, mb, ratio = paired(a, b, args.runs)
            name_a = " ".join(x if x != root else "DIR" for x in a[len(rmctl):])
            name_b = " ".join(x if x != root else "DIR" for x in b)
            rows.append((where, f"rmctl {name_a}", ma, name_b, mb, ratio))
    print(f"{'root':<28} {'rmctl command':<38} {'ms':>6}   {'peer':<34} {'ms':>6}  {'ratio':>6}")
    for where, na, ma, nb, mb, ratio in rows:
        print(f"{where:<28} {na:<38} {ma * 1e3:6.1f}   {nb:<34} {mb * 1e3:6.1f}  {ratio:6.2f}x")
    budget = [r for r in rows if r[0] == FIXTURE and r[3].startswith("lscpu")]
    if budget:
        r = budget[0][5]
        print(f"\nbudget: {FIXTURE} JSON path / lscpu --sysroot = {r:.2f}x (budget 2.5x): "
              + ("within" if r <= 2.5 else "OVER"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
