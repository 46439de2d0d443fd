"""`rmctl topology`: summary, tree, colour rules, json/yaml on terminals and pipes."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys

import pytest
import yaml

from rmctl.cpuset import CpuSet
from tests import synth
from tests.cli.helpers import REPO, run_typer
from tests.conftest import FIXTURES as SHARED_FIXTURES

#: every training fixture: each odd machine must give a summary and a tree, never a crash
FIXTURES = sorted(f.split(".tar")[0] for f in os.listdir(os.path.join(SHARED_FIXTURES, "sysfs"))
                  if ".tar" in f)


@pytest.fixture
def synth_root(tmp_path):
    return synth.build(tmp_path / "node", sockets=2, cores=4, threads=2, numa_per_socket=2,
                       offline=(3,), isolated="2", hugepages={2 << 20: 4})


def test_summary_lists_what_lscpu_lists(synth_root):
    code, out, err = run_typer(["--root", synth_root, "topology"], env={"NO_COLOR": "1"})
    assert code == 0, err
    for label in ("CPUs online:", "CPUs offline:", "Packages:", "Cores:", "Threads per core:",
                  "NUMA nodes:", "Isolated CPUs:", "Caches", "Hugepage pools"):
        assert label in out, label
    assert "CPUs online:      15 (0-2,4-15)" in out
    assert "CPUs offline:     1 (3)" in out
    assert "Packages:         2" in out
    assert "Isolated CPUs:    2" in out
    assert "\x1b[" not in out


@pytest.mark.parametrize("name", FIXTURES)
def test_summary_and_tree_on_fixtures(fixture_root, name):
    root = fixture_root(name)
    code, out, err = run_typer(["--root", root, "topology", "-v"])
    assert code == 0, err
    doc = json.loads(run_typer(["--root", root, "topology", "-o", "json"])[1])
    s = doc["summary"]
    assert "CPUs online:" in out and f"{s['pus_online']} (" in out
    assert f"Packages:         {s['packages']}" in out
    if doc["findings"]:
        assert "Findings" in out  # -v shows them
    for flags in ([], ["-v"]):
        code, tree, err = run_typer(["--root", root, "topology", "--tree", *flags])
        assert code == 0, err
        assert tree.startswith("Machine (")
        # every online CPU appears exactly once as a leaf of the tree
        assert sorted(tree_leaves(tree)) == list(CpuSet.parse(s["online_cpus"]))
        assert all(len(line) <= 80 for line in tree.splitlines())


def tree_leaves(tree: str) -> list[int]:
    """Return the CPUs named by the tree's core lines (per core, or collapsed runs)."""
    out = []
    for line in tree.splitlines():
        if "Core " in line:  # "Core 4 (performance): CPU 4, CPU 5"
            out += [int(w) for w in line.split(":", 1)[1].replace("CPU", "").replace(",", " ").split()]
        elif re.search(r"\d+ cores?\b.*: CPUs ", line):  # "6 cores, 2 threads each: CPUs 0-5,48-53"
            out += list(CpuSet.parse(line.split(": CPUs ", 1)[1].split()[0]))
    return out


def test_big_tree_collapses_like_cores(fixture_root):
    """256 CPUs in 128 packages: one line per package, not one per core; -v shows every core."""
    root = fixture_root("hwloc-256ia64-64n2s2c")
    code, tree, err = run_typer(["--root", root, "topology", "--tree"])
    assert code == 0, err
    lines = tree.splitlines()
    assert len(lines) < 140, len(lines)
    assert "├── Package 0  2 cores: CPUs 0-1  NUMA node 0  7.7 GiB" in lines
    assert "-v shows each core" in lines[-1]
    code, full, err = run_typer(["--root", root, "topology", "--tree", "-v"])
    assert code == 0 and len(full.splitlines()) > 500
    # "Core N" is the kernel's core_id (lstopo -p's P#), not the lowest CPU (issue 11 finding 12)
    assert "Core 1: CPU 255" in full and "Core 255" not in full
    # EPYC, 48 cores: each L3 holds one line for its three 2-thread cores
    doc_root = fixture_root("utillinux-x86_64-epyc_7451")
    tree = run_typer(["--root", doc_root, "topology", "--tree"])[1]
    assert "3 cores, 2 threads each: CPUs 0-2,48-50" in tree
    assert "NUMA node 0\n" in tree  # no memory known: no dangling "-"
    assert tree.startswith("Machine (96 CPUs)\n")


def test_small_tree_keeps_each_core(synth_root):
    tree = run_typer(["--root", synth_root, "topology", "--tree"])[1]
    assert "Core " in tree and "cores:" not in tree and "-v shows each core" not in tree


def test_core_types_with_capacity(fixture_root):
    """Arm big.LITTLE: core types with the kernel's cpu_capacity, in the summary and the tree."""
    root = fixture_root("utillinux-arm-A510-A710-A715-X3")
    out = run_typer(["--root", root, "topology"])[1]
    assert ("Core types:       3 efficiency (capacity 280), 4 intermediate (capacity 855), "
            "1 performance (capacity 1024)") in out
    tree = run_typer(["--root", root, "topology", "--tree"])[1]
    assert "Core 0 (performance, capacity 1024): CPU 7" in tree  # core_id 0 of package 2
    # Intel hybrid without cpu_capacity: types ranked by base frequency, no capacity invented
    root = fixture_root("hwloc-20em64t-hybrid-1p6c2t+2ca4co1t")
    doc = json.loads(run_typer(["--root", root, "topology", "-o", "json"])[1])
    assert {c["capacity"] for c in doc["cpus"]} == {None}
    assert {c["core_type"] for c in doc["cpus"]} == {"performance", "efficiency"}
    out = run_typer(["--root", root, "topology"])[1]
    assert "Core types:       8 efficiency, 6 performance\n" in out
    assert "L2      1.25 MiB" in out  # 1280 KiB, not "1.2 MiB"


def test_uniform_capacity_not_repeated_per_core(tmp_path):
    root = synth.build(tmp_path / "n", sockets=1, cores=2, threads=1)
    for cpu in (0, 1):
        (tmp_path / "n" / f"sys/devices/system/cpu/cpu{cpu}/cpu_capacity").write_text("1024\n")
    tree = run_typer(["--root", root, "topology", "--tree"])[1]
    assert "capacity" not in tree


def test_cache_sharing_unknown_is_not_invented(fixture_root):
    """s390 L3/L4 come from proc/cpuinfo: sizes known, instances and sharing not (was a crash)."""
    root = fixture_root("utillinux-s390-lpar-drawer")
    code, out, err = run_typer(["--root", root, "topology"])
    assert code == 0, err
    assert re.search(r"^L4\s+480 MiB\s+\?\s+-\s+\?$", out, re.M), out
    assert "known from proc/cpuinfo only" in out
    tree = run_typer(["--root", root, "topology", "--tree"])[1]
    assert "L4" not in tree and "L3" not in tree  # no tree level for a sharing nobody gave


def test_many_numa_nodes_summarise_distances(fixture_root):
    root = fixture_root("hwloc-256ia64-64n2s2c")
    out = run_typer(["--root", root, "topology"])[1]
    assert "   0   0-3       7.7 GiB   6.8 GiB   10 local, 22 to 1-3, up to 34" in out
    assert "-o json has the full matrix" in out
    numa = [line for line in out.splitlines() if re.match(r"^\s+\d+\s+\d", line)]
    assert len(numa) == 64  # one line per node, no wrapped distance rows
    doc = json.loads(run_typer(["--root", root, "topology", "-o", "json"])[1])
    assert len(doc["numa_nodes"][0]["distances"]) == 64
    # up to 8 nodes: the whole row
    out = run_typer(["--root", fixture_root("hwloc-48amd64-4pa2n6c-sparse"), "topology"])[1]
    assert "full matrix" not in out


def test_findings_only_counted_without_verbose(fixture_root):
    root = fixture_root("hwloc-16em64t-4s2c2t-offlines")
    doc = json.loads(run_typer(["--root", root, "topology", "-o", "json"])[1])
    out = run_typer(["--root", root, "topology"])[1]
    if doc["findings"]:
        assert f"{len(doc['findings'])} finding{'s' if len(doc['findings']) != 1 else ''} while reading" in out
        assert "Findings" not in out.replace("finding", "")
    out_v = run_typer(["--root", root, "-v", "topology"])[1]
    for f in doc["findings"]:
        assert f["code"] in out_v


def _run_on_pty(argv, env):
    """Run rmctl with stdout on a pseudo-terminal; return what the terminal got."""
    master, slave = pty.openpty()
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "RMCTL_ROOT", "FORCE_COLOR")}
    e.update({"TERM": "xterm-256color", "COLUMNS": "120"}, **env)
    p = subprocess.Popen([sys.executable, "-m", "rmctl", *argv], stdout=slave, stderr=subprocess.PIPE,
                         env=e, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=60)
    os.close(master)
    assert p.returncode == 0, p.stderr.read()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_colour_only_on_a_terminal(synth_root):
    on_tty = _run_on_pty(["--root", synth_root, "topology"], {})
    assert "\x1b[" in on_tty
    tree = _run_on_pty(["--root", synth_root, "topology", "--tree"], {})
    assert "\x1b[" in tree
    piped = subprocess.run([sys.executable, "-m", "rmctl", "--root", synth_root, "topology"],
                           capture_output=True, text=True, cwd=REPO,
                           env={**os.environ, "TERM": "xterm-256color"})
    assert piped.returncode == 0 and "\x1b[" not in piped.stdout


def test_no_color_env_and_option_on_a_terminal(synth_root):
    assert "\x1b[" not in _run_on_pty(["--root", synth_root, "topology"], {"NO_COLOR": "1"})
    assert "\x1b[" not in _run_on_pty(["--root", synth_root, "topology", "--tree"], {"NO_COLOR": "1"})
    assert "\x1b[" not in _run_on_pty(["--root", synth_root, "--no-color", "topology"], {})


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_machine_output_same_on_terminal_and_pipe(synth_root, fmt):
    argv = ["--root", synth_root, "topology", "-o", fmt]
    on_tty = _run_on_pty(argv, {})
    piped = subprocess.run([sys.executable, "-m", "rmctl", *argv], capture_output=True, text=True,
                           cwd=REPO, env={**os.environ, "TERM": "xterm-256color"})
    assert piped.returncode == 0
    assert on_tty == piped.stdout
    doc = json.loads(piped.stdout) if fmt == "json" else yaml.safe_load(piped.stdout)
    assert doc["apiVersion"] and doc["kind"] == "Topology" and doc["schemaVersion"] >= 1


def test_tree_json_is_the_topology_document(synth_root):
    code, out, err = run_typer(["--root", synth_root, "topology", "--tree", "-o", "json"])
    assert code == 0, err
    assert json.loads(out)["kind"] == "Topology"


def test_tree_core_names_are_the_kernels_core_id(fixture_root):
    """Issue 11 finding 12: "Core N" was the core's lowest CPU; it is topology/core_id, lstopo -p's Core P#N."""
    import re as _re

    root = fixture_root("hwloc-16em64t-4s2c2t-offlines")
    doc = json.loads(run_typer(["--root", root, "topology", "-o", "json"])[1])
    tree = run_typer(["--root", root, "topology", "--tree"])[1]
    for core in doc["cores"]:
        if not core["cpus"]:
            continue
        first = CpuSet.parse(core["cpus"]).sorted()[0]
        line = next(ln for ln in tree.splitlines() if _re.search(rf": CPU {first}\b", ln))
        assert f"Core {core['core_id']}:" in line, (core, line)
    # core_id repeats in a package where clusters count from 0: the cluster tells them apart
    rv = run_typer(["--root", fixture_root("utillinux-rv64-milkvpioneer"), "topology", "--tree", "-v"])[1]
    assert "Core 1, cluster 0: CPU 0" in rv and "Core 0, cluster 1: CPU 4" in rv
