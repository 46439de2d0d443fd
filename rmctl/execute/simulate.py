"""Walk a plan without changing anything: each action's expectation checked against the state the actions
before it leave (a saved plan's freshness, ``apply -f PLAN --dry-run``).

A saved plan is checked before it runs.  Checking every action against the
machine as it is now is wrong as soon as two actions touch the same thing:
a profile that sets the system CPUs and then reserves CPUs replaces the
state file twice, and the second replacement expects the text the first
one writes, not the file on disk (issue 11, finding 1).  So the check is
the executor's walk (rmctl.execute.executor.apply: read, done?, expected?,
act) over an :class:`OverlayHost`: reads go to the real host until an
action of the plan has written the value, writes land in memory.  What
the executor would find stale is stale here, in the same order.

The overlay models what the kernel does to the files rmctl writes where a
plain "read back what was written" would be wrong: ``cgroup.procs`` and
``cgroup.subtree_control`` add to what they list (a PID written joins the
cgroup; ``+cpuset`` enables one controller), a removed directory takes its
files with it, a mount replaces what ``/proc/mounts`` says for its path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from rmctl.cpuset import CpuSet
from rmctl.errors import RmctlError
from rmctl.execute.host import Host
from rmctl.model.plan import Action, Plan


class OverlayHost(Host):
    """A Host that reads through to ``under`` and keeps every change in memory."""

    def __init__(self, under: Host, elsewhere: Mapping[str, Host] | None = None):
        super().__init__(under.base)
        self.under = under
        #: files read from another host: the state file lives on this machine whatever the root
        self.elsewhere = {self._key(p): h for p, h in (elsewhere or {}).items()}
        self.live = getattr(under, "live", False)
        self._files: dict[str, str | None] = {}  #: path -> text written (None: removed)
        self._dirs: dict[str, bool] = {}  #: path -> exists (made or removed by the plan)
        self._mounts: dict[str, tuple[str, str, dict[str, str]] | None] = {}
        self._affinity: dict[int, str] = {}
        self._mempolicy: tuple[int, str] | None = None

    @staticmethod
    def _key(path: str) -> str:
        return os.path.normpath(path)

    def _removed_above(self, path: str) -> bool:
        """Return True when a directory above ``path`` was removed by the plan (its files went with it)."""
        p = os.path.dirname(path)
        while p not in ("/", ""):
            if self._dirs.get(p) is False:
                return True
            p = os.path.dirname(p)
        return False

    # -- files -------------------------------------------------------------
    def read_text(self, path: str) -> str | None:
        k = self._key(path)
        if k in self._files:
            return self._files[k]
        if self._removed_above(k):
            return None
        if k in self.elsewhere:
            return self.elsewhere[k].read_text(path)
        return self.under.read_text(path)

    def write_text(self, path: str, value: str) -> None:
        k = self._key(path)
        name = os.path.basename(k)
        if name == "cgroup.procs":  # one PID per write; it joins the cgroup (and leaves its old one)
            have = (self.read_text(k) or "").split()
            self._files[k] = "\n".join(have + [value.strip()]) + "\n"
        elif name == "cgroup.subtree_control":  # "+cpuset -io": enable and disable controllers
            words = set((self.read_text(k) or "").split())
            for w in value.split():
                if w.startswith("+"):
                    words.add(w[1:])
                elif w.startswith("-"):
                    words.discard(w[1:])
            self._files[k] = " ".join(sorted(words)) + "\n"
        else:
            self._files[k] = value

    def replace_file(self, path: str, content: str) -> None:
        self._files[self._key(path)] = content

    def remove_file(self, path: str) -> None:
        self._files[self._key(path)] = None

    def can_write(self, path: str) -> bool:
        return self.under.can_write(path)

    def isdir(self, path: str) -> bool:
        k = self._key(path)
        if k in self._dirs:
            return self._dirs[k]
        if self._removed_above(k):
            return False
        return self.under.isdir(path)

    def exists(self, path: str) -> bool:
        k = self._key(path)
        if k in self._files:
            return self._files[k] is not None
        if k in self._dirs:
            return self._dirs[k]
        if self._removed_above(k):
            return False
        return self.under.exists(path)

    def listdir(self, path: str) -> list[str]:
        k = self._key(path)
        if k in self._dirs:
            return [] if not self._dirs[k] or not self.under.isdir(path) else self.under.listdir(path)
        return self.under.listdir(path)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        k = self._key(path)
        while k not in ("/", "") and not self.isdir(k):
            self._dirs[k] = True
            k = os.path.dirname(k)

    def rmdir(self, path: str) -> None:
        k = self._key(path)
        self._dirs[k] = False
        for f in [f for f in self._files if f.startswith(k + "/")]:  # its files went with it
            del self._files[f]

    # -- mounts ------------------------------------------------------------
    def mount_at(self, path: str):
        k = self._key(path)
        if k in self._mounts:
            return self._mounts[k]
        return self.under.mount_at(path)

    def mount(self, source: str, path: str, fstype: str, options: str) -> None:
        opts: dict[str, str] = {}
        for o in filter(None, options.split(",")):
            key, _, v = o.partition("=")
            opts[key] = v
        self._mounts[self._key(path)] = (source, fstype, opts)

    def umount(self, path: str) -> None:
        self._mounts[self._key(path)] = None

    # -- affinity and memory policy ----------------------------------------
    def get_affinity(self, pid: int) -> str | None:
        if pid in self._affinity:
            return self._affinity[pid]
        return self.under.get_affinity(pid)

    def thread_affinities(self, pid: int) -> dict[int, str] | None:
        threads = self.under.thread_affinities(pid)
        if threads is None or pid not in self._affinity:
            return threads
        return {tid: self._affinity[pid] for tid in threads}

    def set_affinity(self, pid: int, cpus: str) -> None:
        self._affinity[pid] = CpuSet.parse(cpus).to_list()

    def get_mempolicy(self) -> tuple[int, str]:
        return self._mempolicy if self._mempolicy is not None else self.under.get_mempolicy()

    def set_mempolicy(self, mode: int, nodes: str) -> None:
        self._mempolicy = (mode, nodes if mode else "")


@dataclass
class Walk:
    """What a simulated apply found: ``stale`` reasons (in plan order), and the actions that would act."""

    stale: list[str] = field(default_factory=list)
    acting: list[Action] = field(default_factory=list)  #: not at their target: would be performed

    @property
    def nothing_to_do(self) -> bool:
        return not self.acting and not self.stale


def walk(plan: Plan, host: Host, elsewhere: Mapping[str, Host] | None = None) -> Walk:
    """Walk ``plan`` as the executor would, on an overlay of ``host``; nothing is changed.

    For each action in order: read its current value (as the actions
    before it leave it), skip it when already at its target or when it only
    takes effect at a reboot, note it stale when it differs from what the
    plan saw, and let it act on the overlay.  ``elsewhere``: paths read from
    another host (a snapshot root's plan replaces this machine's state file).
    """
    ov = OverlayHost(host, elsewhere)
    out = Walk()
    for a in plan.actions:
        try:
            cur = a.current(ov)
        except RmctlError as e:
            out.stale.append(f"{a.target() or a.kind}: cannot read it: {e}")
            out.acting.append(a)
            continue
        if a.done(cur) or a.reboot:
            continue
        exp = a.expected()
        if exp is not None and cur != exp:
            out.stale.append(f"{a.target() or a.kind}: plan saw {_short(exp)}, now {_short(cur)}")
        out.acting.append(a)
        try:
            a.perform(ov)
        except RmctlError:
            pass  # the overlay refuses nothing; a host error here changes nothing either
    return out


def _short(v) -> str:
    """Return a value for a message: digests shortened to 12 hex digits."""
    if isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v):
        return repr(v[:12] + "…")
    return repr(v)
