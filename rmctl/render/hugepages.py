"""Hugepage documents (``rmctl hugepages ... -o json``) and their tables.

The data builders here take the model (and plain estimate dicts) and
return the document bodies; the table printers take those same bodies, so
a table never shows something the JSON does not say.  Rich is imported
only inside the printers.

``hugepages show`` body: ``page_sizes``, ``default_page_size``, ``pools``
(global), ``nodes`` [{id, memory_total, memory_free, pools}], ``mounts``,
``thp``, ``memory``.  Each pool: page_size, node, total, free, reserved,
surplus, overcommit, in_use, gigantic, obtainable, obtainable_basis,
free_memory_pages.  Sizes are bytes, counts are pages.
"""

from __future__ import annotations

from rmctl.model.memory import HugepagePool
from rmctl.model.node import NodeModel
from rmctl.units import counted, format_size


def pool_row(p: HugepagePool, est: dict | None) -> dict:
    """Return one pool of the show document."""
    # nr_hugepages in sysfs counts every page, surplus ones included, both
    # globally and per node (mm/hugetlb.c nr_hugepages_show_common shows
    # nr_huge_pages), and free_hugepages every free one: what is allocated
    # is the difference (proc/meminfo's HugePages_Total - HugePages_Free).
    in_use = p.total - p.free
    return {
        "page_size": p.page_size, "node": p.node, "total": p.total, "free": p.free,
        "reserved": p.reserved, "surplus": p.surplus, "overcommit": p.overcommit,
        "in_use": in_use,
        "gigantic": est.get("gigantic") if est else None,
        "obtainable": est.get("pages") if est else None,
        "obtainable_basis": est.get("basis") if est else "unknown",
        "free_memory_pages": est.get("free_memory_pages") if est else None,
    }


def show_data(node: NodeModel, estimates: list[dict]) -> dict:
    """Return the ``hugepages show`` document body."""
    est = {(e["page_size"], e["node"]): e for e in estimates}
    return {
        "source": {"root": node.source.root, "live": node.source.live},
        "page_sizes": node.page_sizes(),
        "default_page_size": node.memory.hugepage_size,
        "pools": [pool_row(p, est.get((p.page_size, None))) for p in node.hugepages],
        "nodes": [
            {"id": n.id, "memory_total": n.memory_total, "memory_free": n.memory_free,
             "pools": [pool_row(p, est.get((p.page_size, n.id))) for p in n.hugepages]}
            for n in node.topology.nodes.values()
        ],
        "mounts": [{"path": m.path, "page_size": m.page_size, "source": m.source,
                    "options": dict(m.options)} for m in node.mounts],
        "thp": node.extra.get("thp"),
        "memory": {"total": node.memory.total, "free": node.memory.free,
                   "available": node.memory.available, "hugetlb": node.memory.hugetlb},
    }


def _n(v) -> str:
    return "-" if v is None else str(v)


def print_show(con, data: dict) -> None:
    """Print pools (global and per node), free memory, mounts and THP."""
    from rich.table import Table

    if not data["page_sizes"]:
        con.print("No hugepage sizes under this root (sys/kernel/mm/hugepages is missing or empty).")
    else:
        from rich import box

        t = Table(title="Hugepage pools", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False)  # 9 columns fit 80 (no blank edge columns)
        for col in ("size", "node", "total", "free", "resv", "surplus", "overcommit", "in use", "obtainable"):
            t.add_column(col, justify="right")
        rows = list(data["pools"])
        for n in data["nodes"]:
            rows += n["pools"]
        rows.sort(key=lambda r: (r["page_size"], -1 if r["node"] is None else r["node"]))
        marks = {"free-memory": "*", "buddyinfo-max-order": "+"}
        used = set()
        for r in rows:
            mark = marks.get(r["obtainable_basis"], "")
            used.add(r["obtainable_basis"]) if mark else None
            t.add_row(format_size(r["page_size"]), "all" if r["node"] is None else str(r["node"]),
                      str(r["total"]), str(r["free"]), _n(r["reserved"]), str(r["surplus"]),
                      _n(r["overcommit"]), str(r["in_use"]), _n(r["obtainable"]) + mark)
        con.print(t)
        con.print(f"Default page size: {format_size(data['default_page_size'])}; "
                  "obtainable: more pages the kernel could give now (estimate"
                  + ("; * from free memory only" if "free-memory" in used else "")
                  + ("; + gigantic pages, from the largest free blocks" if "buddyinfo-max-order" in used else "")
                  + ")")
    if data["nodes"]:
        m = Table(title="Memory per NUMA node", title_justify="left")
        for col in ("node", "total", "free"):
            m.add_column(col, justify="right")
        for n in data["nodes"]:
            m.add_row(str(n["id"]), format_size(n["memory_total"]), format_size(n["memory_free"]))
        con.print(m)
    if data["mounts"]:
        mt = Table(title="hugetlbfs mounts", title_justify="left")
        mt.add_column("path")
        mt.add_column("page size", justify="right")
        mt.add_column("options")
        for mo in data["mounts"]:
            mt.add_row(mo["path"], format_size(mo["page_size"]),
                       ",".join(f"{k}={v}" if v else k for k, v in mo["options"].items()))
        con.print(mt)
    else:
        con.print("hugetlbfs mounts: none")
    con.print(f"Transparent hugepages: {data['thp'] or 'unknown'}")


def print_plan(con, plan: dict, *, title: str = "Plan") -> None:
    """Print the actions of a plan (its ``to_data()``), numbered, with its notes."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("action")
    for i, a in enumerate(plan["actions"], 1):
        t.add_row(str(i), a["description"])
    if plan["actions"]:
        con.print(t)
    else:
        con.print(f"{title}: nothing to do")
    for note in plan.get("notes") or ():
        con.print(f"note: {note}")


def print_pools(con, data: dict) -> None:
    """Print a set/size result: the plan (dry run) or requested vs achieved per pool."""
    from rich.table import Table

    if data.get("sizing"):
        s = data["sizing"]
        con.print(f"{format_size(s['amount'])} of {format_size(s['page_size'])} pages: {counted(s['pages'], 'page')} "
                  f"({s['spread']}): " + ", ".join(
                      f"{'all' if r['node'] is None else 'node ' + str(r['node'])}: {r['pages']}"
                      for r in s["per_node"]))
        for note in s["notes"]:
            con.print(f"note: {note}")
    if data["dry_run"]:
        print_plan(con, data["plan"], title="Plan (dry run: nothing written)")
        return
    t = Table(title="Hugepage pools", title_justify="left")
    for col in ("page size", "node", "previous", "requested", "achieved"):
        t.add_column(col, justify="right")
    t.add_column("status", justify="left")
    for p in data["pools"]:
        t.add_row(format_size(p["page_size"]), "all" if p["node"] is None else str(p["node"]),
                  str(p["previous"]), str(p["requested"]), _n(p["achieved"]), p["status"])
    con.print(t)
    for p in data["pools"]:  # below the table: a note column would wrap to one word a line
        if p["note"]:
            where = "all nodes" if p["node"] is None else f"node {p['node']}"
            con.print(f"note: {format_size(p['page_size'])} pages on {where}: {p['note']}",
                      markup=False, highlight=False)
    if data.get("overcommit"):
        for o in data["overcommit"]:
            con.print(f"overcommit of {format_size(o['page_size'])} pages: {o['value']} "
                      f"(was {_n(o['previous'])}): {o['status']}")
    if data.get("rolled_back"):
        con.print("--all-or-nothing: every pool touched is back at its previous size")


def print_steps(con, report: dict, *, title: str) -> None:
    """Print an apply report's steps (status and description)."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column("status")
    t.add_column("action")
    t.add_column("detail")
    for s in report["steps"]:
        t.add_row(s["status"], s["action"]["description"], s["detail"] or "")
    con.print(t)


def print_mount(con, data: dict) -> None:
    """Print a mount/umount result or plan."""
    if data.get("fstab_only"):
        con.print(data["request"]["fstab"], markup=False, highlight=False, soft_wrap=True)
        return
    if data["dry_run"]:
        print_plan(con, data["plan"], title="Plan (dry run: nothing changed)")
    else:
        print_steps(con, data["report"], title=data["command"])
    if data.get("request"):
        con.print(f"fstab: {data['request']['fstab']}", markup=False, highlight=False, soft_wrap=True)


def print_boot_args(con, data: dict) -> None:
    """Print boot arguments, the diff against the running command line and advice."""
    from rich.table import Table

    con.print(data["args"] or "(no hugepage arguments)", markup=False, highlight=False, soft_wrap=True)
    t = Table(title="Against the running kernel command line", title_justify="left")
    for col in ("page size", "running", "new", "change"):
        t.add_column(col)
    for c in data["changes"]:
        t.add_row(format_size(c["page_size"]) if c["page_size"] else "-", _n(c["was"]), _n(c["now"]), c["change"])
    con.print(t)
    if data["unchanged"]:
        con.print("The running kernel already booted with these hugepage arguments.")
    for r in data["recommendations"]:
        con.print(f"recommendation: {r}", markup=False, highlight=False)
    for note in data["plan"].get("notes") or ():
        con.print(f"note: {note}", markup=False)
