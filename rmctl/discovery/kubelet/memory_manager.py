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

_LAYOUTS: dict | None = None


def layouts() -> dict:
    """Return the Go types of the layouts by name ("v1".."v3", "v3-outer"), built on first use.

    gotypes and these tables are imported and built only when a checkpoint
    exists: a node whose Memory Manager is off (no file) never pays for them
    (issue 14: request evaluate on a node, live or snapshot).
    """
    global _LAYOUTS
    if _LAYOUTS is not None:
        return _LAYOUTS
    from rmctl.discovery.kubelet import gotypes as g

    _str = g.GoString()
    res = g.GoString("v1.ResourceName")
    u64 = g.GoInt("uint64", 64, False)
    _int = g.GoInt("int", 64, True)
    _sum = g.GoInt("checksum.Checksum", 32, False)
    table = g.GoStruct("state.MemoryTable", [
        ("TotalMemSize", "total", u64), ("SystemReserved", "systemReserved", u64),
        ("Allocatable", "allocatable", u64), ("Reserved", "reserved", u64), ("Free", "free", u64)])
    node = g.GoStruct("state.NUMANodeState", [
        ("NumberOfAssignments", "numberOfAssignments", _int),
        ("MemoryMap", "memoryMap", g.GoMap(res, g.GoPtr(table))),
        ("Cells", "cells", g.GoSlice(_int))])
    machine = g.GoMap(_int, g.GoPtr(node), name="state.NUMANodeMap")
    block = g.GoStruct("state.Block", [
        ("NUMAAffinity", "numaAffinity", g.GoSlice(_int)), ("Type", "type", res), ("Size", "size", u64)])
    entries = g.GoMap(_str, g.GoMap(_str, g.GoSlice(block)), name="state.ContainerMemoryAssignments")
    pod_entries = g.GoMap(_str, g.GoStruct("state.PodEntry", [("MemoryBlocks", "memoryBlocks", g.GoSlice(block))]),
                          name="state.PodMemoryAssignments")
    v1 = g.GoStruct("state.MemoryManagerCheckpoint", [
        ("PolicyName", "policyName", _str), ("MachineState", "machineState", machine),
        ("Entries", "entries", entries), ("Checksum", "checksum", _sum)], omitempty=("Entries",))
    v2 = g.GoStruct("state.MemoryManagerCheckpoint", [
        ("PolicyName", "policyName", _str), ("MachineState", "machineState", machine),
        ("Entries", "entries", entries), ("PodEntries", "podEntries", pod_entries), ("Checksum", "checksum", _sum)],
        omitempty=("Entries", "PodEntries"))
    v3 = g.GoStruct("state.MemoryManagerCheckpointV3", [("Data", "data", _str), ("DataChecksum", "dataChecksum", _sum)])
    v3_data = g.GoStruct("state.memoryManagerCheckpointData", [
        ("PolicyName", "policyName", _str), ("MachineState", "machineState", machine),
        ("Entries", "entries", entries), ("PodEntries", "podEntries", pod_entries)],
        omitempty=("Entries", "PodEntries"))
    _LAYOUTS = {"v1": v1, "v2": v2, "v3": v3_data, "v3-outer": v3}
    return _LAYOUTS


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
    from rmctl.discovery.kubelet import gotypes as g

    value = files.parse_known(rel, text, KNOWN_KEYS)
    if g.has_key(value, "data") or g.has_key(value, "dataChecksum"):
        types = layouts()
        outer = files.decode(rel, types["v3-outer"], value)
        if g.fnv32a(("(string)" + outer["Data"]).encode("utf-8", "surrogatepass")) != outer["DataChecksum"]:
            raise files.corrupt(rel, f"dataChecksum {outer['DataChecksum']} does not match its data section")
        go = files.decode(rel, types["v3"], files.parse_json(rel, outer["Data"]),
                          {"Entries": {}, "MachineState": {}, "PodEntries": {}})
        return "v3", go, (None, VERIFIED, "data section; the v1 copy beside it is not used")
    errors = []
    for fmt in ("v1", "v2"):
        t = layouts()[fmt]
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
    from rmctl.discovery.kubelet import gotypes as g

    types = layouts()
    if fmt == "v3":
        data = g.marshal(types["v3"], go)
        return g.marshal(types["v3-outer"], {"Data": data, "DataChecksum": g.fnv32a(("(string)" + data).encode())})
    t = types[fmt]
    go = dict(go, Checksum=0)
    return g.marshal(t, dict(go, Checksum=g.spew_hash(t, go)))


def _state(rel: str, fmt: str, go: dict, checksum: int | None, status: str, detail: str) -> MemoryManagerState:
    from rmctl.discovery.kubelet import gotypes as g

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
