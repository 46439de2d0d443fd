"""`rmctl hugepages`: show, set, size, mount, umount, boot-args.

Every command discovers, calls one planner (rmctl.planning.hugepages),
then prints the plan (``--dry-run``) or hands it to the executor; nothing
here writes to the machine by itself.

The Host a plan is applied on is rmctl.ops.hosts' (one policy for every
command; its ``host_factory`` is the tests' seam).
"""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, fmt

hugepages_app = typer.Typer(
    name="hugepages", no_args_is_help=True, rich_markup_mode=None,
    help="Hugepage pools per page size and NUMA node, hugetlbfs mounts, boot arguments.",
)


def register(app) -> None:
    """Add the ``hugepages`` group to the root app."""
    app.add_typer(hugepages_app, name="hugepages")


def _host(settings):
    from rmctl.ops.hosts import host_for

    return host_for(settings.root)


def _zones(settings):
    from rmctl.discovery.buddyinfo import read_buddyinfo

    return read_buddyinfo(settings.root)


def _fail(message: str, code: int, hint: str | None = None) -> None:
    """After a result document was printed: one stderr line, then exit ``code``."""
    import sys

    sys.stderr.write(f"rmctl: error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def _print(settings, f: str, kind: str, data: dict, printer) -> None:
    if f != "table":
        from rmctl.cli.output import emit

        emit(kind, data, f)
        return
    from rmctl.cli.output import console

    printer(console(settings), data)


# -- show ---------------------------------------------------------------------------

@hugepages_app.command("show")
@handle_errors
def show(ctx: typer.Context, output: Output = Format.table):
    """Show every page size's pools (global and per node), mounts, THP and what could be had now.

    "obtainable now" estimates how many more pages the kernel could give
    at this moment: from proc/buddyinfo (free blocks big enough) for
    sizes the buddy allocator serves, else from free memory.

    Example: rmctl hugepages show -o json
    """
    from rmctl.discovery.buddyinfo import estimates
    from rmctl.render.hugepages import print_show, show_data

    settings = ctx.obj
    node = settings.node()
    data = show_data(node, [e.to_data() for e in estimates(node, _zones(settings))])
    _print(settings, fmt(output), "Hugepages", data, print_show)


# -- set / size ---------------------------------------------------------------------

def _requests(node, assignments: list[str], nid: int | None, per_node: str | None,
              overcommit: int | None):
    from rmctl.errors import UsageError
    from rmctl.planning.hugepages import page_size_of, parse_assignment, parse_count, parse_per_node

    per = parse_per_node(per_node) if per_node is not None else None
    if per is not None and nid is not None:
        raise UsageError("--node and --per-node exclude each other")
    requests, sizes = [], []
    for text in assignments:
        size_text, count_text = parse_assignment(text)
        size = page_size_of(node, size_text)
        sizes.append(size)
        if per is not None:
            if count_text is not None and parse_count(count_text, text) != sum(per.values()):
                raise UsageError(f"{text}: the count differs from the --per-node total {sum(per.values())}",
                                 hint="with --per-node give SIZE alone, e.g. 2M --per-node 0:512,1:256")
            requests.append((size, dict(per)))
        elif count_text is None:
            if overcommit is None:
                raise UsageError(f"{text}: no page count", hint="write SIZE=COUNT, e.g. 2M=512")
        else:
            requests.append((size, {nid: parse_count(count_text, text)}))
    return requests, sizes


def _run_pools(plan, host, all_or_nothing: bool):
    """Apply a pool plan; return the report.

    --all-or-nothing: the executor stops at the first shortfall or failure
    and rolls back every step it applied.  Otherwise a shortfall does not
    stop the other pools (each gets what the kernel grants); any other
    failure or a stale pool stops the rest.
    """
    from rmctl.execute.executor import apply
    from rmctl.model.hugepage_actions import shortfall_of

    if all_or_nothing:
        return apply(plan, host, rollback=True)
    return apply(plan, host, continue_on=lambda step: shortfall_of(step) is not None)


def _int(v):
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def _apply_pool_plan(settings, pp, *, all_or_nothing: bool, dry_run: bool):
    """Apply (or, dry run, only describe) a PoolPlan; return (document body, exit code, error, hint)."""
    from rmctl.errors import AccessDenied, ExitCode
    from rmctl.execute.status import error_of, exit_status
    from rmctl.model.hugepage_actions import SetPoolPages, shortfall_of
    from rmctl.units import format_size, parse_page_size_dirname

    data = pp.to_data()
    data.update(dry_run=dry_run, all_or_nothing=all_or_nothing, rolled_back=False, report=None)
    if dry_run:
        for p in data["pools"]:
            p.update(achieved=None, status="planned")
        data.update(status="planned", exit_code=0)
        return data, 0, None, None
    settings.require_live("change hugepage pools")
    host = _host(settings)
    for a in pp.plan.actions:  # non-root: refuse before the first write, naming the file
        if not host.can_write(a.path):
            raise AccessDenied(f"cannot write {a.path}: permission denied",
                               hint="run as root (sudo rmctl hugepages ...)")
    report = _run_pools(pp.plan, host, all_or_nothing)
    data["report"] = report.to_data()
    data["rolled_back"] = bool(report.rolled_back)
    by_path = {s.action.path: s for s in report.steps}
    short, code, message, hint = [], 0, None, None
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
        for s in report.steps if not isinstance(s.action, SetPoolPages)]
    code = int(exit_status(report))
    err = error_of(report)
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


def _finish(settings, f: str, kind: str, data: dict, result: tuple, printer) -> None:
    """Print the document; then, on failure or shortfall, one stderr line and the exit code."""
    _print(settings, f, kind, data, printer)
    _, code, message, hint = result
    if code:
        _fail(message or "failed", code, hint)


@hugepages_app.command("set")
@handle_errors
def set_(
    ctx: typer.Context,
    assignments: Annotated[List[str], typer.Argument(metavar="SIZE=COUNT...",
                                                     help="Pool sizes, e.g. 2M=512 1G=4 (SIZE alone with --per-node or --overcommit).")],
    node: Annotated[Optional[int], typer.Option("--node", metavar="N", help="Set the pool of NUMA node N (default: the global pool, which the kernel spreads over nodes).")] = None,
    per_node: Annotated[Optional[str], typer.Option("--per-node", metavar="N:COUNT,...", help="Pages per NUMA node, e.g. 0:512,1:256.")] = None,
    overcommit: Annotated[Optional[int], typer.Option("--overcommit", min=0, metavar="N", help="Also set nr_overcommit_hugepages (surplus pages on demand; not for gigantic pages).")] = None,
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="On a shortfall restore every pool touched to its previous size.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write even when the request exceeds free memory (the kernel grants what it can).")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Set hugepage pool sizes, read them back and report requested vs achieved.

    A request that does not fit free memory is refused before any write
    (exit 4) unless --force.  A shortfall exits 4 with the numbers.

    Example: rmctl hugepages set 2M=512 --node 0
    """
    from rmctl.discovery.buddyinfo import largest_buddy_block
    from rmctl.planning.hugepages import plan_set
    from rmctl.render.hugepages import print_pools

    settings = ctx.obj
    nm = settings.node()
    requests, sizes = _requests(nm, assignments, node, per_node, overcommit)
    pp = plan_set(nm, requests, overcommit=overcommit, overcommit_sizes=sizes, force=force,
                  gigantic_above=largest_buddy_block(nm, _zones(settings)))
    if overcommit is not None and (node is not None or per_node is not None):
        pp.plan.notes.append("nr_overcommit_hugepages is global (the kernel has no per-node file): "
                             "surplus pages may come from any node the allocating task may use")
    result = _apply_pool_plan(settings, pp, all_or_nothing=all_or_nothing, dry_run=dry_run)
    _finish(settings, fmt(output), "HugepagePools", result[0], result, print_pools)


@hugepages_app.command("size")
@handle_errors
def size(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(metavar="AMOUNT", help="Memory to hold in hugepages, e.g. 12Gi.")],
    page_size: Annotated[str, typer.Option("--page-size", metavar="SIZE", help="Page size, e.g. 2M or 1G.")],
    nodes: Annotated[Optional[str], typer.Option("--nodes", metavar="LIST", help="NUMA nodes, e.g. 0,1 (default: every node with memory).")] = None,
    spread: Annotated[str, typer.Option("--spread", metavar="even|local", help="even: the same on every node; local: fill nodes in order.")] = "even",
    apply_: Annotated[bool, typer.Option("--apply", help="Perform the plan (through the same path as 'set').")] = False,
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="With --apply: on a shortfall restore every pool touched.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --apply: write even beyond free memory.")] = False,
    output: Output = Format.table,
):
    """Compute the page counts that give AMOUNT of memory, as a plan; --apply performs it.

    Counts are absolute pool sizes per node.

    Example: rmctl hugepages size 12Gi --page-size 1G --nodes 0,1
    """
    from rmctl.planning.hugepages import page_size_of, parse_nodes, plan_set, plan_size
    from rmctl.render.hugepages import print_pools
    from rmctl.units import parse_size

    settings = ctx.obj
    nm = settings.node()
    ps = page_size_of(nm, page_size)
    sizing = plan_size(nm, parse_size(amount, what="amount"), ps,
                       parse_nodes(nodes) if nodes is not None else None, spread)
    pp = plan_set(nm, [(ps, sizing.per_node)], force=force, command="hugepages size")
    result = _apply_pool_plan(settings, pp, all_or_nothing=all_or_nothing, dry_run=not apply_)
    result[0]["sizing"] = sizing.to_data()
    _finish(settings, fmt(output), "HugepageSizing", result[0], result, print_pools)


# -- mount / umount ------------------------------------------------------------------

def _existing_mount(settings, path: str):
    """Return (source, fstype, options) of the last mount at ``path`` under the root, or None."""
    from rmctl.discovery import paths
    from rmctl.discovery.parse import parse_mounts

    found = None
    for src, mpath, fstype, opts in parse_mounts(settings.root.read(paths.PROC_MOUNTS) or ""):
        if mpath == path:
            found = (src, fstype, opts)
    return found


def _apply_plan(settings, plan, what: str):
    """Apply a mount/umount plan on the live machine; return (report, exit code, message)."""
    import os

    from rmctl.errors import AccessDenied
    from rmctl.execute.executor import apply
    from rmctl.execute.status import error_of, exit_status

    settings.require_live(what)
    host = _host(settings)
    if getattr(host, "live", False) and os.geteuid() != 0:
        raise AccessDenied(f"cannot {what}: mount(2) needs root (CAP_SYS_ADMIN)",
                           hint="run as root (sudo rmctl hugepages ...)")
    report = apply(plan, host)
    err = error_of(report)
    return report, int(exit_status(report)), (err.message if err is not None else None)


def _mount_doc(mp, report, dry_run: bool, command: str) -> dict:
    data = mp.to_data()
    data.update(command=command, dry_run=dry_run, report=report.to_data() if report else None)
    if report is not None:
        data["changed"] = report.changed
        data["status"] = "unchanged" if report.ok and not report.changed else ("ok" if report.ok else "failed")
    else:
        data["status"] = "planned"
    return data


@hugepages_app.command("mount")
@handle_errors
def mount(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="PATH", help="Mount point (created if missing).")],
    page_size: Annotated[Optional[str], typer.Option("--page-size", metavar="SIZE", help="Page size (default: the kernel's default hugepage size).")] = None,
    size: Annotated[Optional[str], typer.Option("--size", metavar="SIZE|N%", help="Most memory the mount may use (bytes or % of the pool).")] = None,
    min_size: Annotated[Optional[str], typer.Option("--min-size", metavar="SIZE|N%", help="Memory reserved for the mount at mount time.")] = None,
    nr_inodes: Annotated[Optional[str], typer.Option("--nr-inodes", metavar="N", help="Most inodes (files).")] = None,
    uid: Annotated[Optional[int], typer.Option("--uid", metavar="UID", help="Owner of the mount's root.")] = None,
    gid: Annotated[Optional[int], typer.Option("--gid", metavar="GID", help="Group of the mount's root.")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", metavar="OCTAL", help="Mode of the mount's root, e.g. 1770.")] = None,
    fstab: Annotated[bool, typer.Option("--fstab", help="Print the matching /etc/fstab line only; change nothing.")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Mount hugetlbfs at PATH; an identical mount is reported unchanged, a different one is a conflict (exit 5).

    Example: rmctl hugepages mount /mnt/huge-1g --page-size 1G --min-size 2G --mode 1770
    """
    from rmctl.planning.hugepages import mount_path, mount_request, page_size_of, plan_mount
    from rmctl.render.hugepages import print_mount
    from rmctl.units import format_size

    settings = ctx.obj
    nm = settings.node()
    if page_size is not None:
        ps = page_size_of(nm, page_size)
    else:
        ps = nm.memory.hugepage_size
        if ps is None or ps not in nm.page_sizes():
            from rmctl.errors import UsageError

            raise UsageError("no default hugepage size under this root", hint="give --page-size")
    req = mount_request(nm, path, ps, size=size, min_size=min_size, nr_inodes=nr_inodes,
                        uid=uid, gid=gid, mode=mode)
    p = mount_path(path)
    mp = plan_mount(nm, req, existing=_existing_mount(settings, p), dir_state=_host(settings).dir_state(p))
    report, code, message = (None, 0, None)
    if not (dry_run or fstab):
        report, code, message = _apply_plan(settings, mp.plan, f"mount hugetlbfs ({format_size(ps)}) at {p}")
    data = _mount_doc(mp, report, dry_run or fstab, "hugepages mount")
    data["fstab_only"] = fstab
    _print(settings, fmt(output), "HugetlbfsMount", data, print_mount)
    if code:
        _fail(message or "mount failed", code)


@hugepages_app.command("umount")
@handle_errors
def umount(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="PATH", help="The hugetlbfs mount point.")],
    rmdir: Annotated[bool, typer.Option("--rmdir", help="Also remove the (empty) mount point directory.")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Unmount the hugetlbfs at PATH (nothing mounted: unchanged); --rmdir also removes the directory.

    The directory is kept by default, as umount(8) does.

    Example: rmctl hugepages umount /mnt/huge-1g --rmdir
    """
    from rmctl.planning.hugepages import mount_path, plan_umount
    from rmctl.render.hugepages import print_mount

    settings = ctx.obj
    p = mount_path(path)
    mp = plan_umount(p, existing=_existing_mount(settings, p), rmdir=rmdir, node=settings.node())
    report, code, message = (None, 0, None)
    if not dry_run:
        report, code, message = _apply_plan(settings, mp.plan, f"unmount {p}")
    data = _mount_doc(mp, report, dry_run, "hugepages umount")
    _print(settings, fmt(output), "HugetlbfsUmount", data, print_mount)
    if code:
        _fail(message or "umount failed", code)


# -- boot-args -------------------------------------------------------------------------

@hugepages_app.command("boot-args")
@handle_errors
def boot_args(
    ctx: typer.Context,
    assignments: Annotated[List[str], typer.Argument(metavar="SIZE=COUNT...",
                                                     help="Pools to allocate at boot, e.g. 1G=8 or 1G=0:4,1:4.")],
    per_node: Annotated[bool, typer.Option("--per-node", help="Split each count evenly over the nodes with memory (hugepages=0:N,1:N form).")] = False,
    default_size: Annotated[Optional[str], typer.Option("--default-size", metavar="SIZE", help="Also set default_hugepagesz.")] = None,
    output: Output = Format.table,
):
    """Print kernel arguments for hugepage pools, the diff against the running command line, and advice.

    Example: rmctl hugepages boot-args 1G=16 2M=1024 --per-node
    """
    from rmctl.discovery.buddyinfo import estimate, largest_buddy_block
    from rmctl.planning.hugepages import page_size_of, parse_assignment, parse_count, parse_per_node, plan_boot_args
    from rmctl.errors import UsageError
    from rmctl.render.hugepages import print_boot_args

    settings = ctx.obj
    nm = settings.node()
    zones = _zones(settings)
    requests = []
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
    _print(settings, fmt(output), "HugepageBootArgs", bp.to_data(), print_boot_args)
