#!/usr/bin/env python3
"""Time tarball and directory roots, paired: the costs behind ``--root`` (issue 14 item 1, issue 15 item 3).

Rows (each A B A B pairs after warm-up; medians of CPU time, user + system,
of the whole process, and the median of the per-pair ratios):

1. ``--root EPYC.tar.gz`` with the index cache warm  vs  ``--root DIR`` (the same snapshot unpacked)
2. ``--root EPYC.tar.gz`` with the cache off (one pass over the archive each run)  vs  ``--root DIR``
3. ``--root DIR`` with this checkout  vs  ``--root DIR`` with ``--before`` (another checkout, e.g. ../main)
4. ``--root EPYC.tar.gz`` with this checkout  vs  the same with ``--before``
5. ``topology -o json`` on the live root, this checkout vs ``--before``

Then, in this process: ``Root.open`` + ``discover`` over N distinct tarballs
(copies of the EPYC fixture made distinct), cache cold and warm: the wall
time of the whole set (issue 14: 100 tarball roots in under 10 s).

The command is ``rmctl topology -o json``.  Informational: exits 0 whatever
the ratios.

    python benchmarks/bench_roots.py [--runs 15] [--before ../main] [--fleet 100] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("RMCTL_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
FIXTURE = "utillinux-x86_64-epyc_7451"
TARBALL = os.path.join(SHARED, "fixtures", "sysfs", FIXTURE + ".tar.gz")


def paired(a, b, runs: int, warmup: int = 2) -> tuple[float, float, float]:
    """Run (cmd, env) A and B alternately; return (median A, median B, median A/B), CPU seconds."""
    r = harness.paired(a, b, runs, warmup)
    return r["a"], r["b"], r["ratio"]


def extract(dest: str) -> str:
    with open(os.path.join(SHARED, "fixtures", "sysfs", FIXTURE + ".expected.json")) as f:
        inner = json.load(f)["root_in_tarball"]
    with tarfile.open(TARBALL) as tf:
        try:
            tf.extractall(dest, filter="data")
        except TypeError:
            tf.extractall(dest)
    return os.path.join(dest, inner)


def distinct_copies(n: int, dest: str) -> list[str]:
    """Return ``n`` tarballs with EPYC's content and distinct bytes (a gzip member appended)."""
    raw = open(TARBALL, "rb").read()
    out = []
    for i in range(n):
        p = os.path.join(dest, f"node{i:03d}.tar.gz")
        with open(p, "wb") as f:
            f.write(raw + gzip.compress(b"\0" * 1024, mtime=i))
        out.append(p)
    return out


def fleet(paths: list[str], cache_dir: str) -> list[tuple[float, float]]:
    """Return (wall, CPU) seconds to open and discover every root, cache cold then warm (in this process)."""
    os.environ["RMCTL_CACHE_DIR"] = cache_dir
    sys.path.insert(0, REPO)
    from rmctl.discovery import Root, discover

    times = []
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        for p in paths:
            with Root.open(p) as root:
                discover(root)
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="pairs per row (default 15)")
    ap.add_argument("--before", help="another checkout of rmctl to compare with (its rmctl/ on PYTHONPATH)")
    ap.add_argument("--fleet", type=int, default=100, help="distinct tarballs for the fleet row (default 100)")
    ap.add_argument("--quick", action="store_true", help="5 pairs, 20 tarballs")
    args = ap.parse_args()
    runs, nfleet = (5, 20) if args.quick else (args.runs, args.fleet)
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory(prefix="rmctl-bench-") as tmp:
        root_dir = extract(os.path.join(tmp, "x"))
        cache = os.path.join(tmp, "cache")
        base_env = {k: v for k, v in os.environ.items() if k not in ("RMCTL_ROOT", "PYTHONPATH")}
        now = dict(base_env, PYTHONPATH=REPO, RMCTL_CACHE_DIR=cache)
        off = dict(now, RMCTL_CACHE_DIR="off")

        def cmd(root):
            return [py, "-m", "rmctl"] + (["--root", root] if root else []) + ["topology", "-o", "json"]

        rows.append(("tarball, cache warm", "directory", paired((cmd(TARBALL), now), (cmd(root_dir), now), runs)))
        rows.append(("tarball, cache off", "directory", paired((cmd(TARBALL), off), (cmd(root_dir), now), runs)))
        if args.before:
            before = dict(base_env, PYTHONPATH=os.path.abspath(args.before))
            rows.append(("directory", "directory, before", paired((cmd(root_dir), now), (cmd(root_dir), before),
                                                                   runs)))
            rows.append(("tarball, cache warm", "tarball, before",
                         paired((cmd(TARBALL), now), (cmd(TARBALL), before), max(3, runs // 3), warmup=1)))
            rows.append(("live", "live, before", paired((cmd(None), now), (cmd(None), before), runs)))
        os.makedirs(os.path.join(tmp, "fleet"))
        paths = distinct_copies(nfleet, os.path.join(tmp, "fleet"))
        (cold, cold_cpu), (warm, warm_cpu) = fleet(paths, os.path.join(tmp, "fleet-cache"))
    print(f"rmctl topology -o json, EPYC fixture ({FIXTURE}); CPU ms, medians of {runs} pairs")
    print(f"{'A':<24} {'ms':>7}   {'B':<20} {'ms':>7}  {'A/B':>6}")
    for na, nb, (ma, mb, ratio) in rows:
        print(f"{na:<24} {ma * 1e3:7.1f}   {nb:<20} {mb * 1e3:7.1f}  {ratio:6.2f}x")
    print(f"{nfleet} distinct EPYC tarball roots, Root.open + discover in one process: "
          f"cache cold {cold:.2f} s wall ({cold_cpu:.2f} s CPU), warm {warm:.2f} s wall ({warm_cpu:.2f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
