"""One exception hierarchy and the documented exit codes.

Imports nothing from rmctl so that every layer can raise these.  The CLI
catches :class:`RmctlError` at one boundary (``rmctl.cli.errors``) and turns
it into one line plus a hint on stderr (or the JSON envelope) and the exit
code below.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from enum import IntEnum
else:
    class _IntEnumType(type):
        """What rmctl uses of enum.IntEnum, without importing enum (it brings functools and
        collections: 13M instructions, 7% of ``topology -o json`` on the EPYC fixture; issue 14).

        Members are int instances made when the class is: ``ExitCode.OK``,
        ``ExitCode(4)`` (the member; ValueError for no member), iteration
        in definition order, ``.name``/``.value``, IntEnum's ``repr``
        (``<ExitCode.OK: 0>``) and ``str`` (``0``).  Type checkers see
        enum.IntEnum.
        """

        def __new__(mcs, name, bases, ns):
            values = {k: v for k, v in ns.items() if k.isupper() and type(v) is int}
            cls = super().__new__(mcs, name, bases, {k: v for k, v in ns.items() if k not in values})
            members = {}
            for k, v in values.items():
                m = int.__new__(cls, v)
                m.__dict__["_name_"] = k
                members[v] = m
                type.__setattr__(cls, k, m)
            type.__setattr__(cls, "_value2member_", members)
            return cls

        def __call__(cls, value):
            try:
                return cls._value2member_[value]
            except (KeyError, TypeError):
                raise ValueError(f"{value!r} is not a valid {cls.__name__}") from None

        def __iter__(cls):
            return iter(list(cls._value2member_.values()))

        def __len__(cls):
            return len(cls._value2member_)

        def __contains__(cls, value):
            return isinstance(value, cls) and value in cls._value2member_

        def __setattr__(cls, name, value):
            if name in cls.__dict__.get("_value2member_", {}) or name.isupper():
                raise AttributeError(f"cannot reassign member {name!r}")
            super().__setattr__(name, value)

    class IntEnum(int, metaclass=_IntEnumType):
        __slots__ = ()

        @property
        def name(self) -> str:
            return self.__dict__["_name_"]

        @property
        def value(self) -> int:
            return int(self)

        def __repr__(self) -> str:
            return f"<{type(self).__name__}.{self.__dict__['_name_']}: {int(self)}>"

        __str__ = int.__repr__
        __format__ = int.__format__

        def __reduce__(self):
            return type(self), (int(self),)


class ExitCode(IntEnum):
    """Exit statuses scripts may branch on.  Never renumber."""

    OK = 0  #: success; a dry-run that printed its plan; a request that fits
    FAILED = 1  #: an action failed; an unexpected error
    USAGE = 2  #: usage error or bad input (cpulists, sizes, YAML, CEL, options)
    DISCOVERY = 3  #: the root could not be read (missing, broken, hostile tarball)
    UNSATISFIABLE = 4  #: not enough resources, or a partial result (shortfall)
    CONFLICT = 5  #: lock timeout, stale plan, name clash, corrupt state file
    PERMISSION = 6  #: not permitted (not root, read-only file)
    #: ``cpu run`` only, the convention of env(1) and timeout(1): rmctl itself failed (any error of its own)
    RUN_FAILED = 125
    RUN_CANNOT_EXECUTE = 126  #: ``cpu run``: the command was found but cannot be executed
    RUN_NOT_FOUND = 127  #: ``cpu run``: the command was not found
    INTERRUPTED = 130  #: interrupted by a signal (Ctrl-C)


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success (also: a dry-run that printed its plan, a request that fits)",
    ExitCode.FAILED: "failed: an action did not complete, or an unexpected error",
    ExitCode.USAGE: "usage error or bad input (cpulist, size, YAML, CEL, option)",
    ExitCode.DISCOVERY: "discovery failed: the root is missing, unreadable or unsafe",
    ExitCode.UNSATISFIABLE: "unsatisfiable or partial: not enough resources, or a shortfall",
    ExitCode.CONFLICT: "conflict: lock timeout, stale plan, name clash, corrupt state",
    ExitCode.PERMISSION: "permission denied",
    ExitCode.RUN_FAILED: "cpu run: rmctl itself failed (any other status is the command's own)",
    ExitCode.RUN_CANNOT_EXECUTE: "cpu run: the command was found but cannot be executed",
    ExitCode.RUN_NOT_FOUND: "cpu run: the command was not found",
    ExitCode.INTERRUPTED: "interrupted",
}


def wrapper_status(code: int) -> int:
    """Return the exit status of a command wrapper (``cpu run``) whose own step ended with ``code``.

    The convention of env(1) and timeout(1) (GNU coreutils, POSIX's
    "Utility Description Defaults" for exec-style utilities): 126 the
    command cannot be executed, 127 it was not found, 125 the wrapper
    itself failed, whatever the error (usage, discovery, state...): so a
    script can tell every other status, the child's own 2 or 4 included,
    from rmctl's.  Ctrl-C keeps 130 (a child killed by SIGINT gives 130 too).
    """
    if code in (ExitCode.OK, ExitCode.RUN_CANNOT_EXECUTE, ExitCode.RUN_NOT_FOUND, ExitCode.INTERRUPTED):
        return int(code)
    return int(ExitCode.RUN_FAILED)


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


class CommandNotFound(RmctlError):
    """``cpu run``: the command to run does not exist (exit 127, as env(1) and the shell)."""

    code = "command_not_found"
    exit_code = ExitCode.RUN_NOT_FOUND


class CommandNotExecutable(RmctlError):
    """``cpu run``: the command exists but cannot be executed (exit 126, as env(1) and the shell)."""

    code = "command_not_executable"
    exit_code = ExitCode.RUN_CANNOT_EXECUTE


class SnapshotRootError(UsageError):
    """A change was asked of a snapshot root, which describes another machine."""

    code = "snapshot_root"


class SnapshotStateDirError(SnapshotRootError):
    """Reservations of a snapshot root were to be written to the default state dir (this machine's own)."""

    code = "snapshot_state_dir"
