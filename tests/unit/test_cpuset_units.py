"""CpuSet and sizes: round trips (hypothesis), 8192+ CPUs, junk rejected with a message."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmctl.cpuset import MAX_CPU, CpuSet
from rmctl.errors import ParseError
from rmctl.units import format_size, format_size_exact, parse_size

cpu_sets = st.frozensets(st.integers(min_value=0, max_value=8191), max_size=300)


@given(cpu_sets)
def test_list_round_trip(cpus):
    s = CpuSet(cpus)
    assert CpuSet.parse(s.to_list()) == s
    assert CpuSet.parse(s.to_list()).to_list() == s.to_list()  # canonical


@given(cpu_sets)
def test_mask_round_trip(cpus):
    s = CpuSet(cpus)
    assert CpuSet.parse_mask(s.to_mask()) == s
    assert CpuSet.parse_mask(s.to_mask(min_words=256)) == s  # zero-padded, 8192-bit mask


@given(cpu_sets, cpu_sets)
def test_algebra_matches_python_sets(a, b):
    x, y = CpuSet(a), CpuSet(b)
    assert (x | y).frozenset() == a | b
    assert (x & y).frozenset() == a & b
    assert (x - y).frozenset() == a - b
    assert (x ^ y).frozenset() == a ^ b
    assert x.issubset(x | y) and (x | y).issuperset(y)
    assert x.isdisjoint(y) == (not (a & b))


def test_canonical_printing_and_big_sets():
    assert CpuSet.parse("8, 3-1".replace("3-1", "1-3")).to_list() == "1-3,8"
    assert CpuSet.parse("0-8191").to_list() == "0-8191"
    assert len(CpuSet.parse_mask(",".join(["ffffffff"] * 256))) == 8192
    assert CpuSet.parse("0-62:2/4").to_list() == "0-1,4-5,8-9,12-13,16-17,20-21,24-25,28-29,32-33,36-37,40-41,44-45,48-49,52-53,56-57,60-61"
    assert CpuSet.parse_mask("0xfc000000,,,0x0").to_list() == "122-127"
    assert CpuSet.parse("\0 0-3\n") == CpuSet(range(4))
    assert CpuSet().to_list() == "" and CpuSet.parse("") == CpuSet()


@pytest.mark.parametrize("junk", ["a", "1-", "3-1", "1,,2", "-1", "1-2-3", "0-3:0/4", f"{MAX_CPU + 1}", "1 2"])
def test_cpulist_junk(junk):
    with pytest.raises(ParseError) as e:
        CpuSet.parse(junk)
    assert "cpulist" in str(e.value)


@pytest.mark.parametrize("junk", ["xyz", "1ffffffff,0", "0x,g"])
def test_mask_junk(junk):
    with pytest.raises(ParseError):
        CpuSet.parse_mask(junk)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=1 << 62))
def test_size_round_trip(n):
    assert parse_size(format_size_exact(n)) == n


@pytest.mark.parametrize("text,n", [("2M", 2 << 20), ("2MiB", 2 << 20), ("2Mi", 2 << 20), ("1G", 1 << 30),
                                    ("1Gi", 1 << 30), ("2048kB", 2 << 20), ("4096", 4096), (" 1 G ", 1 << 30),
                                    ("1T", 1 << 40), (7, 7)])
def test_size_forms(text, n):
    assert parse_size(text) == n


@pytest.mark.parametrize("junk", ["", "M", "2X", "1.5G", "-1", "2Mb", "i", "2 M B x", True, -5])
def test_size_junk(junk):
    with pytest.raises(ParseError) as e:
        parse_size(junk)
    assert "size" in str(e.value)


def test_format_size():
    assert format_size(2 << 20) == "2Mi"
    assert format_size(3 << 29) == "1.5Gi"
    assert format_size(None) == "-"
    assert format_size(512) == "512B"
    assert format_size(1280 << 10) == "1.25Mi"  # exact at two decimals: not "1.2Mi"
    assert format_size(24684100 * 1024) == "23.5Gi"  # inexact: one decimal


def test_human_size_strips_only_a_trailing_point_zero():
    from rmctl.render.tables import human_size

    assert human_size(8 << 30) == "8 GiB"
    assert human_size(1280 << 10) == "1.25 MiB"
    assert human_size((1 << 20) + (1 << 14)) == "1 MiB"  # 1.0156 Mi rounds to "1.0": no ".0"
    assert human_size(int(1.05 * (1 << 20)) // 1024 * 1024) != "15 MiB"
    assert human_size(None) == "-" and human_size(512) == "512 B"


def test_parsed_lists_are_shared_and_the_memo_is_bounded():
    import rmctl.cpuset as cs

    cs._PARSED.clear()
    a, b = CpuSet.parse("0,48\n"), CpuSet.parse("0,48\n")
    assert a is b and a == CpuSet([0, 48])  # one object for one text (sysfs repeats a core's list)
    long = ",".join(str(c) for c in range(0, 400, 2))
    CpuSet.parse(long)
    assert long not in cs._PARSED  # long texts are not kept
    for i in range(cs._MEMO_SIZE + 10):
        CpuSet.parse(str(i % 8192) + "," * 0 + " " * (i // 8192))
    assert len(cs._PARSED) <= cs._MEMO_SIZE
    with pytest.raises(ParseError):
        CpuSet.parse("0-8192")  # errors are never remembered as sets
    assert "0-8192" not in cs._PARSED
