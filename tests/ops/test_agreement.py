"""Behaviours that once existed twice now agree (issue 10): one use case, one rule.

- ``cpu release`` and ``request release`` of a reservation with a cgroup,
  on a snapshot root and on this machine, dry run and not: the same plan,
  the same exit status.  Chosen: a dry run plans the cgroup's removal and
  the state change on any root (exit 0); a real release needs this
  machine when there is a cgroup to remove (a snapshot root: exit 2,
  nothing written).
- ``--near`` gives the same CPUs in ``cpu reserve`` and in a profile's
  ``near:`` (rmctl.ops.near + rmctl.planning.near: exact address, NUMA
  node's online CPUs, else local CPUs that are online, else every online CPU).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from rmctl.cpuset import CpuSet
from tests import synth
from tests.conftest import NODE_FIXTURES

V1 = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "state", "v1")
DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")  # the fingerprint of v1/live/state.json


def _state_copy(tmp_path, name="state") -> str:
    d = tmp_path / name
    d.mkdir()
    shutil.copy(os.path.join(V1, "live", "state.json"), d / "state.json")
    return str(d)


def _actions(out: str) -> list[tuple[str, str]]:
    return [(a["kind"], a["path"]) for a in json.loads(out)["plan"]["actions"]]


# -- release ----------------------------------------------------------------------------

@pytest.mark.parametrize("group", ["cpu", "request"])
def test_release_with_a_cgroup_on_a_snapshot_dry_run_plans_it(run_cli, tmp_path, group):
    sd = _state_copy(tmp_path)
    before = open(os.path.join(sd, "state.json")).read()
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, group, "release", "web", "--dry-run", "-o", "json")
    assert code == 0, err
    assert _actions(out) == [("cgroup-remove", "/sys/fs/cgroup/cpuset/rmctl-web"),
                             ("replace-file", os.path.join(sd, "state.json"))]
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, group, "release", "web", "--dry-run")
    assert code == 0, err
    assert "remove" in out and "rmctl-web" in out
    assert open(os.path.join(sd, "state.json")).read() == before


@pytest.mark.parametrize("group", ["cpu", "request"])
def test_release_with_a_cgroup_on_a_snapshot_is_refused(run_cli, tmp_path, group):
    sd = _state_copy(tmp_path)
    before = open(os.path.join(sd, "state.json")).read()
    code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, group, "release", "web", "-o", "json")
    assert code == 2, err
    assert json.loads(out)["error"]["code"] == "snapshot_root" and "--dry-run" in err
    assert open(os.path.join(sd, "state.json")).read() == before


def test_cpu_and_request_release_plan_the_same(run_cli, tmp_path):
    a, b = _state_copy(tmp_path, "a"), _state_copy(tmp_path, "b")
    plans = []
    for group, sd in (("cpu", a), ("request", b)):
        code, out, err = run_cli("--root", DEV_VM, "--state-dir", sd, group, "release", "web", "--dry-run", "-o", "json")
        assert code == 0, err
        acts = json.loads(out)["plan"]["actions"]
        plans.append([(x["kind"], x.get("path", "").replace(sd, "S"), x.get("summary")) for x in acts])
    assert plans[0] == plans[1]


def _require_root_and_cpuset_v1_or_v2():
    if os.geteuid() != 0:
        pytest.skip("needs root (cgroups)")


@pytest.mark.e2e
@pytest.mark.parametrize("group", ["cpu", "request"])
def test_release_with_a_cgroup_on_this_machine(run_cli, machine_lock, tmp_path, group):
    """On the live root both commands remove the reservation's real cpuset cgroup."""
    _require_root_and_cpuset_v1_or_v2()
    from rmctl.discovery.cgroup import cpuset_hierarchy
    from rmctl.discovery.root import Root

    name = f"h10a-agree-{os.getpid()}-{group}"
    sd = str(tmp_path / "state")
    path = cpuset_hierarchy(Root.open("/")).path(name)
    try:
        code, _, err = run_cli("--state-dir", sd, "cpu", "reserve", name, "--count", "1")
        assert code == 0, err
        code, _, err = run_cli("--state-dir", sd, "cpu", "cpuset", name)
        assert code == 0, err
        assert os.path.isdir(path)
        code, out, err = run_cli("--state-dir", sd, group, "release", name, "--dry-run", "-o", "json")
        assert code == 0, err
        assert _actions(out)[0] == ("cgroup-remove", path) and os.path.isdir(path)
        code, out, err = run_cli("--state-dir", sd, group, "release", name, "-o", "json")
        assert code == 0, err
        assert not os.path.exists(path)
        assert name not in json.loads(open(os.path.join(sd, "state.json")).read())["reservations"]
    finally:
        if os.path.isdir(path):
            subprocess.run(["rmdir", path], check=False)


# -- --near -----------------------------------------------------------------------------

@pytest.fixture
def near_root(tmp_path):
    # 2 sockets x 4 cores x 2 threads (linux numbering: CPU i and i+8 are siblings), CPU 5 offline;
    # a GPU on node 1, a NIC whose NUMA node the kernel does not know (-1) but whose local
    # CPUs are 4-7,12-15 (5 offline among them), and a device that says nothing at all.
    return synth.build(tmp_path / "n", sockets=2, cores=4, threads=2, offline=(5,), devices=[
        synth.Device("0000:3b:00.0", numa_node=1),
        synth.Device("0000:5e:00.0", vendor="0x8086", device="0x1592", cls="0x020000", numa_node=-1,
                     local_cpus="4-7,12-15"),
        synth.Device("0000:af:00.0", vendor="0x8086", device="0x1592", cls="0x020000", numa_node=-1,
                     local_cpus=""),
    ])


def _profile_cpus(run_cli, root, tmp_path, near: str, count: int) -> tuple[int, str, str]:
    p = tmp_path / f"near-{near.replace(':', '_')}.yaml"
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: n}\nspec:\n"
                 f"  reservations:\n  - {{name: db, count: {count}, near: \"{near}\"}}\n")
    code, out, err = run_cli("--root", root, "--state-dir", str(tmp_path / "ps"), "plan", "-f", str(p), "-o", "json")
    if code:
        return code, "", err
    [act] = json.loads(out)["actions"]
    return code, json.loads(act["content"])["reservations"]["db"]["cpus"], err


@pytest.mark.parametrize("near,count", [
    ("0000:3b:00.0", 4),   # its NUMA node's online CPUs
    ("3b:00.0", 2),        # the same device without the domain
    ("0000:5e:00.0", 3),   # no NUMA node: its local CPUs, the offline CPU 5 left out
    ("0000:5e:00.0", 7),   # all 7 online local CPUs
    ("0000:af:00.0", 2),   # nothing known: every online CPU
])
def test_near_chooses_the_same_cpus_in_cpu_reserve_and_a_profile(run_cli, near_root, tmp_path, near, count):
    code, out, err = run_cli("--root", near_root, "--state-dir", str(tmp_path / "cs"), "cpu", "reserve", "db",
                             "--count", str(count), "--near", near, "--dry-run", "-o", "json")
    assert code == 0, err
    by_cpu_reserve = json.loads(out)["reservation"]["cpus"]
    code, by_profile, err = _profile_cpus(run_cli, near_root, tmp_path, near, count)
    assert code == 0, err
    assert by_profile == by_cpu_reserve
    cpus = CpuSet.parse(by_cpu_reserve)
    assert 5 not in cpus and len(cpus) == count
    if near.endswith("5e:00.0"):
        assert cpus.issubset(CpuSet.parse("4,6-7,12-15"))
    if near.endswith("3b:00.0"):
        assert cpus.issubset(CpuSet.parse("4,6-7,12-15"))  # node 1 = socket 1


@pytest.mark.parametrize("near", ["0000:3b:00.1", "00.0"])
def test_near_a_device_that_is_not_there_is_refused_by_both(run_cli, near_root, tmp_path, near):
    # an exact address only: "00.0" is no address (a suffix matched a device before issue 10)
    code, _, err = run_cli("--root", near_root, "--state-dir", str(tmp_path / "cs"), "cpu", "reserve", "db",
                           "--count", "1", "--near", near)
    assert code == 2, err
    code, _, perr = _profile_cpus(run_cli, near_root, tmp_path, near, 1)
    assert code == 2, perr
    assert "spec.reservations[0].near" in perr


def test_near_too_many_cpus_is_unsatisfiable_in_both(run_cli, near_root, tmp_path):
    code, _, err = run_cli("--root", near_root, "--state-dir", str(tmp_path / "cs"), "cpu", "reserve", "db",
                           "--count", "8", "--near", "0000:5e:00.0")
    assert code == 4, err
    code, _, perr = _profile_cpus(run_cli, near_root, tmp_path, "0000:5e:00.0", 8)
    assert code == 4, perr
