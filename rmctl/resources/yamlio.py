"""Safe YAML with positions, so every validation error can name file:line:col.

Only ``yaml.SafeLoader`` is used: a class file can hold data and CEL text,
never a Python object (``!!python/object`` tags are refused by the safe
constructor and reported as bad input).
"""

from __future__ import annotations

from typing import Any, Iterator, NoReturn

import yaml

from rmctl.errors import UsageError


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


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences keep their source positions."""


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


def load_documents(text: str, filename: str) -> list[Any]:
    """Return the documents of a YAML text; raise InputError with file:line:col when malformed."""
    try:
        docs = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = f"{mark.line + 1}:{mark.column + 1}" if mark else "?"
        what = (e.problem or e.context or "malformed YAML").strip()
        if "python/" in str(e):
            what = f"{what} (only plain YAML data is accepted: no language-specific tags)"
        raise InputError(f"{filename}:{pos}: {what}",
                         hint="class and request files hold plain YAML data and CEL strings only") from None
    except yaml.YAMLError as e:
        raise InputError(f"{filename}: malformed YAML: {e}") from None
    except RecursionError:
        # PyYAML composes and constructs recursively: [[[[...]]]] thousands deep, or an alias to itself
        raise InputError(f"{filename}: YAML nested too deeply",
                         hint="class and request files hold plain YAML data and CEL strings only") from None
    return docs


def read_documents(path: str) -> list[Any]:
    """Return the YAML documents of a file (``-`` is stdin)."""
    import sys

    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a YAML file") from None
    except PermissionError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    return load_documents(text, path)


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
