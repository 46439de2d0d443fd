"""rmctl agrees with lscpu and numactl: on the stored node snapshots (their
outputs captured beside them) and live on this machine (lscpu -J, numactl -H).
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery import Root, discover
from rmctl.render.topology import summary_data
from tests.conftest import NODE_FIXTURES

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def section(text: str, command: str) -> str:
    """Return the output printed after ``$ command`` in a commands.txt file."""
    m = re.search(rf"^\$ {re.escape(command)}\n(.*?)(?=^\$ |\Z)", text, re.M | re.S)
    assert m, command
    return m.group(1)


def lscpu_fields(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep and v.strip():
            out[k.strip()] = v.strip()
    return out


def lscpu_json_fields(text: str) -> dict[str, str]:
    out = {}

    def walk(items):
        for it in items:
            out[it["field"].rstrip(":")] = it.get("data")
            walk(it.get("children", []))

    walk(json.loads(text)["lscpu"])
    return out


def compare_lscpu(node, f: dict[str, str]) -> None:
    """Assert the model agrees with lscpu's summary fields."""
    s = summary_data(node)
    online = CpuSet.parse(f["On-line CPU(s) list"])
    assert s["online_cpus"] == online.to_list()
    sockets = int(f["Socket(s)"])
    assert s["packages"] == sockets
    assert s["cores"] == int(f["Core(s) per socket"]) * sockets
    assert s["threads_per_core_max"] == int(f["Thread(s) per core"])
    nodes = int(f.get("NUMA node(s)", "0"))
    assert len(s["numa_nodes"]) == nodes
    for n in s["numa_nodes"]:
        assert CpuSet.parse(f[f"NUMA node{n['id']} CPU(s)"]) == CpuSet.parse(n["cpus"])
    names = {(1, "data"): "L1d", (1, "instruction"): "L1i", (2, "unified"): "L2", (3, "unified"): "L3"}
    for c in s["caches"]:
        key = names.get((c["level"], c["type"]))
        if key is None:
            continue
        m = re.fullmatch(r"([\d.]+) (\w+) \((\d+) instances?\)", f[f"{key} cache"])
        assert m, f[f"{key} cache"]
        total, unit, inst = float(m.group(1)), m.group(2), int(m.group(3))
        assert c["instances"] == inst, key
        # lscpu rounds the total to one decimal place of its unit.
        assert abs(c["size_bytes"] * inst - total * UNITS[unit]) <= 0.05 * UNITS[unit] + 1, key


def compare_numactl(node, text: str) -> None:
    """Assert the model agrees with ``numactl -H`` (node CPUs, size in MB, distances)."""
    nodes = node.topology.nodes
    avail = re.search(r"available: (\d+) nodes \(([\d\-,]*)\)", text)
    assert int(avail.group(1)) == len(nodes)
    assert CpuSet.parse(avail.group(2)) == CpuSet(nodes)
    for m in re.finditer(r"^node (\d+) cpus:(.*)$", text, re.M):
        cpus = CpuSet(int(x) for x in m.group(2).split())
        assert nodes[int(m.group(1))].cpus == cpus
    for m in re.finditer(r"^node (\d+) size: (\d+) MB$", text, re.M):
        assert nodes[int(m.group(1))].memory_total >> 20 == int(m.group(2))
    rows = re.findall(r"^\s+(\d+):\s+([\d\s]+)$", text.split("node distances:")[1], re.M)
    ids = sorted(nodes)
    for nid, row in rows:
        assert [nodes[int(nid)].distances[i] for i in ids] == [int(x) for x in row.split()]


@pytest.mark.parametrize("name", ["gpu-node", "dev-vm"])
def test_node_snapshot_agrees_with_stored_lscpu_and_numactl(name):
    with open(os.path.join(NODE_FIXTURES, f"{name}.commands.txt")) as f:
        text = f.read()
    node = discover(Root.open(os.path.join(NODE_FIXTURES, f"{name}.tar.gz")))
    compare_lscpu(node, lscpu_fields(section(text, "lscpu")))
    compare_lscpu(node, lscpu_json_fields(section(text, "lscpu -J")))
    compare_numactl(node, section(text, "numactl -H"))


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def test_live_agrees_with_lscpu_json():
    # util-linux is a test dependency of this suite (README); absent lscpu is a broken setup, not a skip.
    assert shutil.which("lscpu"), "lscpu (util-linux) is needed by this test"
    node = discover(Root.open("/"))
    f = lscpu_json_fields(_run("lscpu", "-J"))
    compare_lscpu(node, f)
    assert node.source.arch == f["Architecture"]


def test_live_agrees_with_numactl():
    assert shutil.which("numactl"), "numactl is needed by this test"
    compare_numactl(discover(Root.open("/")), _run("numactl", "-H"))
