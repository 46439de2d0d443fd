"""Settings shared by every command, stored on the typer context (``ctx.obj``)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from rmctl.errors import SnapshotRootError

DEFAULT_STATE_DIR = "/var/lib/rmctl"


@dataclass
class Settings:
    root_spec: str = "/"
    state_dir: str = DEFAULT_STATE_DIR
    lock_timeout: float = 10.0
    verbose: int = 0
    debug: bool = False
    color: bool | None = None  #: None: decide from the terminal and NO_COLOR
    _root: object = field(default=None, repr=False)
    _node: dict = field(default_factory=dict, repr=False)

    @property
    def root(self):
        """Return the Root (opened on first use, so errors reach the command's handler)."""
        if self._root is None:
            from rmctl.discovery.root import Root

            self._root = Root.open(self.root_spec)
        return self._root

    def node(self, *, devices: bool = False):
        """Return the NodeModel of the root (discovered once per process)."""
        key = "devices" if devices else "plain"
        if key not in self._node:
            from rmctl.discovery import discover

            self._node[key] = discover(self.root, devices=devices)
        return self._node[key]

    def require_live(self, what: str) -> None:
        """Refuse a change when the root is a snapshot (it describes another machine)."""
        if not self.root.is_live:
            raise SnapshotRootError(
                f"cannot {what}: --root {self.root_spec!r} is a snapshot, not this machine",
                hint="use --dry-run to see the plan for that node, or drop --root to act on this machine",
            )

    def use_color(self, stream=None) -> bool:
        if self.color is not None:
            return self.color
        if os.environ.get("NO_COLOR"):
            return False
        stream = stream or sys.stdout
        return hasattr(stream, "isatty") and stream.isatty()


def settings_from_env() -> Settings:
    return Settings(
        root_spec=os.environ.get("RMCTL_ROOT") or "/",
        state_dir=os.environ.get("RMCTL_STATE_DIR") or DEFAULT_STATE_DIR,
    )
