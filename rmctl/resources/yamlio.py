"""Safe, bounded YAML with positions, so every validation error can name file:line:col.

Only ``yaml.SafeLoader`` is used: a class file can hold data and CEL text,
never a Python object (``!!python/object`` tags are refused by the safe
constructor and reported as bad input).

Every YAML file rmctl reads (classes, requests, profiles, Kubernetes
manifests, a kubelet's config) is someone else's input read by root, so
it is bounded while it is read, never after (issue 15 item 4):

* its size, before the parser sees a byte (:func:`read_bounded`,
  :data:`MAX_YAML_BYTES`; a 32 MB request used to take a minute and
  gigabytes);
* while composing, before anything is constructed (:class:`Budget`): the
  documents, the values and the characters of scalars, an alias counted as
  everything it stands for but **without expanding it** (each anchor's
  size is kept when its node is complete, so a "billion laughs" of 9
  levels is refused after a few hundred events instead of building
  gigabytes), a merge key (``<<: *a``) the same way, an alias inside its
  own anchor (a recursive structure) refused, and the nesting depth
  checked as it grows (no RecursionError).  Whatever walks the values
  afterwards (validation, the position walk of profiles, the JSON of a
  journal) does at most :data:`MAX_NODES` steps and copies at most
  :data:`MAX_CHARS` characters.  Kubernetes' go-yaml refuses "excessive
  aliasing" for the same reason (yaml.v2 decode.go allowedAliasRatio),
  after the fact; here it is counted as it comes.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any, NoReturn

#: PyYAML's yaml.reader.Reader.NON_PRINTABLE (5.1 to 6.0.x): what a YAML stream may not hold
YAML_NON_PRINTABLE = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
#: the same characters, named instead of excluded: the code points up to U+10FFFF that class leaves out
NON_PRINTABLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"


def _seed_non_printable() -> None:
    """Put in re's cache, under PyYAML's pattern, the same character class compiled from :data:`NON_PRINTABLE`.

    yaml.reader compiles NON_PRINTABLE when it is imported, and re's
    compiler (Python code) walks that negated class's ~120,000 BMP code
    points one by one: 57M instructions, about 12 ms, a tenth of ``request
    evaluate`` (issue 14).  The class written as the characters it excludes
    compiles in 4.5M.  ``re.compile`` looks its cache up by (type, pattern,
    flags) before compiling (CPython 3.10 to 3.13, re/__init__.py
    ``_compile``), so yaml.reader gets this pattern object; both match the
    same characters (tests/requests/test_import_budget.py checks every code
    point), so only the cost changes.  Where yaml is already imported or
    re's cache is not that dict, nothing is done and PyYAML compiles its own.
    """
    cache = getattr(re, "_cache", None)
    if "yaml.reader" not in sys.modules and isinstance(cache, dict):
        cache.setdefault((str, YAML_NON_PRINTABLE, 0), re.compile(NON_PRINTABLE))


_seed_non_printable()

import yaml  # noqa: E402  # after the seed
from yaml.events import AliasEvent, ScalarEvent  # noqa: E402

from rmctl.errors import UsageError  # noqa: E402

#: the largest class, request or profile file (a profile of 1,000 reservations is about 60 KiB)
MAX_YAML_BYTES = 1 << 20
#: documents in one file
MAX_DOCUMENTS = 1000
#: values in one file, an alias counted as every value it stands for
MAX_NODES = 200_000
#: characters of scalars in one file, an alias counted as every character it stands for
MAX_CHARS = 16 << 20
#: nesting of mappings and sequences
MAX_DEPTH = 100


class InputError(UsageError):
    """A class or request file is malformed; the message names file:line:col."""

    code = "bad_input"


class PosDict(dict):
    """A mapping that remembers where it and each of its keys start (1-based line, col)."""

    mark: tuple[int, int] = (0, 0)
    key_marks: dict

    def at(self, key: str) -> tuple[int, int]:
        return self.key_marks.get(key, self.mark)


class PosList(list):
    mark: tuple[int, int] = (0, 0)
    item_marks: list


def _m(node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class BudgetError(yaml.composer.ComposerError):
    """A YAML input past one of the budgets (a MarkedYAMLError: it names line and column)."""


class Budget:
    """Counts of one file while it is composed; the limits default to the module's."""

    def __init__(self, *, max_nodes: int = MAX_NODES, max_chars: int = MAX_CHARS, max_depth: int = MAX_DEPTH,
                 max_documents: int = MAX_DOCUMENTS):
        self.max_nodes, self.max_chars = max_nodes, max_chars
        self.max_depth, self.max_documents = max_depth, max_documents
        self.nodes = self.chars = self.documents = 0


class _Bounded:
    """A Composer mixin that counts values, characters, depth and documents as events arrive.

    PyYAML's Composer keeps one node per anchor and returns it for each
    alias (nothing is copied at composition); what multiplies is every
    later walk.  So each anchor's size (values, characters, aliases inside
    counted in full) is recorded when its node is complete, and an alias
    charges that size to the budget: the cost of expanding it, computed in
    constant time.
    """

    budget: Budget

    def bound(self, budget: Budget) -> None:
        self.budget = budget
        self._depth = 0
        self._open: set[str] = set()
        self._sizes: dict[str, tuple[int, int]] = {}

    def _charge(self, nodes: int, chars: int, mark) -> None:
        b = self.budget
        b.nodes += nodes
        b.chars += chars
        if b.nodes > b.max_nodes:
            raise BudgetError(None, None, f"more than {b.max_nodes} YAML values (an alias counts as every value "
                              "it stands for)", mark)
        if b.chars > b.max_chars:
            raise BudgetError(None, None, f"more than {b.max_chars} characters of YAML scalars (an alias counts as "
                              "every character it stands for)", mark)

    def compose_document(self):
        b = self.budget
        b.documents += 1
        if b.documents > b.max_documents:
            raise BudgetError(None, None, f"more than {b.max_documents} YAML documents", self.peek_event().start_mark)  # type: ignore[attr-defined]
        self._open, self._sizes = set(), {}  # anchors are per document (YAML 1.1, 3.2.2.2)
        return super().compose_document()  # type: ignore[misc]

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):  # type: ignore[attr-defined]
            ev = self.peek_event()  # type: ignore[attr-defined]
            if ev.anchor in self._open:
                raise BudgetError(None, None, f"alias *{ev.anchor} is inside its own anchor (a recursive structure)",
                                  ev.start_mark)
            size = self._sizes.get(ev.anchor)
            if size is not None:
                self._charge(size[0], size[1], ev.start_mark)
            return super().compose_node(parent, index)  # type: ignore[misc]
        ev = self.peek_event()  # type: ignore[attr-defined]
        if self._depth >= self.budget.max_depth:
            raise BudgetError(None, None, f"nested more than {self.budget.max_depth} levels deep", ev.start_mark)
        n0, c0 = self.budget.nodes, self.budget.chars
        self._charge(1, len(ev.value) if isinstance(ev, ScalarEvent) else 0, ev.start_mark)
        anchor = ev.anchor
        if anchor is not None:
            self._open.add(anchor)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = (self.budget.nodes - n0, self.budget.chars - c0)
        return node


    def construct_object(self, node, deep=False):
        # PyYAML's safe constructors raise plain Python errors on some malformed scalars
        # (``!!int`` with no digits: IndexError; ``!!timestamp 2001-13-99``: ValueError)
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, IndexError, TypeError, KeyError, AttributeError, OverflowError) as e:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this {node.tag.rsplit(':', 1)[-1]} "
                                                    f"value ({type(e).__name__})", node.start_mark) from None


class _Loader(_Bounded, yaml.SafeLoader):
    """Bounded SafeLoader whose mappings and sequences keep their source positions."""


class _PlainLoader(_Bounded, yaml.SafeLoader):
    """Bounded SafeLoader building plain dicts and lists (PyYAML's own constructors)."""


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    d = PosDict()
    d.mark = _m(node)
    d.key_marks = {}
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "unhashable key", knode.start_mark) from None
        if key in d:
            # YAML 1.2 says keys are unique; PyYAML keeps the last silently, so a
            # second 'metadata:' or 'selectors:' would hide the first (the profile loader refuses it too)
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", knode.start_mark)
        d[key] = loader.construct_object(vnode, deep=True)
        d.key_marks[key] = _m(knode)
    return d


def _construct_seq(loader, node):
    lst = PosList(loader.construct_object(n, deep=True) for n in node.value)
    lst.mark = _m(node)
    lst.item_marks = [_m(n) for n in node.value]
    return lst


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def check_size(text: str, filename: str, max_bytes: int = MAX_YAML_BYTES) -> None:
    """InputError (exit 2) when ``text`` is more than ``max_bytes`` bytes of UTF-8."""
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode("utf-8", "replace")) > max_bytes):
        raise InputError(f"{filename}: more than the {_size(max_bytes)} rmctl reads of one YAML file",
                         hint="split it into several files (and check it is the file you meant)")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n % (1 << 20) == 0 else f"{n} bytes"


def compose(text: str, filename: str, loader_class=None, budget: Budget | None = None):
    """Return a bounded loader over ``text`` (call ``dispose()`` when done); see :class:`_Bounded`."""
    loader = (loader_class or _Loader)(text)
    loader.bound(budget or Budget())
    return loader


def load_documents(text: str, filename: str, *, max_bytes: int = MAX_YAML_BYTES,
                   budget: Budget | None = None) -> list[Any]:
    """Return the documents of a YAML text, bounded (module docstring); InputError with file:line:col when
    malformed or past a budget."""
    check_size(text, filename, max_bytes)
    loader = None
    try:
        loader = compose(text, filename, _Loader, budget)  # the reader checks the characters here
        docs = []
        while loader.check_data():
            d = loader.get_data()
            if d is not None:
                docs.append(d)
    except yaml.MarkedYAMLError as e:
        raise _input_error(e, filename) from None
    except yaml.YAMLError as e:
        raise InputError(f"{filename}: malformed YAML: {e}") from None
    except RecursionError:  # the depth budget comes first; kept as a last guard
        raise InputError(f"{filename}: YAML nested too deeply",
                         hint="class and request files hold plain YAML data and CEL strings only") from None
    finally:
        if loader is not None:
            loader.dispose()
    return docs


def _input_error(e: yaml.MarkedYAMLError, filename: str) -> InputError:
    mark = e.problem_mark or e.context_mark
    pos = f"{mark.line + 1}:{mark.column + 1}" if mark else "?"
    what = (e.problem or e.context or "malformed YAML").strip()
    if isinstance(e, BudgetError):
        return InputError(f"{filename}:{pos}: {what}", hint="rmctl reads YAML within limits (docs/security.md)")
    if "python/" in str(e):
        what = f"{what} (only plain YAML data is accepted: no language-specific tags)"
    return InputError(f"{filename}:{pos}: {what}",
                      hint="class and request files hold plain YAML data and CEL strings only")


def safe_load(text: str, filename: str, *, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Return the one document of ``text`` as plain data (dicts, lists, scalars), bounded like
    :func:`load_documents`; the errors are yaml.YAMLError (a BudgetError past a budget)."""
    check_size(text, filename, max_bytes)
    loader = compose(text, filename, _PlainLoader)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def compose_single(text: str, filename: str, walk=None, *, max_bytes: int = MAX_YAML_BYTES):
    """Return (the node tree, the plain data) of the one document of ``text``, bounded; the errors are
    yaml.YAMLError.  ``walk(tree)``, when given, runs before the data is constructed (construction
    flattens merge keys into the tree)."""
    check_size(text, filename, max_bytes)
    loader = compose(text, filename, _PlainLoader)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if walk is not None:
            walk(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def read_bounded(path: str, max_bytes: int = MAX_YAML_BYTES) -> str:
    """Return the UTF-8 text of ``path`` (``-``: stdin), at most ``max_bytes`` bytes, read no further.

    Raises what ``open`` raises (FileNotFoundError, IsADirectoryError,
    PermissionError), UnicodeDecodeError, or InputError past the limit.
    Opened ``O_NONBLOCK`` so a FIFO nobody writes to is an empty file, not a
    hang; a pipe the operator gives (``<(...)``) is read as it comes.
    """
    import sys

    if path == "-":
        text = sys.stdin.read(max_bytes + 1)
        check_size(text, "stdin", max_bytes)
        return text
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", path)
        if stat.S_ISREG(st.st_mode) and st.st_size > max_bytes:
            raise InputError(f"{path}: {st.st_size} bytes, more than the {_size(max_bytes)} rmctl reads of one file",
                             hint="split it into several files (and check it is the file you meant)")
        if not stat.S_ISREG(st.st_mode):
            os.set_blocking(fd, True)  # a pipe: wait for its writer, as for stdin
        chunks, n = [], 0
        while n <= max_bytes:
            b = os.read(fd, min(1 << 20, max_bytes + 1 - n))
            if not b:
                break
            chunks.append(b)
            n += len(b)
    finally:
        os.close(fd)
    if n > max_bytes:
        raise InputError(f"{path}: more than the {_size(max_bytes)} rmctl reads of one file",
                         hint="split it into several files (and check it is the file you meant)")
    return b"".join(chunks).decode("utf-8")


def read_documents(path: str, *, max_bytes: int = MAX_YAML_BYTES, budget: Budget | None = None) -> list[Any]:
    """Return the YAML documents of a file (``-`` is stdin), bounded (module docstring; ``budget``: the
    value and document counts, default the loader's)."""
    return load_documents(read_file(path, max_bytes), path, max_bytes=max_bytes, budget=budget)


def read_file(path: str, max_bytes: int = MAX_YAML_BYTES) -> str:
    """Return the text of a YAML file (``-``: stdin) as :func:`read_bounded` reads it; InputError for
    what cannot be read (missing, a directory, not permitted, not UTF-8, too large)."""
    try:
        return read_bounded(path, max_bytes)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a YAML file") from None
    except PermissionError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None


def pos(obj, key: str | None = None) -> str:
    """Return ``line:col`` of a mapping (or of one of its keys)."""
    if isinstance(obj, PosDict):
        line, col = obj.at(key) if key is not None else obj.mark
        return f"{line}:{col}"
    if isinstance(obj, PosList):
        return f"{obj.mark[0]}:{obj.mark[1]}"
    return "?"


def item_pos(lst, i: int) -> str:
    if isinstance(lst, PosList) and i < len(lst.item_marks):
        line, col = lst.item_marks[i]
        return f"{line}:{col}"
    return pos(lst)


def iter_items(lst) -> Iterator[tuple[int, Any]]:
    return enumerate(lst)


class Reader:
    """Validation helper over one document: every error names file:line:col and the field path."""

    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, where: str, path: str, message: str, hint: str | None = None) -> NoReturn:
        raise InputError(f"{self.filename}:{where}: {path}: {message}", hint=hint)

    def mapping(self, obj, path: str, parent=None, key=None, *, allowed: set[str] | None = None,
                required: tuple[str, ...] = ()) -> dict:
        """Return ``obj`` checked to be a mapping with only ``allowed`` keys and the ``required`` ones."""
        where = pos(parent, key) if parent is not None else pos(obj)
        if not isinstance(obj, dict):
            self.fail(where, path, f"expected a mapping, got {_tname(obj)}")
        if allowed is not None:
            for k in obj:
                if k not in allowed:
                    import difflib

                    close = difflib.get_close_matches(str(k), sorted(allowed), n=1)
                    self.fail(pos(obj, k), f"{path}.{k}", "unknown field",
                              hint=f"did you mean {close[0]!r}?" if close else
                              "known fields: " + ", ".join(sorted(allowed)))
        for k in required:
            if k not in obj:
                self.fail(where, path, f"missing required field {k!r}")
        return obj

    def seq(self, obj, path: str, parent, key) -> list:
        if not isinstance(obj, list):
            self.fail(pos(parent, key), path, f"expected a list, got {_tname(obj)}")
        return obj

    def string(self, obj, path: str, parent, key) -> str:
        if not isinstance(obj, str) or not obj:
            self.fail(pos(parent, key), path, f"expected a non-empty string, got {_tname(obj)}")
        return obj

    def integer(self, obj, path: str, parent, key, *, minimum: int = 0) -> int:
        if isinstance(obj, bool) or not isinstance(obj, int):
            self.fail(pos(parent, key), path, f"expected an integer, got {_tname(obj)}")
        if obj < minimum:
            self.fail(pos(parent, key), path, f"must be at least {minimum}, got {obj}")
        return obj

    def boolean(self, obj, path: str, parent, key) -> bool:
        if not isinstance(obj, bool):
            self.fail(pos(parent, key), path, f"expected true or false, got {_tname(obj)}")
        return obj


def _tname(obj) -> str:
    if obj is None:
        return "nothing"
    return {dict: "a mapping", PosDict: "a mapping", list: "a list", PosList: "a list", str: "a string",
            bool: "a boolean", int: "an integer", float: "a number"}.get(type(obj), type(obj).__name__)
