"""Rich tables and trees for people.  Imported only on the table path.

The summary follows ``lscpu`` (label: value lines, then one small table per
kind of thing); the tree follows ``lstopo`` (package -> NUMA node -> L3 ->
core -> CPU).  Colour and bold come from rich markup; the Console decides
whether to emit them (only on a terminal, never with NO_COLOR/--no-color,
see rmctl.cli.output.console).
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from rmctl.cpuset import CpuSet
from rmctl.model.node import NodeModel
from rmctl.units import format_size

_CACHE_SUFFIX = {"data": "d", "instruction": "i", "unified": ""}


def human_size(nbytes: int | None) -> str:
    """Return ``48 KiB``, ``23.5 GiB``, ``512 B`` or ``-`` (None)."""
    if nbytes is None:
        return "-"
    s = format_size(nbytes).replace(".0", "")  # "8.0Gi" reads as a different size than "8Gi"
    if s.endswith("B"):
        return s[:-1] + " B"
    return f"{s[:-2]} {s[-2:]}B"


def _cpus(cpus: CpuSet) -> str:
    return cpus.to_list() or "-"


def _section(title: str, *columns: tuple[str, str]) -> Table:
    t = Table(title=f"[bold]{title}[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
              pad_edge=False, show_edge=False, header_style="bold")
    for name, justify in columns:
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    return t


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
            f"{sum(1 for k in cores if k.core_type == ty)} {ty}" for ty in types)))
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


def print_topology(con, node: NodeModel, *, verbose: int = 0) -> None:
    """Print an lscpu-like summary of the node: lines, then NUMA, caches, pools, mounts."""
    t = node.topology
    rows = summary_rows(node)
    width = max(len(label) for label, _ in rows) + 1
    for label, value in rows:
        # Plain lines, not a table: a table pads every line with trailing blanks.
        line = Text(f"{label + ':':<{width}} ", style="bold")
        line.append(value, style="")
        con.print(line, soft_wrap=True)
    if t.nodes:
        n = _section("NUMA nodes", ("node", "right"), ("CPUs", "left"), ("memory", "right"),
                     ("free", "right"), ("distances", "left"))
        for nd in t.nodes.values():
            n.add_row(f"[cyan]{nd.id}[/cyan]", _cpus(nd.cpus), human_size(nd.memory_total),
                      human_size(nd.memory_free), " ".join(str(v) for v in nd.distances.values()) or "-")
        con.print()
        con.print(n)
    caches = t.summary_caches()
    if caches:
        c = _section("Caches", ("cache", "left"), ("size", "right"), ("instances", "right"),
                     ("total", "right"), ("CPUs per instance", "right"))
        for row in caches:
            inst = [k for k in t.caches if k.cpus and (k.level, k.type, k.size_bytes)
                    == (row["level"], row["type"], row["size_bytes"])]
            widths = sorted({len(k.cpus) for k in inst})
            total = row["size_bytes"] * row["instances"] if row["size_bytes"] is not None else None
            c.add_row(f"L{row['level']}{_CACHE_SUFFIX.get(row['type'], ' ' + row['type'])}",
                      human_size(row["size_bytes"]), str(row["instances"]), human_size(total),
                      "/".join(str(w) for w in widths))
        con.print()
        con.print(c)
    if node.hugepages:
        h = _section("Hugepage pools", ("page size", "right"), ("total", "right"), ("free", "right"),
                     ("reserved", "right"), ("surplus", "right"), ("per node (total/free)", "left"))
        for p in node.hugepages:
            per_node = []
            for nd in t.nodes.values():
                for q in nd.hugepages:
                    if q.page_size == p.page_size:
                        per_node.append(f"{nd.id}: {q.total}/{q.free}")
            h.add_row(human_size(p.page_size), str(p.total), str(p.free),
                      "-" if p.reserved is None else str(p.reserved), str(p.surplus),
                      "  ".join(per_node) or "-")
        con.print()
        con.print(h)
    if node.mounts:
        m = _section("hugetlbfs mounts", ("path", "left"), ("page size", "right"), ("options", "left"))
        for mt in node.mounts:
            m.add_row(mt.path, human_size(mt.page_size),
                      ",".join(f"{k}={v}" if v else k for k, v in mt.options.items()))
        con.print()
        con.print(m)
    print_findings(con, node, verbose=verbose)


def print_findings(con, node: NodeModel, *, verbose: int = 0) -> None:
    """Print the findings with -v, otherwise a one-line count (nothing when none)."""
    if not node.findings:
        return
    con.print()
    if not verbose:
        con.print(f"[dim]{len(node.findings)} finding(s) while reading; -v shows them[/dim]")
        return
    f = _section("Findings", ("severity", "left"), ("code", "left"), ("message", "left"))
    for fd in node.findings:
        style = "yellow" if fd.severity == "warning" else "dim"
        msg = fd.message + (f" [dim]({fd.path})[/dim]" if fd.path and verbose > 1 else "")
        f.add_row(f"[{style}]{fd.severity}[/{style}]", fd.code, msg)
    con.print(f)


def _last_level_caches(node: NodeModel):
    """Return the highest-level unified (or data) cache instances: the tree's L3 level."""
    caches = [c for c in node.topology.caches if c.cpus and c.type in ("unified", "data")]
    top = max((c.level for c in caches), default=0)
    # L1/L2 are per core on most machines: a tree level for them only repeats the cores.
    if top < 3:
        return []
    return [c for c in caches if c.level == top]


def _add_devices(root: Tree, numa_branch: dict, node: NodeModel) -> None:
    """Hang PCI devices (bridges left out) under their NUMA node, or under the machine when unknown."""
    from rich.markup import escape  # pci.ids names hold brackets: "GH100 [H200 SXM 141GB]"

    for d in node.devices:
        if d.kind == "bridge":
            continue
        parent = numa_branch.get(d.numa_node, root)
        parent.add(f"[blue]PCI {d.address}[/blue] {d.kind}: {escape(d.name)}"
                   + (f" [dim]({escape(d.driver)})[/dim]" if d.driver else ""))


def topology_tree(node: NodeModel, *, verbose: int = 0) -> Tree:
    """Return package -> NUMA node -> L3 -> core -> CPU as a rich Tree (lstopo's picture)."""
    t = node.topology
    online = t.online_cpus()
    total = node.memory.total
    if total is None and any(nd.memory_total for nd in t.nodes.values()):
        total = sum(nd.memory_total or 0 for nd in t.nodes.values())
    label = Text.assemble(("Machine", "bold"), f" ({len(online)} CPUs, {human_size(total)})")
    root = Tree(label)
    llc = _last_level_caches(node)
    placed = CpuSet()
    numa_branch: dict = {}  # NUMA node id -> its branch, where its devices go
    for pk in sorted(t.packages.values(), key=lambda p: (p.package_id is None, p.package_id or 0, p.key)):
        if not pk.cpus:
            continue
        pid = pk.package_id if pk.package_id is not None else f"key {pk.key}"
        pnode = root.add(f"[bold]Package {pid}[/bold]  CPUs {_cpus(pk.cpus)}")
        node_ids = sorted({t.cpus[c].node for c in pk.cpus if t.cpus[c].node is not None})
        groups = [(nid, t.nodes[nid].cpus & pk.cpus if nid in t.nodes else CpuSet()) for nid in node_ids]
        rest = pk.cpus - CpuSet(c for _, g in groups for c in g)
        if rest:
            groups.append((None, rest))
        for nid, cpus in groups:
            parent = pnode
            if nid is not None:
                nd = t.nodes.get(nid)
                mem = human_size(nd.memory_total) if nd else "-"
                parent = pnode.add(f"[cyan]NUMA node {nid}[/cyan]  {mem}")
                numa_branch.setdefault(nid, parent)
            elif node_ids:
                parent = pnode.add("[yellow]no NUMA node[/yellow]")
            caches = [c for c in llc if c.cpus & cpus]
            covered = CpuSet(x for c in caches for x in c.cpus & cpus)
            buckets = [(c, cpus & c.cpus) for c in caches]
            if cpus - covered:
                buckets.append((None, cpus - covered))
            for cache, ccpus in buckets:
                cparent = parent
                if cache is not None:
                    cparent = parent.add(f"[magenta]L{cache.level} {human_size(cache.size_bytes)}[/magenta]"
                                         f"  CPUs {_cpus(cache.cpus)}")
                for core in t.cores.values():
                    threads = core.cpus & ccpus
                    if not threads:
                        continue
                    extra = []
                    if core.core_type:
                        extra.append(core.core_type)
                    if verbose and core.core_id is not None:
                        extra.append(f"core_id {core.core_id}")
                    tail = f" [dim]({', '.join(extra)})[/dim]" if extra else ""
                    cparent.add(f"Core {core.key}{tail}: "
                                + ", ".join(f"[green]CPU {c}[/green]" for c in threads))
                    placed = placed | threads
    loose = online - placed
    if loose:
        root.add(f"[yellow]CPUs in no package[/yellow]: {_cpus(loose)}")
    for nd in t.nodes.values():
        if not nd.cpus:
            numa_branch[nd.id] = root.add(f"[cyan]NUMA node {nd.id}[/cyan]  {human_size(nd.memory_total)} (no CPUs)")
    _add_devices(root, numa_branch, node)
    offline = t.offline_cpus()
    if offline:
        root.add(f"[dim]offline CPUs: {_cpus(offline)}[/dim]")
    return root
