"""The one-pass tar index behind tarball roots (discovery/tarindex.py).

Same content as tarfile gives, on every fixture; the formats real writers
use (ustar prefix, GNU long names, pax records, hard links, concatenated
gzip, bzip2, xz); every budget refused while the headers are read, counted
in headers and decompressed bytes (deterministic: no timing).
"""

from __future__ import annotations

import bz2
import glob
import lzma
import os
import tarfile

import pytest

from rmctl.discovery import tarindex
from rmctl.discovery.tarindex import ArchiveReader, build_index, is_archive
from rmctl.errors import DiscoveryError, RmctlError, UnsafeSnapshotError
from tests.conftest import FIXTURES
from tests.snapshot import tarbuild as tb

ALL_TARBALLS = sorted(glob.glob(os.path.join(FIXTURES, "*", "*.tar*")))


@pytest.mark.parametrize("path", ALL_TARBALLS, ids=os.path.basename)
def test_index_holds_what_tarfile_reads(path):
    with open(path, "rb") as f:
        idx = build_index(f.read(), path)
    files, links, dirs = {}, {}, set()
    with tarfile.open(path) as tf:
        for m in tf:
            key = m.name.rstrip("/")
            if m.isfile():
                files[key] = tf.extractfile(m).read()[:tarindex.KEEP_BYTES]
            elif m.issym():
                links[key] = m.linkname
            elif m.isdir():
                dirs.add(key)
        assert idx.headers >= len(tf.getmembers())  # pax and GNU long-name headers count too
    assert idx.files == files
    assert idx.links == links
    assert dirs <= idx.dirs
    assert idx.prefix and (idx.prefix + "sys") in idx.dirs


def test_epyc_tarball_and_directory_give_the_same_model(fixture_root, run_cli):
    import json

    name = "utillinux-x86_64-epyc_7451"
    docs = []
    for root in (fixture_root(name), os.path.join(FIXTURES, "sysfs", name + ".tar.gz")):
        code, out, err = run_cli("--root", root, "topology", "-o", "json")
        assert code == 0, err
        doc = json.loads(out)
        src = doc.get("source") or doc.get("data", {}).get("source") or {}
        for k in ("root", "kind"):
            src.pop(k, None)
        docs.append(doc)
    assert docs[0] == docs[1]


def reader(raw: bytes) -> ArchiveReader:
    return ArchiveReader(build_index(raw, "t.tar"))


def test_reader_answers_as_a_directory_would():
    raw = (tb.base() + tb.member("snap/sys/devices/pci0000:00/0000:00:01.0/vendor", b"0x8086\n")
           + tb.member("snap/sys/bus/pci/devices/0000:00:01.0", typ=b"2",
                       link="../../../devices/pci0000:00/0000:00:01.0")
           + tb.member("snap/sys/devices/system/cpu/cpu0/node0", typ=b"2", link="../../node/node0")
           + tb.member("snap/proc/cpuinfo", b"processor\t: 0\n") + tb.end())
    r = reader(raw)
    assert r.index.prefix == "snap/"
    assert r.read("sys/devices/system/cpu/online", 100) == b"0\n"
    assert r.read("sys/bus/pci/devices/0000:00:01.0/vendor", 100) == b"0x8086\n"  # through the link
    assert r.read("sys/devices/system/cpu/online", 1) == b"0"  # the cap
    assert r.read("sys/nothing", 100) is None
    assert r.read("sys/devices/system/cpu/cpu0/node0/x", 100) is None  # dangling link
    assert r.listdir("sys/bus/pci/devices") == ["0000:00:01.0"]
    assert r.listdir("sys/bus/pci/devices/0000:00:01.0") == ["vendor"]
    assert r.listdir("") == ["proc", "sys"]
    assert r.listdir("proc/cpuinfo") is None
    assert r.kind("sys/bus/pci/devices/0000:00:01.0") == "dir"
    assert r.kind("sys/bus/pci/devices/0000:00:01.0", follow=False) == "link"
    assert r.kind("proc/cpuinfo") == "file"
    assert r.kind("sys/missing") is None
    assert r.readlink("sys/bus/pci/devices/0000:00:01.0") == "../../../devices/pci0000:00/0000:00:01.0"
    assert r.readlink("proc/cpuinfo") is None
    assert r.realpath("sys/bus/pci/devices/0000:00:01.0") == "sys/devices/pci0000:00/0000:00:01.0"
    # a dangling link: realpath as os.path.realpath gives it (the rest as written)
    assert r.realpath("sys/devices/system/cpu/cpu0/node0") == "sys/devices/system/node/node0"


def test_formats_writers_use():
    long_dir = "snap/sys/devices/" + "/".join(["d" * 60] * 3)
    members = [
        (tarfile.TarInfo("snap/sys/devices/system/cpu/online"), b"0-1\n"),
        (tarfile.TarInfo(f"{long_dir}/value"), b"42\n"),  # > 100 bytes: pax path (PAX) / L (GNU)
    ]
    link = tarfile.TarInfo("snap/sys/l")
    link.type, link.linkname = tarfile.SYMTYPE, "devices/" + "/".join(["d" * 60] * 3)  # > 100: linkpath / K
    hard = tarfile.TarInfo("snap/sys/devices/system/cpu/present")
    hard.type, hard.linkname = tarfile.LNKTYPE, "snap/sys/devices/system/cpu/online"
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        r = reader(tb.with_tarfile(members + [(link, None), (hard, None)], fmt))
        assert r.read(long_dir[5:] + "/value", 10) == b"42\n"
        assert r.read("sys/l/value", 10) == b"42\n"
        assert r.read("sys/devices/system/cpu/present", 10) == b"0-1\n"
    # ustar: a long name split into prefix and name
    r = reader(tb.with_tarfile(members[:1] + [(tarfile.TarInfo("snap/sys/" + "p" * 90 + "/" + "n" * 90), b"x")],
                               tarfile.USTAR_FORMAT))
    assert r.read("sys/" + "p" * 90 + "/" + "n" * 90, 10) == b"x"


@pytest.mark.parametrize("compress", ["gz", "gz_concatenated", "bz2", "xz", "none_no_end_marker"])
def test_compressions(compress):
    raw = tb.base() + tb.end()
    if compress == "gz":
        data = tb.gz(raw)
    elif compress == "gz_concatenated":  # gzip -c a b: two members, one stream
        data = tb.gz(raw[:1024]) + tb.gz(raw[1024:])
    elif compress == "bz2":
        data = bz2.compress(raw)
    elif compress == "xz":
        data = lzma.compress(raw)
    else:
        data = tb.base()
    assert is_archive(data[:512])
    assert reader(data).read("sys/devices/system/cpu/online", 10) == b"0\n"


@pytest.mark.parametrize("case", ["bad_checksum", "crc_mismatch", "truncated_gzip", "truncated_member",
                                  "not_a_tarball", "empty", "bad_size", "negative_size", "bad_pax"])
def test_corrupt_archives_are_discovery_errors(case):
    raw = tb.base() + tb.end()
    if case == "bad_checksum":
        data = tb.base() + tb.header("snap/x", checksum=1) + tb.end()
    elif case == "crc_mismatch":
        data = bytearray(tb.gz(raw))
        data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
        data = bytes(data)
    elif case == "truncated_gzip":
        data = tb.gz(raw)[:-20]
    elif case == "truncated_member":
        data = tb.header("snap/f", size=4096) + b"x" * 100
    elif case == "not_a_tarball":
        data = b"hello world\n" * 100
    elif case == "empty":
        data = tb.end()
    elif case == "bad_size":
        data = tb.header("snap/f", size_field=b"12x4\0") + tb.end()
    elif case == "negative_size":
        data = tb.header("snap/f", size_field=b"\xff" * 12) + tb.end()
    else:
        rec = b"99 path=snap/x\n"
        data = tb.header("pax", typ=b"x", size=len(rec)) + rec.ljust(512, b"\0") + tb.member("snap/y") + tb.end()
    with pytest.raises(DiscoveryError):
        build_index(data, "t.tar")


HOSTILE = {
    "absolute": tb.member("/etc/rmctl-evil", b"x"),
    "dotdot": tb.member("snap/../../evil", b"x"),
    "dotdot_in_pax": (tb.header("p", typ=b"x", size=24) + b"24 path=snap/../../evil\n".ljust(512, b"\0")
                      + tb.member("snap/ok", b"x")),
    "symlink_absolute": tb.member("snap/sys/l", typ=b"2", link="/etc"),
    "symlink_out": tb.member("snap/sys/l", typ=b"2", link="../../.."),
    "chained_link_escape": (tb.member("snap/p/q", typ=b"2", link="..")
                            + tb.member("snap/p/s", typ=b"2", link="q/../..")),
    "hardlink_out": tb.member("snap/h", typ=b"1", link="../etc/passwd"),
    "hardlink_to_nothing": tb.member("snap/h", typ=b"1", link="snap/none"),
    "chardev": tb.member("snap/dev/null", typ=b"3"),
    "blockdev": tb.member("snap/dev/sda", typ=b"4"),
    "fifo": tb.member("snap/fifo", typ=b"6"),
    "sparse": tb.member("snap/sparse", typ=b"S"),
    "unknown_type": tb.member("snap/what", typ=b"Z"),
    "write_through_link": tb.member("snap/d", typ=b"2", link="sys") + tb.member("snap/d/evil", b"x"),
    "file_over_link": tb.member("snap/l", typ=b"2", link="sys/devices/system/cpu/online") + tb.member("snap/l", b"x"),
    "link_over_dir": tb.member("snap/sys/devices", typ=b"2", link="."),
    "file_below_file": tb.member("snap/f", b"x") + tb.member("snap/f/g", b"y"),
    "long_name": tb.header("x", typ=b"L", size=5000) + b"a" * 5000 + b"\0" * (-5000 % 512) + tb.member("y"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_members_refused(kind):
    with pytest.raises(UnsafeSnapshotError):
        build_index(tb.base() + HOSTILE[kind] + tb.end(), "t.tar")


def test_3000_nested_directories_are_a_clear_error(tmp_path, run_cli):
    """Issue 15 item 6: was "internal error: RecursionError" (exit 1); now exit 3 naming the limit."""
    members = [(m, None) for m in map(tarfile.TarInfo, ("snap/sys/devices/system/cpu",))]
    for depth in range(1, 3001):
        ti = tarfile.TarInfo("snap/" + "/".join(["d"] * depth))
        ti.type = tarfile.DIRTYPE
        members.append((ti, None))
    members[0][0].type = tarfile.DIRTYPE
    path = tmp_path / "deep.tar.gz"
    path.write_bytes(tb.gz(tb.with_tarfile(members, tarfile.GNU_FORMAT)))
    code, out, err = run_cli("--root", str(path), "topology", "-o", "json")
    assert code == 3, err
    assert f"more than {tarindex.MAX_DEPTH} levels deep" in err
    assert "RecursionError" not in err and "Traceback" not in err


def chunks_pulled(monkeypatch) -> list[int]:
    """Make tarindex decompress in 64 KiB steps and record each step's size."""
    pulled: list[int] = []
    real = tarindex._chunks

    def counting(raw, spec):
        for c in real(raw, spec):
            pulled.append(len(c))
            yield c

    monkeypatch.setattr(tarindex, "CHUNK", 1 << 16)
    monkeypatch.setattr(tarindex, "_chunks", counting)
    return pulled


def test_member_count_is_checked_as_headers_are_read(monkeypatch):
    """Issue 15 item 4: the count stops the read at MAX_MEMBERS + 1 headers, not after the archive."""
    monkeypatch.setattr(tarindex, "MAX_MEMBERS", 1000)
    pulled = chunks_pulled(monkeypatch)
    empty = tb.member("snap/e")
    bomb = tb.gz(tb.base() + empty * 20_000 + tb.end())  # 20,000 empty members
    with pytest.raises(UnsafeSnapshotError, match="more than 1000 members"):
        build_index(bomb, "bomb.tar.gz")
    # 1,001 headers are 512.5 KB: at most nine 64 KiB steps, of the 160 the archive holds
    assert sum(pulled) <= 1001 * 512 + (1 << 16)


def test_total_size_is_checked_as_headers_are_read(monkeypatch):
    monkeypatch.setattr(tarindex, "MAX_TOTAL_BYTES", 100_000)
    pulled = chunks_pulled(monkeypatch)
    raw = tb.base() + b"".join(tb.member(f"snap/f{i}", b"x" * 40_000) for i in range(50)) + tb.end()
    with pytest.raises(UnsafeSnapshotError, match="holds more than 100000 bytes"):
        build_index(tb.gz(raw), "t.tar.gz")
    assert sum(pulled) <= 3 * 41_000 + (1 << 16)


def test_a_size_faked_header_is_refused_before_its_data():
    raw = tb.base() + tb.header("snap/huge", size=tarindex.MAX_MEMBER_BYTES + 1)  # no data follows
    with pytest.raises(UnsafeSnapshotError, match="absurdly large"):
        build_index(raw, "t.tar")


def test_only_the_first_bytes_of_a_big_member_are_kept(monkeypatch):
    monkeypatch.setattr(tarindex, "KEEP_BYTES", 1000)
    idx = build_index(tb.base() + tb.member("snap/big", b"y" * 5000) + tb.member("snap/after", b"z") + tb.end(),
                      "t.tar")
    assert idx.files["snap/big"] == b"y" * 1000 and idx.files["snap/after"] == b"z"


def test_the_two_million_member_gzip_is_refused_fast(tmp_path):
    """Issue 15 item 4: 2,000,000 empty members in a small gzip ran 101 s and 907 MB before the
    member count was looked at.  Now the count stops it after MAX_MEMBERS headers; run in a
    child process so its memory can be measured.  Ceilings are generous (about 2x what this VM
    needs; the old 907 MB fails).

    The members before the cap have distinct names (60 x 10,000: the index holds every one of
    them until the refusal, its worst case), the rest repeat a block.  Each block's names are a
    permutation of the same letters, so one set of headers (and checksums) serves them all.

    Memory is the child's VmHWM, the peak of its own address space: ru_maxrss is not, because
    exec carries the pre-exec peak into it (exec_mmap's setmax_mm_hiwater_rss), and a
    vfork()ed child's pre-exec memory is pytest's own (CI measured 315 MB of pytest that way).
    """
    import itertools
    import resource
    import subprocess
    import sys

    template = b"".join(tb.member(f"snap/abcdef/e{i}") for i in range(10_000))
    perms = itertools.permutations(b"abcdef")
    blocks = [tb.gz(template.replace(b"abcdef", bytes(next(perms)))) for _ in range(60)]
    path = tmp_path / "bomb.tar.gz"
    with open(path, "wb") as f:
        f.write(tb.gz(tb.base()))
        f.writelines(blocks)
        for _ in range(140):  # 200 concatenated gzip members of 10,000 headers: 2,000,000
            f.write(blocks[0])
    assert path.stat().st_size < 40 << 20
    code = ("import sys\n"
            "from rmctl.discovery.root import Root\n"
            "from rmctl.errors import UnsafeSnapshotError\n"
            "try:\n    Root.open(sys.argv[1])\nexcept UnsafeSnapshotError as e:\n    print('refused:', e)\n"
            "print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0])\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, RMCTL_CACHE_DIR="off"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert "refused:" in p.stdout and "more than 500000 members" in p.stdout, p.stdout + p.stderr
    peak_kb = int(p.stdout.split()[-1])
    assert peak_kb < 200 << 10, peak_kb  # 907 MB before; about 105 MB on this VM
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 20, cpu  # 101 s before; about 2 s on this VM


def test_a_childs_peak_memory_is_its_own():
    """The measure above: a child's VmHWM does not include its parent's memory (ru_maxrss does)."""
    import subprocess
    import sys

    ballast = bytearray(64 << 20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    code = "print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')][0])"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert int(p.stdout) < 48 << 10, p.stdout  # a bare interpreter: about 10 MB
    del ballast


def test_hostile_cases_are_rmctl_errors_never_others():
    for raw in HOSTILE.values():
        try:
            build_index(tb.base() + raw + tb.end(), "t.tar")
        except RmctlError:
            pass


def test_concatenated_empty_streams_are_bounded():
    """400,000 empty gzip members (8 MB) carry no header to count: the stream count stops them."""
    import gzip

    raw = tb.gz(tb.base()) + gzip.compress(b"", mtime=0) * 400_000 + tb.gz(tb.end())
    with pytest.raises(UnsafeSnapshotError, match=f"more than {tarindex.MAX_STREAMS} concatenated gzip"):
        build_index(raw, "t.tar.gz")
    ok = tb.gz(tb.base()) + gzip.compress(b"", mtime=0) * 100 + tb.gz(tb.end()) + b"\0" * 4096 + b"trailing"
    assert build_index(ok, "t.tar.gz").files
