"""``value``: the dataclasses of ``request evaluate``'s path, without the dataclasses module (issue 14).

Why: ``import dataclasses`` pulls in ``inspect`` (and ``ast``, ``dis``,
``tokenize``): 47M instructions; and each class costs ~3.4M more (an
``exec`` for each of its ``__init__``, ``__repr__``, ``__eq__``,
``__setattr__``...).  The 15 types a request evaluation of one class on one
node makes (the request, its classes, the evaluation, the Topology
Manager's hints, DRA devices) were 94M of the 387M instructions of the
whole command, whose budget is 120 ms (75 ms the goal).

Unlike :func:`rmctl.model.record.record` (the model's frozen values, whose
containers it freezes), ``value`` keeps what ``@dataclass`` gave these
types, so their users see no change: an ``__init__`` with the fields in
order (positional or keyword, defaults, ``field(default_factory=...)``)
that calls ``__post_init__`` when the class has one, ``__repr__``
(``Name(a=1, b='x')``), ``__eq__`` (same class, fields equal),
``__match_args__``; ``frozen=True``: assignment raises
:class:`FrozenInstanceError` and instances hash by their fields; otherwise
mutable and unhashable (``__hash__ = None``, as a dataclass with
``eq=True``).  Containers are kept as given.  :func:`replace` is
``dataclasses.replace`` for these (and for dataclasses).
tests/unit/test_value.py compares each type with the dataclass it was.

The ``__init__`` is made from source (as dataclasses makes it) when the
class has made :data:`GENERIC_INSTANCES` instances, not at import: until
then a generic one binds the arguments (a run makes a few of most types).
"""

from __future__ import annotations

# record's field() and its exception, sentinel and argument binding: one of each for both kinds of type
from rmctl.model.record import _MISSING, FrozenInstanceError, _Factory, arguments, field

# Type checkers see ``value`` as a dataclass-like decorator (PEP 681); at run
# time nothing is imported (``typing`` alone costs ~3 ms of a start-up).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from typing_extensions import dataclass_transform

    _T = TypeVar("_T")
else:
    def dataclass_transform(**_kw):
        return lambda f: f



def _frozen_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r}")


#: instances of a value type made by the generic ``__init__`` (:func:`_bind`) before the type compiles its
#: own: compiling one (an ``exec``, as dataclasses does) costs as much as ~100 generic ones, and
#: ``request evaluate`` makes a few instances of most types (issue 14: 8M instructions)
GENERIC_INSTANCES = 16


def _bind(self, cls, names: tuple[str, ...], defaults: dict[str, object], frozen: bool, args: tuple,
          kw: dict) -> None:
    """Set the fields of a new instance from ``__init__``'s arguments, as the compiled ``__init__`` does."""
    for name, v, _ in arguments(cls, names, defaults, args, kw):
        if frozen:
            object.__setattr__(self, name, v)
        else:
            setattr(self, name, v)
    if hasattr(cls, "__post_init__"):
        self.__post_init__()


def _make_init(cls, names: tuple[str, ...], defaults: dict[str, object], frozen: bool):
    """Return the ``__init__`` of ``cls`` made from source, as dataclasses makes it (one ``exec``)."""
    env: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
    params, body = [], []
    for name in names:
        d = defaults.get(name, _MISSING)
        if isinstance(d, _Factory):
            env[f"_f_{name}"] = d.factory
            params.append(f"{name}=_MISSING")
            v = f"_f_{name}() if {name} is _MISSING else {name}"
        elif d is not _MISSING:
            env[f"_d_{name}"] = d
            params.append(f"{name}=_d_{name}")
            v = name
        else:
            params.append(name)
            v = name
        body.append(f"  _set(self, {name!r}, {v})" if frozen else f"  self.{name} = {v}")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(src, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@dataclass_transform(field_specifiers=(field,))
def value(cls: type[_T] | None = None, *, frozen: bool = False) -> Any:
    """Turn an annotated class into a value type as ``@dataclass`` (``@dataclass(frozen=True)``) did; return it.

    Fields are those of its ``value`` bases, then the class's own
    annotations (``ClassVar`` ones are not fields); a field without a
    default after one with a default is a TypeError, as in dataclasses.
    """
    if cls is None:
        return lambda c: value(c, frozen=frozen)
    names: list[str] = []
    defaults: dict[str, object] = {}
    for klass in reversed(cls.__mro__[1:-1]):  # the value bases' fields first, as dataclasses' fields
        if "__value_fields__" in klass.__dict__:
            names += [n for n in klass.__dict__["__value_fields__"] if n not in names]
            defaults.update(klass.__dict__["__value_defaults__"])
    for name, ann in cls.__dict__.get("__annotations__", {}).items():
        if str(ann).startswith(("ClassVar", "typing.ClassVar")):
            continue
        if name not in names:
            names.append(name)
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
        else:
            defaults.pop(name, None)  # (re)declared without a default
    seen_default = False
    for name in names:
        if name in defaults:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    for name in names:
        if isinstance(cls.__dict__.get(name), _Factory):
            delattr(cls, name)  # as dataclasses: no class attribute for a default_factory field
    fields = tuple(names)
    c: Any = cls  # the methods are set here, not declared: the checker sees dataclass_transform's

    made = [0]

    def __init__(self, *args, **kw):
        made[0] += 1
        if made[0] <= GENERIC_INSTANCES:
            _bind(self, cls, fields, defaults, frozen, args, kw)
            return
        # one instance too many: make the real __init__, put it in place of this one, and use it
        init = _make_init(cls, fields, defaults, frozen)
        c.__init__ = init
        init(self, *args, **kw)

    def __repr__(self):
        return f"{self.__class__.__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in fields) + ")"

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return tuple(getattr(self, n) for n in fields) == tuple(getattr(other, n) for n in fields)
        return NotImplemented

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    __eq__.__qualname__ = f"{cls.__qualname__}.__eq__"
    c.__init__ = __init__
    if "__repr__" not in cls.__dict__:
        c.__repr__ = __repr__
    if "__eq__" not in cls.__dict__:
        c.__eq__ = __eq__
    # dataclasses' _hash_action for eq=True: a __hash__ written in the class body stays (Python's own None
    # after an __eq__ written there is not one); otherwise frozen hashes the fields, mutable is unhashable
    own_hash = cls.__dict__.get("__hash__", _MISSING)
    explicit_hash = own_hash is not _MISSING and not (own_hash is None and "__eq__" in cls.__dict__)
    if frozen:
        c.__setattr__ = _frozen_setattr
        c.__delattr__ = _frozen_delattr
    if not explicit_hash:
        if frozen:
            def __hash__(self):
                return hash(tuple(getattr(self, n) for n in fields))

            __hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
            c.__hash__ = __hash__
        else:
            c.__hash__ = None
    c.__value_fields__ = fields
    c.__value_defaults__ = defaults
    setattr(c, "__match_args__", fields)  # noqa: B010  # the checker has dataclass_transform's
    return cls


def fields(obj) -> tuple[str, ...]:
    """Return the field names of a value type (class or instance), in order."""
    return obj.__value_fields__


def replace(obj, **changes):
    """Return a copy of ``obj`` with some fields changed: ``dataclasses.replace`` for value types and dataclasses."""
    names = getattr(obj, "__value_fields__", None)
    if names is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)
    for n in names:
        if n not in changes:
            changes[n] = getattr(obj, n)
    return obj.__class__(**changes)
