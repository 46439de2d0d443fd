#!/usr/bin/env python3
"""Every row of issue 14's table, in one run: rmctl against its peers, paired, on this machine.

Rows (CPU time, user + system of the whole child process, unless a row
says wall; A B A B pairs after warm-up, the order alternating; medians of
each side and of the per-pair ratios):

1. ``--root EPYC.tar.gz topology -o json`` (index cache warm) vs the same root unpacked.
2. ``request evaluate`` over 20 (and 100) distinct EPYC tarball roots: wall time of
   the one command, index cache cold and warm (issue 14: 100 roots under 10 s).
3. ``request evaluate``, one class (two CEL selectors), on the unpacked
   gpu-node snapshot, vs ``topology -o json`` on the same root (budget: under 120 ms).
4. Tab completion (rmctl's answer to bash's completion call; the shell's own
   part is not counted): class names; NUMA ids of the EPYC tarball; PCI
   addresses of the gpu-node tarball; reservation names (budget: under 100 ms each).
5. ``--root EPYC topology -o json`` vs ``lscpu -J --sysroot EPYC`` (budget 2.0x, goal 1.5x).
6. live ``topology`` table vs ``lstopo-no-graphics`` (budget 4x).
7. 4,096-CPU synthetic node (tests/synth.py), ``topology -o json`` vs ``lscpu -J --sysroot`` (budget 2x).
8. ``cpu reserve --count N --option distribute-cpus-across-numa --dry-run`` on the
   64-node ia64 fixture, counts 1, 16, 32, 64 (budget: under 1 s each).

Time a non-editable install (``pip install .``; ``--rmctl`` names its
command, default the ``rmctl`` beside this Python): an editable install adds
a path hook to every start.  Informational: exits 0 whatever the numbers.
Other processes on the machine disturb wall time more than CPU time; the
load average is printed with the results.

    python benchmarks/bench_all.py [--quick] [--runs 15] [--rmctl PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, REPO)

import bench_discovery as bd  # noqa: E402
import bench_roots as br  # noqa: E402
from bench_request_evaluate import REQUEST  # noqa: E402
from harness import alone, find_rmctl, paired, run  # noqa: E402

SHARED = bd.SHARED
GPU_NODE = os.path.join(SHARED, "fixtures", "nodes", "gpu-node.tar.gz")
FLEET_REQUEST = os.path.join(REPO, "examples", "requests", "cpus-only.yaml")


def unpack(tarball: str, dest: str) -> str:
    import tarfile

    with tarfile.open(tarball) as t:
        try:
            t.extractall(dest, filter="data")
        except TypeError:
            t.extractall(dest)
    entries = os.listdir(dest)
    return os.path.join(dest, entries[0]) if len(entries) == 1 and os.path.isdir(os.path.join(dest, entries[0])) \
        else dest


def completion(rmctl: list[str], env: dict, words: list[str]):
    """The command bash's completion function runs for ``rmctl WORDS<Tab>`` (rmctl/cli/completion_scripts.py)."""
    line = " ".join(["rmctl", *words])
    cenv = dict(env, _RMCTL_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(len(words)))
    return (rmctl, cenv)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="pairs per row (default 15)")
    ap.add_argument("--quick", action="store_true", help="5 pairs per row, a 20-root fleet only, counts 16 and 64")
    ap.add_argument("--rmctl", help="the rmctl command to time (default: the one beside this Python)")
    args = ap.parse_args()
    runs = 5 if args.quick else args.runs
    rmctl = find_rmctl(args.rmctl)
    for tool in ("lscpu", "lstopo-no-graphics"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: install util-linux and hwloc")
    rows: list[tuple[str, str, dict, str]] = []
    fleet_rows: list[tuple[int, float, float]] = []
    t_start = time.time()
    with tempfile.TemporaryDirectory(prefix="rmctl-bench-all-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RMCTL_") and k != "PYTHONPATH"}
        env["RMCTL_CACHE_DIR"] = os.path.join(tmp, "cache")
        env["RMCTL_STATE_DIR"] = os.path.join(tmp, "state")
        epyc_tar = br.TARBALL
        epyc_dir = br.extract(os.path.join(tmp, "epyc"))
        gpu_dir = unpack(GPU_NODE, os.path.join(tmp, "gpu"))

        def rm(*words: str) -> list[str]:
            return [*rmctl, *words]

        # 1. tarball vs directory
        rows.append(("EPYC tarball topology -o json", "same root unpacked",
                     paired((rm("--root", epyc_tar, "topology", "-o", "json"), env),
                            (rm("--root", epyc_dir, "topology", "-o", "json"), env), runs), "1.5x"))
        # 3. request evaluate, one class, one node
        req = os.path.join(tmp, "req.yaml")
        with open(req, "w") as f:
            f.write(REQUEST)
        rows.append(("request evaluate, 1 class, gpu-node", "topology -o json, same root",
                     paired((rm("--root", gpu_dir, "request", "evaluate", req, "-o", "json"), env, (0, 4)),
                            (rm("--root", gpu_dir, "topology", "-o", "json"), env), runs), "A < 120 ms"))
        # 4. completion
        state = env["RMCTL_STATE_DIR"]
        os.makedirs(state)
        with open(os.path.join(state, "state.json"), "w") as f:  # what completion reads (names only)
            json.dump({"reservations": {f"job{i}": {} for i in range(20)}}, f)
        for name, words in (("Tab: class names", ["class", "show", ""]),
                            ("Tab: NUMA ids, EPYC tarball", ["--root", epyc_tar, "cpu", "reserve", "x", "--numa", ""]),
                            ("Tab: PCI addresses, gpu-node tarball", ["--root", GPU_NODE, "devices", "show", ""]),
                            ("Tab: reservation names", ["cpu", "release", ""])):
            rows.append((name, "", alone(completion(rmctl, env, words), runs), "A < 100 ms"))
        # 5. EPYC topology -o json vs lscpu
        rows.append(("EPYC topology -o json", "lscpu -J --sysroot",
                     paired((rm("--root", epyc_dir, "topology", "-o", "json"), env),
                            (["lscpu", "-J", "--sysroot", epyc_dir], env), runs), "2.0x (goal 1.5x)"))
        # 6. live table vs lstopo
        rows.append(("live topology (table)", "lstopo-no-graphics",
                     paired((rm("topology"), env), (["lstopo-no-graphics"], env), runs), "4x"))
        # 7. 4096-CPU synthetic vs lscpu
        synth_dir = bd.build_synth(os.path.join(tmp, "synth4096"), 4096)
        rows.append(("4096-CPU synthetic topology -o json", "lscpu -J --sysroot",
                     paired((rm("--root", synth_dir, "topology", "-o", "json"), env),
                            (["lscpu", "-J", "--sysroot", synth_dir], env), max(3, runs // 3), warmup=1), "2x"))
        # 8. 64-node distribute
        ia64 = bd.extract(bd.IA64, os.path.join(tmp, "ia64"))
        for count in ((16, 64) if args.quick else (1, 16, 32, 64)):
            cmd = rm("--root", ia64, "--state-dir", os.path.join(tmp, "state-ia64"), "cpu", "reserve", "job",
                     "--count", str(count), "--option", "distribute-cpus-across-numa", "--dry-run", "-o", "json")
            rows.append((f"64-node distribute, count {count}", "", alone((cmd, env), max(3, runs // 3), 1),
                         "A < 1 s"))
        # 2. fleets of tarball roots (wall)
        os.makedirs(os.path.join(tmp, "fleet"))
        sizes = (20,) if args.quick else (20, 100)
        paths = br.distinct_copies(max(sizes), os.path.join(tmp, "fleet"))
        for n in sizes:
            cmd = rm("request", "evaluate", FLEET_REQUEST, *[w for p in paths[:n] for w in ("--root", p)],
                     "-o", "json")
            # a state dir of its own: the completion rows above wrote a names-only state.json
            # that request evaluate (which honours reservations) refuses as unchecksummed
            fenv = dict(env, RMCTL_CACHE_DIR=os.path.join(tmp, f"fleet-cache-{n}"),
                        RMCTL_STATE_DIR=os.path.join(tmp, f"fleet-state-{n}"))
            cold = run(cmd, fenv, (0, 4))[1]
            warm = statistics.median(run(cmd, fenv, (0, 4))[1] for _ in range(1 if args.quick else 3))
            fleet_rows.append((n, cold, warm))
    load = os.getloadavg()
    print(f"rmctl {' '.join(rmctl)}; {os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{time.time() - t_start:.0f} s")
    print("CPU time (user + system), medians; ratio = median of per-pair A/B; pairs per row in n")
    print(f"{'A':<38} {'ms':>8}  {'B (peer)':<28} {'ms':>7}  {'A/B':>6}  {'n':>3}  budget")
    for na, nb, r, budget in rows:
        b = f"{r['b'] * 1e3:7.1f}" if "b" in r else f"{'':>7}"
        ratio = f"{r['ratio']:5.2f}x" if "ratio" in r else f"{'':>6}"
        print(f"{na:<38} {r['a'] * 1e3:8.1f}  {nb:<28} {b}  {ratio}  {r['n']:>3}  {budget}")
    for n, cold, warm in fleet_rows:
        print(f"request evaluate on {n} distinct EPYC tarball roots (wall): index cache cold {cold:.2f} s, "
              f"warm {warm:.2f} s (budget: 100 roots < 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
