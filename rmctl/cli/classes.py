"""`rmctl class list|show|validate`: DRA-style resource classes (CEL selectors over devices).

Classes are the built-ins (gpu, nic, rdma, nvme, accel) plus every YAML file
in ``--class-dir`` (default /etc/rmctl/classes, env RMCTL_CLASS_DIR).
Selectors compile when classes load: a syntax error exits 2 naming the
file and the line:column.
"""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt

ClassDir = Annotated[Optional[str], typer.Option(
    "--class-dir", envvar="RMCTL_CLASS_DIR", metavar="DIR",
    help="Directory of ResourceClass YAML files (default /etc/rmctl/classes; built-ins always load).")]


def load(class_dir: str | None):
    """Return the classes (built-ins + directory); a named directory must exist."""
    from rmctl.resources.classes import DEFAULT_CLASS_DIR, load_classes

    return load_classes(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None)


def _complete_class(incomplete: str):
    try:
        import os

        return [n for n in load(os.environ.get("RMCTL_CLASS_DIR")) if n.startswith(incomplete)]
    except Exception:
        return []


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
    classes = sorted(load(class_dir).values(), key=lambda c: c.name)
    if fmt(output) != "table":
        from rmctl.cli.output import emit

        emit("ResourceClassList", {"classes": [c.to_data() for c in classes]}, fmt(output))
        return
    from rmctl.cli.output import console
    from rmctl.render.requests import class_table

    console(ctx.obj).print(class_table(classes))


@handle_errors
def show_class(ctx: typer.Context,
               name: Annotated[str, typer.Argument(help="Class name.", autocompletion=_complete_class)],
               class_dir: ClassDir = None, output: Output = Format.table):
    """Show one class: where it comes from and its selectors."""
    from rmctl.resources.classes import unknown_class

    classes = load(class_dir)
    if name not in classes:
        raise unknown_class(name, classes, "class")
    c = classes[name]
    if fmt(output) != "table":
        from rmctl.cli.output import emit

        emit("ResourceClass", {"class": c.to_data()}, fmt(output))
        return
    from rmctl.cli.output import console
    from rmctl.render.requests import class_detail

    con = console(ctx.obj)
    for r in class_detail(c):
        con.print(r, markup=False)


@handle_errors
def validate_classes(ctx: typer.Context,
                     files: Annotated[Optional[List[str]], typer.Argument(
                         help="Class files to check (default: every file of the class directory).")] = None,
                     class_dir: ClassDir = None, output: Output = Format.table):
    """Check class files: YAML shape, fields, CEL syntax; exit 2 at the first error (file:line:col).

    Example: rmctl class validate classes/*.yaml
    """
    from rmctl.resources.classes import DEFAULT_CLASS_DIR, class_files, load_file

    paths = list(files or []) or class_files(class_dir or DEFAULT_CLASS_DIR)
    if not files and class_dir:
        load(class_dir)  # a named directory must exist
    checked = []
    for p in paths:
        found = load_file(p)
        if not found and files:
            # a file named on the command line that holds no class is a mistake, not "all valid"
            from rmctl.resources.yamlio import InputError

            raise InputError(f"{p}: no ResourceClass document",
                             hint="a class file holds apiVersion, kind: ResourceClass, metadata and spec")
        for c in found:
            checked.append({"file": p, "name": c.name, "selectors": len(c.selectors)})
    if fmt(output) != "table":
        from rmctl.cli.output import emit

        emit("ResourceClassValidation", {"valid": True, "classes": checked}, fmt(output))
        return
    import sys

    for c in checked:
        sys.stdout.write(f"{c['file']}: class {c['name']}: ok ({c['selectors']} selector(s))\n")
    if not checked:
        sys.stdout.write("no class files to check\n")
