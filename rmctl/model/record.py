"""``record``: a frozen-dataclass look-alike for the model types on the start-up path.

Why not ``dataclasses``: on Python 3.10/3.11 ``import dataclasses`` pulls in
``inspect`` (and with it ``ast``, ``dis``, ``tokenize``), about 5 ms, and
each class costs four ``exec`` calls more; ``rmctl topology -o json`` has a
budget of 2.5x ``lscpu --sysroot`` (issue #2, performance-baselines.md
section 3), which is about 38 ms all told.  The model's types need only
what this gives: keyword/positional ``__init__`` with defaults and default
factories, immutability, value equality and hashing, ``repr``, and
``asdict``.  Types off the start-up path (plans) keep using
``dataclasses``.

Annotations are strings (``from __future__ import annotations``); a field
annotated ``ClassVar[...]`` is not a field, as in dataclasses.
"""

from __future__ import annotations

# Type checkers see ``record`` as a dataclass-like decorator (PEP 681), so
# they know each record's __init__ and that its fields are read-only; at
# run time nothing is imported (``typing`` alone costs ~2 ms on the start-up
# path) and the decorator below is a no-op.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    _T = TypeVar("_T")
else:
    def dataclass_transform(**_kw):
        return lambda f: f

_MISSING = object()

#: annotations of the fields ``record`` freezes (see ``frozen``)
_CONTAINERS = ("dict[", "Mapping[", "tuple[", "FrozenDict[")


class FrozenInstanceError(AttributeError):
    """Raised on assignment to a field of a record (as dataclasses.FrozenInstanceError)."""


class _Factory:
    __slots__ = ("factory",)

    def __init__(self, factory):
        self.factory = factory


def field(*, default_factory: Callable[[], _T]) -> _T:
    """Return a default made fresh for each instance (``field(default_factory=dict)``)."""
    return _Factory(default_factory)  # type: ignore[return-value]  # record() swaps it for the value


class FrozenDict(dict):
    """A dict that cannot change once made: the model's mappings (``Topology.cpus``, ``options``).

    A ``dict`` subclass, so JSON, ``isinstance(x, dict)`` and lookups work
    as before; every method that would change it raises TypeError.  Pickles
    and copies as itself; hashable when its values are.
    """

    __slots__ = ()

    def _read_only(self, *_args, **_kw):
        raise TypeError(f"{type(self).__name__} is read-only: build a new one")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


def frozen(value):
    """Return ``value`` as the model keeps it: a dict as a FrozenDict, a list or set as a tuple."""
    t = type(value)
    if t is dict:
        return FrozenDict(value)
    if t is list:
        return tuple(value)
    return value


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r} of {type(self).__name__}")


def _frozen_delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r} of {type(self).__name__}")


def _init_source(cls, names: list[str], defaults: dict[str, object], annotations: dict[str, str]):
    """Return the ``__init__`` of a record, made from source as dataclasses does (one ``exec``)."""
    params, body, env = [], [], {"_set": object.__setattr__, "_MISSING": _MISSING, "_frozen": frozen}
    for name in names:
        d = defaults.get(name, _MISSING)
        # a container field is frozen as it is set: mappings become FrozenDicts,
        # lists given for a tuple field tuples (no caller can change the model after)
        value = f"_frozen({name})" if annotations[name].startswith(_CONTAINERS) else name
        if isinstance(d, _Factory):
            env[f"_f_{name}"] = d.factory
            params.append(f"{name}=_MISSING")
            body.append(f"  _set(self, {name!r}, _frozen(_f_{name}()) if {name} is _MISSING else {value})")
        elif d is not _MISSING:
            env[f"_d_{name}"] = d
            params.append(f"{name}=_d_{name}")
            body.append(f"  _set(self, {name!r}, {value})")
        else:
            params.append(name)
            body.append(f"  _set(self, {name!r}, {value})")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(src, env)
    init: Any = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


#: instances of a record type made by the generic ``__init__`` (:func:`_bind`) before the type compiles
#: its own: compiling one costs as much as ~100 generic ones, and a run makes a few instances of most
#: types (``request evaluate`` on gpu-node compiled 18; issue 14)
GENERIC_INSTANCES = 16


def arguments(cls, names, defaults: dict[str, object], args: tuple, kw: dict):
    """Yield (field, value, made by its default factory) for a new instance of ``cls`` from ``__init__``'s
    arguments and the defaults, raising the TypeErrors a compiled ``__init__`` raises (record's and value's)."""
    if len(args) > len(names):
        raise TypeError(f"{cls.__qualname__}.__init__() takes {len(names) + 1} positional arguments "
                        f"but {len(args) + 1} were given")
    for i, name in enumerate(names):
        if i < len(args):
            if name in kw:
                raise TypeError(f"{cls.__qualname__}.__init__() got multiple values for argument {name!r}")
            yield name, args[i], False
        elif name in kw:
            yield name, kw.pop(name), False
        else:
            d = defaults.get(name, _MISSING)
            if d is _MISSING:
                raise TypeError(f"{cls.__qualname__}.__init__() missing 1 required positional argument: {name!r}")
            yield (name, d.factory(), True) if isinstance(d, _Factory) else (name, d, False)
    if kw:
        raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword argument {next(iter(kw))!r}")


def _bind(self, cls, names: list[str], defaults: dict[str, object], annotations: dict[str, str], args: tuple,
          kw: dict) -> None:
    """Set the fields of a new record from ``__init__``'s arguments, as the compiled ``__init__`` does."""
    for name, v, made in arguments(cls, names, defaults, args, kw):
        # as _init_source: a factory's value is frozen, a value given or defaulted where the field is a container
        object.__setattr__(self, name, frozen(v) if made or annotations[name].startswith(_CONTAINERS) else v)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_T]) -> type[_T]:
    """Turn an annotated class into a frozen value type; return the class.

    The ``__init__`` is made from source (as dataclasses makes it) when the
    class has made :data:`GENERIC_INSTANCES` instances, not here: compiling
    it is most of a record's cost, and a run uses a fraction of the model's
    ~40 types, a few instances of most (``topology -o json`` on the EPYC
    fixture: 15M instructions of 190M went to compiling them at import,
    issue 14); until then a generic ``__init__`` binds the arguments.
    """
    names: list[str] = []
    defaults: dict[str, object] = {}
    for klass in reversed(cls.__mro__[:-1]):
        for name, ann in klass.__dict__.get("__annotations__", {}).items():
            if str(ann).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if name not in names:
                names.append(name)
            if name in klass.__dict__:
                defaults[name] = klass.__dict__[name]
    annotations: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        annotations.update({n: str(a) for n, a in klass.__dict__.get("__annotations__", {}).items()})
    seen_default = False
    for name in names:
        if name in defaults:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
    for name in names:
        if isinstance(defaults.get(name), _Factory):
            delattr(cls, name) if name in cls.__dict__ else None
    fields = tuple(names)

    made = [0]

    def __init__(self, *args, **kw):
        made[0] += 1
        if made[0] <= GENERIC_INSTANCES:
            _bind(self, cls, names, defaults, annotations, args, kw)
            return
        # one instance too many: make the real __init__, put it in place of this one, and use it
        init = _init_source(cls, names, defaults, annotations)
        cls.__init__ = init  # type: ignore[method-assign]
        init(self, *args, **kw)

    def values(self):
        return tuple(getattr(self, n) for n in fields)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self):
        return hash(values(self))

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in fields) + ")"

    c: Any = cls  # the methods are made here, not declared: the checker sees dataclass_transform's
    c.__init__ = __init__
    c.__init__.__qualname__ = f"{cls.__qualname__}.__init__"
    c.__eq__ = __eq__
    c.__hash__ = __hash__
    c.__repr__ = __repr__
    c.__setattr__ = _frozen_setattr
    c.__delattr__ = _frozen_delattr
    c.__record_fields__ = fields
    c.__record_defaults__ = defaults  # what __init__ binds (tests/unit/test_record_generic_init.py)
    c.__record_annotations__ = annotations
    return cls


def fields(obj) -> tuple[str, ...]:
    """Return the field names of a record (class or instance)."""
    return obj.__record_fields__


def is_record(obj) -> bool:
    return hasattr(type(obj), "__record_fields__") or hasattr(obj, "__record_fields__")


def asdict(obj):
    """Return a record as a plain dict, recursing into records, lists, tuples and dicts."""
    if is_record(obj) and not isinstance(obj, type):
        return {n: asdict(getattr(obj, n)) for n in obj.__record_fields__}
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {k: asdict(v) for k, v in obj.items()}
    return obj


def replace(obj, **changes):
    """Return a copy of a record with some fields changed (as dataclasses.replace)."""
    kw = {n: getattr(obj, n) for n in obj.__record_fields__}
    unknown = set(changes) - set(kw)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field(s) {sorted(unknown)}")
    kw.update(changes)
    return type(obj)(**kw)
