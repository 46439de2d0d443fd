"""One exception hierarchy and the documented exit codes.

Imports nothing from rmctl so that every layer can raise these.  The CLI
catches :class:`RmctlError` at one boundary (``rmctl.cli.errors``) and turns
it into one line plus a hint on stderr (or the JSON envelope) and the exit
code below.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit statuses scripts may branch on.  Never renumber."""

    OK = 0  #: success; a dry-run that printed its plan; a request that fits
    FAILED = 1  #: an action failed; an unexpected error
    USAGE = 2  #: usage error or bad input (cpulists, sizes, YAML, CEL, options)
    DISCOVERY = 3  #: the root could not be read (missing, broken, hostile tarball)
    UNSATISFIABLE = 4  #: not enough resources, or a partial result (shortfall)
    CONFLICT = 5  #: lock timeout, stale plan, name clash, corrupt state file
    PERMISSION = 6  #: not permitted (not root, read-only file)
    INTERRUPTED = 130  #: interrupted by a signal (Ctrl-C)


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success (also: a dry-run that printed its plan, a request that fits)",
    ExitCode.FAILED: "failed: an action did not complete, or an unexpected error",
    ExitCode.USAGE: "usage error or bad input (cpulist, size, YAML, CEL, option)",
    ExitCode.DISCOVERY: "discovery failed: the root is missing, unreadable or unsafe",
    ExitCode.UNSATISFIABLE: "unsatisfiable or partial: not enough resources, or a shortfall",
    ExitCode.CONFLICT: "conflict: lock timeout, stale plan, name clash, corrupt state",
    ExitCode.PERMISSION: "permission denied",
    ExitCode.INTERRUPTED: "interrupted",
}


class RmctlError(Exception):
    """Base of every error rmctl reports to a user.

    ``code`` is a stable snake_case string for scripts, ``hint`` the
    operator's next step, ``exit_code`` one of :class:`ExitCode`.
    """

    code = "error"
    exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or {}

    def __str__(self) -> str:
        return self.message


class UsageError(RmctlError):
    """Bad arguments or bad input given by the caller."""

    code = "usage"
    exit_code = ExitCode.USAGE


class ParseError(UsageError):
    """A value given by the caller does not parse (cpulist, size, YAML...)."""

    code = "parse_error"


class DiscoveryError(RmctlError):
    """The root cannot be read, or holds something rmctl cannot accept."""

    code = "discovery_failed"
    exit_code = ExitCode.DISCOVERY


class UnsafeSnapshotError(DiscoveryError):
    """A snapshot tarball has members that would leave the root."""

    code = "unsafe_snapshot"


class UnsatisfiableError(RmctlError):
    """Not enough resources meet the request (or a partial result)."""

    code = "unsatisfiable"
    exit_code = ExitCode.UNSATISFIABLE


class ConflictError(RmctlError):
    """A lock is held, a name clashes, or the state is not what was expected."""

    code = "conflict"
    exit_code = ExitCode.CONFLICT


class StalePlanError(ConflictError):
    """The machine no longer matches what a plan saw when it was made."""

    code = "stale_plan"


class InvalidPlanError(ConflictError):
    """A saved plan asks for what rmctl would not plan: an action, path or value outside its intent or its
    allow-list (rmctl.execute.confine), or no intent to check it against."""

    code = "invalid_plan"


class LockTimeoutError(ConflictError):
    """The state lock could not be taken in time."""

    code = "lock_timeout"


class StateError(ConflictError):
    """The state file is corrupt, of an unknown version, or of another node."""

    code = "state_invalid"


class KubeletCheckpointError(StateError):
    """A kubelet checkpoint (cpu_manager_state, ...) is corrupt: bad JSON, types or checksum.

    rmctl only reads these files; it never repairs them (the kubelet's own
    remedy is to drain the node and delete the file).
    """

    code = "kubelet_checkpoint_corrupt"


class KubeletCheckpointVersionError(KubeletCheckpointError):
    """A kubelet checkpoint has a layout this rmctl does not know (a newer kubelet)."""

    code = "kubelet_checkpoint_version"


class AccessDenied(RmctlError):
    """The caller may not do this (not root, read-only path)."""

    code = "permission_denied"
    exit_code = ExitCode.PERMISSION


class ApplyError(RmctlError):
    """An action of a plan failed while being applied."""

    code = "apply_failed"
    exit_code = ExitCode.FAILED


class SnapshotRootError(UsageError):
    """A change was asked of a snapshot root, which describes another machine."""

    code = "snapshot_root"
