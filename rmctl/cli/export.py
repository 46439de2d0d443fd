"""`rmctl export kubelet-config|resourceslice|nfd` (registered by rmctl.cli).

The Kubernetes objects are printed as they are (YAML by default, ``-o
json``), not inside rmctl's envelope, so they can be fed to the kubelet or
``kubectl apply`` unchanged; errors still follow rmctl's error document.
``export nfd`` prints a feature file (``-o json|yaml``: rmctl's envelope
with ``features``).

Profile settings (reserved memory, topology policy) come from ``-f
PROFILE``, else from the newest apply journal still in effect; the system
CPUs from the CPU state (``cpu reserve-system``), else the profile's
explicit list.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer
from typing import Annotated

from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt

app = typer.Typer(name="export", help="Export the node's state for Kubernetes: kubelet config, ResourceSlice, NFD features.",
                  no_args_is_help=True, rich_markup_mode=None)

ProfileOpt = Annotated[Optional[str], typer.Option("--file", "-f", metavar="PROFILE",
                                                   help="NodeProfile to take settings from (default: the last applied).")]


def register(root_app) -> None:
    """Add ``rmctl export ...``."""
    root_app.add_typer(app, name="export")


def _print_object(obj: dict, f: str) -> None:
    import json

    if f == "json":
        sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    else:
        import yaml

        # through JSON: plain dicts and lists only (the model's mappings are FrozenDicts)
        plain = json.loads(json.dumps(obj))
        sys.stdout.write(yaml.safe_dump(plain, sort_keys=False, default_flow_style=False))


def _print_bare(settings, outcome, f: str) -> None:
    """Print the Kubernetes object of ``outcome`` as it is (no rmctl envelope)."""
    _print_object(outcome.data, f)


@app.command("kubelet-config", help="A KubeletConfiguration fragment: static CPU manager, topology and memory manager.")
@handle_errors
def kubelet_config_cmd(ctx: typer.Context, file: ProfileOpt = None, output: Output = Format.yaml):
    from rmctl.ops.export import kubelet_config

    settings = ctx.obj
    _print_bare(settings, kubelet_config(settings.root, settings.state_dir, profile_path=file), fmt(output))


@app.command("resourceslice", help="A resource.k8s.io/v1 ResourceSlice of this node's devices.")
@handle_errors
def resourceslice_cmd(
    ctx: typer.Context,
    output: Output = Format.yaml,
    node_name: Annotated[Optional[str], typer.Option("--node-name", help="Kubernetes node name (default: the host name).")] = None,
    driver: Annotated[str, typer.Option("--driver", help="DRA driver name the slice is published under.")] = "rmctl.io",
):
    import os

    from rmctl.ops.export import resourceslice

    # A name given with --node-name or NODE_NAME is taken as is and must
    # already be valid; the default is the host name, lower-cased.
    settings = ctx.obj
    outcome = resourceslice(settings.root, node_name=node_name or os.environ.get("NODE_NAME"), driver=driver)
    _print_bare(settings, outcome, fmt(output))


@app.command("nfd", help="A Node Feature Discovery local feature file (features.d).")
@handle_errors
def nfd_cmd(ctx: typer.Context, file: ProfileOpt = None, output: Output = Format.table):
    from rmctl.cli.output import finish
    from rmctl.ops.export import nfd

    settings = ctx.obj
    finish(settings, nfd(settings.root, settings.state_dir, profile_path=file), fmt(output),
           table=lambda _settings, outcome: sys.stdout.write(outcome.view))
