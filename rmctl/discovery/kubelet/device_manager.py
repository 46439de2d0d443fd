"""The device manager's checkpoint, ``/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint``.

Layouts, from pkg/kubelet/cm/devicemanager/checkpoint/checkpoint.go and
checkpointv1.go (Go field names are the JSON keys):

- v2 (kubelet 1.20 on): ``{"Data": {"PodDeviceEntries": [{"PodUID",
  "ContainerName", "ResourceName", "DeviceIDs": {"<NUMA id>": [ids]},
  "AllocResp": base64}], "RegisteredDevices": {resource: [ids]}},
  "Checksum": N}``, plus ``BootID`` in the newest kubelets (outside the
  checksum).  The checksum is FNV-32a of spew's ``%#v`` of the Data value
  (``checkpoint.checkpointData``); it is always checked (no 0 exemption).
- v1 (kubelet <= 1.19): ``DeviceIDs`` a plain list (no NUMA), checksummed
  under the v2 type names.

``AllocResp`` is the device plugin's Allocate answer (a protobuf
ContainerAllocateResponse: environment, mounts, device nodes); rmctl keeps
only its size.  NUMA id -1 means the plugin reported no topology.
"""

from __future__ import annotations

from rmctl.discovery.kubelet import files
from rmctl.discovery.root import Root
from rmctl.model.kubelet import VERIFIED, Checkpoint, DeviceAllocation, DeviceManagerState

_LAYOUTS: dict | None = None


def layouts() -> dict:
    """Return the Go types by layout: {"v2": (outer, data), "v1": (outer, data)}, built on first use.

    gotypes and these tables are imported and built only when a checkpoint
    exists: a node without device plugins (no file) never pays for them
    (issue 14: request evaluate on a node, live or snapshot).
    """
    global _LAYOUTS
    if _LAYOUTS is not None:
        return _LAYOUTS
    from rmctl.discovery.kubelet import gotypes as g

    _str = g.GoString()
    _sum = g.GoInt("checksum.Checksum", 32, False)
    registered = g.GoMap(_str, g.GoSlice(_str))

    def entry(ids: g.GoType) -> g.GoStruct:
        return g.GoStruct("checkpoint.PodDevicesEntry", [
            ("PodUID", "PodUID", _str), ("ContainerName", "ContainerName", _str),
            ("ResourceName", "ResourceName", _str), ("DeviceIDs", "DeviceIDs", ids),
            ("AllocResp", "AllocResp", g.GoBytes())])

    data_v2 = g.GoStruct("checkpoint.checkpointData", [
        ("PodDeviceEntries", "PodDeviceEntries",
         g.GoSlice(entry(g.GoMap(g.GoInt("int64", 64, True), g.GoSlice(_str), name="checkpoint.DevicesPerNUMA")))),
        ("RegisteredDevices", "RegisteredDevices", registered)])
    data_v1 = g.GoStruct("checkpoint.checkpointData", [
        ("PodDeviceEntries", "PodDeviceEntries", g.GoSlice(entry(g.GoSlice(_str)))),
        ("RegisteredDevices", "RegisteredDevices", registered)])
    outer_v2 = g.GoStruct("checkpoint.Data", [("Data", "Data", data_v2), ("Checksum", "Checksum", _sum),
                                              ("BootID", "BootID", _str)], omitempty=("BootID",))
    outer_v1 = g.GoStruct("checkpoint.DataV1", [("Data", "Data", data_v1), ("Checksum", "Checksum", _sum)])
    _LAYOUTS = {"v2": (outer_v2, data_v2), "v1": (outer_v1, data_v1)}
    return _LAYOUTS


KNOWN_KEYS = ("Data", "Checksum", "BootID")


def read(root: Root, kubelet_root: str) -> DeviceManagerState | None:
    """Return the device manager's state, or None without a checkpoint.

    The fixed DevicePluginPath first (the kubelet ignores --root-dir for
    it), then ``<kubelet_root>/device-plugins/`` (distributions that move it).
    """
    from rmctl.discovery import paths as P

    for rel in (r for r in P.kubelet_checkpoints(kubelet_root) if r.endswith("/kubelet_internal_checkpoint")):
        text = files.read_text(root, rel)
        if text is not None:
            return parse(rel, text)
    return None


def parse(rel: str, text: str) -> DeviceManagerState:
    """Return the state in a ``kubelet_internal_checkpoint`` text."""
    fmt, go = load(rel, text)
    return _state(rel, fmt, go)


def load(rel: str, text: str) -> tuple[str, dict]:
    """Return (layout, Go value) of a checked checkpoint text."""
    from rmctl.discovery.kubelet import gotypes as g

    value = files.parse_known(rel, text, KNOWN_KEYS)
    errors = []
    for fmt, (outer_t, data_t) in layouts().items():  # v2 first
        try:
            go = files.decode(rel, outer_t, value)
        except files.KubeletCheckpointError as e:
            errors.append(e)
            continue
        if g.spew_hash(data_t, go["Data"], pointer=False) != go["Checksum"]:
            errors.append(files.corrupt(rel, f"checksum {go['Checksum']} does not match its content"))
            continue
        return fmt, go
    raise next((e for e in errors if "checksum" in e.message), errors[0])


def dump(fmt: str, go: dict) -> str:
    """Return the checkpoint text of a Go value in layout ``fmt``, checksum recomputed."""
    from rmctl.discovery.kubelet import gotypes as g

    outer_t, data_t = layouts()["v2" if fmt == "v2" else "v1"]
    return g.marshal(outer_t, dict(go, Checksum=g.spew_hash(data_t, go["Data"], pointer=False)))


def _state(rel: str, fmt: str, go: dict) -> DeviceManagerState:
    from rmctl.discovery.kubelet import gotypes as g

    allocations = []
    for e in go["Data"]["PodDeviceEntries"] or ():
        ids = e["DeviceIDs"]
        devices: tuple[tuple[int, tuple[str, ...]], ...]
        if fmt == "v1":
            devices = ((-1, tuple(ids or ())),)
        else:
            devices = tuple((node, tuple(ids[node] or ())) for node in sorted(ids or {}))
        allocations.append(DeviceAllocation(pod_uid=e["PodUID"], container=e["ContainerName"],
                                            resource=e["ResourceName"], devices=devices))
    reg = go["Data"]["RegisteredDevices"] or {}
    registered = tuple((r, tuple(reg[r] or ())) for r in sorted(reg, key=g.go_string_key))
    allocations.sort(key=lambda a: (a.pod_uid, a.container, a.resource))
    cp = Checkpoint(path=rel, format=fmt, checksum=go["Checksum"], checksum_status=VERIFIED,
                    detail="")
    return DeviceManagerState(checkpoint=cp, allocations=tuple(allocations), registered=registered)
