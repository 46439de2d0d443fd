"""Rich tables and trees for people.  Imported only on the table path."""

from __future__ import annotations

from rich.table import Table
from rich.tree import Tree

from rmctl.model.node import NodeModel
from rmctl.units import format_size


def print_topology(con, node: NodeModel, *, verbose: int = 0) -> None:
    """Print an lscpu-like summary of the node."""
    t = node.topology
    online, offline = t.online_cpus(), t.offline_cpus()
    s = Table(show_header=False, box=None, pad_edge=False)
    s.add_column(style="bold")
    s.add_column()
    src = node.source
    s.add_row("Source", f"{src.root} ({src.kind})" + (f", kernel {src.kernel}" if src.kernel else "")
              + (f", {src.arch}" if src.arch else ""))
    s.add_row("CPUs online", f"{len(online)}  ({online.to_list() or '-'})")
    if offline:
        s.add_row("CPUs offline", offline.to_list())
    s.add_row("Packages", str(len(t.packages)))
    s.add_row("Cores", str(len(t.cores)))
    s.add_row("Threads per core", str(t.threads_per_core_max()))
    iso = t.isolated_cpus()
    if iso:
        s.add_row("Isolated CPUs", iso.to_list())
    allowed = t.allowed_cpus()
    if allowed != online:
        s.add_row("Allowed CPUs", allowed.to_list())
    if node.memory.total:
        s.add_row("Memory", format_size(node.memory.total))
    con.print(s)
    if t.nodes:
        n = Table(title="NUMA nodes", title_justify="left")
        n.add_column("node", justify="right")
        n.add_column("CPUs")
        n.add_column("memory", justify="right")
        n.add_column("free", justify="right")
        n.add_column("distances")
        for nd in t.nodes.values():
            n.add_row(str(nd.id), nd.cpus.to_list() or "-", format_size(nd.memory_total),
                      format_size(nd.memory_free), " ".join(str(v) for v in nd.distances.values()))
        con.print(n)
    caches = t.summary_caches()
    if caches:
        c = Table(title="Caches", title_justify="left")
        c.add_column("level")
        c.add_column("type")
        c.add_column("size", justify="right")
        c.add_column("instances", justify="right")
        for row in caches:
            c.add_row(f"L{row['level']}", row["type"], format_size(row["size_bytes"]), str(row["instances"]))
        con.print(c)
    if node.hugepages:
        h = Table(title="Hugepage pools", title_justify="left")
        for col in ("page size", "total", "free", "reserved", "surplus"):
            h.add_column(col, justify="right")
        for p in node.hugepages:
            h.add_row(format_size(p.page_size), str(p.total), str(p.free), str(p.reserved or 0), str(p.surplus))
        con.print(h)
    if node.findings and verbose:
        f = Table(title="Findings", title_justify="left")
        f.add_column("code")
        f.add_column("message")
        for fd in node.findings:
            f.add_row(fd.code, fd.message)
        con.print(f)
    elif node.findings:
        con.print(f"[dim]{len(node.findings)} finding(s); -v shows them[/dim]")


def topology_tree(node: NodeModel) -> Tree:
    """Return package -> NUMA node -> L3 -> core -> CPU as a rich Tree."""
    t = node.topology
    root = Tree(f"[bold]Machine[/bold] ({len(t.online_cpus())} CPUs, {format_size(node.memory.total)})")
    l3 = [c for c in t.caches if c.level == max((x.level for x in t.caches), default=0)]
    for pk in t.packages.values():
        pnode = root.add(f"[bold]Package[/bold] {pk.package_id if pk.package_id is not None else pk.key} "
                         f"(CPUs {pk.cpus.to_list()})")
        node_ids = sorted({t.cpus[c].node for c in pk.cpus if t.cpus[c].node is not None})
        groups = [(nid, t.nodes[nid].cpus & pk.cpus) for nid in node_ids] or [(None, pk.cpus)]
        for nid, cpus in groups:
            parent = pnode
            if nid is not None:
                nd = t.nodes[nid]
                parent = pnode.add(f"[cyan]NUMA node {nid}[/cyan] ({format_size(nd.memory_total)})")
            caches = [c for c in l3 if c.cpus & cpus] or [None]
            for cache in caches:
                cparent = parent
                ccpus = cpus if cache is None else cpus & cache.cpus
                if cache is not None:
                    cparent = parent.add(f"L{cache.level} {format_size(cache.size_bytes)} (CPUs {cache.cpus.to_list()})")
                for core in t.cores.values():
                    if core.cpus & ccpus:
                        label = f"Core {core.key}" + (f" [{core.core_type}]" if core.core_type else "")
                        cparent.add(f"{label}: CPU {core.cpus.to_list()}")
    for nd in t.nodes.values():
        if not nd.cpus:
            root.add(f"[cyan]NUMA node {nd.id}[/cyan] (no CPUs, {format_size(nd.memory_total)})")
    return root
