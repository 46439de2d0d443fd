"""`rmctl class list|show|validate`: DRA-style resource classes (CEL selectors over devices).

Classes are the built-ins (gpu, nic, rdma, nvme, accel) plus every YAML file
in ``--class-dir`` (default /etc/rmctl/classes, env RMCTL_CLASS_DIR).
Selectors compile when classes load: a syntax error exits 2 naming the
file and the line:column.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rmctl.cli.complete import complete_classes
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt

ClassDir = Annotated[str | None, typer.Option(
    "--class-dir", envvar="RMCTL_CLASS_DIR", metavar="DIR",
    help="Directory of ResourceClass YAML files (default /etc/rmctl/classes; built-ins always load).")]


_complete_class = complete_classes


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="class", no_args_is_help=True, rich_markup_mode=None,
                      help="Resource classes: named CEL selectors over devices (DRA DeviceClass).")
    sub.command("list")(list_classes)
    sub.command("show")(show_class)
    sub.command("validate")(validate_classes)
    app.add_typer(sub, name="class")


@handle_errors
def list_classes(ctx: typer.Context, class_dir: ClassDir = None, output: Output = Format.table):
    """List the classes: built-ins and those in the class directory.

    Example: rmctl class list --class-dir ./classes
    """
    from rmctl.cli.output import finish
    from rmctl.ops.classes import list_classes as list_op

    finish(ctx.obj, list_op(class_dir), fmt(output), table=_list_table)


def _list_table(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render.requests import class_table

    console(settings).print(class_table(list(outcome.view)))


@handle_errors
def show_class(ctx: typer.Context,
               name: Annotated[str, typer.Argument(help="Class name.", autocompletion=_complete_class)],
               class_dir: ClassDir = None, output: Output = Format.table):
    """Show one class: where it comes from and its selectors."""
    from rmctl.cli.output import finish
    from rmctl.ops.classes import show_class as show_op

    finish(ctx.obj, show_op(name, class_dir), fmt(output), table=_detail_table)


def _detail_table(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render.requests import class_detail

    con = console(settings)
    for r in class_detail(outcome.view):
        con.print(r, markup=False)


@handle_errors
def validate_classes(ctx: typer.Context,
                     files: Annotated[list[str] | None, typer.Argument(
                         help="Class files to check (default: every file of the class directory).")] = None,
                     class_dir: ClassDir = None, output: Output = Format.table):
    """Check class files: YAML shape, fields, CEL (syntax, types, cost); exit 2 listing every error (file:line:col).

    Example: rmctl class validate classes/*.yaml
    """
    from rmctl.cli.output import finish
    from rmctl.ops.classes import validate_classes as validate_op

    finish(ctx.obj, validate_op(list(files or []), class_dir), fmt(output), table=_validation_lines)


def _validation_lines(settings, outcome) -> None:
    import sys

    checked = outcome.data["classes"]
    for c in checked:
        n = c["selectors"]
        sys.stdout.write(f"{c['file']}: class {c['name']}: ok ({n} selector{'' if n == 1 else 's'})\n")
    if not checked:
        sys.stdout.write("no class files to check\n")
