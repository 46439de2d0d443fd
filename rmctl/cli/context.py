"""Settings shared by every command, and the global options that make them: one table, one rule.

The global options (:data:`GLOBAL_OPTIONS`) are accepted before the
command and after it, at any depth (``rmctl --root X cpu list`` and
``rmctl cpu list --root X``, as kubectl takes its flags anywhere).  Where
one is given more than once:

- ``--root`` accumulates, wherever given (``rmctl --root A request
  evaluate R --root B`` evaluates A and B).  A command that reads several
  nodes (``request evaluate``, ``request explain``) takes them all
  (:meth:`Settings.several_roots`); every other command reads one
  (:attr:`Settings.root`) and refuses two with a usage error (exit 2)
  rather than silently reading the last;
- ``-v``/``--verbose`` counts every occurrence (``rmctl -v devices list -v`` is ``-vv``);
- ``--debug``, ``--no-color`` are on when given anywhere;
- ``--state-dir``, ``--kubelet-root``, ``--lock-timeout``: the last one
  given wins (a script's ``rmctl $OPTS cmd --state-dir X`` overrides
  ``$OPTS``, as getopt tools do).

Environment variables (``RMCTL_ROOT``...) are the defaults the command
line replaces.  The typer path builds its click options from the table
(rmctl.cli.application) and the scripted fast path parses argv with it
(rmctl.cli.fastpath), so both read the same options the same way.
"""

from __future__ import annotations

import os
import sys

from rmctl.errors import SnapshotRootError, UsageError
from rmctl.ops.statedir import DEFAULT_STATE_DIR

TYPE_CHECKING = False  # the typing module costs ~2 ms on the fast path; type checkers see True
if TYPE_CHECKING:
    from rmctl.discovery.root import Root

#: how a global option's occurrences combine (see the module doc)
MULTI, VALUE, COUNT, FLAG = "multi", "value", "count", "flag"


class GlobalOption:
    """One global option: its flags, the Settings field it sets, how repeats combine, its help.

    A plain class, not a dataclass: the fast path imports this module and
    dataclasses costs ~5 ms (see rmctl.model.record).
    """

    __slots__ = ("flags", "dest", "kind", "metavar", "help", "env")

    def __init__(self, flags: tuple[str, ...], dest: str, kind: str, metavar: str | None, help: str,
                 env: str | None = None):
        self.flags, self.dest, self.kind, self.metavar, self.help, self.env = flags, dest, kind, metavar, help, env

    @property
    def takes_value(self) -> bool:
        return self.kind in (MULTI, VALUE)


#: every global option, in the order --help lists them
GLOBAL_OPTIONS = (
    GlobalOption(("--root",), "root", MULTI, "PATH",
                 "Machine to read: / (live), a directory with sys/ and proc/, or a snapshot tarball. "
                 "Repeat for commands that read several nodes (request evaluate, request explain). "
                 "[env var: RMCTL_ROOT; default: /]", env="RMCTL_ROOT"),
    GlobalOption(("--state-dir",), "state_dir", VALUE, "DIR",
                 "Where reservations and journals are kept; a snapshot --root needs one of its own to "
                 f"reserve. [env var: RMCTL_STATE_DIR; default: {DEFAULT_STATE_DIR}]", env="RMCTL_STATE_DIR"),
    GlobalOption(("--kubelet-root",), "kubelet_root", VALUE, "DIR",
                 "The kubelet's --root-dir, where its checkpoints are [env var: RMCTL_KUBELET_ROOT; "
                 "default: /var/lib/kubelet, or what a snapshot recorded].", env="RMCTL_KUBELET_ROOT"),
    GlobalOption(("--lock-timeout",), "lock_timeout", VALUE, "SECONDS",
                 "How long to wait for the state lock. [default: 10.0]"),
    GlobalOption(("--verbose", "-v"), "verbose", COUNT, None, "Show findings and detail (repeat for more)."),
    GlobalOption(("--debug",), "debug", FLAG, None, "Show tracebacks of internal errors."),
    GlobalOption(("--no-color",), "no_color", FLAG, None, "Never colour (NO_COLOR is honoured too)."),
)

#: flag -> its GlobalOption
BY_FLAG = {f: o for o in GLOBAL_OPTIONS for f in o.flags}


def command_words(argv: list[str]) -> tuple[str, ...]:
    """Return the words of ``argv`` that name the command (``("cpu", "run")``), global options skipped.

    For the error boundary, where click did not get as far as naming the
    command (a usage error in a global option's value).  Stops at ``--``
    and at the first option that is not global (the command's own).
    """
    words: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        if a.startswith("-"):
            option = BY_FLAG.get(a.partition("=")[0])
            if option is None and not (a.startswith("-v") and set(a[1:]) == {"v"}):
                break
            i += 2 if option is not None and option.takes_value and "=" not in a else 1
            continue
        words.append(a)
        i += 1
    return tuple(words)


def parse_seconds(value: str) -> float:
    """Return ``--lock-timeout``'s value: a number of seconds, 0 or more (UsageError otherwise)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):  # NaN fails the first test
        raise UsageError(f"--lock-timeout {value!r} is not a number of seconds (0 or more)")
    return seconds


class Settings:
    """Global options of one invocation; the Root is opened on first use.

    Built from the environment (:meth:`from_environ`), then each global
    option met on the command line is applied with :meth:`take`, in
    command-line order, whether it came before or after the command.  A
    plain class, not a dataclass: importing dataclasses costs ~5 ms on the
    ``topology -o json`` path (see rmctl.model.record).
    """

    def __init__(self, root_spec: str = "/", state_dir: str = DEFAULT_STATE_DIR,
                 lock_timeout: float = 10.0, verbose: int = 0, debug: bool = False,
                 color: bool | None = None, kubelet_root: str | None = None):
        #: the --root values in command-line order (the default until one is given)
        self.root_specs: list[str] = [root_spec]
        self.roots_given = False
        #: the kubelet's --root-dir (None: /var/lib/kubelet, or what a snapshot's facts say)
        self.kubelet_root = kubelet_root
        self._state_dir = state_dir
        self.lock_timeout = lock_timeout
        self.verbose = verbose
        self.debug = debug
        self.color = color  #: None: decide from the terminal and NO_COLOR
        self._root: Root | None = None
        self._opened: list[Root] = []

    @classmethod
    def from_environ(cls, environ=None) -> Settings:
        """Return the settings before any option: the environment's values, else the defaults."""
        env = os.environ if environ is None else environ
        return cls(root_spec=env.get("RMCTL_ROOT") or "/", state_dir=env.get("RMCTL_STATE_DIR") or DEFAULT_STATE_DIR,
                   kubelet_root=env.get("RMCTL_KUBELET_ROOT") or None)

    def take(self, dest: str, value) -> None:
        """Apply one occurrence of a global option given on the command line (``value`` already typed)."""
        if dest == "root":
            if not self.roots_given:
                self.root_specs, self.roots_given = [], True
            self.root_specs.append(value)
            self._root = None
        elif dest == "verbose":
            self.verbose += int(value)
        elif dest == "debug":
            self.debug = self.debug or bool(value)
        elif dest == "no_color":
            if value:
                self.color = False
        elif dest == "lock_timeout":
            self.lock_timeout = value if isinstance(value, float) else parse_seconds(str(value))
        elif dest == "state_dir":
            self._state_dir = value
        elif dest == "kubelet_root":
            self.kubelet_root = value
        else:
            raise AttributeError(f"no global option sets {dest!r}")

    def __repr__(self) -> str:
        return (f"Settings(root_specs={self.root_specs!r}, state_dir={self._state_dir!r}, "
                f"lock_timeout={self.lock_timeout!r}, verbose={self.verbose!r}, debug={self.debug!r}, "
                f"color={self.color!r})")

    # -- the roots: one for most commands, several for those that read many nodes ------------------
    @property
    def root_spec(self) -> str:
        """Return the one --root given (UsageError, exit 2, when several were)."""
        if len(self.root_specs) > 1:
            raise UsageError(
                f"--root was given {len(self.root_specs)} times ({', '.join(self.root_specs)}); "
                "this command reads one node",
                hint="give one --root; 'request evaluate' and 'request explain' take several")
        return self.root_specs[0]

    @root_spec.setter
    def root_spec(self, value: str) -> None:
        self.root_specs, self.roots_given, self._root = [value], True, None

    @property
    def root(self) -> Root:
        """Return the Root (opened on first use, so errors reach the command's handler)."""
        if self._root is None:
            from rmctl.discovery.root import Root

            self._root = Root.open(self.root_spec)
            self._opened.append(self._root)
        return self._root

    def several_roots(self) -> tuple[Root | None, tuple[str, ...]]:
        """Return (the Root, ()) when one --root was given, else (None, every --root given).

        For the commands that read several nodes (``request evaluate``,
        ``request explain``): their use cases take one Root or the specs.
        """
        if len(self.root_specs) == 1:
            return self.root, ()
        return None, tuple(self.root_specs)

    # -- the state dir --------------------------------------------------------------------------------
    @property
    def state_dir(self) -> str:
        """Return the state directory; never one inside a snapshot root (nothing is written there)."""
        self._check_state_dir()
        return self._state_dir

    @state_dir.setter
    def state_dir(self, value: str) -> None:
        self._state_dir = value

    def _check_state_dir(self) -> None:
        state = os.path.realpath(self._state_dir)
        for root in self._opened:
            if root.is_live:
                continue
            for base in {os.path.realpath(root.base), os.path.realpath(root.spec)}:
                if os.path.isdir(base) and (state == base or state.startswith(base + os.sep)):
                    raise SnapshotRootError(
                        f"--state-dir {self._state_dir!r} is inside the snapshot root {root.spec!r}",
                        hint="nothing is ever written under a snapshot root: give --state-dir a directory of its own")

    def use_color(self, stream=None) -> bool:
        if self.color is not None:
            return self.color
        if os.environ.get("NO_COLOR"):
            return False
        stream = stream or sys.stdout
        return hasattr(stream, "isatty") and stream.isatty()
