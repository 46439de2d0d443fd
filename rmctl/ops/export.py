"""``rmctl export kubelet-config|resourceslice|nfd``: the node for Kubernetes.

The Kubernetes objects (KubeletConfiguration fragment, ResourceSlice) are
the documents as they are, not inside rmctl's envelope (the CLI prints
them bare, so they feed the kubelet or ``kubectl apply`` unchanged); the
NFD features are rmctl's NodeFeatures document, ``view`` the feature file.

Profile settings (reserved memory, topology policy) come from a profile
file, else from the newest apply journal still in effect; the system CPUs
from the CPU state (``cpu reserve-system``), else the profile's explicit
list.
"""

from __future__ import annotations

import json
import os
import re

from rmctl import journal
from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import ConflictError
from rmctl.exports.kubelet import kubelet_config as kubelet_fragment
from rmctl.exports.nfd import feature_file, features
from rmctl.exports.resourceslice import resource_slice
from rmctl.model.node import NodeModel
from rmctl.ops.outcome import Outcome
from rmctl.profile import load_profile, parse_profile
from rmctl.profile.schema import NodeProfile
from rmctl.provision import state_system_cpus


def profile_in_effect(state_dir: str, path: str | None) -> NodeProfile | None:
    """Return the profile in ``path``, else the last applied one still in effect (journal), else None."""
    if path:
        return load_profile(path)
    raw = journal.last_profile(state_dir)
    if raw is None:
        return None
    return parse_profile(json.dumps(raw), "<last applied profile>")


def system_cpus(node: NodeModel, state_dir: str, profile: NodeProfile | None) -> str | None:
    """Return the system-reserved CPUs: the CPU state's, else the profile's explicit list.

    A profile asking for a count of system CPUs that the state does not
    hold yet is a ConflictError (exit 5): the count is chosen at apply.
    """
    cpus = state_system_cpus(state_dir, node)
    if cpus:
        return cpus
    if profile is not None and profile.system_reserved_cpus:
        return profile.system_reserved_cpus
    if profile is not None and profile.system_reserved_count:
        raise ConflictError("the profile asks for a count of system CPUs but none are reserved yet",
                            hint="apply the profile first (`rmctl apply -f PROFILE`), then export")
    return None


def kubelet_config(root: Root, state_dir: str, *, profile_path: str | None = None) -> Outcome:
    """Return the KubeletConfiguration fragment: static CPU manager, topology and memory manager."""
    profile = profile_in_effect(state_dir, profile_path)
    node = discover(root)
    cfg = kubelet_fragment(node, system_cpus=system_cpus(node, state_dir, profile), profile=profile)
    return Outcome(kind="KubeletConfiguration", data=cfg)


def default_node_name(root: Root) -> str:
    """Return the node name to publish under: this host's (live), else the snapshot's file name.

    Host names may carry capitals; the kubelet lower-cases them for the node
    name (pkg/util/node.GetHostname), so this does too.
    """
    guess = os.uname().nodename if root.is_live else os.path.basename(root.spec.rstrip("/")).split(".")[0]
    return re.sub(r"[^0-9a-z.-]+", "-", guess.lower()).strip("-.") or "node"


def resourceslice(root: Root, *, node_name: str | None = None, driver: str = "rmctl.io") -> Outcome:
    """Return the resource.k8s.io/v1 ResourceSlice of the root's devices.

    ``node_name`` (given by the caller, or NODE_NAME) is taken as is and
    must be a valid name; None: :func:`default_node_name`.
    """
    node = discover(root, devices=True)
    return Outcome(kind="ResourceSlice",
                   data=resource_slice(node, node_name=node_name or default_node_name(root), driver=driver))


def nfd(root: Root, state_dir: str, *, profile_path: str | None = None) -> Outcome:
    """Return the NodeFeatures document (``features``); ``view``: the NFD feature file's text."""
    profile = profile_in_effect(state_dir, profile_path)
    node = discover(root, devices=True)
    feats = features(node, system_cpus=system_cpus(node, state_dir, profile),
                     profile_name=profile.name if profile is not None else None)
    return Outcome(kind="NodeFeatures", data={"features": feats}, view=feature_file(feats))
