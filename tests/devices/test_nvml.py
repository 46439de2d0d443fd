"""NVML enrichment: absent library, failing driver, failing calls, a working fake; facts in snapshots.

NVML exists only on GPU machines, so these tests use a fake ``pynvml``
module (the API of nvidia-ml-py 12+) and a synthetic tree with an NVIDIA GPU
whose Root claims to be live (NVML is asked only for the live root).
"""

import sys
import types

import pytest

from rmctl.discovery import nvml
from rmctl.discovery.pci import read_devices, snapshot_facts
from rmctl.discovery.root import Root
from tests import synth
from tests.synth import Device

BUS_ID = "00000000:00:06.0"


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's own naming
    pass


def fake_pynvml(*, init_error=None, bus_id=BUS_ID, fail=(), mig_supported=True, calls=None):
    """Return a module object behaving like pynvml for one H200."""
    m = types.ModuleType("pynvml")
    calls = calls if calls is not None else []
    m.NVMLError = NVMLError

    def call(name, value):
        def fn(*a):
            calls.append(name)
            if name in fail:
                raise NVMLError(f"{name} failed: GPU is lost")
            return value() if callable(value) else value
        return fn

    def init():
        calls.append("nvmlInit")
        if init_error:
            raise init_error

    def mig(h):
        calls.append("nvmlDeviceGetMigMode")
        if not mig_supported:
            raise NVMLError_NotSupported("Not Supported")
        return [1, 1]

    m.nvmlInit = init
    m.nvmlShutdown = call("nvmlShutdown", None)
    m.nvmlSystemGetDriverVersion = call("nvmlSystemGetDriverVersion", "580.159.04")
    m.nvmlSystemGetCudaDriverVersion = call("nvmlSystemGetCudaDriverVersion", 13000)
    m.nvmlSystemGetNVMLVersion = call("nvmlSystemGetNVMLVersion", b"13.580.159.04")
    m.nvmlDeviceGetCount = call("nvmlDeviceGetCount", 1)
    m.nvmlDeviceGetHandleByIndex = call("nvmlDeviceGetHandleByIndex", object())
    m.nvmlDeviceGetPciInfo = call("nvmlDeviceGetPciInfo", types.SimpleNamespace(busId=bus_id.encode()))
    m.nvmlDeviceGetName = call("nvmlDeviceGetName", "NVIDIA H200")
    m.nvmlDeviceGetUUID = call("nvmlDeviceGetUUID", "GPU-00000000-1111-2222-3333-444444444444")
    m.nvmlDeviceGetMemoryInfo = call("nvmlDeviceGetMemoryInfo", types.SimpleNamespace(total=150754820096))
    m.nvmlDeviceGetCudaComputeCapability = call("nvmlDeviceGetCudaComputeCapability", (9, 0))
    m.nvmlDeviceGetMigMode = mig
    # what NVIDIA's DRA driver publishes: brand (NVML_BRAND_NVIDIA), architecture (HOPPER), minor, addressing
    m.nvmlDeviceGetBrand = call("nvmlDeviceGetBrand", 14)
    m.nvmlDeviceGetArchitecture = call("nvmlDeviceGetArchitecture", 9)
    m.nvmlDeviceGetMinorNumber = call("nvmlDeviceGetMinorNumber", 0)
    m.nvmlDeviceGetAddressingMode = call("nvmlDeviceGetAddressingMode", types.SimpleNamespace(value=0))

    class NVMLError_NotFound(NVMLError):  # noqa: N801
        pass

    def mig_handle(h, i):
        calls.append("nvmlDeviceGetMigDeviceHandleByIndex")
        if i != 0:
            raise NVMLError_NotFound("Not Found")
        return "mig0"
    m.nvmlDeviceGetMaxMigDeviceCount = call("nvmlDeviceGetMaxMigDeviceCount", 7)
    m.nvmlDeviceGetMigDeviceHandleByIndex = mig_handle
    m.nvmlDeviceGetGpuInstanceId = call("nvmlDeviceGetGpuInstanceId", 1)
    m.nvmlDeviceGetGpuInstanceById = call("nvmlDeviceGetGpuInstanceById", "gi1")
    m.nvmlGpuInstanceGetInfo = call("nvmlGpuInstanceGetInfo", types.SimpleNamespace(
        profileId=19, placement=types.SimpleNamespace(start=6, size=1)))

    def gi_profile(h, pid):
        if pid != 0:  # NVML_GPU_INSTANCE_PROFILE_1_SLICE = 0 has id 19 on an H200
            raise NVMLError_NotSupported("Not Supported")
        return types.SimpleNamespace(id=19, memorySizeMB=17920, multiprocessorCount=16, copyEngineCount=1,
                                     decoderCount=1, encoderCount=0, jpegCount=1, ofaCount=0, sliceCount=1)
    m.nvmlDeviceGetGpuInstanceProfileInfo = gi_profile
    m.calls = calls
    return m


@pytest.fixture
def gpu_root(tmp_path):
    base = synth.build(tmp_path, cores=8, threads=2, devices=[
        Device("0000:00:06.0", driver="nvidia", numa_node=-1),
        Device("0000:00:03.0", vendor="0x1af4", device="0x1041", cls="0x020000", driver="virtio-pci"),
    ])
    root = Root.open(base)
    root.is_live = True  # NVML is asked only for the live root; the files come from the synth tree
    return root


def _gpu(root, findings):
    devs = read_devices(root, findings)
    assert [str(d.address) for d in devs] == ["0000:00:03.0", "0000:00:06.0"]  # enumeration never breaks
    return devs[1]


def test_nvml_absent(gpu_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu is None and g.kind == "gpu"
    assert "rmctl.io/productName" not in g.attributes and g.capacity == {}
    f = [f for f in findings if f.code == "nvml_unavailable"]
    assert f and "rmctl[nvidia]" in f[0].message


def test_nvml_module_that_raises_on_import(gpu_root, monkeypatch):
    class Boom(types.ModuleType):
        def __getattr__(self, name):
            raise OSError("libnvidia-ml.so.1: cannot open shared object file")

    monkeypatch.setitem(sys.modules, "pynvml", Boom("pynvml"))
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu is None
    assert any(f.code == "nvml_failed" for f in findings)


def test_nvml_driver_not_loaded(gpu_root, monkeypatch):
    fake = fake_pynvml(init_error=NVMLError("Driver Not Loaded"))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu is None
    assert [f.message for f in findings if f.code == "nvml_failed"] == ["NVML could not start: Driver Not Loaded"]
    assert "nvmlShutdown" not in fake.calls  # never initialised


def test_nvml_call_that_fails_keeps_the_rest(gpu_root, monkeypatch):
    fake = fake_pynvml(fail=("nvmlDeviceGetMemoryInfo", "nvmlSystemGetDriverVersion"))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu is not None
    assert g.gpu.memory_bytes is None and g.gpu.driver_version is None
    assert g.attributes["rmctl.io/productName"] == "NVIDIA H200"
    assert "rmctl.io/memory" not in g.capacity
    assert any(f.code == "nvml_partial" and "memory_total_bytes" in f.message for f in findings)
    assert fake.calls[-1] == "nvmlShutdown"


def test_nvml_count_fails(gpu_root, monkeypatch):
    fake = fake_pynvml(fail=("nvmlDeviceGetCount",))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu is None
    assert any(f.code == "nvml_failed" for f in findings)
    assert any(f.code == "nvml_missing_gpu" for f in findings)
    assert fake.calls[-1] == "nvmlShutdown"


def test_nvml_working(gpu_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    findings = []
    g = _gpu(gpu_root, findings)
    assert not [f for f in findings if f.code.startswith("nvml")]
    assert g.gpu.source == "nvml"
    a = g.attributes
    assert a["rmctl.io/productName"] == "NVIDIA H200"
    assert a["rmctl.io/uuid"] == "GPU-00000000-1111-2222-3333-444444444444"
    assert a["rmctl.io/computeCapability"] == "9.0.0"
    assert a["rmctl.io/migMode"] is True
    assert a["rmctl.io/driverVersion"] == "580.159.4"
    assert g.capacity["rmctl.io/memory"] == 150754820096
    assert g.gpu.cuda_driver_version == 13000
    assert g.name == "NVIDIA H200"


def test_nvml_without_mig_support(gpu_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(mig_supported=False))
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu.mig_mode is None and "rmctl.io/migMode" not in g.attributes
    assert not [f for f in findings if f.code == "nvml_partial"]  # NotSupported is not a problem


def test_nvml_gpu_at_another_address(gpu_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(bus_id="00000000:00:07.0"))
    findings = []
    g = _gpu(gpu_root, findings)
    assert g.gpu is None
    assert any(f.code == "nvml_missing_gpu" for f in findings)


def test_nvml_not_asked_for_a_snapshot(tmp_path, monkeypatch):
    fake = fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    base = synth.build(tmp_path, devices=[Device("0000:00:06.0", driver="nvidia")])
    findings = []
    (g,) = read_devices(Root.open(base), findings)
    assert fake.calls == [] and g.gpu is None
    assert any(f.code == "nvml_no_facts" for f in findings)


def test_nvml_not_asked_without_nvidia_gpu(tmp_path, monkeypatch):
    fake = fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    base = synth.build(tmp_path, devices=[Device("0000:00:03.0", vendor="0x1af4", device="0x1041",
                                                 cls="0x020000")])
    root = Root.open(base)
    root.is_live = True
    findings = []
    read_devices(root, findings)
    assert fake.calls == [] and findings == []


def test_snapshot_facts_store_what_nvml_said(gpu_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    facts = snapshot_facts(gpu_root)
    n = facts[nvml.FACT_KEY]
    assert n["driver_version"] == "580.159.04" and n["nvml_version"] == "13.580.159.04"
    (g,) = n["gpus"]
    assert g["pci_bus_id"] == BUS_ID and g["name"] == "NVIDIA H200"
    assert g["memory_total_bytes"] == 150754820096 and g["compute_capability"] == "9.0"
    assert g["mig_mode"] == [1, 1]
    # the same shape as the shipped gpu-node.nvml.json, so a snapshot reads back the same
    infos = nvml.gpu_infos(n, "facts", [])
    assert infos[next(iter(infos))].product_name == "NVIDIA H200"


def test_snapshot_facts_without_nvml(gpu_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    assert nvml.FACT_KEY not in snapshot_facts(gpu_root)


@pytest.mark.parametrize("facts", [None, [], {"gpus": "x"}, {"gpus": [1, {"pci_bus_id": "bad"}]},
                                   {"gpus": [{"pci_bus_id": BUS_ID, "memory_total_bytes": "lots",
                                              "mig_mode": "off", "compute_capability": "error: x"}]}])
def test_malformed_facts_never_break(facts):
    findings = []
    infos = nvml.gpu_infos(facts, "facts", findings)
    for info in infos.values():
        assert info.memory_bytes is None and info.mig_mode is None and info.compute_capability is None
