"""Build tar streams byte by byte for tests: valid, odd and hostile (no tarfile limits in the way)."""

from __future__ import annotations

import gzip
import io
import tarfile

BLOCK = 512


def octal(value: int, width: int) -> bytes:
    """Return ``value`` as a NUL-terminated octal field of ``width`` bytes."""
    return b"%0*o\0" % (width - 1, value)


def header(name: bytes | str, *, typ: bytes = b"0", size: int = 0, link: bytes | str = b"",
           size_field: bytes | None = None, magic: bytes = b"ustar\x0000", prefix: bytes = b"",
           checksum: int | None = None) -> bytes:
    """Return one 512-byte ustar header; ``size_field``/``checksum`` override the computed ones."""
    name = name.encode() if isinstance(name, str) else name
    link = link.encode() if isinstance(link, str) else link
    h = bytearray(BLOCK)
    h[0:100] = name[:100].ljust(100, b"\0")
    h[100:108] = octal(0o644, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = (size_field if size_field is not None else octal(size, 12))[:12].ljust(12, b"\0")
    h[136:148] = octal(0, 12)
    h[148:156] = b" " * 8
    h[156:157] = typ[:1]
    h[157:257] = link[:100].ljust(100, b"\0")
    h[257:265] = magic[:8].ljust(8, b"\0")
    h[345:500] = prefix[:155].ljust(155, b"\0")
    chk = sum(h) if checksum is None else checksum
    h[148:156] = b"%06o\0 " % (chk & 0o777777)
    return bytes(h)


def member(name, data: bytes = b"", **kw) -> bytes:
    """Return a header and its padded data."""
    return header(name, size=len(data), **kw) + data + b"\0" * (-len(data) % BLOCK)


def end() -> bytes:
    return b"\0" * (2 * BLOCK)


def base(top: str = "snap") -> bytes:
    """A minimal valid root: one online CPU (as tests/snapshot/test_bad_roots.py's base_members)."""
    return (member(f"{top}/sys/devices/system/cpu/", typ=b"5")
            + member(f"{top}/sys/devices/system/cpu/online", b"0\n")
            + member(f"{top}/sys/devices/system/cpu/cpu0/topology/core_id", b"0\n"))


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=1, mtime=0)


def with_tarfile(members, fmt=tarfile.PAX_FORMAT) -> bytes:
    """Return an uncompressed tar written by tarfile: members are (TarInfo, bytes | None)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tf:
        for ti, data in members:
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return out.getvalue()
