"""The resource-manager fields of the kubelet's configuration file (KubeletConfiguration).

kubeadm writes it to ``<kubelet root>/config.yaml``; other installers pass
``--config`` elsewhere (``rmctl kubelet check --config``).  Only the fields
the resource managers use are kept (types:
staging/src/k8s.io/kubelet/config/v1beta1/types.go): the rest of the file
(authentication, TLS files, static pod URL headers) is never returned, so
it never reaches a document or a snapshot.  The file is untrusted in a
snapshot or directory root: bounded (size, and values, aliases and depth while
it is parsed: rmctl.resources.yamlio), safe-loaded, fields type-checked.
"""

from __future__ import annotations

from rmctl.discovery.root import Root
from rmctl.errors import UsageError

#: KubeletConfiguration fields rmctl reads, and their YAML types
FIELDS: dict[str, type | tuple[type, ...]] = {
    "cpuManagerPolicy": str, "cpuManagerPolicyOptions": dict, "reservedSystemCPUs": str,
    "memoryManagerPolicy": str, "reservedMemory": list, "topologyManagerPolicy": str,
    "topologyManagerScope": str, "kubeReserved": dict, "systemReserved": dict, "evictionHard": dict,
}
MAX_CONFIG_BYTES = 1 << 20


def read(root: Root, rel: str) -> dict | None:
    """Return the resource-manager fields of the config at root-relative ``rel``, or None when absent.

    UsageError (exit 2) when it is not a YAML mapping of a KubeletConfiguration.
    """
    from rmctl.discovery.kubelet import files

    try:
        text = files.read_text(root, rel)
    except files.KubeletCheckpointError as e:  # not a regular file, too large, a link out of the root
        raise UsageError(f"kubelet config /{rel}: {e.message.split(': ', 1)[-1]}") from None
    if text is None:
        return None
    if len(text) > MAX_CONFIG_BYTES:
        raise UsageError(f"kubelet config /{rel} is larger than {MAX_CONFIG_BYTES >> 10} KiB")
    import yaml

    from rmctl.resources.yamlio import safe_load

    try:
        doc = safe_load(text, f"/{rel}", max_bytes=MAX_CONFIG_BYTES)
    except yaml.YAMLError as e:
        raise UsageError(f"kubelet config /{rel} is not YAML: {str(e).splitlines()[0][:120]}") from None
    except RecursionError:  # the depth budget comes first; kept as a last guard
        raise UsageError(f"kubelet config /{rel} is not YAML: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("kind") != "KubeletConfiguration":
        raise UsageError(f"kubelet config /{rel} is not a KubeletConfiguration",
                         hint="give the file the kubelet's --config names (kubeadm: /var/lib/kubelet/config.yaml)")
    return extract(doc)


def extract(doc: dict) -> dict:
    """Return the resource-manager fields of a KubeletConfiguration mapping (wrong types dropped)."""
    out = {}
    for k, t in FIELDS.items():
        v = doc.get(k)
        if isinstance(v, t) and not isinstance(v, bool):
            out[k] = v
    return out
