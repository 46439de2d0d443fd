"""Compile a selector once, evaluate it per device (celpy)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import celpy
from celpy import celtypes

from rmctl.resources.cel.library import FUNCTIONS, _MACROS
from rmctl.resources.cel.quantity import CelError, parse_quantity
from rmctl.resources.cel.semver import Semver

_ENV: celpy.Environment | None = None


def _env() -> celpy.Environment:
    global _ENV
    if _ENV is None:
        _ENV = celpy.Environment()
    return _ENV


#: attribute/capacity references written as device.attributes["dom"].name or ["dom"]["name"]
_REF = re.compile(r'device\.(attributes|capacity)\[\s*"([^"]+)"\s*\](?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([^"]+)"\s*\])')


@dataclass
class Outcome:
    """One selector on one device: ``value`` True/False, or ``error`` (then value False)."""

    value: bool
    error: str | None = None

    def to_data(self) -> dict:
        return {"value": self.value, "error": self.error}


class Selector:
    """A compiled CEL selector; ``source`` is the expression text."""

    def __init__(self, source: str, program, where: str = ""):
        self.source = source
        self.where = where
        self._program = program

    def evaluate(self, activation: dict) -> Outcome:
        """Return the outcome on one device; a runtime error is an Outcome, never raised."""
        try:
            v = self._program.evaluate(activation)
        except celpy.CELEvalError as e:
            return Outcome(False, describe_eval_error(e))
        except Exception as e:  # celpy bug or odd data: still this device's problem only
            return Outcome(False, f"{type(e).__name__}: {e}")
        if isinstance(v, celpy.CELEvalError):
            return Outcome(False, describe_eval_error(v))
        if not isinstance(v, celtypes.BoolType) and not isinstance(v, bool):
            return Outcome(False, f"selector returned {type(v).__name__}, not bool")
        return Outcome(bool(v))

    def references(self) -> list[tuple[str, str, str]]:
        """Return (kind, domain, name) for each attribute/capacity the expression names literally."""
        out = []
        for m in _REF.finditer(self.source):
            out.append((m.group(1), m.group(2), m.group(3) or m.group(4)))
        return out


def compile_selector(source: str, where: str = "") -> Selector:
    """Return the compiled selector; raise CelError naming ``where`` and line:col on bad syntax."""
    if not isinstance(source, str) or not source.strip():
        raise CelError(f"{where}: empty CEL expression" if where else "empty CEL expression")
    env = _env()
    try:
        ast = env.compile(source)
    except celpy.CELParseError as e:
        line = getattr(e, "line", None)
        col = getattr(e, "column", None)
        pos = f"{line}:{col}" if line is not None else "?"
        msg = f"CEL syntax error at {pos} (line:column of the expression) in {source!r}"
        raise CelError(
            f"{where}: {msg}" if where else msg,
            hint="check the expression near that column (CEL: https://github.com/google/cel-spec)",
            details={"line": line, "column": col, "expression": source},
        ) from None
    except Exception as e:  # lark errors that celpy does not wrap
        raise CelError(f"{where}: CEL error in {source!r}: {e}", details={"expression": source}) from None
    _check_functions(ast, source, where)
    return Selector(source, env.program(ast, functions=FUNCTIONS), where)


def _check_literal(tree, name: str, source: str, where: str) -> None:
    """Raise CelError when quantity("...")/semver("...") is given a constant it can never parse.

    The Kubernetes libraries would fail on every device at run time; a
    constant is known when the class loads, so it is refused there, with
    its position.
    """
    import ast as pyast

    args = tree.children[1].children if len(tree.children) > 1 else []
    if not args or len(args) > (2 if name == "semver" else 1):
        return
    tokens = list(args[0].scan_values(lambda v: True))
    if len(tokens) != 1 or getattr(tokens[0], "type", "") != "STRING_LIT":
        return  # not a plain string constant: only known per device
    tok = tokens[0]
    try:
        text = pyast.literal_eval(str(tok))
    except Exception:
        return
    if not isinstance(text, str):
        return
    try:
        if name == "quantity":
            parse_quantity(text)
        elif len(args) == 1:
            Semver.parse(text)
        else:
            return
    except ValueError as e:
        line, col = getattr(tok, "line", None), getattr(tok, "column", None)
        msg = f"invalid {name} {text!r} at {line}:{col} (line:column of the expression): {e}"
        raise CelError(f"{where}: {msg}" if where else msg,
                       hint=("quantities look like 16Gi, 16G, 500m, 1e3" if name == "quantity"
                             else 'versions look like 1.2.3; semver("v1.2", true) normalizes'),
                       details={"line": line, "column": col, "expression": source}) from None


def _known_functions() -> frozenset:
    from celpy.evaluation import base_functions

    return frozenset(FUNCTIONS) | frozenset(k for k in base_functions if k[:1].isalpha()) | _MACROS


def _check_functions(ast, source: str, where: str) -> None:
    """Raise CelError for a call to a function CEL does not define here (cel-go: a compile error).

    celpy resolves names only when evaluating, which would turn a typo
    such as ``lowerAcsii()`` into an error on every device instead of a
    bad selector; DRA's type-checker refuses it when the class is created.
    """
    import difflib

    known = _known_functions()
    for tree in ast.iter_subtrees():
        if tree.data == "member_dot_arg":
            tok = tree.children[1]
        elif tree.data == "ident_arg":
            tok = tree.children[0]
        else:
            continue
        name = str(tok)
        if name in known:
            if tree.data == "ident_arg" and name in ("quantity", "semver"):
                _check_literal(tree, name, source, where)
            continue
        line, col = getattr(tok, "line", None), getattr(tok, "column", None)
        close = difflib.get_close_matches(name, sorted(known), n=1)
        msg = f"undeclared function {name!r} at {line}:{col} (line:column of the expression) in {source!r}"
        raise CelError(f"{where}: {msg}" if where else msg,
                       hint=(f"did you mean {close[0]!r}? " if close else "")
                       + "functions: the CEL standard ones, Kubernetes quantity/semver/regex/lists and cel-go's strings",
                       details={"line": line, "column": col, "expression": source})



_NO_MEMBER = re.compile(r"no such member in mapping: '([^']+)'")
_NO_KEY = re.compile(r"no such key.*?StringType\('([^']+)'\)")
_TREE = re.compile(r"tree='([^']*)'")


def describe_eval_error(e: Exception) -> str:
    """Return a one-line reason for a CEL runtime error (celpy nests and reprs them)."""
    try:
        return _describe(e)
    except Exception:  # never let the description of an error become one
        return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def _describe(e: Exception) -> str:
    text = str(e)
    trees = _TREE.findall(text)
    m = _NO_MEMBER.search(text)
    if m:
        where = f" ({trees[0]})" if trees else ""
        return f"no such key: {m.group(1)!r}{where}"
    m = _NO_KEY.search(text)
    if m:
        where = f" ({trees[0]})" if trees else ""
        return f"no such key: {m.group(1)!r}{where}"
    m = _NO_OVERLOAD.search(text)
    if m:
        op = m.group(1) or m.group(2)
        op = _OPERATORS.get(op, op)
        types = ", ".join(t.rsplit(".", 1)[-1] for t in _TYPE_NAME.findall(m.group(3)))
        msg = f"no such overload: {op} applied to ({types})"
        if "Semver" in types or "Quantity" in types:
            msg += "; compare versions and quantities with compareTo, isGreaterThan or isLessThan"
        return msg
    args = getattr(e, "args", ())
    out = args[0] if args and isinstance(args[0], str) else (text.splitlines()[0] if text else type(e).__name__)
    # celpy appends its whole activation to "undeclared reference" errors
    return out.split(" (in activation", 1)[0]


_NO_OVERLOAD = re.compile(r"found no matching overload for (?:Token\('RULE', '([a-z_]+)'\)|(\S+)) applied to '\(([^)]*)\)'")
_TYPE_NAME = re.compile(r"<class '([^']+)'>")
_OPERATORS = {"relation_lt": "<", "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
              "relation_eq": "==", "relation_ne": "!=", "addition_add": "+", "addition_sub": "-",
              "multiplication_mul": "*", "multiplication_div": "/", "multiplication_mod": "%"}
