"""Helpers for device tests (also used by the resource-class tests of issue 6).

``gpu_node_snapshot(tmp_path)`` returns a copy of the shipped
``gpu-node.tar.gz`` whose facts file (``rmctl-facts.json``) carries the
NVML facts of ``gpu-node.nvml.json`` under ``nvml``, exactly where
``rmctl snapshot capture`` puts them on a live GPU node.  Pointed at it,
``rmctl --root`` shows the H200 with productName "NVIDIA H200", memory
150754820096 bytes and computeCapability 9.0.
"""

from __future__ import annotations

import io
import json
import os
import tarfile

from tests.conftest import NODE_FIXTURES

GPU_NODE_TARBALL = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
GPU_NODE_NVML = os.path.join(NODE_FIXTURES, "gpu-node.nvml.json")
DEV_VM_TARBALL = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")
GPU_NODE_TOP = "gpu-node"  # the folder inside the tarball holding sys/ and proc/


def nvml_facts() -> dict:
    """Return the NVML facts recorded on the gpu-node machine."""
    with open(GPU_NODE_NVML) as f:
        return json.load(f)


def with_facts(src: str, dest: str, top: str, facts: dict) -> str:
    """Copy tarball ``src`` to ``dest`` with ``<top>/rmctl-facts.json`` holding ``facts``; return dest."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w:gz") as tout:
        for m in tin.getmembers():
            if m.name.rstrip("/") == f"{top}/rmctl-facts.json":
                continue
            tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
        data = json.dumps(facts, indent=1).encode()
        info = tarfile.TarInfo(f"{top}/rmctl-facts.json")
        info.size = len(data)
        info.mode = 0o644
        tout.addfile(info, io.BytesIO(data))
    return dest


def gpu_node_snapshot(tmp_path, extra_facts: dict | None = None) -> str:
    """Return the path of a gpu-node snapshot tarball carrying its NVML facts."""
    facts = {"nvml": nvml_facts()}
    facts.update(extra_facts or {})
    return with_facts(GPU_NODE_TARBALL, os.path.join(str(tmp_path), "gpu-node-nvml.tar.gz"), GPU_NODE_TOP, facts)
