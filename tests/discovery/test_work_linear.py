"""Discovery and the topology document do work linear in CPUs (issue 14 item 4).

Counted, not timed: files opened or listed (Root's record), CpuSet
constructions and set operations with the number of CPU ids each one
touches, and cpulist/mask parses with the characters parsed, while
discovering a synthetic node and building its ``topology -o json``
document, at 256, 1,024 and 4,096 CPUs of the same shape (4 packages,
2 NUMA nodes and 8 L3 caches each, SMT 2).  Work per CPU may not grow: the
per-CPU set rebuild in read_caches made CpuSet work per CPU 16 times larger
at 4,096 CPUs than at 256.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery import Root, discover
from rmctl.render.topology import topology_data
from tests import synth

SIZES = (256, 1024, 4096)
# Allowed growth of work per CPU from 256 to 4,096 CPUs: fixed costs (the
# root's directories, proc files, node and hugepage files) make small trees
# dearer per CPU, so linear work shrinks per CPU; quadratic work would be
# multiplied by 16.
GROWTH = 1.15


class Counter:
    """Counts CpuSet work while installed (monkeypatch keeps the originals)."""

    def __init__(self):
        self.sets = 0  # CpuSet objects built (constructor, parse, algebra)
        self.ops = 0  # set operations (| & - ^)
        self.ids = 0  # CPU ids touched by the above: inputs and results
        self.parses = 0  # cpulist and mask parses
        self.chars = 0  # characters handed to the parsers

    def install(self, monkeypatch):
        counter = self
        init = CpuSet.__init__
        of = CpuSet._of.__func__ if hasattr(CpuSet, "_of") else None
        parse, parse_mask = CpuSet.parse.__func__, CpuSet.parse_mask.__func__

        def counted_init(self, cpus=()):
            init(self, cpus)
            counter.sets += 1
            counter.ids += len(self)

        def counted_of(cls, s):
            counter.sets += 1
            counter.ids += len(s)
            return of(cls, s)

        def counted_parse(fn):
            def wrapper(cls, text):
                counter.parses += 1
                counter.chars += len(text)
                return fn(cls, text)
            return classmethod(wrapper)

        def counted_op(name, cost):
            fn = getattr(CpuSet, name)

            def wrapper(self, other):
                counter.ops += 1
                counter.ids += cost(len(self), len(other))
                return fn(self, other)
            return wrapper

        monkeypatch.setattr(CpuSet, "__init__", counted_init)
        if of is not None:
            monkeypatch.setattr(CpuSet, "_of", classmethod(counted_of))
        monkeypatch.setattr(CpuSet, "parse", counted_parse(parse))
        monkeypatch.setattr(CpuSet, "parse_mask", counted_parse(parse_mask))
        # CPython's frozenset costs: a union copies both, an intersection
        # walks the smaller set, a difference walks the left one
        for name, cost in (("__or__", lambda a, b: a + b), ("__and__", min),
                           ("__sub__", lambda a, b: a), ("__xor__", lambda a, b: a + b)):
            monkeypatch.setattr(CpuSet, name, counted_op(name, cost))
        return self


def _shape(cpus: int) -> dict:
    return dict(sockets=4, cores=cpus // 8, threads=2, numa_per_socket=2, l3_per_socket=8)


@pytest.fixture(scope="module")
def trees():
    # tmpfs when there is one: a 4,096-CPU tree is 135,000 files
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="rmctl-linear-", dir=base) as tmp:
        yield {n: synth.build(os.path.join(tmp, str(n)), **_shape(n)) for n in SIZES}


def work(path: str, monkeypatch) -> dict[str, int]:
    with monkeypatch.context() as m:
        c = Counter().install(m)
        root = Root.open(path, record=True)
        node = discover(root)
        topology_data(node)
    assert len(node.topology.online_cpus()) in SIZES
    return {"files": len(root.opened), "sets": c.sets, "ops": c.ops, "ids": c.ids,
            "parses": c.parses, "chars": c.chars}


def test_work_is_linear_in_cpus(trees, monkeypatch):
    counts = {n: work(trees[n], monkeypatch) for n in SIZES}
    small, big = counts[SIZES[0]], counts[SIZES[-1]]
    for metric in small:
        per_small = small[metric] / SIZES[0]
        for n in SIZES[1:]:
            per_cpu = counts[n][metric] / n
            if metric == "chars":  # cpulists spell CPU numbers: 4 digits at 4,096, 3 at 256
                per_cpu *= len(str(SIZES[0] - 1)) / len(str(n - 1))
            assert per_cpu <= per_small * GROWTH, (metric, n, {k: (v[metric], v[metric] / k) for k, v in counts.items()})
    # and the work is real: a few files and ids per CPU, not a skipped read
    assert big["files"] >= 3 * SIZES[-1]
    assert big["ids"] >= 10 * SIZES[-1]


def test_each_cache_instance_read_once(trees):
    root = Root.open(trees[1024], record=True)
    node = discover(root)
    shared = [p for p in root.opened if p.endswith("/shared_cpu_list")]
    # one read per instance: L1d, L1i and L2 per core, one per L3
    assert len(shared) == len(node.topology.caches) == 3 * 512 + 32
    assert len(set(shared)) == len(shared)
