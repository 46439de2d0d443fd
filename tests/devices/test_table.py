"""The devices table for people: it fits the terminal, drops low-value columns first, never cuts an address."""

import os
import re

from rmctl.render.devices import LIST_COLUMNS, narrow_columns, short_vendor
from tests import synth
from tests.devices.test_synth import _pf_vf_ib_nvme
from tests.synth import Device

H200_CAPTURE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "snapshots",
                            "h200-vm-capture.tar.gz")
ADDR = re.compile(r"^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]")


def _table(run_cli, root, columns):
    code, out, err = run_cli("--root", root, "devices", "list", env={"COLUMNS": str(columns), "TERM": "dumb"})
    assert code == 0, err
    return out.splitlines()


def _rows(lines):
    """Return {address: number of lines the row takes} of a printed list table."""
    rows, cur = {}, None
    for line in lines[1:]:
        m = ADDR.match(line)
        if m:
            cur = m.group(0)
            rows[cur] = 1
        elif cur and line.startswith(" "):
            rows[cur] += 1
        else:
            cur = None
    return rows


def _with_names(tmp_path):
    base = _pf_vf_ib_nvme(tmp_path)
    os.makedirs(os.path.join(base, "usr/share/misc"))
    with open(os.path.join(base, "usr/share/misc/pci.ids"), "w") as f:
        f.write("10de  NVIDIA Corporation\n\t2335  GH100 [H200 SXM 141GB]\n15b3  Mellanox Technologies\n"
                "\t101b  MT28908 Family [ConnectX-6]\n\t101c  MT28908 Family [ConnectX-6 Virtual Function]\n"
                "144d  Samsung Electronics Co Ltd\n\ta80a  NVMe SSD Controller PM9A1/PM9A3/980PRO\n")
    return base


def test_80_columns_fits_and_keeps_addresses_whole(tmp_path, run_cli):
    lines = _table(run_cli, _with_names(tmp_path), 80)
    assert max(len(line) for line in lines) <= 80
    header = lines[0].split()
    assert header[:3] == ["address", "kind", "name"] and "link" not in header
    rows = _rows(lines)
    assert sorted(rows) == ["0000:17:00.0", "0000:3b:00.0", "0000:3b:00.2", "0000:3b:00.3", "0000:5e:00.0",
                            "0000:c1:00.0", "0000:d8:00.0"]
    # vendor names shortened ("Mellanox", not "Mellanox Technologies"); names and details wrap at
    # words: the PF's four-part detail takes four lines, a GPU two
    assert max(rows.values()) <= 4 and rows["0000:17:00.0"] <= 2
    assert "NVIDIA GH100 [H200" in next(line for line in lines if line.startswith("0000:17:00.0"))
    assert not any("Technologies" in line for line in lines)
    assert any(line.startswith("not shown in 80 columns: ") and "link" in line for line in lines)


def test_wide_terminal_shows_every_column(tmp_path, run_cli):
    lines = _table(run_cli, _pf_vf_ib_nvme(tmp_path), 200)
    header = lines[0]
    for col in LIST_COLUMNS:
        assert col in header
    assert not any(line.startswith("not shown") for line in lines)
    assert set(_rows(lines).values()) == {1}


def test_h200_capture_at_80_columns_one_line_per_device(run_cli):
    lines = _table(run_cli, H200_CAPTURE, 80)
    assert max(len(line) for line in lines) <= 80
    rows = _rows(lines)
    assert len(rows) == 7 and set(rows.values()) == {1}
    gpu = next(line for line in lines if line.startswith("0000:00:06.0"))
    assert "NVIDIA H200" in gpu and "0-15" in gpu  # NUMA unknown: the local CPUs stay
    assert "Device 8086:0d57" in next(line for line in lines if line.startswith("0000:00:00.0"))


def test_short_vendor_names():
    assert short_vendor("Intel Corporation") == "Intel"
    assert short_vendor("Advanced Micro Devices, Inc. [AMD/ATI]") == "AMD/ATI"  # pci.ids' own short form
    assert short_vendor("Red Hat, Inc.") == "Red Hat"
    assert short_vendor("Huawei Technologies Co., Ltd.") == "Huawei"
    assert short_vendor("Western Digital") == "Western Digital"


def _row(numa="-", cpus="0-15", link="-", detail=""):
    return ("0000:00:00.0", "gpu", "NVIDIA H200", "nvidia", numa, cpus, link, detail)


def test_narrow_columns_order():
    assert narrow_columns([_row()], 200) == LIST_COLUMNS
    # every NUMA node unknown: the numa column goes (all "-"), the local CPUs stay
    assert narrow_columns([_row(detail="x" * 40)], 80) == \
        ("address", "kind", "name", "driver", "local CPUs", "detail")
    # NUMA nodes known: the link goes first, then the local CPUs when still too wide
    known = [_row(numa="0", cpus="0-27,56-83", link="Gen5 x16 (now Gen4 x8)", detail="x" * 40)]
    assert narrow_columns(known, 96) == ("address", "kind", "name", "driver", "numa", "local CPUs", "detail")
    assert narrow_columns(known, 70) == ("address", "kind", "name", "driver", "numa", "detail")
    # address, kind, name, driver and detail stay however narrow
    assert narrow_columns(known, 20) == ("address", "kind", "name", "driver", "numa", "detail")


def test_no_devices_says_so(tmp_path, run_cli):
    base = synth.build(tmp_path, devices=[Device("0000:00:00.0", cls="0x060000")])
    code, out, _ = run_cli("--root", base, "devices", "list", "--kind", "gpu", env={"COLUMNS": "80"})
    assert code == 0 and out.strip() == "no PCI devices match"


def _show(run_cli, root, address, columns=80):
    code, out, err = run_cli("--root", root, "devices", "show", address, env={"COLUMNS": str(columns), "TERM": "dumb"})
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= columns
    return out


def _value(out, key):
    line = next(line for line in out.splitlines() if line.lstrip().startswith(key + " "))
    return line.lstrip()[len(key):].strip()


def test_show_gpu_from_the_h200_capture(run_cli):
    out = _show(run_cli, H200_CAPTURE, "00:06.0")
    assert _value(out, "Name") == "NVIDIA H200"
    assert _value(out, "NUMA node") == "unknown (the kernel says -1); its local CPUs cover node 0"
    assert _value(out, "GPU memory") == "140.4Gi (150754820096 bytes)"
    assert _value(out, "Compute capability") == "9.0" and _value(out, "Link") == "Gen5 x16"
    # attributes with their DRA types: CEL compares a version with semver(), not as text
    assert _value(out, "rmctl.io/computeCapability").split() == ["version", "9.0.0"]
    assert _value(out, "rmctl.io/migMode").split() == ["bool", "false"]
    assert _value(out, "rmctl.io/memory").split() == ["capacity", "150754820096"]


def test_show_sriov_pf_and_nvme(tmp_path, run_cli):
    root = _with_names(tmp_path)
    pf = _show(run_cli, root, "0000:3b:00.0")
    assert _value(pf, "Name") == "Mellanox Technologies MT28908 Family [ConnectX-6]"
    assert _value(pf, "SR-IOV") == "PF: 2 of 8 VFs enabled (0000:3b:00.2, 0000:3b:00.3)"
    assert _value(pf, "Interface ens1f0") == "MAC 0c:42:a1:00:00:01, 100000 Mb/s, MTU 9000, up"
    assert _value(pf, "Link") == "Gen4 x16 (now Gen4 x8)"
    assert _value(pf, "NUMA node") == "1"
    assert _value(pf, "rmctl.io/sriovTotalVFs").split() == ["int", "8"]
    vf = _show(run_cli, root, "0000:3b:00.2")
    assert _value(vf, "SR-IOV") == "VF of 0000:3b:00.0"
    nvme = _show(run_cli, root, "c1:00.0")
    assert _value(nvme, "NVMe nvme0") == "SAMSUNG MZQL21T9HCJR-00A07 (firmware GDC5902Q)"
    assert _value(nvme, "namespace nvme0n1") == "1.7Ti"
    assert _value(nvme, "Subsystem") == "0x144d:0x0000  Samsung Electronics Co Ltd"
    assert "S64GNE0R" not in nvme  # the serial number is never read
