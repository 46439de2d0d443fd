"""Worst-case cost estimation, as the API server does before it accepts a selector.

A port of cel-go's checker/cost.go (the ``coster``) with Kubernetes'
library estimator (k8s.io/apiserver/pkg/cel/library/cost.go
EstimateCallCost) and DRA's size bounds (dynamic-resource-allocation/cel/
compile.go sizeEstimator), which :mod:`.schema` puts on the declared
types.  The numbers are cel-go's units; the conformance tests compare them
with the ``expectCost`` of DRA's compile_test.go.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rmctl.resources.cel import limits as L
from rmctl.resources.cel.checker import Checked
from rmctl.resources.cel.syntax import ACCU, Call, Comprehension, Const, Expr, Ident, ListExpr, MapExpr, Select
from rmctl.resources.cel.types import Type, is_optional

MAXU = (1 << 64) - 1

Est = tuple[int, int]  # (min, max)

UNKNOWN: Est = (0, MAXU)


def _add(a: Est, b: Est) -> Est:
    return (min(a[0] + b[0], MAXU), min(a[1] + b[1], MAXU))


def _mul(a: Est, b: Est) -> Est:
    return (min(a[0] * b[0], MAXU), min(a[1] * b[1], MAXU))


def _factor(a: Est, f: float) -> Est:
    return (min(int(math.ceil(a[0] * f)), MAXU), min(int(math.ceil(a[1] * f)), MAXU))


def _union(a: Est, b: Est) -> Est:
    return (min(a[0], b[0]), max(a[1], b[1]))


FIXED1: Est = (1, 1)
ZERO: Est = (0, 0)


class Entry:
    """Sizes of the keys/indices and values of a list or map (cel-go entrySizeEstimate)."""

    __slots__ = ("kind", "key", "val")

    def __init__(self, kind: str, key: Est, val: Est):
        self.kind = kind  #: "list" or "map"
        self.key = key
        self.val = val


class Local:
    __slots__ = ("size", "entry")

    def __init__(self, size: Est | None, entry: Entry | None):
        self.size = size
        self.entry = entry


_SCALARS = frozenset({"bool", "int", "uint", "double"})
_OPAQUE_SCALARS = frozenset({"kubernetes.Quantity", "kubernetes.Semver", "net.IP", "net.CIDR"})
_STRING_EQ = frozenset(
    {
        "equals",
        "not_equals",
        "less_string",
        "greater_string",
        "less_equals_string",
        "greater_equals_string",
        "less_bytes",
        "greater_bytes",
        "less_equals_bytes",
        "greater_equals_bytes",
    }
)


class Coster:
    """cel-go's coster. ``size_hint(type)`` plays a test's ``EstimateSize`` where no declared bound is
    known (Kubernetes' cost_test.go bounds every string and bytes to 12); DRA's own size estimator is
    the declared ``max_size`` of the device's types (schema.py)."""

    def __init__(self, checked: Checked, size_hint: Callable[[Type], Est | None] | None = None):
        self.c = checked
        self.hint = size_hint
        self.sizes: dict[int, Est] = {}
        self.entries: dict[int, Entry] = {}
        self.locals: dict[str, list[Local]] = {}

    def type_of(self, e: Expr) -> Type | None:
        return self.c.types.get(e.id)

    # -- sizes -----------------------------------------------------------------

    def size(self, e: Expr) -> Est | None:
        if e.id in self.sizes:
            return self.sizes[e.id]
        if isinstance(e, Const):
            v = e.value
            if type(v) is str:
                return (len(v), len(v))
            if type(v) is bytes:
                return (len(v), len(v))
            return FIXED1
        if isinstance(e, ListExpr):
            return (len(e.elements), len(e.elements))
        if isinstance(e, MapExpr):
            return (len(e.entries), len(e.entries))
        # cel-go computeSize: the estimator (DRA: declared bounds), the type, then a local's size
        t = self.type_of(e)
        if t is not None and t.max_size is not None and isinstance(e, (Ident, Select, Call)):
            return (0, t.max_size)
        if t is not None and self.hint is not None:
            h = self.hint(t)
            if h is not None:
                return h
        if t is not None and _scalar(t):
            return FIXED1
        if isinstance(e, Ident) and self.locals.get(e.name):
            loc = self.locals[e.name][-1]
            if loc.size is not None:
                return loc.size
        return None

    def size_or_unknown(self, e: Expr) -> Est:
        s = self.size(e)
        return UNKNOWN if s is None else s

    def entry(self, e: Expr) -> Entry | None:
        if e.id in self.entries:
            return self.entries[e.id]
        if isinstance(e, Ident) and self.locals.get(e.name):
            return self.locals[e.name][-1].entry
        return None

    # -- costs -----------------------------------------------------------------

    def cost(self, e: Expr) -> Est:
        if isinstance(e, Const):
            return ZERO
        if isinstance(e, Ident):
            return FIXED1
        if isinstance(e, Select):
            return self.select(e)
        if isinstance(e, Call):
            return self.call(e)
        if isinstance(e, ListExpr):
            return self.create_list(e)
        if isinstance(e, MapExpr):
            return self.create_map(e)
        if isinstance(e, Comprehension):
            return self.bind(e) if _is_bind(e) else self.comprehension(e)
        return ZERO

    def select(self, e: Select) -> Est:
        if e.test_only:
            # Kubernetes: checker.PresenceTestHasCost(false) (environment/base.go): has() adds nothing
            return self.cost(e.operand)
        s = self.cost(e.operand)
        t = self.type_of(e.operand)
        if t is not None and (t.kind in ("map", "object", "param") or is_optional(t)):
            s = _add(s, FIXED1)
        return s

    def create_list(self, e: ListExpr) -> Est:
        s = ZERO
        item: Est = (MAXU, 0) if e.elements else (0, 0)
        for x in e.elements:
            s = _add(s, self.cost(x))
            item = _union(item, self.size_or_unknown(x))
        self.entries[e.id] = Entry("list", FIXED1, item)
        return _add(s, (L.LIST_CREATE_BASE_COST, L.LIST_CREATE_BASE_COST))

    def create_map(self, e: MapExpr) -> Est:
        s = ZERO
        k: Est = (MAXU, 0) if e.entries else (0, 0)
        v: Est = (MAXU, 0) if e.entries else (0, 0)
        for en in e.entries:
            s = _add(s, self.cost(en.key))
            s = _add(s, self.cost(en.value))
            k = _union(k, self.size_or_unknown(en.key))
            v = _union(v, self.size_or_unknown(en.value))
        self.entries[e.id] = Entry("map", k, v)
        return _add(s, (L.MAP_CREATE_BASE_COST, L.MAP_CREATE_BASE_COST))

    def _push(self, name: str, loc: Local) -> None:
        self.locals.setdefault(name, []).append(loc)

    def _pop(self, name: str) -> None:
        self.locals[name].pop()

    def comprehension(self, e: Comprehension) -> Est:
        s = _add(self.cost(e.iter_range), self.cost(e.accu_init))
        self._push(e.accu_var, Local(self.size(e.accu_init), self.entry(e.accu_init)))
        ent = self.entry(e.iter_range)
        rt = self.type_of(e.iter_range)
        kind = ent.kind if ent else (rt.kind if rt is not None else "")
        if e.iter_var2:
            self._push(e.iter_var, Local(ent.key if ent else None, None))
            self._push(e.iter_var2, Local(ent.val if ent else None, None))
        else:
            size = (ent.val if kind == "list" else ent.key) if ent else None
            self._push(e.iter_var, Local(size, None))
        loop = self.cost(e.loop_cond)
        step = self.cost(e.loop_step)
        self._pop(e.iter_var)
        if e.iter_var2:
            self._pop(e.iter_var2)
        s = _add(s, self.cost(e.result))
        self._pop(e.accu_var)
        count = self.size_or_unknown(e.iter_range)
        s = _add(s, _mul(count, _add(step, loop)))
        if isinstance(e.accu_init, Const):
            sz = self.size(e.accu_init)
            if sz is not None:
                self.sizes[e.id] = sz
        elif isinstance(e.accu_init, (ListExpr, MapExpr)):
            self.sizes[e.id] = count
            se = self.entry(e.loop_step)
            if se is not None:
                self.entries[e.id] = se
        return s

    def bind(self, e: Comprehension) -> Est:
        s = _add(self.cost(e.iter_range), self.cost(e.accu_init))
        self._push(e.accu_var, Local(self.size(e.accu_init), self.entry(e.accu_init)))
        s = _add(s, self.cost(e.result))
        self._pop(e.accu_var)
        sz = self.size(e.result)
        if sz is not None:
            self.sizes[e.id] = sz
        en = self.entry(e.result)
        if en is not None:
            self.entries[e.id] = en
        return s

    def call(self, e: Call) -> Est:
        fn = e.function
        if fn == "dyn" and e.target is None and len(e.args) == 1:
            c = self.cost(e.args[0])
            sz = self.size(e.args[0])
            if sz is not None:
                self.sizes[e.id] = sz
            return _add(FIXED1, c)
        arg_costs = [self.cost(a) for a in e.args]
        oids = self.c.overloads.get(e.id, [])
        if not oids:
            return ZERO
        total = ZERO
        if e.target is not None:
            total = self.cost(e.target)
        fn_cost: Est = (MAXU, 0)
        result_size: Est | None = None
        for oid in oids:
            c, rs = self.function_cost(e, fn, oid, arg_costs)
            fn_cost = _union(fn_cost, c)
            if rs is not None:
                result_size = rs if result_size is None else _union(result_size, rs)
            if oid in ("index_list", "index_list_uint", "index_map") and e.args:
                en = self.entry(e.args[0])
                if en is not None:
                    result_size = en.val
            if result_size is None:
                result_size = self.size(e)
        if result_size is not None:
            self.sizes[e.id] = result_size
        return _add(total, fn_cost)

    def function_cost(self, e: Call, fn: str, oid: str, arg_costs: list[Est]) -> tuple[Est, Est | None]:
        args_sum = ZERO
        for a in arg_costs:
            args_sum = _add(args_sum, a)
        target = e.target
        args = e.args
        k8s = self.kubernetes_cost(fn, oid, target, args)
        if k8s is not None:
            c, rs = k8s
            return _add(c, args_sum), rs
        tf = L.STRING_TRAVERSAL_COST_FACTOR
        if oid == "strings_quote" and len(args) == 1:
            sz = self.size_or_unknown(args[0])
            return _add(_factor(sz, tf), args_sum), (min(sz[0] + 2, MAXU), min(sz[1] * 2 + 2, MAXU))
        if oid == "string_format" and target is not None:
            t_sz = self.size_or_unknown(target)
            a_sz = self.size_or_unknown(args[0])
            return _add(_factor(t_sz, tf), args_sum), _add(t_sz, a_sz)
        if oid == "string_to_bytes" and len(args) == 1:
            sz = self.size_or_unknown(args[0])
            return _add(_factor(sz, tf), args_sum), (sz[0], min(sz[1] * 4, MAXU))
        if oid == "bytes_to_string" and len(args) == 1:
            sz = self.size_or_unknown(args[0])
            return _add(_factor(sz, tf), args_sum), (sz[0] // 4, sz[1])
        if oid in ("starts_with_string", "ends_with_string") and len(args) == 1:
            return _add(_factor(self.size_or_unknown(args[0]), tf), args_sum), None
        if oid == "in_list" and len(args) == 2:
            return _add(self.size_or_unknown(args[1]), args_sum), None
        if oid in ("matches_string", "matches"):
            s_node, p_node = (
                (target, args[0]) if target is not None else (args[0], args[1]) if len(args) == 2 else (None, None)
            )
            if s_node is not None and p_node is not None and target is not None:
                str_cost = _factor(_add(self.size_or_unknown(s_node), FIXED1), tf)
                re_cost = _factor(self.size_or_unknown(p_node), L.REGEX_STRING_LENGTH_COST_FACTOR)
                return _add(_mul(str_cost, re_cost), args_sum), None
        if oid == "contains_string" and target is not None:
            return _add(
                _mul(_factor(self.size_or_unknown(target), tf), _factor(self.size_or_unknown(args[0]), tf)), args_sum
            ), None
        if oid in ("logical_and", "logical_or"):
            lhs, rhs = arg_costs
            return (lhs[0], _add(lhs, rhs)[1]), None
        if oid == "conditional":
            size = _union(self.size_or_unknown(args[1]), self.size_or_unknown(args[2]))
            e1, e2 = self.entry(args[1]), self.entry(args[2])
            if e1 is not None and e2 is not None:
                self.entries[e.id] = Entry(e1.kind, _union(e1.key, e2.key), _union(e1.val, e2.val))
            return _add(arg_costs[0], _union(arg_costs[1], arg_costs[2])), size
        if oid in ("add_string", "add_bytes", "add_list") and len(args) == 2:
            rs = _add(self.size_or_unknown(args[0]), self.size_or_unknown(args[1]))
            e1, e2 = self.entry(args[0]), self.entry(args[1])
            if e1 is not None and e2 is not None:
                self.entries[e.id] = Entry(e1.kind, _union(e1.key, e2.key), _union(e1.val, e2.val))
            if oid == "add_list":
                return _add(FIXED1, args_sum), rs
            return _add(_factor(rs, tf), args_sum), rs
        if oid in _STRING_EQ or oid.startswith(("less_", "greater_")) and oid.endswith(("_string", "_bytes")):
            if oid in _STRING_EQ:
                lhs = self.size_or_unknown(args[0])
                rhs = self.size_or_unknown(args[1])
                smallest = min(lhs[1], rhs[1])
                return _add(_factor((1 if smallest > 0 else 0, smallest), tf), args_sum), None
        return _add(FIXED1, args_sum), None

    def kubernetes_cost(
        self, fn: str, oid: str, target: Expr | None, args: list[Expr]
    ) -> tuple[Est, Est | None] | None:
        """Kubernetes' CostEstimator.EstimateCallCost (library/cost.go); None when it has no estimate."""
        tf = L.STRING_TRAVERSAL_COST_FACTOR
        if fn in ("isSorted", "sum", "max", "min", "indexOf", "lastIndexOf") and target is not None:
            tt = self.type_of(target)
            if tt is not None and tt.kind in ("list", "map") and tt.params:
                el: Est = FIXED1
                et = tt.params[0]
                if et.kind in ("string", "bytes"):
                    el = _add(el, _factor(self._elem_size(target), tf))
                return _mul(self.size_or_unknown(target), el), None
            return _factor(self.size_or_unknown(target), tf), None
        if fn in ("lowerAscii", "upperAscii", "substring", "trim") and target is not None:
            sz = self.size_or_unknown(target)
            return _factor(sz, tf), sz
        if fn == "replace" and target is not None and len(args) >= 2:
            return self._replace(target, args)
        if fn == "split" and target is not None:
            sz = self.size_or_unknown(target)
            mx = sz[1]
            if len(args) > 1 and isinstance(args[1], Const) and type(args[1].value) is int:
                mx = args[1].value if args[1].value >= 0 else MAXU
            return _factor(sz, 2 * tf), (0, mx)
        if fn == "join" and target is not None:
            list_size = self.size_or_unknown(target)
            sz = ZERO
            tt = self.type_of(target)
            if tt is not None and tt.kind == "list":
                sz = _mul(list_size, self._elem_size(target))
            if args:
                sep = self.size_or_unknown(args[0])
                seps = (max(list_size[0] - 1, 0), max(list_size[1] - 1, 0) if list_size[1] != MAXU else MAXU)
                sz = _add(sz, _mul(sep, seps))
            return _factor(sz, tf), sz
        if fn in ("find", "findAll") and target is not None and args:
            sz = self.size_or_unknown(target)
            str_cost = _factor(_add(sz, FIXED1), tf)
            re_cost = _factor(self.size_or_unknown(args[0]), L.REGEX_STRING_LENGTH_COST_FACTOR)
            return _mul(str_cost, re_cost), (0, sz[1])
        if fn in (
            "sign",
            "asInteger",
            "isInteger",
            "asApproximateFloat",
            "isGreaterThan",
            "isLessThan",
            "compareTo",
            "add",
            "sub",
            "masked",
            "prefixLength",
            "family",
            "isUnspecified",
            "isLoopback",
            "isLinkLocalMulticast",
            "isLinkLocalUnicast",
            "isGlobalUnicast",
            "major",
            "minor",
            "patch",
        ):
            return FIXED1, None
        if fn == "ip" and target is not None:
            return FIXED1, None  # cidr.ip(): a field
        # string parsers: one traversal of the argument (Kubernetes' estimator sees a target for
        # global calls too, so these apply to ip("..."), quantity("...") and the rest)
        if fn in ("ip", "isIP", "cidr", "isCIDR", "quantity", "isQuantity", "semver", "isSemver") and args:
            return _factor(self.size_or_unknown(args[0]), tf), None
        if fn == "ip.isCanonical" and args:
            return _factor(self.size_or_unknown(args[0]), 2 * tf), None
        if fn in ("containsIP", "containsCIDR") and target is not None and args:
            c = _factor((8, 32), tf)
            if fn == "containsCIDR":
                c = _add(_add(c, _factor((4, 16), tf)), FIXED1)
            if oid in ("cidr_contains_ip_string", "cidr_contains_cidr_string"):
                c = _add(c, _factor(self.size_or_unknown(args[0]), tf))
            return c, None
        if oid == "dyn_includes_dyn":
            # DRA's estimate for includes(): the longest list an attribute may hold
            n = L.RESOURCE_SLICE_MAX_ATTRIBUTE_VALUES_PER_DEVICE
            return (n, n), None
        if fn in ("sets.contains", "sets.equivalent", "sets.intersects") and len(args) == 2:
            # cel-go ext/sets.go estimateSetsCost: n*m (twice for equivalent) plus the call's 1
            nm = _mul(self.size_or_unknown(args[0]), self.size_or_unknown(args[1]))
            return _add(_factor(nm, 2 if fn == "sets.equivalent" else 1), FIXED1), None
        return None

    def _elem_size(self, lst: Expr) -> Est:
        """Kubernetes' listElementNode: an items node with no computed size, sized by the estimator
        only (library/cost.go). A literal's elements do not count: DRA's estimator knows only the
        device's declared bounds, so ``["a", "b"].join()`` is of unknown size there."""
        tt = self.type_of(lst)
        et = tt.params[0] if tt is not None and tt.kind == "list" and tt.params else None
        if et is None:
            return UNKNOWN
        if et.max_size is not None:
            return (0, et.max_size)
        if self.hint is not None:
            h = self.hint(et)
            if h is not None:
                return h
        if _scalar(et):
            return FIXED1
        return UNKNOWN

    def _replace(self, target: Expr, args: list[Expr]) -> tuple[Est, Est | None]:
        sz = self.size_or_unknown(target)
        old = self.size_or_unknown(args[0])
        new = self.size_or_unknown(args[1])
        if old[0] == 0:
            cnt_max = sz[1] + 1 if sz[1] < MAXU else sz[1]
            kept_max = sz[1]
        elif new[1] <= old[0]:
            cnt_max, kept_max = 0, sz[1]
        else:
            cnt_max, kept_max = int(math.ceil(sz[1] / old[0])) if sz[1] < MAXU else MAXU, 0
        if old[1] == 0:
            cnt_min = sz[0] + 1 if sz[0] < MAXU else sz[0]
            kept_min = sz[0]
        elif old[1] <= new[0]:
            cnt_min, kept_min = 0, sz[0]
        else:
            cnt_min, kept_min = int(math.ceil(sz[0] / old[1])), 0
        size = _add(_mul((cnt_min, cnt_max), new), (kept_min, kept_max))
        return _factor(sz, 2 * L.STRING_TRAVERSAL_COST_FACTOR), size


def _scalar(t: Type) -> bool:
    if t.kind in _SCALARS:
        return True
    if t.kind == "opaque" and t.name in _OPAQUE_SCALARS:
        # rmctl: a quantity, version, IP or CIDR counts as one unit.  cel-go has no size for
        # them and would estimate quantity("1Gi") == quantity("1024Mi") at 1.8e18 (docs/cel.md)
        return True
    if is_optional(t):
        return _scalar(t.params[0])
    return False


def _is_bind(e: Comprehension) -> bool:
    return (
        isinstance(e.iter_range, ListExpr)
        and not e.iter_range.elements
        and isinstance(e.loop_cond, Const)
        and e.loop_cond.value is False
        and e.accu_var != ACCU
    )


def estimate(checked: Checked, size_hint: Callable[[Type], Est | None] | None = None) -> Est:
    """Return (min, max) of the expression's cost in cel-go's units."""
    return Coster(checked, size_hint).cost(checked.expr)
