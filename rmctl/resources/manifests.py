"""The input files of ``rmctl request evaluate|explain``: read within bounds, before YAML sees them.

rmctl's ResourceRequest files and Kubernetes manifests alike are untrusted
input (rmctl runs as root; a file handed over by someone else, a
``kubectl get -o yaml`` dump, a Helm rendering): at most
:data:`MAX_FILE_BYTES` per file, :data:`MAX_DOCUMENTS` documents and
:data:`MAX_NODES` YAML values (an alias counted as every value it stands
for, without expanding it), only regular files (a FIFO or a device is
refused, never waited on).  YAML is parsed by :mod:`rmctl.resources.yamlio`.

Outside :mod:`rmctl.resources.kube` so that reading an rmctl request does
not import the Kubernetes manifest readers (issue 14: request evaluate,
one class on one node, under 120 ms); :mod:`rmctl.resources.kube.common`
re-exports these names.
"""

from __future__ import annotations

import os
import stat

from rmctl.resources.yamlio import Budget, InputError, load_documents

TYPE_CHECKING = False  # no typing at run time: its import is ~16M instructions of request evaluate's start-up (issue 14)
if TYPE_CHECKING:
    from typing import Any

#: a manifest larger than this is not one workload's objects
MAX_FILE_BYTES = 4 << 20
MAX_FILES = 64
MAX_DOCUMENTS = 1000
#: YAML values per file, an alias counted as every value it stands for (kubectl's go-yaml refuses "excessive
#: aliasing" too)
MAX_NODES = 200_000

#: apiVersion prefix of rmctl's own kinds (ResourceRequest, ResourceClass)
RMCTL_GROUP = "rmctl.io/"


def read_text(path: str) -> str:
    """Return the text of a manifest file (``-``: stdin), at most MAX_FILE_BYTES, regular files only."""
    import sys

    if path == "-":
        text = sys.stdin.read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES:
            raise InputError(f"stdin: more than {MAX_FILE_BYTES >> 20} MiB of manifests",
                             hint="split the input into several files")
        return text
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a YAML file") from None
    except PermissionError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror}") from None
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise InputError(f"{path}: is a directory, expected a YAML file")
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(st.st_mode):
            # a FIFO would block and a device never end: only plain files are manifests
            raise InputError(f"{path}: not a regular file", hint="give a YAML file, or '-' for stdin")
        if st.st_size > MAX_FILE_BYTES:
            raise InputError(f"{path}: {st.st_size} bytes, more than the {MAX_FILE_BYTES >> 20} MiB rmctl reads",
                             hint="split the manifests into several files")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: more than the {MAX_FILE_BYTES >> 20} MiB rmctl reads")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def read_manifests(path: str) -> list[Any]:
    """Return the YAML documents of a manifest file, bounded (see the module docstring)."""
    # the budgets (documents, values with aliases counted, depth) are checked while composing
    docs = load_documents(read_text(path), path, max_bytes=MAX_FILE_BYTES,
                          budget=Budget(max_nodes=MAX_NODES, max_documents=MAX_DOCUMENTS))
    return docs


def is_rmctl_document(doc) -> bool:
    """Return True for rmctl's own kinds (ResourceRequest, ResourceClass: apiVersion rmctl.io/...)."""
    return isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(RMCTL_GROUP)
