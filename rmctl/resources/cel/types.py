"""CEL types for the checker (cel-go common/types/types.go, reduced to what DRA's environment needs).

A :class:`Type` may carry ``max_size`` (the bound DRA declares for strings,
lists and maps reachable from ``device``; the cost estimator reads it the
way DRA's sizeEstimator reads its declared types) and ``fields`` (declared
names of an object, or of an attribute domain whose names rmctl knows).
Neither takes part in type equality.
"""

from __future__ import annotations


class Type:
    """A CEL type; immutable by convention (plain class: no dataclass processing at import)."""

    __slots__ = ("kind", "name", "params", "max_size", "fields", "strict")

    def __init__(
        self,
        kind: str,
        name: str = "",
        params: tuple[Type, ...] = (),
        max_size: int | None = None,
        fields: dict[str, Type] | None = None,
        strict: bool = False,
    ):
        self.kind = kind  #: bool int uint double string bytes null dyn list map opaque object type error param
        self.name = name  #: opaque/object/param name
        self.params = params
        self.max_size = max_size
        self.fields = fields
        #: with ``fields``: a name not among them is an error (an attribute domain rmctl knows),
        #: not a lookup that may fail at run time
        self.strict = strict

    def __repr__(self) -> str:
        return f"Type({self})"

    def __str__(self) -> str:
        k = self.kind
        if k in ("list", "map"):
            return f"{k}({', '.join(str(p) for p in self.params)})"
        if k == "opaque":
            return f"{self.name}({', '.join(str(p) for p in self.params)})" if self.params else self.name
        if k in ("object", "param"):
            return self.name
        if k == "null":
            return "null_type"
        if k == "type":
            return f"type({self.params[0]})" if self.params else "type"
        return k

    def same(self, other: Type) -> bool:
        """Structural equality (sizes and declared fields ignored)."""
        if self.kind != other.kind or self.name != other.name or len(self.params) != len(other.params):
            return False
        return all(a.same(b) for a, b in zip(self.params, other.params, strict=False))

    def sized(self, n: int | None) -> Type:
        return Type(self.kind, self.name, self.params, n, self.fields, self.strict)

    def plain(self) -> Type:
        """This type without size or declared fields (for results the estimator must not trust)."""
        if self.max_size is None and self.fields is None and all(p.plain() is p for p in self.params):
            return self
        return Type(self.kind, self.name, tuple(p.plain() for p in self.params))

    @property
    def elem(self) -> Type:
        return self.params[0] if self.kind in ("list", "opaque") and self.params else DYN

    @property
    def key(self) -> Type:
        return self.params[0] if self.kind == "map" else DYN

    @property
    def value(self) -> Type:
        return self.params[1] if self.kind == "map" else DYN


BOOL = Type("bool")
INT = Type("int")
UINT = Type("uint")
DOUBLE = Type("double")
STRING = Type("string")
BYTES = Type("bytes")
NULL = Type("null")
DYN = Type("dyn")
#: the type of a type parameter nothing bound (``[]``'s element, ``optional.none()``'s value):
#: dyn everywhere, but the homogeneous-literal check lets it match any element type, as
#: cel-go's checker binds the parameter to the other elements' type
FREE = Type("dyn", "*free")
ERROR = Type("error")
TYPE = Type("type")


def list_of(t: Type, max_size: int | None = None) -> Type:
    return Type("list", params=(t,), max_size=max_size)


def map_of(k: Type, v: Type, max_size: int | None = None, fields: dict | None = None, strict: bool = False) -> Type:
    return Type("map", params=(k, v), max_size=max_size, fields=fields, strict=strict)


def optional_of(t: Type) -> Type:
    return Type("opaque", "optional_type", (t,))


def param(name: str) -> Type:
    return Type("param", name)


QUANTITY = Type("opaque", "kubernetes.Quantity")
SEMVER = Type("opaque", "kubernetes.Semver")
IP = Type("opaque", "net.IP")
CIDR = Type("opaque", "net.CIDR")

A = param("A")
B = param("B")
K = param("K")
V = param("V")


def is_free(t: Type) -> bool:
    return t.kind == "dyn" and t.name == "*free"


def fits_free(a: Type, b: Type) -> bool:
    """Whether two element types are the same once unbound parameters take the other's type."""
    if is_free(a) or is_free(b):
        return True
    if a.kind != b.kind or a.name != b.name or len(a.params) != len(b.params):
        return False
    return all(fits_free(x, y) for x, y in zip(a.params, b.params, strict=False))


def is_dyn(t: Type) -> bool:
    return t.kind in ("dyn", "error")


def is_optional(t: Type) -> bool:
    return t.kind == "opaque" and t.name == "optional_type"


def unify(p: Type, a: Type, b: dict[str, Type]) -> bool:
    """Return whether argument type ``a`` fits parameter type ``p``, binding type parameters in ``b``.

    ``dyn`` fits anything both ways (cel-go's checker treats it as the
    top type); a parameter first bound to ``dyn`` is narrowed by a later
    concrete argument, so ``[] + [1]`` is ``list(int)``.
    """
    if p.kind == "param":
        cur = b.get(p.name)
        if cur is None or is_dyn(cur):
            if cur is None or not is_dyn(a):
                b[p.name] = a
            return True
        if is_dyn(a):
            return True
        return _compatible(cur, a, b)
    if is_dyn(p) or is_dyn(a):
        return True
    if p.kind != a.kind or p.name != a.name or len(p.params) != len(a.params):
        return False
    return all(unify(pp, ap, b) for pp, ap in zip(p.params, a.params, strict=False))


def _compatible(cur: Type, a: Type, b: dict[str, Type]) -> bool:
    if is_dyn(cur) or is_dyn(a):
        return True
    if cur.kind != a.kind or cur.name != a.name or len(cur.params) != len(a.params):
        return False
    return all(_compatible(x, y, b) for x, y in zip(cur.params, a.params, strict=False))


def substitute(t: Type, b: dict[str, Type]) -> Type:
    if t.kind == "param":
        return b.get(t.name, FREE)
    if not t.params:
        return t
    return Type(t.kind, t.name, tuple(substitute(p, b) for p in t.params))


def join(a: Type, c: Type) -> Type:
    """The type of a value that is either ``a`` or ``c`` (ternary branches, overload results)."""
    if is_dyn(a):
        return c.plain() if not is_dyn(c) else DYN
    if is_dyn(c):
        return a.plain()
    if a.same(c):
        return a.plain()
    if a.kind == c.kind and a.name == c.name and len(a.params) == len(c.params):
        return Type(a.kind, a.name, tuple(join(x, y) for x, y in zip(a.params, c.params, strict=False)))
    return DYN
