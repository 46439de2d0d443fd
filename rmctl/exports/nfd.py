"""A Node Feature Discovery local feature file (the ``local`` source).

NFD reads files in ``/etc/kubernetes/node-feature-discovery/features.d/``
(kubernetes-sigs/node-feature-discovery, docs/usage/customization-guide.md,
"Feature files"): one ``name=value`` per line (value ``true`` when left
out), ``#`` comments, and names without a namespace get the default one,
``feature.node.kubernetes.io/``.  Values become label values, so they are
at most 63 characters of ``[A-Za-z0-9._-]``: cpulists are written with
``_`` for ``,`` (``0-1_4``).

Expiry: a ``# +expiry-time=<RFC 3339>`` comment line makes nfd-worker drop
the file's features after that time (customization-guide.md, "Feature
files": the directive applies to the lines after it), so the labels go
away when the DaemonSet that rewrites the file stops.

``node_feature()`` is the same features as NFD's ``NodeFeature`` object
(``nfd.k8s-sigs.io/v1alpha1``; deployment/helm/node-feature-discovery/
crds/nfd-api-crds.yaml): ``spec.labels`` are the labels to create, and
``spec.features.attributes["rmctl.features"]`` the raw values for
NodeFeatureRules; the ``nfd.node.kubernetes.io/node-name`` label tells
nfd-master which node the object is for.
"""

from __future__ import annotations

import re

from rmctl.units import format_size_exact

FEATURE_DIR = "/etc/kubernetes/node-feature-discovery/features.d"
FEATURE_FILE = "rmctl"
PREFIX = "rmctl-"


def label_value(v) -> str:
    """Return ``v`` as a valid label value (``,`` -> ``_``, other odd characters -> ``-``)."""
    if isinstance(v, bool):
        v = "true" if v else "false"
    s = str(v).replace(",", "_")
    s = re.sub(r"[^A-Za-z0-9._-]", "-", s)[:63]
    return s.strip("-_.") or "none"


def features(node, *, system_cpus: str | None = None, profile_name: str | None = None) -> dict[str, str]:
    """Return the features (name -> value), names without namespace, sorted."""
    topo = node.topology
    f: dict[str, str] = {}
    f["cpus-online"] = str(len(topo.online_cpus()))
    f["numa-nodes"] = str(len(topo.nodes))
    f["sockets"] = str(len(topo.packages))
    f["smt"] = label_value(topo.threads_per_core_max() > 1)
    iso = topo.isolated_cpus()
    if iso:
        f["isolated-cpus"] = label_value(iso.to_list())
    if system_cpus:
        f["system-reserved-cpus"] = label_value(system_cpus)
    for pool in node.hugepages:
        if pool.total:
            f[f"hugepages-{format_size_exact(pool.page_size)}"] = str(pool.total)
    for n, nd in sorted(topo.nodes.items()):
        for pool in nd.hugepages:
            if pool.total:
                f[f"hugepages-{format_size_exact(pool.page_size)}-node{n}"] = str(pool.total)
    kinds: dict[str, int] = {}
    for d in node.devices:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    for k, c in sorted(kinds.items()):
        f[f"devices-{k}"] = str(c)
    if profile_name:
        f["profile"] = label_value(profile_name)
    return {PREFIX + k: v for k, v in sorted(f.items())}


NAMESPACE = "feature.node.kubernetes.io/"
NFD_API = "nfd.k8s-sigs.io/v1alpha1"
NODE_NAME_LABEL = "nfd.node.kubernetes.io/node-name"
FEATURE_SET = "rmctl.features"


def expiry_text(when) -> str:
    """Return a datetime as the RFC 3339 UTC text NFD parses (``2026-01-02T03:04:05Z``)."""
    import datetime

    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def feature_file(feats: dict[str, str], *, header: str = "written by rmctl export nfd",
                 expires=None) -> str:
    """Return the text of a local feature file; ``expires`` (a datetime) adds the expiry directive."""
    lines = [f"# {header}"]
    if expires is not None:
        lines.append(f"# +expiry-time={expiry_text(expires)}")
    lines += [f"{k}={v}" for k, v in feats.items()]
    return "\n".join(lines) + "\n"


def node_feature(feats: dict[str, str], *, node_name: str, namespace: str = "node-feature-discovery") -> dict:
    """Return the features as NFD's NodeFeature object for ``node_name``."""
    safe = re.sub(r"[^0-9a-z.-]+", "-", node_name.lower()).strip("-.") or "node"
    return {
        "apiVersion": NFD_API, "kind": "NodeFeature",
        "metadata": {"name": f"rmctl-{safe}"[:253], "namespace": namespace,
                     "labels": {NODE_NAME_LABEL: node_name}},
        "spec": {
            "features": {"attributes": {FEATURE_SET: {"elements": dict(feats)}}},
            "labels": {NAMESPACE + k: v for k, v in feats.items()},
        },
    }
