"""`rmctl devices list -o json` on this machine agrees with the peer tool, lspci (pciutils).

Both read the same sysfs and the same pci.ids (Debian ships
/usr/share/misc/pci.ids with pciutils, which CI installs): every address,
vendor/device/subsystem ids, class with prog-if, revision, the driver in use
and the names must match.  lspci is asked twice with the same options: the
human form (``lspci -D -nn -k``) for its one-line name and "Kernel driver in
use", and ``-vmm`` (machine-readable) for the vendor and device names apart.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

_PCI_IDS = ("/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids")


def _lspci(*extra) -> str:
    if shutil.which("lspci") is None:
        if os.environ.get("CI"):
            pytest.fail("lspci (pciutils) must be installed in CI: .ci/run installs it")
        pytest.skip("lspci is not installed")
    # -D: always the domain; -nn: names and ids; -k: kernel driver.  Never -v/-vv:
    # those read config space.  lspci warns about libkmod on stderr: ignored.
    p = subprocess.run(["lspci", "-D", "-nn", "-k", *extra], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "LC_ALL": "C"})
    assert p.returncode == 0, p.stderr
    return p.stdout


def _split(text: str) -> tuple[str | None, str]:
    """'Intel Corporation [8086]' -> ('Intel Corporation', '8086'); 'Device [0d57]' -> (None, '0d57')."""
    m = re.match(r"^(.*) \[([0-9a-f]{4})\]$", text)
    assert m, text
    name, num = m.groups()
    # lspci's fallbacks when pci.ids has no entry (pciutils lib/names.c)
    return (None if re.fullmatch(r"(Vendor|Device)( [0-9a-f]{4})?", name) else name), num


def _vmm() -> dict[str, dict]:
    out = {}
    for block in _lspci("-vmm").strip().split("\n\n"):
        rec = dict(line.split(":\t", 1) for line in block.splitlines() if ":\t" in line)
        out[rec["Slot"]] = rec
    return out


def _plain() -> dict[str, dict]:
    out, cur = {}, None
    for line in _lspci().splitlines():
        if not line.startswith(("\t", " ")):
            m = re.match(r"^(\S+) (.*) \[([0-9a-f]{4})\]: (.*) \[([0-9a-f]{4}):([0-9a-f]{4})\]"
                         r"(?: \(rev ([0-9a-f]{2})\))?(?: \(prog-if ([0-9a-f]{2}).*\))?$", line)
            assert m, line
            addr, _cls_name, cls, name, ven, dev, rev, _pi = m.groups()
            cur = out[addr] = {"class": cls, "name": name, "vendor": ven, "device": dev, "rev": rev, "driver": None}
        elif "Kernel driver in use:" in line:
            cur["driver"] = line.split(":", 1)[1].strip()
    return out


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    from typer.testing import CliRunner

    from rmctl.cli import app

    state = tmp_path_factory.mktemp("state")
    r = CliRunner().invoke(app, ["devices", "list", "-o", "json"], env={"RMCTL_STATE_DIR": str(state)})
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["source"]["live"] is True
    return {d["address"]: d for d in doc["devices"]}


def test_same_addresses_ids_class_revision_and_driver(ours):
    theirs = _plain()
    assert sorted(ours) == sorted(theirs)  # a VM without a PCI bus: both empty
    vmm = _vmm()
    for addr, t in theirs.items():
        d = ours[addr]
        assert (d["vendor"], d["device"]) == (f"0x{t['vendor']}", f"0x{t['device']}"), addr
        prog_if = vmm[addr].get("ProgIf", "00")
        assert d["class"] == f"0x{t['class']}{prog_if}", addr
        assert d["revision"] == (f"0x{t['rev']}" if t["rev"] else "0x00"), addr
        assert d["driver"] == t["driver"], addr


def test_same_names_from_pci_ids(ours):
    have_ids = any(os.path.exists(p) for p in _PCI_IDS)
    plain = _plain()
    for addr, rec in _vmm().items():
        d = ours[addr]
        vendor_name, _ = _split(rec["Vendor"])
        device_name, _ = _split(rec["Device"])
        assert (d["vendor_name"], d["device_name"]) == (vendor_name, device_name), addr
        if "SVendor" in rec:
            assert d["subsystem_vendor_name"] == _split(rec["SVendor"])[0], addr
            assert d["subsystem_name"] == _split(rec["SDevice"])[0], addr
        if d["gpu"] is None and not (d["virtio"] and not d["vendor_name"]):
            # the one-line name is lspci's; where pci.ids has no device entry, -nn says
            # "Intel Corporation Device [8086:0d57]" and rmctl, like plain lspci, "... Device 0d57"
            t = plain[addr]
            expected = t["name"]
            if device_name is None:
                expected = f"{expected} {t['device']}" if vendor_name else f"Device {t['vendor']}:{t['device']}"
            assert d["name"] == expected, addr
        if not have_ids:
            assert d["vendor_name"] is None and vendor_name is None
    if have_ids and ours:
        assert any(d["vendor_name"] for d in ours.values()), "pci.ids is here but no vendor got a name"
