"""Run one function over many items in forked worker processes; results as they arrive.

A fleet evaluation (``request evaluate`` over many roots) spends its time
in discovery, which is CPU-bound Python: threads would share one
interpreter lock, so the roots are read in processes.  ``fork`` (not
``spawn`` or multiprocessing's pool) because the parent has already paid
for what every worker needs (the request parsed, its CEL selectors
compiled, the modules imported) and a forked child starts with all of it
in about a millisecond; nothing is re-imported or pickled on the way in.

The protocol is two pipes per worker.  The parent writes the index of the
next item (4 bytes: never blocks) and reads the result back: a length,
then a pickle of ``(index, ok, value)``.  A worker reads an index, calls
``fn(item)``, writes the result, and exits at EOF.  The parent hands out
the next item when a worker answers, so a slow item never holds up the
others; at most ``jobs`` workers run.

Failures are results, never lost items:

- ``fn`` raising is ``(index, False, exc)``: the exception itself when it
  pickles, else a RuntimeError naming it (a worker never dies of it);
- a worker that dies (killed, out of memory) is reported for the item it
  held as a RuntimeError naming the signal or status, and replaced while
  items remain;
- Ctrl-C or an error in the parent kills and reaps every worker
  (``finally``), so no process outlives the command.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
from collections.abc import Callable, Iterator, Sequence

_INDEX = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")


def default_jobs() -> int:
    """Return the CPUs this process may run on (its affinity, which a cpuset or taskset narrows)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def unordered(fn: Callable, items: Sequence, jobs: int) -> Iterator[tuple[int, bool, object]]:
    """Yield ``(index, ok, value)`` for every item: ``fn(items[index])`` or the exception it raised.

    Results come in the order they finish.  ``jobs`` <= 1 (or one item)
    runs in this process, in order, with the same error handling.
    """
    if jobs <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            try:
                yield i, True, fn(item)
            except Exception as e:  # noqa: BLE001  # a failed item is a result (see the module doc)
                yield i, False, e
        return
    yield from _Pool(fn, items, min(jobs, len(items))).run()


class _Worker:
    __slots__ = ("pid", "task_w", "result_r", "holding")

    def __init__(self, pid: int, task_w: int, result_r: int):
        self.pid, self.task_w, self.result_r = pid, task_w, result_r
        self.holding: int | None = None  #: the index it is working on


class _Pool:
    def __init__(self, fn: Callable, items: Sequence, jobs: int):
        self.fn, self.items, self.jobs = fn, items, jobs
        self.next = 0
        self.workers: dict[int, _Worker] = {}  #: result fd -> worker

    def run(self) -> Iterator[tuple[int, bool, object]]:
        try:
            for _ in range(self.jobs):
                self._start()
            while self.workers:
                ready, _, _ = select.select(list(self.workers), [], [])
                for fd in ready:
                    w = self.workers.get(fd)
                    if w is None:
                        continue
                    got = self._receive(w)
                    if got is None:  # the worker died: its item failed, another takes over
                        yield from self._lost(w)
                        continue
                    yield got
                    self._hand_out(w)
        finally:
            self._stop_all()

    # -- workers -----------------------------------------------------------------------------
    def _start(self) -> None:
        import sys

        if self.next >= len(self.items):
            return
        sys.stdout.flush()  # a child must not inherit (and later repeat) buffered output
        sys.stderr.flush()
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(task_w)
            os.close(result_r)
            for other in self.workers.values():  # another worker's pipes are not this one's business
                os.close(other.task_w)
                os.close(other.result_r)
            _child(self.fn, self.items, task_r, result_w)
        os.close(task_r)
        os.close(result_w)
        w = _Worker(pid, task_w, result_r)
        self.workers[result_r] = w
        self._hand_out(w)

    def _hand_out(self, w: _Worker) -> None:
        """Give ``w`` the next item, or close its task pipe (it exits) when none is left."""
        if self.next < len(self.items):
            w.holding = self.next
            self.next += 1
            os.write(w.task_w, _INDEX.pack(w.holding))
        else:
            w.holding = None
            self._retire(w)

    def _retire(self, w: _Worker) -> None:
        os.close(w.task_w)
        os.close(w.result_r)
        del self.workers[w.result_r]
        _reap(w.pid)

    def _receive(self, w: _Worker) -> tuple[int, bool, object] | None:
        head = _read_exactly(w.result_r, _LENGTH.size)
        if head is None:
            return None
        body = _read_exactly(w.result_r, _LENGTH.unpack(head)[0])
        if body is None:
            return None
        return pickle.loads(body)  # noqa: S301  # our own child's bytes, over a pipe only we hold

    def _lost(self, w: _Worker) -> Iterator[tuple[int, bool, object]]:
        held = w.holding
        os.close(w.task_w)
        os.close(w.result_r)
        del self.workers[w.result_r]
        status = _reap(w.pid)
        if held is not None:
            yield held, False, RuntimeError(f"the worker process {_how(status)}")
        if self.next < len(self.items):
            self._start()

    def _stop_all(self) -> None:
        for w in list(self.workers.values()):
            try:
                os.kill(w.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for fd in (w.task_w, w.result_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            _reap(w.pid)
        self.workers.clear()


def _child(fn: Callable, items: Sequence, task_r: int, result_w: int) -> None:
    """A worker's life: read an index, answer with ``fn(item)``, until EOF; then ``os._exit``."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the whole group: just end
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            head = _read_exactly(task_r, _INDEX.size)
            if head is None:
                break
            i = _INDEX.unpack(head)[0]
            try:
                result: tuple[int, bool, object] = (i, True, fn(items[i]))
                body = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001  # every failure goes back as a result
                body = _pickled_error(i, e)
            _write_all(result_w, _LENGTH.pack(len(body)) + body)
    except BaseException:  # noqa: BLE001  # the parent went away (EPIPE) or we were told to stop
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's inherited buffers


def _pickled_error(i: int, e: Exception) -> bytes:
    try:
        return pickle.dumps((i, False, e), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001  # an exception that does not pickle: its text does
        return pickle.dumps((i, False, RuntimeError(f"{type(e).__name__}: {e}")), protocol=pickle.HIGHEST_PROTOCOL)


def _read_exactly(fd: int, n: int) -> bytes | None:
    """Return ``n`` bytes from ``fd``; None at EOF before them."""
    parts, got = [], 0
    while got < n:
        try:
            chunk = os.read(fd, min(n - got, 1 << 20))
        except InterruptedError:
            continue
        if not chunk:
            return None
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"was killed by {name}"
    return f"exited with status {os.WEXITSTATUS(status)} before answering"
