"""Pure text parsers for /proc and /sys files; unit tests feed them strings."""

from __future__ import annotations

import re

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError


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


def parse_cache_size(text: str) -> int | None:
    """Parse a cache ``size`` attribute (``32K``, ``5118K``, ``1M``) into bytes."""
    t = text.strip()
    m = re.fullmatch(r"(\d+)\s*([KMG]?)i?B?", t, re.I)
    if not m:
        return None
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
    return int(m.group(1)) * mult


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
    parts = [p for p in value.split(",") if p and not re.fullmatch(r"[a-z_]+", p)]
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
