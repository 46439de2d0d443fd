"""``rmctl export kubelet-config|resourceslice|nfd``: the node for Kubernetes.

The Kubernetes objects (KubeletConfiguration fragment, ResourceSlices,
NFD's NodeFeature) are the documents as they are, not inside rmctl's
envelope (the CLI prints them bare, so they feed the kubelet or ``kubectl
apply`` unchanged); ``view`` holds the comment block the YAML form starts
with (where each value came from, what was left out and why), or the NFD
feature file's text.  An export never renders an error document.

Profile settings come from a profile file, else from the newest apply
journal still in effect.  CPUs come from rmctl's reservations state (the
root's state dir, rmctl.ops.statedir: a snapshot never reads this machine's
default one, nor its apply journals); when
the profile is not applied yet (bootstrapping a node's kubelet), from what
applying it would choose, said as such.
"""

from __future__ import annotations

import datetime
import json
import os
import re

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import UsageError
from rmctl.model.node import NodeModel
from rmctl.model.profile_actions import StateReplace
from rmctl.ops import statedir
from rmctl.ops.outcome import Outcome, warning
from rmctl.profile import load_profile, parse_profile
from rmctl.profile.schema import NodeProfile
from rmctl.state import journal


def profile_in_effect(root: Root, state_dir: str, path: str | None) -> NodeProfile | None:
    """Return the profile in ``path``, else the last applied one still in effect (journal), else None.

    A snapshot's profile is never read from the default state dir's journals:
    they record what was applied to this machine, not to the snapshot.
    """
    if path:
        return load_profile(path)
    if not statedir.applies(root.is_live, state_dir):
        return None
    raw = journal.last_profile(state_dir)
    if raw is None:
        return None
    return parse_profile(json.dumps(raw), "<last applied profile>")


def system_cpus(node: NodeModel, state_dir: str, profile: NodeProfile | None) -> str | None:
    """Return the system-reserved CPUs (NFD): the CPU state's, else the profile's explicit list, else None."""
    from rmctl.model.fingerprint import fingerprint

    cpus = statedir.for_node(node, state_dir, "rmctl export nfd").load(fingerprint(node)).system_cpus
    if cpus:
        return cpus.to_list()
    if profile is not None and profile.system_reserved_cpus:
        return profile.system_reserved_cpus
    return None


def cpu_facts(root: Root, node: NodeModel, state_dir: str, profile: NodeProfile | None):
    """Return the CPUs the kubelet must keep from pods (system CPUs, reservations) and their source.

    "state": what rmctl's state holds; "plan": the profile is not (fully)
    applied, so what applying it would choose on this node (the same
    planner, nothing written).
    """
    from rmctl.exports.kubelet import CpuFacts
    from rmctl.state.ledger import parse

    lg = statedir.for_node(node, state_dir, "rmctl export kubelet-config")
    text = lg.read_text()
    final, source = text, "state"
    if profile is not None:
        from rmctl.ops.profile_plan import cpu_actions
        from rmctl.planning.amounts import resolve

        steps = cpu_actions(resolve(profile, node)[0], node, root, state_dir)
        if steps:
            last = steps[-1][1][-1]
            assert isinstance(last, StateReplace)  # the CPU steps end in the state file's new content
            final = last.content
            if final != text:
                source = "plan"
    if final is None:
        return CpuFacts()
    state = parse(final, lg.path)
    held = {name: rec.cpus for name, rec in state.reservations.items() if rec.cpus}
    # reservations made with --option strict-cpu-reservation (or a profile's options) require it
    strict = tuple(sorted(name for name, rec in state.reservations.items()
                          if rec.cpus and (rec.options or {}).get("strict-cpu-reservation")))
    return CpuFacts(system=state.system_cpus, held=held, source=source, strict=strict)


def kubelet_config(root: Root, state_dir: str, *, profile_path: str | None = None,
                   kubelet_version: str | None = None) -> Outcome:
    """Return the KubeletConfiguration fragment (``view``: its comment block; warnings as messages)."""
    from rmctl.exports.kubelet import kubelet_config as fragment
    from rmctl.exports.kubelet_versions import parse_version

    version = parse_version(kubelet_version)
    profile = profile_in_effect(root, state_dir, profile_path)
    node = discover(root)
    ex = fragment(node, profile=profile, cpus=cpu_facts(root, node, state_dir, profile), version=version)
    return Outcome(kind="KubeletConfiguration", data=ex.config, view=ex.comment(),
                   messages=tuple(warning(w) for w in ex.warnings))


def default_node_name(root: Root) -> str:
    """Return the node name to publish under: this host's (live), else the snapshot's file name.

    Host names may carry capitals; the kubelet lower-cases them for the node
    name (pkg/util/node.GetHostname), so this does too.
    """
    guess = os.uname().nodename if root.is_live else os.path.basename(root.spec.rstrip("/")).split(".")[0]
    return re.sub(r"[^0-9a-z.-]+", "-", guess.lower()).strip("-.") or "node"


def resourceslice(root: Root, *, node_name: str | None = None, driver: str = "rmctl.io",
                  class_names=None, class_dir: str | None = None, publish_all: bool = False,
                  api_version: str = "resource.k8s.io/v1", generation: int = 1) -> Outcome:
    """Return the ResourceSlice(s) of the devices a workload can be given (``view``: exclusions, reasons).

    ``node_name`` (given by the caller, or NODE_NAME) is taken as is and
    must be a valid name; None: :func:`default_node_name`.
    """
    from rmctl.discovery.inuse import devices_in_use
    from rmctl.exports.resourceslice import DEFAULT_CLASSES, export_slices
    from rmctl.resources.classes import DEFAULT_CLASS_DIR, load_classes

    node = discover(root, devices=True)
    if api_version in ("v1", "v1beta2", "v1beta1"):
        api_version = f"resource.k8s.io/{api_version}"
    classes = load_classes(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None)
    in_use = None if publish_all else devices_in_use(root, node.devices)
    ex = export_slices(node, node_name=node_name or default_node_name(root), classes=classes,
                       class_names=tuple(class_names or DEFAULT_CLASSES), in_use=in_use, driver=driver,
                       generation=generation, api_version=api_version, publish_all=publish_all)
    doc = ex.document()
    return Outcome(kind=doc["kind"], data=doc, view=ex.comment(),
                   messages=tuple(warning(f"not checked: {u}") for u in ex.unknown))


def parse_expiry(text: str) -> datetime.timedelta | None:
    """Return the ``--expiry`` duration (``30m``, ``1h``, ``2d``, ``90s``), None for ``never``."""
    if text.strip().lower() in ("never", "none", "0"):
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"--expiry {text!r} is not a duration", hint="e.g. 30m, 1h, 2d, or never")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
    return datetime.timedelta(**{unit: int(m.group(1))})


def nfd(root: Root, state_dir: str, *, profile_path: str | None = None, expiry: str = "1h",
        node_name: str | None = None) -> Outcome:
    """Return NFD's NodeFeature object; ``view``: the feature file's text, with its expiry directive."""
    from rmctl.exports.nfd import feature_file, features, node_feature

    ttl = parse_expiry(expiry)
    profile = profile_in_effect(root, state_dir, profile_path)
    node = discover(root, devices=True)
    feats = features(node, system_cpus=system_cpus(node, state_dir, profile),
                     profile_name=profile.name if profile is not None else None)
    expires = None if ttl is None else datetime.datetime.now(datetime.timezone.utc) + ttl
    return Outcome(kind="NodeFeature", data=node_feature(feats, node_name=node_name or default_node_name(root)),
                   view=feature_file(feats, expires=expires))


def write_output(path: str, text: str) -> None:
    """Write an export to ``path`` atomically (rmctl.execute.outfile); raise RmctlError."""
    from rmctl.execute.outfile import write_atomic

    write_atomic(path, text)
