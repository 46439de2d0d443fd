"""Messages agree in number (issue 11 finding 12: "1 CPUs", "CPUs 0 are held")."""

from __future__ import annotations

import json

from rmctl.cpuset import CpuSet
from rmctl.units import counted
from tests import synth


def test_phrase_and_counted():
    assert CpuSet.parse("0").phrase("are") == "CPU 0 is"
    assert CpuSet.parse("0-1").phrase("are") == "CPUs 0-1 are"
    assert CpuSet.parse("3").phrase("have") == "CPU 3 has"
    assert CpuSet.parse("3").phrase() == "CPU 3"
    assert counted(1, "CPU") == "1 CPU" and counted(2, "CPU") == "2 CPUs" and counted(0, "page") == "0 pages"


def test_cpu_messages_agree_in_number(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=1, cores=2, threads=1)
    code, out, err = run_cli("--root", root, "cpu", "reserve", "a", "--cpus", "0")
    assert code == 0, err
    code, out, err = run_cli("--root", root, "cpu", "reserve", "b", "--cpus", "0")
    assert code == 5 and "CPU 0 is held by reservation a" in err, err
    code, out, err = run_cli("--root", root, "cpu", "reserve", "c", "-n", "2", "-o", "json")
    assert code == 4
    msg = json.loads(out)["error"]["message"]
    assert "closest fit: 1 CPU (1)" in msg and "1 CPUs" not in msg, msg
    code, out, err = run_cli("--root", root, "cpu", "reserve-system", "--cpus", "0")
    assert code == 5 and "CPU 0 is held by reservation a" in err, err
    code, out, err = run_cli("--root", root, "cpu", "reserve", "d", "--cpus", "7")
    assert code == 2 and "CPU 7 does not exist on this node" in err, err
