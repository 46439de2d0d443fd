"""The executor on a temporary root (RootHost): the mechanism every mutating command uses."""

from __future__ import annotations

import io
import json
import os

import pytest

from rmctl.execute.executor import apply, undo_plan
from rmctl.execute.host import RootHost
from rmctl.model.actions import plan_data_roundtrip, plan_from_data
from rmctl.model.plan import (
    APPLIED,
    FAILED,
    NOT_RUN,
    STALE,
    UNCHANGED,
    BootArgs,
    MakeDir,
    Mount,
    Plan,
    ReplaceFile,
    SetAffinity,
    Unmount,
    WriteValue,
)

NR = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
OC = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages"


@pytest.fixture
def host(tmp_path):
    base = tmp_path / "root"
    for rel, text in ((NR, "0\n"), (OC, "0\n"), ("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1\n")):
        p = base / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return RootHost(str(base))


def content(host, rel):
    with open(host.real(rel)) as f:
        return f.read().strip()


def test_applied_with_read_back(host):
    r = apply(Plan([WriteValue(path=NR, value="8", expect="0")]), host)
    assert [s.status for s in r.steps] == [APPLIED]
    assert r.ok and r.changed
    assert content(host, NR) == "8"
    assert r.steps[0].before == "0" and r.steps[0].after == "8"


def test_unchanged_writes_nothing(host):
    plan = Plan([WriteValue(path=NR, value="0", expect="0")])
    r = apply(plan, host)
    assert [s.status for s in r.steps] == [UNCHANGED]
    assert r.ok and not r.changed
    assert host.calls == []


def test_apply_twice_is_idempotent(host):
    plan = Plan([WriteValue(path=NR, value="4", expect="0"), MakeDir(path="/mnt/huge")])
    assert apply(plan, host).counts()[APPLIED] == 2
    again = apply(plan, host)
    assert [s.status for s in again.steps] == [UNCHANGED, UNCHANGED]


def test_stale_stops_and_changes_nothing(host):
    host.write_text(NR, "3")  # someone changed it after planning
    host.calls.clear()
    plan = Plan([WriteValue(path=NR, value="8", expect="0"), WriteValue(path=OC, value="2", expect="0")])
    r = apply(plan, host)
    assert [s.status for s in r.steps] == [STALE, NOT_RUN]
    assert "plan saw '0', now '3'" in r.steps[0].detail
    assert content(host, NR) == "3" and content(host, OC) == "0"
    assert host.calls == []
    assert not r.ok


def test_failure_mid_plan_not_run_and_rollback(host, tmp_path):
    # a path under a regular file cannot be written: ENOTDIR
    bad = NR + "/impossible"
    plan = Plan([WriteValue(path=OC, value="5", expect="0"), WriteValue(path=bad, value="1"),
                 WriteValue(path=NR, value="2", expect="0")])
    r = apply(plan, host)
    assert [s.status for s in r.steps] == [APPLIED, FAILED, NOT_RUN]
    assert "cannot write" in r.steps[1].detail
    assert content(host, OC) == "5"  # no rollback asked
    r2 = apply(Plan([WriteValue(path=NR, value="7", expect="0"), WriteValue(path=bad, value="1")]), host,
               rollback=True)
    assert [s.status for s in r2.steps] == [APPLIED, FAILED]
    assert [s.status for s in r2.rolled_back] == [APPLIED]
    assert content(host, NR) == "0"  # restored from the value read before the step


class GrudgingHost(RootHost):
    """nr_hugepages grows by 2 per write, as the kernel may grant pages after compaction."""

    def write_text(self, path, value):
        if path == NR:
            have = int(content(self, NR))
            value = str(min(int(value), have + 2))
        super().write_text(path, value)


def test_retries_until_the_kernel_grants(host):
    h = GrudgingHost(host.base)
    slept = []
    r = apply(Plan([WriteValue(path=NR, value="6", expect="0", retries=5, retry_delay=0.5)]), h,
              sleep=slept.append)
    assert [s.status for s in r.steps] == [APPLIED]
    assert content(h, NR) == "6"
    assert slept == [0.5, 0.5]  # three writes, two waits


def test_retries_exhausted_is_failed_with_read_back(host):
    h = GrudgingHost(host.base)
    r = apply(Plan([WriteValue(path=NR, value="100", expect="0", retries=1)]), h, sleep=lambda s: None)
    assert r.steps[0].status == FAILED
    assert r.steps[0].detail == "read back '4'"


def test_reboot_only_actions_are_never_performed(host):
    plan = Plan([BootArgs(add=("hugepagesz=1G", "hugepages=4")), WriteValue(path=NR, value="1", expect="0")])
    r = apply(plan, host)
    assert [s.status for s in r.steps] == [NOT_RUN, APPLIED]
    assert "reboot" in r.steps[0].detail
    assert content(host, "/proc/cmdline") == "BOOT_IMAGE=/vmlinuz root=/dev/sda1"
    # already on the command line: unchanged
    already = apply(Plan([BootArgs(add=("root=/dev/sda1",))]), host)
    assert already.steps[0].status == UNCHANGED


def test_mounts_dirs_affinity_and_undo(host):
    plan = Plan([MakeDir(path="/mnt/huge"), Mount(path="/mnt/huge", options="pagesize=2M"),
                 SetAffinity(pid=4242, cpus="0-1"),
                 ReplaceFile(path="/var/lib/rmctl/state.json", content='{"v":1}\n', summary="reserve a")])
    r = apply(plan, host)
    assert [s.status for s in r.steps] == [APPLIED] * 4
    assert os.path.isdir(host.real("/mnt/huge"))
    assert host.mount_at("/mnt/huge")[1] == "hugetlbfs"
    assert host.get_affinity(4242) == "0-1"
    assert content(host, "/var/lib/rmctl/state.json") == '{"v":1}'
    undo = undo_plan(r)
    assert [a.kind for a in undo.actions] == ["umount", "rmdir"]  # newest first; no undo for the rest here
    ur = apply(undo, host)
    assert ur.ok
    assert host.mount_at("/mnt/huge") is None and not os.path.isdir(host.real("/mnt/huge"))
    assert apply(Plan([Unmount(path="/mnt/huge")]), host).steps[0].status == UNCHANGED


def test_replace_file_stale_when_state_changed(host):
    host.replace_file("/var/lib/rmctl/state.json", "old\n")
    import hashlib

    seen = hashlib.sha256(b"other\n").hexdigest()
    r = apply(Plan([ReplaceFile(path="/var/lib/rmctl/state.json", content="new\n", expect_sha256=seen)]), host)
    assert r.steps[0].status == STALE
    assert content(host, "/var/lib/rmctl/state.json") == "old"


def test_plan_json_round_trip_keeps_fingerprint_and_actions():
    plan = Plan([WriteValue(path=NR, value="8", expect="0", retries=3, retry_delay=0.2, compare="text"),
                 MakeDir(path="/mnt/huge", mode=0o770), Mount(path="/mnt/huge", options="pagesize=1G,mode=0770"),
                 Unmount(path="/mnt/old"), SetAffinity(pid=1, cpus="2-3"),
                 ReplaceFile(path="/var/lib/rmctl/state.json", content="{}\n", summary="x"),
                 BootArgs(add=("isolcpus=2-3",), remove=("quiet",))],
                fingerprint="ab" * 32, command="rmctl test", notes=["a note"])
    back = plan_data_roundtrip(plan)
    assert back.fingerprint == plan.fingerprint and back.command == plan.command and back.notes == plan.notes
    assert back.to_data() == plan.to_data()
    assert [type(a) for a in back.actions] == [type(a) for a in plan.actions]
    assert back.actions[6].add == ("isolcpus=2-3",) and back.actions == plan.actions


def test_plan_from_bad_data_is_a_usage_error():
    from rmctl.errors import UsageError

    for bad in ({"kind": "Nope"}, {"kind": "Plan", "apiVersion": "x/v9"},
                {"kind": "Plan", "apiVersion": "rmctl.io/v1alpha1", "actions": [{"kind": "teleport"}]}):
        with pytest.raises(UsageError):
            plan_from_data(bad)


def test_dry_run_renders_and_performs_nothing(host):
    from rich.console import Console

    from rmctl.render.data import document, dumps
    from rmctl.render.plan import plan_data, print_plan

    plan = Plan([WriteValue(path=NR, value="8", expect="0"), BootArgs(add=("hugepages=4",))],
                fingerprint="f" * 64, command="rmctl hugepages set")
    buf = io.StringIO()
    print_plan(Console(file=buf, width=200, color_system=None), plan)
    text = buf.getvalue()
    assert NR in text and "8" in text and "reboot" in text
    doc = json.loads(dumps(document("Plan", plan_data(plan)), "json"))
    assert doc["kind"] == "Plan" and doc["dry_run"] is True and len(doc["reboot_required"]) == 1
    assert doc["fingerprint"] == "f" * 64 and doc["actions"][0]["path"] == NR
    assert content(host, NR) == "0" and host.calls == []


def test_report_renderers(host):
    from rich.console import Console

    from rmctl.render.plan import print_report, report_data

    plan = Plan([WriteValue(path=NR, value="2", expect="0"), WriteValue(path=OC, value="0", expect="0")],
                fingerprint="e" * 64, command="c")
    r = apply(plan, host)
    d = report_data(r, plan=plan)
    assert d["counts"][APPLIED] == 1 and d["counts"][UNCHANGED] == 1 and d["fingerprint"] == "e" * 64
    json.dumps(d)
    buf = io.StringIO()
    print_report(Console(file=buf, width=200, color_system=None), r)
    assert "applied" in buf.getvalue() and "1 unchanged" in buf.getvalue()


def test_continue_on_lets_later_steps_run_after_a_short_read_back(tmp_path):
    # A host whose file "a" reads back short, as the kernel grants fewer hugepages.
    from rmctl.execute.executor import apply as run
    from rmctl.execute.host import RootHost

    class Short(RootHost):
        def write_text(self, path, value):
            super().write_text(path, "1" if path.endswith("/a") else value)

    def fresh(name):
        d = tmp_path / name / "x"
        d.mkdir(parents=True)
        (d / "a").write_text("0")
        (d / "b").write_text("0")
        return Short(str(tmp_path / name))

    plan = Plan(actions=[WriteValue(path="/x/a", value="4", expect="0"),
                         WriteValue(path="/x/b", value="4", expect="0")])
    stops = run(plan, fresh("one"))
    assert [s.status for s in stops.steps] == [FAILED, NOT_RUN]
    goes_on = run(plan, fresh("two"), continue_on=lambda s: s.after == "1")
    assert [s.status for s in goes_on.steps] == [FAILED, APPLIED]
    assert (tmp_path / "two" / "x" / "b").read_text() == "4"
