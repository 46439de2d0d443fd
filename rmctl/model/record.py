"""``record``: a frozen-dataclass look-alike for the model types on the start-up path.

Why not ``dataclasses``: on Python 3.10/3.11 ``import dataclasses`` pulls in
``inspect`` (and with it ``ast``, ``dis``, ``tokenize``), about 5 ms, and
each class costs four ``exec`` calls more; ``rmctl topology -o json`` has a
budget of 2.5x ``lscpu --sysroot`` (issue #2, performance-baselines.md
section 3), which is about 38 ms all told.  The model's types need only
what this gives: keyword/positional ``__init__`` with defaults and default
factories, immutability, value equality and hashing, ``repr``, and
``asdict``.  Types off the start-up path (plans, PCI devices) keep using
``dataclasses``.

Annotations are strings (``from __future__ import annotations``); a field
annotated ``ClassVar[...]`` is not a field, as in dataclasses.
"""

from __future__ import annotations

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Raised on assignment to a field of a record (as dataclasses.FrozenInstanceError)."""


class _Factory:
    __slots__ = ("factory",)

    def __init__(self, factory):
        self.factory = factory


def field(*, default_factory):
    """Return a default made fresh for each instance (``field(default_factory=dict)``)."""
    return _Factory(default_factory)


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r} of {type(self).__name__}")


def _frozen_delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r} of {type(self).__name__}")


def record(cls):
    """Turn an annotated class into a frozen value type; return the class."""
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
    params, body, env = [], [], {"_set": object.__setattr__, "_MISSING": _MISSING}
    for name in names:
        d = defaults.get(name, _MISSING)
        if isinstance(d, _Factory):
            env[f"_f_{name}"] = d.factory
            params.append(f"{name}=_MISSING")
            body.append(f"  _set(self, {name!r}, _f_{name}() if {name} is _MISSING else {name})")
        elif d is not _MISSING:
            env[f"_d_{name}"] = d
            params.append(f"{name}=_d_{name}")
            body.append(f"  _set(self, {name!r}, {name})")
        else:
            if any(p.endswith(("=_MISSING",)) or "=_d_" in p for p in params):
                raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
            params.append(name)
            body.append(f"  _set(self, {name!r}, {name})")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(src, env)  # one small exec per class, as dataclasses does (it does four)
    for name in names:
        if isinstance(defaults.get(name), _Factory):
            delattr(cls, name) if name in cls.__dict__ else None
    fields = tuple(names)

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

    cls.__init__ = env["__init__"]
    cls.__init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__eq__ = __eq__
    cls.__hash__ = __hash__
    cls.__repr__ = __repr__
    cls.__setattr__ = _frozen_setattr
    cls.__delattr__ = _frozen_delattr
    cls.__record_fields__ = fields
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
