"""``rmctl hugepages``: show, set, size, mount, umount, boot-args.

Each use case discovers the root, calls one planner
(:mod:`rmctl.planning.hugepages`), and either returns the plan (dry run)
or applies it on the Host of :mod:`rmctl.ops.hosts` and returns what
happened; the exit status of an applied plan comes from
:func:`rmctl.execute.status.exit_status`, the one mapping every command
shares.  Nothing here prints.

Documents: Hugepages (show), HugepagePools (set), HugepageSizing (size),
HugetlbfsMount / HugetlbfsUmount, HugepageBootArgs.  A shortfall (the
kernel granted fewer pages than asked) is a result, not an error: the
document is complete and the Outcome exits 4 with a message naming the
pools.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from rmctl.discovery import discover
from rmctl.discovery.buddyinfo import BuddyZone, estimate, estimates, largest_buddy_block, read_buddyinfo
from rmctl.discovery.mounts import mount_at
from rmctl.discovery.root import Root
from rmctl.errors import AccessDenied, ExitCode, UsageError
from rmctl.execute.executor import apply
from rmctl.execute.host import Host
from rmctl.execute.status import error_of, exit_status
from rmctl.model.hugepage_actions import SetPoolPages, shortfall_of
from rmctl.model.node import NodeModel
from rmctl.model.plan import ApplyReport, Plan, WriteValue
from rmctl.ops.hosts import host_for, require_live
from rmctl.ops.intent import make, stamp
from rmctl.ops.outcome import Message, Outcome
from rmctl.planning.hugepages import (
    MountPlan,
    PoolPlan,
    mount_path,
    mount_request,
    page_size_of,
    parse_assignment,
    parse_count,
    parse_nodes,
    parse_per_node,
    plan_boot_args,
    plan_mount,
    plan_set,
    plan_size,
    plan_umount,
)
from rmctl.render.hugepages import show_data
from rmctl.units import format_size, parse_page_size_dirname, parse_size


def _zones(root: Root) -> list[BuddyZone] | None:
    return read_buddyinfo(root)


def _outcome(kind: str, data: dict, code: int, message: str | None, hint: str | None = None,
             default: str = "failed") -> Outcome:
    """Return the Outcome of a document whose command ended with ``code`` (a message when not 0)."""
    messages = (Message(message or default, hint=hint),) if code else ()
    return Outcome(kind=kind, data=data, exit_code=ExitCode(code), messages=messages)


# -- show ---------------------------------------------------------------------------

def show(root: Root) -> Outcome:
    """Return the Hugepages document: every page size's pools (global and per node), mounts, THP,
    and what could be had now ("obtainable": from proc/buddyinfo for sizes the buddy allocator
    serves, else from free memory)."""
    node = discover(root)
    data = show_data(node, [e.to_data() for e in estimates(node, _zones(root))])
    return Outcome(kind="Hugepages", data=data)


# -- set / size ---------------------------------------------------------------------

def pool_requests(node: NodeModel, assignments: Sequence[str], nid: int | None, per_node: str | None,
                  overcommit: int | None) -> tuple[list[tuple[int, dict[int | None, int]]], list[int]]:
    """Return ([(page size, {node or None: pages})], page sizes named) from ``SIZE=COUNT`` words.

    ``nid``: every count is for that node's pool; ``per_node`` (``0:512,1:256``):
    the pages of each node, the words then naming sizes only.  A size
    without a count is allowed only with ``overcommit`` (it names the pool
    whose nr_overcommit_hugepages is set).
    """
    per = parse_per_node(per_node) if per_node is not None else None
    if per is not None and nid is not None:
        raise UsageError("--numa and --per-node exclude each other")
    requests: list[tuple[int, dict[int | None, int]]] = []
    sizes = []
    for text in assignments:
        size_text, count_text = parse_assignment(text)
        size = page_size_of(node, size_text)
        sizes.append(size)
        if per is not None:
            if count_text is not None and parse_count(count_text, text) != sum(per.values()):
                raise UsageError(f"{text}: the count differs from the --per-node total {sum(per.values())}",
                                 hint="with --per-node give SIZE alone, e.g. 2M --per-node 0:512,1:256")
            requests.append((size, {n: c for n, c in per.items()}))
        elif count_text is None:
            if overcommit is None:
                raise UsageError(f"{text}: no page count", hint="write SIZE=COUNT, e.g. 2M=512")
        else:
            requests.append((size, {nid: parse_count(count_text, text)}))
    return requests, sizes


def run_pool_plan(plan: Plan, host: Host, all_or_nothing: bool) -> ApplyReport:
    """Apply a pool plan; return the report.

    ``all_or_nothing``: the executor stops at the first shortfall or
    failure and rolls back every step it applied.  Otherwise a shortfall
    does not stop the other pools (each gets what the kernel grants); any
    other failure or a stale pool stops the rest.
    """
    if all_or_nothing:
        return apply(plan, host, rollback=True)
    return apply(plan, host, continue_on=lambda step: shortfall_of(step) is not None)


def _int(v) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def _apply_pool_plan(root: Root, pp: PoolPlan, *, all_or_nothing: bool,
                     dry_run: bool) -> tuple[dict, int, str | None, str | None]:
    """Apply (or, dry run, only describe) a PoolPlan; return (document body, exit status, message, hint)."""
    data = pp.to_data()
    data.update(dry_run=dry_run, all_or_nothing=all_or_nothing, rolled_back=False, report=None)
    if dry_run:
        for p in data["pools"]:
            p.update(achieved=None, status="planned")
        data.update(status="planned", exit_code=0)
        return data, 0, None, None
    require_live(root, "change hugepage pools")
    host = host_for(root)
    for a in pp.plan.actions:  # non-root: refuse before the first write, naming the file
        if isinstance(a, WriteValue) and not host.can_write(a.path):
            raise AccessDenied(f"cannot write {a.path}: permission denied",
                               hint="run as root (sudo rmctl hugepages ...)")
    report = run_pool_plan(pp.plan, host, all_or_nothing)
    data["report"] = report.to_data()
    data["rolled_back"] = bool(report.rolled_back)
    by_path = {s.action.path: s for s in report.steps if isinstance(s.action, WriteValue)}
    short = []
    for p in data["pools"]:
        step = by_path.get(p["path"])
        granted = shortfall_of(step) if step else None
        # achieved: the persistent pool (what SetPoolPages reads back);
        # now: nr_hugepages as read, surplus pages included.
        now = _int(host.read_text(p["path"]))
        surplus_now = _int(host.read_text(p["path"].rsplit("/", 1)[0] + "/surplus_hugepages"))
        p["achieved"] = granted if granted is not None else (
            _int(step.after) if step and step.after is not None else
            (None if now is None else now - (surplus_now or 0)))
        p["now"] = now
        p["surplus_now"] = surplus_now
        if (not report.rolled_back and now is not None and p["achieved"] is not None
                and now > p["achieved"] and p["requested"] < p["in_use"]):
            n = now - p["achieved"]
            p["note"] = (f"{n} {'page' if n == 1 else 'pages'} still in use stay as surplus until their "
                         f"users free them: nr_hugepages reads {now} until then")
        if granted is not None:
            p["status"] = "shortfall"
            short.append(p)
        else:
            p["status"] = step.status if step else "not-run"
        if report.rolled_back and p["status"] in ("applied", "shortfall"):
            p["status"] += ", rolled back"
    data["overcommit"] = [
        {"page_size": parse_page_size_dirname(s.action.path.split("/")[-2]), "path": s.action.path,
         "value": s.action.value, "previous": s.before, "status": s.status}
        for s in report.steps if isinstance(s.action, WriteValue) and not isinstance(s.action, SetPoolPages)]
    code = int(exit_status(report))
    err = error_of(report)
    message = hint = None
    if code == ExitCode.UNSATISFIABLE and short:
        message = "shortfall: " + "; ".join(
            f"{format_size(p['page_size'])} pages on {'all nodes' if p['node'] is None else 'node ' + str(p['node'])}: "
            f"requested {p['requested']}, achieved {p['achieved']}" for p in short)
        if report.rolled_back:
            message += "; every pool touched was restored (--all-or-nothing)"
        hint = err.hint if err is not None else None
    elif err is not None:
        message, hint = err.message, err.hint
    data["status"] = {0: "ok", 4: "shortfall", 5: "stale"}.get(code, "failed")
    data["exit_code"] = code
    return data, code, message, hint


def set_pools(root: Root, assignments: Sequence[str], *, node: int | None = None, per_node: str | None = None,
              overcommit: int | None = None, all_or_nothing: bool = False, force: bool = False,
              dry_run: bool = False) -> Outcome:
    """Set hugepage pool sizes (``2M=512``), read them back; return the HugepagePools document.

    A request that does not fit free memory is refused before any write
    (UnsatisfiableError, exit 4) unless ``force``; a shortfall exits 4 with
    the numbers; a snapshot root only plans (``dry_run``).
    """
    nm = discover(root)
    requests, sizes = pool_requests(nm, assignments, node, per_node, overcommit)
    pp = plan_set(nm, requests, overcommit=overcommit, overcommit_sizes=sizes, force=force,
                  gigantic_above=largest_buddy_block(nm, _zones(root)),
                  nodes_named=node is not None or per_node is not None)
    data, code, message, hint = _apply_pool_plan(root, pp, all_or_nothing=all_or_nothing, dry_run=dry_run)
    stamp(data, make("hugepages set", assignments=list(assignments), node=node, per_node=per_node,
                     overcommit=overcommit, all_or_nothing=all_or_nothing, force=force))
    return _outcome("HugepagePools", data, code, message, hint)


def size_pools(root: Root, amount: str, *, page_size: str, nodes: str | None = None, spread: str = "even",
               apply_plan: bool = False, all_or_nothing: bool = False, force: bool = False) -> Outcome:
    """Return the HugepageSizing document: the pool sizes per node that hold ``amount`` of memory.

    Counts are absolute pool sizes per node; ``apply_plan`` performs them
    through the same path as :func:`set_pools`.
    """
    nm = discover(root)
    ps = page_size_of(nm, page_size)
    sizing = plan_size(nm, parse_size(amount, what="amount"), ps,
                       parse_nodes(nodes) if nodes is not None else None, spread)
    pp = plan_set(nm, [(ps, sizing.per_node)], force=force, command="hugepages size")
    data, code, message, hint = _apply_pool_plan(root, pp, all_or_nothing=all_or_nothing, dry_run=not apply_plan)
    data["sizing"] = sizing.to_data()
    stamp(data, make("hugepages size", amount=amount, page_size=page_size, nodes=nodes, spread=spread,
                     all_or_nothing=all_or_nothing, force=force))
    return _outcome("HugepageSizing", data, code, message, hint)


# -- mount / umount ------------------------------------------------------------------

def _apply_mount_plan(root: Root, plan: Plan, what: str) -> tuple[ApplyReport, int, str | None]:
    """Apply a mount/umount plan on the live machine; return (report, exit status, message)."""
    require_live(root, what)
    host = host_for(root)
    if getattr(host, "live", False) and os.geteuid() != 0:
        raise AccessDenied(f"cannot {what}: mount(2) needs root (CAP_SYS_ADMIN)",
                           hint="run as root (sudo rmctl hugepages ...)")
    report = apply(plan, host)
    err = error_of(report)
    return report, int(exit_status(report)), (err.message if err is not None else None)


def _mount_doc(mp: MountPlan, report: ApplyReport | None, dry_run: bool, command: str) -> dict:
    data = mp.to_data()
    data.update(command=command, dry_run=dry_run, report=report.to_data() if report else None)
    if report is not None:
        data["changed"] = report.changed
        data["status"] = "unchanged" if report.ok and not report.changed else ("ok" if report.ok else "failed")
    else:
        data["status"] = "planned"
    return data


def mount(root: Root, path: str, *, page_size: str | None = None, size: str | None = None,
          min_size: str | None = None, nr_inodes: str | None = None, uid: int | None = None,
          gid: int | None = None, mode: str | None = None, fstab: bool = False, dry_run: bool = False) -> Outcome:
    """Mount hugetlbfs at ``path``; return the HugetlbfsMount document.

    An identical mount is unchanged, a different one a ConflictError (exit
    5).  ``fstab``: plan only, the document carrying the /etc/fstab line.
    """
    nm = discover(root)
    if page_size is not None:
        ps = page_size_of(nm, page_size)
    else:
        default = nm.memory.hugepage_size
        if default is None or default not in nm.page_sizes():
            raise UsageError("no default hugepage size under this root", hint="give --page-size")
        ps = default
    req = mount_request(nm, path, ps, size=size, min_size=min_size, nr_inodes=nr_inodes,
                        uid=uid, gid=gid, mode=mode)
    p = mount_path(path)
    mp = plan_mount(nm, req, existing=mount_at(root, p), dir_state=host_for(root).dir_state(p))
    report, code, message = (None, 0, None)
    if not (dry_run or fstab):
        report, code, message = _apply_mount_plan(root, mp.plan, f"mount hugetlbfs ({format_size(ps)}) at {p}")
    data = _mount_doc(mp, report, dry_run or fstab, "hugepages mount")
    data["fstab_only"] = fstab
    stamp(data, make("hugepages mount", path=path, page_size=page_size, size=size, min_size=min_size,
                     nr_inodes=nr_inodes, uid=uid, gid=gid, mode=mode))
    return _outcome("HugetlbfsMount", data, code, message, default="mount failed")


def umount(root: Root, path: str, *, rmdir: bool = False, dry_run: bool = False) -> Outcome:
    """Unmount the hugetlbfs at ``path`` (nothing mounted: unchanged); return the HugetlbfsUmount document.

    ``rmdir`` also removes the (empty) directory; by default it stays, as
    umount(8) leaves it.
    """
    p = mount_path(path)
    mp = plan_umount(p, existing=mount_at(root, p), rmdir=rmdir, node=discover(root),
                     dir_state=host_for(root).dir_state(p) if rmdir else None)
    report, code, message = (None, 0, None)
    if not dry_run:
        report, code, message = _apply_mount_plan(root, mp.plan, f"unmount {p}")
    data = _mount_doc(mp, report, dry_run, "hugepages umount")
    stamp(data, make("hugepages umount", path=path, rmdir=rmdir))
    return _outcome("HugetlbfsUmount", data, code, message, default="umount failed")


# -- boot-args -------------------------------------------------------------------------

def boot_args(root: Root, assignments: Sequence[str], *, per_node: bool = False,
              default_size: str | None = None) -> Outcome:
    """Return the HugepageBootArgs document: kernel arguments for the pools, the diff against the
    running command line, and advice (what run-time allocation could give instead)."""
    nm = discover(root)
    zones = _zones(root)
    requests: list[tuple[int, int | dict[int, int]]] = []
    for text in assignments:
        size_text, count_text = parse_assignment(text)
        ps = page_size_of(nm, size_text)
        if count_text is None:
            raise UsageError(f"{text}: no page count", hint="write SIZE=COUNT, e.g. 1G=8")
        requests.append((ps, parse_per_node(count_text) if ":" in count_text else parse_count(count_text, text)))
    default = page_size_of(nm, default_size) if default_size is not None else None
    obtainable = {ps: estimate(nm, zones, ps).pages for ps, _ in requests}
    bp = plan_boot_args(nm, requests, per_node=per_node, default_size=default, obtainable=obtainable,
                        gigantic_above=largest_buddy_block(nm, zones))
    data = stamp(bp.to_data(), make("hugepages boot-args", assignments=list(assignments), per_node=per_node,
                                    default_size=default_size))
    return Outcome(kind="HugepageBootArgs", data=data)
