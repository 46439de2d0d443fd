"""rmctl.model.value: the types of request evaluate's path behave as the dataclasses they were (issue 14).

Each module that uses ``value`` is executed a second time with
``rmctl.model.value``'s names taken from ``dataclasses`` (``value`` is
``dataclass``): the twin classes are the dataclasses these types were.
Every type is then made both ways from the same arguments and compared:
fields, ``__init__`` parameters, ``repr``, equality, hashing, immutability,
``replace``, fresh default factories, ``__match_args__`` and pickling.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import re
import sys
import types

import pytest

from rmctl.model import value as v

MODULES = ("rmctl.resources.classes", "rmctl.resources.request", "rmctl.planning.requests",
           "rmctl.planning.topology_manager", "rmctl.model.nvidia", "rmctl.planning.pods")


def _twin(name: str) -> types.ModuleType:
    """Return module ``name`` executed again with dataclasses in place of rmctl.model.value."""
    mod = importlib.import_module(name)
    with open(mod.__file__, encoding="utf-8") as f:
        src = f.read()

    def swap(m: re.Match) -> str:
        names = [n.strip() for n in m.group(1).split(",")]
        return "from dataclasses import " + ", ".join("dataclass as value" if n == "value" else n for n in names)

    src, n = re.subn(r"^from rmctl\.model\.value import ([\w, ]+)", swap, src, flags=re.M)
    assert n, f"{name}: expected an import of rmctl.model.value"
    twin = types.ModuleType(name + "_as_dataclasses")
    twin.__file__ = mod.__file__
    # the twins of the modules it imports from (PodEvaluation's base is the twin Evaluation)
    saved = {m: sys.modules[m] for m in _TWINS}
    sys.modules.update(_TWINS)
    sys.modules[twin.__name__] = twin  # dataclasses looks the module up (string annotations)
    try:
        exec(compile(src, mod.__file__, "exec"), twin.__dict__)
    finally:
        del sys.modules[twin.__name__]
        sys.modules.update(saved)
    return twin


def _types() -> list[tuple[str, str]]:
    out = []
    for name in MODULES:
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            if isinstance(obj, type) and obj.__module__ == name and hasattr(obj, "__value_fields__"):
                out.append((name, attr))
    return out


TYPES = _types()
_TWINS: dict[str, types.ModuleType] = {}


def twin_of(module: str, attr: str):
    for m in MODULES[:MODULES.index(module) + 1]:  # in MODULES' order: a module after those it imports
        if m not in _TWINS:
            _TWINS[m] = _twin(m)
    return getattr(_TWINS[module], attr)


def test_every_value_type_of_the_path_is_checked():
    names = {a for _, a in TYPES}
    assert {"ResourceClass", "DeviceChoice", "DeviceRequest", "Constraint", "ResourceRequest", "DeviceView",
            "SelectorResult", "DeviceMatch", "ResourceResult", "Evaluation", "Reserved", "Hint", "Admission",
            "DraDevice", "PodEvaluation"} <= names


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # the kind of failure is what is compared
        return ("raises", isinstance(e, TypeError), isinstance(e, AttributeError))


@pytest.mark.parametrize("module, attr", TYPES, ids=[a for _, a in TYPES])
def test_behaves_as_the_dataclass_it_was(module, attr):
    ours = getattr(importlib.import_module(module), attr)
    theirs = twin_of(module, attr)
    assert dataclasses.is_dataclass(theirs) and not dataclasses.is_dataclass(ours)
    names = v.fields(ours)
    assert names == tuple(f.name for f in dataclasses.fields(theirs))
    assert ours.__match_args__ == theirs.__match_args__
    required = [f.name for f in dataclasses.fields(theirs)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    args = [()] * len(required)  # a tuple suits every field (sequences are tupled in __post_init__)
    a, b = ours(*args), theirs(*args)
    a2, b2 = ours(**dict(zip(required, args, strict=True))), theirs(**dict(zip(required, args, strict=True)))
    assert repr(a) == repr(b) and repr(a2) == repr(b2)
    assert (a == a2) is (b == b2) is True
    assert (a == b) is False and (a != a2) is False
    frozen = theirs.__dataclass_params__.frozen
    assert _outcome(lambda: hash(a))[0] == _outcome(lambda: hash(b))[0]
    if _outcome(lambda: hash(b))[0] == "ok":
        assert hash(a) == hash(b)
    assert _outcome(lambda: setattr(a, names[0], 1)) == _outcome(lambda: setattr(b, names[0], 1))
    if frozen:
        with pytest.raises(AttributeError):
            setattr(a, names[0], 1)
        with pytest.raises(AttributeError):
            delattr(a, names[0])
    for f in dataclasses.fields(theirs):
        if f.default_factory is not dataclasses.MISSING:
            assert getattr(ours(*args), f.name) is not getattr(a, f.name)  # a fresh one each time
            assert (f.name in ours.__dict__) == (f.name in theirs.__dict__)  # no class attribute, as dataclasses
        elif f.default is not dataclasses.MISSING:
            assert getattr(ours, f.name) == getattr(theirs, f.name)
    compiled = v._make_init(ours, names, ours.__value_defaults__, frozen)
    sig_a = [(p.name, p.kind) for p in inspect.signature(compiled).parameters.values()]
    sig_b = [(p.name, p.kind) for p in inspect.signature(theirs.__init__).parameters.values()]
    assert sig_a == sig_b
    with pytest.raises(TypeError):
        ours(*args, *([()] * (len(names) + 1)))  # too many arguments, as the dataclass
    # the generic __init__ (a type's first instances) and the compiled one bind as the dataclass does
    calls = [(args, {}), ((), dict(zip(required, args, strict=True))), ([()] * len(names), {}),
             ([()] * (len(names) + 1), {}), (args[:-1], {}), (args, {"no_such_field": 1}),
             (args, {names[0]: ()}), (args, {names[-1]: (2,)})]
    for call_args, kw in calls:
        want = _outcome(lambda call_args=call_args, kw=kw: repr(theirs(*call_args, **kw)))

        def generic(call_args=call_args, kw=kw):
            obj = object.__new__(ours)
            v._bind(obj, ours, names, ours.__value_defaults__, frozen, tuple(call_args), dict(kw))
            return repr(obj)

        def made(call_args=call_args, kw=kw):
            obj = object.__new__(ours)
            compiled(obj, *call_args, **kw)
            return repr(obj)

        assert _outcome(generic) == want and _outcome(made) == want, (call_args, kw)
    for name in names:
        change = {name: (1,)}
        want = _outcome(lambda change=change: repr(dataclasses.replace(b, **change)))
        assert _outcome(lambda change=change: repr(v.replace(a, **change))) == want
        assert _outcome(lambda change=change: repr(v.replace(b, **change))) == want  # and on dataclasses
    with pytest.raises(TypeError):
        v.replace(a, no_such_field=1)
    c = pickle.loads(pickle.dumps(a))
    assert type(c) is ours and repr(c) == repr(a) and c == a


def test_a_type_compiles_its_init_after_its_first_instances():
    @v.value(frozen=True)
    class Point:
        x: int
        y: int = 0

    generic = Point.__init__
    points = [Point(i, y=i) for i in range(v.GENERIC_INSTANCES + 2)]
    assert Point.__init__ is not generic and Point.__init__.__qualname__.endswith("Point.__init__")
    assert [(p.x, p.y) for p in points] == [(i, i) for i in range(v.GENERIC_INSTANCES + 2)]
    assert [p.name for p in inspect.signature(Point.__init__).parameters.values()] == ["self", "x", "y"]


def test_value_options_as_dataclasses():
    @v.value
    class Base:
        x: int
        y: list = v.field(default_factory=list)

    @v.value(frozen=True)
    class Frozen:
        x: int
        seen: tuple = ()

        def __post_init__(self):
            object.__setattr__(self, "seen", (*self.seen, self.x))

    f = Frozen(1)
    assert f.seen == (1,) and hash(f) == hash((1, (1,))) and f == Frozen(1, ())
    with pytest.raises(v.FrozenInstanceError):
        f.x = 2
    b = Base(1)
    b.x = 3
    assert b == Base(3, []) and b != Base(3, [1]) and Base.__hash__ is None
    with pytest.raises(TypeError):
        hash(b)
    with pytest.raises(TypeError, match="non-default argument 'z' follows default argument"):
        @v.value
        class Bad:
            a: int = 0
            z: int
