"""Each anomaly of the fixtures README becomes a Finding (code, message,
root-relative path), never a crash and never a silently wrong number.

Synthetic trees (tests/synth.py) get one anomaly each; the fixture-based
cases name the fixture the anomaly comes from.
"""

import os
import shutil

import pytest

from rmctl.discovery import Root, discover
from tests import synth

CPU = "sys/devices/system/cpu"
NODE = "sys/devices/system/node"


def _w(root, rel, data, mode="w"):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, mode) as f:
        f.write(data)


def _rm(root, rel):
    p = os.path.join(root, rel)
    if os.path.isdir(p):
        shutil.rmtree(p)
    elif os.path.exists(p):
        os.remove(p)


def codes(node):
    return {f.code: f for f in node.findings}


def check_paths(node):
    for f in node.findings:
        assert f.message
        assert f.path is None or not f.path.startswith("/"), f


@pytest.fixture
def tree(tmp_path):
    # 1 socket, 4 cores, 2 threads, linux numbering: core k = CPUs k, k+4.
    return synth.build(tmp_path / "r", sockets=1, cores=4, threads=2)


def test_clean_tree_has_no_warnings(tree):
    node = discover(Root.open(tree))
    assert [f for f in node.findings if f.severity == "warning"] == []
    assert node.topology.online_cpus().to_list() == "0-7"


def test_nul_bytes(tree):
    _w(tree, f"{CPU}/online", b"0-7\n\0", "wb")
    node = discover(Root.open(tree))
    f = codes(node)["nul_bytes"]
    assert f.path == f"{CPU}/online"
    assert node.topology.online_cpus().to_list() == "0-7"


def test_garbage_in_cpu_online_is_a_finding(tree):
    _w(tree, f"{CPU}/online", "zero to seven\n")
    node = discover(Root.open(tree))
    f = codes(node)["bad_cpulist"]
    assert f.path == f"{CPU}/online" and "zero" in f.message
    # Falls back to cpuN/online (missing = online), not to a wrong number.
    assert len(node.topology.online_cpus()) == 8


def test_missing_online_present_possible(tree):
    for n in ("online", "present", "possible", "offline"):
        _rm(tree, f"{CPU}/{n}")
    _w(tree, f"{CPU}/cpu5/online", "0\n")
    _rm(tree, f"{CPU}/cpu5/topology")
    node = discover(Root.open(tree))
    c = codes(node)
    assert {"no_online_file", "no_present_file", "cpus_offline"} <= set(c)
    assert node.topology.online_cpus().to_list() == "0-4,6-7"
    assert node.topology.offline_cpus().to_list() == "5"


def test_empty_per_cpu_online_counts_as_online(tree):
    _rm(tree, f"{CPU}/online")
    for cpu in range(8):
        _w(tree, f"{CPU}/cpu{cpu}/online", "")
    node = discover(Root.open(tree))
    assert codes(node)["empty_online_file"].path.startswith(f"{CPU}/cpu")
    assert len(node.topology.online_cpus()) == 8


def test_cpu0_offline_and_holes(tmp_path):
    root = synth.build(tmp_path / "r", sockets=1, cores=4, threads=1, offline=[0])
    # A hole: cpu2 absent altogether.
    _rm(root, f"{CPU}/cpu2")
    _w(root, f"{CPU}/present", "0-1,3\n")
    _w(root, f"{CPU}/online", "1,3\n")
    node = discover(Root.open(root))
    c = codes(node)
    assert c["cpu0_offline"].severity == "warning"
    assert "2" in c["cpu_id_holes"].message
    assert node.topology.online_cpus().to_list() == "1,3"
    assert node.topology.offline_cpus().to_list() == "0"


def test_node_cpumap_names_absent_cpus(tree):
    _w(tree, f"{NODE}/node0/cpulist", "0-140\n")
    node = discover(Root.open(tree))
    f = codes(node)["node_lists_absent_cpus"]
    assert "8-140" in f.message and f.path == f"{NODE}/node0/cpulist"
    assert node.topology.nodes[0].cpus.to_list() == "0-7"


def test_online_cpus_in_no_node(tree):
    _w(tree, f"{NODE}/node0/cpulist", "0-5\n")
    node = discover(Root.open(tree))
    assert "6-7" in codes(node)["cpus_without_node"].message
    assert node.topology.cpus[7].node is None


def test_package_id_minus_one(tree):
    for cpu in range(8):
        _w(tree, f"{CPU}/cpu{cpu}/topology/physical_package_id", "-1\n")
    node = discover(Root.open(tree))
    assert "package_id_unknown" in codes(node)
    # Grouped by core_siblings/package_cpus: still one package, not 8 and not 0.
    assert len(node.topology.packages) == 1
    assert node.topology.cpus[3].package_id is None


def test_no_node_directory(tree):
    _rm(tree, NODE)
    node = discover(Root.open(tree))
    assert codes(node)["no_numa_nodes"].path == NODE
    assert node.topology.nodes == {}


def test_sparse_node_ids(tmp_path):
    root = synth.build(tmp_path / "r", sockets=2, cores=2, threads=1)
    os.rename(os.path.join(root, NODE, "node1"), os.path.join(root, NODE, "node33"))
    node = discover(Root.open(root))
    assert "sparse_node_ids" in codes(node)
    assert sorted(node.topology.nodes) == [0, 33]


def test_cache_without_size(tree):
    for cpu in range(8):
        _rm(tree, f"{CPU}/cpu{cpu}/cache/index0/size")
    node = discover(Root.open(tree))
    assert codes(node)["cache_size_unknown"].path.endswith("/size")
    l1d = [c for c in node.topology.summary_caches() if c["level"] == 1 and c["type"] == "data"]
    assert l1d and l1d[0]["size_bytes"] is None


def test_no_thread_siblings_file(tree):
    for cpu in range(8):
        for n in ("thread_siblings_list", "thread_siblings", "core_cpus_list", "core_cpus"):
            _rm(tree, f"{CPU}/cpu{cpu}/topology/{n}")
    node = discover(Root.open(tree))
    assert "no_thread_siblings" in codes(node)
    # Built from core_id within the package: still 4 cores of 2 threads.
    assert len(node.topology.cores) == 4 and node.topology.threads_per_core_max() == 2


def test_bad_distance_row(tree):
    _w(tree, f"{NODE}/node0/distance", "10 twenty\n")
    node = discover(Root.open(tree))
    assert codes(node)["bad_distance"].path == f"{NODE}/node0/distance"


@pytest.mark.parametrize("name,code", [
    ("hwloc-128ia64-17n4s2c", "empty_online_file"),
    ("hwloc-16em64t-4s2c2t-offlines", "no_present_file"),
    ("hwloc-16em64t-4s2c2t-offlines", "cpus_offline"),
    ("hwloc-48amd64-4pa2n6c-sparse", "sparse_node_ids"),
    ("utillinux-s390-lpar-drawer", "node_lists_absent_cpus"),
    ("utillinux-s390-lpar-drawer", "cache_sharing_unknown"),
    ("hwloc-20s390-2g6s4c", "package_id_unknown"),
    ("hwloc-20s390-2g6s4c", "no_numa_nodes"),
    ("utillinux-arm-A510-A710-A715-X3", "cache_size_unknown"),
    ("hwloc-32intel64-2p8co2t+8ve", "nul_bytes"),
    ("hwloc-16amd64-8n2c-cpusets", "cpuset_restricted"),
])
def test_fixture_anomalies(name, code, fixture_root):
    node = discover(Root.open(fixture_root(name)))
    assert code in codes(node)
    check_paths(node)


def test_findings_in_json(fixture_root, run_cli):
    import json

    code, out, _ = run_cli("--root", fixture_root("hwloc-20s390-2g6s4c"), "topology", "-o", "json")
    assert code == 0
    found = {f["code"] for f in json.loads(out)["findings"]}
    assert {"package_id_unknown", "no_numa_nodes"} <= found


# -- core types and allowed CPUs ------------------------------------------

def test_intel_hybrid_without_pmu_dirs(fixture_root):
    # hwloc's console: CPU kind #1 (efficiency 1) = 0x00000fff, kind #0 = 0x000ff000.
    node = discover(Root.open(fixture_root("hwloc-20em64t-hybrid-1p6c2t+2ca4co1t")))
    t = node.topology
    assert {c.id for c in t.cpus.values() if c.core_type == "performance"} == set(range(12))
    assert {c.id for c in t.cpus.values() if c.core_type == "efficiency"} == set(range(12, 20))
    assert "core_types_inferred" in codes(node)


def test_arm_capacity_kinds(fixture_root):
    # cpu_capacity 280 (0-2), 855 (3-6), 1024 (7).
    t = discover(Root.open(fixture_root("utillinux-arm-A510-A710-A715-X3"))).topology
    kinds = {c.id: c.core_type for c in t.cpus.values()}
    assert kinds == {0: "efficiency", 1: "efficiency", 2: "efficiency", 3: "intermediate",
                     4: "intermediate", 5: "intermediate", 6: "intermediate", 7: "performance"}
    assert t.cpus[7].capacity == 1024


def test_homogeneous_has_no_core_types(fixture_root):
    t = discover(Root.open(fixture_root("utillinux-x86_64-epyc_7451"))).topology
    assert all(c.core_type is None for c in t.cpus.values())


def test_turbo_boost_max_favoured_cores_are_not_hybrid(tree):
    # ITMT: highest_perf 46/47/48 on one core type must not split kinds.
    for cpu in range(8):
        _w(tree, f"{CPU}/cpu{cpu}/acpi_cppc/highest_perf", f"{46 + cpu % 3}\n")
    t = discover(Root.open(tree)).topology
    assert all(c.core_type is None for c in t.cpus.values())


def test_legacy_cpuset_fs_restricts_allowed(fixture_root):
    # /dev/cpuset/dummy/cpus = 0-6,12-15 (CPU 4 offline): hwloc's default view 0-3,5-6,12-15.
    t = discover(Root.open(fixture_root("hwloc-16amd64-8n2c-cpusets"))).topology
    assert t.allowed_cpus().to_list() == "0-3,5-6,12-15"
    assert t.online_cpus().to_list() == "0-3,5-15"


def test_cgroup_v2_effective_inherited_from_parent(tree):
    _w(tree, "proc/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")
    _w(tree, "proc/self/cgroup", "0::/a/b\n")
    _w(tree, "sys/fs/cgroup/a/cpuset.cpus.effective", "2-5\n")
    os.makedirs(os.path.join(tree, "sys/fs/cgroup/a/b"))  # no cpuset controller in b
    assert discover(Root.open(tree)).topology.allowed_cpus().to_list() == "2-5"


def test_cgroup_v1_and_status(tree):
    _w(tree, "proc/mounts", "cgroup /sys/fs/cgroup/cpuset cgroup rw,cpuset 0 0\n")
    _w(tree, "proc/self/cgroup", "3:cpuset:/job\n1:name=systemd:/\n")
    _w(tree, "sys/fs/cgroup/cpuset/job/cpuset.effective_cpus", "0-5\n")
    _w(tree, "proc/self/status", "Name:\trmctl\nCpus_allowed_list:\t1-7\n")
    assert discover(Root.open(tree)).topology.allowed_cpus().to_list() == "1-5"


def test_isolated_and_nohz_from_sysfs_and_cmdline(tree):
    _w(tree, f"{CPU}/isolated", "1\n")
    _w(tree, f"{CPU}/nohz_full", "(null)\n")  # what older kernels print when unset
    _w(tree, "proc/cmdline", "root=/dev/sda isolcpus=domain,managed_irq,2-3 nohz_full=6 -- isolcpus=7\n")
    node = discover(Root.open(tree))
    t = node.topology
    assert t.isolated_cpus().to_list() == "1-3"
    assert {c.id for c in t.cpus.values() if c.nohz_full} == {6}
    assert "bad_cpulist" not in codes(node)


def test_node_memory_not_attributed_is_a_finding():
    """gpu-node: node0/meminfo 4.3 GiB, proc/meminfo 125.9 GiB (README of the node fixtures)."""
    from tests.conftest import FIXTURES

    root = Root.open(os.path.join(FIXTURES, "nodes", "gpu-node.tar.gz"))
    node = discover(root)
    f = [x for x in node.findings if x.code == "node_memory_mismatch"]
    assert len(f) == 1 and f[0].severity == "warning"
    assert "4.3 GiB" in f[0].message and "125.9 GiB" in f[0].message
    assert node.topology.nodes[0].memory_total < (5 << 30) < node.memory.total  # both kept as read


def test_node_memory_matching_meminfo_is_quiet(tmp_path):
    node = discover(Root.open(synth.build(tmp_path / "n", sockets=2, numa_per_socket=1)))
    assert not [x for x in node.findings if x.code == "node_memory_mismatch"]
