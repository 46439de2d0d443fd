"""Settings shared by every command, stored on the typer context (``ctx.obj``)."""

from __future__ import annotations

import os
import sys

from rmctl.errors import SnapshotRootError

TYPE_CHECKING = False  # the typing module costs ~2 ms on the fast path; type checkers see True
if TYPE_CHECKING:
    from rmctl.discovery.root import Root

DEFAULT_STATE_DIR = "/var/lib/rmctl"


class Settings:
    """Global options of one invocation; the Root is opened on first use.

    A plain class, not a dataclass: importing dataclasses costs ~5 ms on the
    ``topology -o json`` path (see rmctl.model.record).
    """

    def __init__(self, root_spec: str = "/", state_dir: str = DEFAULT_STATE_DIR,
                 lock_timeout: float = 10.0, verbose: int = 0, debug: bool = False,
                 color: bool | None = None, kubelet_root: str | None = None):
        self.root_spec = root_spec
        #: the kubelet's --root-dir (None: /var/lib/kubelet, or what a snapshot's facts say)
        self.kubelet_root = kubelet_root
        self._state_dir = state_dir
        self.lock_timeout = lock_timeout
        self.verbose = verbose
        self.debug = debug
        self.color = color  #: None: decide from the terminal and NO_COLOR
        self._root: Root | None = None

    def __repr__(self) -> str:
        return (f"Settings(root_spec={self.root_spec!r}, state_dir={self._state_dir!r}, "
                f"lock_timeout={self.lock_timeout!r}, verbose={self.verbose!r}, debug={self.debug!r}, "
                f"color={self.color!r})")

    @property
    def state_dir(self) -> str:
        """Return the state directory; never one inside a snapshot root (nothing is written there)."""
        self._check_state_dir()
        return self._state_dir

    @state_dir.setter
    def state_dir(self, value: str) -> None:
        self._state_dir = value

    def _check_state_dir(self) -> None:
        root = self._root
        if root is None or root.is_live:
            return
        state = os.path.realpath(self._state_dir)
        for base in {os.path.realpath(root.base), os.path.realpath(self.root_spec)}:
            if os.path.isdir(base) and (state == base or state.startswith(base + os.sep)):
                raise SnapshotRootError(
                    f"--state-dir {self._state_dir!r} is inside the snapshot root {self.root_spec!r}",
                    hint="nothing is ever written under a snapshot root: give --state-dir a directory of its own")

    @property
    def root(self) -> Root:
        """Return the Root (opened on first use, so errors reach the command's handler)."""
        if self._root is None:
            from rmctl.discovery.root import Root

            self._root = Root.open(self.root_spec)
        return self._root

    def use_color(self, stream=None) -> bool:
        if self.color is not None:
            return self.color
        if os.environ.get("NO_COLOR"):
            return False
        stream = stream or sys.stdout
        return hasattr(stream, "isatty") and stream.isatty()

