"""The NVIDIA view: a GPU with NVML facts as NVIDIA's DRA driver publishes it (driver gpu.nvidia.com).

NVIDIA's own DeviceClass selector and a claim written for it, as rmctl
ResourceClass/ResourceRequest (native DeviceClass/ResourceClaim input is
issue 12 item 6), evaluate on gpu-node.tar.gz (NVML facts plus what its
nvidia-smi XML records: brand, minor number, addressing mode) and on the
committed H200 capture (NVML facts without those).
"""

import json
import os

import pytest

from rmctl.discovery.nvml import facts_from_nvidia_smi_xml
from tests.conftest import NODE_FIXTURES, REPO
from tests.devices.helpers import GPU_NODE_TARBALL, GPU_NODE_TOP, nvml_facts, with_facts

H200 = os.path.join(REPO, "tests", "fixtures", "snapshots", "h200-vm-capture.tar.gz")

#: NVIDIA/k8s-dra-driver-gpu deployments/helm/nvidia-dra-driver-gpu/templates/deviceclass-gpu.yaml
NVIDIA_CLASS_CEL = "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'"

DOCS = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {{name: gpu.nvidia.com}}
spec:
  selectors:
  - cel: "{cls}"
---
apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {{name: claim}}
spec:
  devices:
  - name: gpu
    class: gpu.nvidia.com
    selectors:
    - cel: "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('{memory}')) >= 0"
"""


@pytest.fixture(scope="module")
def gpu_node(tmp_path_factory):
    """gpu-node.tar.gz with its NVML facts and the facts its nvidia-smi XML records."""
    facts = nvml_facts()
    with open(os.path.join(NODE_FIXTURES, "gpu-node.nvidia-smi.xml")) as f:
        extra = facts_from_nvidia_smi_xml(f.read())
    for g in facts["gpus"]:
        g.update(extra.get(g["pci_bus_id"].lower(), {}))
        g["architecture"] = g.get("architecture")  # gpu-node.nvml.json records NVML's enum (9)
    d = tmp_path_factory.mktemp("gn")
    return with_facts(GPU_NODE_TARBALL, str(d / "gpu-node.tar.gz"), GPU_NODE_TOP, {"nvml": facts})


def _req(tmp_path, memory):
    p = tmp_path / "claim.yaml"
    p.write_text(DOCS.format(cls=NVIDIA_CLASS_CEL, memory=memory))
    return str(p)


@pytest.mark.parametrize("which", ["gpu-node", "h200"])
def test_nvidia_class_and_claim_fit_with_100gi_not_200gi(run_cli, gpu_node, tmp_path, which):
    root = gpu_node if which == "gpu-node" else H200
    code, out, err = run_cli("--root", root, "request", "evaluate", _req(tmp_path, "100Gi"), "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["fits"] is True and doc["devices"] == ["0000:00:06.0"]
    code, out, err = run_cli("--root", root, "request", "explain", _req(tmp_path, "200Gi"), "-o", "json")
    assert code == 4
    doc = json.loads(out)
    nv = next(m for m in doc["selectors"]["gpu"] if m["driver"] == "gpu.nvidia.com")
    assert nv["device"] == "gpu-0" and nv["address"] == "0000:00:06.0"
    assert [s["value"] for s in nv["selectors"]] == [True, False]
    code, out, _ = run_cli("--root", root, "request", "explain", _req(tmp_path, "200Gi"), env={"COLUMNS": "200"})
    assert "quantity('200Gi')" in out and "S2 (request gpu)" in out


def _view(root):
    from rmctl.discovery.assemble import assemble
    from rmctl.discovery.root import Root
    from rmctl.model.nvidia import nvidia_devices

    node = assemble(Root.open(root), devices=True)
    gpu = next(d for d in node.devices if str(d.address) == "0000:00:06.0")
    (view,) = nvidia_devices(gpu)
    return view


def test_the_view_has_the_drivers_names_and_types(gpu_node):
    from rmctl.model.pci import Version, dra_problems

    v = _view(gpu_node)
    a = v.attributes
    assert v.name == "gpu-0" and v.driver == "gpu.nvidia.com"
    assert a["gpu.nvidia.com/type"] == "gpu" and a["gpu.nvidia.com/productName"] == "NVIDIA H200"
    assert a["gpu.nvidia.com/brand"] == "Nvidia"  # nvidia-smi "NVIDIA" = NVML_BRAND_NVIDIA, go-nvlib's "Nvidia"
    assert a["gpu.nvidia.com/architecture"] == "Hopper"
    assert a["gpu.nvidia.com/cudaComputeCapability"] == Version("9.0.0")
    assert a["gpu.nvidia.com/driverVersion"] == Version("580.159.4")
    assert a["gpu.nvidia.com/cudaDriverVersion"] == Version("13.0.0")
    assert all(isinstance(a[f"gpu.nvidia.com/{k}"], Version)
               for k in ("cudaComputeCapability", "driverVersion", "cudaDriverVersion"))
    assert a["gpu.nvidia.com/pcieBusID"] == "0000:00:06.0" and a["gpu.nvidia.com/addressingMode"] == "None"
    assert a["resource.kubernetes.io/pcieRoot"] == "pci0000:00"
    assert v.capacity == {"gpu.nvidia.com/memory": 150754820096}
    assert "uuid" in v.missing  # the published gpu-node.nvml.json has its UUID removed
    assert dra_problems(v.attributes, v.capacity) == []
    entry = v.slice_entry()
    assert entry["attributes"]["type"] == {"string": "gpu"} and entry["capacity"]["memory"] == {"value": "150754820096"}


def test_an_older_snapshot_says_which_facts_it_lacks():
    v = _view(H200)
    assert v.attributes["gpu.nvidia.com/architecture"] == "Hopper"  # derived from compute capability 9.0
    for fact in ("brand", "addressing mode", "minor number (named gpu-0 after the NVML index)"):
        assert fact in v.missing, v.missing
    assert "gpu.nvidia.com/brand" not in v.attributes


def test_mig_devices_are_published_instead_of_their_gpu():
    from rmctl.model.nvidia import nvidia_devices
    from rmctl.model.pci import GpuInfo, MigDeviceInfo, PciAddress, PciDevice

    gpu = GpuInfo(source="facts", product_name="NVIDIA H200", memory_bytes=150754820096, uuid="GPU-x",
                  compute_capability="9.0", mig_mode=(1, 1), driver_version="580.159.04",
                  cuda_driver_version=13000, index=0, brand="Nvidia", architecture="Hopper", minor=3,
                  addressing_mode="None",
                  mig_devices=(MigDeviceInfo("MIG-a", "1g.18gb", 19, 6, 1, 17920 << 20, 16, 1, 1, 0, 1, 0),))
    dev = PciDevice(PciAddress.parse("0000:00:06.0"), 0x10DE, 0x2335, 0x030200, "gpu", gpu=gpu,
                    pcie_root="pci0000:00")
    (m,) = nvidia_devices(dev)
    assert m.name == "gpu-3-mig-19-6-1"
    assert m.attributes["gpu.nvidia.com/type"] == "mig" and m.attributes["gpu.nvidia.com/parentUUID"] == "GPU-x"
    assert m.attributes["gpu.nvidia.com/profile"] == "1g.18gb"
    assert m.capacity["gpu.nvidia.com/memorySlice6"] == 1 and m.capacity["gpu.nvidia.com/multiprocessors"] == 16


def test_nvml_capture_records_the_drivers_facts(monkeypatch):
    """A fake pynvml (tests/devices/test_nvml.py): brand, architecture, minor, addressing mode, MIG devices."""
    import sys

    from rmctl.discovery import nvml
    from tests.devices.test_nvml import fake_pynvml

    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    findings = []
    facts = nvml.collect(findings)
    (g,) = facts["gpus"]
    assert not findings, findings
    assert (g["brand"], g["architecture"], g["minor_number"], g["addressing_mode"]) == (14, 9, 0, 0)
    assert g["mig_devices"] == [{"uuid": "GPU-00000000-1111-2222-3333-444444444444", "gi_profile_id": 19,
                                 "placement_start": 6, "placement_size": 1, "memory_mb": 17920,
                                 "multiprocessors": 16, "copy_engines": 1, "decoders": 1, "encoders": 0,
                                 "jpeg_engines": 1, "ofa_engines": 0, "slices": 1, "profile": "1g.18gb"}]
    info = nvml.gpu_infos(facts, "facts", [])
    (gi,) = info.values()
    assert (gi.brand, gi.architecture, gi.minor, gi.addressing_mode) == ("Nvidia", "Hopper", 0, "None")
