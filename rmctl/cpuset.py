"""CpuSet: an immutable set of kernel CPU numbers.

Parses and prints the kernel's list syntax (``0-3,8,10-11``; see
Documentation/admin-guide/cgroup-v2.rst "cpuset.cpus" and
lib/bitmap.c:bitmap_parselist, which also accepts the ``0-31:2/4`` group
form) and the kernel's hex masks (``cpumap`` files: comma-separated 32-bit
words, most significant first; lib/bitmap.c:bitmap_parse).  Printing is
canonical: ascending, merged ranges, no spaces.

Both parsers run in time linear in their input and refuse, while parsing,
what no kernel can write (docs/security.md, "Limits"):

* a CPU number above MAX_CPU (NR_CPUS is at most 8192 on any Linux
  architecture: x86-64 with CPUMASK_OFFSTACK/MAXSMP, arch/x86/Kconfig
  NR_CPUS_RANGE_END and NR_CPUS_DEFAULT; powerpc "range 2 8192",
  arch/powerpc/platforms/Kconfig.cputype; arm64 4096, arch/arm64/Kconfig);
* a cpulist naming more than MAX_LIST_IDS CPUs counting repeats (the kernel
  never repeats one; "0-8191,0-8191" is the most a person would write), or
  with more parts than that;
* a mask of more than MAX_MASK_WORDS 32-bit words (a kernel prints
  nr_cpu_ids bits: at most 8192, 256 words), or a single unpunctuated word
  of more than MAX_CPUS bits.
"""

from __future__ import annotations

from rmctl.errors import ParseError

TYPE_CHECKING = False  # collections.abc imports collections: 7M instructions on the topology fast path
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

#: the most CPUs a Linux kernel can have (NR_CPUS maximum, see above)
MAX_CPUS = 8192
#: the highest CPU number accepted anywhere (sets, lists, masks)
MAX_CPU = MAX_CPUS - 1
#: the most CPU numbers one cpulist may name, counting repeats (work bound)
MAX_LIST_IDS = 2 * MAX_CPUS
#: the most 32-bit words in a hex mask
MAX_MASK_WORDS = MAX_CPUS // 32

# Numbers are at most 9 ASCII digits: a longer one is out of range anyway, and
# int() of thousands of digits is slow (and limited by sys.int_info).  Parsed by
# hand, not with ``re``: the topology fast path imports no ``re`` (its import is
# 8M instructions, with enum's, of the ~180M of ``topology -o json`` on a big node).
_HEX_DIGITS = "0123456789abcdef"


def _digits(s: str) -> bool:
    """Return True for 1 to 9 ASCII digits (``[0-9]{1,9}``)."""
    return 0 < len(s) <= 9 and s.isascii() and s.isdigit()


def _range(part: str) -> tuple[str, str | None, str | None, str | None] | None:
    """Split ``N``, ``N-M`` or ``N-M:U/G`` into its numbers (the regex
    ``([0-9]{1,9})(?:-([0-9]{1,9})(?::([0-9]{1,9})/([0-9]{1,9}))?)?\\Z``, matched at the start), else None."""
    first, dash, rest = part.partition("-")
    if not _digits(first):
        return None
    if not dash:
        return first, None, None, None
    last, colon, grouping = rest.partition(":")
    if not _digits(last):
        return None
    if not colon:
        return first, last, None, None
    used, slash, group = grouping.partition("/")
    if not (slash and _digits(used) and _digits(group)):
        return None
    return first, last, used, group


# Parsed lists by text: sysfs repeats a core's list in thread_siblings_list
# and in its L1d, L1i and L2 shared_cpu_list (EPYC: 211 lists, 64 texts).
# Sets are immutable, so one object serves every reader.  Short texts
# only, and a bounded count (cleared when full).
_PARSED: dict[str, CpuSet] = {}
_MEMO_TEXT = 128
_MEMO_SIZE = 8192


def _snip(text: str, limit: int = 64) -> str:
    """Return ``repr(text)``, cut to ``limit`` characters with the full length noted."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


class CpuSet:
    """An immutable, hashable set of CPU ids with set algebra."""

    __slots__ = ("_cpus", "_sorted")
    _cpus: frozenset[int]
    _sorted: tuple[int, ...] | None  #: the ids in order, made on first use

    def __init__(self, cpus: Iterable[int] = ()):
        if isinstance(cpus, CpuSet):
            self._cpus = cpus._cpus
            self._sorted = cpus._sorted
            return
        s = frozenset(map(int, cpus))
        if s and (min(s) < 0 or max(s) > MAX_CPU):
            bad = min(s) if min(s) < 0 else max(s)
            raise ParseError(f"CPU number out of range: {bad} (0-{MAX_CPU})")
        self._cpus = s
        self._sorted = None

    @classmethod
    def _of(cls, s: frozenset[int]) -> CpuSet:
        """Return a CpuSet over ``s``, already checked (set algebra of valid sets)."""
        obj = object.__new__(cls)
        obj._cpus = s
        obj._sorted = None
        return obj

    # -- constructors ----------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> CpuSet:
        """Return the set named by a kernel cpulist such as ``0-3,8``.

        Whitespace and NUL bytes around the list are ignored (sysfs files end
        in a newline, some in a NUL).  An empty string is the empty set.
        Work is linear in the text and bounded by MAX_LIST_IDS.
        """
        hit = _PARSED.get(text) if cls is CpuSet else None
        if hit is not None:
            return hit
        raw = text
        text = text.replace("\0", "").strip()
        if not text:
            return EMPTY
        if text.count(",") >= MAX_LIST_IDS:
            raise ParseError(f"bad cpulist {_snip(text)}: more than {MAX_LIST_IDS} parts")
        cpus: set[int] = set()
        budget = MAX_LIST_IDS
        for part in text.split(","):
            if part.isdigit() and part.isascii() and len(part) < 10:
                lo = hi = int(part)  # the common case, a single CPU
                group = None
            else:
                first, _, last = part.partition("-")
                if last.isdigit() and first.isdigit() and (first + last).isascii() and len(first) < 10 > len(last):
                    lo, hi, group = int(first), int(last), None  # the next most common, N-M (tests count lines)
                else:
                    part = part.strip()
                    m = _range(part)
                    if m is None:
                        raise ParseError(
                            f"bad cpulist {_snip(text)}: {_snip(part, 32)} is not a CPU number or range",
                        )
                    first_s, last_s, used_s, group = m
                    lo = int(first_s)
                    hi = int(last_s) if last_s is not None else lo
            if hi < lo:
                raise ParseError(f"bad cpulist {_snip(text)}: range {part!r} runs backwards")
            if hi > MAX_CPU:
                raise ParseError(f"bad cpulist {_snip(text)}: CPU {hi} is out of range (0-{MAX_CPU})")
            budget -= hi - lo + 1
            if budget < 0:
                raise ParseError(f"bad cpulist {_snip(text)}: names more than {MAX_LIST_IDS} CPUs "
                                 "counting repeats")
            if group is not None:
                used, step = int(used_s or 0), int(group)
                if step == 0 or used == 0 or used > step:
                    raise ParseError(f"bad cpulist {_snip(text)}: bad group {used}/{step}")
                for start in range(lo, hi + 1, step):
                    cpus.update(range(start, min(start + used, hi + 1)))
            elif hi == lo:
                cpus.add(lo)
            else:
                cpus.update(range(lo, hi + 1))
        out = cls._of(frozenset(cpus))
        if len(raw) <= _MEMO_TEXT and cls is CpuSet:
            if len(_PARSED) >= _MEMO_SIZE:
                _PARSED.clear()
            _PARSED[raw] = out
        return out

    @classmethod
    def parse_mask(cls, text: str) -> CpuSet:
        """Return the set named by a kernel hex mask such as ``ff,00000001``.

        Words are 32-bit, most significant first; empty words mean zero
        (hwloc writes ``0xfc000000,,,0x0``); an optional ``0x`` per word.
        A mask without commas may be one long word (``ffffffffff``).  Work is
        linear in the text: at most 32 steps per word, MAX_MASK_WORDS words.
        """
        text = text.replace("\0", "").strip()
        if not text:
            return EMPTY
        if text.count(",") >= MAX_MASK_WORDS:
            raise ParseError(f"bad CPU mask {_snip(text)}: more than {MAX_MASK_WORDS} 32-bit words")
        words = [w.strip().lower() for w in text.split(",")]
        words = [w[2:] if w.startswith("0x") else w for w in words]
        if len(words) == 1:
            w = words[0]
            if len(w) > MAX_CPUS // 4:
                raise ParseError(f"bad CPU mask {_snip(text)}: wider than {MAX_CPUS} bits")
            # One long word: cut it into 32-bit words from the right.
            words = [w[max(0, i - 8):i] for i in range(len(w), 0, -8)][::-1] or [""]
        cpus: list[int] = []
        base = 0
        for word in reversed(words):
            if len(word) > 8 or word.strip(_HEX_DIGITS):
                raise ParseError(f"bad CPU mask {_snip(text)}: word {_snip(word, 16)}")
            if word:
                value = int(word, 16)
                if value == 0xFFFFFFFF:  # the usual word of a full mask
                    cpus.extend(range(base, base + 32))
                    value = 0
                while value:
                    low = value & -value
                    cpus.append(base + low.bit_length() - 1)
                    value ^= low
            base += 32
        if cpus and cpus[-1] > MAX_CPU:
            raise ParseError(f"bad CPU mask {_snip(text)}: CPU {cpus[-1]} is out of range (0-{MAX_CPU})")
        return cls._of(frozenset(cpus))

    # -- printing --------------------------------------------------------
    def ranges(self) -> list[tuple[int, int]]:
        """Return the set as sorted, merged (first, last) ranges."""
        out: list[tuple[int, int]] = []
        first = last = -2
        for c in self._order():
            if c == last + 1:
                last = c
                continue
            if last >= 0:
                out.append((first, last))
            first = last = c
        if last >= 0:
            out.append((first, last))
        return out

    def to_list(self) -> str:
        """Return the canonical kernel cpulist (``0-3,8``); ``""`` when empty."""
        return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.ranges())

    def to_mask(self, min_words: int = 1) -> str:
        """Return the kernel hex mask: 32-bit words, most significant first."""
        top = self._order()[-1] if self._cpus else -1
        words = [0] * max(min_words, top // 32 + 1)
        for c in self._cpus:
            words[c >> 5] |= 1 << (c & 31)
        return ",".join(f"{w:08x}" for w in reversed(words))

    def phrase(self, verb: str | None = None) -> str:
        """Return ``CPU 3`` or ``CPUs 0-3`` for messages, with ``verb`` agreeing ("is"/"are", "was"/"were")."""
        one = len(self._cpus) == 1
        text = f"CPU{'' if one else 's'} {self.to_list() or '(none)'}"
        if verb is None:
            return text
        singular = {"are": "is", "were": "was", "have": "has", "do": "does"}
        return f"{text} {singular.get(verb, verb) if one else verb}"

    def __str__(self) -> str:
        return self.to_list()

    def __repr__(self) -> str:
        return f"CpuSet({self.to_list()!r})"

    # -- set protocol ----------------------------------------------------
    def __iter__(self) -> Iterator[int]:
        return iter(self._order())

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

    def __or__(self, other: CpuSet) -> CpuSet:
        return CpuSet._of(self._cpus | other._cpus)

    def __and__(self, other: CpuSet) -> CpuSet:
        return CpuSet._of(self._cpus & other._cpus)

    def __sub__(self, other: CpuSet) -> CpuSet:
        return CpuSet._of(self._cpus - other._cpus)

    def __xor__(self, other: CpuSet) -> CpuSet:
        return CpuSet._of(self._cpus ^ other._cpus)

    union = __or__
    intersection = __and__
    difference = __sub__

    def issubset(self, other: CpuSet) -> bool:
        return self._cpus <= other._cpus

    def issuperset(self, other: CpuSet) -> bool:
        return self._cpus >= other._cpus

    def isdisjoint(self, other: CpuSet) -> bool:
        return self._cpus.isdisjoint(other._cpus)

    def _order(self) -> tuple[int, ...]:
        # Sorted once per set: sets are immutable, and discovery and the
        # renderers iterate the same big sets (node, package, online) often.
        if self._sorted is None:
            self._sorted = tuple(sorted(self._cpus))
        return self._sorted

    def sorted(self) -> list[int]:
        """Return the CPU ids in ascending order."""
        return list(self._order())

    def first(self) -> int:
        """Return the lowest CPU id; ValueError when empty."""
        if self._sorted is not None and self._sorted:
            return self._sorted[0]
        return min(self._cpus)

    def frozenset(self) -> frozenset[int]:
        return self._cpus


EMPTY = CpuSet()
