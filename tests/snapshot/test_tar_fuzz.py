"""Fuzzing tar headers (issue 15): hostile archives give rmctl's own errors, never another exception.

Two generators: archives assembled from hostile members (names with
``..``, ``/``, NUL and long runs, every type byte, lying sizes, pax and GNU
records, broken checksums), and valid archives with bytes flipped,
inserted or cut.  Each is read by the index (plain and gzip) and, when
accepted, checked: no key leaves the root, every link resolves inside it,
reads through the reader never raise.  Bounded: a few hundred examples.
"""

from __future__ import annotations

import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmctl.discovery.tarindex import _ESCAPED, ArchiveReader, _Resolver, build_index
from rmctl.errors import RmctlError
from tests.snapshot import tarbuild as tb

PIECES = ["snap", "sys", "devices", "system", "cpu", "cpu0", "online", "..", ".", "", "a", "b", "x" * 120,
          "\u00e9t\u00e9", "/", "./", "c\nd"]
TYPES = [b"0", b"\0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"L", b"K", b"x", b"g", b"S", b"V", b"M", b"Z"]

names = st.lists(st.sampled_from(PIECES), min_size=0, max_size=8).map("/".join)
sizes = st.one_of(st.integers(0, 1500), st.sampled_from([1 << 33, (64 << 20) + 1, 8 ** 11 - 1]))
# mostly well-formed fields, so that most archives get past the header to the checks behind it
size_fields = st.integers(0, 9).flatmap(lambda i: st.none() if i < 7 else st.one_of(
    st.binary(min_size=0, max_size=12),
    st.sampled_from([b"\x80" + b"\0" * 10 + b"\x05", b"\xff" * 12, b"  12  \0", b"-1\0"])))


@st.composite
def members(draw) -> bytes:
    typ = draw(st.sampled_from(TYPES))
    name = draw(names)
    link = draw(names)
    size = draw(sizes)
    data = b""
    if typ in (b"L", b"K"):
        data = (draw(names) + "\0").encode("utf-8", "surrogateescape")
        size = len(data)
    elif typ in (b"x", b"g"):
        key = draw(st.sampled_from(["path", "linkpath", "size", "GNU.sparse.map", "comment", "", "=="]))
        value = draw(st.one_of(names, st.integers(-5, 1 << 40).map(str)))
        rec = f" {key}={value}\n".encode("utf-8", "surrogateescape")
        length = len(rec) + len(str(len(rec))) + draw(st.sampled_from([0, 0, 0, 1, -1, 50]))
        data = str(length).encode() + rec
        size = len(data)
    elif typ in (b"0", b"\0", b"7") and size <= 1500:
        data = draw(st.binary(max_size=size, min_size=size)) if size <= 64 else b"\x41" * size
    head = tb.header(name.encode("utf-8", "surrogateescape"), typ=typ, size=size,
                     link=link.encode("utf-8", "surrogateescape"), size_field=draw(size_fields),
                     prefix=draw(st.sampled_from([b"", b"snap", b"../up", b"/abs"])),
                     magic=draw(st.sampled_from([b"ustar\x0000", b"ustar  \0", b"\0" * 8])),
                     checksum=draw(st.sampled_from([None] * 9 + [0])))
    return head + data + b"\0" * (-len(data) % 512)


def check(raw: bytes) -> None:
    """Read ``raw`` as a snapshot: rmctl errors are fine; an accepted index must be sound."""
    for data in (raw, zlib.compress(raw, 1, wbits=31)):
        try:
            idx = build_index(data, "fuzz.tar")
        except RmctlError:
            continue
        for key in list(idx.files) + list(idx.links) + list(idx.dirs):
            parts = key.split("/")
            assert key and not key.startswith("/") and ".." not in parts and "" not in parts, key
        resolver = _Resolver(idx.files, idx.links, idx.dirs, "")
        for key in idx.links:
            assert resolver.resolve(key, follow_last=True, escape=True) is not _ESCAPED, key
        r = ArchiveReader(idx)
        for key in list(idx.files)[:20] + list(idx.links)[:20] + ["sys/devices/system/cpu", ""]:
            rel = key[len(idx.prefix):] if key.startswith(idx.prefix) else key
            r.read(rel, 1 << 16)
            r.listdir(rel)
            r.kind(rel)
            r.kind(rel, follow=False)
            r.readlink(rel)
            r.realpath(rel)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(members(), min_size=0, max_size=8), st.booleans())
def test_hostile_members(ms, with_base):
    check((tb.base() if with_base else b"") + b"".join(ms) + tb.end())


VALID = (tb.base() + tb.member("snap/sys/bus/cpu/devices/cpu0", typ=b"2", link="../../../devices/system/cpu/cpu0")
         + tb.member("snap/proc/cpuinfo", b"processor : 0\n" * 40) + tb.end())


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255), st.sampled_from(["set", "ins", "cut"])),
                min_size=1, max_size=6))
def test_damaged_archives(edits):
    raw = bytearray(VALID)
    for pos, byte, how in edits:
        pos %= max(len(raw), 1)
        if how == "set":
            raw[pos] = byte
        elif how == "ins":
            raw[pos:pos] = bytes([byte]) * (byte % 7 + 1)
        else:
            del raw[pos:pos + byte]
    check(bytes(raw))
