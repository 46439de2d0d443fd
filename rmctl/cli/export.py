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


def _profile(settings, path: str | None):
    import json

    from rmctl import journal
    from rmctl.profile import load_profile, parse_profile

    if path:
        return load_profile(path)
    raw = journal.last_profile(settings.state_dir)
    if raw is None:
        return None
    return parse_profile(json.dumps(raw), "<last applied profile>")


def _system_cpus(settings, profile) -> str | None:
    """Return the system-reserved CPUs: the CPU state's, else the profile's explicit list."""
    try:
        from rmctl.provision import state_system_cpus
    except ImportError:  # pragma: no cover
        state_system_cpus = None
    if state_system_cpus is not None:
        cpus = state_system_cpus(settings.state_dir, settings.node())
        if cpus:
            return cpus
    if profile is not None and profile.system_reserved_cpus:
        return profile.system_reserved_cpus
    if profile is not None and profile.system_reserved_count:
        from rmctl.errors import ConflictError

        raise ConflictError("the profile asks for a count of system CPUs but none are reserved yet",
                            hint="apply the profile first (`rmctl apply -f PROFILE`), then export")
    return None


def _print_object(obj: dict, f: str) -> None:
    import json

    if f == "json":
        sys.stdout.write(json.dumps(obj, indent=2) + "\n")
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(obj, sort_keys=False, default_flow_style=False))


@app.command("kubelet-config", help="A KubeletConfiguration fragment: static CPU manager, topology and memory manager.")
@handle_errors
def kubelet_config_cmd(ctx: typer.Context, file: ProfileOpt = None, output: Output = Format.yaml):
    from rmctl.exports.kubelet import kubelet_config

    settings = ctx.obj
    profile = _profile(settings, file)
    node = settings.node()
    _print_object(kubelet_config(node, system_cpus=_system_cpus(settings, profile), profile=profile), fmt(output))


@app.command("resourceslice", help="A resource.k8s.io/v1 ResourceSlice of this node's devices.")
@handle_errors
def resourceslice_cmd(
    ctx: typer.Context,
    output: Output = Format.yaml,
    node_name: Annotated[Optional[str], typer.Option("--node-name", help="Kubernetes node name (default: the host name).")] = None,
    driver: Annotated[str, typer.Option("--driver", help="DRA driver name the slice is published under.")] = "rmctl.io",
):
    import os

    from rmctl.exports.resourceslice import resource_slice

    settings = ctx.obj
    node = settings.node(devices=True)
    # Host names may carry capitals; the kubelet lower-cases them for the node
    # name (pkg/util/node.GetHostname), so the default does too.  A name given
    # with --node-name or NODE_NAME is taken as is and must already be valid.
    name = node_name or os.environ.get("NODE_NAME")
    if not name:
        import re

        guess = (os.uname().nodename if settings.root.is_live
                 else os.path.basename(settings.root_spec.rstrip("/")).split(".")[0])
        name = re.sub(r"[^0-9a-z.-]+", "-", guess.lower()).strip("-.") or "node"
    _print_object(resource_slice(node, node_name=name, driver=driver), fmt(output))


@app.command("nfd", help="A Node Feature Discovery local feature file (features.d).")
@handle_errors
def nfd_cmd(ctx: typer.Context, file: ProfileOpt = None, output: Output = Format.table):
    from rmctl.exports.nfd import feature_file, features

    settings = ctx.obj
    profile = _profile(settings, file)
    node = settings.node(devices=True)
    feats = features(node, system_cpus=_system_cpus(settings, profile),
                     profile_name=profile.name if profile is not None else None)
    f = fmt(output)
    if f == "table":
        sys.stdout.write(feature_file(feats))
    else:
        from rmctl.cli.output import emit

        emit("NodeFeatures", {"features": feats}, f)
