"""The input files of ``rmctl request evaluate|explain``: read within bounds, before YAML sees them.

rmctl's ResourceRequest files and Kubernetes manifests alike are untrusted
input (rmctl runs as root; a file handed over by someone else, a
``kubectl get -o yaml`` dump, a Helm rendering): at most
:data:`MAX_FILE_BYTES` per file, :data:`MAX_DOCUMENTS` documents and
:data:`MAX_NODES` YAML values (an alias counted as every value it stands
for, without expanding it).  Files are read and parsed by
:mod:`rmctl.resources.yamlio`, as every YAML file rmctl reads: opened
``O_NONBLOCK`` (a FIFO nobody writes to is an empty file, not a hang; a
``<(kubectl get ... -o yaml)`` is read as it comes), read no further than
one byte past the limit.

Outside :mod:`rmctl.resources.kube` so that reading an rmctl request does
not import the Kubernetes manifest readers (issue 14: request evaluate,
one class on one node, under 120 ms); :mod:`rmctl.resources.kube.common`
re-exports these names.
"""

from __future__ import annotations

from rmctl.resources.yamlio import Budget, read_documents, read_file

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
    """Return the text of a manifest file (``-``: stdin), at most MAX_FILE_BYTES (yamlio's reading)."""
    return read_file(path, MAX_FILE_BYTES)


def read_manifests(path: str) -> list[Any]:
    """Return the YAML documents of a manifest file, bounded (see the module docstring)."""
    # the budgets (documents, values with aliases counted, depth) are checked while composing
    return read_documents(path, max_bytes=MAX_FILE_BYTES,
                          budget=Budget(max_nodes=MAX_NODES, max_documents=MAX_DOCUMENTS))


def is_rmctl_document(doc) -> bool:
    """Return True for rmctl's own kinds (ResourceRequest, ResourceClass: apiVersion rmctl.io/...)."""
    return isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(RMCTL_GROUP)
