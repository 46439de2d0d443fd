"""The DRA manager's checkpoint, ``<kubelet root>/dra_manager_state``.

Layout, from pkg/kubelet/cm/dra/state/checkpoint.go (kubelet 1.32 on):
``{"Data": "<JSON>", "Checksum": N}`` where Checksum is the CRC-32 (IEEE)
of the Data bytes and Data is ``{"kind": "DRACheckpoint", "apiVersion":
"checkpoint.dra.kubelet.k8s.io/v1", "Entries": [{"ClaimUID", "ClaimName",
"Namespace", "PodUIDs": {uid: {}}, "DriverState": {driver: {"Devices":
[{"PoolName", "DeviceName", "RequestNames", "CDIDeviceIDs"}]}}}]}``
(state.go).  The alpha layouts of kubelets 1.26-1.31 (``version``,
``entries``, spew checksums over structs that changed each release) are
refused as an unknown version rather than guessed at.
"""

from __future__ import annotations

import zlib

from rmctl.discovery.kubelet import files
from rmctl.discovery.root import Root
from rmctl.errors import KubeletCheckpointVersionError
from rmctl.model.kubelet import VERIFIED, Checkpoint, DraClaim, DraDevice, DraManagerState

API_VERSION = "checkpoint.dra.kubelet.k8s.io/v1"
KIND = "DRACheckpoint"

_LAYOUTS: dict | None = None


def layouts() -> dict:
    """Return the Go types {"outer": state.Checkpoint, "data": state.CheckpointData}, built on first use.

    gotypes and these tables are imported and built only when a checkpoint
    exists: a node without DRA (no file) never pays for them (issue 14:
    request evaluate on a node, live or snapshot).
    """
    global _LAYOUTS
    if _LAYOUTS is not None:
        return _LAYOUTS
    from rmctl.discovery.kubelet import gotypes as g

    _str = g.GoString()
    outer = g.GoStruct("state.Checkpoint", [("Data", "Data", _str),
                                            ("Checksum", "Checksum", g.GoInt("uint32", 32, False))])
    device = g.GoStruct("state.Device", [
        ("PoolName", "PoolName", _str), ("DeviceName", "DeviceName", _str),
        ("RequestNames", "RequestNames", g.GoSlice(_str)), ("CDIDeviceIDs", "CDIDeviceIDs", g.GoSlice(_str))])
    claim = g.GoStruct("state.ClaimInfoState", [
        ("ClaimUID", "ClaimUID", g.GoString("types.UID")), ("ClaimName", "ClaimName", _str),
        ("Namespace", "Namespace", _str),
        ("PodUIDs", "PodUIDs", g.GoMap(_str, g.GoStruct("struct {}", []), name="sets.Set[string]")),
        ("DriverState", "DriverState", g.GoMap(_str, g.GoStruct("state.DriverState",
                                                                 [("Devices", "Devices", g.GoSlice(device))])))])
    data = g.GoStruct("state.CheckpointData", [
        ("Kind", "kind", _str), ("APIVersion", "apiVersion", _str), ("Entries", "Entries", g.GoSlice(claim))])
    _LAYOUTS = {"outer": outer, "data": data}
    return _LAYOUTS


def _version_error(rel: str, what: str) -> KubeletCheckpointVersionError:
    return KubeletCheckpointVersionError(
        f"kubelet checkpoint {rel} has a layout rmctl does not know ({what})",
        hint="rmctl reads the DRA checkpoint of kubelet 1.32 and later; inspect this one by hand")


def read(root: Root, kubelet_root: str) -> DraManagerState | None:
    """Return the DRA manager's prepared claims, or None without a checkpoint."""
    from rmctl.discovery import paths as P

    rel = P.kubelet_file(kubelet_root, P.KUBELET_DRA_STATE)
    text = files.read_text(root, rel)
    return None if text is None else parse(rel, text)


def parse(rel: str, text: str) -> DraManagerState:
    """Return the claims in a ``dra_manager_state`` text."""
    data, checksum = load(rel, text)
    return _state(rel, data, checksum)


def load(rel: str, text: str) -> tuple[dict, int]:
    """Return (Go value of the data section, checksum) of a checked checkpoint text."""
    from rmctl.discovery.kubelet import gotypes as g

    types = layouts()
    value = files.parse_json(rel, text)
    if g.has_key(value, "version") or g.has_key(value, "entries") and not g.has_key(value, "Data"):
        raise _version_error(rel, "the alpha layout of kubelets before 1.32")
    unknown = [k for k, _ in value if k.lower() not in ("data", "checksum")]
    if unknown:
        raise _version_error(rel, f"keys {', '.join(map(repr, unknown[:5]))}")
    outer = files.decode(rel, types["outer"], value)
    if zlib.crc32(outer["Data"].encode("utf-8", "surrogatepass")) != outer["Checksum"]:
        raise files.corrupt(rel, f"checksum {outer['Checksum']} does not match its data")
    data = files.decode(rel, types["data"], files.parse_json(rel, outer["Data"]))
    if data["APIVersion"] != API_VERSION or data["Kind"] != KIND:
        raise _version_error(rel, f"apiVersion {data['APIVersion'][:60]!r}, kind {data['Kind'][:40]!r}")
    return data, outer["Checksum"]


def dump(data: dict) -> str:
    """Return the checkpoint text of a data section, CRC-32 recomputed."""
    from rmctl.discovery.kubelet import gotypes as g

    types = layouts()
    text = g.marshal(types["data"], data)
    return g.marshal(types["outer"], {"Data": text, "Checksum": zlib.crc32(text.encode())})


def _state(rel: str, data: dict, checksum: int) -> DraManagerState:
    from rmctl.discovery.kubelet import gotypes as g

    claims = []
    for e in data["Entries"] or ():
        devices = []
        for driver in sorted(e["DriverState"] or {}, key=g.go_string_key):
            for d in e["DriverState"][driver]["Devices"] or ():
                devices.append(DraDevice(driver=driver, pool=d["PoolName"], device=d["DeviceName"],
                                         requests=tuple(d["RequestNames"] or ()),
                                         cdi_devices=tuple(d["CDIDeviceIDs"] or ())))
        claims.append(DraClaim(claim_uid=e["ClaimUID"], name=e["ClaimName"], namespace=e["Namespace"],
                               pod_uids=tuple(sorted(e["PodUIDs"] or {}, key=g.go_string_key)),
                               devices=tuple(devices)))
    cp = Checkpoint(path=rel, format="v1", checksum=checksum, checksum_status=VERIFIED,
                    detail="CRC-32 of the data section")
    return DraManagerState(checkpoint=cp, claims=tuple(claims))
