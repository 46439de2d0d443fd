"""`rmctl hugepages`: show, set, size, mount, umount, boot-args.

Each command parses its options, calls one use case (rmctl.ops.hugepages)
and renders the Outcome (rmctl.render.hugepages for tables); nothing here
reads or writes the machine.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.complete import (
    choices,
    complete_numa_list,
    complete_numa_nodes,
    complete_page_size_counts,
    complete_page_sizes,
)
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import DryRun, Format, Output, Watch, fmt

hugepages_app = typer.Typer(
    name="hugepages", no_args_is_help=True, rich_markup_mode=None,
    help="Hugepage pools per page size and NUMA node, hugetlbfs mounts, boot arguments.",
)


def register(app) -> None:
    """Add the ``hugepages`` group to the root app."""
    app.add_typer(hugepages_app, name="hugepages")


def _render(printer):
    """Return the table renderer of a document printer ``printer(console, data)``."""
    def table(settings, outcome) -> None:
        from rmctl.cli.output import console

        printer(console(settings), outcome.data)

    return table


# -- show ---------------------------------------------------------------------------

@hugepages_app.command("show")
@handle_errors
def show(ctx: typer.Context, output: Output = Format.table, watch: Watch = None):
    """Show every page size's pools (global and per node), mounts, THP and what could be had now.

    "obtainable now" estimates how many more pages the kernel could give
    at this moment: from proc/buddyinfo (free blocks big enough) for
    sizes the buddy allocator serves, else from free memory.  --watch
    [SECONDS] redraws it on a terminal until Ctrl-C.

    Example: rmctl hugepages show -o json
    """
    from rmctl.cli.output import finish
    from rmctl.cli.output import show as show_outcome
    from rmctl.ops.hugepages import show as show_op
    from rmctl.render.hugepages import print_show

    if watch is not None:
        from rmctl.cli import watch as w

        w.check(watch, fmt(output))
        w.loop(watch, "rmctl hugepages show",
               lambda: show_outcome(ctx.obj, show_op(ctx.obj.root), "table", table=_render(print_show)))
        return
    finish(ctx.obj, show_op(ctx.obj.root), fmt(output), table=_render(print_show))


# -- set / size ---------------------------------------------------------------------

@hugepages_app.command("set")
@handle_errors
def set_(
    ctx: typer.Context,
    assignments: Annotated[list[str], typer.Argument(metavar="SIZE=COUNT...", autocompletion=complete_page_size_counts,
                                                     help="Pool sizes, e.g. 2M=512 1G=4 (SIZE alone with --per-node or --overcommit).")],
    numa: Annotated[int | None, typer.Option("--numa", metavar="N", autocompletion=complete_numa_nodes, help="Set the pool of NUMA node N (default: the global pool, which the kernel spreads over nodes).")] = None,
    node: Annotated[int | None, typer.Option("--node", metavar="N", hidden=True, help="Old name of --numa.")] = None,
    per_node: Annotated[str | None, typer.Option("--per-node", metavar="N:COUNT,...", help="Pages per NUMA node, e.g. 0:512,1:256.")] = None,
    overcommit: Annotated[int | None, typer.Option("--overcommit", min=0, metavar="N", help="Also set nr_overcommit_hugepages (surplus pages on demand; not for gigantic pages).")] = None,
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="On a shortfall restore every pool touched to its previous size.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write even when the request exceeds free memory (the kernel grants what it can).")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Set hugepage pool sizes, read them back and report requested vs achieved.

    A request that does not fit free memory is refused before any write
    (exit 4) unless --force.  A shortfall exits 4 with the numbers.

    Example: rmctl hugepages set 2M=512 --numa 0
    """
    from rmctl.cli.options import alias
    from rmctl.cli.output import finish
    from rmctl.ops.hugepages import set_pools
    from rmctl.render.hugepages import print_pools

    outcome = set_pools(ctx.obj.root, assignments, node=alias(numa, node, "--numa", "--node"), per_node=per_node, overcommit=overcommit,
                        all_or_nothing=all_or_nothing, force=force, dry_run=dry_run)
    finish(ctx.obj, outcome, fmt(output), table=_render(print_pools))


@hugepages_app.command("size")
@handle_errors
def size(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(metavar="AMOUNT", help="Memory to hold in hugepages, e.g. 12Gi.")],
    page_size: Annotated[str, typer.Option("--page-size", metavar="SIZE", autocompletion=complete_page_sizes, help="Page size, e.g. 2M or 1G.")],
    numa: Annotated[str | None, typer.Option("--numa", metavar="LIST", autocompletion=complete_numa_list, help="NUMA nodes, e.g. 0,1 (default: every node with memory).")] = None,
    nodes: Annotated[str | None, typer.Option("--nodes", metavar="LIST", hidden=True, help="Old name of --numa.")] = None,
    spread: Annotated[str, typer.Option("--spread", metavar="even|local", autocompletion=choices("even", "local"), help="even: the same on every node; local: fill nodes in order.")] = "even",
    apply_: Annotated[bool, typer.Option("--apply", help="Perform the plan (through the same path as 'set').")] = False,
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="With --apply: on a shortfall restore every pool touched.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --apply: write even beyond free memory.")] = False,
    output: Output = Format.table,
):
    """Compute the page counts that give AMOUNT of memory, as a plan; --apply performs it.

    Counts are absolute pool sizes per node.

    Example: rmctl hugepages size 12Gi --page-size 1G --numa 0,1
    """
    from rmctl.cli.options import alias
    from rmctl.cli.output import finish
    from rmctl.ops.hugepages import size_pools
    from rmctl.render.hugepages import print_pools

    outcome = size_pools(ctx.obj.root, amount, page_size=page_size, nodes=alias(numa, nodes, "--numa", "--nodes"), spread=spread,
                         apply_plan=apply_, all_or_nothing=all_or_nothing, force=force)
    finish(ctx.obj, outcome, fmt(output), table=_render(print_pools))


# -- mount / umount ------------------------------------------------------------------

@hugepages_app.command("mount")
@handle_errors
def mount(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="PATH", help="Mount point (created if missing).")],
    page_size: Annotated[str | None, typer.Option("--page-size", metavar="SIZE", autocompletion=complete_page_sizes, help="Page size (default: the kernel's default hugepage size).")] = None,
    size: Annotated[str | None, typer.Option("--size", metavar="SIZE|N%", help="Most memory the mount may use (bytes or % of the pool).")] = None,
    min_size: Annotated[str | None, typer.Option("--min-size", metavar="SIZE|N%", help="Memory reserved for the mount at mount time.")] = None,
    nr_inodes: Annotated[str | None, typer.Option("--nr-inodes", metavar="N", help="Most inodes (files).")] = None,
    uid: Annotated[int | None, typer.Option("--uid", metavar="UID", help="Owner of the mount's root.")] = None,
    gid: Annotated[int | None, typer.Option("--gid", metavar="GID", help="Group of the mount's root.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", metavar="OCTAL", help="Mode of the mount's root, e.g. 1770.")] = None,
    fstab: Annotated[bool, typer.Option("--fstab", help="Print the matching /etc/fstab line only; change nothing.")] = False,
    dry_run: DryRun = False,
    output: Output = Format.table,
):
    """Mount hugetlbfs at PATH; an identical mount is reported unchanged, a different one is a conflict (exit 5).

    Example: rmctl hugepages mount /mnt/huge-1g --page-size 1G --min-size 2G --mode 1770
    """
    from rmctl.cli.output import finish
    from rmctl.ops.hugepages import mount as mount_op
    from rmctl.render.hugepages import print_mount

    outcome = mount_op(ctx.obj.root, path, page_size=page_size, size=size, min_size=min_size, nr_inodes=nr_inodes,
                       uid=uid, gid=gid, mode=mode, fstab=fstab, dry_run=dry_run)
    finish(ctx.obj, outcome, fmt(output), table=_render(print_mount))


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
    from rmctl.cli.output import finish
    from rmctl.ops.hugepages import umount as umount_op
    from rmctl.render.hugepages import print_mount

    finish(ctx.obj, umount_op(ctx.obj.root, path, rmdir=rmdir, dry_run=dry_run), fmt(output),
           table=_render(print_mount))


# -- boot-args -------------------------------------------------------------------------

@hugepages_app.command("boot-args")
@handle_errors
def boot_args(
    ctx: typer.Context,
    assignments: Annotated[list[str], typer.Argument(metavar="SIZE=COUNT...", autocompletion=complete_page_size_counts,
                                                     help="Pools to allocate at boot, e.g. 1G=8 or 1G=0:4,1:4.")],
    per_node: Annotated[bool, typer.Option("--per-node", help="Split each count evenly over the nodes with memory (hugepages=0:N,1:N form).")] = False,
    default_size: Annotated[str | None, typer.Option("--default-size", metavar="SIZE", autocompletion=complete_page_sizes, help="Also set default_hugepagesz.")] = None,
    output: Output = Format.table,
):
    """Print kernel arguments for hugepage pools, the diff against the running command line, and advice.

    Example: rmctl hugepages boot-args 1G=16 2M=1024 --per-node
    """
    from rmctl.cli.output import finish
    from rmctl.ops.hugepages import boot_args as boot_args_op
    from rmctl.render.hugepages import print_boot_args

    finish(ctx.obj, boot_args_op(ctx.obj.root, assignments, per_node=per_node, default_size=default_size),
           fmt(output), table=_render(print_boot_args))
