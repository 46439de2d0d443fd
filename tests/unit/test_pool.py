"""rmctl.ops.pool: forked workers, results as they come, failures as results, nothing left behind."""

from __future__ import annotations

import os
import signal

import pytest

from rmctl.ops.pool import default_jobs, unordered


def _no_children() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def square(x):
    if x == 3:
        raise ValueError("three")
    return x * x, os.getpid()


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_every_item_once_and_errors_are_results(jobs):
    got = {i: (ok, v) for i, ok, v in unordered(square, list(range(10)), jobs)}
    assert sorted(got) == list(range(10))
    assert not got[3][0] and isinstance(got[3][1], ValueError) and str(got[3][1]) == "three"
    assert all(got[i][1][0] == i * i for i in got if i != 3)
    pids = {v[1] for ok, v in got.values() if ok}
    if jobs == 1:
        assert pids == {os.getpid()}  # in this process, in order
        assert [i for i, _, _ in unordered(square, list(range(10)), 1)] == list(range(10))
    else:
        assert os.getpid() not in pids and 1 <= len(pids) <= jobs
    assert _no_children()


def die_on_two(x):
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_killed_worker_fails_its_item_only():
    got = {i: (ok, v) for i, ok, v in unordered(die_on_two, list(range(8)), 2)}
    assert sorted(got) == list(range(8))
    ok, err = got[2]
    assert not ok and "killed by SIGKILL" in str(err)
    assert all(got[i] == (True, i) for i in got if i != 2)
    assert _no_children()


class Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(a)
        self.b = b

    def __reduce__(self):
        raise TypeError("no")


def raise_unpicklable(x):
    raise Unpicklable("odd", lambda: 0)


def test_an_exception_that_does_not_pickle_comes_back_as_its_text():
    (_, ok, err), = list(unordered(raise_unpicklable, [0, 1], 2))[:1]
    assert not ok and isinstance(err, RuntimeError) and "Unpicklable: odd" in str(err)


def slow(x):
    import time

    time.sleep(0.2 if x else 0)
    return x


def test_stopping_early_kills_and_reaps_the_workers():
    it = unordered(slow, list(range(20)), 3)
    next(it)
    it.close()  # as a KeyboardInterrupt in the consumer does
    assert _no_children()


def test_default_jobs_is_this_process_affinity():
    assert default_jobs() == len(os.sched_getaffinity(0))
