"""CEL source -> AST: a hand-written lexer and precedence-climbing parser.

The grammar is cel-spec's (doc/langdef.md "Syntax") with the optional
syntax of cel-go's ``parser.EnableOptionalSyntax`` (``a.?b``, ``a[?b]``,
``[?x]``, ``{?k: v}``), which the Kubernetes base environment enables.
Macros are expanded here, as cel-go's parser does (parser/macro.go), into
comprehensions whose shape the cost estimator relies on: ``all``,
``exists``, ``exists_one``, ``map``, ``filter``, ``has``, ``cel.bind``,
the two-variable forms of ext.TwoVarComprehensions (``all``, ``exists``,
``existsOne``, ``transformList``, ``transformMap``, ``transformMapEntry``) and ``optMap`` /
``optFlatMap``.

No third-party parser: building lark's grammar tables cost celpy about 90 ms
a run; this one costs nothing to import.  Every limit is checked while
parsing (length, nesting depth), so a hostile expression gives a clean
:class:`CelSyntaxError`, never a RecursionError.
"""

from __future__ import annotations

import sys

from rmctl.resources.cel.errors import CelSyntaxError
from rmctl.resources.cel.limits import MAX_EXPRESSION_LENGTH, MAX_NESTING

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

# --------------------------------------------------------------------------
# AST
# --------------------------------------------------------------------------

#: the accumulator of macro comprehensions (cel-go parser.AccumulatorName)
ACCU = "@result"


class UInt(int):
    """A CEL ``uint`` value (Python has one int type; CEL keeps the two apart)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


# AST nodes are plain classes with __slots__: 11 dataclasses cost several
# milliseconds of import time on every class/request command.


class Expr:
    """Base of AST nodes; ``id`` is unique in one expression, ``pos`` a 0-based offset."""

    __slots__ = ("id", "pos")

    def __init__(self, id: int, pos: int):
        self.id = id
        self.pos = pos


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, id: int, pos: int, value: Any):
        super().__init__(id, pos)
        self.value = value  #: bool, int, UInt, float, str, bytes or None


class Ident(Expr):
    __slots__ = ("name",)

    def __init__(self, id: int, pos: int, name: str):
        super().__init__(id, pos)
        self.name = name


class Select(Expr):
    __slots__ = ("operand", "field", "test_only", "optional")

    def __init__(self, id: int, pos: int, operand: Expr, field: str, test_only: bool = False, optional: bool = False):
        super().__init__(id, pos)
        self.operand = operand
        self.field = field
        self.test_only = test_only  #: has(a.b)
        self.optional = optional  #: a.?b


class Call(Expr):
    __slots__ = ("function", "args", "target")

    def __init__(self, id: int, pos: int, function: str, args: list[Expr], target: Expr | None = None):
        super().__init__(id, pos)
        self.function = function
        self.args = args
        self.target = target  #: receiver of a member call

    @property
    def is_member(self) -> bool:
        return self.target is not None


class ListExpr(Expr):
    __slots__ = ("elements", "optional_indices")

    def __init__(self, id: int, pos: int, elements: list[Expr], optional_indices: tuple[int, ...] = ()):
        super().__init__(id, pos)
        self.elements = elements
        self.optional_indices = optional_indices


class MapEntry:
    __slots__ = ("key", "value", "optional")

    def __init__(self, key: Expr, value: Expr, optional: bool = False):
        self.key = key
        self.value = value
        self.optional = optional


class MapExpr(Expr):
    __slots__ = ("entries",)

    def __init__(self, id: int, pos: int, entries: list[MapEntry] | None = None):
        super().__init__(id, pos)
        self.entries = entries if entries is not None else []


class Comprehension(Expr):
    __slots__ = (
        "iter_var",
        "iter_range",
        "accu_var",
        "accu_init",
        "loop_cond",
        "loop_step",
        "result",
        "iter_var2",
        "macro",
    )

    def __init__(
        self,
        id: int,
        pos: int,
        iter_var: str,
        iter_range: Expr,
        accu_var: str,
        accu_init: Expr,
        loop_cond: Expr,
        loop_step: Expr,
        result: Expr,
        iter_var2: str | None = None,
        macro: str = "",
    ):
        super().__init__(id, pos)
        self.iter_var = iter_var
        self.iter_range = iter_range
        self.accu_var = accu_var
        self.accu_init = accu_init
        self.loop_cond = loop_cond
        self.loop_step = loop_step
        self.result = result
        self.iter_var2 = iter_var2
        self.macro = macro  #: the macro it came from, for messages


def children(e: Expr) -> list[Expr]:
    """Return the direct sub-expressions of ``e``."""
    if isinstance(e, Select):
        return [e.operand]
    if isinstance(e, Call):
        return ([e.target] if e.target is not None else []) + list(e.args)
    if isinstance(e, ListExpr):
        return list(e.elements)
    if isinstance(e, MapExpr):
        return [x for en in e.entries for x in (en.key, en.value)]
    if isinstance(e, Comprehension):
        return [e.iter_range, e.accu_init, e.loop_cond, e.loop_step, e.result]
    return []


# --------------------------------------------------------------------------
# Lexer
# --------------------------------------------------------------------------

RESERVED = frozenset(
    {
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    }
)

_PUNCT3 = ()
_PUNCT2 = ("==", "!=", "<=", ">=", "&&", "||", ".?", "[?")
_PUNCT1 = "+-*/%<>!?:.,()[]{}"


class Token:
    __slots__ = ("kind", "value", "pos", "text")

    def __init__(self, kind: str, value: Any, pos: int, text: str = ""):
        self.kind = kind  #: "int", "uint", "double", "string", "bytes", "ident", "punct", "eof"
        self.value = value
        self.pos = pos
        self.text = text


class Lexer:
    def __init__(self, src: str):
        self.src = src
        self.i = 0
        self.n = len(src)

    def error(self, msg: str, pos: int) -> CelSyntaxError:
        return CelSyntaxError(msg, self.src, pos)

    def tokens(self) -> list[Token]:
        out = []
        while True:
            t = self.next()
            out.append(t)
            if t.kind == "eof":
                return out

    def next(self) -> Token:
        src, n = self.src, self.n
        while self.i < n:
            c = src[self.i]
            if c in " \t\r\n\f":
                self.i += 1
            elif src.startswith("//", self.i):
                j = src.find("\n", self.i)
                self.i = n if j < 0 else j + 1
            else:
                break
        if self.i >= n:
            return Token("eof", None, n)
        start = self.i
        c = src[start]
        if c.isdigit() or (c == "." and start + 1 < n and src[start + 1].isdigit()):
            return self._number()
        if c in "\"'":
            return self._string(start, raw=False, is_bytes=False)
        if c.isalpha() or c == "_":
            j = start + 1
            while j < n and (src[j].isalnum() or src[j] == "_") and src[j].isascii():
                j += 1
            word = src[start:j]
            # r"..." raw strings, b"..." bytes, and their combinations
            if j < n and src[j] in "\"'" and word.lower() in ("r", "b", "rb", "br"):
                return self._string(j, raw="r" in word.lower(), is_bytes="b" in word.lower(), start=start)
            if not word.isascii():
                raise self.error(f"Syntax error: token recognition error at: '{word}'", start)
            self.i = j
            return Token("ident", word, start, word)
        two = src[start : start + 2]
        if two in _PUNCT2:
            self.i += 2
            return Token("punct", two, start, two)
        if c in _PUNCT1:
            self.i += 1
            return Token("punct", c, start, c)
        raise self.error(f"Syntax error: token recognition error at: '{c}'", start)

    def _number(self) -> Token:
        src, n, start = self.src, self.n, self.i
        j = start
        if src.startswith(("0x", "0X"), j):
            j += 2
            k = j
            while j < n and src[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == k:
                raise self.error("Syntax error: bad hex literal", start)
            value = int(src[k:j], 16)
            return self._int_token(start, j, value)
        while j < n and src[j].isdigit():
            j += 1
        is_double = False
        if j < n and src[j] == "." and j + 1 < n and src[j + 1].isdigit():
            is_double = True
            j += 1
            while j < n and src[j].isdigit():
                j += 1
        if j < n and src[j] in "eE":
            k = j + 1
            if k < n and src[k] in "+-":
                k += 1
            if k < n and src[k].isdigit():
                is_double = True
                j = k
                while j < n and src[j].isdigit():
                    j += 1
        text = src[start:j]
        if is_double:
            self.i = j
            try:
                return Token("double", float(text), start, text)
            except (ValueError, OverflowError):
                raise self.error(f"Syntax error: invalid double literal {text}", start) from None
        return self._int_token(start, j, int(text))

    def _int_token(self, start: int, j: int, value: int) -> Token:
        src = self.src
        if j < self.n and src[j] in "uU":
            self.i = j + 1
            if value > (1 << 64) - 1:
                raise self.error(f"Syntax error: uint literal out of range: {src[start : j + 1]}", start)
            return Token("uint", UInt(value), start, src[start : j + 1])
        self.i = j
        # the sign is applied by unary minus; -9223372036854775808 is handled there
        if value > 1 << 63:
            raise self.error(f"Syntax error: int literal out of range: {src[start:j]}", start)
        return Token("int", value, start, src[start:j])

    def _string(self, q: int, raw: bool, is_bytes: bool, start: int | None = None) -> Token:
        src, n = self.src, self.n
        start = q if start is None else start
        quote = src[q]
        triple = src.startswith(quote * 3, q)
        delim = quote * 3 if triple else quote
        i = q + len(delim)
        parts: list[str] = []
        raw_bytes: list[int] = []  # for bytes literals: \x and octal escapes are bytes

        def emit(s: str) -> None:
            if is_bytes:
                raw_bytes.extend(s.encode("utf-8"))
            else:
                parts.append(s)

        while True:
            if i >= n:
                raise self.error("Syntax error: unterminated string literal", start)
            if src.startswith(delim, i):
                i += len(delim)
                break
            c = src[i]
            if c == "\n" and not triple:
                raise self.error("Syntax error: newline in string literal (use a triple-quoted string)", start)
            if c == "\\" and not raw:
                i, text, byte = self._escape(i, is_bytes)
                if byte is not None:
                    raw_bytes.append(byte)
                else:
                    emit(text)
                continue
            if c == "\\" and raw and i + 1 < n and src[i + 1] == quote and not triple:
                # a raw string still cannot contain its own quote unescaped
                emit(src[i : i + 2])
                i += 2
                continue
            emit(c)
            i += 1
        self.i = i
        if is_bytes:
            return Token("bytes", bytes(raw_bytes), start, src[start:i])
        return Token("string", "".join(parts), start, src[start:i])

    def _escape(self, i: int, is_bytes: bool) -> tuple[int, str, int | None]:
        """Return (next index, text, byte) for the escape at src[i] == '\\'."""
        src, n = self.src, self.n
        if i + 1 >= n:
            raise self.error("Syntax error: unterminated escape sequence", i)
        c = src[i + 1]
        simple = {
            "a": "\a",
            "b": "\b",
            "f": "\f",
            "n": "\n",
            "r": "\r",
            "t": "\t",
            "v": "\v",
            "\\": "\\",
            "'": "'",
            '"': '"',
            "`": "`",
            "?": "?",
        }
        if c in simple:
            return i + 2, simple[c], None
        if c in "xX":
            h = src[i + 2 : i + 4]
            if len(h) != 2 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
                raise self.error("Syntax error: invalid \\x escape", i)
            v = int(h, 16)
            return i + 4, chr(v), (v if is_bytes else None)
        if c in "uU":
            width = 4 if c == "u" else 8
            h = src[i + 2 : i + 2 + width]
            if is_bytes or len(h) != width or any(ch not in "0123456789abcdefABCDEF" for ch in h):
                raise self.error(f"Syntax error: invalid \\{c} escape", i)
            v = int(h, 16)
            if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                raise self.error(f"Syntax error: invalid unicode code point \\{c}{h}", i)
            return i + 2 + width, chr(v), None
        if c in "0123":
            o = src[i + 1 : i + 4]
            if len(o) != 3 or any(ch not in "01234567" for ch in o):
                raise self.error("Syntax error: invalid octal escape", i)
            v = int(o, 8)
            return i + 4, chr(v), (v if is_bytes else None)
        raise self.error(f"Syntax error: invalid escape sequence \\{c}", i)


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------

#: binary operators by precedence (higher binds tighter), cel-spec langdef.md
_BINARY = {
    "||": (1, "_||_"),
    "&&": (2, "_&&_"),
    "<": (3, "_<_"),
    "<=": (3, "_<=_"),
    ">": (3, "_>_"),
    ">=": (3, "_>=_"),
    "==": (3, "_==_"),
    "!=": (3, "_!=_"),
    "in": (3, "@in"),
    "+": (4, "_+_"),
    "-": (4, "_-_"),
    "*": (5, "_*_"),
    "/": (5, "_/_"),
    "%": (5, "_%_"),
}


class Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = Lexer(src).tokens()
        self.k = 0
        self.next_id = 1
        self.depth = 0
        self.positions: dict[int, int] = {}

    # -- helpers -------------------------------------------------------------

    def nid(self, pos: int) -> int:
        i = self.next_id
        self.next_id += 1
        self.positions[i] = pos
        return i

    @property
    def tok(self) -> Token:
        return self.toks[self.k]

    def advance(self) -> Token:
        t = self.toks[self.k]
        self.k += 1
        return t

    def at(self, value: str) -> bool:
        t = self.toks[self.k]
        return t.kind == "punct" and t.value == value

    def expect(self, value: str) -> Token:
        t = self.tok
        if not (t.kind == "punct" and t.value == value):
            raise self.unexpected(f"expecting '{value}'")
        return self.advance()

    def unexpected(self, expecting: str = "") -> CelSyntaxError:
        t = self.tok
        what = "<EOF>" if t.kind == "eof" else (t.text or str(t.value))
        msg = f"Syntax error: mismatched input '{what}'" + (f" {expecting}" if expecting else "")
        if t.kind == "eof":
            msg = "Syntax error: unexpected end of expression" + (f", {expecting}" if expecting else "")
        return CelSyntaxError(msg, self.src, t.pos)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise CelSyntaxError(f"expression nesting exceeds the limit of {MAX_NESTING} levels", self.src, pos)

    # -- grammar -------------------------------------------------------------

    def parse(self) -> Expr:
        e = self.expr()
        if self.tok.kind != "eof":
            raise self.unexpected("expecting <EOF>")
        return e

    def expr(self) -> Expr:
        self.enter(self.tok.pos)
        try:
            cond = self.binary(1)
            if self.at("?"):
                q = self.advance()
                t = self.binary(1)
                self.expect(":")
                f = self.expr()
                return Call(self.nid(q.pos), q.pos, "_?_:_", [cond, t, f])
            return cond
        finally:
            self.depth -= 1

    def binary(self, min_prec: int) -> Expr:
        lhs = self.unary()
        while True:
            t = self.tok
            op = t.value if t.kind == "punct" or (t.kind == "ident" and t.value == "in") else None
            if op not in _BINARY:
                return lhs
            prec, fn = _BINARY[op]
            if prec < min_prec:
                return lhs
            if op in ("&&", "||"):
                # a chain of one logical operator is collected flat and
                # balanced (cel-go parser/helper.go balancer): 10,000 terms
                # give a tree of depth 14, not 10,000
                terms = [lhs]
                ops = []
                while self.at(op):
                    ops.append(self.advance())
                    terms.append(self.binary(prec + 1))
                lhs = self._balance(fn, terms, ops)
                continue
            self.advance()
            rhs = self.binary(prec + 1)
            lhs = Call(self.nid(t.pos), t.pos, fn, [lhs, rhs])
            if self._depth_of(lhs) > MAX_NESTING:
                raise CelSyntaxError(f"expression nesting exceeds the limit of {MAX_NESTING} levels", self.src, t.pos)

    def _balance(self, fn: str, terms: list[Expr], ops: list[Token]) -> Expr:
        if len(terms) == 1:
            return terms[0]
        mid = len(terms) // 2
        left = self._balance(fn, terms[:mid], ops[: mid - 1])
        right = self._balance(fn, terms[mid:], ops[mid:])
        op = ops[mid - 1]
        return Call(self.nid(op.pos), op.pos, fn, [left, right])

    def _depth_of(self, e: Expr) -> int:
        # only left-deep operator chains need this: count along the first argument
        d = 0
        while isinstance(e, Call) and e.args and e.function.startswith("_") and e.target is None:
            d += 1
            e = e.args[0]
        return d

    def unary(self) -> Expr:
        ops: list[Token] = []
        # a '-' right before a number is the number's sign (cel-go's grammar:
        # literal = MINUS? NUM_INT), so -9223372036854775808 is an int
        while (self.at("!") or self.at("-")) and not (self.at("-") and self.toks[self.k + 1].kind in ("int", "double")):
            ops.append(self.advance())
        if not ops:
            return self.member()
        self.enter(ops[0].pos)
        try:
            operand = self.member()
            for op in reversed(ops):
                operand = Call(self.nid(op.pos), op.pos, "!_" if op.value == "!" else "-_", [operand])
            return operand
        finally:
            self.depth -= 1

    def member(self) -> Expr:
        e = self.primary()
        chain = 0
        while True:
            chain += 1
            if chain > MAX_NESTING:
                raise CelSyntaxError(
                    f"expression nesting exceeds the limit of {MAX_NESTING} levels", self.src, self.tok.pos
                )
            if self.at(".") or self.at(".?"):
                dot = self.advance()
                name = self.tok
                if name.kind != "ident":
                    raise self.unexpected("expecting IDENTIFIER")
                self.advance()
                if dot.value == "." and self.at("("):
                    lp = self.advance()
                    args = self.args(")")
                    e = self.macro_or_call(name.value, args, e, lp.pos, name.pos)
                else:
                    e = Select(self.nid(dot.pos), dot.pos, e, name.value, optional=dot.value == ".?")
            elif self.at("[") or self.at("[?"):
                lb = self.advance()
                idx = self.expr()
                self.expect("]")
                e = Call(self.nid(lb.pos), lb.pos, "_[?_]" if lb.value == "[?" else "_[_]", [e, idx])
            elif self.at("{") and self._is_struct_name(e):
                raise CelSyntaxError(
                    "Syntax error: message construction is not supported (no message types in DRA's environment)",
                    self.src,
                    self.tok.pos,
                )
            else:
                return e

    @staticmethod
    def _is_struct_name(e: Expr) -> bool:
        return isinstance(e, Ident) or (isinstance(e, Select) and not e.optional)

    def args(self, close: str) -> list[Expr]:
        out: list[Expr] = []
        if self.at(close):
            self.advance()
            return out
        while True:
            out.append(self.expr())
            if self.at(","):
                self.advance()
                continue
            self.expect(close)
            return out

    def primary(self) -> Expr:
        t = self.tok
        if self.at("-") and self.toks[self.k + 1].kind in ("int", "double"):
            self.advance()
            num = self.advance()
            return Const(self.nid(t.pos), t.pos, -num.value)
        if t.kind in ("int", "uint", "double", "string", "bytes"):
            self.advance()
            if t.kind == "int" and t.value == 1 << 63:
                raise CelSyntaxError(f"Syntax error: int literal out of range: {t.text}", self.src, t.pos)
            return Const(self.nid(t.pos), t.pos, t.value)
        if t.kind == "ident":
            self.advance()
            word = t.value
            if word == "true" or word == "false":
                return Const(self.nid(t.pos), t.pos, word == "true")
            if word == "null":
                return Const(self.nid(t.pos), t.pos, None)
            if word in RESERVED or word == "in":
                raise CelSyntaxError(f"Syntax error: reserved identifier: {word}", self.src, t.pos)
            if self.at("("):
                lp = self.advance()
                args = self.args(")")
                return self.macro_or_call(word, args, None, lp.pos, t.pos)
            return Ident(self.nid(t.pos), t.pos, word)
        if self.at("."):
            # a leading dot names the root container: .device is device
            self.advance()
            name = self.tok
            if name.kind != "ident":
                raise self.unexpected("expecting IDENTIFIER")
            return self.primary()
        if self.at("("):
            self.advance()
            e = self.expr()
            self.expect(")")
            return e
        if self.at("[") or self.at("[?"):
            first_optional = self.advance().value == "[?"
            self.enter(t.pos)
            try:
                elems: list[Expr] = []
                opt: list[int] = []
                while not self.at("]"):
                    if first_optional or self.at("?"):
                        if not first_optional:
                            self.advance()
                        first_optional = False
                        opt.append(len(elems))
                    elems.append(self.expr())
                    if not self.at(","):
                        break
                    self.advance()
                self.expect("]")
            finally:
                self.depth -= 1
            return ListExpr(self.nid(t.pos), t.pos, elems, tuple(opt))
        if self.at("{"):
            self.advance()
            self.enter(t.pos)
            try:
                entries: list[MapEntry] = []
                while not self.at("}"):
                    optional = False
                    if self.at("?"):
                        self.advance()
                        optional = True
                    k = self.expr()
                    self.expect(":")
                    v = self.expr()
                    entries.append(MapEntry(k, v, optional))
                    if not self.at(","):
                        break
                    self.advance()
                self.expect("}")
            finally:
                self.depth -= 1
            return MapExpr(self.nid(t.pos), t.pos, entries)
        raise self.unexpected("expecting an expression")

    # -- macros (cel-go parser/macro.go, ext/bindings.go, ext/comprehensions.go)

    def macro_or_call(self, name: str, args: list[Expr], target: Expr | None, pos: int, name_pos: int) -> Expr:
        if target is None:
            if name == "has" and len(args) == 1:
                a = args[0]
                if not isinstance(a, Select) or a.optional:
                    raise CelSyntaxError("invalid argument to has() macro", self.src, pos)
                return Select(self.nid(pos), pos, a.operand, a.field, test_only=True)
            return Call(self.nid(pos), name_pos, name, args)
        if isinstance(target, Ident) and target.name == "cel" and name == "bind" and len(args) == 3:
            if not isinstance(args[0], Ident):
                # cel-go ext/bindings.go's message, spelling included
                raise CelSyntaxError("cel.bind() variable names must be simple identifers", self.src, args[0].pos)
            var = args[0].name
            return Comprehension(
                self.nid(pos),
                pos,
                "#unused",
                ListExpr(self.nid(pos), pos, []),
                var,
                args[1],
                Const(self.nid(pos), pos, False),
                Ident(self.nid(pos), pos, var),
                args[2],
                macro="cel.bind",
            )
        n = len(args)
        if name in ("all", "exists", "exists_one", "existsOne") and n in (2, 3):
            return self._quantifier(name, target, args, pos)
        if name in ("map", "filter") and n in (2, 3) and not (name == "filter" and n == 3):
            return self._map_filter(name, target, args, pos)
        if name in ("transformList", "transformMap", "transformMapEntry") and n in (3, 4):
            return self._transform(name, target, args, pos)
        if name in ("optMap", "optFlatMap") and n == 2:
            return self._opt_map(name, target, args, pos)
        return Call(self.nid(pos), name_pos, name, args, target)

    def _var(self, e: Expr, macro: str) -> str:
        if not isinstance(e, Ident):
            # cel-go parser/macro.go and ext/comprehensions.go: "argument must be a simple name"
            raise CelSyntaxError(f"{macro}: argument must be a simple name", self.src, e.pos)
        return e.name

    def _ident(self, name: str, pos: int) -> Ident:
        return Ident(self.nid(pos), pos, name)

    def _call(self, fn: str, args: list[Expr], pos: int) -> Call:
        return Call(self.nid(pos), pos, fn, args)

    def _quantifier(self, name: str, target: Expr, args: list[Expr], pos: int) -> Expr:
        two = len(args) == 3
        v1 = self._var(args[0], name)
        v2 = self._var(args[1], name) if two else None
        pred = args[-1]
        for v in (v1, v2):
            if v == ACCU:
                raise CelSyntaxError(f"{name}: iteration variable overwrites accumulator variable", self.src, pos)
        if two and v1 == v2:
            raise CelSyntaxError(f"{name}: duplicate variable name '{v1}'", self.src, pos)
        r = lambda: self._ident(ACCU, pos)  # noqa: E731
        init: Expr
        cond: Expr
        step: Expr
        result: Expr
        if name == "all":
            init = Const(self.nid(pos), pos, True)
            cond = self._call("@not_strictly_false", [r()], pos)
            step = self._call("_&&_", [r(), pred], pos)
            result = r()
        elif name == "exists":
            init = Const(self.nid(pos), pos, False)
            cond = self._call("@not_strictly_false", [self._call("!_", [r()], pos)], pos)
            step = self._call("_||_", [r(), pred], pos)
            result = r()
        else:
            init = Const(self.nid(pos), pos, 0)
            cond = Const(self.nid(pos), pos, True)
            step = self._call("_?_:_", [pred, self._call("_+_", [r(), Const(self.nid(pos), pos, 1)], pos), r()], pos)
            result = self._call("_==_", [r(), Const(self.nid(pos), pos, 1)], pos)
        return Comprehension(self.nid(pos), pos, v1, target, ACCU, init, cond, step, result, v2, macro=name)

    def _map_filter(self, name: str, target: Expr, args: list[Expr], pos: int) -> Expr:
        v = self._var(args[0], name)
        if v == ACCU:
            raise CelSyntaxError(f"{name}: iteration variable overwrites accumulator variable", self.src, pos)
        r = lambda: self._ident(ACCU, pos)  # noqa: E731
        if name == "map":
            fn = args[-1]
            step: Expr = self._call("_+_", [r(), ListExpr(self.nid(pos), pos, [fn])], pos)
            if len(args) == 3:
                step = self._call("_?_:_", [args[1], step, r()], pos)
        else:
            step = self._call(
                "_?_:_",
                [args[1], self._call("_+_", [r(), ListExpr(self.nid(pos), pos, [self._ident(v, pos)])], pos), r()],
                pos,
            )
        return Comprehension(
            self.nid(pos),
            pos,
            v,
            target,
            ACCU,
            ListExpr(self.nid(pos), pos, []),
            Const(self.nid(pos), pos, True),
            step,
            r(),
            macro=name,
        )

    def _transform(self, name: str, target: Expr, args: list[Expr], pos: int) -> Expr:
        v1 = self._var(args[0], name)
        v2 = self._var(args[1], name)
        if v1 == v2:
            raise CelSyntaxError(f"{name}: duplicate variable name '{v1}'", self.src, pos)
        fn = args[-1]
        flt = args[2] if len(args) == 4 else None
        r = lambda: self._ident(ACCU, pos)  # noqa: E731
        if name == "transformList":
            init: Expr = ListExpr(self.nid(pos), pos, [])
            step: Expr = self._call("_+_", [r(), ListExpr(self.nid(pos), pos, [fn])], pos)
        elif name == "transformMap":
            init = MapExpr(self.nid(pos), pos, [])
            step = self._call("cel.@mapInsert", [r(), self._ident(v1, pos), fn], pos)
        else:
            # transformMapEntry: fn is a map whose entries join the result (ext/comprehensions.go)
            init = MapExpr(self.nid(pos), pos, [])
            step = self._call("cel.@mapInsert", [r(), fn], pos)
        if flt is not None:
            step = self._call("_?_:_", [flt, step, r()], pos)
        return Comprehension(
            self.nid(pos), pos, v1, target, ACCU, init, Const(self.nid(pos), pos, True), step, r(), v2, macro=name
        )

    def _opt_map(self, name: str, target: Expr, args: list[Expr], pos: int) -> Expr:
        if not isinstance(args[0], Ident):
            # cel-go cel/macro.go (optional library)
            raise CelSyntaxError(f"{name}() variable name must be a simple identifier", self.src, args[0].pos)
        v = args[0].name
        # opt.optMap(x, e) -> opt.hasValue() ? optional.of(cel.bind(x, opt.value(), e)) : optional.none()
        bound = Comprehension(
            self.nid(pos),
            pos,
            "#unused",
            ListExpr(self.nid(pos), pos, []),
            v,
            Call(self.nid(pos), pos, "value", [], target),
            Const(self.nid(pos), pos, False),
            self._ident(v, pos),
            args[1],
            macro="cel.bind",
        )
        then: Expr = Call(self.nid(pos), pos, "optional.of", [bound]) if name == "optMap" else bound
        return self._call(
            "_?_:_",
            [Call(self.nid(pos), pos, "hasValue", [], target), then, Call(self.nid(pos), pos, "optional.none", [])],
            pos,
        )


#: frames the parser, checker, estimator and evaluator may need for MAX_NESTING levels
#: (a few per level each); Python's default of 1000 is short of it
RECURSION_LIMIT = 20 * MAX_NESTING


def ensure_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


class Parsed:
    """A parsed expression: the AST and each node's source offset."""

    __slots__ = ("source", "expr", "positions", "node_count")

    def __init__(self, source: str, expr: Expr, positions: dict[int, int], node_count: int):
        self.source = source
        self.expr = expr
        self.positions = positions
        self.node_count = node_count


def parse(source: str) -> Parsed:
    """Parse ``source``; raise CelSyntaxError (with the offset) on bad syntax or past a limit."""
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise CelSyntaxError(
            f"expression is {len(source)} characters long; the limit is {MAX_EXPRESSION_LENGTH} "
            "(DRA's CELSelectorExpressionMaxLength)",
            source,
            0,
        )
    ensure_recursion_limit()
    p = Parser(source)
    e = p.parse()
    _check_depth(e, source)
    _qualify_namespaced(e)
    return Parsed(source, e, p.positions, p.next_id)


def _check_depth(root: Expr, source: str) -> None:
    """Refuse an AST deeper than MAX_NESTING (counted without recursion), whatever made it deep."""
    stack = [(root, 1)]
    while stack:
        e, d = stack.pop()
        if d > MAX_NESTING:
            raise CelSyntaxError(f"expression nesting exceeds the limit of {MAX_NESTING} levels", source, e.pos)
        stack.extend((c, d + 1) for c in children(e))


def _qualify_namespaced(e: Expr) -> None:
    """Rewrite calls on a namespace (``optional.of(x)``, ``strings.quote(s)``, ``sets.contains``) to global calls.

    cel-go resolves ``optional.of`` as a qualified function name when
    ``optional`` is not a variable; the environment has no variable of
    those names, so the parser can do it.
    """
    stack = [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Call) and isinstance(n.target, Ident) and n.target.name in NAMESPACES:
            n.function = f"{n.target.name}.{n.function}"
            n.target = None
        stack.extend(children(n))


#: names that prefix functions (cel-go ext libraries and Kubernetes')
NAMESPACES = frozenset({"optional", "strings", "sets", "math", "base64"})
