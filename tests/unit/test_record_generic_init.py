"""rmctl.model.record: a type's first instances are bound by a generic __init__, as the compiled one binds them.

The compiled ``__init__`` is made when a type has made GENERIC_INSTANCES
instances (issue 14: compiling it costs as much as ~100 generic bindings);
both must give the same record, containers frozen the same way, and
refuse the same calls.
"""

from __future__ import annotations

import pytest

from rmctl.cpuset import CpuSet
from rmctl.model import record as r
from rmctl.model.topology import Cpu, NumaNode


@r.record
class Sample:
    name: str
    sizes: tuple[int, ...] = ()
    extra: dict[str, int] = r.field(default_factory=dict)
    count: int = 0
    opts: dict[str, str] = r.field(default_factory=lambda: {"a": "b"})


CALLS = [
    (("x",), {}),
    (("x", [1, 2]), {}),
    (("x",), {"extra": {"k": 1}, "count": 3}),
    ((), {"name": "x", "sizes": [3], "opts": {"c": "d"}}),
    (("x", (1,), {"k": 2}, 4, {"e": "f"}), {}),
    (("x", (), {}, 0, {}, "too many"), {}),
    ((), {}),  # name missing
    (("x",), {"nope": 1}),
    (("x",), {"name": "y"}),  # twice
]


def _outcome(fn):
    try:
        obj = fn()
    except TypeError:
        return "TypeError"
    return repr(obj), [type(getattr(obj, f)) for f in r.fields(obj)], obj


@pytest.mark.parametrize("cls, calls", [
    (Sample, CALLS),
    (Cpu, [((3,), {"online": True, "siblings": CpuSet([3, 7])}), ((), {"id": 1})]),
    (NumaNode, [((1,), {"cpus": CpuSet([0, 1]), "distances": {0: 21, 1: 10}}), ((1, CpuSet([0])), {})]),
])
def test_generic_and_compiled_init_agree(cls, calls):
    names = list(r.fields(cls))
    defaults, annotations = cls.__record_defaults__, cls.__record_annotations__
    compiled = r._init_source(cls, names, defaults, annotations)
    for args, kw in calls:
        def generic(args=args, kw=kw):
            obj = object.__new__(cls)
            r._bind(obj, cls, names, defaults, annotations, tuple(args), dict(kw))
            return obj

        def made(args=args, kw=kw):
            obj = object.__new__(cls)
            compiled(obj, *args, **kw)
            return obj

        g, m = _outcome(generic), _outcome(made)
        if m == "TypeError":
            assert g == m, (args, kw)
            continue
        assert g != "TypeError" and g[:2] == m[:2], (args, kw)  # repr, and the type of every field
        assert g[2] == m[2] and g[2].__dict__ == m[2].__dict__


def test_a_type_compiles_its_init_after_its_first_instances():
    @r.record
    class Point:
        x: int
        y: int = 0

    generic = Point.__init__
    points = [Point(i, y=i) for i in range(r.GENERIC_INSTANCES + 2)]
    assert Point.__init__ is not generic
    assert [(p.x, p.y) for p in points] == [(i, i) for i in range(r.GENERIC_INSTANCES + 2)]
    with pytest.raises(r.FrozenInstanceError):
        points[0].x = 1
    assert points[0] == Point(0, 0) and points[-1] == Point(r.GENERIC_INSTANCES + 1, r.GENERIC_INSTANCES + 1)
