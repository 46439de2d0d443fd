"""Which state dir holds a root's reservations: one rule for every command, and ``rmctl state show|reset``.

The state dir (``--state-dir``, ``RMCTL_STATE_DIR``, default
``/var/lib/rmctl``) is on this machine whatever ``--root`` says, and its
state file records the fingerprint of the node it belongs to
(rmctl.model.fingerprint; the kubelet's cpu_manager_state refuses a
checkpoint of another CPU topology the same way,
pkg/kubelet/cm/cpumanager/state/state_checkpoint.go).  The rule:

- The **default** state dir is the live node's.  A snapshot ``--root``
  never reads it and never writes it: a command that would write
  reservations for a snapshot there is refused (SnapshotStateDirError,
  exit 2, "give --state-dir"), before anything is written, so one
  snapshot reservation can no longer stamp the live node's state with the
  snapshot's fingerprint and lock the live node out of it (issue 11
  finding 2).  Read there, it holds nothing for the snapshot (``cpu
  list``, ``request evaluate``); a ``--dry-run`` plans against that empty
  state and says the real run needs a state dir.
- Any **other** state dir belongs to the first node that writes it (live
  or snapshot); another node's is refused by the Ledger (StateError, exit
  5) with both fingerprints and the way out: ``rmctl state show`` says
  what it holds, ``rmctl state reset --yes`` clears it.

Every use case gets its Ledger from :func:`ledger`, so the rule lives
here once.  Only ``os`` and rmctl.errors are imported at module level:
rmctl.cli.context imports DEFAULT_STATE_DIR on the fast path.
"""

from __future__ import annotations

import os

from rmctl.errors import SnapshotStateDirError

TYPE_CHECKING = False  # the typing module costs ~2 ms on the fast path; type checkers see True
if TYPE_CHECKING:
    from typing import Any

    from rmctl.discovery.root import Root
    from rmctl.ops.outcome import Message, Outcome
    from rmctl.state.ledger import Ledger

DEFAULT_STATE_DIR = "/var/lib/rmctl"
DEFAULT_LOCK_TIMEOUT = 10.0


def is_default(state_dir: str) -> bool:
    """Return True when ``state_dir`` is the default state dir (the live node's), however it is spelt."""
    return os.path.realpath(state_dir) == os.path.realpath(DEFAULT_STATE_DIR)


def applies(live: bool, state_dir: str) -> bool:
    """Return True when ``state_dir`` may hold the reservations of a root (live: any; a snapshot: not the default)."""
    return live or not is_default(state_dir)


def refusal(root_spec: str, state_dir: str) -> SnapshotStateDirError:
    """Return the error for writing a snapshot's reservations to the default state dir."""
    return SnapshotStateDirError(
        f"--root {root_spec!r} is a snapshot: its reservations cannot go in the default state dir "
        f"{state_dir} (this machine's own)",
        hint="give the snapshot a state dir of its own: --state-dir DIR (any empty directory)",
        details={"state_dir": state_dir, "root": root_spec})


def ledger(root_spec: str, live: bool, state_dir: str, command: str,
           lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Ledger:
    """Return the Ledger that holds the reservations of the root ``root_spec`` (``live``: this machine).

    For a snapshot and the default state dir: a Ledger that reads no state
    and refuses to take the lock (so every write is refused, exit 2, and a
    dry run plans against an empty state).
    """
    from rmctl.state.ledger import Ledger

    return Ledger(state_dir, lock_timeout=lock_timeout, command=command,
                  refusal=None if applies(live, state_dir) else refusal(root_spec, state_dir))


def for_root(root: Root, state_dir: str, command: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Ledger:
    """Return :func:`ledger` for a Root."""
    return ledger(root.spec, root.is_live, state_dir, command, lock_timeout)


def for_node(node, state_dir: str, command: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Ledger:
    """Return :func:`ledger` for a NodeModel (its ``source``: the root it was read from, live or not)."""
    return ledger(node.source.root, node.source.live, state_dir, command, lock_timeout)


def dry_run_notes(root: Root, state_dir: str, dry_run: bool) -> tuple[Message, ...]:
    """Return the note a dry run on a snapshot with the default state dir needs (the real run is refused)."""
    from rmctl.ops.outcome import note

    if not dry_run or applies(root.is_live, state_dir):
        return ()
    return (note(f"planned against no reservations: the default state dir {state_dir} is this machine's, "
                 f"not the snapshot's; without --dry-run this is refused",
                 hint="give the snapshot a state dir of its own: --state-dir DIR"),)


# -- rmctl state show | reset -----------------------------------------------------------------------

def _holdings(root: Root, state_dir: str) -> tuple[dict[str, Any], Any, str | None, list[str]]:
    """Return (the StateDir document, the state or None, the state file's text, display lines)."""
    from rmctl.discovery import discover
    from rmctl.model.fingerprint import fingerprint
    from rmctl.state import files, journal
    from rmctl.state.ledger import Ledger, parse

    lg = Ledger(state_dir)
    node_fp = fingerprint(discover(root))
    text = lg.read_text()
    state = parse(text, lg.path) if text is not None else None
    journals = len(files.json_files(journal.journal_dir(lg.state_dir)))
    fp = state.fingerprint if state is not None else None
    if fp is None:
        belongs = "no node yet"
    elif fp == node_fp:
        belongs = "this node"
    else:
        belongs = "another node"
    views = [state.reservations[n].view() for n in state.names()] if state is not None else []
    data: dict[str, Any] = {
        "state_dir": lg.state_dir, "file": lg.path, "exists": text is not None,
        "fingerprint": fp, "belongs_to": belongs,
        "root": {"spec": root.spec, "fingerprint": node_fp},
        "default_state_dir": is_default(state_dir),
        "updated": state.updated if state is not None else None,
        "system_cpus": state.system_cpus.to_list() if state is not None else "",
        "reservations": views, "journals": journals,
    }
    lines = [f"state dir:    {lg.state_dir}" + ("" if text is not None else " (no state file)")]
    if text is not None:
        lines.append(f"node:         {fp[:12] if fp else '-'}" + (
            f" ({belongs}: --root {root.spec} is {node_fp[:12]})" if belongs == "another node" else f" ({belongs})"))
        lines.append(f"updated:      {data['updated'] or '-'}")
        lines.append(f"system CPUs:  {data['system_cpus'] or '-'}")
        lines.append(f"reservations: {len(views)}")
        for v in views:
            extra = [f"CPUs {v.get('cpus') or '-'}"]
            if v.get("devices"):
                extra.append("devices " + ", ".join(v["devices"]))
            if v.get("cgroup"):
                extra.append(f"cgroup {v['cgroup'].get('path')}")
            lines.append(f"  {v['name']} ({v.get('kind', 'cpu')}): " + "; ".join(extra))
    lines.append(f"journals:     {journals} apply journal{'' if journals == 1 else 's'}"
                 + (" (kept by reset: undo reads them)" if journals else ""))
    if not applies(root.is_live, state_dir):
        lines.append(f"(this is this machine's state dir: --root {root.spec} is a snapshot and keeps "
                     "its reservations in a --state-dir of its own)")
    return data, state, text, lines


def show(root: Root, state_dir: str) -> Outcome:
    """Say what the state dir holds, whose node it belongs to, whatever node that is (never refused)."""
    from rmctl.ops.outcome import Outcome, Text

    data, _, _, lines = _holdings(root, state_dir)
    return Outcome(kind="StateDir", data=data, view=Text(tuple(lines)))


def reset(root: Root, state_dir: str, *, yes: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Outcome:
    """Clear the state dir's reservations, system CPUs and node stamp, after showing what it holds.

    Without ``yes`` a dry run: what it holds and the plan, nothing changed
    (exit 0, a note says how to go on).  With ``yes``, under the state
    lock: the cpuset cgroups the reservations recorded are removed (where
    they still exist on this machine) and the state file is replaced by an
    empty one belonging to no node, so the next command stamps it with
    its own.  Apply journals are kept (undo reads them; they record
    changes made on this machine).  Whoever the state belongs to, this
    node or another, it is cleared: that is what reset is for.
    """
    from rmctl.ops.outcome import Outcome, Text, note
    from rmctl.planning import cgroups
    from rmctl.state.ledger import Change, Ledger
    from rmctl.state.records import ReservationState

    data, _, _, lines = _holdings(root, state_dir)

    def change(current: ReservationState) -> Change:
        if not current.reservations and not current.system_cpus and current.fingerprint is None:
            return Change(current)  # already clear: nothing is written
        before: list = []
        for name in current.names():
            rec = current.reservations[name]
            if rec.cgroup is not None:
                before += cgroups.remove_actions(rec.cgroup.to_data())
        n = len(current.reservations)
        return Change(ReservationState(),
                      summary=f"clear {n} reservation{'' if n == 1 else 's'}, the system CPUs and the node stamp",
                      before=tuple(before))

    lg = Ledger(state_dir, lock_timeout=lock_timeout, command="rmctl state reset")
    # fingerprint None: the Ledger does not check whose state it is (it is cleared whoever's it is)
    up = lg.update(None, change, dry_run=not yes, command="state reset")
    changed = up.changed
    out: dict[str, Any] = {"held": data, "dry_run": not yes, "cleared": bool(yes and changed),
                           "plan": up.plan.to_data() if up.plan is not None else None}
    if not changed:
        return Outcome(kind="StateReset", data=out, view=Text(tuple(lines), None, ("nothing to clear",)))
    if not yes:
        return Outcome(kind="StateReset", data=out, view=Text(tuple(lines), up.plan),
                       messages=(note("nothing changed: this is what reset would do",
                                      hint=f"rmctl --state-dir {_quote(lg.state_dir)} state reset --yes"),))
    return Outcome(kind="StateReset", data=out,
                   view=Text(tuple(lines), None, (f"cleared {lg.path}: it belongs to no node until the next "
                                                  "reservation",)))


def _quote(path: str) -> str:
    """shlex.quote, imported here: shlex imports re (with enum), which the topology fast path
    (cli.context imports this module) must not pay for (tests/test_imports.py)."""
    import shlex

    return shlex.quote(path)
