"""What the request tests share: the fixtures they name and a request file writer."""

from __future__ import annotations

import os

from tests.conftest import REPO, SYSFS_FIXTURES

#: the H200 VM capture (an NVIDIA H200 with NVML facts, 6 other PCI functions)
H200 = os.path.join(REPO, "tests", "fixtures", "snapshots", "h200-vm-capture.tar.gz")
#: 64 NUMA nodes (hwloc's ia64 dump): past the kubelet's max-allowable-numa-nodes
FIXTURE_64 = os.path.join(SYSFS_FIXTURES, "hwloc-256ia64-64n2s2c.tar.bz2")


def request_file(tmp_path, body: str, name: str = "r.yaml") -> str:
    """Write a ResourceRequest named r whose spec is ``body`` (indented YAML); return its path."""
    p = tmp_path / name
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec:\n" + body)
    return str(p)
