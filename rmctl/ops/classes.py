"""``rmctl class list|show|validate``: resource classes (built-ins plus a class directory).

``class_dir`` None means the default directory (/etc/rmctl/classes), where
a missing directory is "no local classes"; a directory named by the caller
must exist.  ``view`` of each Outcome is what the table renderers take.
"""

from __future__ import annotations

from rmctl.ops.outcome import Outcome, warning
from rmctl.resources.attribute_names import domain_warnings
from rmctl.resources.classes import (
    DEFAULT_CLASS_DIR,
    ResourceClass,
    check_files,
    class_files,
    load_class_dir,
    load_classes,
    unknown_class,
)
from rmctl.resources.yamlio import InputError
from rmctl.units import counted


def load(class_dir: str | None) -> dict[str, ResourceClass]:
    """Return the classes by name (built-ins + directory); a named directory must exist."""
    return load_classes(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None)


def list_classes(class_dir: str | None) -> Outcome:
    """Return the ResourceClassList document, classes sorted by name; ``view``: the classes.

    A bad file does not hide the good ones (issue 11 finding 9): its
    classes are left out, the file is listed under ``invalid`` (file and
    first error, with its position) and named in a warning on stderr; the
    exit status stays 0 (``class validate`` is the check that fails).
    """
    found, bad = load_class_dir(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None)
    classes = sorted(found.values(), key=lambda c: c.name)
    invalid = [{"file": path, "message": e.message, "code": e.code, **_position(e)} for path, e in bad]
    return Outcome(kind="ResourceClassList", data={"classes": [c.to_data() for c in classes], "invalid": invalid},
                   view=tuple(classes), messages=tuple(_skipped(path, e) for path, e in bad))


def _skipped(path: str, e):
    from rmctl.ops.outcome import warning

    first = e.message.split("\n", 1)[0]
    return warning(f"skipped {path} (its classes are not listed): {first}",
                   hint=f"rmctl class validate {path} lists every error")


def show_class(name: str, class_dir: str | None) -> Outcome:
    """Return the ResourceClass document of class ``name``; InputError (exit 2) naming close matches.

    Bad files of the class directory do not stop it (as for ``class
    list``): they are warned about, and named in the error when the class
    is not found (it may be defined there).
    """
    classes, bad = load_class_dir(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None)
    if name not in classes:
        err = unknown_class(name, classes, "class")
        if bad:
            err = type(err)(err.message, hint=(err.hint or "") + "; files that did not load (rmctl class validate): "
                            + ", ".join(p for p, _ in bad))
        raise err
    c = classes[name]
    return Outcome(kind="ResourceClass", data={"class": c.to_data()}, view=c,
                   messages=tuple(_skipped(path, e) for path, e in bad))


def validate_classes(files: list[str], class_dir: str | None) -> Outcome:
    """Check class files (YAML shape, fields, CEL: syntax, types, cost); return the ResourceClassValidation document.

    ``files`` empty: every file of the class directory.  Every error of
    every file is reported (``errors``, and one stderr line each naming
    file:line:col), exit 2 when there is any.  A file named by the caller
    that holds no class is an error too, not "all valid".
    """
    paths = list(files) or class_files(class_dir or DEFAULT_CLASS_DIR)
    if not files and class_dir:
        load_class_dir(class_dir, strict_dir=True)  # a named directory must exist (its bad files are reported below)
    found, errors = check_files(paths)
    checked = [{"file": p, "name": c.name, "selectors": len(c.selectors)} for p, c, _ in found]
    # a domain one typo from rmctl's (rmctl.oi): legal, another driver may publish it, so a warning
    warnings = [w for _, c, _ in found for s in c.selectors for w in domain_warnings(s.compiled, s.where)]
    for p in files:
        if not any(f == p for f, _, _ in found) and not any(str(e).startswith(f"{p}:") for e in errors):
            errors.append(InputError(f"{p}: no ResourceClass document",
                                     hint="a class file holds apiVersion, kind: ResourceClass, metadata and spec"))
    if not errors:
        return Outcome(kind="ResourceClassValidation", data={"valid": True, "classes": checked, "warnings": warnings},
                       messages=tuple(warning(w) for w in warnings))
    raise all_errors(errors)


def all_errors(errors: list):
    """Return one error reporting every one of ``errors`` (the first as the message, the others in the hint).

    The Error document's ``details.errors`` lists them all with file, line,
    column and, for CEL, the position in the expression.
    """
    first = errors[0]
    if len(errors) == 1:
        return first
    rest = "\n".join(e.message + _first_hint(e) for e in errors[1:])
    hint = (f"{first.hint}\n" if first.hint else "") + f"{counted(len(errors) - 1, 'more error', 'more errors')}:\n{rest}"
    details = {"errors": [{"message": e.message, "code": e.code, "hint": e.hint, **_position(e)} for e in errors]}
    out = type(first)(f"{first.message} (and {counted(len(errors) - 1, 'more error', 'more errors')})", hint=hint, details=details)
    return out


def _first_hint(e) -> str:
    line = (e.hint or "").split("\n", 1)[0]
    if not line or line == "the expression:":
        return ""
    return f" ({line[:117]}...)" if len(line) > 120 else f" ({line})"


def _position(e) -> dict:
    """Return file, line and column of an error ("file:line:col: ..."), and the expression's line:col for CEL."""
    out: dict = {}
    head = e.message.split(": ", 1)[0]
    parts = head.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        out = {"file": parts[0], "line": int(parts[1]), "column": int(parts[2])}
    d = getattr(e, "details", None) or {}
    if "expression" in d:
        out["expression"] = {"text": d["expression"], "line": d.get("line"), "column": d.get("column")}
    return out
