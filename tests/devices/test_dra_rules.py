"""Every device attribute and capacity, on every fixture, passes DRA's validation rules.

The rules are Kubernetes' own (pkg/apis/resource/validation/validation.go and
k8s.io/api/resource/v1 types.go, 1.34): a qualified name ``<domain>/<id>``
with a DNS-subdomain domain of at most 63 characters and a C-identifier id
of at most 32; a value that is an int64, a bool, a string of at most 64
bytes or a semver 2.0.0 version of at most 64 bytes; at most 32 attributes
and capacities per device; and a name means one type on every device.
"""

import os

import pytest

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.model.pci import (
    PciAddress,
    PciDevice,
    Version,
    attribute_type,
    build_attributes,
    dra_name_problem,
    dra_problems,
    dra_value_problem,
    fit_value,
)
from tests import synth
from tests.conftest import fixture_names
from tests.devices.helpers import DEV_VM_TARBALL, gpu_node_snapshot
from tests.devices.test_synth import _pf_vf_ib_nvme

H200_CAPTURE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "snapshots",
                            "h200-vm-capture.tar.gz")


def _check(devices, seen_types: dict) -> list[str]:
    bad = []
    for d in devices:
        for p in dra_problems(d.attributes, d.capacity):
            bad.append(f"{d.address}: {p}")
        for k, v in d.attributes.items():
            seen_types.setdefault(k, set()).add(attribute_type(v))
    return bad


def test_every_fixture_device_passes_dra_validation(fixture_root, tmp_path):
    roots = {name: fixture_root(name) for name in fixture_names()}
    roots["gpu-node (NVML facts)"] = gpu_node_snapshot(tmp_path)
    roots["dev-vm"] = DEV_VM_TARBALL
    roots["h200-vm-capture"] = H200_CAPTURE
    roots["synthetic PF/VF/IB/NVMe"] = _pf_vf_ib_nvme(tmp_path / "synth")
    roots["this machine"] = "/"
    assert len(roots) >= 20  # the shared sysfs fixtures are there (CI clones ../shared beside the repo)
    seen_types: dict = {}
    bad, counted = [], 0
    for label, path in roots.items():
        devices = discover(Root.open(path), devices=True).devices
        counted += len(devices)
        bad += [f"{label}: {b}" for b in _check(devices, seen_types)]
    assert counted > 60
    assert not bad, "\n".join(bad)
    # DRA: "a given name is expected to mean the same thing and have the same type on all devices"
    assert {k: t for k, t in seen_types.items() if len(t) > 1} == {}
    # the GPU facts really were checked, with their version-typed values
    assert seen_types["rmctl.io/computeCapability"] == {"version"}
    assert seen_types["resource.kubernetes.io/numaNode"] == {"int"}


def test_long_pci_ids_names_are_cut_to_64_bytes(tmp_path):
    # pci.ids has hundreds of device names over 64 characters (AMD Radeon boards)
    long = "Topaz XT [Radeon R7 M260/M265 / M340/M360 / M440/M445 / 530/535 / 620/625 Mobile]"
    base = synth.build(tmp_path, devices=[synth.Device("0000:03:00.0", vendor="0x1002", device="0x6900",
                                                       cls="0x030000")])
    os.makedirs(os.path.join(base, "usr/share/misc"))
    with open(os.path.join(base, "usr/share/misc/pci.ids"), "w") as f:
        f.write(f"1002  Advanced Micro Devices, Inc. [AMD/ATI]\n\t6900  {long}\n")
    (d,) = discover(Root.open(base), devices=True).devices
    assert d.device_name == long  # the full name stays in the device
    cut = d.attributes["rmctl.io/deviceName"]
    assert len(cut.encode()) == 64 and cut.endswith("...") and long.startswith(cut[:-3])
    assert dra_problems(d.attributes, d.capacity) == []


def test_fit_value_cuts_on_a_character_boundary():
    assert fit_value("short") == "short"
    cut = fit_value("é" * 40)  # 80 bytes of 2-byte characters
    assert len(cut.encode()) <= 64 and cut.endswith("...") and set(cut[:-3]) == {"é"}


@pytest.mark.parametrize("name,ok", [
    ("resource.kubernetes.io/pciBusID", True), ("rmctl.io/computeCapability", True), ("plain_id", True),
    ("rmctl.io/" + "a" * 32, True), ("rmctl.io/" + "a" * 33, False),  # DeviceMaxIDLength
    ("a" * 64 + "/x", False),  # DeviceMaxDomainLength 63
    ("rmctl.io/9lives", False), ("rmctl.io/with-dash", False), ("rmctl.io/", False), ("/x", False),
    ("a/b/c", False), ("Bad_Domain!/x", False),
])
def test_name_rules(name, ok):
    assert (dra_name_problem(name) is None) == ok


@pytest.mark.parametrize("value,ok", [
    (True, True), (-1, True), ((1 << 63) - 1, True), (1 << 63, False), ("x" * 64, True), ("x" * 65, False),
    (Version("9.0.0"), True), (Version("580.159.04"), False), (Version("9.0"), False), (1.5, False), (None, False),
])
def test_value_rules(value, ok):
    assert (dra_value_problem(value) is None) == ok


def test_too_many_attributes_and_shared_names_are_reported():
    attrs = {f"rmctl.io/a{i}": i for i in range(30)}
    assert any("DRA allows 32" in p for p in dra_problems(attrs, {"rmctl.io/b": 1, "rmctl.io/c": 2, "rmctl.io/d": 3}))
    assert any("both an attribute and a capacity" in p for p in dra_problems({"rmctl.io/m": 1}, {"rmctl.io/m": 1}))
    assert any("capacity" in p for p in dra_problems({}, {"rmctl.io/m": -1}))


def test_build_attributes_of_a_bare_device_is_valid():
    dev = PciDevice(address=PciAddress.parse("10000:00:02.0"), vendor=0x8086, device=0x9A0B, class_code=0x010400,
                    kind="storage")
    attrs, cap = build_attributes(dev)
    assert attrs["resource.kubernetes.io/pciBusID"] == "10000:00:02.0"
    assert dra_problems(attrs, cap) == []
