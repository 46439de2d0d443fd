"""Completion helpers: live values, cheap, never raising."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from rmctl.cli.complete import complete_numa_nodes, complete_page_sizes, complete_pci_addresses, complete_reservations
from tests import synth
from tests.cli.helpers import REPO


class Ctx:
    def __init__(self, params, parent=None):
        self.params, self.parent = params, parent


def test_numa_nodes_and_page_sizes_from_root(tmp_path):
    root = synth.build(tmp_path / "n", sockets=2, numa_per_socket=2, hugepages={2 << 20: 1, 1 << 30: 1})
    ctx = Ctx({}, Ctx({"root": root}))
    assert complete_numa_nodes(ctx, "") == ["0", "1", "2", "3"]
    assert complete_numa_nodes(ctx, "3") == ["3"]
    assert "2M" in complete_page_sizes(ctx, "") and complete_page_sizes(ctx, "1") == ["1G"]


def test_pci_addresses(tmp_path):
    root = synth.build(tmp_path / "n", devices=[synth.Device("0000:3b:00.0"), synth.Device("0000:af:00.1")])
    ctx = Ctx({"root": root})
    assert complete_pci_addresses(ctx, "0000:a") == ["0000:af:00.1"]
    assert len(complete_pci_addresses(ctx, "")) == 2


def test_reservations_from_state_dir(tmp_path, monkeypatch):
    (tmp_path / "state.json").write_text(json.dumps({"reservations": {"db": {}, "web": {}}}))
    assert complete_reservations(Ctx({"state_dir": str(tmp_path)}), "w") == ["web"]
    monkeypatch.setenv("RMCTL_STATE_DIR", str(tmp_path))
    assert complete_reservations(Ctx({}), "") == ["db", "web"]


def test_never_raise(tmp_path):
    (tmp_path / "state.json").write_text("{corrupt")
    bad = Ctx({"root": str(tmp_path / "missing"), "state_dir": str(tmp_path)})
    for fn in (complete_numa_nodes, complete_pci_addresses, complete_reservations, complete_page_sizes):
        assert fn(bad, "") == []
        assert fn(None, "") == [] or isinstance(fn(None, ""), list)


def test_shell_completion_of_commands_through_typer():
    env = {**os.environ, "_RMCTL_COMPLETE": "complete_bash", "COMP_WORDS": "rmctl top", "COMP_CWORD": "1"}
    p = subprocess.run([sys.executable, "-m", "rmctl"], env=env, capture_output=True, text=True, cwd=REPO)
    assert "topology" in p.stdout.split()
