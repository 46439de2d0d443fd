"""`rmctl snapshot`: capture this machine's (or a root's) /sys and /proc for later --root use."""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt

snapshot_app = typer.Typer(help="Capture snapshots readable later with --root.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``snapshot`` group to the root app."""
    app.add_typer(snapshot_app, name="snapshot")


@snapshot_app.command("capture")
@handle_errors
def capture(
    ctx: typer.Context,
    out: Annotated[str, typer.Argument(metavar="OUT.tar.gz",
                                       help="Tarball to write (.tar, .tar.gz, .tar.bz2, .tar.xz).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
    keep_ids: Annotated[bool, typer.Option("--keep-ids", help="Keep unit identities (GPU UUIDs in the facts, pod UIDs and device IDs in the kubelet's checkpoints), for a snapshot that stays private.")] = False,
    output: Output = Format.table,
):
    """Write the files rmctl reads (the capture manifest) plus a facts file to OUT.

    Only OUT is written; the machine is not changed.  No serial numbers,
    UUIDs or hostnames are captured (GPU UUIDs only with --keep-ids).  The
    kubelet's checkpoints (under --kubelet-root) are kept with pod UIDs and
    device UUIDs replaced by stand-ins, unless --keep-ids.  Exit 5 when OUT
    exists (without --force).

    Example: rmctl snapshot capture /tmp/$(hostname).tar.gz
    """
    from rmctl.cli.output import finish
    from rmctl.ops.snapshot import capture as capture_snapshot

    finish(ctx.obj, capture_snapshot(ctx.obj.root, out, force=force, keep_ids=keep_ids,
                                     kubelet_root=ctx.obj.kubelet_root), fmt(output),
           table=_summary_line)


def _summary_line(settings, outcome) -> None:
    import sys

    s = outcome.data
    sys.stdout.write(f"wrote {s['path']}: {s['files']} files, {s['links']} links (top folder {s['top']}/)\n")
