"""Fuzzing sysfs/procfs contents: nothing but rmctl's own errors (issue 15 acceptance).

Two levels, bounded runs (hypothesis, fixed example counts, no deadline):

* each pure parser discovery uses (cpulists, masks, meminfo, cache sizes and
  types, mounts, distances, cmdline, status, cpuinfo, buddyinfo, page-size
  directory names) over junk, near-miss and oversized text;
* whole discovery plus the topology document over a synthetic node (with
  PCI devices) in which one to three of the files discovery reads (found by
  recording a clean run) get fuzzed contents, or directories get fuzzed
  names: ``discover(root, devices=True)`` and the JSON document either
  succeed or raise an RmctlError (bad files become findings).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmctl.cpuset import CpuSet
from rmctl.discovery import Root, discover, parse
from rmctl.discovery.buddyinfo import parse_buddyinfo
from rmctl.errors import RmctlError
from rmctl.render.data import document, dumps
from rmctl.render.topology import topology_data
from rmctl.units import parse_page_size_dirname
from tests import synth
from tests.synth import Device

_int_text = st.integers(min_value=-(2 ** 80), max_value=2 ** 80).map(str)
_cpulist = st.lists(
    st.one_of(_int_text, st.tuples(st.integers(0, 9000), st.integers(0, 9000)).map(lambda t: f"{t[0]}-{t[1]}"),
              st.tuples(st.integers(0, 9000), st.integers(0, 9000), st.integers(-1, 9), st.integers(-1, 9))
              .map(lambda t: f"{t[0]}-{t[1]}:{t[2]}/{t[3]}"),
              st.sampled_from(["", " ", "-", ":", "/", "0x1f", "٣", "1e9"])),
    max_size=8).map(",".join)
_mask = st.lists(st.from_regex(r"(0x)?[0-9a-fA-FgG]{0,10}", fullmatch=True), max_size=12).map(",".join)
_size = st.from_regex(r"[0-9²]{0,24}\s?[KMGTkmgti]?[iB]{0,2}", fullmatch=True)
_meminfo = st.lists(st.tuples(st.sampled_from(["MemTotal", "MemFree", "Node 0 MemTotal", "Hugepagesize", "x"]),
                              st.one_of(_int_text, _size, st.text(max_size=8))),
                    max_size=5).map(lambda kv: "".join(f"{k}: {v} kB\n" for k, v in kv))
_huge = st.sampled_from(["f" * 100_000, "ffffffff," * 20_000, "0-8191," * 3000, "9" * 5000, "1" + "0" * 4400,
                         "0x" + "f" * 3000, "\0" * 1000, "cache0 : level=" + "9" * 5000 + " type=Data size=1K"])
_text = st.one_of(st.text(max_size=40), _int_text, _cpulist, _mask, _size, _meminfo)
_content = st.one_of(
    _text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    _text.map(lambda t: (t + "\n").encode("utf-8", "surrogatepass")),
    st.binary(max_size=64),
    _huge.map(str.encode),
)

ALLOWED = (RmctlError,)


def _call(fn, *args):
    try:
        fn(*args)
    except ALLOWED:
        pass


@settings(max_examples=400, deadline=None)
@given(_text)
def test_parsers_raise_only_rmctl_errors(text):
    _call(CpuSet.parse, text)
    _call(CpuSet.parse_mask, text)
    for fn in (parse.parse_meminfo, parse.parse_cache_size, parse.parse_cache_type, parse.parse_mounts,
               parse.parse_distance, parse.parse_cmdline, parse.parse_cpuinfo_arch,
               parse.parse_cpuinfo_s390_caches, parse.cmdline_cpulist, parse_buddyinfo,
               parse_page_size_dirname):
        _call(fn, text)
    _call(parse.parse_status_field, text, "Cpus_allowed_list")
    _call(parse.parse_cpuinfo_s390_caches, "vendor_id : IBM/S390\n" + "".join(
        f"cache{i} : level={p} type=Data scope=Private size={p}K line_size={p} associativity={p}\n"
        for i, p in enumerate(text.split()[:4])))


@settings(max_examples=20, deadline=None)
@given(_huge)
def test_parsers_take_oversized_text(text):
    test_parsers_raise_only_rmctl_errors.hypothesis.inner_test(text)


# -- whole discovery over a fuzzed tree ----------------------------------------------

@pytest.fixture(scope="module")
def fuzz_tree():
    """A small node with devices, and the files a clean discovery reads in it."""
    tmp = tempfile.mkdtemp(prefix="rmctl-fuzz-")
    try:
        devices = [Device("0000:3b:00.0", vendor="0x15b3", device="0x101b", cls="0x020000", numa_node=1,
                          driver="mlx5_core", extra={"sriov_totalvfs": "8\n", "sriov_numvfs": "0\n",
                                                     "current_link_speed": "16.0 GT/s PCIe\n",
                                                     "current_link_width": "8\n", "net/ens1/speed": "100000\n"}),
                   Device("0000:17:00.0", numa_node=0, driver="nvidia")]
        root = synth.build(os.path.join(tmp, "n"), sockets=2, cores=2, threads=2, devices=devices,
                           hugepages={"per_node": {(0, 2048): 4}})
        with open(os.path.join(root, "proc/cpuinfo"), "w") as f:
            f.write(synth.cpuinfo_x86([(c, c // 4, c % 2, 4) for c in range(8)]))
        rec = Root.open(root, record=True)
        discover(rec, devices=True)
        # regular files read, and files probed but absent (created by the fuzzer)
        files = sorted({p for p in rec.opened if not p.endswith("/") and _plain_or_absent(root, p)})
        yield root, files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _plain_or_absent(root: str, rel: str) -> bool:
    p = os.path.join(root, rel)
    if os.path.islink(p) or os.path.isdir(p):
        return False
    parent = os.path.dirname(p)
    return os.path.isdir(parent) and not os.path.islink(parent)


def _run(root: str) -> None:
    try:
        node = discover(Root.open(root), devices=True)
        dumps(document("Topology", topology_data(node)), "json")
        json.dumps([f.message for f in node.findings])
    except ALLOWED:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_discovery_raises_only_rmctl_errors(fuzz_tree, data):
    root, files = fuzz_tree
    picks = data.draw(st.lists(st.sampled_from(files), min_size=1, max_size=3, unique=True))
    saved = {}
    try:
        for rel in picks:
            p = os.path.join(root, rel)
            saved[p] = open(p, "rb").read() if os.path.isfile(p) else None
            with open(p, "wb") as f:
                f.write(data.draw(_content))
        _run(root)
    finally:
        for p, old in saved.items():
            if old is None:
                os.remove(p)
            else:
                with open(p, "wb") as f:
                    f.write(old)


_number = st.one_of(st.integers(0, 10 ** 30).map(str), st.sampled_from(["", "-1", "٣", "0x10", "00000007"]))
_names = st.one_of(
    _number.map(lambda n: ("sys/devices/system/cpu", f"cpu{n}")),
    _number.map(lambda n: ("sys/devices/system/node", f"node{n}")),
    _number.map(lambda n: ("sys/devices/system/cpu/cpu0/cache", f"index{n}")),
    _number.map(lambda n: ("sys/kernel/mm/hugepages", f"hugepages-{n}kB")),
    _number.map(lambda n: ("sys/devices/system/node/node0/hugepages", f"hugepages-{n}kB")),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_names, min_size=1, max_size=3, unique=True))
def test_discovery_takes_odd_directory_names(fuzz_tree, names):
    root, _ = fuzz_tree
    made = []
    try:
        for parent, name in names:
            p = os.path.join(root, parent, name)
            if not os.path.exists(p):
                os.makedirs(p)
                made.append(p)
        _run(root)
    finally:
        for p in made:
            shutil.rmtree(p, ignore_errors=True)
