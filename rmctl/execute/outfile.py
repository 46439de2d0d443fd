"""Write an export to a file atomically (``--output-file``): all of it or nothing, never through a link.

A kubelet drop-in, a ResourceSlice for ``kubectl apply`` or NFD's feature
file is read by another program at any moment; a half-written file, or an
error text in it, breaks that program.  So:

1. the file is written under a temporary name in the same directory
   (``mkstemp``: O_EXCL, mode 0600), flushed and fsync'ed;
2. it gets the mode (and, as root, the owner) of the file it replaces,
   else 0644;
3. it is renamed over PATH (``rename(2)`` is atomic within a directory and
   replaces a symbolic link itself, never its target), and the directory
   is fsync'ed.

Refused, leaving PATH untouched: a symbolic link at PATH's last component
(an attacker's link in a shared directory would otherwise redirect a
root-owned write; give the link's target instead), anything but a regular
file there, a directory that does not exist.
"""

from __future__ import annotations

import os
import stat
import tempfile

from rmctl.errors import AccessDenied, RmctlError, UsageError

DEFAULT_MODE = 0o644


def write_atomic(path: str, content: str) -> None:
    """Replace ``path`` with ``content`` atomically (see the module docstring); raise RmctlError."""
    if not path or path.endswith("/"):
        raise UsageError(f"--output-file {path!r} is not a file name")
    directory = os.path.dirname(os.path.abspath(path)) or "/"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _error(e, path) from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise UsageError(f"--output-file {path!r} is a symbolic link; rmctl does not write through links",
                         hint=f"give the link's target ({os.path.realpath(path)}) if that is the file meant")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UsageError(f"--output-file {path!r} exists and is not a regular file")
    if not os.path.isdir(directory):
        raise UsageError(f"--output-file {path!r}: directory {directory} does not exist",
                         hint="create the directory first")
    data = content.encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise _error(e, path) from None
    try:
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fchmod(fd, stat.S_IMODE(st.st_mode) if st is not None else DEFAULT_MODE)
            if st is not None and os.geteuid() == 0:
                os.fchown(fd, st.st_uid, st.st_gid)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise _error(e, path) from None
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # the data is in place; a directory we may not open cannot be fsync'ed
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _error(e: OSError, path: str) -> RmctlError:
    if isinstance(e, PermissionError):
        return AccessDenied(f"cannot write {path}: {e.strerror}", hint="run as a user who may write there")
    return RmctlError(f"cannot write {path}: {e.strerror or e}")
