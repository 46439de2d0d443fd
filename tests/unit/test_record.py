"""rmctl.model.record: the frozen value types of the start-up path behave like frozen dataclasses."""

from __future__ import annotations

import pytest

from rmctl.cpuset import CpuSet
from rmctl.model.record import FrozenInstanceError, asdict, field, fields, record, replace
from rmctl.model.topology import Cpu, NumaNode


@record
class Point:
    x: int
    y: int = 0
    tags: dict = field(default_factory=dict)


def test_init_defaults_and_factories():
    a, b = Point(1), Point(x=1, y=2)
    assert (a.x, a.y, a.tags, b.y) == (1, 0, {}, 2)
    assert a.tags is not Point(1).tags  # a fresh dict per instance
    with pytest.raises(TypeError):
        Point()  # x has no default
    with pytest.raises(TypeError):
        Point(1, 2, {}, 4)


def test_frozen_eq_hash_repr():
    p = Point(1, 2)
    with pytest.raises(FrozenInstanceError):
        p.x = 3
    with pytest.raises(AttributeError):
        del p.y
    assert p == Point(1, 2) and p != Point(1, 3) and p != (1, 2, {})
    c1, c2 = Cpu(id=3, online=True, siblings=CpuSet([3, 7])), Cpu(id=3, online=True, siblings=CpuSet([3, 7]))
    assert hash(c1) == hash(c2) and len({c1, c2}) == 1
    assert repr(Point(1)) == "Point(x=1, y=0, tags={})"


def test_asdict_fields_replace():
    n = NumaNode(id=1, cpus=CpuSet([0, 1]), memory_total=4 << 30, distances={0: 21, 1: 10})
    d = asdict(n)
    assert d["id"] == 1 and d["distances"] == {0: 21, 1: 10} and d["hugepages"] == ()
    assert fields(n)[:3] == ("id", "cpus", "memory_total")
    m = replace(n, memory_total=None)
    assert m.memory_total is None and m.id == 1 and n.memory_total == 4 << 30
    with pytest.raises(TypeError):
        replace(n, nope=1)


def test_classvar_is_not_a_field():
    from typing import ClassVar

    @record
    class K:
        kind: ClassVar[str] = "k"
        a: int = 1

    assert fields(K) == ("a",) and K().kind == "k"


def test_required_after_default_is_refused():
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 1
            b: int
