"""Reading the kubelet's checkpoints: every layout, every checksum, the kubelet's own samples.

The samples in tests/fixtures/kubelet/upstream come from the kubelet's
tests with their checksums (cases.json names each source): rmctl's
reimplementation of go-spew + FNV-32a (and CRC-32 for DRA) must accept
exactly those the kubelet accepts and refuse the ones it refuses.
"""

from __future__ import annotations

import json
import os

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery.kubelet import cpu_manager, device_manager, dra, gotypes, memory_manager
from rmctl.errors import ExitCode, KubeletCheckpointError, KubeletCheckpointVersionError

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(os.path.dirname(HERE), "fixtures", "kubelet", "upstream")
with open(os.path.join(UPSTREAM, "cases.json")) as _f:
    CASES = json.load(_f)
MODULES = {"cpu": cpu_manager, "memory": memory_manager, "devices": device_manager, "dra": dra}


def _text(name: str) -> str:
    with open(os.path.join(UPSTREAM, name)) as f:
        return f.read()


def test_every_fixture_has_a_case():
    files = sorted(f for f in os.listdir(UPSTREAM) if f.endswith(".json") and f != "cases.json")
    assert files == sorted(CASES)
    assert len(files) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_upstream_sample(name):
    case = CASES[name]
    mod = MODULES[case["manager"]]
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(KubeletCheckpointError) as e:
            mod.parse(f"var/lib/kubelet/{name}", _text(name))
        assert e.value.code == expect["error"]
        assert e.value.exit_code == ExitCode.CONFLICT == 5
        assert name in e.value.message and e.value.hint
        if expect["error"] == "kubelet_checkpoint_version":
            assert isinstance(e.value, KubeletCheckpointVersionError)
        return
    state = mod.parse(f"var/lib/kubelet/{name}", _text(name))
    assert state.checkpoint.format == expect["format"]
    assert state.checkpoint.checksum_status == expect["status"]


def test_cpu_v2_content():
    # state_checkpoint_test.go 'Restore valid checkpoint': pod -> container1 4-6, container2 1-3
    st = cpu_manager.parse("x", _text("cpu-v2-two-containers.json"))
    assert st.policy == "none" and st.default_cpus == CpuSet.parse("1-3")
    assert [(a.pod_uid, a.container, a.cpus.to_list()) for a in st.assignments] == [
        ("pod", "container1", "4-6"), ("pod", "container2", "1-3")]
    assert st.exclusive_cpus() == CpuSet.parse("1-6")


def test_cpu_v1_keys_container_ids():
    st = cpu_manager.parse("x", _text("cpu-v1-container-ids.json"))
    assert [(a.container_id, a.pod_uid, a.cpus.to_list()) for a in st.assignments] == [
        ("containerID1", "", "4-6"), ("containerID2", "", "1-3")]


def test_cpu_v3_and_v4_pod_entries():
    v3 = cpu_manager.parse("x", _text("cpu-v3-pod-entries.json"))
    assert v3.pod_cpus == (("pod2", CpuSet.parse("7-9")),)
    assert v3.exclusive_cpus() == CpuSet.parse("3-9")
    v4 = cpu_manager.parse("x", _text("cpu-v4-baselines.json"))
    # the data section wins over the (corrupted on purpose) v2 copy: static, 1-3
    assert v4.policy == "static" and v4.default_cpus == CpuSet.parse("1-3")
    assert v4.pod_cpus == (("pod", CpuSet.parse("4-10")),)


def test_memory_content():
    st = memory_manager.parse("x", _text("memory-v1.json"))
    assert st.policy == "static"
    (node,) = st.machine
    assert node.node == 0 and node.tables[0].resource == "memory"
    assert (node.tables[0].total, node.tables[0].reserved, node.tables[0].free) == (2048, 512, 1024)
    (block,) = st.blocks
    assert (block.pod_uid, block.container, block.resource, block.size, block.nodes) == (
        "pod", "container1", "memory", 512, (0,))


def test_devices_content():
    st = device_manager.parse("x", _text("devices-v2-tegra.json"))
    (a,) = st.allocations
    assert (a.pod_uid, a.container, a.resource, a.devices) == (
        "bf52b2cd-b611-4e79-86b1-280b283185c3", "check", "nvidia.com/gpu", ((-1, ("tegra",)),))
    assert a.nodes() == () and st.registered == (("nvidia.com/gpu", ("tegra",)),)


def test_dra_content():
    st = dra.parse("x", _text("dra-v1-two-claims.json"))
    assert [(c.name, c.namespace, c.pod_uids) for c in st.claims] == [
        ("example-1", "default", ("139cdb46-f989-4f17-9561-ca10cfb509a6",)),
        ("example-2", "default", ("139cdb46-f989-4f17-9561-ca10cfb509a6",))]
    assert st.claims[0].devices[0].device == "dev-1" and st.claims[1].devices[0].requests == ()


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if "format" in c["expect"]))
def test_dump_round_trip(name):
    """What rmctl writes back (snapshot scrubbing) reads again, the same, with a valid checksum."""
    case = CASES[name]
    mod = MODULES[case["manager"]]
    text = _text(name)
    if case["manager"] == "dra":
        data, _ = dra.load("x", text)
        again = dra.dump(data)
        assert again == text.strip()  # the kubelet's MarshalCheckpoint output, byte for byte
    elif case["manager"] == "devices":
        fmt, go = device_manager.load("x", text)
        again = device_manager.dump(fmt, go)
    else:
        fmt, go, _ = mod.load("x", text)
        again = mod.dump(fmt, go)
    before, after = mod.parse("x", text), mod.parse("x", again)
    assert after.checkpoint.format == before.checkpoint.format
    assert after.checkpoint.checksum_status == "verified"
    for attr in ("assignments", "pod_cpus", "default_cpus", "policy", "machine", "blocks", "allocations",
                 "registered", "claims"):
        if hasattr(before, attr):
            assert getattr(after, attr) == getattr(before, attr), attr


# -- Go's decoding rules ------------------------------------------------------

def test_keys_match_case_insensitively_and_the_last_wins():
    # Go: "defaultCPUSet" sets the field tagged "defaultCpuSet"; a later duplicate wins
    text = '{"policyName":"none","defaultCpuSet":"0","DEFAULTCPUSET":"4-6","entries":{},"checksum":354655845}'
    assert cpu_manager.parse("x", text).default_cpus == CpuSet.parse("4-6")


def test_null_entries_change_the_checksum():
    # json null makes the map nil ("<nil>" in spew), absent leaves the constructor's empty map
    ok = '{"policyName":"none","defaultCPUSet":"4-6","checksum":354655845}'
    assert cpu_manager.parse("x", ok).checkpoint.format == "v2"
    with pytest.raises(KubeletCheckpointError):
        cpu_manager.parse("x", ok.replace('"checksum"', '"entries":null,"checksum"'))


@pytest.mark.parametrize("bad", [
    '{"policyName":"none","defaultCpuSet":"4-6","checksum":354655845.0}',  # Go refuses 1.0 for an int
    '{"policyName":"none","defaultCpuSet":"4-6","checksum":4294967296}',  # overflows uint32
    '{"policyName":"none","defaultCpuSet":"4-6","checksum":-1}',
    '{"policyName":7,"defaultCpuSet":"4-6","checksum":1}',
    '{"policyName":"none","defaultCpuSet":"4-6","checksum":NaN}',
    '[1,2]',
    '"x"',
    '',
    '{"policyName":"none","defaultCpuSet":"0-99999999","checksum":0}',  # past any CPU number
    '{"policyName":"none","defaultCpuSet":"0-3:1/2","checksum":0}',  # kernel syntax, not the kubelet's
    '[' * 100000,
])
def test_bad_checkpoints_are_corrupt(bad):
    with pytest.raises(KubeletCheckpointError) as e:
        cpu_manager.parse("var/lib/kubelet/cpu_manager_state", bad)
    assert e.value.exit_code == 5 and "cpu_manager_state" in e.value.message


def test_zero_checksum_is_accepted_unchecked():
    st = cpu_manager.parse("x", '{"policyName":"static","defaultCpuSet":"0-3","checksum":0}')
    assert st.checkpoint.checksum_status == "unchecked-zero" and "accepts" in st.checkpoint.detail


def test_device_checksum_zero_is_not_exempt():
    with pytest.raises(KubeletCheckpointError):
        device_manager.parse("x", '{"Data":{"PodDeviceEntries":null,"RegisteredDevices":null},"Checksum":0}')


def test_spew_text_of_a_memory_checkpoint():
    """The exact %#v text go-spew prints (pointer map values as <*>, nil vs empty, types)."""
    fmt, go, _ = memory_manager.load("x", _text("memory-v1.json"))
    out: list[str] = []
    gotypes.GoPtr(memory_manager.layouts()["v1"]).spew(dict(go, Checksum=0), out, True)
    assert "".join(out) == (
        "(*state.MemoryManagerCheckpoint){PolicyName:(string)static MachineState:(state.NUMANodeMap)"
        "map[0:<*>{NumberOfAssignments:(int)0 MemoryMap:(map[v1.ResourceName]*state.MemoryTable)"
        "map[memory:<*>{TotalMemSize:(uint64)2048 SystemReserved:(uint64)512 Allocatable:(uint64)1536 "
        "Reserved:(uint64)512 Free:(uint64)1024}] Cells:([]int)[]}] Entries:(state.ContainerMemoryAssignments)"
        "map[pod:map[container1:[{NUMAAffinity:([]int)[0] Type:(v1.ResourceName)memory Size:(uint64)512}]]] "
        "Checksum:(checksum.Checksum)0}")


def test_fnv32a_reference_values():
    # FNV-1a 32-bit test vectors (draft-eastlake-fnv: "" and "a")
    assert gotypes.fnv32a(b"") == 0x811C9DC5
    assert gotypes.fnv32a(b"a") == 0xE40C292C
