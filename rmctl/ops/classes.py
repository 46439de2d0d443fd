"""``rmctl class list|show|validate``: resource classes (built-ins plus a class directory).

``class_dir`` None means the default directory (/etc/rmctl/classes), where
a missing directory is "no local classes"; a directory named by the caller
must exist.  ``view`` of each Outcome is what the table renderers take.
"""

from __future__ import annotations

from rmctl.ops.outcome import Outcome
from rmctl.resources.classes import (
    DEFAULT_CLASS_DIR,
    ResourceClass,
    class_files,
    load_classes,
    load_file,
    unknown_class,
)
from rmctl.resources.yamlio import InputError


def load(class_dir: str | None) -> dict[str, ResourceClass]:
    """Return the classes by name (built-ins + directory); a named directory must exist."""
    return load_classes(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None)


def list_classes(class_dir: str | None) -> Outcome:
    """Return the ResourceClassList document, classes sorted by name; ``view``: the classes."""
    classes = sorted(load(class_dir).values(), key=lambda c: c.name)
    return Outcome(kind="ResourceClassList", data={"classes": [c.to_data() for c in classes]},
                   view=tuple(classes))


def show_class(name: str, class_dir: str | None) -> Outcome:
    """Return the ResourceClass document of class ``name``; InputError (exit 2) naming close matches."""
    classes = load(class_dir)
    if name not in classes:
        raise unknown_class(name, classes, "class")
    c = classes[name]
    return Outcome(kind="ResourceClass", data={"class": c.to_data()}, view=c)


def validate_classes(files: list[str], class_dir: str | None) -> Outcome:
    """Check class files (YAML shape, fields, CEL syntax); return the ResourceClassValidation document.

    ``files`` empty: every file of the class directory.  The first error is
    raised (InputError, exit 2, file:line:col).  A file named by the caller
    that holds no class is an error too, not "all valid".
    """
    paths = list(files) or class_files(class_dir or DEFAULT_CLASS_DIR)
    if not files and class_dir:
        load(class_dir)  # a named directory must exist
    checked = []
    for p in paths:
        found = load_file(p)
        if not found and files:
            raise InputError(f"{p}: no ResourceClass document",
                             hint="a class file holds apiVersion, kind: ResourceClass, metadata and spec")
        for c in found:
            checked.append({"file": p, "name": c.name, "selectors": len(c.selectors)})
    return Outcome(kind="ResourceClassValidation", data={"valid": True, "classes": checked})
