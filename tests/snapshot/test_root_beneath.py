"""Directory roots: every read stays beneath the root (issue 15 item 3); special files never block.

Each test runs twice: with openat2(RESOLVE_IN_ROOT) for paths through
links (this kernel has it), and with the component-wise walk used where
it does not (kernels before 5.6, seccomp filters).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from rmctl.discovery import Root, discover
from rmctl.discovery.beneath import DirReader
from tests import synth

SECRET = "TOPSECRET-9f1c"


@pytest.fixture(params=["openat2", "walk"])
def resolver(request, monkeypatch):
    if request.param == "walk":
        monkeypatch.setattr(DirReader, "use_openat2", False)
    else:
        monkeypatch.setattr(DirReader, "use_openat2", None)  # probe: this kernel has it
    return request.param


@pytest.fixture
def secret(tmp_path):
    """A file outside the root whose text must never appear."""
    p = tmp_path / "outside" / "shadow"
    p.parent.mkdir()
    p.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    return str(p)


def node(tmp_path, **kw):
    return synth.build(tmp_path / "root", sockets=1, cores=2, threads=1, **kw)


def relink(path, target):
    os.remove(path)
    os.symlink(target, path)


def test_link_out_of_a_directory_root_is_not_followed(tmp_path, secret, resolver, run_cli):
    """Issue 15 item 3: online -> /etc/shadow was followed and its text quoted in a finding."""
    root = node(tmp_path)
    relink(os.path.join(root, "sys/devices/system/cpu/online"), secret)
    code, out, err = run_cli("--root", root, "topology", "-o", "json")
    assert SECRET not in out + err
    assert code == 0, err  # the model comes from the other files; online is simply missing
    r = Root.open(root)
    assert r.read("sys/devices/system/cpu/online") is None
    # with RESOLVE_IN_ROOT an absolute target names ROOT/<target>: here, nothing
    assert r.realpath("sys/devices/system/cpu/online") == secret.lstrip("/")


@pytest.mark.parametrize("target", ["../../../../../../../../{secret}", "/{secret}", "../../../../../../.."])
def test_relative_and_absolute_escapes_stay_at_the_root(tmp_path, secret, resolver, target):
    root = node(tmp_path)
    link = os.path.join(root, "sys/devices/system/cpu/possible")
    relink(link, target.format(secret=secret.lstrip("/")))
    r = Root.open(root)
    assert r.read("sys/devices/system/cpu/possible") is None
    assert r.listdir("sys/devices/system/cpu/possible/outside") == []
    # the canonical path never leaves the root: ".." above it stays at it
    real = r.realpath("sys/devices/system/cpu/possible")
    assert real is not None and not real.startswith("..")


def test_an_absolute_link_resolves_inside_the_root(tmp_path, resolver):
    """RESOLVE_IN_ROOT: /sys/... inside a snapshot names the snapshot's own sys/."""
    root = node(tmp_path)
    os.symlink("/sys/devices/system/cpu/online", os.path.join(root, "sys/devices/system/cpu/alias"))
    assert Root.open(root).read("sys/devices/system/cpu/alias") == "0-1\n"


def test_a_directory_link_out_is_not_followed(tmp_path, secret, resolver):
    root = node(tmp_path)
    cache = os.path.join(root, "sys/devices/system/cpu/cpu0/cache")
    os.rename(cache, cache + ".old")
    os.symlink(os.path.dirname(secret), cache)
    r = Root.open(root)
    assert r.listdir("sys/devices/system/cpu/cpu0/cache") == []
    assert r.read("sys/devices/system/cpu/cpu0/cache/shadow") is None
    assert not r.exists("sys/devices/system/cpu/cpu0/cache/shadow")


def test_sysfs_links_inside_the_root_work(tmp_path, resolver):
    """sys/bus/pci/devices/* -> ../../../devices/... are inside the root and must keep working."""
    root = node(tmp_path)
    dev = os.path.join(root, "sys/devices/pci0000:00/0000:00:02.0")
    os.makedirs(dev)
    for f, v in {"vendor": "0x8086", "device": "0x1234", "class": "0x030000", "numa_node": "0"}.items():
        with open(os.path.join(dev, f), "w") as fh:
            fh.write(v + "\n")
    os.makedirs(os.path.join(root, "sys/bus/pci/drivers/i915"))
    os.symlink("../../../bus/pci/drivers/i915", os.path.join(dev, "driver"))
    os.makedirs(os.path.join(root, "sys/bus/pci/devices"), exist_ok=True)
    os.symlink("../../../devices/pci0000:00/0000:00:02.0", os.path.join(root, "sys/bus/pci/devices/0000:00:02.0"))
    r = Root.open(root)
    assert r.read_strip("sys/bus/pci/devices/0000:00:02.0/vendor") == "0x8086"
    assert r.readlink("sys/bus/pci/devices/0000:00:02.0/driver") == "../../../bus/pci/drivers/i915"
    assert r.realpath("sys/bus/pci/devices/0000:00:02.0") == "sys/devices/pci0000:00/0000:00:02.0"
    assert r.isdir("sys/bus/pci/devices/0000:00:02.0/driver")
    assert r.islink("sys/bus/pci/devices/0000:00:02.0")
    # the link took the slow path the parametrisation names
    assert (r._reader.openat2_calls > 0) == (resolver == "openat2")
    (dev_model,) = discover(r, devices=True).devices
    assert str(dev_model.address) == "0000:00:02.0" and dev_model.driver == "i915"
    assert dev_model.sysfs_path == "sys/devices/pci0000:00/0000:00:02.0" and dev_model.pcie_root == "pci0000:00"


def test_a_link_swapped_in_for_a_directory_is_caught(tmp_path, secret, resolver):
    """A directory read once, then replaced by a link out: the cached descriptor is the old
    directory (inside), and a fresh lookup goes through the link resolver (inside)."""
    root = node(tmp_path)
    r = Root.open(root)
    assert r.read("sys/devices/system/cpu/cpu1/topology/core_id") == "1\n"
    cpu1 = os.path.join(root, "sys/devices/system/cpu/cpu1")
    os.rename(cpu1, cpu1 + ".old")
    os.symlink(os.path.dirname(secret), cpu1)
    fresh = Root.open(root)
    assert fresh.read("sys/devices/system/cpu/cpu1/shadow") is None
    assert fresh.listdir("sys/devices/system/cpu/cpu1") == []


def test_link_loops_end(tmp_path, resolver):
    root = node(tmp_path)
    a, b = (os.path.join(root, "sys/devices/system/cpu", n) for n in ("a", "b"))
    os.symlink("b", a)
    os.symlink("a", b)
    r = Root.open(root)
    assert r.read("sys/devices/system/cpu/a") is None
    assert r.listdir("sys/devices/system/cpu/a") == []
    assert r.realpath("sys/devices/system/cpu/a") is None


def test_fifo_and_device_inside_a_root_are_never_opened(tmp_path, resolver):
    """Only regular files are opened: a FIFO would block, a device (a watchdog) would act."""
    root = node(tmp_path)
    online = os.path.join(root, "sys/devices/system/cpu/online")
    os.remove(online)
    os.mkfifo(online)
    meminfo = os.path.join(root, "proc/meminfo")
    os.remove(meminfo)
    if os.geteuid() == 0:
        os.mknod(meminfo, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers
    r = Root.open(root)
    t0 = time.monotonic()
    assert r.read("sys/devices/system/cpu/online") is None
    assert r.read("proc/meminfo") is None
    assert r.read_bytes("proc/meminfo") is None
    assert time.monotonic() - t0 < 5
    assert r.filetype("sys/devices/system/cpu/online") == "other"


def test_a_fifo_as_root_never_blocks(tmp_path):
    fifo = tmp_path / "root.tar.gz"
    os.mkfifo(fifo)
    p = subprocess.run([sys.executable, "-m", "rmctl", "--root", str(fifo), "topology", "-o", "json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3, p.stderr
    assert json.loads(p.stdout)["error"]["message"].endswith("is neither a directory nor a snapshot tarball")


def test_a_snapshot_whose_top_folder_is_a_link_is_not_entered(tmp_path, secret):
    top = tmp_path / "snap"
    top.mkdir()
    os.symlink(node(tmp_path), top / "machine")
    with pytest.raises(Exception) as e:
        Root.open(top)
    assert "sys/devices/system/cpu" in str(e.value)


def test_descriptors_are_bounded_and_released(tmp_path, resolver):
    from rmctl.discovery import beneath

    root = synth.build(tmp_path / "big", sockets=2, cores=64, threads=2)
    before = len(os.listdir("/proc/self/fd"))
    r = Root.open(root)
    discover(r)
    held = len(os.listdir("/proc/self/fd")) - before
    assert held <= beneath.DIR_CACHE + 2
    r.close()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_the_live_root_reads_through_links(resolver):
    """The live root is the kernel's own files, trusted: /sys links are followed as they are."""
    r = Root.open("/")
    assert r.is_live and r.kind == "live"
    assert r.read("sys/devices/system/cpu/online")
    if os.path.isdir("/sys/bus/cpu/devices"):
        assert r.isdir("sys/bus/cpu/devices/cpu0")  # a link into sys/devices/system/cpu


def test_completion_reads_roots_through_root(tmp_path, resolver):
    """Tab completion of NUMA ids and PCI addresses: beneath a directory root, and from a
    tarball's index (issue 14 item 3: tarballs through the index; they completed nothing)."""
    from rmctl.ops import complete
    from tests.conftest import FIXTURES

    epyc = os.path.join(FIXTURES, "sysfs", "utillinux-x86_64-epyc_7451.tar.gz")
    assert complete.numa_nodes(epyc, "") == [str(n) for n in range(8)]
    root = node(tmp_path)
    outside = tmp_path / "outside-devices"
    (outside / "0000:66:00.0").mkdir(parents=True)
    os.makedirs(os.path.join(root, "sys/bus/pci"), exist_ok=True)
    os.symlink(str(outside), os.path.join(root, "sys/bus/pci/devices"))
    assert complete.pci_addresses(root, "") == []  # the link out is not listed


def test_plans_for_a_snapshot_read_through_its_root(tmp_path, secret, resolver):
    """ops.hosts gives a snapshot a SnapshotHost: reads beneath the root (a tarball from its
    index), never a write; Host(root.base) read plain paths, links out included."""
    from rmctl.errors import ApplyError
    from rmctl.ops.hosts import host_for
    from tests.conftest import FIXTURES

    root = node(tmp_path)
    os.symlink(secret, os.path.join(root, "proc/leak"))
    h = host_for(Root.open(root))
    assert h.read_text("/proc/leak") is None
    assert h.read_text("/sys/devices/system/cpu/online") == "0-1\n"
    assert h.dir_state("/sys/devices/system/cpu") == "nonempty" and h.dir_state("/mnt/none") == "absent"
    with pytest.raises(ApplyError):
        h.write_text("/sys/devices/system/cpu/online", "0")
    tar = host_for(Root.open(os.path.join(FIXTURES, "nodes", "gpu-node.tar.gz")))
    assert tar.read_text("/proc/meminfo").startswith("MemTotal:")
    assert tar.mount_at("/sys") is not None or tar.read_text("/proc/mounts") is not None
