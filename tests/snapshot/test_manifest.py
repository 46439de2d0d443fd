"""Discovery reads nothing outside the capture manifest (so capture and discovery cannot drift)."""

import pytest

from rmctl.discovery import Root, discover
from rmctl.discovery.manifest import MANIFEST, covers, dynamic_paths, matches
from tests.conftest import fixture_names


def outside(root: Root) -> list[str]:
    extra = dynamic_paths(root)
    return [p for p in root.opened if not covers(p, extra=extra)]


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_reads_within_manifest(name, fixture_root):
    root = Root.open(fixture_root(name), record=True)
    discover(root)
    assert root.opened
    assert outside(root) == []


@pytest.mark.parametrize("node", ["gpu-node", "dev-vm"])
def test_node_fixture_reads_within_manifest(node):
    import os

    from tests.conftest import NODE_FIXTURES

    root = Root.open(os.path.join(NODE_FIXTURES, f"{node}.tar.gz"), record=True)
    discover(root)
    assert outside(root) == []


def test_live_reads_within_manifest():
    root = Root.open("/", record=True)
    discover(root)
    assert outside(root) == []


def test_matcher():
    assert matches("sys/devices/system/cpu/cpu12/topology/core_id", MANIFEST)
    assert not matches("sys/devices/system/cpu/cpu12/topology/core_id/x", MANIFEST)
    assert not matches("etc/passwd", MANIFEST)
    assert matches("a/b/c/serial", ["**/serial"]) and matches("serial", ["**/serial"])
    assert covers("sys/devices/system/cpu/")
    assert covers("sys/devices/system/cpu/cpu3/cache/")
    assert not covers("etc/")
