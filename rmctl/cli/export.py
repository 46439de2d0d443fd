"""`rmctl export kubelet-config|resourceslice|nfd` (registered by rmctl.cli; use cases in rmctl.ops.export).

The Kubernetes objects are printed as they are (YAML by default, ``-o
json``), not inside rmctl's envelope, so they can be fed to the kubelet or
``kubectl apply`` unchanged.  An export never prints an error document:
on failure stdout stays empty (the one-line error and its hint go to
stderr), so ``rmctl export ... > file`` cannot fill a file with an error.
``--output-file PATH`` writes atomically (temp file, fsync, rename; never
through a symbolic link) and leaves PATH untouched on failure.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from rmctl.cli.complete import complete_classes
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt

_complete_class = complete_classes

app = typer.Typer(name="export", help="Export the node's state for Kubernetes: kubelet config, ResourceSlice, NFD features.",
                  no_args_is_help=True, rich_markup_mode=None)

ProfileOpt = Annotated[str | None, typer.Option("--file", "-f", metavar="PROFILE",
                                                   help="NodeProfile to take settings from (default: the last applied).")]
OutputFile = Annotated[str | None, typer.Option(
    "--output-file", metavar="PATH",
    help="Write to PATH atomically (temp file + rename, mode kept, never through a symlink) instead of stdout.")]
NodeName = Annotated[str | None, typer.Option("--node-name", help="Kubernetes node name (default: NODE_NAME, "
                                                                     "else the host name).")]


def register(root_app) -> None:
    """Add ``rmctl export ...``."""
    root_app.add_typer(app, name="export")


def _text(obj: dict, f: str, comment: str = "") -> str:
    import json

    if f == "json":
        return json.dumps(obj, indent=2) + "\n"
    import yaml

    # through JSON: plain dicts and lists only (the model's mappings are FrozenDicts)
    plain = json.loads(json.dumps(obj))
    return comment + yaml.safe_dump(plain, sort_keys=False, default_flow_style=False)


def _finish(settings, outcome, text: str, output_file: str | None) -> None:
    """Write the export (stdout or --output-file), then its messages on stderr."""
    if output_file:
        from rmctl.ops.export import write_output

        write_output(output_file, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    for m in outcome.messages:
        sys.stderr.write(m.lines())


def _object_format(output) -> str:
    return "json" if fmt(output) == "json" else "yaml"  # a Kubernetes object has no table form


def _name(node_name: str | None) -> str | None:
    import os

    # A name given with --node-name or NODE_NAME is taken as is and must already be valid.
    return node_name or os.environ.get("NODE_NAME")


@app.command("kubelet-config", help="A KubeletConfiguration fragment the kubelet accepts: CPU, Topology and "
                                    "Memory Manager settings, reservations and complete eviction thresholds.")
@handle_errors(document=False)
def kubelet_config_cmd(
    ctx: typer.Context,
    file: ProfileOpt = None,
    output: Output = Format.yaml,
    kubelet_version: Annotated[str | None, typer.Option(
        "--kubelet-version", metavar="X.Y",
        help="Kubelet version to write for, 1.30 to 1.37 (default: the newest); options differ by version.")] = None,
    output_file: OutputFile = None,
):
    from rmctl.ops.export import kubelet_config

    settings = ctx.obj
    outcome = kubelet_config(settings.root, settings.state_dir, profile_path=file, kubelet_version=kubelet_version)
    f = _object_format(output)
    _finish(settings, outcome, _text(outcome.data, f, outcome.view), output_file)
    if settings.verbose and f == "json":
        sys.stderr.write(outcome.view)


@app.command("resourceslice", help="ResourceSlices of the devices a workload can be given (the classes' "
                                   "devices; never bridges, the root disk or the default-route NIC).")
@handle_errors(document=False)
def resourceslice_cmd(
    ctx: typer.Context,
    output: Output = Format.yaml,
    node_name: NodeName = None,
    driver: Annotated[str, typer.Option("--driver", help="DRA driver name the slices are published under "
                                                          "(device.driver in CEL).")] = "rmctl.io",
    class_names: Annotated[list[str] | None, typer.Option(
        "--class", metavar="CLASS", autocompletion=_complete_class,
        help="Publish the devices this class selects (repeatable; default: accel, gpu, nic, rdma, nvme).")] = None,
    class_dir: Annotated[str | None, typer.Option("--class-dir", metavar="DIR",
                                                     help="Directory of ResourceClass files (default /etc/rmctl/classes).")] = None,
    publish_all: Annotated[bool, typer.Option("--all", help="Publish every PCI function, bridges and the node's own "
                                                            "disk and NIC included.")] = False,
    api_version: Annotated[str, typer.Option("--api-version", metavar="API",
                                             help="resource.k8s.io/v1 (1.34+), v1beta2 (1.33+) or v1beta1 (1.32+).")]
    = "resource.k8s.io/v1",
    generation: Annotated[int, typer.Option("--generation", help="Pool generation (raise it when the devices "
                                                                 "change; consumers use the highest).")] = 1,
    output_file: OutputFile = None,
):
    from rmctl.ops.export import resourceslice

    settings = ctx.obj
    outcome = resourceslice(settings.root, node_name=_name(node_name), driver=driver, class_names=class_names,
                            class_dir=class_dir, publish_all=publish_all, api_version=api_version,
                            generation=generation)
    _finish(settings, outcome, _text(outcome.data, _object_format(output), outcome.view), output_file)
    if settings.verbose:
        sys.stderr.write(outcome.view)


@app.command("nfd", help="A Node Feature Discovery local feature file (features.d) with an expiry; "
                         "-o yaml|json: NFD's NodeFeature object.")
@handle_errors(document=False)
def nfd_cmd(
    ctx: typer.Context,
    file: ProfileOpt = None,
    output: Output = Format.table,
    expiry: Annotated[str, typer.Option(
        "--expiry", metavar="DURATION",
        help="The features expire this long after writing (NFD drops the labels unless the file is rewritten): "
             "e.g. 30m, 1h, 2d; 'never' writes no expiry.")] = "1h",
    node_name: NodeName = None,
    output_file: OutputFile = None,
):
    from rmctl.ops.export import nfd

    settings = ctx.obj
    outcome = nfd(settings.root, settings.state_dir, profile_path=file, expiry=expiry, node_name=_name(node_name))
    f = fmt(output)
    _finish(settings, outcome, outcome.view if f == "table" else _text(outcome.data, f), output_file)
