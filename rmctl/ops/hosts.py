"""Which Host a use case reads and acts through, and the refusal to act on a snapshot: one policy.

- A live root (``/``): :class:`rmctl.execute.host.LiveHost`, this machine;
  tests substitute another through ``host_factory`` (a host that grants
  fewer hugepages than asked, or refuses writes: what cannot be forced
  safely on a real kernel).  Nothing else sets it.
- A snapshot root: ``SnapshotHost(root)``, which reads the snapshot's
  files through its Root (the current values a plan is reviewed against):
  beneath a directory root, from a tarball's index; it never writes.  No plan for the
  machine is ever applied there: a use case calls :func:`require_live`
  first, unless it only plans (``--dry-run``).
- State files (reservations, journals) are not on the root but in the
  state dir, always on this machine: a state transaction applies on
  :func:`state_host`, the machine's host when the root is live (a cgroup
  removal rides along with the state change), else ``Host("/")``, which
  only ever touches the state dir then.
"""

from __future__ import annotations

from collections.abc import Callable

from rmctl.errors import SnapshotRootError
from rmctl.execute.host import Host, LiveHost, SnapshotHost

#: returns the Host used for a live root; None: LiveHost (see the module doc)
host_factory: Callable[[], Host] | None = None


def host_for(root) -> Host:
    """Return the Host a plan for ``root`` reads its current values through (and, live, is applied on)."""
    if root.is_live:
        return host_factory() if host_factory is not None else LiveHost()
    return SnapshotHost(root)


def state_host(root) -> Host:
    """Return the Host a state transaction applies on (state files live on this machine)."""
    return host_for(root) if root.is_live else Host("/")


def require_live(root, what: str, *, dry_run_helps: bool = True) -> None:
    """Refuse a change of the machine when ``root`` is a snapshot (it describes another machine).

    ``dry_run_helps=False`` for what has no plan on another machine at all
    (a process ID of this machine, a command to run here).
    """
    if not root.is_live:
        hint = ("use --dry-run to see the plan for that node, or drop --root to act on this machine"
                if dry_run_helps else "processes live on this machine: drop --root")
        raise SnapshotRootError(f"cannot {what}: --root {root.spec!r} is a snapshot, not this machine", hint=hint)
