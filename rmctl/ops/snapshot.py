"""``rmctl snapshot capture``: the manifest's files of a root, plus its facts, in one tarball."""

from __future__ import annotations

from rmctl.discovery.capture import capture as capture_root
from rmctl.discovery.root import Root
from rmctl.ops.outcome import Outcome


def capture(root: Root, out: str, *, force: bool = False, keep_ids: bool = False,
            kubelet_root: str | None = None) -> Outcome:
    """Write the snapshot of ``root`` to ``out``; return the Snapshot document (path, top, files, links, facts).

    Only ``out`` is written.  ConflictError (exit 5) when it exists and not
    ``force``; UsageError (2) for a name without a tar suffix.  The
    kubelet's checkpoints under ``kubelet_root`` go in scrubbed of pod and
    device identities unless ``keep_ids``.
    """
    return Outcome(kind="Snapshot", data=capture_root(root, out, force=force, keep_ids=keep_ids,
                                                      kubelet_root=kubelet_root))
