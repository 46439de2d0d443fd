"""Relative counts in a NodeProfile ("50%", "all-but-1", "all"): one profile, machines of different sizes.

The schema keeps what was written; rmctl.planning.amounts resolves it
against the node when the profile is planned (docs/formats.md).
"""

import json

import pytest

from rmctl.errors import ParseError
from rmctl.profile import parse_profile
from rmctl.profile.schema import Relative
from tests import synth

PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {{name: relative}}
spec:
  systemReservedCPUs: {{count: "{system}"}}
  hugepages:
  - {{pageSize: 2Mi, count: "10%", node: 0}}
  reservations:
  - {{name: db, count: "{db}"}}
"""

GiB = 1 << 30


def _doc(system="25%", db="all-but-1"):
    return PROFILE.format(system=system, db=db)


def _plan(run_cli, root, tmp_path, text):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    code, out, err = run_cli("--root", root, "--state-dir", str(tmp_path / "state"), "plan", "-f", str(f), "-o", "json")
    return code, (json.loads(out) if out.strip() else None), err


def _desired(doc, field):
    return [a["desired"] for a in doc["actions"] if a["field"] == field]


@pytest.mark.parametrize("text,want", [
    ("50%", Relative("50%", percent="50")), ("12.5%", Relative("12.5%", percent="12.5")),
    ("100%", Relative("100%", percent="100")), ("all-but-1", Relative("all-but-1", all_but=1)),
    ("all", Relative("all", all_but=0)),
])
def test_schema_reads_relative_cpu_counts(text, want):
    p = parse_profile(_doc(db=text))
    assert p.reservations[0].count == want and p.relative()
    assert parse_profile(_doc(system="1").replace('"1"', "1")).system_reserved_count == 1


@pytest.mark.parametrize("text,msg", [
    ("0%", "above 0%"), ("101%", "must be an integer or"), ("half", "must be an integer or"),
    ("all-but--1", "must be an integer or"), ("50 %", "must be an integer or"), ("1e3%", "must be an integer or"),
])
def test_schema_refuses_bad_relative_counts(text, msg):
    with pytest.raises(ParseError) as e:
        parse_profile(_doc(db=text))
    assert "spec.reservations[0].count" in e.value.message and msg in e.value.message


def test_hugepage_counts_take_percentages_only():
    with pytest.raises(ParseError) as e:
        parse_profile(_doc().replace('count: "10%", node: 0', 'count: all-but-1, node: 0'))
    assert "spec.hugepages[0].count" in e.value.message and "a percentage of memory" in (e.value.hint or "")


@pytest.mark.parametrize("shape,system,db", [
    (dict(sockets=1, cores=2, threads=1), 1, 1),     # 2 CPUs: 25% rounds down to 0, a CPU count is at least 1
    (dict(sockets=2, cores=4, threads=2), 4, 12),    # 16 CPUs
    (dict(sockets=2, cores=8, threads=2), 8, 24),    # 32 CPUs
])
def test_one_profile_fits_machines_of_different_sizes(run_cli, tmp_path, shape, system, db):
    root = synth.build(tmp_path / "root", node_memory=2 * GiB, hugepages={"per_node": {(0, 2048): 0}}, **shape)
    ncpus = shape["sockets"] * shape["cores"] * shape["threads"]
    # every CPU but the system ones
    code, doc, err = _plan(run_cli, root, tmp_path, _doc(db=f"all-but-{system}"))
    assert code == 0, err
    assert db == ncpus - system
    sys_cpus = _cpus(_desired(doc, "spec.systemReservedCPUs")[0])
    db_cpus = _cpus(_desired(doc, "spec.reservations[0]")[0])
    assert len(sys_cpus) == system and len(db_cpus) == db and not sys_cpus & db_cpus
    # 10% of node 0's 2 GiB in whole 2 MiB pages, rounded down
    assert _desired(doc, "spec.hugepages[0]") == [str(2 * GiB // 10 // (2 << 20))]
    notes = "\n".join(doc.get("notes", []))
    assert f"spec.systemReservedCPUs.count: 25% of {ncpus} online CPUs is {system} CPU" in notes
    assert "spec.hugepages[0].count: 10% of NUMA node 0's memory" in notes


def _cpus(summary: str) -> set:
    from rmctl.cpuset import CpuSet

    return set(CpuSet.parse(summary.rsplit(" ", 1)[-1]))


def test_a_count_that_leaves_no_cpu_does_not_fit(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=1, cores=2, threads=1, node_memory=2 * GiB)
    code, doc, err = _plan(run_cli, root, tmp_path, _doc(db="all-but-2"))
    assert code == 4
    assert "spec.reservations[0].count: all-but-2 of 2 online CPUs leaves no CPU" in err
    assert "p.yaml:" in err


def test_saved_plan_of_a_relative_profile_applies(run_cli, tmp_path):
    """The plan records the profile as written; apply -f resolves it again on the same node, the same."""
    root = synth.build(tmp_path / "root", sockets=1, cores=2, threads=1, node_memory=2 * GiB)
    code, doc, err = _plan(run_cli, root, tmp_path, _doc())
    assert code == 0, err
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(doc))
    code, out, err = run_cli("--root", root, "--state-dir", str(tmp_path / "state"), "apply", "-f", str(saved),
                             "--dry-run", "-o", "json")
    assert code == 0, err


def test_a_global_pool_share_is_of_the_machines_memory(run_cli, tmp_path):
    root = synth.build(tmp_path / "root", sockets=2, cores=2, threads=1, node_memory=2 * GiB)
    text = _doc().replace('count: "10%", node: 0', 'count: "12.5%"')
    code, doc, err = _plan(run_cli, root, tmp_path, text)
    assert code == 0, err
    # 12.5% of 2 nodes x 2 GiB = 512 MiB: 256 pages of 2 MiB
    assert _desired(doc, "spec.hugepages[0]") == ["256"]
    assert "spec.hugepages[0].count: 12.5% of the machine's memory (4Gi) is 256 pages of 2Mi" in doc["notes"]
