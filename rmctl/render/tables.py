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
from rmctl.render.summary import (  # noqa: F401  (human_size: render.kubelet's)
    _cpus,
    human_size,
    summary_rows,
    topology_sections,
)
from rmctl.units import counted

#: Above this many cores the tree shows each run of like cores as one line
#: (``6 cores, 2 threads each: CPUs 0-5,48-53``) unless -v: per-core lines on
#: the 256-CPU ia64 fixture made a 513-line tree.
TREE_CORES_MAX = 32
def _section(title: str, *columns: tuple[str, str]) -> Table:
    t = Table(title=f"[bold]{title}[/bold]", title_justify="left", box=box.SIMPLE_HEAD,
              pad_edge=False, show_edge=False, header_style="bold")
    for name, justify in columns:
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    return t


def print_topology(con, node: NodeModel, *, verbose: int = 0) -> None:
    """Print an lscpu-like summary of the node: lines, then NUMA, caches, pools, mounts."""
    for section in topology_sections(node, verbose=verbose):
        kind = section[0]
        if kind == "lines":
            rows = section[1]
            width = max(len(label) for label, _ in rows) + 1
            for label, value in rows:
                # Plain lines, not a table: a table pads every line with trailing blanks.
                line = Text(f"{label + ':':<{width}} ", style="bold")
                line.append(value, style="")
                con.print(line, soft_wrap=True)
        elif kind == "blank":
            con.print()
        elif kind == "table":
            _, title, columns, rows = section
            tab = _section(title, *columns)
            for row in rows:
                tab.add_row(*((f"[cyan]{row[0]}[/cyan]",) + tuple(row[1:]) if title == "NUMA nodes" else row))
            con.print(tab)
        elif kind == "note":
            con.print(f"[dim]{section[1]}[/dim]")
        else:
            print_findings(con, node, verbose=verbose, blank=False)


def print_findings(con, node: NodeModel, *, verbose: int = 0, blank: bool = True) -> None:
    """Print the findings with -v, otherwise a one-line count (nothing when none)."""
    if not node.findings:
        return
    if blank:
        con.print()
    if not verbose:
        con.print(f"[dim]{counted(len(node.findings), 'finding')} while reading; -v shows them[/dim]")
        return
    f = _section("Findings", ("severity", "left"), ("code", "left"), ("message", "left"))
    for fd in node.findings:
        style = "yellow" if fd.severity == "warning" else "dim"
        msg = fd.message + (f" [dim]({fd.path})[/dim]" if fd.path and verbose > 1 else "")
        f.add_row(f"[{style}]{fd.severity}[/{style}]", fd.code, msg)
    con.print(f)


def _last_level_caches(node: NodeModel):
    """Return the highest-level unified (or data) cache instances: the tree's L3 level."""
    # a cache whose sharing the kernel does not give (s390 L3/L4) cannot be a tree level
    caches = [c for c in node.topology.caches if c.cpus and c.cpus_known and c.type in ("unified", "data")]
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
        # under the machine the NUMA node is unknown: the local CPUs are the locality left
        near = f" [dim]local CPUs {d.local_cpus.to_list()}[/dim]" if parent is root and d.local_cpus else ""
        parent.add(f"[blue]PCI {d.address}[/blue] {d.kind}: {escape(d.name)}"
                   + (f" [dim]({escape(d.driver)})[/dim]" if d.driver else "") + near)


def _mixed_capacity(t) -> bool:
    """Return True when online CPUs differ in kernel cpu_capacity (big.LITTLE, hybrid).

    x86 kernels 6.x give every CPU 1024 on uniform machines: saying so on
    every core line is noise.
    """
    return len({c.capacity for c in t.cpus.values() if c.online and c.capacity is not None}) > 1


def core_name(core, t=None) -> str:
    """Return ``Core 3``: the kernel's ``topology/core_id`` (lstopo -p's ``Core P#3``).

    Not the document's ``core`` (the core's lowest CPU, unique on the node:
    the kubelet's numbering) nor lstopo's logical index (``Core L#n``, an
    order of hwloc's): docs/formats.md, "Identifiers".  core_id is unique
    in a package on most machines, but not everywhere (clusters of RISC-V
    and Arm parts count from 0 each, s390 repeats it): with ``t`` given, a
    core_id its package holds twice gets the cluster (``Core 1, cluster
    4``) or, when that does not tell them apart, its first CPU.
    """
    if core.core_id is None:
        return f"Core (no core_id, CPU {core.key})"
    name = f"Core {core.core_id}"
    if t is None:
        return name
    same = [k for k in t.cores.values() if k.package == core.package and k.core_id == core.core_id and k.cpus]
    if len(same) < 2:
        return name
    if core.cluster_id is not None and sum(1 for k in same if k.cluster_id == core.cluster_id) == 1:
        return f"{name}, cluster {core.cluster_id}"
    return f"{name}, first CPU {core.key}"


def _core_label(core, t, verbose: int, show_capacity: bool = False) -> str:
    """Return `` (performance, capacity 1024)`` for a core, or ''."""
    extra = []
    if core.core_type:
        extra.append(core.core_type)
    cap = {t.cpus[c].capacity for c in core.cpus if t.cpus[c].capacity is not None}
    if show_capacity and len(cap) == 1:
        extra.append(f"capacity {cap.pop()}")
    return f" [dim]({', '.join(extra)})[/dim]" if extra else ""


def _core_runs(cores: list, t, show_capacity: bool) -> list[tuple[str, CpuSet]]:
    """Return (``6 cores, 2 threads each (performance)``, CPUs) per run of like cores.

    Like cores have the same thread count, core type and capacity; a run keeps
    the cores' order, so a P-core run and an E-core run stay apart.
    """
    runs: list[list] = []
    for core, threads in cores:
        shape = (len(threads), _core_label(core, t, 0, show_capacity))
        if runs and runs[-1][0] == shape:
            runs[-1][1].append(threads)
        else:
            runs.append([shape, [threads]])
    out = []
    for (nthreads, label), members in runs:
        what = f"{len(members)} core{'s' if len(members) != 1 else ''}"
        # one thread per core needs no saying: the CPU count is the core count
        each = f", {nthreads} threads each" if len(members) > 1 and nthreads > 1 else ""
        out.append((f"{what}{each}{label}", CpuSet(c for m in members for c in m)))
    return out


def topology_tree(node: NodeModel, *, verbose: int = 0) -> Tree:
    """Return package -> NUMA node -> L3 -> core -> CPU as a rich Tree (lstopo's picture).

    On machines with more than TREE_CORES_MAX cores (and without -v) like
    cores are collapsed into one line per run, and a package that sits in one
    NUMA node names it on its own line, and a package whose cores make one
    line holds them on that line: the 256-CPU ia64 fixture takes 130 lines
    instead of 513 (lstopo: 865).
    """
    t = node.topology
    online = t.online_cpus()
    total = node.memory.total
    if total is None and any(nd.memory_total for nd in t.nodes.values()):
        total = sum(nd.memory_total or 0 for nd in t.nodes.values())
    show_capacity = _mixed_capacity(t)
    collapse = not verbose and sum(1 for k in t.cores.values() if k.cpus) > TREE_CORES_MAX
    label = Text.assemble(("Machine", "bold"), f" ({counted(len(online), 'CPU')}"
                          + (f", {human_size(total)})" if total is not None else ")"))
    root = Tree(label)
    llc = _last_level_caches(node)
    placed = CpuSet()
    numa_branch: dict = {}  # NUMA node id -> its branch, where its devices go

    def numa_label(nid) -> str:
        nd = t.nodes.get(nid)
        mem = f"  {human_size(nd.memory_total)}" if nd is not None and nd.memory_total is not None else ""
        return f"[cyan]NUMA node {nid}[/cyan]{mem}"

    for pk in sorted(t.packages.values(), key=lambda p: (p.package_id is None, p.package_id or 0, p.key)):
        if not pk.cpus:
            continue
        pid = pk.package_id if pk.package_id is not None else f"key {pk.key}"
        node_ids = sorted({n for c in pk.cpus if (n := t.cpus[c].node) is not None})
        groups: list[tuple[int | None, CpuSet]] = [
            (nid, t.nodes[nid].cpus & pk.cpus if nid in t.nodes else CpuSet()) for nid in node_ids]
        rest = pk.cpus - CpuSet(c for _, g in groups for c in g)
        if rest:
            groups.append((None, rest))
        plabel = f"[bold]Package {pid}[/bold]  CPUs {_cpus(pk.cpus)}"
        fold = collapse and len(groups) == 1 and groups[0][0] is not None
        if fold:  # one NUMA node: name it on the package line, save a level
            plabel += f"  {numa_label(groups[0][0])}"
        pnode = root.add(plabel)
        for nid, cpus in groups:
            parent = pnode
            if fold:
                numa_branch.setdefault(nid, pnode)
            elif nid is not None:
                parent = pnode.add(numa_label(nid))
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
                cores = [(core, core.cpus & ccpus) for core in t.cores.values() if core.cpus & ccpus]
                if not collapse:
                    for core, threads in cores:
                        cparent.add(f"{core_name(core, t)}{_core_label(core, t, verbose, show_capacity)}: "
                                    + ", ".join(f"[green]CPU {c}[/green]" for c in threads))
                else:
                    runs = _core_runs(cores, t, show_capacity)
                    if fold and cparent is pnode and len(buckets) == 1 and len(runs) == 1:
                        # a package whose cores make one line: say it all on one line
                        pnode.label = (f"[bold]Package {pid}[/bold]  {runs[0][0]}: [green]CPUs "
                                       f"{_cpus(runs[0][1])}[/green]  {numa_label(groups[0][0])}")
                    else:
                        for text, rcpus in runs:
                            cparent.add(f"{text}: [green]CPUs {_cpus(rcpus)}[/green]")
                for _, threads in cores:
                    placed = placed | threads
    loose = online - placed
    if loose:
        root.add(f"[yellow]CPUs in no package[/yellow]: {_cpus(loose)}")
    for nd in t.nodes.values():
        if not nd.cpus:
            numa_branch[nd.id] = root.add(f"{numa_label(nd.id)} (no CPUs)")
    _add_devices(root, numa_branch, node)
    offline = t.offline_cpus()
    if offline:
        root.add(f"[dim]offline CPUs: {_cpus(offline)}[/dim]")
    if collapse:
        root.add("[dim]like cores shown as one line; -v shows each core[/dim]")
    return root
