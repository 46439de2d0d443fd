"""The kubelet's checkpoints in a snapshot: which files, and how they are scrubbed.

``rmctl snapshot capture`` keeps the four checkpoints so that ``--root
SNAPSHOT`` shows what the kubelet had assigned.  Unless ``--keep-ids``, a
snapshot holds no identity of the cluster's objects:

- pod UIDs and DRA claim UIDs become stable stand-ins
  (``00000000-0000-0000-0000-00000000000N``, the same UID the same stand-in
  in every file, so the files still agree with each other);
- UUIDs and long hex ids inside device IDs and CDI names (NVIDIA's
  ``GPU-<uuid>``) become stand-ins the same way, registered devices too;
- DRA claim names and namespaces become ``claim-N`` and ``namespace-N``;
- the device plugins' Allocate answers (``AllocResp``: environment,
  mounts, device nodes) and the device checkpoint's ``BootID`` are dropped.

The kubelet config's resource-manager fields (reservedSystemCPUs, policies,
reservedMemory...) go in the facts file, never the config file itself.
Container names, resource names, PCI addresses, CPU sets, sizes and NUMA
nodes are kept: they are what the snapshot is for.  Pod names never were in
the checkpoints (they come from the live PodResources API only).  Each
scrubbed file is written back in its own layout with its checksum
recomputed, so the snapshot's checkpoints verify like the originals.  A
checkpoint that does not read (corrupt, unknown layout) is left out unless
``--keep-ids``, where it is copied as it is; the facts say which.
"""

from __future__ import annotations

import re

from rmctl.discovery import paths as P
from rmctl.discovery.kubelet import cpu_manager, device_manager, dra, files, memory_manager
from rmctl.discovery.root import Root
from rmctl.errors import AccessDenied, KubeletCheckpointError

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_HEX = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])")


def globs(kubelet_root: str) -> tuple[str, ...]:
    """Return the root-relative checkpoint paths of a kubelet root."""
    return P.kubelet_checkpoints(kubelet_root)


class Pseudonyms:
    """Stable stand-ins for identities, shared by every file of one capture."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._names: dict[tuple[str, str], str] = {}

    def uid(self, value: str) -> str:
        """Return the stand-in UUID of a pod or claim UID (any text)."""
        if value not in self._ids:
            self._ids[value] = f"00000000-0000-0000-0000-{len(self._ids) + 1:012d}"
        return self._ids[value]

    def text(self, value: str) -> str:
        """Return ``value`` with its UUIDs and long hex ids replaced by stand-ins."""
        value = _UUID.sub(lambda m: self.uid(m.group(0).lower()), value)
        return _LONG_HEX.sub(lambda m: self.hexid(m.group(0).lower()), value)

    def hexid(self, value: str) -> str:
        """Return the stand-in of a long hex id (a container ID): 16 hex digits."""
        return self.uid(value).replace("-", "")[-16:]

    def name(self, kind: str, value: str) -> str:
        """Return ``kind-N`` for a name of that kind."""
        key = (kind, value)
        if key not in self._names:
            self._names[key] = f"{kind}-{sum(1 for k, _ in self._names if k == kind) + 1}"
        return self._names[key]


def _scrub_cpu(go: dict, ps: Pseudonyms, fmt: str) -> dict:
    entries = go.get("Entries") or {}
    if fmt == "v1":  # keyed by runtime container ID (a long hex id)
        go["Entries"] = {ps.text(k): v for k, v in entries.items()}
    else:
        go["Entries"] = {ps.uid(k): v for k, v in entries.items()}
    if go.get("PodEntries"):
        go["PodEntries"] = {ps.uid(k): v for k, v in go["PodEntries"].items()}
    return go


def _scrub_memory(go: dict, ps: Pseudonyms) -> dict:
    go["Entries"] = {ps.uid(k): v for k, v in (go.get("Entries") or {}).items()}
    if go.get("PodEntries"):
        go["PodEntries"] = {ps.uid(k): v for k, v in go["PodEntries"].items()}
    return go


def _scrub_devices(go: dict, ps: Pseudonyms, fmt: str) -> dict:
    data = go["Data"]
    for e in data["PodDeviceEntries"] or ():
        e["PodUID"] = ps.uid(e["PodUID"])
        e["AllocResp"] = None
        ids = e["DeviceIDs"]
        if fmt == "v1":
            e["DeviceIDs"] = None if ids is None else [ps.text(d) for d in ids]
        elif ids is not None:
            e["DeviceIDs"] = {n: None if v is None else [ps.text(d) for d in v] for n, v in ids.items()}
    reg = data["RegisteredDevices"]
    if reg is not None:
        data["RegisteredDevices"] = {r: None if v is None else [ps.text(d) for d in v] for r, v in reg.items()}
    if "BootID" in go:
        go["BootID"] = ""
    return go


def _scrub_dra(data: dict, ps: Pseudonyms) -> dict:
    for e in data["Entries"] or ():
        e["ClaimUID"] = ps.uid(e["ClaimUID"])
        e["ClaimName"] = ps.name("claim", e["ClaimName"])
        e["Namespace"] = ps.name("namespace", e["Namespace"])
        if e["PodUIDs"] is not None:
            e["PodUIDs"] = {ps.uid(u): v for u, v in e["PodUIDs"].items()}
        for st in (e["DriverState"] or {}).values():
            for d in st["Devices"] or ():
                if d["CDIDeviceIDs"] is not None:
                    d["CDIDeviceIDs"] = [ps.text(x) for x in d["CDIDeviceIDs"]]
    return data


def scrub(rel: str, text: str, ps: Pseudonyms) -> str:
    """Return a checkpoint's text with identities replaced, in its layout, checksum recomputed.

    Raises KubeletCheckpointError when the text does not read.
    """
    name = rel.rsplit("/", 1)[-1]
    if name == P.KUBELET_CPU_STATE:
        fmt, go, _ = cpu_manager.load(rel, text)
        return cpu_manager.dump(fmt, _scrub_cpu(go, ps, fmt))
    if name == P.KUBELET_MEMORY_STATE:
        fmt, go, _ = memory_manager.load(rel, text)
        return memory_manager.dump(fmt, _scrub_memory(go, ps))
    if name == "kubelet_internal_checkpoint":
        fmt, go = device_manager.load(rel, text)
        return device_manager.dump(fmt, _scrub_devices(go, ps, fmt))
    if name == P.KUBELET_DRA_STATE:
        data, _ = dra.load(rel, text)
        return dra.dump(_scrub_dra(data, ps))
    raise ValueError(f"not a kubelet checkpoint: {rel}")


def capture(root: Root, kubelet_root: str, *, keep_ids: bool = False) -> tuple[dict[str, bytes], dict]:
    """Return (root-relative path -> content, facts) of the kubelet checkpoints to put in a snapshot.

    The facts record the kubelet root, the files kept, whether identities
    were kept, and each checkpoint left out with the reason.
    """
    ps = Pseudonyms()
    members: dict[str, bytes] = {}
    left_out: list[dict] = []
    for rel in globs(kubelet_root):
        try:
            text = files.read_text(root, rel)
        except (KubeletCheckpointError, AccessDenied) as e:
            left_out.append({"path": rel, "reason": e.message})
            continue
        if text is None:
            continue
        if keep_ids:
            try:
                scrub(rel, text, Pseudonyms())  # read it, to say in the facts when it does not
            except KubeletCheckpointError as e:
                left_out.append({"path": rel, "reason": f"kept as it is, though: {e.message}"})
            members[rel] = text.encode("utf-8")
            continue
        try:
            members[rel] = scrub(rel, text, ps).encode("utf-8")
        except KubeletCheckpointError as e:
            left_out.append({"path": rel, "reason": e.message})
    facts = {"root": "/" + kubelet_root.strip("/"), "files": sorted(members), "identities_kept": keep_ids}
    # the config's resource-manager fields only (never the whole file: it names TLS files, URL headers)
    from rmctl.discovery.kubelet import config as kconfig
    from rmctl.errors import UsageError

    try:
        cfg = kconfig.read(root, f"{kubelet_root.strip('/')}/config.yaml")
    except UsageError as e:
        cfg = None
        left_out.append({"path": f"{kubelet_root.strip('/')}/config.yaml", "reason": e.message})
    if cfg:
        facts["config"] = cfg
    if left_out:
        facts["left_out"] = left_out
    return members, facts
