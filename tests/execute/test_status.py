"""One mapping from an apply report to an exit status (rmctl.execute.status): classes, not text."""

from __future__ import annotations

import errno

import pytest

from rmctl.errors import AccessDenied, ApplyError, ExitCode, StalePlanError, UnsatisfiableError
from rmctl.execute.executor import apply
from rmctl.execute.host import RootHost, _oserror
from rmctl.execute.status import deciding_step, error_of, exit_status, raise_for_report
from rmctl.model.cpu_actions import SetPartition
from rmctl.model.hugepage_actions import SetPoolPages, shortfall_of
from rmctl.model.plan import FAILED, NOT_RUN, STALE, Plan, WriteValue

N0 = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
N1 = "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
PART = "/sys/fs/cgroup/rmctl-x/cpuset.cpus.partition"


class Kernel(RootHost):
    """A root whose "kernel" grants at most caps[path] pages, refuses writes to ``denied`` (EACCES),
    and reads back ``invalid`` partitions."""

    def __init__(self, base, caps=None, denied=(), partition=None):
        super().__init__(base)
        self.caps, self.denied, self.partition = caps or {}, set(denied), partition

    def write_text(self, path, value):
        if path in self.denied:
            raise _oserror(OSError(errno.EACCES, "Permission denied"), "cannot write", path)
        if path in self.caps:
            value = str(min(int(value), self.caps[path]))
        if path == PART and self.partition:
            value = self.partition
        super().write_text(path, value)


@pytest.fixture
def base(tmp_path):
    for p in (N0, N1, PART):
        f = tmp_path / p.lstrip("/")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("member\n" if p == PART else "0\n")
    return str(tmp_path)


def pool(path, value):
    return SetPoolPages(path=path, value=str(value), expect="0", page_size=2 << 20, node=0 if path == N0 else 1)


def test_clean_report_is_ok(base):
    r = apply(Plan([pool(N0, 2)]), Kernel(base))
    assert exit_status(r) == ExitCode.OK and error_of(r) is None and deciding_step(r) is None
    assert r.steps[0].error is None and r.steps[0].exit_code == ExitCode.OK
    raise_for_report(r)  # does not raise


def test_permission_denied_is_exit_6_by_class(base):
    r = apply(Plan([pool(N0, 2)]), Kernel(base, denied={N0}))
    step = r.steps[0]
    assert step.status == FAILED and isinstance(step.error, AccessDenied) and step.exit_code == ExitCode.PERMISSION
    assert "(permission denied)" not in step.detail  # no marker text to match any more
    assert exit_status(r) == ExitCode.PERMISSION
    err = error_of(r)
    assert isinstance(err, AccessDenied) and err.message.startswith("set the 2Mi pool on node 0 to 2 pages")
    with pytest.raises(AccessDenied):
        raise_for_report(r)


def test_stale_is_exit_5(base):
    host = Kernel(base)
    host.write_text(N0, "3")
    r = apply(Plan([pool(N0, 2), pool(N1, 2)]), host)
    assert [s.status for s in r.steps] == [STALE, NOT_RUN]
    assert isinstance(r.steps[0].error, StalePlanError) and exit_status(r) == ExitCode.CONFLICT
    assert "changed since planning" in error_of(r).message


def test_shortfall_is_exit_4_and_a_later_failure_decides(base):
    # the hugepage executor lets the other pools have their try after a shortfall
    host = Kernel(base, caps={N0: 1}, denied={N1})
    r = apply(Plan([pool(N0, 2), pool(N1, 2)]), host, continue_on=lambda s: shortfall_of(s) is not None)
    assert isinstance(r.steps[0].error, UnsatisfiableError) and shortfall_of(r.steps[0]) == 1
    assert deciding_step(r) is r.steps[1] and exit_status(r) == ExitCode.PERMISSION
    host.write_text(N0, "0")
    only_short = apply(Plan([pool(N0, 2)]), Kernel(base, caps={N0: 1}))
    assert exit_status(only_short) == ExitCode.UNSATISFIABLE
    assert "granted 1 of 2" in error_of(only_short).message


def test_plain_read_back_is_exit_1(base):
    r = apply(Plan([WriteValue(path=N0, value="7")]), Kernel(base, caps={N0: 1}))
    assert type(r.steps[0].error) is ApplyError and exit_status(r) == ExitCode.FAILED
    assert shortfall_of(r.steps[0]) is None  # a WriteValue is no pool


def test_invalid_partition_says_the_kernels_reason(base):
    host = Kernel(base, partition="isolated invalid (Cpu list in cpuset.cpus not exclusive)")
    r = apply(Plan([SetPartition(path=PART, value="isolated")]), host)
    err = error_of(r)
    assert type(err) is ApplyError and "not exclusive" in err.message and err.hint == SetPartition.failure_hint
