"""Evaluate a checked expression: the AST is planned once into closures, run per device.

Runtime semantics follow cel-go's interpreter: errors are values that
``&&``/``||`` may absorb (``false && error`` is false, in either order),
comprehensions keep an error in their accumulator and go on, everything
else is strict.  Each run counts its cost as cel-go's runtime cost tracker
does (interpreter/runtimecost.go plus Kubernetes' library/cost.go CallCost)
and stops with :class:`LimitExceeded` past the budget (DRA:
"operation cancelled: actual cost limit exceeded") or past the wall-clock
guard.  Nothing here recurses on data: only on the AST, whose depth the
parser bounds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from rmctl.resources.cel import library as lib
from rmctl.resources.cel import limits as L
from rmctl.resources.cel.checker import Checked
from rmctl.resources.cel.errors import EvalError, LimitExceeded
from rmctl.resources.cel.quantity import Quantity
from rmctl.resources.cel.semver import Semver
from rmctl.resources.cel.syntax import Call, Comprehension, Const, Expr, Ident, ListExpr, MapExpr, Select, UInt
from rmctl.resources.cel.types import Type, is_dyn
from rmctl.resources.cel.values import CIDR, NONE, DomainMap, ErrValue, IPAddr, Optional, map_lookup, type_name

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

    Fn = Callable[["Ctx"], Any]  # a planned node: a function of the evaluation's Ctx


class Ctx:
    """One evaluation: variables, the cost spent, the budget and the deadline."""

    __slots__ = ("vars", "cost", "limit", "deadline", "ticks")

    def __init__(self, variables: dict[str, Any], limit: int, seconds: float):
        self.vars = dict(variables)
        self.cost = 0
        self.limit = limit
        self.deadline = time.monotonic() + seconds
        self.ticks = 0

    def charge(self, n: int) -> None:
        self.cost += n
        if self.cost > self.limit:
            raise LimitExceeded("operation cancelled: actual cost limit exceeded")

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks & 127 == 0 and time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"operation cancelled: evaluation took longer than {L.MAX_EVAL_SECONDS} s (rmctl's wall-clock guard)"
            )


def _size(v: Any) -> int:
    if isinstance(v, (str, bytes, list, tuple, dict)):
        return len(v)
    return 1


def _ceil(x: float) -> int:
    return int(math.ceil(x))


_TRAVERSE = L.STRING_TRAVERSAL_COST_FACTOR
_STRING_COMPARE = {"_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_"}


def _actual_size(v: Any) -> int:
    """cel-go actualSize: a traits.Sizer's size, else 1 (Kubernetes' IP: its bytes; CIDR: its prefix bytes)."""
    if isinstance(v, (str, bytes, list, tuple, dict)):
        return len(v)
    if v.__class__ is IPAddr:
        return 4 if v.addr.version == 4 else 16
    if v.__class__ is CIDR:
        return -(-v.prefix // 8)
    return 1


#: Kubernetes' CallCost: one traversal of the string argument (library/cost.go)
_K8S_STRING_TRAVERSAL = frozenset(
    {"lowerAscii", "upperAscii", "substring", "trim", "cidr", "isIP", "isCIDR", "quantity", "isQuantity", "semver",
     "isSemver"}
)  # fmt: skip
#: Kubernetes' CallCost: nominal cost 1
_K8S_NOMINAL = frozenset(
    {"masked", "prefixLength", "family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast",
     "isGlobalUnicast", "sign", "asInteger", "isInteger", "asApproximateFloat", "isGreaterThan", "isLessThan",
     "compareTo", "add", "sub", "major", "minor", "patch"}
)  # fmt: skip
#: cel-go costCall: O(n) in the first argument
_CELGO_FIRST_ARG = frozenset({"string_to_bytes", "bytes_to_string", "strings_quote", "string_format"})


def call_cost(fn: str, oid: str, args: list, result: Any) -> int:
    """The runtime cost of one call: Kubernetes' CallCost (library/cost.go), else cel-go's costCall.

    cel-go interpreter/runtimecost.go; ``args`` include the receiver of a member call first.
    """
    # -- Kubernetes' CostEstimator.CallCost
    if fn in ("isSorted", "sum", "max", "min", "indexOf", "lastIndexOf"):
        return _traversal(args[0]) if args else 0
    if fn in _K8S_STRING_TRAVERSAL and args:
        return _ceil(_actual_size(args[0]) * _TRAVERSE)
    if fn in ("replace", "split") and args:
        return _ceil(_actual_size(args[0]) * 2 * _TRAVERSE)
    if fn == "join" and args:
        return _ceil(_actual_size(result) * 2 * _TRAVERSE)
    if fn in ("find", "findAll") and len(args) >= 2:
        return _ceil((1 + _actual_size(args[0])) * _TRAVERSE) * _ceil(
            _actual_size(args[1]) * L.REGEX_STRING_LENGTH_COST_FACTOR
        )
    if fn == "ip" and args:
        return 1 if oid == "cidr_ip" else _ceil(_actual_size(args[0]) * _TRAVERSE)
    if fn == "ip.isCanonical" and args:
        return _ceil(_actual_size(args[0]) * 2 * _TRAVERSE)
    if fn in _K8S_NOMINAL:
        return 1
    if fn == "containsIP" and len(args) >= 2:
        c = _ceil(2 * _actual_size(args[0]) * _TRAVERSE)
        if oid == "cidr_contains_ip_string":
            c += _ceil(_actual_size(args[1]) * _TRAVERSE)
        return c
    if fn == "containsCIDR" and len(args) >= 2:
        cidr = _actual_size(args[0])
        c = _ceil(2 * cidr * _TRAVERSE) + _ceil(cidr * _TRAVERSE) + 1
        if oid == "cidr_contains_cidr_string":
            c += _ceil(_actual_size(args[1]) * _TRAVERSE)
        return c
    if fn == "_==_" and args and args[0].__class__ in (Quantity, Semver, IPAddr, CIDR):
        return 1
    # -- DRA's includes() and cel-go ext.Sets (ext/sets.go: 1 + n*m, twice for equivalent)
    if oid == "dyn_includes_dyn":
        return _size(args[0])
    if fn in ("sets.contains", "sets.intersects"):
        return 1 + len(args[0]) * len(args[1])
    if fn == "sets.equivalent":
        return 1 + 2 * len(args[0]) * len(args[1])
    # -- cel-go CostTracker.costCall
    if oid in _CELGO_FIRST_ARG:
        return _ceil(_actual_size(args[0]) * _TRAVERSE)
    if oid in ("starts_with_string", "ends_with_string"):
        return _ceil(len(args[1]) * _TRAVERSE)
    if oid == "in_list":
        return len(args[1])
    if fn in _STRING_COMPARE:
        if fn in ("_==_", "_!=_") or (type(args[0]) in (str, bytes) and type(args[1]) in (str, bytes)):
            return _ceil(min(_actual_size(args[0]), _actual_size(args[1])) * _TRAVERSE)
        return 1
    if oid in ("add_string", "add_bytes"):
        return _ceil((len(args[0]) + len(args[1])) * _TRAVERSE)
    if oid in ("matches", "matches_string"):
        return _ceil((len(args[0]) + 1) * _TRAVERSE) * _ceil(len(args[1]) * L.REGEX_STRING_LENGTH_COST_FACTOR)
    if oid == "contains_string":
        return _ceil(len(args[0]) * _TRAVERSE) * _ceil(len(args[1]) * _TRAVERSE)
    return 1


def _traversal(v: Any) -> int:
    """Kubernetes' traversalCost: strings and bytes len*0.1 (truncated), lists and maps their elements'."""
    t = type(v)
    if t is str or t is bytes:
        return int(len(v) * _TRAVERSE)
    if isinstance(v, (list, tuple)):
        return sum(_traversal(x) for x in v)
    if isinstance(v, dict):
        return sum(_traversal(k) + _traversal(x) for k, x in v.items())
    return 1


# --------------------------------------------------------------------------
# runtime type tests of overload parameters
# --------------------------------------------------------------------------

_OPAQUE = {
    "kubernetes.Quantity": Quantity,
    "kubernetes.Semver": Semver,
    "net.IP": IPAddr,
    "net.CIDR": CIDR,
    "optional_type": Optional,
}
_PRIM = {"bool": bool, "int": int, "uint": UInt, "double": float, "string": str, "bytes": bytes}


def _matcher(t: Type) -> Callable[[Any], bool] | None:
    k = t.kind
    if is_dyn(t) or k == "param":
        return None
    if k in _PRIM:
        cls = _PRIM[k]
        return lambda v: v.__class__ is cls
    if k == "null":
        return lambda v: v is None
    if k == "list":
        return lambda v: isinstance(v, (list, tuple))
    if k == "map":
        return lambda v: isinstance(v, dict)
    if k == "opaque":
        cls2 = _OPAQUE.get(t.name)
        return (lambda v: v.__class__ is cls2) if cls2 else None
    return None


_MATCHERS: dict[str, tuple] = {}


def _matchers(oid: str) -> tuple:
    m = _MATCHERS.get(oid)
    if m is None:
        m = _MATCHERS[oid] = tuple(_matcher(p) for p in lib.BY_ID[oid].params)
    return m


def _fits(oid: str, args: list) -> bool:
    return all(m is None or m(a) for m, a in zip(_matchers(oid), args, strict=False))


# --------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------


#: cel-go overloads.IsTypeConversionFunction: a call of one on a constant is folded (OptOptimize)
_CONVERSIONS = frozenset({"bool", "bytes", "double", "dyn", "int", "string", "uint"})


def _constant(v: Any) -> Fn:
    """A planned constant: costs nothing at run time (cel-go evalConst)."""

    def f(ctx: Ctx) -> Any:
        return v

    f.constant = (v,)  # type: ignore[attr-defined]
    return f


def _const_of(fn: Fn) -> tuple | None:
    return getattr(fn, "constant", None)


class Planner:
    """Plans a checked AST into closures.

    With ``optimize`` (cel-go's ``cel.OptOptimize``, which Kubernetes' environment sets,
    environment/base.go), list and map literals of constants and type conversions of a
    constant are built once when planned (interpreter/decorators.go decOptimize), so they
    cost nothing at run time, as in the cluster.
    """

    def __init__(self, checked: Checked, optimize: bool = True):
        self.c = checked
        self.optimize = optimize

    def plan(self, e: Expr) -> Fn:
        if isinstance(e, Const):
            return _constant(e.value)
        if isinstance(e, Ident):
            return self.ident(e)
        if isinstance(e, Select):
            return self.select(e)
        if isinstance(e, Call):
            return self.call(e)
        if isinstance(e, ListExpr):
            return self.list_expr(e)
        if isinstance(e, MapExpr):
            return self.map_expr(e)
        if isinstance(e, Comprehension):
            return self.comprehension(e)
        raise EvalError(f"cannot evaluate {type(e).__name__}")

    def ident(self, e: Ident) -> Fn:
        name = e.name

        def f(ctx: Ctx) -> Any:
            ctx.cost += 1
            try:
                v = ctx.vars[name]
            except KeyError:
                raise EvalError(f"no such attribute: {name}") from None
            if v.__class__ is ErrValue:
                raise v.err
            return v

        return f

    def select(self, e: Select) -> Fn:
        operand = self.plan(e.operand)
        name = e.field
        if e.test_only:

            def has(ctx: Ctx) -> Any:
                # no cost of its own: Kubernetes sets PresenceTestHasCost(false) (environment/base.go)
                m = operand(ctx)
                if isinstance(m, dict):
                    return name in m
                if m.__class__ is Optional:
                    return m.present and isinstance(m.value, dict) and name in m.value
                raise EvalError(f"invalid type for field selection: {type_name(m)}")

            return has
        optional = e.optional

        def get(m: Any, ctx: Ctx) -> Any:
            if m.__class__ is Optional:
                if not m.present:
                    return NONE
                found, v = _field(m.value, name)
                return Optional(v, True) if found else NONE
            ctx.cost += 1
            found, v = _field(m, name)
            if optional:
                return Optional(v, True) if found else NONE
            if not found:
                raise EvalError(f"no such key: {name}")
            return v

        return lambda ctx: get(operand(ctx), ctx)

    def call(self, e: Call) -> Fn:
        fn = e.function
        args = [self.plan(a) for a in ([e.target] if e.target is not None else []) + list(e.args)]
        if fn == "_&&_":
            return _logic(args[0], args[1], False, "_&&_")
        if fn == "_||_":
            return _logic(args[0], args[1], True, "_||_")
        if fn == "_?_:_":
            return _cond(*args)
        if fn == "@not_strictly_false":
            a = args[0]

            def nsf(ctx: Ctx) -> Any:
                ctx.cost += 1  # a call: cost 1 (interpreter/runtimecost.go), each loop condition
                try:
                    return a(ctx) is not False
                except EvalError:
                    return True

            return nsf
        oids = self.c.overloads.get(e.id, [])
        if not oids:
            raise EvalError(f"no overload resolved for {fn}")
        if oids[0] in ("optional_orValue_value", "optional_or_optional"):
            return _opt_or(args[0], args[1], oids[0] == "optional_orValue_value")
        static = [self.c.types.get(x.id) for x in ([e.target] if e.target is not None else []) + list(e.args)]
        direct = len(oids) == 1 and all(t is not None and not is_dyn(t) for t in static)
        impls: list[tuple[str, Callable[..., Any]]] = []
        for oid in oids:
            impl = lib.BY_ID[oid].impl
            if impl is None:
                raise EvalError(f"no implementation of {oid}")
            impls.append((oid, impl))
        name = fn
        n = len(args)
        folded = _const_of(args[0]) if self.optimize and fn in _CONVERSIONS and n == 1 and len(impls) == 1 else None
        if folded is not None:
            try:
                return _constant(impls[0][1](folded[0]))
            except EvalError:
                pass  # cel-go fails the program's creation; rmctl reports it when evaluated

        if direct and n == 1:
            a0 = args[0]
            oid0, impl0 = impls[0]

            def call1(ctx: Ctx) -> Any:
                x = a0(ctx)
                r = impl0(x)
                ctx.charge(call_cost(name, oid0, [x], r))
                return r

            return call1
        if direct and n == 2 and name not in _PRE_CHARGED:
            a0, a1 = args
            oid0, impl0 = impls[0]

            def call2(ctx: Ctx) -> Any:
                x = a0(ctx)
                y = a1(ctx)
                r = impl0(x, y)
                ctx.charge(call_cost(name, oid0, [x, y], r))
                return r

            return call2

        def call_n(ctx: Ctx) -> Any:
            vals = [a(ctx) for a in args]
            for oid, impl in impls:
                if direct or _fits(oid, vals):
                    if name in _PRE_CHARGED:
                        ctx.charge(call_cost(name, oid, vals, None))
                    r = impl(*vals)
                    if name not in _PRE_CHARGED:
                        ctx.charge(call_cost(name, oid, vals, r))
                    return r
            raise EvalError(f"no such overload: {_sig(name, vals, e.target is not None)}")

        return call_n

    def list_expr(self, e: ListExpr) -> Fn:
        elems = [self.plan(x) for x in e.elements]
        opt = frozenset(e.optional_indices)
        if self.optimize and not opt and all(_const_of(x) is not None for x in elems):
            return _constant([_const_of(x)[0] for x in elems])  # type: ignore[index]

        def f(ctx: Ctx) -> Any:
            ctx.charge(L.LIST_CREATE_BASE_COST)
            out = []
            for i, el in enumerate(elems):
                v = el(ctx)
                if i in opt:
                    if v.__class__ is not Optional:
                        raise EvalError(f"cannot initialize optional list element from non-optional value {v!r}")
                    if not v.present:
                        continue
                    v = v.value
                out.append(v)
            return out

        return f

    def map_expr(self, e: MapExpr) -> Fn:
        entries = [(self.plan(en.key), self.plan(en.value), en.optional) for en in e.entries]
        if self.optimize and all(
            not o and _const_of(k) is not None and _const_of(v) is not None for k, v, o in entries
        ):
            out: dict = {}
            for k, v, _ in entries:
                kv, vv = _const_of(k)[0], _const_of(v)[0]  # type: ignore[index]
                if kv.__class__ not in (str, int, UInt, bool) or map_lookup(out, kv)[0]:
                    break  # an error at run time, as without optimize
                out[kv] = vv
            else:
                return _constant(out)

        def f(ctx: Ctx) -> Any:
            ctx.charge(L.MAP_CREATE_BASE_COST)
            out: dict = {}
            for kf, vf, optional in entries:
                k = kf(ctx)
                if k.__class__ not in (str, int, UInt, bool):
                    raise EvalError(f"unsupported key type: {type_name(k)}")
                v = vf(ctx)
                if optional:
                    if v.__class__ is not Optional:
                        raise EvalError("cannot initialize optional entry from non-optional value")
                    if not v.present:
                        continue
                    v = v.value
                if map_lookup(out, k)[0]:
                    raise EvalError(f"Failed with repeated key: {k}")
                out[k] = v
            return out

        return f

    def comprehension(self, e: Comprehension) -> Fn:
        rng = self.plan(e.iter_range)
        init = self.plan(e.accu_init)
        cond = self.plan(e.loop_cond)
        step = self.plan(e.loop_step)
        result = self.plan(e.result)
        v1, v2, acc = e.iter_var, e.iter_var2, e.accu_var

        def f(ctx: Ctx) -> Any:
            r = rng(ctx)
            items: list[Any] | tuple[Any, ...]
            if isinstance(r, dict):
                items = list(r.items()) if v2 else list(r.keys())
            elif isinstance(r, (list, tuple)):
                items = list(enumerate(r)) if v2 else r
            else:
                raise EvalError(f"got '{type_name(r)}', expected iterable type")
            vars_ = ctx.vars
            saved = {k: vars_[k] for k in (v1, v2, acc) if k is not None and k in vars_}
            try:
                vars_[acc] = init(ctx)
                for item in items:
                    ctx.tick()
                    if v2:
                        vars_[v1], vars_[v2] = item
                    else:
                        vars_[v1] = item
                    if cond(ctx) is False:
                        break
                    try:
                        vars_[acc] = step(ctx)
                    except EvalError as x:
                        vars_[acc] = ErrValue(x)
                    if ctx.cost > ctx.limit:
                        raise LimitExceeded("operation cancelled: actual cost limit exceeded")
                for k in (v1, v2):
                    if k is not None:
                        vars_.pop(k, None)
                return result(ctx)
            finally:
                for k in (v1, v2, acc):
                    if k is not None:
                        vars_.pop(k, None)
                vars_.update(saved)

        return f


#: calls whose cost is known before they run, charged first so a huge replace() never runs
_PRE_CHARGED = frozenset({"replace", "split", "matches", "find", "findAll", "contains", "startsWith", "endsWith"})


def _field(m: Any, name: str) -> tuple[bool, Any]:
    if isinstance(m, dict):
        if name in m:
            return True, m[name]
        if type(m) is DomainMap:
            return True, {}
        return False, None
    raise EvalError(f"type '{type_name(m)}' does not support field selection")


def _sig(name: str, vals: list, member: bool) -> str:
    ts = [type_name(v) for v in vals]
    if member:
        return f"{ts[0]}.{name}({', '.join(ts[1:])})"
    return f"{name}({', '.join(ts)})"


def _logic(a: Fn, b: Fn, absorbing: bool, name: str) -> Fn:
    """CEL's commutative ``&&`` (absorbing False) and ``||`` (absorbing True).

    Either side's absorbing value decides, even when the other side is an
    error (cel-spec langdef.md, "Logical operators"); otherwise an error of
    either side is the result, the left one first; two booleans give the
    other value; anything else has no overload."""

    def f(ctx: Ctx) -> Any:
        err = None
        try:
            x = a(ctx)
        except EvalError as e:
            err, x = e, None
        if x is absorbing:
            return absorbing
        try:
            y = b(ctx)
        except EvalError as e:
            raise (err or e) from None
        if y is absorbing:
            return absorbing
        if err is not None:
            raise err
        if type(x) is bool and type(y) is bool:
            return not absorbing
        raise EvalError(f"no such overload: {name}({type_name(x)}, {type_name(y)})")

    return f


def _cond(c: Fn, t: Fn, f_: Fn) -> Fn:
    def f(ctx: Ctx) -> Any:
        v = c(ctx)
        if v is True:
            return t(ctx)
        if v is False:
            return f_(ctx)
        raise EvalError(f"no such overload: _?_:_({type_name(v)}, ...)")

    return f


def _opt_or(o: Fn, alt: Fn, value: bool) -> Fn:
    def f(ctx: Ctx) -> Any:
        v = o(ctx)
        ctx.cost += 1
        if v.__class__ is not Optional:
            raise EvalError(f"no such overload: {type_name(v)}.{'orValue' if value else 'or'}()")
        if v.present:
            return v.value if value else v
        return alt(ctx)

    return f


class Program:
    """A planned expression: ``run(variables)`` returns the value or raises EvalError/LimitExceeded."""

    def __init__(self, checked: Checked, optimize: bool = True):
        self.fn = Planner(checked, optimize).plan(checked.expr)

    def run(
        self, variables: dict[str, Any], cost_limit: int = L.MAX_COST, seconds: float = L.MAX_EVAL_SECONDS
    ) -> tuple[Any, int]:
        ctx = Ctx(variables, cost_limit, seconds)
        v = self.fn(ctx)
        if ctx.cost > cost_limit:
            raise LimitExceeded("operation cancelled: actual cost limit exceeded")
        return v, ctx.cost
