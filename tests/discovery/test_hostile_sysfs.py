"""Hostile sysfs files are refused or parsed within a counted budget (issue 15 item 4).

The inputs are issue 15's: a single-word hex mask of 300 KB in
``thread_siblings`` (quadratic: 14 s), ``ffffffff,`` x 460,000 (117 s,
1.4 GB), ``cpu/online`` of 16,000 ranges (24 s).  Bounds are counted, not
timed (tests/workbound.py): Python lines executed, stopped at the bound,
and tracemalloc's peak.  The caps are the kernel's (rmctl/cpuset.py).
"""

from __future__ import annotations

import os

import pytest

from rmctl.cpuset import MAX_CPU, MAX_CPUS, MAX_LIST_IDS, MAX_MASK_WORDS, CpuSet
from rmctl.discovery import Root, discover
from rmctl.errors import ParseError
from tests import synth
from tests.workbound import lines, peak_bytes

MASK_300K = "f" * 300_000
MASK_WORDS = "ffffffff," * 460_000
ONLINE_RANGES = ",".join(["0-65535"] * 16_000)  # each range the whole (old) id space
ONLINE_REPEATS = ",".join(["0-8191"] * 16_000)  # each range within the cap


@pytest.mark.parametrize("parse,text", [
    (CpuSet.parse_mask, MASK_300K),
    (CpuSet.parse_mask, MASK_WORDS),
    (CpuSet.parse_mask, MASK_WORDS.rstrip(",")),
    (CpuSet.parse, ONLINE_RANGES),
    (CpuSet.parse, ONLINE_REPEATS),
    (CpuSet.parse, ",".join(["5"] * (MAX_LIST_IDS + 1))),
    (CpuSet.parse, "9" * 5000),  # int() of it would raise ValueError past 4,300 digits
    (CpuSet.parse_mask, "0x" + "1" + "0" * (MAX_CPUS // 4)),
], ids=["mask-300KB-word", "mask-460000-words", "mask-460000-words-no-tail", "online-16000-ranges",
        "online-16000-capped-ranges", "list-too-many-parts", "list-huge-number", "mask-bit-past-cap"])
def test_hostile_cpulists_and_masks_are_refused_at_once(parse, text):
    n, result = lines(lambda: parse(text), limit=200)
    assert isinstance(result, ParseError), result
    assert len(str(result)) < 300  # the message quotes the start of the text, not 4 MB of it
    peak, _ = peak_bytes(lambda: parse(text))
    # a few copies of the text, and at most one set of MAX_CPUS ids (~1.5 MB)
    assert peak < 8 * len(text) + (4 << 20)


@pytest.mark.parametrize("text,parts", [
    (",".join(str(c) for c in range(MAX_CPUS)), MAX_CPUS),  # every CPU spelled out
    (",".join(f"{c}-{c + 1}" for c in range(0, MAX_CPUS, 3)), MAX_CPUS // 3 + 1),
    (",".join(["0-8191"] * 2), 2),  # the most repeats the budget allows
    (",".join(["5"] * (MAX_LIST_IDS - 1)), MAX_LIST_IDS - 1),
])
def test_largest_valid_cpulists_parse_in_linear_work(text, parts):
    # about 14 lines per part; the C work of each line is bounded by MAX_LIST_IDS
    n, result = lines(lambda: CpuSet.parse(text), limit=40 + 16 * parts)
    assert isinstance(result, CpuSet) and len(result)


def test_largest_valid_masks_parse_in_linear_work():
    # at most 4 lines per set bit and 8 per word
    bound = 50 + 4 * MAX_CPUS + 8 * MAX_MASK_WORDS
    full = ",".join(["ffffffff"] * MAX_MASK_WORDS)
    n, result = lines(lambda: CpuSet.parse_mask(full), limit=bound)
    assert result == CpuSet(range(MAX_CPUS))
    one_word = "f" * (MAX_CPUS // 4)  # the widest single word: 8,192 bits
    n, result = lines(lambda: CpuSet.parse_mask(one_word), limit=bound)
    assert result == CpuSet(range(MAX_CPUS))
    sparse = ",".join(["55555555"] * MAX_MASK_WORDS)  # every other bit: the slow path
    n, result = lines(lambda: CpuSet.parse_mask(sparse), limit=bound)
    assert result == CpuSet(range(0, MAX_CPUS, 2))
    assert CpuSet.parse_mask("0x" + "0" * 2000 + "1") == CpuSet([0])


def test_caps_are_the_kernels():
    # NR_CPUS maximum (x86-64 MAXSMP / CPUMASK_OFFSTACK): 8192 CPUs, ids 0-8191
    assert MAX_CPUS == 8192 and MAX_CPU == 8191 and MAX_MASK_WORDS == 256
    assert CpuSet.parse("8191") == CpuSet([8191])
    for junk in ("8192", "0-8192", "0-16383:1/2"):
        with pytest.raises(ParseError):
            CpuSet.parse(junk)
    with pytest.raises(ParseError):
        CpuSet([8192])
    with pytest.raises(ParseError):
        CpuSet.parse_mask("1" + ",00000000" * 256)  # CPU 8192


# -- the same files inside a root ----------------------------------------------------

def _w(root: str, rel: str, text: str) -> None:
    with open(os.path.join(root, rel), "w") as f:
        f.write(text)


@pytest.fixture
def tree(tmp_path):
    return synth.build(tmp_path / "n", sockets=1, cores=4, threads=2, numa_per_socket=2)


def _discover_lines(path: str, limit: int):
    n, node = lines(lambda: discover(Root.open(path)), limit=limit)
    assert not isinstance(node, Exception), node
    return n, node


HOSTILE_FILES = [
    # (file, text, finding code); the *_list twin is removed so the mask is read
    ("sys/devices/system/cpu/cpu0/topology/thread_siblings", MASK_300K, "bad_cpumask"),
    ("sys/devices/system/cpu/cpu0/cache/index3/shared_cpu_map", MASK_WORDS, "bad_cpumask"),
    ("sys/devices/system/cpu/online", ONLINE_RANGES, "bad_cpulist"),
    ("sys/devices/system/cpu/online", ONLINE_REPEATS, "bad_cpulist"),
    ("sys/devices/system/node/node1/cpulist", ONLINE_RANGES, "bad_cpulist"),
]


@pytest.mark.parametrize("rel,text,code", HOSTILE_FILES,
                         ids=["thread_siblings-300KB", "shared_cpu_map-460000-words", "online-16000-ranges",
                              "online-16000-capped-ranges", "node-cpulist-16000-ranges"])
def test_hostile_files_cost_a_bounded_amount_of_discovery(tree, rel, text, code):
    clean, _ = _discover_lines(tree, limit=10 ** 6)
    if rel.endswith(("thread_siblings", "shared_cpu_map")):
        os.remove(os.path.join(tree, rel.replace("thread_siblings", "thread_siblings_list")
                               .replace("shared_cpu_map", "shared_cpu_list")))
    _w(tree, rel, text)
    n, node = _discover_lines(tree, limit=clean + 5000)
    found = [f for f in node.findings if f.code == code]
    assert found and found[0].path == rel
    assert len(found[0].message) < 400


def test_cpu_directories_past_the_cap_are_ignored(tree):
    os.makedirs(os.path.join(tree, "sys/devices/system/cpu/cpu99999999"))
    os.remove(os.path.join(tree, "sys/devices/system/cpu/present"))
    node = discover(Root.open(tree))
    assert len(node.topology.online_cpus()) == 8
    assert any(f.code == "cpu_dir_out_of_range" for f in node.findings)


def test_node_directories_past_the_cap_are_not_nodes(tree):
    os.makedirs(os.path.join(tree, "sys/devices/system/node/node123456789"))
    node = discover(Root.open(tree))
    assert sorted(node.topology.nodes) == [0, 1]
