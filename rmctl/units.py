"""One size parser and printer.

Meaning, documented once (README "Sizes"): every unit is binary, because
pages and memory are counted in powers of two by the kernel (``2048kB`` in
``hugepages-2048kB`` means 2048 KiB).  So ``2M`` = ``2Mi`` = ``2MiB`` =
2097152 bytes, ``1G`` = ``1Gi`` = 1073741824, ``2048kB`` = 2 MiB.  Plain
digits are bytes.  Anything else is rejected with a message.

Kubernetes quantities (``16Gi`` vs ``16G``) differ; they belong to CEL's
``quantity()`` and are handled there, not here.
"""

from __future__ import annotations

from rmctl.errors import ParseError

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "m": 1 << 20,
    "g": 1 << 30,
    "t": 1 << 40,
    "p": 1 << 50,
}
#: a size as written (compiled on first use: ``re`` is not imported on the topology fast path)
_SIZE_PATTERN = r"^\s*(\d+)\s*([kmgtpKMGTP]?)(i?)([bB]?)\s*$"
# Printing order, largest first.
_NAMES = [("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]


def parse_size(text: str | int, *, what: str = "size") -> int:
    """Return the number of bytes named by ``text`` (``2M``, ``1Gi``, ``2048kB``, ``4096``)."""
    if isinstance(text, bool):
        raise ParseError(f"bad {what} {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise ParseError(f"bad {what} {text}: negative")
        return text
    import re

    m = re.match(_SIZE_PATTERN, str(text))
    if not m:
        raise ParseError(
            f"bad {what} {text!r}: expected a number with an optional binary unit "
            "(K, M, G, T; Ki/KiB/kB mean the same), e.g. 2M, 1Gi, 2048kB",
        )
    number, unit, i, b = m.groups()
    if i and not unit:
        raise ParseError(f"bad {what} {text!r}: 'i' without a unit")
    if b == "b" and unit:
        # "2Mb" reads like megabits; refuse rather than guess.  "kB" is the
        # kernel's spelling of KiB (meminfo, hugepages-2048kB) and is accepted.
        if not (unit == "k" and not i):
            raise ParseError(f"bad {what} {text!r}: lower-case 'b' (bits?); write B, e.g. 2MiB")
    return int(number) * _UNITS[unit.lower()]


def format_size(nbytes: int | None) -> str:
    """Return a short binary size: exact (``2Mi``, ``1Gi``, ``1.5Gi``, ``1.25Mi``) or one decimal.

    Two decimals only when they are exact: a 1280 KiB L2 (Raptor Lake P-core)
    printed as ``1.2Mi`` was a silently wrong number.
    """
    if nbytes is None:
        return "-"
    for name, factor in _NAMES:
        if nbytes >= factor:
            if nbytes % factor == 0:
                return f"{nbytes // factor}{name}"
            if (nbytes * 100) % factor == 0 and (nbytes * 10) % factor != 0:
                return f"{nbytes / factor:.2f}{name}"
            return f"{nbytes / factor:.1f}{name}"
    return f"{nbytes}B"


def format_size_exact(nbytes: int) -> str:
    """Return the largest binary unit that divides ``nbytes`` exactly (``1536Mi``)."""
    for name, factor in _NAMES:
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor}{name}"
    return str(nbytes)


def page_size_dirname(page_bytes: int) -> str:
    """Return the sysfs directory name of a hugepage size (``hugepages-2048kB``)."""
    return f"hugepages-{page_bytes // 1024}kB"


def parse_page_size_dirname(name: str) -> int | None:
    """Return the page size in bytes named by ``hugepages-2048kB``, or None (``^hugepages-(\\d+)kB\\Z``)."""
    digits = name[10:-2] if name.startswith("hugepages-") and name.endswith("kB") else ""
    return int(digits) * 1024 if digits.isdecimal() else None


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """Return ``1 CPU``, ``2 CPUs``, ``0 pages``: the count and the noun in agreement."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
