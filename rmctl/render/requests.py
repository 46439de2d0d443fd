"""Tables for classes and request evaluations (rich; imported on the table path only)."""

from __future__ import annotations

from rmctl.units import format_size


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
    head = f"request {_e(ev.request)} on {_e(ev.node)}: {_verdict(ev.fits)} (topologyPolicy {ev.policy})"
    out.append(head)
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
            lines.append(f"  hugepages {format_size(size)}: " + ", ".join(f"node {n} {p} pages" for n, p in sorted(per.items())))
        out.append("\n".join(lines))
    else:
        out.append("\n".join(f"  why: {_e(r)}" for r in ev.reasons) or "  why: -")
    t = _table()
    for col in ("RESOURCE", "WANTED", "FITS", "NUMA HINTS", "WHY"):
        t.add_column(col)
    for r in ev.resources:
        if r.hints is None:
            hints = "any"
        elif not r.hints:
            hints = "none"
        else:
            hints = " ".join(("*" if h.preferred else "") + "{" + ",".join(map(str, h.nodes())) + "}" for h in r.hints)
        t.add_row(_e(r.resource), _e(r.wanted), "yes" if r.fits else "[red]no[/red]", hints, _e(r.reason))
    out.append(t)
    if ev.admission is not None:
        a = ev.admission
        nodes = "any" if a.hint.mask is None else "{" + ",".join(map(str, a.hint.nodes())) + "}"
        out.append(f"topology manager ({a.policy}): merged {nodes}, "
                   f"{'preferred' if a.hint.preferred else 'not preferred'}, {'admitted' if a.admit else 'rejected'}"
                   "   (* = preferred hint)")
    if explain:
        for key, matches in ev.matches.items():
            st = _table(f"device request {key}: selectors per device")
            for col in ("DEVICE", "MATCH", "SELECTOR", "RESULT"):
                st.add_column(col, overflow="fold")
            for m in matches:
                first = True
                for s in m.selectors:
                    res = "error: " + _e(s.error) if s.error else ("true" if s.value else "[red]false[/red]")
                    st.add_row(m.address if first else "",
                               ("yes" if m.matches else "no") + (f" (reserved by {m.reserved_by})" if m.reserved_by else "")
                               if first else "", _e(f"{s.source}: {s.cel}"), res)
                    first = False
                if not m.selectors:
                    st.add_row(m.address, "yes", "-", "-")
            if not matches:
                st.add_row("(no devices on this node)", "", "", "")
            out.append(st)
        for key, matches in ev.matches.items():
            for m in matches:
                for s in m.selectors:
                    if not s.value:
                        why = f"error: {s.error}" if s.error else "false"
                        out.append(_e(f"{key}: {m.address}: {s.source}: {why}: {s.cel}"))
        for h in ev.hints_for_typos:
            out.append(_e(f"hint: {h}"))
    return out


def evaluations_table(evs: list):
    """Return the capacity-planning table: one row per node."""
    t = _table()
    for col in ("NODE", "FITS", "NUMA", "CPUS", "DEVICES", "WHY NOT"):
        t.add_column(col)
    for ev in evs:
        t.add_row(ev.node, "yes" if ev.fits else "[red]no[/red]",
                  ",".join(map(str, ev.numa_nodes)) or "-", ev.cpus.to_list() or "-",
                  ", ".join(ev.device_addresses) or "-", _e("; ".join(ev.reasons)) if not ev.fits else "")
    return t
