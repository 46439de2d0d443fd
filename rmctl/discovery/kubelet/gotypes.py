"""Go's JSON decoding and go-spew's ``%#v`` text, for the kubelet's checkpoint structs.

The kubelet checksums most of its checkpoints with
``pkg/kubelet/checkpointmanager/checksum``: FNV-32a over
``hashutil.DeepHashObject`` (k8s.io/apimachinery ``dump.ForHash`` in newer
releases), which is go-spew's ``%#v`` with ``Indent: " "``, ``SortKeys``,
``DisableMethods`` and ``SpewKeys``.  That text depends on Go's view of
the value after ``json.Unmarshal`` (nil versus empty maps, Go type names),
so reproducing the checksum means decoding the file the way Go does and
printing it the way spew does.  This module does both for the few shapes
the checkpoints use.

Go's decoding rules kept here (encoding/json ``Unmarshal``): object keys
match struct fields by name, exactly or else case-insensitively, later keys
win, unknown keys are ignored; ``null`` sets maps, slices, pointers and
byte slices to nil and leaves other values alone; numbers into integer
fields must be integers in range (``1.0`` and ``1e3`` are refused);
``[]byte`` is base64.  spew's rules (go-spew ``format.go``): a value's type
is printed in parentheses unless it is a map key, map value or slice element;
nil maps/slices/pointers print ``<nil>``; maps print ``map[k:v ...]``
sorted by key; a pointer met as a map value prints ``<*>`` before its value;
strings are printed raw; ``[]byte`` prints as decimal numbers.

Every reproduced checksum is checked in tests/kubelet against the samples in
the kubelet's own tests (``state_checkpoint_test.go`` of each manager).
"""

from __future__ import annotations

import base64
import binascii

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

    #: a JSON value decoded with keys kept in order (object -> list of pairs)
    Json = Any


class GoDecodeError(ValueError):
    """The JSON does not decode into the Go type (json.UnmarshalTypeError and kin)."""


class GoFloat(str):
    """A JSON number with a fraction or exponent: Go refuses it for integer fields."""


def fnv32a(data: bytes) -> int:
    """Return the 32-bit FNV-1a hash of ``data`` (Go's hash/fnv New32a)."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def go_string_key(s: str) -> bytes:
    """Return the sort key Go uses for strings (bytewise UTF-8)."""
    return s.encode("utf-8", "surrogatepass")


class JsonObject(list):
    """A decoded JSON object: its (key, value) pairs in file order, duplicates kept."""


def _kind(v: Json) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, GoFloat)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, JsonObject):
        return "object"
    if isinstance(v, list):
        return "array"
    return "null" if v is None else type(v).__name__


def loads(text: str) -> Json:
    """Return ``text`` parsed as JSON with Go's strictness; objects as :class:`JsonObject`.

    NaN/Infinity are refused (Go refuses them); numbers with a fraction or
    exponent are kept as :class:`GoFloat` text; arrays are lists.
    """
    import json

    def refuse(name: str) -> Any:
        raise ValueError(f"invalid JSON literal {name}")

    dec = json.JSONDecoder(object_pairs_hook=JsonObject, parse_float=GoFloat, parse_constant=refuse)
    return dec.decode(text)


def is_object(v: Json) -> bool:
    return isinstance(v, JsonObject)


def object_pairs(v: Json) -> list[tuple[str, Json]]:
    """Return the pairs of a decoded JSON object."""
    return list(v)


def get_key(v: Json, key: str, *, fold: bool = True) -> Json:
    """Return the value Go would take for ``key`` (last match; case-insensitive when ``fold``)."""
    out = None
    for k, x in v:
        if k == key or (fold and k.lower() == key.lower()):
            out = x
    return out


def has_key(v: Json, key: str) -> bool:
    return any(k.lower() == key.lower() for k, _ in v)


# -- Go types ------------------------------------------------------------------

class GoType:
    """A Go type: how JSON decodes into it and how spew prints it."""

    #: reflect.Type.String(), e.g. "map[string]string", "state.NUMANodeMap"
    name: str = ""

    def zero(self) -> Any:
        return None

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        """Return the value after decoding ``v`` into a variable holding ``cur``."""
        raise NotImplementedError

    def spew(self, v: Any, out: list[str], show_type: bool) -> None:
        if show_type:
            out.append(f"({self.name})")
        self.spew_value(v, out)

    def encode(self, v: Any) -> Any:
        """Return ``v`` as Go's json.Marshal would write it (a JSON-able Python value)."""
        return v

    def empty(self, v: Any) -> bool:
        """Return True when ``omitempty`` leaves ``v`` out (encoding/json isEmptyValue)."""
        return not v

    def spew_value(self, v: Any, out: list[str]) -> None:
        raise NotImplementedError


class GoString(GoType):
    def __init__(self, name: str = "string"):
        self.name = name

    def zero(self) -> str:
        return ""

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return cur
        if not isinstance(v, str) or isinstance(v, GoFloat):
            raise GoDecodeError(f"{path}: cannot unmarshal {_kind(v)} into Go value of type {self.name}")
        return str(v)

    def spew_value(self, v: Any, out: list[str]) -> None:
        out.append(v)


class GoInt(GoType):
    def __init__(self, name: str, bits: int, signed: bool):
        self.name, self.bits, self.signed = name, bits, signed

    def zero(self) -> int:
        return 0

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return cur
        if isinstance(v, bool) or not isinstance(v, int) or isinstance(v, GoFloat):
            raise GoDecodeError(f"{path}: cannot unmarshal {_kind(v)} {v!s:.40} into Go value of type {self.name}")
        lo = -(1 << (self.bits - 1)) if self.signed else 0
        hi = (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1
        if not lo <= v <= hi:
            raise GoDecodeError(f"{path}: number {v} overflows Go value of type {self.name}")
        return v

    def spew_value(self, v: Any, out: list[str]) -> None:
        out.append(str(v))


class GoBytes(GoType):
    """``[]byte``: base64 in JSON (Go's StdEncoding; it skips CR and LF)."""

    name = "[]uint8"

    def encode(self, v: Any) -> Any:
        return None if v is None else base64.b64encode(v).decode()

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return None
        if not isinstance(v, str) or isinstance(v, GoFloat):
            raise GoDecodeError(f"{path}: cannot unmarshal {_kind(v)} into Go value of type []uint8")
        try:
            return base64.b64decode(v.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise GoDecodeError(f"{path}: illegal base64 data") from None

    def spew_value(self, v: Any, out: list[str]) -> None:
        if v is None:
            out.append("<nil>")
        else:
            out.append("[" + " ".join(str(b) for b in v) + "]")


class GoSlice(GoType):
    def __init__(self, elem: GoType, name: str | None = None):
        self.elem = elem
        self.name = name or f"[]{elem.name}"

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return None
        if not isinstance(v, list) or isinstance(v, JsonObject):
            raise GoDecodeError(f"{path}: cannot unmarshal {_kind(v)} into Go value of type {self.name}")
        return [self.elem.decode(x, self.elem.zero(), f"{path}[{i}]") for i, x in enumerate(v)]

    def encode(self, v: Any) -> Any:
        return None if v is None else [self.elem.encode(x) for x in v]

    def spew_value(self, v: Any, out: list[str]) -> None:
        if v is None:
            out.append("<nil>")
            return
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(" ")
            self.elem.spew(x, out, False)
        out.append("]")


class GoMap(GoType):
    """A map with string or integer keys (JSON object keys are text)."""

    def __init__(self, key: GoType, value: GoType, name: str | None = None):
        self.key, self.value = key, value
        self.name = name or f"map[{key.name}]{value.name}"

    def _key(self, k: str, path: str) -> Any:
        if isinstance(self.key, GoInt):
            # strconv.ParseInt(key, 10, bits): optional sign, decimal digits
            body = k[1:] if k[:1] in "+-" else k
            if not body or not body.isascii() or not body.isdigit():
                raise GoDecodeError(f"{path}: cannot unmarshal number {k!r:.40} into Go value of type {self.key.name}")
            return self.key.decode(int(k), 0, path)
        return k

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return None
        if not is_object(v):
            raise GoDecodeError(f"{path}: cannot unmarshal {_kind(v)} into Go value of type {self.name}")
        m = {} if cur is None else cur
        for k, x in object_pairs(v):
            key = self._key(k, f"{path}.{k}")
            m[key] = self.value.decode(x, self.value.zero(), f"{path}.{k}")
        return m

    def encode(self, v: Any) -> Any:
        if v is None:
            return None
        # encoding/json writes map keys sorted as strings (integer keys too)
        items = sorted(((str(k), x) for k, x in v.items()), key=lambda kv: go_string_key(kv[0]))
        return {k: self.value.encode(x) for k, x in items}

    def spew_value(self, v: Any, out: list[str]) -> None:
        if v is None:
            out.append("<nil>")
            return
        keys = sorted(v, key=go_string_key) if not isinstance(self.key, GoInt) else sorted(v)
        out.append("map[")
        for i, k in enumerate(keys):
            if i:
                out.append(" ")
            self.key.spew(k, out, False)
            out.append(":")
            self.value.spew(v[k], out, False)
        out.append("]")


class GoPtr(GoType):
    def __init__(self, elem: GoType):
        self.elem = elem
        self.name = f"*{elem.name}"

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return None
        return self.elem.decode(v, self.elem.zero() if cur is None else cur, path)

    def encode(self, v: Any) -> Any:
        return None if v is None else self.elem.encode(v)

    def empty(self, v: Any) -> bool:
        return v is None

    def spew(self, v: Any, out: list[str], show_type: bool) -> None:
        # go-spew formatPtr: "(*T)" with types shown, "<*>" where the type is
        # not printed (map values, slice elements); a nil pointer met there is "<nil>".
        if v is None:
            out.append(f"({self.name})<nil>" if show_type else "<nil>")
            return
        out.append(f"({self.name})" if show_type else "<*>")
        self.elem.spew_value(v, out)


class GoStruct(GoType):
    """A struct: fields in declaration order, each with its JSON name."""

    def __init__(self, name: str, fields: list[tuple[str, str, GoType]], omitempty: tuple[str, ...] = ()):
        self.name = name
        self.fields = fields  # (Go field name, JSON key, type)
        self.omitempty = omitempty  # Go field names tagged ",omitempty"

    def encode(self, v: Any) -> Any:
        return {j: t.encode(v[f]) for f, j, t in self.fields
                if not (f in self.omitempty and t.empty(v[f]))}

    def empty(self, v: Any) -> bool:
        return False

    def zero(self) -> dict:
        return {f: t.zero() for f, _, t in self.fields}

    def field_for(self, key: str) -> tuple[str, GoType] | None:
        """Return the field a JSON key sets: exact JSON name first, then case-insensitive."""
        for f, j, t in self.fields:
            if j == key:
                return f, t
        low = key.lower()
        for f, j, t in self.fields:
            if j.lower() == low:
                return f, t
        return None

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return cur
        if not is_object(v):
            raise GoDecodeError(f"{path or '(top)'}: cannot unmarshal {_kind(v)} into Go value of type {self.name}")
        out = dict(self.zero() if cur is None else cur)
        for k, x in object_pairs(v):
            hit = self.field_for(k)
            if hit is None:
                continue  # unknown keys are ignored, as Go does
            f, t = hit
            out[f] = t.decode(x, out[f], f"{path}.{k}" if path else k)
        return out

    def unknown_keys(self, v: Json) -> list[str]:
        """Return the keys of a JSON object that no field takes."""
        return [k for k, _ in object_pairs(v) if self.field_for(k) is None]

    def spew_value(self, v: Any, out: list[str]) -> None:
        out.append("{")
        for i, (f, _, t) in enumerate(self.fields):
            if i:
                out.append(" ")
            out.append(f + ":")
            t.spew(v[f], out, True)
        out.append("}")


class GoCpuSet(GoType):
    """k8s.io/utils/cpuset.CPUSet inside a struct: a cpulist string in JSON.

    Printed by spew as its only field, ``elems map[int]struct {}``.
    The caller parses and bounds the text; the value here is a sorted list.
    """

    name = "cpuset.CPUSet"

    def __init__(self, parse):
        self.parse = parse

    def zero(self) -> list[int]:
        return []

    def decode(self, v: Json, cur: Any, path: str) -> Any:
        if v is None:
            return cur
        if not isinstance(v, str) or isinstance(v, GoFloat):
            raise GoDecodeError(f"{path}: cannot unmarshal {_kind(v)} into Go value of type {self.name}")
        return self.parse(str(v), path)

    def encode(self, v: Any) -> Any:
        from rmctl.cpuset import CpuSet

        return CpuSet(v).to_list()

    def spew_value(self, v: Any, out: list[str]) -> None:
        out.append("{elems:(map[int]struct {})map[" + " ".join(f"{c}:{{}}" for c in sorted(v)) + "]}")


def spew_hash(t: GoType, value: Any, *, pointer: bool = True, rename: tuple[tuple[str, str, int], ...] = ()) -> int:
    """Return FNV-32a of spew's ``%#v`` of ``value`` (a pointer to it when ``pointer``).

    ``rename`` applies (old, new, count) replacements to the text first, as
    the kubelet does when it checks an old layout under the current type
    name (count -1: all).
    """
    out: list[str] = []
    if pointer:
        GoPtr(t).spew(value, out, True)
    else:
        t.spew(value, out, True)
    text = "".join(out)
    for old, new, count in rename:
        text = text.replace(old, new, count) if count >= 0 else text.replace(old, new)
    return fnv32a(text.encode("utf-8", "surrogatepass"))


def marshal(t: GoType, value: Any) -> str:
    """Return ``value`` as compact JSON in Go's field and key order (json.Marshal's layout)."""
    import json

    return json.dumps(t.encode(value), separators=(",", ":"), ensure_ascii=False)
