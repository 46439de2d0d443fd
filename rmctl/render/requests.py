"""Tables for classes and request evaluations (rich; imported on the table path only)."""

from __future__ import annotations

from rmctl.model.pci import RMCTL_DRIVER
from rmctl.units import counted, format_size


def _e(text) -> str:
    """Escape user text (CEL has [ ] that rich would read as markup)."""
    from rich.markup import escape

    return escape(str(text))


def _table(title: str | None = None):
    from rich.table import Table

    return Table(title=title, show_header=True, header_style="bold", box=None, pad_edge=False)


def class_table(classes: list):
    """Return a table of classes: name, source, selectors."""
    t = _table()
    for col in ("NAME", "SOURCE", "SELECTORS", "DESCRIPTION"):
        t.add_column(col, overflow="fold")
    for c in classes:
        t.add_row(_e(c.name), _e(c.source), "\n".join(_e(s.cel) for s in c.selectors) or "-", _e(c.description or ""))
    return t


def class_detail(c) -> list:
    """Return renderables describing one class."""
    lines = [f"name:    {c.name}", f"source:  {c.source}"]
    if c.description:
        lines.append(f"about:   {c.description}")
    lines.append("selectors:")
    for s in c.selectors:
        lines.append(f"  - {s.cel}    ({s.where})")
    if c.config is not None:
        lines.append(f"config:  {c.config}")
    return ["\n".join(lines)]


def _verdict(fits: bool) -> str:
    return "[green]fits[/green]" if fits else "[red]does not fit[/red]"


def evaluation_renderables(ev, *, explain: bool = False) -> list:
    """Return what to print for one evaluation: verdict, placement, per-resource table."""
    out: list = []
    out.append(f"request {_e(ev.request)}: {_verdict(ev.fits)} (topologyPolicy {ev.policy})\n  node:       {_e(ev.node)}")
    if ev.fits:
        lines = [f"  NUMA nodes: {','.join(map(str, ev.numa_nodes)) or '-'}"]
        if len(ev.cpus):
            lines.append(f"  CPUs:       {ev.cpus.to_list()}")
        for name, addrs in ev.devices.items():
            alt = f" ({ev.choices[name]})" if name in ev.choices and ev.choices[name] != name else ""
            lines.append(f"  device {name}{alt}: {', '.join(addrs)}")
        if ev.memory:
            lines.append("  memory:     " + ", ".join(f"node {n} {format_size(b)}" for n, b in sorted(ev.memory.items())))
        for size, per in sorted(ev.hugepages.items()):
            lines.append(f"  hugepages {format_size(size)}: " + ", ".join(f"node {n} {counted(p, 'page')}" for n, p in sorted(per.items())))
        out.append("\n".join(lines))
    else:
        out.append("\n".join(f"  why: {_e(r)}" for r in ev.reasons) or "  why: -")
    if ev.resources:
        t = _table()
        for col in ("RESOURCE", "WANTED", "FITS", "NUMA HINTS", "WHY"):
            t.add_column(col)
        told = set(ev.reasons)
        for r in ev.resources:
            # a reason already printed in full as a "why:" line is not repeated in the narrow column
            why = "see why above" if (r.reason in told or f"{r.resource}: {r.reason}" in told) else _e(r.reason)
            t.add_row(_e(r.resource), _e(r.wanted), "yes" if r.fits else "[red]no[/red]", hint_text(r.hints), why)
        out.append(t)
    if ev.admission is not None:
        a = ev.admission
        nodes = "any" if a.hint.mask is None else "{" + ",".join(map(str, a.hint.nodes())) + "}"
        out.append(f"topology manager ({a.policy}): merged {nodes}, "
                   f"{'preferred' if a.hint.preferred else 'not preferred'}, {'admitted' if a.admit else 'rejected'}"
                   " (*: preferred hint)")
    for n in getattr(ev, "notes", []):
        out.append(_e(f"note: {n}"))
    if explain:
        for key, matches in ev.matches.items():
            out.extend(selector_renderables(key, matches, getattr(ev, "no_match", {}).get(key)))
        for h in ev.hints_for_typos:
            out.append(_e(f"hint: {h}"))
    return out


def hint_text(hints, limit: int = 4) -> str:
    """Return NUMA hints as "*{0} *{1} {0,1}": preferred ones first, at most ``limit``, then "+N more"."""
    if hints is None:
        return "any"
    if not hints:
        return "none"
    ordered = [h for h in hints if h.preferred] + [h for h in hints if not h.preferred]
    text = " ".join(("*" if h.preferred else "") + "{" + ",".join(map(str, h.nodes())) + "}" for h in ordered[:limit])
    return text + (f" +{len(ordered) - limit} more" if len(ordered) > limit else "")


def selector_renderables(key: str, matches: list, why: str | None = None) -> list:
    """Return the explain view of one device request: selectors S1..Sn, one row per device, errors grouped.

    One column per selector keeps the table within 80 columns whatever the
    length of the CEL text, which is printed once above the table.
    """
    out: list = []
    n_match = sum(1 for m in matches if m.matches)
    out.append(f"device request {_e(key)}: {n_match} of {counted(len(matches), 'device')} match")
    if not matches:
        out.append("  (no PCI devices on this node)")
        return out
    sels = matches[0].selectors
    out.append("\n".join(f"  S{i + 1}  {_e(s.source)}: {_e(s.cel)}" for i, s in enumerate(sels)) or "  (no selectors)")
    t = _table()
    t.add_column("DEVICE", no_wrap=True)
    t.add_column("MATCH", no_wrap=True)
    for i in range(len(sels)):
        t.add_column(f"S{i + 1}", no_wrap=True)
    for m in matches:
        cells = []
        for s in m.selectors:
            cells.append("-" if not getattr(s, "evaluated", True) else
                         "[yellow]error[/yellow]" if s.error else ("true" if s.value else "[red]false[/red]"))
        match = ("yes" if m.matches else "no") + (f" (reserved by {_e(m.reserved_by)})" if m.reserved_by else "")
        t.add_row(_device_label(m), match, *cells)
    out.append(t)
    errors: dict[tuple[int, str], list[str]] = {}
    for m in matches:
        for i, s in enumerate(m.selectors):
            if s.error:
                errors.setdefault((i, s.error), []).append(_device_label(m))
    for (i, e), addrs in errors.items():
        who = ", ".join(addrs) if len(addrs) <= 2 else f"{len(addrs)} devices"
        out.append(_e(f"  S{i + 1} error on {who}: {e}"))
    if why:
        out.append(_e(f"  no match: {why}"))
    return out


def _device_label(m) -> str:
    """Return the DEVICE cell: the PCI address; another driver's view adds its name (``0000:00:06.0 gpu-0``)."""
    driver = getattr(m, "driver", RMCTL_DRIVER)
    return m.address if driver == RMCTL_DRIVER or not getattr(m, "device", "") else f"{m.address} {m.device}"


def node_label(path: str, others: list[str]) -> str:
    """Return a short name for a --root: its file name without the archive suffix, when that is unique."""
    import os

    def short(p):
        base = os.path.basename(str(p).rstrip("/")) or str(p)
        for suffix in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"):
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    mine = short(path)
    return mine if sum(1 for o in others if short(o) == mine) <= 1 else str(path)


def evaluations_table(evs: list):
    """Return the capacity-planning table: one row per node (short node names; reasons printed below it)."""
    t = _table()
    for col in ("NODE", "FITS", "NUMA", "CPUS", "DEVICES"):
        t.add_column(col, overflow="fold")
    roots = [ev.node for ev in evs]
    for ev in evs:
        t.add_row(_e(node_label(ev.node, roots)), "yes" if ev.fits else "[red]no[/red]",
                  ",".join(map(str, ev.numa_nodes)) or "-", ev.cpus.to_list() or "-",
                  ", ".join(ev.device_addresses) or "-")
    return t


def evaluations_renderables(evs: list) -> list:
    """Return the table across nodes, then why each node that does not fit does not (full width)."""
    roots = [ev.node for ev in evs]
    out: list = [evaluations_table(evs)]
    for ev in evs:
        if not ev.fits:
            out.append(_e(f"why not on {node_label(ev.node, roots)}:"))
            out.append("\n".join(_e(f"  - {r}") for r in ev.reasons) or "  - ?")
    return out


def reservations_table(views: list[dict], now: float):
    """Return the table of `request list` (or a line when there is none): one row per request reservation."""
    from rich.table import Table

    from rmctl.cpuset import CpuSet
    from rmctl.render.cpu import age

    if not views:
        return "no request reservations (rmctl request evaluate FILE --reserve NAME makes one)"
    t = Table(title=f"request reservations ({len(views)})", title_justify="left")
    for col in ("name", "request", "cpus", "numa", "devices", "hugepages", "memory", "age"):
        t.add_column(col)
    for v in views:
        pages = "; ".join(f"{format_size(int(size))}: " + ", ".join(f"node {n} {counted(p, 'page')}"
                                                                     for n, p in sorted(per.items()))
                          for size, per in sorted(v.get("hugepages", {}).items(), key=lambda kv: int(kv[0])))
        memory = ", ".join(f"node {n} {format_size(b)}" for n, b in sorted((v.get("memory") or {}).items()))
        request = (v.get("request") or {}).get("name") or "-"
        t.add_row(v["name"], _e(request), CpuSet.parse(v["cpus"] or "").to_list() or "-",
                  ",".join(map(str, v.get("nodes") or [])) or "-", "\n".join(v.get("devices") or []) or "-",
                  pages or "-", memory or "-",
                  age(max(0, int(now - float(v.get("created_unix") or now)))))
    return t
