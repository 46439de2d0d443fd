"""ResourceClass: a named set of CEL selectors over devices (DRA's DeviceClass).

Shape (issue 6; extend, never change)::

    apiVersion: rmctl.io/v1alpha1
    kind: ResourceClass
    metadata: {name: big-gpu}
    spec:
      selectors:
      - cel: 'device.attributes["rmctl.io"].kind == "gpu"'
      config: {...}              # optional, opaque, carried along (DRA: opaque driver config)

Classes come from the built-ins below and from every ``*.yaml``/``*.yml``
file in the class directory (default ``/etc/rmctl/classes``); a file may
hold several documents.  A file class with a built-in's name replaces it.
Selectors are compiled when a class loads, so a syntax error stops the
command before anything is evaluated or reserved.
"""

from __future__ import annotations

import os

from rmctl.model.value import field, value
from rmctl.names import NAME_HINT, is_name
from rmctl.resources.yamlio import InputError, Reader, item_pos, pos, read_documents

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

API_VERSION = "rmctl.io/v1alpha1"
DEFAULT_CLASS_DIR = "/etc/rmctl/classes"
BUILTIN = "<built-in>"

# Built-in classes select on rmctl's own ``rmctl.io/kind`` attribute, which
# discovery derives from the PCI class code (rmctl/discovery/pci.py).  They
# do not name a driver: ``device.driver`` is the DRA driver a device is
# published under (``rmctl.io``, or ``export resourceslice --driver``), the
# same offline and in the cluster.  Each selector first checks that the
# device has rmctl's attribute ("kind" in ...): another driver's devices
# (NVIDIA's gpu.nvidia.com view of a GPU) then simply do not match, where
# an unguarded lookup is a CEL runtime error, which in a cluster fails the
# whole allocation (k8s.io/dynamic-resource-allocation structured allocator).
_KIND = '"kind" in device.attributes["rmctl.io"] && device.attributes["rmctl.io"].kind == '
BUILTIN_CLASSES: dict[str, tuple[str, list[str]]] = {
    "gpu": ("GPUs and other display/3D controllers (PCI class 0x03)", [_KIND + '"gpu"']),
    "nic": ("Ethernet network functions (PCI class 0x0200)", [_KIND + '"nic"']),
    "rdma": ("RDMA-capable network functions: InfiniBand (0x0207) or RoCE NICs",
             ['(' + _KIND + '"rdma") || '
              '("rdma" in device.attributes["rmctl.io"] && device.attributes["rmctl.io"].rdma == true)']),
    "nvme": ("NVMe controllers (PCI class 0x010802)", [_KIND + '"nvme"']),
    "accel": ("Processing accelerators (PCI class 0x12) and co-processors (0x0b40)", [_KIND + '"accel"']),
}


class ClassSelector:
    """One selector of a class, with where it was written.

    ``compiled`` (an rmctl.resources.cel.Selector) is given for the
    selectors of files (compiled as they load, so a syntax error stops the
    command naming the file); a built-in's compiles on first use: most
    commands use one class or none, and ``class list`` or the completion of
    class names compile nothing (issue 14).
    """

    __slots__ = ("cel", "where", "_compiled")

    def __init__(self, cel: str, where: str, compiled: Any = None):
        self.cel, self.where, self._compiled = cel, where, compiled

    @property
    def compiled(self) -> Any:
        if self._compiled is None:
            from rmctl.resources.cel import compile_selector

            self._compiled = compile_selector(self.cel, self.where)
        return self._compiled

    def __eq__(self, other) -> bool:
        if not isinstance(other, ClassSelector):
            return NotImplemented
        return (self.cel, self.where) == (other.cel, other.where)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass it was (eq without frozen)

    def __repr__(self) -> str:
        return f"ClassSelector(cel={self.cel!r}, where={self.where!r})"


@value
class ResourceClass:
    """A loaded class: name, compiled selectors, opaque config, origin."""

    name: str
    selectors: list[ClassSelector]
    source: str  #: file path or "<built-in>"
    description: str = ""
    config: Any = None
    labels: dict = field(default_factory=dict)

    def to_data(self) -> dict:
        return {"name": self.name, "source": self.source, "description": self.description,
                "selectors": [{"cel": s.cel, "where": s.where} for s in self.selectors],
                "config": self.config}


def parse_selectors(rd: Reader, spec: dict, key: str, path: str,
                    errors: list | None = None) -> list[ClassSelector]:
    """Return the compiled selectors of ``spec[key]`` (a list of ``{cel: ...}``).

    ``errors``: a list to collect every selector's CelError in (``class
    validate`` reports them all); without it the first one is raised.
    """
    from rmctl.resources.attribute_names import presence_errors
    from rmctl.resources.cel import CelError, compile_selector

    raw = rd.seq(spec[key], path, spec, key)
    out = []
    for i, item in enumerate(raw):
        ipath = f"{path}[{i}]"
        if not isinstance(item, dict):
            rd.fail(item_pos(raw, i), ipath, "expected a mapping with a 'cel' field")
        rd.mapping(item, ipath, allowed={"cel"}, required=("cel",))
        text = rd.string(item["cel"], f"{ipath}.cel", item, "cel")
        where = f"{rd.filename}:{pos(item, 'cel')}"
        try:
            compiled = compile_selector(text, where)
            # "produtName" in device.attributes["rmctl.io"]: legal CEL the checker lets through, false on
            # every device (rmctl.resources.attribute_names)
            wrong = presence_errors(compiled, where)
            if wrong:
                if errors is None:
                    raise wrong[0]
                errors.extend(wrong)
                continue
            out.append(ClassSelector(text, where, compiled))
        except CelError as e:
            if errors is None:
                raise
            errors.append(e)
    return out


def _check_header(rd: Reader, doc, kind: str, index: int) -> tuple[dict, str]:
    if not isinstance(doc, dict):
        rd.fail("1:1", f"document {index + 1}", "expected a mapping with apiVersion, kind, metadata, spec")
    rd.mapping(doc, f"document {index + 1}", allowed={"apiVersion", "kind", "metadata", "spec"},
               required=("apiVersion", "kind", "metadata", "spec"))
    if doc["apiVersion"] != API_VERSION:
        rd.fail(pos(doc, "apiVersion"), "apiVersion", f"unsupported {doc['apiVersion']!r}; expected {API_VERSION}")
    if doc["kind"] != kind:
        rd.fail(pos(doc, "kind"), "kind", f"expected {kind}, got {doc['kind']!r}")
    meta = rd.mapping(doc["metadata"], "metadata", doc, "metadata",
                      allowed={"name", "labels", "annotations"}, required=("name",))
    name = rd.string(meta["name"], "metadata.name", meta, "name")
    if not is_name(name):  # the one name rule (rmctl.names): class and request names are keys
        rd.fail(pos(meta, "name"), "metadata.name", f"{name!r} is not a valid name", hint=NAME_HINT)
    return doc, name


def class_from_document(doc, filename: str, index: int = 0, errors: list | None = None) -> ResourceClass:
    """Return the class one document describes; raise InputError/CelError with file:line:col.

    ``errors``: collect the selectors' CelErrors there instead of raising the first.
    """
    rd = Reader(filename)
    doc, name = _check_header(rd, doc, "ResourceClass", index)
    spec = rd.mapping(doc["spec"], "spec", doc, "spec", allowed={"selectors", "config", "description"})
    selectors = parse_selectors(rd, spec, "selectors", "spec.selectors", errors) if "selectors" in spec else []
    desc = spec.get("description") or ""
    return ResourceClass(name, selectors, filename, str(desc), spec.get("config"),
                         dict(doc["metadata"].get("labels") or {}))


def builtin_classes() -> dict[str, ResourceClass]:
    """Return the built-in classes (gpu, nic, rdma, nvme, accel); each selector compiles on first use.

    tests/requests/test_loading.py compiles every one, so a broken
    built-in fails there, not in an operator's command.
    """
    out = {}
    for name, (desc, sels) in BUILTIN_CLASSES.items():
        where = f"{BUILTIN}:{name}"
        out[name] = ResourceClass(name, [ClassSelector(s, where) for s in sels], BUILTIN, desc)
    return out


def class_names(class_dir: str | None = DEFAULT_CLASS_DIR) -> list[str]:
    """Return the names of the built-in classes and of every class document in ``class_dir``.

    For shell completion: each file is parsed as YAML and its documents'
    ``metadata.name`` taken, nothing checked or compiled (a file that does
    not parse adds no name; ``class validate`` says why).
    """
    from rmctl.errors import RmctlError

    names = list(BUILTIN_CLASSES)
    for path in class_files(class_dir) if class_dir else []:
        try:
            docs = read_documents(path)
        except RmctlError:
            continue
        for d in docs:
            meta = d.get("metadata") if isinstance(d, dict) and d.get("kind") == "ResourceClass" else None
            name = meta.get("name") if isinstance(meta, dict) else None
            if isinstance(name, str) and name:
                names.append(name)
    return names


def load_file(path: str) -> list[ResourceClass]:
    """Return the classes in one file (every document must be a ResourceClass)."""
    return [class_from_document(d, path, i) for i, d in enumerate(read_documents(path))]


def check_files(paths: list[str]) -> tuple[list[tuple[str, ResourceClass, int]], list]:
    """Load every class of every file and return (path, class, its error count) and EVERY error found.

    Unlike loading, nothing stops at the first problem: each file is read,
    each document checked, each selector compiled; a file whose YAML does
    not parse, or a document of the wrong shape, gives one error and the
    checking goes on with the next.  Each error names file:line:col.
    """
    from rmctl.errors import RmctlError

    classes: list[tuple[str, ResourceClass, int]] = []
    errors: list = []
    for p in paths:
        try:
            docs = read_documents(p)
        except RmctlError as e:
            errors.append(e)
            continue
        for i, d in enumerate(docs):
            before = len(errors)
            try:
                c = class_from_document(d, p, i, errors)
                classes.append((p, c, len(errors) - before))
            except RmctlError as e:
                errors.append(e)
    return classes, errors


def class_files(class_dir: str) -> list[str]:
    """Return the YAML files of a class directory, sorted; [] when it does not exist."""
    if not os.path.isdir(class_dir):
        return []
    return [os.path.join(class_dir, f) for f in sorted(os.listdir(class_dir))
            if f.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(class_dir, f))]


def load_classes(class_dir: str | None = DEFAULT_CLASS_DIR, *, strict_dir: bool = False) -> dict[str, ResourceClass]:
    """Return built-ins plus every class in ``class_dir``, by name.

    ``strict_dir``: a missing directory is an error (it was named on the
    command line) rather than "no local classes" (the default path).
    A bad file, or two files defining the same name, is an error (the
    first one): what evaluates a request must not run on part of the
    classes.  ``class list`` shows what loads and names the bad files
    (:func:`load_class_dir`).
    """
    classes, bad = load_class_dir(class_dir, strict_dir=strict_dir)
    if bad:
        raise bad[0][1]
    return classes


def load_class_dir(class_dir: str | None = DEFAULT_CLASS_DIR, *,
                   strict_dir: bool = False) -> tuple[dict[str, ResourceClass], list[tuple[str, Any]]]:
    """Return (built-ins plus the classes of every good file of ``class_dir``, [(bad file, its first error)]).

    A file is good when every document in it loads: a file with one bad
    document or selector gives none of its classes (a class missing a
    selector would match more devices than written).  A class whose name
    an earlier file (in sorted order) already defined makes its file bad.
    """
    from rmctl.errors import RmctlError

    classes = builtin_classes()
    bad: list[tuple[str, Any]] = []
    if class_dir:
        if strict_dir and not os.path.isdir(class_dir):
            raise InputError(f"class directory {class_dir!r} does not exist",
                             hint="create it, or drop --class-dir to use the built-in classes")
        seen: dict[str, str] = {}
        for path in class_files(class_dir):
            try:
                loaded = load_file(path)
                here: dict[str, str] = {}
                for c in loaded:
                    if c.name in seen or c.name in here:
                        raise InputError(f"{path}: class {c.name!r} is also defined in {seen.get(c.name, path)}",
                                         hint="class names must be unique across the class directory")
                    here[c.name] = path
            except RmctlError as e:
                bad.append((path, e))
                continue
            for c in loaded:
                seen[c.name] = path
                classes[c.name] = c
    return classes, bad


def unknown_class(name: str, classes: dict[str, ResourceClass], where: str) -> InputError:
    """Return the error for a request naming a class that does not exist (with a close match)."""
    import difflib

    close = difflib.get_close_matches(name, sorted(classes), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    hint += "known classes: " + ", ".join(sorted(classes)) + " (see 'rmctl class list')"
    return InputError(f"{where}: unknown class {name!r}", hint=hint)
