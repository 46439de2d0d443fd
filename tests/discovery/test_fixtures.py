"""Every training fixture in ../shared/fixtures/sysfs agrees with its expected.json.

Choices where the peers disagree (documented in each fixture's notes, and
followed here):
- NUMA nodes: the kernel's membership restricted to online CPUs (a CPU-less
  node has ""); no node is invented when sys/devices/system/node is absent
  (lscpu's view; hwloc synthesizes one).
- Caches: only caches serving online CPUs are counted (hwloc's view; lscpu
  2.38 counts offline CPUs' caches too).  s390 L3/L4 come from proc/cpuinfo
  with ``instances`` null (lscpu's view; lstopo 2.9 omits them).
- Restricted snapshots (cgroup cpuset) describe the whole machine; the
  restriction shows only in ``allowed_cpus``.
- arch comes from the facts file, else hwloc's proc/hwloc-nofile-info, else
  is inferred from proc/cpuinfo (recorded as the ``arch_inferred`` finding).
"""

import pytest

from rmctl.discovery import Root, discover
from rmctl.render.topology import summary_data
from tests.conftest import fixture_expected, fixture_names

NAMES = fixture_names()


def test_fixtures_present():
    # CI has ../shared beside the clone: an empty list is a broken checkout, not a pass.
    assert len(NAMES) >= 16


def summarise(node) -> dict:
    """Return the model in expected.json's vocabulary (KiB, os_index)."""
    s = summary_data(node)
    kib = lambda b: None if b is None else b // 1024  # noqa: E731
    return {
        "online_cpus": s["online_cpus"],
        "offline_cpus": s["offline_cpus"],
        "pus_online": s["pus_online"],
        "packages": s["packages"],
        "cores": s["cores"],
        "threads_per_core_max": s["threads_per_core_max"],
        "numa_nodes": [{"os_index": n["id"], "cpus": n["cpus"], "memory_kib": kib(n["memory_bytes"])}
                       for n in s["numa_nodes"]],
        "caches": [{"level": c["level"], "type": c["type"], "size_kib": kib(c["size_bytes"]),
                    "instances": c["instances"]} for c in s["caches"]],
        "arch": node.source.arch,
    }


@pytest.mark.parametrize("name", NAMES)
def test_fixture_agrees_with_expected(name, fixture_root):
    expected = fixture_expected(name)
    node = discover(Root.open(fixture_root(name)))
    got = summarise(node)
    for key in got:
        assert got[key] == expected[key], f"{name}: {key}"
    # The summary counts agree with themselves.
    assert got["pus_online"] == len(node.topology.online_cpus())


@pytest.mark.parametrize("name", NAMES)
def test_fixture_json_summary_types(name, fixture_root, run_cli):
    """The CLI's JSON summary has the contract keys with the contract types."""
    import json

    code, out, err = run_cli("--root", fixture_root(name), "topology", "-o", "json")
    assert code == 0, err
    s = json.loads(out)["summary"]
    assert isinstance(s["pus_online"], int)
    for k in ("online_cpus", "offline_cpus"):
        assert isinstance(s[k], str)
    for k in ("packages", "cores", "threads_per_core_max"):
        assert isinstance(s[k], int)
    for n in s["numa_nodes"]:
        assert set(n) == {"id", "cpus", "memory_bytes"}
    for c in s["caches"]:
        assert set(c) == {"level", "type", "size_bytes", "instances"}
        assert c["type"] in ("data", "instruction", "unified")
