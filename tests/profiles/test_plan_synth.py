"""Profile planning on synthetic roots (no machine change): order, errors with positions, exit codes."""

import json

import pytest

from tests import synth

PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {{name: worker}}
spec:
  systemReservedCPUs: {{count: 1}}
  isolatedCPUs: {{cpus: "3"}}
  hugepages:
  - {{pageSize: 2Mi, count: 8, node: {node}}}
  mounts:
  - {{path: /mnt/huge-2m, pageSize: 2Mi}}
  reservations:
  - {{name: db, count: 2, numa: 1}}
"""


@pytest.fixture
def root(tmp_path):
    return synth.build(tmp_path / "root", sockets=2, cores=2, threads=2, hugepages={"per_node": {(0, 2048): 4}})


def _prof(tmp_path, node=0, text=PROFILE):
    f = tmp_path / "p.yaml"
    f.write_text(text.format(node=node))
    return str(f)


def test_plan_order_and_values(run_cli, root, tmp_path):
    code, out, err = run_cli("--root", root, "plan", "-f", _prof(tmp_path), "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "Plan" and doc["fingerprint"] and doc["changes"] == 6
    assert [(a["field"], a["kind"]) for a in doc["actions"]] == [
        ("spec.hugepages[0]", "hugepage-pool"), ("spec.mounts[0]", "mkdir"), ("spec.mounts[0]", "mount"),
        ("spec.systemReservedCPUs", "replace-state"), ("spec.reservations[0]", "replace-state"),
        ("spec.isolatedCPUs", "boot-args")]
    pool = doc["actions"][0]
    assert (pool["current"], pool["desired"], pool["reboot"]) == ("4", "8", False)
    assert doc["actions"][-1]["kind"] == "boot-args" and doc["actions"][-1]["reboot"] is True
    assert doc["reboot_required"] == ["kernel command line: add isolcpus=3 (needs a reboot)"] and doc["changed"] is True
    # the reservation of 2 CPUs on NUMA node 1 is one whole core there (synth: node 1 = CPUs 2,3,6,7)
    db = [a for a in doc["actions"] if a["field"] == "spec.reservations[0]"][0]
    assert db["desired"] == "reservation db: CPUs 2,6"


def test_detailed_exitcode(run_cli, root, tmp_path):
    code, _, _ = run_cli("--root", root, "plan", "-f", _prof(tmp_path), "--detailed-exitcode")
    assert code == 2
    code, out, _ = run_cli("--root", root, "plan", "-f", _prof(tmp_path))
    assert code == 0 and "[needs a reboot]" in out


@pytest.mark.parametrize("args,precise", [
    (("plan", "-f", "/nonexistent/profile.yaml"), 2),  # missing profile: exit 2 before (= "changes pending")
    (("plan", "-f", "{bad}"), 2),  # invalid YAML
    (("plan", "-f", "{unsat}"), 4),  # does not fit
    (("plan",), 2),  # a usage error click reports (no -f)
    (("--root", "/nonexistent/root", "plan", "-f", "{good}"), 3),  # the root cannot be read
], ids=["missing", "bad-yaml", "unsatisfiable", "no-file", "bad-root"])
def test_detailed_exitcode_every_error_is_1(run_cli, root, tmp_path, args, precise):
    """issue 11, finding 7: with --detailed-exitcode, 2 means only "changes pending" (Terraform): every
    error exits 1, and the error document keeps the precise code."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nspec: [\n")
    unsat = tmp_path / "unsat.yaml"
    unsat.write_text(PROFILE.replace("{{name: db, count: 2, numa: 1}}", "{{name: db, count: 9, numa: 1}}").format(node=0))
    args = tuple(a.format(bad=bad, unsat=unsat, good=_prof(tmp_path)) for a in args)
    head = () if args[0] == "--root" else ("--root", root)
    code, out, err = run_cli(*head, *args, "-o", "json")
    assert code == precise, err  # without the option: the precise status
    code, out, err = run_cli(*head, *args, "-o", "json", "--detailed-exitcode")
    assert code == 1, err
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["exit_code"] == precise and err.startswith("rmctl: error:")


def test_detailed_exitcode_no_changes_is_0(run_cli, root, tmp_path):
    f = tmp_path / "empty.yaml"
    f.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: e}\nspec: {}\n")
    code, out, err = run_cli("--root", root, "plan", "-f", str(f), "--detailed-exitcode", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["changed"] is False and doc["changes"] == 0 and doc["reboot_required"] == []


def test_node_errors_name_field_and_position(run_cli, root, tmp_path):
    p = _prof(tmp_path, node=7)
    code, out, err = run_cli("--root", root, "plan", "-f", p)
    assert code == 2
    assert f"{p}:8:" in err and "spec.hugepages[0].node" in err and "NUMA node 7 does not exist" in err


def test_unsatisfiable_reservation_exits_4(run_cli, root, tmp_path):
    p = _prof(tmp_path, text=PROFILE.replace("{{name: db, count: 2, numa: 1}}", "{{name: db, count: 9, numa: 1}}"))
    code, out, err = run_cli("--root", root, "plan", "-f", p)
    assert code == 4 and "spec.reservations[0]" in err


def test_snapshot_root_refuses_apply_but_dry_runs(run_cli, root, tmp_path):
    p = _prof(tmp_path)
    code, out, err = run_cli("--root", root, "apply", "-f", p)
    assert code == 2 and "snapshot" in err
    code, out, err = run_cli("--root", root, "apply", "-f", p, "--dry-run")
    assert code == 0 and "6 changes, in order" in out
    assert not (tmp_path / "state").exists()


def test_verify_mismatch_exit_4(run_cli, root, tmp_path):
    code, out, err = run_cli("--root", root, "verify", "-f", _prof(tmp_path), "-o", "json")
    assert code == 4
    doc = json.loads(out)
    assert doc["kind"] == "Verification" and doc["match"] is False
    assert {m["field"] for m in doc["mismatches"]} >= {"spec.hugepages[0]", "spec.isolatedCPUs"}


def test_verify_reboot_pending(run_cli, tmp_path):
    # isolcpus= is on the command line but the kernel does not isolate the CPU yet
    root = synth.build(tmp_path / "r2", sockets=1, cores=4, threads=1, cmdline="BOOT_IMAGE=/vmlinuz isolcpus=3")
    f = tmp_path / "iso.yaml"
    f.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: iso}\n"
                 "spec:\n  isolatedCPUs: {cpus: '3'}\n")
    code, out, err = run_cli("--root", root, "plan", "-f", str(f), "--detailed-exitcode")
    assert code == 0, out  # nothing left to change...
    code, out, err = run_cli("--root", root, "verify", "-f", str(f))
    # ...but synth's sys isolated file is empty: isolcpus in the command line is not in effect
    assert code == 4 and "reboot pending" in out


def test_apply_through_executor_on_a_root_host(root, tmp_path):
    """Apply a plan with the real executor under a directory; undo from the journal restores it."""
    from rmctl.discovery import Root, discover
    from rmctl.execute.executor import apply
    from rmctl.execute.host import RootHost
    from rmctl.ops.profile_plan import plan_profile
    from rmctl.profile import parse_profile
    from rmctl.state import journal

    text = PROFILE.format(node=0).replace('  isolatedCPUs: {cpus: "3"}\n', "")
    prof = parse_profile(text, "p.yaml")
    node = discover(Root.open(root))
    host = RootHost(root)
    state = str(tmp_path / "state")
    pp = plan_profile(prof, node, host, Root.open(root), state_dir=state)
    rep = apply(pp.plan(only_changes=False), host, rollback=True)
    assert rep.ok and rep.counts()["applied"] == 5
    pool = f"{root}/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
    assert open(pool).read().strip() == "8"
    assert ("mount", "hugetlbfs", "/mnt/huge-2m", "hugetlbfs", "pagesize=2M") in host.calls
    entry = journal.new_entry(rep, command="apply")
    undo = apply(type(pp.plan())(actions=entry.undo_actions()), host)
    assert undo.ok and undo.counts()["applied"] == 5
    assert open(pool).read().strip() == "4"
    import os

    assert not os.path.exists(host.real(os.path.join(state, "state.json")))


def test_failure_rolls_back_on_a_root_host(root, tmp_path):
    import os
    import shutil

    from rmctl.discovery import Root, discover
    from rmctl.execute.executor import apply
    from rmctl.execute.host import RootHost
    from rmctl.ops.profile_plan import plan_profile
    from rmctl.profile import parse_profile

    text = ("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\nmetadata: {name: w}\nspec:\n  hugepages:\n"
            "  - {pageSize: 2Mi, count: 8, node: 0}\n  - {pageSize: 1Gi, count: 1, node: 1}\n")
    node = discover(Root.open(root))
    host = RootHost(root)
    pp = plan_profile(parse_profile(text), node, host, Root.open(root), state_dir=str(tmp_path / "s"))
    # the second pool file becomes a directory: its write fails
    bad = f"{root}/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages"
    os.remove(bad)
    os.mkdir(bad)
    rep = apply(pp.plan(), host, rollback=True)
    assert [s.status for s in rep.steps] == ["applied", "failed"]
    assert [s.status for s in rep.rolled_back] == ["applied"]
    assert open(f"{root}/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages").read().strip() == "4"
    shutil.rmtree(bad)
