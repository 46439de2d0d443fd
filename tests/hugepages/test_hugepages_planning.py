"""Planners and the buddyinfo estimate on synthetic trees (tests/synth.py) and inline text."""

import pytest

from rmctl.discovery import discover, paths
from rmctl.discovery.buddyinfo import (
    BuddyZone,
    estimate,
    is_gigantic,
    largest_buddy_block,
    parse_buddyinfo,
    read_buddyinfo,
)
from rmctl.discovery.root import Root
from rmctl.errors import ConflictError, ParseError, UnsatisfiableError, UsageError
from rmctl.model import hugepage_actions as ha
from rmctl.model.actions import plan_data_roundtrip
from rmctl.model.hugepage_actions import SetPoolPages, pool_file
from rmctl.model.plan import MakeDir, Mount, RemoveDir, Unmount, WriteValue
from rmctl.planning import hugepages as hp
from tests import synth

M2, G1 = 2 << 20, 1 << 30


@pytest.fixture
def two_nodes(tmp_path):
    """2 sockets, 1 NUMA node each, 16 GiB per node with 15 GiB free; node 0 holds 10 2M pages."""
    root = synth.build(tmp_path / "root", sockets=2, cores=2, threads=1,
                       hugepages={"per_node": {(0, 2048): 10}})
    r = Root.open(root)
    return discover(r), r


def test_paths_agree_with_discovery():
    assert ha.SYS_HUGEPAGES == "/" + paths.SYS_HUGEPAGES
    assert ha.SYS_NODE == "/" + paths.SYS_NODE
    assert pool_file(M2, 1, "nr_hugepages") == "/" + paths.node_hugepages(1) + "/hugepages-2048kB/nr_hugepages"


def test_parse_buddyinfo():
    text = ("Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
            "Node 0, zone   Normal      1      1      0      2      3      2     17     16     10     21    178 \n"
            "garbage line\n")
    zones = parse_buddyinfo(text)
    assert [(z.node, z.zone, z.max_order) for z in zones] == [(0, "DMA", 10), (0, "Normal", 10)]
    assert zones[1].free[10] == 178


def test_estimate_counts_blocks_of_the_page_order_and_up(two_nodes):
    node, root = two_nodes
    zones = read_buddyinfo(root)  # synth: 100 free blocks of every order 0..10 per node
    e = estimate(node, zones, M2, 0)
    # 2M = order 9: 100 order-9 blocks + 100 order-10 blocks x 2
    assert (e.pages, e.basis, e.gigantic) == (300, "buddyinfo", False)
    g = estimate(node, zones, G1, 0)
    # 1G is gigantic (> 4 MiB, order 10): memory in order-10 blocks, 100 x 4 MiB = 400 MiB -> 0 pages
    assert (g.pages, g.basis, g.gigantic) == (0, "buddyinfo-max-order", True)
    assert estimate(node, zones, M2).pages == 600  # both nodes
    # Without buddyinfo: free memory alone (15 GiB free per node)
    f = estimate(node, None, M2, 1)
    assert (f.pages, f.basis) == (15 * 512, "free-memory")


def test_gigantic_threshold_follows_buddyinfo(two_nodes):
    node, _ = two_nodes
    zones = [BuddyZone(0, "Normal", (1,) * 14)]  # MAX_PAGE_ORDER 13 (e.g. a larger config)
    assert largest_buddy_block(node, zones) == 4096 << 13
    assert not is_gigantic(M2, node, zones)
    assert is_gigantic(G1, node, None)  # default order 10: 4 MiB


def test_plan_set_node_pool(two_nodes):
    node, _ = two_nodes
    pp = hp.plan_set(node, [(M2, {1: 512})])
    [a] = pp.plan.actions
    assert isinstance(a, SetPoolPages)
    assert a.path == "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
    assert (a.value, a.expect, a.node, a.page_size) == ("512", "0", 1, M2)
    assert a.retries > 0
    assert pp.needs == ({"node": 1, "needed": 512 * M2, "free": 15 << 30},)
    # a saved plan comes back as the same action kind
    again = plan_data_roundtrip(pp.plan).actions[0]
    assert isinstance(again, SetPoolPages) and again == a
    # undo restores the previous count
    assert a.undo("0").value == "0" and isinstance(a.undo("0"), SetPoolPages)


def test_plan_set_global_and_shrinks_first(two_nodes):
    node, _ = two_nodes
    pp = hp.plan_set(node, [(G1, {None: 2}), (M2, {None: 4})])
    assert [a.value for a in pp.plan.actions] == ["4", "2"]  # the 2M shrink (10 -> 4) first
    assert pp.plan.actions[0].path == "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"


def test_plan_set_refuses_what_does_not_fit(two_nodes):
    node, _ = two_nodes
    with pytest.raises(UnsatisfiableError) as e:
        hp.plan_set(node, [(G1, {0: 16})])  # 16 GiB on a node with 15 GiB free
    assert "15Gi free" in str(e.value) and e.value.exit_code == 4
    pp = hp.plan_set(node, [(G1, {0: 16})], force=True)
    assert pp.forced and pp.plan.actions


def test_plan_set_bad_nodes_and_sizes(two_nodes):
    node, _ = two_nodes
    with pytest.raises(UsageError, match="node 5 does not exist"):
        hp.plan_set(node, [(M2, {5: 1})])
    with pytest.raises(UsageError, match="not offered"):
        hp.page_size_of(node, "4M")
    with pytest.raises(ParseError):
        hp.page_size_of(node, "2Mb")
    with pytest.raises(ParseError):
        hp.parse_count("-1", "2M=-1")
    with pytest.raises(ParseError):
        hp.parse_per_node("0=5")
    assert hp.parse_per_node("0:512,1:256") == {0: 512, 1: 256}


def test_plan_set_shrink_below_in_use_is_reported(tmp_path):
    root = synth.build(tmp_path / "r", sockets=1, cores=2, threads=1, hugepages={"per_node": {(0, 2048): 10}})
    free = tmp_path / "r/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"
    free.write_text("4\n")  # 6 of 10 pages in use
    node = discover(Root.open(root))
    pp = hp.plan_set(node, [(M2, {0: 2})])
    assert pp.pools[0].in_use == 6
    assert "6 pages are in use" in pp.pools[0].note and pp.plan.notes


def test_overcommit_refused_for_gigantic(two_nodes):
    node, _ = two_nodes
    with pytest.raises(UsageError, match="gigantic"):
        hp.plan_set(node, [], overcommit=4, overcommit_sizes=[G1], gigantic_above=4 << 20)
    pp = hp.plan_set(node, [], overcommit=4, overcommit_sizes=[M2], gigantic_above=4 << 20)
    [a] = pp.plan.actions
    assert type(a) is WriteValue and a.path.endswith("hugepages-2048kB/nr_overcommit_hugepages")


def test_plan_size_even_and_local(two_nodes):
    node, _ = two_nodes
    s = hp.plan_size(node, 12 << 30, G1, [0, 1])
    assert s.per_node == {0: 6, 1: 6} and s.pages == 12
    s = hp.plan_size(node, 13 << 30, G1, [0, 1])
    assert s.per_node == {0: 7, 1: 6}
    s = hp.plan_size(node, 20 << 30, G1, [1, 0], spread="local")
    assert s.per_node == {1: 15, 0: 5}  # node 1 first, up to its 15 GiB free
    s = hp.plan_size(node, 3 << 20, M2)
    assert s.pages == 2 and s.notes  # rounded up
    with pytest.raises(UsageError):
        hp.plan_size(node, 1 << 30, G1, [4])


def test_mount_request_options_and_fstab(two_nodes):
    node, _ = two_nodes
    req = hp.mount_request(node, "/mnt/huge 1", M2, size="13M", min_size="50%", nr_inodes="1K",
                           uid=1000, gid=0, mode="1770")
    assert req.size == 12 << 20  # rounded down to whole pages
    assert req.min_size == 10 * M2 // 2  # 50% of the 10-page global pool
    assert req.options() == "pagesize=2M,size=12582912,min_size=10485760,nr_inodes=1024,uid=1000,mode=1770"
    assert req.fstab() == ("hugetlbfs /mnt/huge\\0401 hugetlbfs "
                           "pagesize=2M,size=12582912,min_size=10485760,nr_inodes=1024,uid=1000,mode=1770 0 0")
    with pytest.raises(UsageError, match="larger than size"):
        hp.mount_request(node, "/mnt/x", M2, size="4M", min_size="8M")
    with pytest.raises(UsageError):
        hp.mount_request(node, "relative/path", M2)
    with pytest.raises(UsageError):
        hp.mount_request(node, "/mnt/x", M2, size="1M")  # less than a page
    with pytest.raises(ParseError):
        hp.mount_request(node, "/mnt/x", M2, mode="999")


def test_plan_mount_states(two_nodes):
    node, _ = two_nodes
    req = hp.mount_request(node, "/mnt/h", M2, size="4M", mode="1770")
    mp = hp.plan_mount(node, req, existing=None, dir_state="absent")
    assert [type(a) for a in mp.plan.actions] == [MakeDir, Mount]
    assert mp.plan.actions[1].options == "pagesize=2M,size=4194304,mode=1770"
    # identical as /proc/mounts shows it (the kernel prints no mode/uid when default)
    same = ("hugetlbfs", "hugetlbfs", {"rw": "", "relatime": "", "pagesize": "2M", "size": "4194304", "mode": "1770"})
    assert hp.plan_mount(node, req, existing=same, dir_state="nonempty").state == "identical"
    other = ("hugetlbfs", "hugetlbfs", {"rw": "", "pagesize": "2M"})
    with pytest.raises(ConflictError, match="different hugetlbfs mount"):
        hp.plan_mount(node, req, existing=other, dir_state="empty")
    with pytest.raises(ConflictError, match="tmpfs"):
        hp.plan_mount(node, req, existing=("tmpfs", "tmpfs", {}), dir_state="empty")
    with pytest.raises(ConflictError, match="non-empty"):
        hp.plan_mount(node, req, existing=None, dir_state="nonempty")
    big = hp.mount_request(node, "/mnt/h", M2, min_size="40M")  # 20 pages, the pool has 10
    with pytest.raises(UnsatisfiableError):
        hp.plan_mount(node, big, existing=None, dir_state="absent")


def test_plan_umount():
    mp = hp.plan_umount("/mnt/h", existing=("hugetlbfs", "hugetlbfs", {}), rmdir=True)
    assert [type(a) for a in mp.plan.actions] == [Unmount, RemoveDir]
    assert hp.plan_umount("/mnt/h", existing=None).state == "not-mounted"
    # nothing mounted: nothing to unmount (issue 11 finding 12: a dry run planned an umount)
    assert hp.plan_umount("/mnt/h", existing=None).plan.actions == ()
    assert [type(a) for a in hp.plan_umount("/mnt/h", existing=None, rmdir=True, dir_state="empty").plan.actions] \
        == [RemoveDir]
    for state in ("absent", "nonempty", "notdir"):
        assert hp.plan_umount("/mnt/h", existing=None, rmdir=True, dir_state=state).plan.actions == ()
    with pytest.raises(ConflictError):
        hp.plan_umount("/mnt/h", existing=("/dev/sda1", "ext4", {}))


def test_boot_args_parse_and_diff(tmp_path):
    root = synth.build(tmp_path / "r", sockets=2, cores=2, threads=1,
                       cmdline="BOOT_IMAGE=/vmlinuz hugepages=64 hugepagesz=1G hugepages=2 quiet -- hugepages=9")
    node = discover(Root.open(root))
    pools, default = hp.parse_boot_hugepages(node.cmdline, M2)
    assert pools == {M2: "64", G1: "2"} and default is None
    bp = hp.plan_boot_args(node, [(G1, 8)], per_node=True, obtainable={G1: 1}, gigantic_above=4 << 20)
    assert bp.args == "hugepagesz=2M hugepages=64 hugepagesz=1G hugepages=0:4,1:4"
    assert {c["page_size"]: c["change"] for c in bp.changes} == {M2: "unchanged", G1: "change"}
    assert bp.recommendations and "at boot" in bp.recommendations[0]
    [a] = bp.plan.actions
    assert a.reboot and "hugepages=0:4,1:4" in a.add
    bp = hp.plan_boot_args(node, [(M2, {0: 1, 1: 2})], default_size=M2)
    assert bp.args.endswith("hugepagesz=2M hugepages=0:1,1:2 hugepagesz=1G hugepages=2 default_hugepagesz=2M")
    with pytest.raises(UsageError):
        hp.plan_boot_args(node, [(M2, {3: 1})])


def _set_pool_files(base, rel_dir, **values):
    for name, v in values.items():
        (base / rel_dir / name).write_text(f"{v}\n")


def test_surplus_pages_are_not_counted_twice(tmp_path):
    # Linux 6.18, seen on this VM: 6 pages, 2 in use, `echo 1 > nr_hugepages`
    # leaves nr_hugepages=2, free=0, surplus=1 (globally and on node 0):
    # sysfs nr_hugepages counts surplus pages, the persistent pool is 1.
    root = synth.build(tmp_path / "r", sockets=1, cores=2, threads=1, hugepages={"per_node": {(0, 2048): 2}})
    g = "sys/kernel/mm/hugepages/hugepages-2048kB"
    n0 = "sys/devices/system/node/node0/hugepages/hugepages-2048kB"
    _set_pool_files(tmp_path / "r", g, nr_hugepages=2, free_hugepages=0, surplus_hugepages=1)
    _set_pool_files(tmp_path / "r", n0, nr_hugepages=2, free_hugepages=0, surplus_hugepages=1)
    node = discover(Root.open(root))
    pp = hp.plan_set(node, [(M2, {None: 1})])
    [c] = pp.pools
    assert (c.previous, c.in_use, c.surplus) == (1, 2, 1)
    [a] = pp.plan.actions
    assert (a.value, a.expect) == ("1", "1")  # already the persistent size: apply says unchanged
    pp = hp.plan_set(node, [(M2, {0: 0})])
    assert (pp.pools[0].previous, pp.pools[0].in_use) == (1, 2)
    assert "keeps 2 of them as surplus" in pp.pools[0].note
    # growing turns the surplus page into a persistent one first: 3 more pages need 2 new ones
    pp = hp.plan_set(node, [(M2, {None: 4})])
    assert pp.needs == ({"node": None, "needed": 2 * M2, "free": pp.needs[0]["free"]},)


def test_set_pool_pages_reads_back_the_persistent_pool(tmp_path):
    from rmctl.execute.host import RootHost

    d = tmp_path / "sys/kernel/mm/hugepages/hugepages-2048kB"
    d.mkdir(parents=True)
    (d / "nr_hugepages").write_text("2\n")
    (d / "surplus_hugepages").write_text("1\n")
    host = RootHost(str(tmp_path))
    a = SetPoolPages(path=pool_file(M2, None, "nr_hugepages"), value="1", expect="6", page_size=M2)
    assert a.current(host) == "1" and a.done(a.current(host))
    (d / "surplus_hugepages").write_text("0\n")
    assert a.current(host) == "2" and not a.done(a.current(host))
    (d / "surplus_hugepages").unlink()  # no surplus file: nr_hugepages as it is
    assert a.current(host) == "2"


def test_mount_conflict_names_options_as_the_kernel_prints_them(two_nodes):
    node, _ = two_nodes
    req = hp.mount_request(node, "/mnt/h", M2)
    seen = ("hugetlbfs", "hugetlbfs", {"rw": "", "uid": "65534", "mode": "700", "pagesize": "2M", "size": "4194304"})
    with pytest.raises(ConflictError) as e:
        hp.plan_mount(node, req, existing=seen, dir_state="empty")
    msg = e.value.message
    assert "mode=700 (asked 755)" in msg and "uid=65534 (asked 0)" in msg and "size=4194304 (asked -)" in msg
    # 1 GiB pages: the kernel prints pagesize=1024M; the same page size is no conflict
    g = hp.mount_request(node, "/mnt/g", G1)
    assert hp.plan_mount(node, g, existing=("hugetlbfs", "hugetlbfs", {"pagesize": "1024M"}),
                         dir_state="empty").state == "identical"
    with pytest.raises(ConflictError, match=r"pagesize=2M \(asked 1G\)"):
        hp.plan_mount(node, g, existing=("hugetlbfs", "hugetlbfs", {"pagesize": "2M"}), dir_state="empty")


def test_mount_percent_is_of_the_persistent_pool(tmp_path):
    # 10 pages of which 2 are surplus: 50% is of the 8 persistent ones (h->max_huge_pages)
    root = synth.build(tmp_path / "r", sockets=1, cores=2, threads=1, hugepages={"per_node": {(0, 2048): 10}})
    (tmp_path / "r/sys/kernel/mm/hugepages/hugepages-2048kB/surplus_hugepages").write_text("2\n")
    node = discover(Root.open(root))
    assert hp.mount_request(node, "/mnt/h", M2, size="50%").size == 4 * M2


def test_nodes_keep_the_order_given_for_local_spread(two_nodes):
    node, _ = two_nodes
    assert hp.parse_nodes("1,0") == [1, 0] and hp.parse_nodes("0-1") == [0, 1]
    assert hp.parse_nodes("1,0-1") == [1, 0]
    with pytest.raises(ParseError):
        hp.parse_nodes("1,,0")
    # 15 GiB free per node: 20 x 1G pages, local from node 1: 15 there, 5 on node 0
    s = hp.plan_size(node, 20 << 30, G1, hp.parse_nodes("1,0"), "local")
    assert list(s.per_node.items()) == [(1, 15), (0, 5)]
    s = hp.plan_size(node, 3 << 30, G1, hp.parse_nodes("1,0"), "even")
    assert s.per_node == {1: 2, 0: 1}  # the remainder on the first node listed


def test_node_without_memory_is_bad_input_with_the_nodes_that_have_some(tmp_path):
    import shutil

    root = synth.build(tmp_path / "r", sockets=2, cores=2, threads=1)
    shutil.rmtree(tmp_path / "r/sys/devices/system/node/node1/hugepages")
    (tmp_path / "r/sys/devices/system/node/node1/meminfo").write_text(
        "Node 1 MemTotal: 0 kB\nNode 1 MemFree: 0 kB\nNode 1 MemUsed: 0 kB\n")
    node = discover(Root.open(root))
    with pytest.raises(UsageError, match="no memory") as e:
        hp.plan_set(node, [(M2, {1: 4})])
    assert e.value.hint == "nodes with hugepage pools: 0"
    assert hp.plan_size(node, 8 << 20, M2).per_node == {0: 4}  # default: only nodes with memory
    with pytest.raises(UsageError, match="no memory"):
        hp.plan_size(node, 8 << 20, M2, [0, 1])


def test_boot_args_fell_short_at_boot_and_replace_note(tmp_path):
    root = synth.build(tmp_path / "r", sockets=2, cores=2, threads=1,
                       cmdline="root=/dev/sda1 default_hugepagesz=1G hugepagesz=1G hugepages=4 "
                               "hugepagesz=2M hugepages=512 quiet")
    node = discover(Root.open(root))  # the pools hold 0 pages: boot allocation fell short
    bp = hp.plan_boot_args(node, [(G1, 4)], gigantic_above=4 << 20)
    assert all(c["change"] == "unchanged" for c in bp.changes)
    assert len(bp.recommendations) == 1 and "fell short" in bp.recommendations[0]
    assert not any("replace" in n for n in bp.plan.notes)  # same meaning, other order: nothing to do
    bp = hp.plan_boot_args(node, [(G1, 8)], gigantic_above=4 << 20)
    assert bp.args == "hugepagesz=2M hugepages=512 hugepagesz=1G hugepages=8 default_hugepagesz=1G"
    assert any("replace every running hugepage argument" in n for n in bp.plan.notes)
    assert "fell short" not in " ".join(bp.recommendations) and "at boot" in bp.recommendations[0]
