"""The topology summary as data, and as plain text: no rich, no re.

``rmctl topology`` on a pipe is text without colour; rich's import (with the
dataclasses, inspect and fractions it pulls in) was ~40 ms of the table's
~80 ms, 4.4x lstopo-no-graphics (issue 14's budget: 4x).  ``plain_topology``
writes the bytes rich would write for these tables (box.SIMPLE_HEAD, no
edge, no edge padding: cells joined by three blanks, a rule of U+2500 under
the header) and returns None wherever it could differ (a cell rich would
read as markup, non-ASCII text, a table or note wider than the console),
so the caller prints with rich there; tests/render/test_plain_summary.py
compares the two on every fixture.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.model.node import NodeModel
from rmctl.units import counted, format_size

_CACHE_SUFFIX = {"data": "d", "instruction": "i", "unified": ""}

#: Up to this many NUMA nodes the table shows each node's whole distance row;
#: beyond it a row wraps over several lines (64 values on the ia64 fixture),
#: so the table shows local, nearest and farthest (-o json has the matrix).
DISTANCE_ROW_MAX = 8




def _drop_point_zero(s: str) -> str:
    """Drop a ``.0``/``.00`` right before the unit or the end (``8.0Gi`` -> ``8Gi``; ``1.05Mi`` stays)."""
    i = s.find(".")
    if i < 0:
        return s
    j = i + 1
    while j < len(s) and s[j] == "0":
        j += 1
    if j > i + 1 and (j == len(s) or s[j].isalpha()):
        return s[:i] + s[j:]
    return s


def human_size(nbytes: int | None) -> str:
    """Return ``48 KiB``, ``23.5 GiB``, ``512 B`` or ``-`` (None)."""
    if nbytes is None:
        return "-"
    # "8.0Gi" reads as a different size than "8Gi"; only a ".0" right before the unit goes
    # (a plain replace turned "1.05Mi" into "15Mi").
    s = _drop_point_zero(format_size(nbytes))
    if s.endswith("B"):
        return s[:-1] + " B"
    return f"{s[:-2]} {s[-2:]}B"


def _cpus(cpus: CpuSet) -> str:
    return cpus.to_list() or "-"


def summary_rows(node: NodeModel) -> list[tuple[str, str]]:
    """Return the lscpu-like (label, value) lines of the summary."""
    t = node.topology
    online, offline = t.online_cpus(), t.offline_cpus()
    src = node.source
    where = {"live": "this machine", "tarball": "snapshot", "directory": "directory"}.get(src.kind, src.kind)
    rows = [("Source", f"{src.root} ({where})" + (f", Linux {src.kernel}" if src.kernel else "")
             + (f", {src.arch}" if src.arch else "")
             + (f", captured {src.captured_at}" if src.captured_at else ""))]
    rows.append(("CPUs online", f"{len(online)} ({_cpus(online)})"))
    if offline:
        rows.append(("CPUs offline", f"{len(offline)} ({_cpus(offline)})"))
    packages = [p for p in t.packages.values() if p.cpus]
    cores = [k for k in t.cores.values() if k.cpus]
    rows.append(("Packages", str(len(packages))))
    per = f" ({len(cores) // len(packages)} per package)" if packages and len(cores) % len(packages) == 0 else ""
    rows.append(("Cores", f"{len(cores)}{per}"))
    rows.append(("Threads per core", str(t.threads_per_core_max())))
    types = sorted({k.core_type for k in cores if k.core_type})
    if types:
        rows.append(("Core types", ", ".join(
            f"{sum(1 for k in cores if k.core_type == ty)} {ty}" + _capacity_note(t, ty)
            for ty in types)))
    rows.append(("NUMA nodes", str(len(t.nodes)) if t.nodes else "none listed"))
    iso = t.isolated_cpus()
    rows.append(("Isolated CPUs", _cpus(iso)))
    nohz = CpuSet(c.id for c in t.cpus.values() if c.nohz_full)
    if nohz:
        rows.append(("nohz_full CPUs", _cpus(nohz)))
    allowed = t.allowed_cpus()
    if allowed != online:
        rows.append(("Allowed CPUs", f"{_cpus(allowed)} (this process's cpuset)"))
    mem = node.memory
    if mem.total is not None:
        free = f", {human_size(mem.available)} available" if mem.available is not None else ""
        rows.append(("Memory", f"{human_size(mem.total)}{free}"))
    return rows


def _capacity_note(t, core_type: str) -> str:
    """Return `` (capacity 280)`` for a core type whose CPUs have a kernel cpu_capacity, else ''."""
    caps = sorted({c.capacity for c in t.cpus.values()
                   if c.online and c.core_type == core_type and c.capacity is not None})
    if not caps:
        return ""
    return f" (capacity {'/'.join(str(v) for v in caps)})"


def distances_text(nd, nodes) -> str:
    """Return a node's distance row, or for many nodes ``10 local, 22 to 1-3, up to 34``."""
    d = nd.distances
    if not d:
        return "-"
    if len(d) <= DISTANCE_ROW_MAX:
        return " ".join(str(v) for v in d.values())
    remote = {k: v for k, v in d.items() if k != nd.id}
    parts = [f"{d[nd.id]} local"] if nd.id in d else []
    if remote:
        near = min(remote.values())
        parts.append(f"{near} to {CpuSet(k for k, v in remote.items() if v == near).to_list()}")
        far = max(remote.values())
        if far != near:
            parts.append(f"up to {far}")
    return ", ".join(parts)


def topology_sections(node: NodeModel, *, verbose: int = 0) -> list[tuple]:
    """Return the summary as data, for rich (print_topology) and for plain text (plain_topology):
    ("lines", [(label, value)]), ("blank",), ("table", title, [(column, justify)], rows) with
    the first cell of a NUMA row its node id, ("note", text) (dim), ("findings",) (-v: a table)."""
    t = node.topology
    out: list[tuple] = [("lines", summary_rows(node))]
    rows: list[tuple[str, ...]]
    if t.nodes:
        rows = [(str(nd.id), _cpus(nd.cpus), human_size(nd.memory_total), human_size(nd.memory_free),
                 distances_text(nd, t.nodes)) for nd in t.nodes.values()]
        out += [("blank",), ("table", "NUMA nodes", (("node", "right"), ("CPUs", "left"), ("memory", "right"),
                                                      ("free", "right"), ("distances", "left")), rows)]
        if len(t.nodes) > DISTANCE_ROW_MAX:
            out.append(("note", "distances: local, nearest nodes and farthest; -o json has the full matrix"))
    caches = t.summary_caches()
    if caches:
        rows = []
        for row in caches:
            inst = [k for k in t.caches if k.cpus and k.cpus_known and (k.level, k.type, k.size_bytes)
                    == (row["level"], row["type"], row["size_bytes"])]
            widths = sorted({len(k.cpus) for k in inst})
            # instances is None where sharing is unknown (s390 L3/L4 from proc/cpuinfo)
            known = row["size_bytes"] is not None and row["instances"] is not None
            total = row["size_bytes"] * row["instances"] if known else None
            rows.append((f"L{row['level']}{_CACHE_SUFFIX.get(row['type'], ' ' + row['type'])}",
                         human_size(row["size_bytes"]),
                         "?" if row["instances"] is None else str(row["instances"]), human_size(total),
                         "/".join(str(w) for w in widths) or "?"))
        out += [("blank",), ("table", "Caches", (("cache", "left"), ("size", "right"), ("instances", "right"),
                                                  ("total", "right"), ("CPUs per instance", "right")), rows)]
        if any(row["instances"] is None for row in caches):
            out.append(("note", "?: which CPUs share it is not in sysfs (known from proc/cpuinfo only)"))
    if node.hugepages:
        rows = []
        for p in node.hugepages:
            per_node = []
            for nd in t.nodes.values():
                for q in nd.hugepages:
                    if q.page_size == p.page_size:
                        per_node.append(f"{nd.id}: {q.total}/{q.free}")
            rows.append((human_size(p.page_size), str(p.total), str(p.free),
                         "-" if p.reserved is None else str(p.reserved), str(p.surplus),
                         "  ".join(per_node) or "-"))
        out += [("blank",), ("table", "Hugepage pools", (("page size", "right"), ("total", "right"),
                                                          ("free", "right"), ("reserved", "right"),
                                                          ("surplus", "right"),
                                                          ("per node (total/free)", "left")), rows)]
    if node.mounts:
        rows = [(mt.path, human_size(mt.page_size), ",".join(f"{k}={v}" if v else k for k, v in mt.options.items()))
                for mt in node.mounts]
        out += [("blank",), ("table", "hugetlbfs mounts", (("path", "left"), ("page size", "right"),
                                                            ("options", "left")), rows)]
    if node.findings:
        out.append(("blank",))
        if verbose:
            out.append(("findings",))
        else:
            out.append(("note", f"{counted(len(node.findings), 'finding')} while reading; -v shows them"))
    return out



def _plain_table(title: str, columns, rows, width: int) -> list[str] | None:
    cells = [[name for name, _ in columns]] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    total = sum(widths) + 3 * (len(widths) - 1)
    if total > width or len(title) > total:
        return None
    out = [title.ljust(total)]
    for n, r in enumerate(cells):
        out.append("   ".join(c.rjust(w) if j == "right" else c.ljust(w)
                               for c, w, (_, j) in zip(r, widths, columns, strict=True)))
        if n == 0:
            out.append("\u2500" * total)
    return out


def _markup_free(s: str) -> bool:
    """True where rich writes ``s`` in a cell or note as it is: printable ASCII, no markup bracket."""
    return s.isascii() and s.isprintable() and "[" not in s


def plain_topology(node: NodeModel, *, verbose: int = 0, width: int = 80) -> str | None:
    """Return the summary as rich prints it without colour on a ``width``-column console, or None
    where the two could differ (the caller then prints with rich).

    A control character (a snapshot's root path, kernel or mount option can hold one) is one: rich
    drops BEL, BS, CR... where plain text would write them to the terminal.
    """
    lines: list[str] = []
    for section in topology_sections(node, verbose=verbose):
        kind = section[0]
        if kind == "lines":
            rows = section[1]
            if not all(label.isprintable() and value.isprintable() for label, value in rows):
                return None
            pad = max(len(label) for label, _ in rows) + 1
            lines += [f"{label + ':':<{pad}} {value}" for label, value in rows]
        elif kind == "blank":
            lines.append("")
        elif kind == "table":
            _, title, columns, rows = section
            if not all(_markup_free(c) for r in rows for c in r):
                return None
            table = _plain_table(title, columns, rows, width)
            if table is None:
                return None
            lines += table
        elif kind == "note":
            if len(section[1]) > width or not _markup_free(section[1]):
                return None
            lines.append(section[1])
        else:
            return None  # -v: the findings table
    return "\n".join(lines) + "\n"
