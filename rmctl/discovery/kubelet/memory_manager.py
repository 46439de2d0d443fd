"""The Memory Manager's checkpoint, ``<kubelet root>/memory_manager_state``.

Layouts, from pkg/kubelet/cm/memorymanager/state/checkpoint.go and state.go:

- v1 (kubelet 1.21 on, what released kubelets write): ``policyName``
  (``None`` or ``Static``), ``machineState`` (NUMA id -> ``numberOfAssignments``,
  ``memoryMap`` resource -> ``total``/``systemReserved``/``allocatable``/
  ``reserved``/``free`` bytes, ``cells``), ``entries`` (pod UID -> container
  -> blocks of ``numaAffinity``, ``type``, ``size``), ``checksum``.
- v2 (PodLevelResourceManagers, alpha): v1 plus ``podEntries`` (pod UID ->
  ``{"memoryBlocks": [...]}``).
- v3 (kubelet main, 2026): the state as a JSON string in ``data``, with
  ``dataChecksum`` = FNV-32a of spew's ``(string)<data>``.

Checksums are FNV-32a of go-spew's ``%#v`` (see gotypes), reproduced and
checked against state_checkpoint_test.go's samples; 0 is accepted unchecked
as the kubelet's v1 reader does.
"""

from __future__ import annotations

from rmctl.discovery.kubelet import files
from rmctl.discovery.kubelet import gotypes as g
from rmctl.discovery.root import Root
from rmctl.model.kubelet import (
    UNCHECKED_ZERO,
    VERIFIED,
    Checkpoint,
    MemoryBlock,
    MemoryManagerState,
    MemoryTable,
    NumaMemoryState,
)

_STR = g.GoString()
_RES = g.GoString("v1.ResourceName")
_U64 = g.GoInt("uint64", 64, False)
_INT = g.GoInt("int", 64, True)
_SUM = g.GoInt("checksum.Checksum", 32, False)

_TABLE = g.GoStruct("state.MemoryTable", [
    ("TotalMemSize", "total", _U64), ("SystemReserved", "systemReserved", _U64),
    ("Allocatable", "allocatable", _U64), ("Reserved", "reserved", _U64), ("Free", "free", _U64)])
_NODE = g.GoStruct("state.NUMANodeState", [
    ("NumberOfAssignments", "numberOfAssignments", _INT),
    ("MemoryMap", "memoryMap", g.GoMap(_RES, g.GoPtr(_TABLE))),
    ("Cells", "cells", g.GoSlice(_INT))])
_MACHINE = g.GoMap(_INT, g.GoPtr(_NODE), name="state.NUMANodeMap")
_BLOCK = g.GoStruct("state.Block", [
    ("NUMAAffinity", "numaAffinity", g.GoSlice(_INT)), ("Type", "type", _RES), ("Size", "size", _U64)])
_ENTRIES = g.GoMap(_STR, g.GoMap(_STR, g.GoSlice(_BLOCK)), name="state.ContainerMemoryAssignments")
_POD_ENTRIES = g.GoMap(_STR, g.GoStruct("state.PodEntry", [("MemoryBlocks", "memoryBlocks", g.GoSlice(_BLOCK))]),
                       name="state.PodMemoryAssignments")

V1 = g.GoStruct("state.MemoryManagerCheckpoint", [
    ("PolicyName", "policyName", _STR), ("MachineState", "machineState", _MACHINE),
    ("Entries", "entries", _ENTRIES), ("Checksum", "checksum", _SUM)], omitempty=("Entries",))
V2 = g.GoStruct("state.MemoryManagerCheckpoint", [
    ("PolicyName", "policyName", _STR), ("MachineState", "machineState", _MACHINE),
    ("Entries", "entries", _ENTRIES), ("PodEntries", "podEntries", _POD_ENTRIES), ("Checksum", "checksum", _SUM)],
    omitempty=("Entries", "PodEntries"))
V3 = g.GoStruct("state.MemoryManagerCheckpointV3", [("Data", "data", _STR), ("DataChecksum", "dataChecksum", _SUM)])
V3_DATA = g.GoStruct("state.memoryManagerCheckpointData", [
    ("PolicyName", "policyName", _STR), ("MachineState", "machineState", _MACHINE),
    ("Entries", "entries", _ENTRIES), ("PodEntries", "podEntries", _POD_ENTRIES)],
    omitempty=("Entries", "PodEntries"))
TYPES = {"v1": V1, "v2": V2, "v3": V3_DATA}

#: newMemoryManagerCheckpointV{1,2}(): empty, non-nil maps before json.Unmarshal
_INIT: dict[str, dict] = {"v1": {"Entries": {}, "MachineState": {}}, "v2": {"Entries": {}, "MachineState": {}, "PodEntries": {}}}

KNOWN_KEYS = ("policyName", "machineState", "entries", "podEntries", "checksum", "data", "dataChecksum")


def read(root: Root, kubelet_root: str) -> MemoryManagerState | None:
    """Return the Memory Manager's state under ``kubelet_root``, or None without a checkpoint."""
    from rmctl.discovery import paths as P

    rel = P.kubelet_file(kubelet_root, P.KUBELET_MEMORY_STATE)
    text = files.read_text(root, rel)
    return None if text is None else parse(rel, text)


def parse(rel: str, text: str) -> MemoryManagerState:
    """Return the state in a ``memory_manager_state`` text."""
    fmt, go, (checksum, status, detail) = load(rel, text)
    return _state(rel, fmt, go, checksum, status, detail)


def load(rel: str, text: str) -> tuple[str, dict, tuple[int | None, str, str]]:
    """Return (layout, Go value, (checksum, status, detail)) of a checked checkpoint text."""
    value = files.parse_known(rel, text, KNOWN_KEYS)
    if g.has_key(value, "data") or g.has_key(value, "dataChecksum"):
        outer = files.decode(rel, V3, value)
        if g.fnv32a(("(string)" + outer["Data"]).encode("utf-8", "surrogatepass")) != outer["DataChecksum"]:
            raise files.corrupt(rel, f"dataChecksum {outer['DataChecksum']} does not match its data section")
        go = files.decode(rel, V3_DATA, files.parse_json(rel, outer["Data"]),
                          {"Entries": {}, "MachineState": {}, "PodEntries": {}})
        return "v3", go, (None, VERIFIED, "data section; the v1 copy beside it is not used")
    errors = []
    for fmt, t in (("v1", V1), ("v2", V2)):
        try:
            go = files.decode(rel, t, value, _INIT[fmt])
        except files.KubeletCheckpointError as e:
            errors.append(e)
            continue
        ck = go["Checksum"]
        if ck == 0:
            return fmt, go, (0, UNCHECKED_ZERO, "checksum 0: the kubelet accepts it without checking")
        if g.spew_hash(t, dict(go, Checksum=0)) == ck:
            return fmt, go, (ck, VERIFIED, "")
        errors.append(files.corrupt(rel, f"checksum {ck} does not match its content"))
    raise next((e for e in errors if "checksum" in e.message), errors[0])


def dump(fmt: str, go: dict) -> str:
    """Return the checkpoint text of a Go value in layout ``fmt``, checksum recomputed."""
    if fmt == "v3":
        data = g.marshal(V3_DATA, go)
        return g.marshal(V3, {"Data": data, "DataChecksum": g.fnv32a(("(string)" + data).encode())})
    t = TYPES[fmt]
    go = dict(go, Checksum=0)
    return g.marshal(t, dict(go, Checksum=g.spew_hash(t, go)))


def _state(rel: str, fmt: str, go: dict, checksum: int | None, status: str, detail: str) -> MemoryManagerState:
    machine = []
    for node in sorted(go["MachineState"] or {}):
        st = go["MachineState"][node]
        if st is None:
            raise files.corrupt(rel, f"machineState[{node}] is null")
        tables = []
        for res in sorted(st["MemoryMap"] or {}, key=g.go_string_key):
            t = st["MemoryMap"][res]
            if t is None:
                raise files.corrupt(rel, f"machineState[{node}].memoryMap[{res}] is null")
            tables.append(MemoryTable(resource=res, total=t["TotalMemSize"], system_reserved=t["SystemReserved"],
                                      allocatable=t["Allocatable"], reserved=t["Reserved"], free=t["Free"]))
        machine.append(NumaMemoryState(node=node, assignments=st["NumberOfAssignments"],
                                       cells=tuple(st["Cells"] or ()), tables=tuple(tables)))
    blocks = []
    entries = go["Entries"] or {}
    for uid in sorted(entries, key=g.go_string_key):
        for container in sorted(entries[uid] or {}, key=g.go_string_key):
            for b in entries[uid][container] or ():
                blocks.append(_block(uid, container, b))
    pods = go.get("PodEntries") or {}
    for uid in sorted(pods, key=g.go_string_key):
        for b in pods[uid]["MemoryBlocks"] or ():
            blocks.append(_block(uid, "", b))
    cp = Checkpoint(path=rel, format=fmt, checksum=checksum, checksum_status=status, detail=detail)
    return MemoryManagerState(checkpoint=cp, policy=go["PolicyName"], machine=tuple(machine), blocks=tuple(blocks))


def _block(uid: str, container: str, b: dict) -> MemoryBlock:
    return MemoryBlock(pod_uid=uid, container=container, resource=b["Type"], size=b["Size"],
                       nodes=tuple(sorted(set(b["NUMAAffinity"] or ()))))
