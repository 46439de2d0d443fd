"""The type checker: every node gets a type, every call its overloads, or the selector is refused.

It follows cel-go's checker (checker/checker.go) on the declarations of
:mod:`.library` and the ``device`` variable of :mod:`.schema`; messages
read like cel-go's ("undeclared reference to 'x' (in container '')",
"found no matching overload for '_==_' applied to '(int, double)'").
Beyond cel-go, it refuses what can be known wrong from constants: a regex
that RE2 does not compile, ``quantity()``/``semver()``/``ip()``/``cidr()``
of a constant that never parses, and an attribute or capacity name that
rmctl does not publish in a domain it declares (with a did-you-mean).
"""

from __future__ import annotations

from rmctl.resources.cel import library as lib
from rmctl.resources.cel.errors import CelCheckError, EvalError
from rmctl.resources.cel.syntax import (
    Call,
    Comprehension,
    Const,
    Expr,
    Ident,
    ListExpr,
    MapExpr,
    Parsed,
    Select,
    UInt,
    children,
)
from rmctl.resources.cel.types import (
    BOOL,
    BYTES,
    DOUBLE,
    DYN,
    FREE,
    INT,
    NULL,
    STRING,
    UINT,
    Type,
    fits_free,
    is_dyn,
    is_free,
    is_optional,
    list_of,
    map_of,
    optional_of,
    substitute,
    unify,
)


def _close_matches(word: str, possibilities, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """difflib.get_close_matches, imported only for a misspelt name (issue 14: a selector's compile)."""
    import difflib

    return difflib.get_close_matches(word, possibilities, n=n, cutoff=cutoff)


class Checked:
    """A checked expression: the AST, each node's type and each call's candidate overload ids."""

    __slots__ = ("parsed", "types", "overloads", "references")

    def __init__(self, parsed: Parsed):
        self.parsed = parsed
        self.types: dict[int, Type] = {}
        self.overloads: dict[int, list[str]] = {}
        #: (kind, domain, name) of every attribute/capacity looked up with constant names
        self.references: list[tuple[str, str, str]] = []

    @property
    def expr(self) -> Expr:
        return self.parsed.expr

    @property
    def result_type(self) -> Type:
        return self.types[self.parsed.expr.id]


_CONST_CHECKS = {"quantity": "quantity", "semver": "semver", "ip": "ip", "cidr": "cidr"}
_REGEX_FUNCS = {"matches", "find", "findAll"}


class Checker:
    def __init__(self, parsed: Parsed, variables: dict[str, Type]):
        self.parsed = parsed
        self.src = parsed.source
        self.variables = variables
        self.scopes: list[dict[str, Type]] = []
        self.out = Checked(parsed)
        #: node id -> (kind, domain) for device.attributes["domain"] and device.capacity["domain"]
        self.node_domain: dict[int, tuple[str, str]] = {}
        dev = variables.get("device")
        self.outer = {
            id(t): k
            for k, t in ((dev.fields or {}).items() if dev is not None else ())
            if k in ("attributes", "capacity")
        }

    def fail(self, e: Expr, msg: str, hint: str | None = None) -> CelCheckError:
        x = CelCheckError(msg, self.src, e.pos)
        x.hint = hint
        return x

    def check(self) -> Checked:
        self.visit(self.parsed.expr)
        self.homogeneous_literals()
        return self.out

    def homogeneous_literals(self) -> None:
        """Refuse list and map literals whose elements differ in type, as the cluster does.

        Kubernetes' base environment enables cel.HomogeneousAggregateLiterals() and
        cel.ValidateHomogeneousAggregateLiterals() (apiserver/pkg/cel/environment/base.go);
        cel-go's validator (cel/validator.go) compares each element's type with the first's,
        unwrapping optional elements, and exempts literals under a format() call, whose
        argument list mixes types by design (ext/formatting.go).  Pre-order, so the
        first error reported is the outermost literal's, as cel-go lists them.
        """
        types = self.out.types
        stack: list[tuple[Expr, bool]] = [(self.parsed.expr, False)]
        while stack:
            e, exempt = stack.pop()
            if not exempt and isinstance(e, ListExpr):
                first: Type | None = None
                for i, x in enumerate(e.elements):
                    t = types[x.id]
                    if i in e.optional_indices and is_optional(t):
                        t = t.params[0]
                    if first is None or is_free(first):
                        first = t
                    elif not fits_free(first, t):
                        raise self.fail(x, f"expected type '{first}' but found '{t}'")
            elif not exempt and isinstance(e, MapExpr):
                kt: Type | None = None
                vt: Type | None = None
                for en in e.entries:
                    k, v = types[en.key.id], types[en.value.id]
                    if en.optional and is_optional(v):
                        v = v.params[0]
                    if kt is None or vt is None:
                        kt, vt = k, v
                        continue
                    if not fits_free(kt, k):
                        raise self.fail(en.key, f"expected type '{kt}' but found '{k}'")
                    if not fits_free(vt, v):
                        raise self.fail(en.value, f"expected type '{vt}' but found '{v}'")
                    kt, vt = (k if is_free(kt) else kt), (v if is_free(vt) else vt)
            inner = exempt or (isinstance(e, Call) and e.function in _HOMOGENEITY_EXEMPT)
            stack.extend((c, inner) for c in reversed(children(e)))

    def visit(self, e: Expr) -> Type:
        t = self._visit(e)
        self.out.types[e.id] = t
        return t

    # -- nodes -----------------------------------------------------------------

    def _visit(self, e: Expr) -> Type:
        if isinstance(e, Const):
            return _const_type(e.value)
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
        raise self.fail(e, f"unsupported expression {type(e).__name__}")

    def ident(self, e: Ident) -> Type:
        for scope in reversed(self.scopes):
            if e.name in scope:
                return scope[e.name]
        if e.name in self.variables:
            return self.variables[e.name]
        names = [n for s in self.scopes for n in s if not n.startswith(("@", "#"))] + list(self.variables)
        close = _close_matches(e.name, names, n=1)
        raise self.fail(
            e,
            f"undeclared reference to '{e.name}' (in container '')",
            f"did you mean '{close[0]}'?" if close else "the only variable is 'device'",
        )

    def select(self, e: Select) -> Type:
        ot = self.visit(e.operand)
        wrap = is_optional(ot) or e.optional
        if is_optional(ot):
            ot = ot.params[0]
        ft = self.field_type(e, ot, e.field)
        self._note(e.operand, e.field)
        if e.test_only:
            if not (ot.kind in ("map", "object") or is_dyn(ot)):
                raise self.fail(e, f"type '{ot}' does not support presence testing (has)")
            return BOOL
        return optional_of(ft) if wrap else ft

    def field_type(self, e: Expr, ot: Type, name: str, kind: str = "field") -> Type:
        if is_dyn(ot):
            return DYN
        if ot.kind == "object":
            assert ot.fields is not None
            if name not in ot.fields:
                close = _close_matches(name, list(ot.fields), n=1)
                raise self.fail(
                    e,
                    f"undefined field '{name}'",
                    f"did you mean '{close[0]}'?" if close else f"{ot.name} has {', '.join(sorted(ot.fields))}",
                )
            return ot.fields[name]
        if ot.kind == "map":
            if ot.fields is not None:
                if name in ot.fields:
                    return ot.fields[name]
                if ot.strict:
                    raise self.unknown_name(e, ot, name)
            if not (is_dyn(ot.key) or ot.key.kind == "string"):
                raise self.fail(e, f"type '{ot}' does not support field selection")
            return ot.value
        raise self.fail(e, f"type '{ot}' does not support field selection")

    def unknown_name(self, e: Expr, ot: Type, name: str) -> CelCheckError:
        assert ot.fields is not None
        domain, what = self._domain_of(ot)
        close = _close_matches(name, list(ot.fields), n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'? " if close else ""
        ) + f"rmctl publishes {what} {', '.join(sorted(ot.fields))} in {domain} (docs/devices.md)"
        one = {"attributes": "attribute", "capacities": "capacity"}.get(what, "name")
        return self.fail(e, f"undefined {one} '{name}' in domain \"{domain}\"", hint)

    def _domain_of(self, t: Type) -> tuple[str, str]:
        dev = self.variables.get("device")
        if dev is not None and dev.fields:
            for what in ("attributes", "capacity"):
                outer = dev.fields.get(what)
                for d, inner in ((outer.fields or {}) if outer else {}).items():
                    if inner is t:
                        return d, "attributes" if what == "attributes" else "capacities"
        return "?", "names"

    def list_expr(self, e: ListExpr) -> Type:
        elem: Type | None = None
        for i, x in enumerate(e.elements):
            t = self.visit(x)
            if i in e.optional_indices:
                if not (is_optional(t) or is_dyn(t)):
                    raise self.fail(x, f"expected type 'optional_type' but found '{t}'")
                t = t.params[0] if is_optional(t) else DYN
            elem = t.plain() if elem is None else _join_elements(elem, t)
        return list_of(elem or FREE)

    def map_expr(self, e: MapExpr) -> Type:
        kt: Type | None = None
        vt: Type | None = None
        for en in e.entries:
            k = self.visit(en.key)
            v = self.visit(en.value)
            if not (is_dyn(k) or k.kind in ("string", "int", "uint", "bool")):
                raise self.fail(en.key, f"unsupported map key type: {k}")
            if en.optional:
                if not (is_optional(v) or is_dyn(v)):
                    raise self.fail(en.value, f"expected type 'optional_type' but found '{v}'")
                v = v.params[0] if is_optional(v) else DYN
            kt = k.plain() if kt is None else _join_elements(kt, k)
            vt = v.plain() if vt is None else _join_elements(vt, v)
        return map_of(kt or FREE, vt or FREE)

    def comprehension(self, e: Comprehension) -> Type:
        rt = self.visit(e.iter_range)
        if is_optional(rt) and e.macro in ("optMap", "optFlatMap"):
            rt = rt.params[0]
        if rt.kind == "list":
            first, second = (INT, rt.elem) if e.iter_var2 else (rt.elem, None)
        elif rt.kind == "map":
            first, second = rt.key, (rt.value if e.iter_var2 else None)
        elif is_dyn(rt):
            first, second = DYN, (DYN if e.iter_var2 else None)
        else:
            raise self.fail(
                e.iter_range,
                f"expression of type '{rt}' cannot be range of a comprehension (must be list, map, or dynamic)",
            )
        it = self.visit(e.accu_init)
        scope: dict[str, Type] = {e.iter_var: first}
        if e.iter_var2:
            scope[e.iter_var2] = second or DYN
        accu_scope = {e.accu_var: it}
        self.scopes.append(accu_scope)
        try:
            self.scopes.append(scope)
            try:
                self.visit(e.loop_cond)
                st = self.visit(e.loop_step)
                if not _assignable(it, st):
                    raise self.fail(e.loop_step, f"type mismatch: expected '{it}' but found '{st}' in {e.macro}")
                if _refines(it, st):
                    # [] or {} as the initial value: the step says what the result holds
                    # (not checked again: nested map() would cost 2^depth)
                    accu_scope[e.accu_var] = st
            finally:
                self.scopes.pop()
            return self.visit(e.result)
        finally:
            self.scopes.pop()

    # -- calls -------------------------------------------------------------------

    def call(self, e: Call) -> Type:
        if isinstance(e.target, Ident) and f"{e.target.name}.{e.function}" in lib.DECLS:
            # cel-go resolves ip.isCanonical(s) as the function "ip.isCanonical" before a member call
            # (checker.go checkCall: the qualified name is looked up first)
            e.function = f"{e.target.name}.{e.function}"
            e.target = None
        fn = e.function
        target_t = self.visit(e.target) if e.target is not None else None
        if fn in ("_[_]", "_[?_]"):
            ot = self.visit(e.args[0])
            special = self.index_with_constant(e, ot)
            if special is not None:
                return special
            if isinstance(e.args[1], Const) and type(e.args[1].value) is str:
                self._note(e.args[0], e.args[1].value)
            arg_ts = [ot, self.visit(e.args[1])]
        else:
            arg_ts = [self.visit(a) for a in e.args]
        all_ts = ([target_t] if target_t is not None else []) + arg_ts
        decls = [ov for ov in lib.DECLS.get(fn, []) if ov.member == (e.target is not None)]
        if not decls:
            known = lib.function_names()
            close = _close_matches(fn, known, n=1)
            raise self.fail(
                e,
                f"undeclared reference to '{fn}' (in container '')",
                f"did you mean '{close[0]}'?"
                if close
                else "functions: CEL's standard ones, Kubernetes' quantity, semver, lists, regex, ip, cidr "
                "and cel-go's strings, sets and optionals (docs/cel.md)",
            )
        matched: list[tuple[str, Type]] = []
        for ov in decls:
            if len(ov.params) != len(all_ts):
                continue
            b: dict[str, Type] = {}
            if all(unify(p, a, b) for p, a in zip(ov.params, all_ts, strict=False)):
                matched.append((ov.id, substitute(ov.result, b)))
        if not matched:
            if e.target is not None:
                sig = f"{target_t}.({', '.join(str(t) for t in arg_ts)})"
            else:
                sig = f"({', '.join(str(t) for t in arg_ts)})"
            raise self.fail(
                e,
                f"found no matching overload for '{_display(fn)}' applied to '{sig}'",
                _overload_hint(fn, decls, all_ts),
            )
        self.out.overloads[e.id] = [m[0] for m in matched]
        result = matched[0][1]
        for _, r in matched[1:]:
            # several overloads fit (a dyn argument): the result is their common type, else dyn
            result = _join_elements(result, r)
        self.check_constants(e)
        return result.plain() if not is_dyn(result) else result

    def index_with_constant(self, e: Call, ot: Type) -> Type | None:
        """``m["name"]`` on a map with declared names (device.attributes["rmctl.io"]): the declared type."""
        operand, key = e.args
        if not (isinstance(key, Const) and type(key.value) is str):
            return None
        base = ot.params[0] if is_optional(ot) else ot
        if base.kind != "map" or base.fields is None:
            return None
        self.visit(key)
        name = key.value
        if id(base) in self.outer:
            self.node_domain[e.id] = (self.outer[id(base)], name)
        self._note(operand, name)
        if name in base.fields:
            vt = base.fields[name]
        elif base.strict:
            raise self.unknown_name(e, base, name)
        else:
            vt = base.value
        self.out.overloads[e.id] = (
            ["index_map"]
            if not is_optional(ot) and e.function == "_[_]"
            else ["map_optindex_optional_value" if not is_optional(ot) else "optional_map_optindex_optional_value"]
        )
        return optional_of(vt) if (e.function == "_[?_]" or is_optional(ot)) else vt

    def _note(self, operand: Expr, name: str) -> None:
        """Remember device.attributes["domain"].name (or ["name"]) for typo hints."""
        where = self.node_domain.get(operand.id)
        if where is not None:
            self.out.references.append((where[0], where[1], name))

    def check_constants(self, e: Call) -> None:
        """Refuse constants that can never work: a bad regex, quantity("16 Gi"), semver("1.2")."""
        fn = e.function
        if (
            fn in _REGEX_FUNCS
            and e.args
            and isinstance(e.args[0], Const)
            and type(e.args[0].value) is str
            and (e.target is not None or fn == "matches")
        ):
            pat = e.args[0] if e.target is not None else (e.args[1] if len(e.args) > 1 else None)
            if isinstance(pat, Const) and type(pat.value) is str:
                try:
                    lib.compile_regex(pat.value)
                except EvalError as x:
                    # cel-go's ValidateRegexLiterals says "invalid matches argument"; find and findAll
                    # fail when the program is built ("error parsing regexp: ...")
                    what = " (invalid matches argument)" if fn == "matches" else ""
                    raise self.fail(
                        pat,
                        f"invalid regular expression {_short(pat.value)}{what}: {x.message}",
                        "RE2 syntax: https://github.com/google/re2/wiki/Syntax (no backreferences or lookarounds)",
                    ) from None
        elif fn in _REGEX_FUNCS and e.target is None and len(e.args) == 2:
            pat = e.args[1]
            if isinstance(pat, Const) and type(pat.value) is str:
                try:
                    lib.compile_regex(pat.value)
                except EvalError as x:
                    raise self.fail(pat, f"invalid regular expression {_short(pat.value)}: {x.message}") from None
        if (
            fn == "format"
            and isinstance(e.target, Const)
            and type(e.target.value) is str
            and len(e.args) == 1
            and isinstance(e.args[0], ListExpr)
        ):
            # cel-go ext.Strings' stringFormatValidator (StringsValidateFormatCalls, on by default)
            from rmctl.resources.cel.formatting import validate

            bad = validate(e.target.value, e.args[0].elements, lambda x: self.out.types[x.id])
            if bad is not None:
                raise self.fail(bad.node if bad.node is not None else e, bad.message)
        kind = _CONST_CHECKS.get(fn)
        if kind and e.target is None and e.args and isinstance(e.args[0], Const) and type(e.args[0].value) is str:
            arg = e.args[0]
            normalize = len(e.args) > 1 and isinstance(e.args[1], Const) and e.args[1].value is True
            if len(e.args) > 1 and not isinstance(e.args[1], Const):
                return
            try:
                if kind == "quantity":
                    lib._quantity(arg.value)
                elif kind == "semver":
                    lib._semver(arg.value, normalize)
                elif kind == "ip":
                    lib.parse_ip(arg.value)
                else:
                    lib.parse_cidr(arg.value)
            except EvalError as x:
                raise self.fail(
                    arg,
                    f"invalid {kind} {_short(arg.value)}: {x.message}",
                    {
                        "quantity": "quantities look like 16Gi, 16G, 500m, 1e3",
                        "semver": 'versions look like 1.2.3; semver("v1.2", true) normalizes',
                        "ip": "addresses look like 10.0.0.1 or fd00::1",
                        "cidr": "CIDRs look like 10.0.0.0/8",
                    }[kind],
                ) from None


def _short(s: str) -> str:
    return repr(s if len(s) <= 60 else s[:57] + "...")


def _display(fn: str) -> str:
    return fn


def _overload_hint(fn: str, decls: list, arg_ts: list[Type]) -> str | None:
    if fn in ("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_") and arg_ts:
        names = {t.name for t in arg_ts if t.kind == "opaque"}
        if names & {"kubernetes.Quantity", "kubernetes.Semver"}:
            return "compare versions and quantities with compareTo, isGreaterThan or isLessThan"
        kinds = sorted({str(t) for t in arg_ts})
        return f"both sides must have the same type ({' vs '.join(kinds)}); attribute types are in docs/devices.md"
    sigs = sorted(
        {
            f"{'(' if not ov.member else str(ov.params[0]) + '.('}"
            f"{', '.join(str(p) for p in (ov.params[1:] if ov.member else ov.params))})"
            for ov in decls
        }
    )
    return f"{fn} takes {'; '.join(sigs[:6])}" + (" ..." if len(sigs) > 6 else "")


def _const_type(v) -> Type:
    t = type(v)
    if t is bool:
        return BOOL
    if t is UInt:
        return UINT
    if t is int:
        return INT
    if t is float:
        return DOUBLE
    if t is str:
        return STRING
    if t is bytes:
        return BYTES
    return NULL


#: calls whose arguments may mix types in list and map literals (cel.HomogeneousAggregateLiteralExemptFunctions)
_HOMOGENEITY_EXEMPT = frozenset({"format"})


def _join_elements(prev: Type, t: Type) -> Type:
    """The element type of a list or map literal so far (cel-go checker.joinTypes: the most general).

    Mixed elements make it ``dyn`` and it stays ``dyn``: ``[1, 2.0, 3u]`` is ``list(dyn)``.
    """
    if is_dyn(prev) or is_dyn(t):
        return DYN
    if prev.same(t):
        return prev.plain()
    if prev.kind == t.kind and prev.name == t.name and len(prev.params) == len(t.params):
        return Type(prev.kind, prev.name, tuple(_join_elements(a, b) for a, b in zip(prev.params, t.params, strict=False)))
    return DYN


def _assignable(target: Type, t: Type) -> bool:
    return unify(target, t, {})


def _refines(init: Type, step: Type) -> bool:
    return (
        init.kind in ("list", "map")
        and any(is_dyn(p) for p in init.params)
        and step.kind == init.kind
        and not all(is_dyn(p) for p in step.params)
    )


def check(parsed: Parsed, variables: dict[str, Type]) -> Checked:
    """Type-check ``parsed``; raise CelCheckError at the first problem."""
    return Checker(parsed, variables).check()
