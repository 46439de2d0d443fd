"""The one rule for names that become a path, a cgroup or a key (issue 15 item 6).

Reservation names (``cpu reserve NAME``, ``request evaluate --reserve
NAME``, a profile's ``spec.reservations[].name`` and
``spec.requests[].name``) become the cgroup ``rmctl-NAME`` and the keys
of the state file; profile and class names (``metadata.name``) key
journals and the class table.  They all follow :data:`NAME_RE`: 1 to 63
letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit,
matched from ``\\A`` to ``\\Z`` (``$`` would also match before a trailing
newline, and ``rmctl-x\\n`` would become a directory name).  A name
starting with a letter or digit is never ``.`` or ``..``, and 63
characters is the longest DNS label, so a name is also a Kubernetes
label value.

Paths given in input (a profile's mount paths) follow :func:`check_path`:
absolute, no ``..``, no control characters (``/proc/mounts`` escapes
them, so a mount made at such a path would never be found again).
"""

from __future__ import annotations

import re

from rmctl.errors import UsageError

#: the longest name (a DNS label)
MAX_NAME = 63
NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")
NAME_HINT = "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
#: the longest path rmctl accepts in input (PATH_MAX)
MAX_PATH = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_name(name: object) -> bool:
    """Return True when ``name`` is a string following the name rule."""
    return isinstance(name, str) and NAME_RE.match(name) is not None


def check_name(name: object, what: str = "reservation name") -> str:
    """Return ``name`` if it follows the name rule; UsageError (exit 2) naming ``what`` otherwise."""
    if not is_name(name):
        raise UsageError(f"bad {what} {name!r}", hint=NAME_HINT)
    assert isinstance(name, str)
    return name


def path_problem(path: object) -> str | None:
    """Return why ``path`` is not an acceptable absolute path, or None when it is."""
    if not isinstance(path, str) or not path.startswith("/"):
        return "must be an absolute path"
    if len(path) > MAX_PATH:
        return f"is longer than {MAX_PATH} characters"
    if _CONTROL.search(path):
        return "holds a control character (a newline, a tab...)"
    if ".." in path.split("/"):
        return "must not hold '..'"
    return None
