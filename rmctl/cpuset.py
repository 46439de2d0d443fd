"""CpuSet: an immutable set of kernel CPU numbers.

Parses and prints the kernel's list syntax (``0-3,8,10-11``; see
Documentation/admin-guide/cgroup-v2.rst "cpuset.cpus" and
lib/bitmap.c:bitmap_parselist, which also accepts the ``0-31:2/4`` group
form) and the kernel's hex masks (``cpumap`` files: comma-separated 32-bit
words, most significant first, any width: 4096-bit masks on ia64, 8192+ CPUs
on large x86).  Printing is canonical: ascending, merged ranges, no spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rmctl.errors import ParseError

# A CPU number larger than this is junk, not a machine: the kernel's
# NR_CPUS maximum is 8192 on x86 (CONFIG_MAXSMP), 16384 elsewhere at most.
MAX_CPU = 1 << 16

_RANGE = re.compile(r"^(\d+)(?:-(\d+)(?::(\d+)/(\d+))?)?$")


class CpuSet:
    """An immutable, hashable set of CPU ids with set algebra."""

    __slots__ = ("_cpus",)

    def __init__(self, cpus: Iterable[int] = ()):
        s = frozenset(int(c) for c in cpus)
        for c in s:
            if c < 0 or c > MAX_CPU:
                raise ParseError(f"CPU number out of range: {c}")
        self._cpus = s

    # -- constructors ----------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> "CpuSet":
        """Return the set named by a kernel cpulist such as ``0-3,8``.

        Whitespace and NUL bytes around the list are ignored (sysfs files end
        in a newline, some in a NUL).  An empty string is the empty set.
        """
        text = text.replace("\0", "").strip()
        if not text:
            return cls()
        cpus: set[int] = set()
        for part in text.split(","):
            part = part.strip()
            m = _RANGE.match(part)
            if not m:
                raise ParseError(
                    f"bad cpulist {text!r}: {part!r} is not a CPU number or range",
                )
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.group(2) is not None else lo
            if hi < lo:
                raise ParseError(f"bad cpulist {text!r}: range {part!r} runs backwards")
            if hi > MAX_CPU:
                raise ParseError(f"bad cpulist {text!r}: CPU {hi} is out of range")
            if m.group(3) is not None:
                used, group = int(m.group(3)), int(m.group(4))
                if group == 0 or used == 0 or used > group:
                    raise ParseError(f"bad cpulist {text!r}: bad group {used}/{group}")
                cpus.update(c for c in range(lo, hi + 1) if (c - lo) % group < used)
            else:
                cpus.update(range(lo, hi + 1))
        return cls(cpus)

    @classmethod
    def parse_mask(cls, text: str) -> "CpuSet":
        """Return the set named by a kernel hex mask such as ``ff,00000001``.

        Words are 32-bit, most significant first; empty words mean zero
        (hwloc writes ``0xfc000000,,,0x0``); an optional ``0x`` per word.
        """
        text = text.replace("\0", "").strip()
        if not text:
            return cls()
        words = text.split(",")
        cpus: list[int] = []
        for i, word in enumerate(reversed(words)):
            w = word.strip().lower()
            if w.startswith("0x"):
                w = w[2:]
            if not w:
                continue
            if len(w) > 8 and len(words) > 1 or not re.fullmatch(r"[0-9a-f]+", w):
                raise ParseError(f"bad CPU mask {text!r}: word {word!r}")
            value = int(w, 16)
            base = 32 * i
            bit = 0
            while value:
                if value & 1:
                    cpus.append(base + bit)
                value >>= 1
                bit += 1
        return cls(cpus)

    # -- printing --------------------------------------------------------
    def ranges(self) -> list[tuple[int, int]]:
        """Return the set as sorted, merged (first, last) ranges."""
        out: list[tuple[int, int]] = []
        for c in sorted(self._cpus):
            if out and out[-1][1] == c - 1:
                out[-1] = (out[-1][0], c)
            else:
                out.append((c, c))
        return out

    def to_list(self) -> str:
        """Return the canonical kernel cpulist (``0-3,8``); ``""`` when empty."""
        return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.ranges())

    def to_mask(self, min_words: int = 1) -> str:
        """Return the kernel hex mask: 32-bit words, most significant first."""
        value = 0
        for c in self._cpus:
            value |= 1 << c
        words = []
        while value:
            words.append(value & 0xFFFFFFFF)
            value >>= 32
        while len(words) < min_words:
            words.append(0)
        return ",".join(f"{w:08x}" for w in reversed(words))

    def __str__(self) -> str:
        return self.to_list()

    def __repr__(self) -> str:
        return f"CpuSet({self.to_list()!r})"

    # -- set protocol ----------------------------------------------------
    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._cpus))

    def __len__(self) -> int:
        return len(self._cpus)

    def __contains__(self, cpu: object) -> bool:
        return cpu in self._cpus

    def __bool__(self) -> bool:
        return bool(self._cpus)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CpuSet):
            return self._cpus == other._cpus
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._cpus)

    def __or__(self, other: "CpuSet") -> "CpuSet":
        return CpuSet(self._cpus | other._cpus)

    def __and__(self, other: "CpuSet") -> "CpuSet":
        return CpuSet(self._cpus & other._cpus)

    def __sub__(self, other: "CpuSet") -> "CpuSet":
        return CpuSet(self._cpus - other._cpus)

    def __xor__(self, other: "CpuSet") -> "CpuSet":
        return CpuSet(self._cpus ^ other._cpus)

    union = __or__
    intersection = __and__
    difference = __sub__

    def issubset(self, other: "CpuSet") -> bool:
        return self._cpus <= other._cpus

    def issuperset(self, other: "CpuSet") -> bool:
        return self._cpus >= other._cpus

    def isdisjoint(self, other: "CpuSet") -> bool:
        return self._cpus.isdisjoint(other._cpus)

    def sorted(self) -> list[int]:
        """Return the CPU ids in ascending order."""
        return sorted(self._cpus)

    def first(self) -> int:
        """Return the lowest CPU id; ValueError when empty."""
        return min(self._cpus)

    def frozenset(self) -> frozenset[int]:
        return self._cpus


EMPTY = CpuSet()
