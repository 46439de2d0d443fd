"""A directory reached through a link is resolved once per root, not once per file (issue 14).

Every file of a PCI function is read as ``sys/bus/pci/devices/<address>/<name>``,
and ``<address>`` is a link into ``sys/devices/pci*``: the walk that
resolves it beneath the root (rmctl.discovery.beneath.DirReader.walk) ran
for each of them (116 walks on gpu-node).  The resolved directory is now
remembered under the linked path too, as the openat2 path does.
"""

from __future__ import annotations

import os

import pytest

from rmctl.discovery.beneath import DIR_CACHE, DirReader
from rmctl.discovery.root import Root


@pytest.fixture
def linked(tmp_path, monkeypatch):
    """A root whose bus/dev<N> are links to devices/<N>, each with a few files."""
    monkeypatch.setattr(DirReader, "use_openat2", False)  # the walk (kernels without openat2)
    root = tmp_path / "root"
    (root / "sys" / "devices" / "system" / "cpu").mkdir(parents=True)
    (root / "bus").mkdir()
    for n in range(DIR_CACHE + 8):  # more than the cache holds: entries are evicted and closed
        d = root / "devices" / str(n)
        d.mkdir(parents=True)
        for f in ("vendor", "device", "class"):
            (d / f).write_text(f"{f}-{n}\n")
        os.symlink(f"../devices/{n}", root / "bus" / f"dev{n}")
    return root


def test_files_behind_a_link_need_one_walk(linked, monkeypatch):
    walks = []
    walk = DirReader.walk

    def counting(self, rel, *a, **kw):
        walks.append(rel)
        return walk(self, rel, *a, **kw)

    monkeypatch.setattr(DirReader, "walk", counting)
    with Root.open(str(linked)) as r:
        for f in ("vendor", "device", "class"):
            assert r.read_strip(f"bus/dev0/{f}") == f"{f}-0"
        assert walks == ["bus/dev0"]


def test_reads_stay_right_when_the_cache_turns_over(linked):
    with Root.open(str(linked)) as r:
        for _ in range(2):
            for n in range(DIR_CACHE + 8):
                for f in ("vendor", "class"):
                    assert r.read_strip(f"bus/dev{n}/{f}") == f"{f}-{n}"
                assert r.listdir(f"bus/dev{n}") == ["class", "device", "vendor"]
