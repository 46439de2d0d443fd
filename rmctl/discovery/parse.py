"""Pure text parsers for /proc and /sys files; unit tests feed them strings.

What ``topology`` uses is parsed by hand: the fast path imports no ``re``
(its import, with enum's, is ~8M instructions of ``topology -o json``;
issue 14).  The rarer parsers (s390 caches, octal escapes) import it.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError


def number_after(name: str, prefix: str) -> int | None:
    """Return N of a directory named ``<prefix>N`` (``cpu12``, ``node0``, ``index3``), else None.

    N is ASCII digits only (``\\d`` would take ``cpu١``), at most 18 of them
    (int() of thousands of digits is slow, and refused past 4,300).
    """
    if not name.startswith(prefix):
        return None
    digits = name[len(prefix):]
    if 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def parse_meminfo(text: str) -> dict[str, int]:
    """Parse ``proc/meminfo`` or ``nodeN/meminfo`` into {field: value}.

    ``kB`` values become bytes; unitless ones (HugePages_Total) stay counts.
    Node files prefix each line with ``Node N``; the prefix is dropped.
    Lines that do not parse are skipped (the kernel adds fields over time).
    """
    out: dict[str, int] = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        key, _, rest = line.partition(":")
        key = key.strip()
        if key.startswith("Node "):
            key = key.split(None, 2)[-1]
        parts = rest.split()
        if not parts:
            continue
        try:
            value = int(parts[0])
        except ValueError:
            continue
        if len(parts) > 1 and parts[1].lower() == "kb":
            value *= 1024
        out[key] = value
    return out


# at most 12 digits (sysfs prints KiB: 10^12 KiB is no cache): int() of an
# unbounded digit string is slow and raises past 4,300 digits
_SIZE_UNIT = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_cache_size(text: str) -> int | None:
    """Parse a cache ``size`` attribute (``32K``, ``5118K``, ``1M``) into bytes.

    The whole text, stripped, is ``[0-9]{1,12}\\s*[KMG]?i?B?`` (any case).
    """
    t = text.strip()
    n = 0
    while n < len(t) and n <= 12 and "0" <= t[n] <= "9":
        n += 1
    if not 0 < n <= 12:
        return None
    rest = t[n:].lstrip()
    unit = rest[:1].upper() if rest[:1] in ("K", "M", "G", "k", "m", "g") else ""
    rest = rest[len(unit):]
    if rest[:1] in ("i", "I"):
        rest = rest[1:]
    if rest[:1] in ("B", "b"):
        rest = rest[1:]
    if rest:
        return None
    return int(t[:n]) * _SIZE_UNIT[unit]


CACHE_TYPES = {"data": "data", "instruction": "instruction", "unified": "unified"}


def parse_cache_type(text: str) -> str | None:
    """Parse a cache ``type`` attribute (``Data``, ``Instruction``, ``Unified``)."""
    return CACHE_TYPES.get(text.strip().lower())


def parse_mounts(text: str) -> list[tuple[str, str, str, dict[str, str]]]:
    """Parse ``proc/mounts`` into (source, path, fstype, options) tuples.

    Paths use octal escapes for spaces and tabs (``\\040``); decode them.
    """
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        src, path, fstype, opts = parts[:4]
        options: dict[str, str] = {}
        for o in opts.split(","):
            k, _, v = o.partition("=")
            options[k] = v
        out.append((_unescape(src), _unescape(path), fstype, options))
    return out


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s  # the common case: no octal escape, no regex
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def parse_distance(text: str) -> list[int]:
    """Parse a ``nodeN/distance`` row (``10 21``)."""
    try:
        return [int(x) for x in text.split()]
    except ValueError:
        raise ParseError(f"bad node distance row {text!r}") from None


def parse_cmdline(text: str) -> dict[str, list[str]]:
    """Parse ``proc/cmdline`` into {parameter: [values]} (repeats kept, in order).

    Stops at ``--``: what follows belongs to init (kernel-parameters.rst).
    A bare flag has the value ``""``.
    """
    out: dict[str, list[str]] = {}
    for word in text.split():
        if word == "--":
            break
        k, _, v = word.partition("=")
        out.setdefault(k, []).append(v)
    return out


def cmdline_cpulist(value: str) -> CpuSet:
    """Return the CPUs of ``isolcpus=``/``nohz_full=`` values (flags like ``domain,`` skipped)."""
    # isolcpus=[flag-list,]<cpu-list> (kernel-parameters.txt): flags are words.
    parts = [p for p in value.split(",") if p and p.strip("abcdefghijklmnopqrstuvwxyz_")]
    try:
        return CpuSet.parse(",".join(parts))
    except ParseError:
        return CpuSet()


def parse_status_field(text: str, name: str) -> str | None:
    """Return one field of ``proc/PID/status`` (``Cpus_allowed_list``)."""
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if k.strip() == name:
            return v.strip()
    return None


def parse_cpuinfo_arch(text: str, byteorder: str | None = None) -> str | None:
    """Return the ISA name (uname -m style) that ``proc/cpuinfo`` implies, or None.

    Used only when the root has no facts (snapshots not made by rmctl:
    lscpu dumps).  Evidence per architecture, from each arch's
    show_cpuinfo() in the kernel (arch/*/kernel/{setup,cpu,proc}.c):
    x86 ``flags`` with ``lm`` (long mode) is x86_64, without it i686;
    ``CPU architecture: 8`` is aarch64 (7 or lower: arm); ``isa : rv64...``
    riscv64; ``arch : IA-64`` ia64; ``vendor_id : IBM/S390`` with ``zarch``
    s390x; ``cpu : POWER...``/``PPC...`` ppc64, or ppc64le when
    ``sys/kernel/cpu_byteorder`` says little.  A 32-bit kernel on a 64-bit
    x86 CPU reads as x86_64: the caller records the guess as a finding.
    Blocks are read until one decides (the first, but on old 32-bit Arm).
    """
    kv: dict[str, str] = {}
    for block in cpuinfo_blocks(text):
        for line in block.splitlines():
            k, sep, v = line.partition(":")
            if sep:
                kv.setdefault(k.strip().lower(), v.strip())
        arch = _arch_of(kv, byteorder)
        if arch is not None:
            return arch
    return None


def cpuinfo_blocks(text: str):
    """Yield the blank-line separated blocks of ``proc/cpuinfo``, first to last, lazily.

    What rmctl needs is in the first block on every architecture the
    fixtures cover (x86, Arm64, POWER, RISC-V, ia64: each CPU's block;
    s390: the summary with ``vendor_id``, ``features`` and ``cacheN``):
    callers stop there, so a 4,096-CPU file (about 4 MB) is not split
    into lines.  Old 32-bit Arm kernels print ``CPU architecture`` after
    the per-CPU blocks: the later blocks are read only then.
    """
    start = 0
    n = len(text)
    while start < n:
        while start < n and text[start] == "\n":
            start += 1
        if start >= n:
            return
        end = text.find("\n\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 2


def cpuinfo_head(text: str) -> str:
    """Return the first block of ``proc/cpuinfo`` ("" when empty)."""
    return next(iter(cpuinfo_blocks(text)), "")


def _arch_of(kv: dict[str, str], byteorder: str | None) -> str | None:
    if kv.get("arch", "").upper() == "IA-64":
        return "ia64"
    if kv.get("vendor_id") == "IBM/S390":
        return "s390x" if "zarch" in kv.get("features", "").split() else "s390"
    if "isa" in kv:
        isa = kv["isa"].lower()
        return "riscv64" if isa.startswith("rv64") else "riscv32" if isa.startswith("rv32") else None
    if "cpu architecture" in kv:
        try:
            return "aarch64" if int(kv["cpu architecture"].split()[0]) >= 8 else "arm"
        except (ValueError, IndexError):
            return None
    if kv.get("cpu", "").startswith(("POWER", "PPC", "ppc")):
        return "ppc64le" if (byteorder or "").strip() == "little" else "ppc64"
    if "flags" in kv and "vendor_id" in kv:
        return "x86_64" if "lm" in kv["flags"].split() else "i686"
    return None


_S390_CACHE = r"^cache(\d+)\s*:\s*(.*)$"


def parse_cpuinfo_s390_caches(text: str) -> list[dict]:
    """Return the ``cacheN : level=3 type=Unified scope=Shared size=65536K ...`` lines of s390 cpuinfo.

    Each is ``{level, type, scope, size_bytes, line_size, ways}``
    (arch/s390/kernel/cache.c: show_cacheinfo).  s390 sysfs has only the
    private L1/L2 caches; L3/L4 exist only here, without the CPUs sharing them.
    """
    import re

    out = []
    # the cacheN lines belong to the summary, the first block
    # (arch/s390/kernel/processor.c: show_cpu_summary calls show_cacheinfo)
    for line in cpuinfo_head(text).splitlines():
        m = re.match(_S390_CACHE, line.strip())
        if not m:
            continue
        kv = dict(p.split("=", 1) for p in m.group(2).split() if "=" in p)
        if not re.fullmatch(r"[0-9]{1,3}", kv.get("level", "")):
            continue
        level = int(kv["level"])
        ctype = parse_cache_type(kv.get("type", ""))
        if ctype is None:
            continue
        def _int(k: str, kv: dict[str, str] = kv) -> int | None:
            # ASCII digits, bounded: str.isdigit() accepts "²", which int() refuses
            return int(kv[k]) if re.fullmatch(r"[0-9]{1,9}", kv.get(k, "")) else None
        out.append({"level": level, "type": ctype, "scope": kv.get("scope"),
                    "size_bytes": parse_cache_size(kv.get("size", "")),
                    "line_size": _int("line_size"), "ways": _int("associativity")})
    return out


def cpuset_cgroup_paths(text: str | None) -> tuple[str | None, str | None]:
    """Return (the cpuset v1 path, the v2 path) of a ``/proc/PID/cgroup`` text, None where it has none.

    Lines are ``hierarchy-ID:controllers:path`` (cgroups(7)); v2's is ``0::path``, a v1 hierarchy's
    names its controllers (``4:cpuset:/rmctl/db``).  Only these two say where a task's CPUs are
    confined: a memory or blkio hierarchy's path says nothing about them.
    """
    v1 = v2 = None
    for line in (text or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            v2 = path
        elif "cpuset" in controllers.split(","):
            v1 = path
    return v1, v2


def stat_fields(text: str) -> tuple[str, list[str]] | None:
    """Split a ``/proc/PID/stat`` line into (comm, the fields after it): field N is ``[N - 3]``.

    The command (field 2) is in parentheses and may itself hold spaces and parentheses, so the
    fields are counted after the last ``)`` (proc(5)).  None when the line has no ``(...)``.
    """
    start, end = text.find("("), text.rfind(")")
    if start < 0 or end < start:
        return None
    return text[start + 1:end], text[end + 1:].split()
