"""The CPU Manager's checkpoint, ``<kubelet root>/cpu_manager_state``.

Layouts, from pkg/kubelet/cm/cpumanager/state/checkpoint.go and the
migrations in state_checkpoint.go:

- v1 (before kubelet 1.18): ``entries`` maps a runtime container ID to a
  cpulist; checksummed under the v2 type name (``CPUManagerCheckpointV1``
  renamed to ``CPUManagerCheckpoint``).
- v2 (1.18 on, what released kubelets write): ``policyName``,
  ``defaultCpuSet``, ``entries`` (pod UID -> container -> cpulist),
  ``checksum``.
- v3 (PodLevelResourceManagers, alpha): v2 plus ``podEntries`` (pod UID ->
  ``{"cpuSet": cpulist}``), checksummed with the extra field.
- v4 (kubelet main, 2026): the state as a JSON string in ``data`` with
  ``dataChecksum`` = FNV-32a of spew's ``(string)<data>``; the v2 fields
  beside it are a copy for older kubelets and are not used when ``data``
  is there (the kubelet's tests corrupt them on purpose).

Checksums (FNV-32a of go-spew's ``%#v``, see gotypes) are reproduced for
all four and checked against the samples of the kubelet's
state_checkpoint_test.go; a checksum of 0 is accepted unchecked, as the
kubelet does ("compatibility with old file backend").  JSON keys match
case-insensitively (Go), so the tests' ``defaultCPUSet`` is the same key.
"""

from __future__ import annotations

import re

from rmctl.cpuset import CpuSet
from rmctl.discovery.kubelet import files
from rmctl.discovery.root import Root
from rmctl.errors import ParseError
from rmctl.model.kubelet import NOT_VERIFIED, UNCHECKED_ZERO, VERIFIED, Checkpoint, CpuAssignment, CpuManagerState

TYPE_CHECKING = False  # typing is not imported at run time (as gotypes)
if TYPE_CHECKING:
    from rmctl.discovery.kubelet import gotypes as g

#: k8s.io/utils/cpuset Parse accepts "N" and "N-M" joined by commas; the
#: kubelet writes only that (cpuset.String()), nothing else is read here.  Compiled on first use (re's
#: cache): a node without a CPU Manager checkpoint never pays for it
_CPULIST = r"(?:[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*)?\Z"

KNOWN_KEYS = ("policyName", "defaultCpuSet", "entries", "podEntries", "checksum", "data", "dataChecksum")


def parse_cpulist(text: str, where: str) -> CpuSet:
    """Return a checkpoint cpulist as a CpuSet; ParseError names ``where``."""
    if not re.match(_CPULIST, text):
        raise ParseError(f"{where}: {text[:40]!r} is not a cpulist")
    try:
        return CpuSet.parse(text)
    except ParseError as e:
        raise ParseError(f"{where}: {e}") from None


def _cpuset_value(text: str, path: str) -> list[int]:
    try:
        return parse_cpulist(text, path).sorted()
    except ParseError as e:
        from rmctl.discovery.kubelet import gotypes as g

        raise g.GoDecodeError(str(e)) from None


_LAYOUTS: dict | None = None


def layouts() -> dict:
    """Return the Go types of the layouts by name ("v1".."v4", "v4-outer"), built on first use.

    gotypes and these tables are imported and built only when a checkpoint
    exists: a node whose CPU Manager is off (no file) never pays for them
    (issue 14: request evaluate on a node, live or snapshot).
    """
    global _LAYOUTS
    if _LAYOUTS is not None:
        return _LAYOUTS
    from rmctl.discovery.kubelet import gotypes as g

    _str = g.GoString()
    _sum = g.GoInt("checksum.Checksum", 32, False)
    entries_v2 = g.GoMap(_str, g.GoMap(_str, _str))
    pod_entry = g.GoStruct("state.PodEntry", [("CPUSet", "cpuSet", g.GoCpuSet(_cpuset_value))])
    pod_entries = g.GoMap(_str, pod_entry, name="state.PodCPUAssignments")
    # the v2 struct; V1 and V3 are checksummed under this same type name
    v2 = g.GoStruct("state.CPUManagerCheckpoint", [
        ("PolicyName", "policyName", _str), ("DefaultCPUSet", "defaultCpuSet", _str),
        ("Entries", "entries", entries_v2), ("Checksum", "checksum", _sum)], omitempty=("Entries",))
    v1 = g.GoStruct("state.CPUManagerCheckpoint", [
        ("PolicyName", "policyName", _str), ("DefaultCPUSet", "defaultCpuSet", _str),
        ("Entries", "entries", g.GoMap(_str, _str)), ("Checksum", "checksum", _sum)], omitempty=("Entries",))
    v3 = g.GoStruct("state.CPUManagerCheckpoint", [
        ("PolicyName", "policyName", _str), ("DefaultCPUSet", "defaultCpuSet", _str),
        ("Entries", "entries", entries_v2), ("PodEntries", "podEntries", pod_entries),
        ("Checksum", "checksum", _sum)], omitempty=("Entries", "PodEntries"))
    # v4's outer part and its data section (unknown keys inside data are ignored)
    v4 = g.GoStruct("state.CPUManagerCheckpointV4", [("Data", "data", _str), ("DataChecksum", "dataChecksum", _sum)])
    v4_data = g.GoStruct("state.cpuManagerCheckpointData", [
        ("PolicyName", "policyName", _str), ("DefaultCPUSet", "defaultCpuSet", _str),
        ("Entries", "entries", entries_v2), ("PodEntries", "podEntries", pod_entries)],
        omitempty=("Entries", "PodEntries"))
    _LAYOUTS = {"v1": v1, "v2": v2, "v3": v3, "v4": v4_data, "v4-outer": v4}
    return _LAYOUTS


#: what newCPUManagerCheckpointV{1,2,3}() hand to json.Unmarshal: empty, non-nil maps
_INIT: dict[str, dict] = {"v1": {"Entries": {}}, "v2": {"Entries": {}}, "v3": {"Entries": {}, "PodEntries": {}}}


def read(root: Root, kubelet_root: str) -> CpuManagerState | None:
    """Return the CPU Manager's state under ``kubelet_root``, or None without a checkpoint."""
    from rmctl.discovery import paths as P

    rel = P.kubelet_file(kubelet_root, P.KUBELET_CPU_STATE)
    text = files.read_text(root, rel)
    if text is None:
        return None
    return parse(rel, text)


def parse(rel: str, text: str) -> CpuManagerState:
    """Return the state in a ``cpu_manager_state`` text (``rel`` names it in errors)."""
    fmt, go, status = load(rel, text)
    return _state(rel, fmt, go, status)


def load(rel: str, text: str) -> tuple[str, dict, tuple[str, str]]:
    """Return (layout, Go value, (checksum status, detail)) of a checked checkpoint text."""
    from rmctl.discovery.kubelet import gotypes as g

    value = files.parse_known(rel, text, KNOWN_KEYS)
    if g.has_key(value, "data") or g.has_key(value, "dataChecksum"):
        return _parse_v4(rel, value)
    errors = []
    types = layouts()
    for fmt in ("v2", "v3", "v1"):
        t = types[fmt]
        try:
            go = files.decode(rel, t, value, _INIT[fmt])
        except files.KubeletCheckpointError as e:
            errors.append(e)
            continue
        status = _checksum_status(t, go)
        if status is None:
            errors.append(files.corrupt(rel, f"checksum {go['Checksum']} does not match its content"))
            continue
        return fmt, go, status
    raise _best(errors)


def _best(errors: list) -> Exception:
    for e in errors:
        if "checksum" in e.message:
            return e
    return errors[0]


def _checksum_status(t: g.GoStruct, go: dict) -> tuple[str, str] | None:
    from rmctl.discovery.kubelet import gotypes as g

    ck = go["Checksum"]
    if ck == 0:
        return UNCHECKED_ZERO, "checksum 0: the kubelet accepts it without checking"
    if g.spew_hash(t, dict(go, Checksum=0)) == ck:
        return VERIFIED, ""
    return None


def dump(fmt: str, go: dict) -> str:
    """Return the checkpoint text of a Go value in layout ``fmt``, checksum recomputed.

    v4 is written as its data section and dataChecksum only (what the
    kubelet reads when both are there).
    """
    from rmctl.discovery.kubelet import gotypes as g

    types = layouts()
    if fmt == "v4":
        data = g.marshal(types["v4"], go)
        return g.marshal(types["v4-outer"], {"Data": data, "DataChecksum": g.fnv32a(("(string)" + data).encode())})
    t = types[fmt]
    go = dict(go, Checksum=0)
    return g.marshal(t, dict(go, Checksum=g.spew_hash(t, go)))


def _parse_v4(rel: str, value: g.Json) -> tuple[str, dict, tuple[str, str]]:
    from rmctl.discovery.kubelet import gotypes as g

    outer = files.decode(rel, layouts()["v4-outer"], value)
    data = outer["Data"]
    if g.fnv32a(("(string)" + data).encode("utf-8", "surrogatepass")) != outer["DataChecksum"]:
        raise files.corrupt(rel, f"dataChecksum {outer['DataChecksum']} does not match its data section")
    inner = files.parse_json(rel, data)
    go = files.decode(rel, layouts()["v4"], inner, {"Entries": {}, "PodEntries": {}})
    return "v4", go, (VERIFIED, "data section; the v2 copy beside it is not used")


def _state(rel: str, fmt: str, go: dict, status: tuple[str, str]) -> CpuManagerState:
    """Return the model of a checked Go value; corrupt when a cpulist does not parse."""
    from rmctl.discovery.kubelet import gotypes as g

    try:
        default = parse_cpulist(go["DefaultCPUSet"], "defaultCpuSet")
        assignments = []
        entries = go["Entries"] or {}
        for key in sorted(entries, key=g.go_string_key):
            inner = entries[key]
            if fmt == "v1":
                assignments.append(CpuAssignment(pod_uid="", container="", container_id=key,
                                                 cpus=parse_cpulist(inner, f"entries[{key}]")))
                continue
            for container in sorted(inner or {}, key=g.go_string_key):
                assignments.append(CpuAssignment(
                    pod_uid=key, container=container,
                    cpus=parse_cpulist(inner[container], f"entries[{key}][{container}]")))
    except ParseError as e:
        raise files.corrupt(rel, str(e)) from None
    pods = go.get("PodEntries") or {}
    pod_cpus = tuple((uid, CpuSet(pods[uid]["CPUSet"])) for uid in sorted(pods, key=g.go_string_key))
    checksum = go.get("Checksum")
    cp = Checkpoint(path=rel, format=fmt, checksum=checksum, checksum_status=status[0], detail=status[1])
    return CpuManagerState(checkpoint=cp, policy=go["PolicyName"], default_cpus=default,
                           assignments=tuple(assignments), pod_cpus=pod_cpus)


__all__ = ["read", "parse", "parse_cpulist", "NOT_VERIFIED"]
