"""CPU reservations for people: the lines and tables of ``rmctl cpu ...``.

Everything here takes plain document data (the reservation views of
rmctl.state.records.Reservation.view, the CPU entries of
rmctl.state.reservations.cpu_states), so the table shows what ``-o
json`` says.  rich is imported inside the table builders only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.units import counted

#: order of the CPU states in the table: what is taken first, free last
STATE_ORDER = {"system": 0, "reserved": 1, "kubelet": 2, "isolated": 3, "not-allowed": 4, "offline": 5, "free": 6}


def reserve_line(topo, rec: dict[str, Any], dry_run: bool) -> str:
    """Return `cpu reserve`'s human line: count, cpulist, NUMA nodes, sockets, cores, owner."""
    cpus = CpuSet.parse(rec["cpus"])
    nodes = ",".join(str(n) for n in rec["nodes"]) or "-"
    # sockets by the kernel's physical_package_id, as --socket takes them
    pkgs = sorted({topo.cpus[c].package_id if topo.cpus[c].package_id is not None else topo.cpus[c].package
                   for c in cpus if c in topo.cpus and topo.cpus[c].package is not None})
    cores = {(topo.cpus[c].package, topo.cpus[c].core) for c in cpus if c in topo.cpus}
    owner = rec.get("owner")
    who = f"; owner PID {owner['pid']} ({owner.get('command') or '?'})" if owner else ""
    return (f"{'would reserve' if dry_run else 'reserved'} {rec['name']}: {len(cpus)} CPU{'s' if len(cpus) != 1 else ''} "
            f"{rec['cpus']} on NUMA node{'s' if len(rec['nodes']) != 1 else ''} {nodes}, "
            f"socket{'s' if len(pkgs) != 1 else ''} {','.join(map(str, pkgs)) or '-'}, "
            f"{len(cores)} core{'s' if len(cores) != 1 else ''}{who}")


def age(seconds: int) -> str:
    """Return an age for a table: 59s, 12m, 5h, 3d."""
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def list_tables(views: list[dict[str, Any]], cpus: list[dict[str, Any]], gone: Iterable[str] = (),
                now: float | None = None) -> list:
    """Return the rich tables of `cpu list`: reservations, then CPUs grouped by state as ranges.

    A 256-CPU node stays a handful of rows: one per state (one per
    reservation), each with its count, cpulist and NUMA nodes.  ``gone``:
    the reservations whose owner no longer runs (live roots only;
    reconcile drops them).  ``now``: the time ages are counted to (seconds
    since the epoch; the reservations' ``created_unix``).
    """
    from rich.table import Table

    gone = set(gone)
    t = Table(title=f"reservations ({len(views)})", title_justify="left")
    for col in ("name", "cpus", "count", "numa", "owner", "age", "cgroup"):
        t.add_column(col, justify="right" if col == "count" else "left")
    for v in views:
        owner = v.get("owner")
        who = "-"
        if owner:
            who = f"{owner['pid']} {(owner.get('command') or '')[:24]}".rstrip()
            if v["name"] in gone:
                who += " (gone)"
        cg = v.get("cgroup") or {}
        where = "-"
        if cg.get("path"):
            where = f"{cg['path']} (v{cg.get('version')}{', ' + cg['partition'] if cg.get('partition') else ''})"
        t.add_row(v["name"], v["cpus"] or "-", str(len(CpuSet.parse(v["cpus"] or ""))),
                  ",".join(map(str, v.get("nodes") or [])) or "-", who, age(max(0, int((now or 0) - float(v.get("created_unix") or now or 0)))), where)
    groups: dict[tuple, list[dict]] = {}
    for c in cpus:
        key = (STATE_ORDER.get(c["state"], 9), c["state"], c.get("reservation") or "")
        groups.setdefault(key, []).append(c)
    t2 = Table(title=f"CPUs ({len(cpus)}): " + ", ".join(
        f"{sum(len(m) for k, m in groups.items() if k[1] == st)} {st}"
        for st in sorted({k[1] for k in groups}, key=lambda s: STATE_ORDER.get(s, 9))), title_justify="left")
    for col in ("state", "count", "cpus", "numa"):
        t2.add_column(col, justify="right" if col == "count" else "left")
    for key in sorted(groups):
        members = groups[key]
        label = f"reserved by {key[2]}" if key[1] == "reserved" else \
            "kubelet (pods, exclusive)" if key[1] == "kubelet" else key[1]
        isolated = [c["id"] for c in members if c.get("isolated")] if key[1] != "isolated" else []
        if isolated:
            label += f" (isolated: {CpuSet(isolated).to_list()})"
        nodes = sorted({c["node"] for c in members if c.get("node") is not None})
        t2.add_row(label, str(len(members)), CpuSet(c["id"] for c in members).to_list(),
                   CpuSet(nodes).to_list() if nodes else "-")
    return [t if views else "no reservations", t2]


def reconcile_lines(dropped: list[dict[str, Any]], problems: list[dict[str, Any]], remaining: int,
                    dry_run: bool) -> list[str]:
    """Return the human report of `cpu reconcile`: a summary line, then one line per change or problem."""
    head = (f"reconcile: {counted(len(dropped) + remaining, 'reservation')} checked, "
            f"{len(dropped)} {'to drop' if dry_run else 'dropped'}, {counted(len(problems), 'problem')}")
    lines = [head]
    for r in dropped:
        o = r.get("owner") or {}
        lines.append(f"  {'would drop' if dry_run else 'dropped'} {r['name']}: CPUs {r['cpus']} "
                     f"(owner PID {o.get('pid')} {o.get('command') or ''} is gone)".replace("  is", " is"))
    for p in problems:
        what = f"reservation {p['name']}" if p["name"] else "the system CPUs"
        parts = [f"offline CPUs {p['offline']}" if p.get("offline") else "",
                 f"missing CPUs {p['missing']}" if p.get("missing") else ""]
        held = " and ".join(x for x in parts if x)
        fix = (f"release it and reserve again (rmctl cpu release {p['name']})" if p["name"]
               else "set them again (rmctl cpu reserve-system)")
        lines.append(f"  problem: {what} holds {held}: {fix}")
    if not dropped and not problems:
        lines.append("  nothing to do: every owner is alive and every reserved CPU is online")
    return lines


def occupants_table(occupants: list[dict[str, Any]], *, verbose: int = 1):
    """Return the rich table of `cpu list -v`: the threads on reserved CPUs, intruders first on each CPU.

    Kernel threads are one row per CPU (their count) unless ``verbose`` > 1
    (``-vv``), where each is listed: per-CPU kernel threads run on every CPU.
    """
    from rich.table import Table

    users = [o for o in occupants if o["role"] != "kernel"]
    kernel: dict[Any, list[dict[str, Any]]] = {}
    for o in occupants:
        if o["role"] == "kernel":
            kernel.setdefault(o["cpu"], []).append(o)
    bad = sum(1 for o in users if o["role"] == "intruder")
    t = Table(title=f"threads on reserved CPUs ({counted(len(users), 'user thread')}, "
                    f"{counted(bad, 'intruder')}{'' if verbose > 1 else '; -vv lists kernel threads'})",
              title_justify="left")
    for col in ("cpu", "reservation", "pid", "tid", "command", "state", "allowed", "role"):
        # a command is at most 15 characters (TASK_COMM_LEN): never wrapped
        t.add_column(col, justify="right" if col in ("cpu", "pid", "tid") else "left",
                     no_wrap=col in ("command", "role", "pid", "tid"), min_width=15 if col == "command" else None)
    rows = list(users)
    if verbose > 1:
        rows += [o for group in kernel.values() for o in group]
    rows.sort(key=lambda o: (o["cpu"] if o["cpu"] is not None else -1, o["role"] != "intruder", o["role"] == "kernel",
                             o["pid"], o["tid"]))
    for o in rows:
        role = "[bold red]intruder[/bold red]" if o["role"] == "intruder" else o["role"]
        t.add_row("-" if o["cpu"] is None else str(o["cpu"]), o["reservation"], str(o["pid"]), str(o["tid"]),
                  _escape(o["command"]), o["state"], o["allowed"], role)
    if verbose <= 1:
        for cpu in sorted(kernel, key=lambda c: -1 if c is None else c):
            group = kernel[cpu]
            t.add_row("-" if cpu is None else str(cpu), group[0]["reservation"], "", "",
                      counted(len(group), "kernel thread"), "", "", "kernel")
    return t


def _escape(text: str) -> str:
    """Return a command name safe in a rich table (a thread may name itself "[red]")."""
    from rich.markup import escape

    return escape(text)
