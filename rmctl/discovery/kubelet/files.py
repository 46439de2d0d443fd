"""Reading one kubelet checkpoint file under a Root: bounded, no surprises.

The files are the kubelet's on the live node, but anyone's in a snapshot or
a directory root: the final component must be a regular file (a FIFO would
block, a device would stream), links must stay inside the root, and the
size is capped before parsing.  Nothing here ever writes.
"""

from __future__ import annotations

import errno

from rmctl.discovery.root import NotRegularFile, Root
from rmctl.errors import AccessDenied, KubeletCheckpointError, KubeletCheckpointVersionError

TYPE_CHECKING = False  # typing is not imported at run time (as gotypes)
if TYPE_CHECKING:
    from rmctl.discovery.kubelet import gotypes

#: the largest checkpoint rmctl reads.  A node with 250 pods holds a few
#: hundred KiB (the device checkpoint, with the plugins' Allocate answers,
#: is the largest); 32 MiB is far past any real one and small enough to parse.
MAX_CHECKPOINT_BYTES = 32 << 20

#: the kubelet's remedy for a checkpoint it cannot read (its own error text)
DELETE_HINT = ("the kubelet will refuse to start on it too: drain the node, stop the kubelet, "
               "delete {path} and start the kubelet (rmctl never changes the kubelet's files)")


def corrupt(rel: str, why: str) -> KubeletCheckpointError:
    """Return the error for a checkpoint that is not what its layout says."""
    return KubeletCheckpointError(f"kubelet checkpoint {rel} is corrupt: {why}",
                                  hint=DELETE_HINT.format(path="/" + rel.lstrip("/")))


def read_text(root: Root, rel: str) -> str | None:
    """Return a checkpoint's text, or None when it does not exist.

    Refused (corrupt): a link whose target is absolute or climbs above the
    root, anything but a regular file, more than MAX_CHECKPOINT_BYTES.
    Unreadable: AccessDenied.  Invalid UTF-8 becomes U+FFFD, as Go's JSON
    decoder does inside strings.  Read through the Root: beneath a
    directory root (links never followed out), from a tarball's index.
    """
    target = root.readlink(rel)
    if target is not None and _leaves(rel, target):
        raise corrupt(rel, "it is a link that leaves the root")
    try:
        data = root.read_regular(rel, MAX_CHECKPOINT_BYTES + 1)
    except FileNotFoundError:
        return None  # missing, or a dangling link: no checkpoint
    except NotRegularFile:
        raise corrupt(rel, "it is not a regular file") from None
    except PermissionError:
        raise AccessDenied(f"cannot read the kubelet checkpoint {rel}",
                           hint="run as root (the kubelet's files are root's, mode 0600 or 0644)") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise corrupt(rel, "it is a symbolic link loop") from None
        raise corrupt(rel, e.strerror or str(e)) from None
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise corrupt(rel, f"more than the {MAX_CHECKPOINT_BYTES >> 20} MiB rmctl reads")
    return data.decode("utf-8", "replace")


def _leaves(rel: str, target: str) -> bool:
    """Return True when link ``rel -> target`` is absolute or climbs above the root (lexically)."""
    if target.startswith("/"):
        return True
    depth = rel.count("/")
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part and part != ".":
            depth += 1
    return False


def parse_json(rel: str, text: str) -> gotypes.Json:
    """Return the checkpoint's JSON (objects as pair lists); corrupt when it is not JSON."""
    # imported here, once a checkpoint's text is in hand: a missing checkpoint never loads Go's decoder
    from rmctl.discovery.kubelet import gotypes

    try:
        value = gotypes.loads(text)
    except RecursionError:
        raise corrupt(rel, "JSON nested too deeply") from None
    except ValueError as e:
        raise corrupt(rel, f"not valid JSON ({_short(str(e))})") from None
    if not gotypes.is_object(value):
        raise corrupt(rel, "not a JSON object")
    return value


def parse_known(rel: str, text: str, known_keys) -> gotypes.Json:
    """Return the checkpoint's JSON (as ``parse_json``), refusing top-level keys not in ``known_keys``.

    Go's encoding/json matches keys case-insensitively, so the kubelet would read
    ``"CHECKSUM"`` too; a key no layout has means a newer kubelet wrote the file
    (exit 5 kubelet_checkpoint_version, never a guess at its meaning)."""
    value = parse_json(rel, text)
    known = {k.lower() for k in known_keys}
    unknown = [k for k, _ in value if k.lower() not in known]
    if unknown:
        raise KubeletCheckpointVersionError(
            f"kubelet checkpoint {rel} has a layout rmctl does not know (keys {', '.join(map(repr, unknown[:5]))})",
            hint="a newer kubelet wrote it: use an rmctl that reads it, or inspect it by hand")
    return value


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decode(rel: str, t: gotypes.GoType, value: gotypes.Json, init: dict | None = None):
    """Return ``value`` decoded into Go type ``t`` (starting from ``init``); corrupt on a type error."""
    import copy

    from rmctl.discovery.kubelet import gotypes

    start = t.zero()
    if init:
        start.update(copy.deepcopy(init))  # maps are filled in place: never share them
    try:
        return t.decode(value, start, "")
    except gotypes.GoDecodeError as e:
        raise corrupt(rel, _short(str(e))) from None
    except RecursionError:
        raise corrupt(rel, "JSON nested too deeply") from None
