#!/usr/bin/env python3
"""Big machines (issue 14): discovery against lscpu, and the NUMA-distributing allocator.

1. ``rmctl --root DIR topology -o json`` against ``lscpu -J --sysroot DIR``
   on synthetic nodes (tests/synth.py, ``lscpu=True``: cpulists, their hex
   masks and an x86 proc/cpuinfo) of 256, 1,024 and 4,096 CPUs (4 packages,
   2 NUMA nodes and 8 L3 caches each, SMT 2), and on the 96-CPU EPYC
   fixture.  A B A B pairs after warm-up runs; prints the median CPU time
   (user + system of the child) and wall time of each side and the median
   of the per-pair CPU-time ratios.  Budgets: 4,096 CPUs within 2x of
   lscpu, EPYC within 2.0x (goal 1.5x).
2. ``distribute-cpus-across-numa`` on the 64-node ia64 fixture
   (hwloc-256ia64-64n2s2c): the allocation alone, in process, for every
   count from 1 to 64 (median of a few runs each), and the whole command
   ``rmctl --root DIR cpu reserve job --count N --option
   distribute-cpus-across-numa --dry-run -o json`` for a few counts.
   Budget: under 1 s for every count.

Informational: exits 0 whatever the numbers.

    python benchmarks/bench_discovery.py [--quick] [--runs 15] [--rmctl PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import find_rmctl, paired, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("RMCTL_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
SYSFS = os.path.join(SHARED, "fixtures", "sysfs")
EPYC = "utillinux-x86_64-epyc_7451"
IA64 = "hwloc-256ia64-64n2s2c"


def extract(name: str, dest: str) -> str:
    with open(os.path.join(SYSFS, name + ".expected.json")) as f:
        inner = json.load(f)["root_in_tarball"]
    for ext in (".tar.gz", ".tar.bz2", ".tar.xz", ".tar"):
        path = os.path.join(SYSFS, name + ext)
        if os.path.exists(path):
            with tarfile.open(path) as tf:
                try:
                    tf.extractall(dest, filter="data")
                except TypeError:
                    tf.extractall(dest)
            return os.path.join(dest, inner)
    raise SystemExit(f"fixture {name} not found under {SYSFS}")


def build_synth(dest: str, cpus: int) -> str:
    sys.path.insert(0, REPO)
    from tests import synth

    return synth.build(dest, sockets=4, cores=cpus // 8, threads=2, numa_per_socket=2, l3_per_socket=8,
                       lscpu=True)


def bench_topology(rmctl: list[str], tmp: str, sizes: list[int], runs: int) -> list[tuple]:
    rows = []
    roots = [(f"synthetic {n} CPUs", build_synth(os.path.join(tmp, f"synth{n}"), n)) for n in sizes]
    roots.append((f"{EPYC} (96 CPUs)", extract(EPYC, os.path.join(tmp, "epyc"))))
    for name, root in roots:
        r = paired((rmctl + ["--root", root, "topology", "-o", "json"],), (["lscpu", "-J", "--sysroot", root],), runs)
        rows.append((name, r))
    return rows


def bench_allocator(rmctl: list[str], tmp: str, repeats: int, cli_counts: list[int], runs: int) -> dict:
    sys.path.insert(0, REPO)
    from rmctl.discovery import Root, discover
    from rmctl.planning import cpus as alloc

    root = extract(IA64, os.path.join(tmp, "ia64"))
    topo = alloc.KubeTopology.from_topology(discover(Root.open(root)).topology)
    opts = alloc.parse_options(["distribute-cpus-across-numa"])
    per_count = {}
    for count in range(1, 65):
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            alloc.allocate(topo, topo.cpus(), count, opts)
            times.append(time.process_time() - t0)
        per_count[count] = statistics.median(times)
    cli = {}
    state = os.path.join(tmp, "state")
    for count in cli_counts:
        cmd = rmctl + ["--root", root, "--state-dir", state, "cpu", "reserve", "job", "--count", str(count),
                       "--option", "distribute-cpus-across-numa", "--dry-run", "-o", "json"]
        run(cmd)
        samples = [run(cmd) for _ in range(runs)]
        cli[count] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))
    return {"per_count": per_count, "cli": cli}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="pairs per comparison (default 15)")
    ap.add_argument("--quick", action="store_true", help="5 pairs, the 4,096-CPU node and EPYC only")
    ap.add_argument("--rmctl", help="the rmctl executable (default: beside this python, or on PATH)")
    args = ap.parse_args()
    if not shutil.which("lscpu"):
        raise SystemExit("lscpu not found: install util-linux")
    rmctl = find_rmctl(args.rmctl)
    runs = 5 if args.quick else args.runs
    sizes = [4096] if args.quick else [256, 1024, 4096]
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # a 4,096-CPU tree is 200,000 files
    with tempfile.TemporaryDirectory(prefix="rmctl-bench-", dir=base) as tmp:
        rows = bench_topology(rmctl, tmp, sizes, runs)
        a = bench_allocator(rmctl, tmp, 3 if args.quick else 5, [16, 64] if args.quick else [1, 16, 33, 64],
                            3 if args.quick else 5)
    print(f"topology -o json against lscpu -J --sysroot ({runs} alternating pairs; medians)")
    print(f"{'root':<34} {'rmctl cpu ms':>12} {'lscpu cpu ms':>12} {'rmctl wall':>10} {'lscpu wall':>10} "
          f"{'cpu ratio':>9}")
    for name, r in rows:
        print(f"{name:<34} {r['a'] * 1e3:12.1f} {r['b'] * 1e3:12.1f} {r['wall_a'] * 1e3:10.1f} "
              f"{r['wall_b'] * 1e3:10.1f} {r['ratio']:8.2f}x")
    for name, r in rows:
        if name.startswith("synthetic 4096"):
            print(f"budget: 4096 CPUs / lscpu = {r['ratio']:.2f}x (budget 2x): "
                  + ("within" if r["ratio"] <= 2 else "OVER"))
        if name.startswith(EPYC):
            print(f"budget: EPYC / lscpu = {r['ratio']:.2f}x (budget 2.0x, goal 1.5x): "
                  + ("within" if r["ratio"] <= 2 else "OVER"))
    pc = a["per_count"]
    worst = max(pc, key=pc.get)
    print(f"\ndistribute-cpus-across-numa on {IA64} (64 NUMA nodes), allocation alone (CPU time, median)")
    print("count  " + " ".join(f"{c:>5}" for c in (1, 2, 4, 8, 15, 16, 31, 32, 33, 48, 63, 64)))
    print("ms     " + " ".join(f"{pc[c] * 1e3:5.1f}" for c in (1, 2, 4, 8, 15, 16, 31, 32, 33, 48, 63, 64)))
    print(f"slowest count: {worst} at {pc[worst] * 1e3:.1f} ms (budget 1 s for every count 1-64): "
          + ("within" if pc[worst] < 1 else "OVER"))
    for count, (cpu, wall) in a["cli"].items():
        print(f"rmctl cpu reserve --count {count} --option distribute-cpus-across-numa --dry-run: "
              f"{cpu * 1e3:.0f} ms CPU, {wall * 1e3:.0f} ms wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
