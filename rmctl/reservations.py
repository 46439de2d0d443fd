"""Reservations: reserve, release, reconcile and list over a state dict and a node model.

The functions here change the state *dict* handed to them (inside a
:class:`rmctl.ledger.Transaction`) and return what the CLI reports; they
never write anything themselves.  CPU choice is :mod:`rmctl.planning.cpus`.

Rules (issue 3; the kubelet's pools, kubelet-resource-managers.md 2.1):

* never hand out offline CPUs, CPUs outside this process's allowed set
  (``Cpu.allowed``: the cgroup cpuset / affinity rmctl runs in), system
  CPUs (``reserve-system``: the kubelet's reservedSystemCPUs) or CPUs of
  another reservation;
* an owner is a PID plus its start time (``/proc/PID/stat`` field 22,
  clock ticks since boot) so a reused PID is not taken for the owner.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from rmctl.cpuset import CpuSet
from rmctl.errors import ConflictError, UsageError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def check_name(name: str) -> str:
    """Return ``name`` if it can name a reservation (and a cgroup ``rmctl-NAME``)."""
    if not NAME_RE.match(name or ""):
        raise UsageError(f"bad reservation name {name!r}",
                         hint="use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


# -- owners ------------------------------------------------------------------------

def parse_stat_start_time(text: str) -> int | None:
    """Return field 22 (starttime) of a /proc/PID/stat line, or None.

    The command (field 2) is in parentheses and may itself hold spaces and
    parentheses, so the fields are counted after the last ')' (proc(5)).
    """
    end = text.rfind(")")
    if end < 0:
        return None
    rest = text[end + 1:].split()
    # rest[0] is field 3 (state); field 22 is rest[19].
    try:
        return int(rest[19])
    except (IndexError, ValueError):
        return None


def owner_of(root, pid: int) -> dict[str, Any] | None:
    """Return {pid, start_time, command} of a live process read through ``root``, or None."""
    from rmctl.discovery import paths

    stat = root.read(paths.proc_pid_file(pid, "stat"))
    if stat is None:
        return None
    start = parse_stat_start_time(stat)
    if start is None:
        return None
    cmdline = root.read(paths.proc_pid_file(pid, "cmdline")) or ""
    # Root.read drops NUL bytes; read the raw file for the argv separators.
    try:
        with open(root.path(paths.proc_pid_file(pid, "cmdline")), "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        cmdline = " ".join(argv)
    except OSError:
        pass
    if not cmdline:
        cmdline = (root.read(paths.proc_pid_file(pid, "comm")) or "").strip()
    return {"pid": int(pid), "start_time": start, "command": cmdline[:200]}


def owner_alive(root, owner: dict | None) -> bool:
    """Return True when ``owner`` (or no owner) still runs: same PID and same start time."""
    if not owner:
        return True
    now = owner_of(root, int(owner["pid"]))
    return now is not None and now["start_time"] == owner.get("start_time")


# -- pools ---------------------------------------------------------------------------

def system_cpus(state: dict) -> CpuSet:
    return CpuSet.parse(state.get("system_cpus") or "")


def reserved_cpus(state: dict, *, exclude: str | None = None) -> CpuSet:
    out = CpuSet()
    for name, rec in state["reservations"].items():
        if name != exclude:
            out |= CpuSet.parse(rec.get("cpus") or "")
    return out


def holder_of(state: dict) -> dict[int, str]:
    """Return {cpu: reservation name}."""
    out = {}
    for name, rec in state["reservations"].items():
        for c in CpuSet.parse(rec.get("cpus") or ""):
            out[c] = name
    return out


def free_cpus(topo, state: dict) -> CpuSet:
    """Return online, allowed CPUs that are neither system nor reserved."""
    return topo.allowed_cpus() - system_cpus(state) - reserved_cpus(state)


def cpu_states(topo, state: dict) -> list[dict[str, Any]]:
    """Return one entry per CPU: id, state (offline|system|reserved|isolated|free), reservation..."""
    sysc = system_cpus(state)
    held = holder_of(state)
    out = []
    for cpu in sorted(topo.cpus):
        c = topo.cpus[cpu]
        if not c.online:
            st = "offline"
        elif cpu in sysc:
            st = "system"
        elif cpu in held:
            st = "reserved"
        elif c.isolated:
            st = "isolated"
        elif not c.allowed:
            st = "not-allowed"
        else:
            st = "free"
        out.append({"id": cpu, "state": st, "reservation": held.get(cpu), "node": c.node,
                    "core": c.core, "package": c.package_id if c.package_id is not None else c.package,
                    "online": c.online, "allowed": c.allowed, "isolated": c.isolated})
    return out


def reservation_view(rec: dict, now: float | None = None) -> dict[str, Any]:
    """Return a reservation for output: the record plus ``age_seconds``."""
    now = time.time() if now is None else now
    out = dict(rec)
    out["age_seconds"] = max(0, int(now - float(rec.get("created_unix") or now)))
    return out


# -- operations ------------------------------------------------------------------------

def reserve(topo, state: dict, name: str, *, count: int | None = None, cpus: CpuSet | None = None,
            options=None, constraints=None, owner: dict | None = None,
            kube=None) -> dict[str, Any]:
    """Add reservation ``name`` to ``state`` and return its record.

    Exactly one of ``count`` (chosen by the allocator) and ``cpus`` (taken
    as given, checked) is set.  A name already used is a ConflictError (5).
    """
    from rmctl.ledger import new_reservation
    from rmctl.planning import cpus as planner

    check_name(name)
    if name in state["reservations"]:
        raise ConflictError(f"reservation {name!r} already exists ({state['reservations'][name]['cpus']})",
                            hint=f"release it first: rmctl cpu release {name}")
    options = options or planner.Options()
    constraints = constraints or planner.Constraints()
    if (count is None) == (cpus is None):
        raise UsageError("give either --count or --cpus")
    if cpus is not None:
        chosen = check_explicit(topo, state, cpus)
    else:
        kube = kube or planner.KubeTopology.from_topology(topo)
        chosen = planner.choose(kube, free_cpus(topo, state), count, options, constraints,
                                system=system_cpus(state))
    rec = new_reservation(name, cpus=chosen.to_list(), nodes=topo.nodes_of(chosen), owner=owner,
                          options=options.to_data(), constraints=constraints.to_data())
    state["reservations"][name] = rec
    return rec


def check_explicit(topo, state: dict, cpus: CpuSet) -> CpuSet:
    """Return ``cpus`` if they may be reserved as given; else the reason (2 or 5)."""
    if not cpus:
        raise UsageError("--cpus names no CPU")
    missing = CpuSet(c for c in cpus if c not in topo.cpus)
    if missing:
        raise UsageError(f"CPUs {missing} do not exist on this node",
                         hint=f"CPUs present: {CpuSet(topo.cpus).to_list()}")
    offline = cpus & topo.offline_cpus()
    if offline:
        raise UsageError(f"CPUs {offline} are offline")
    not_allowed = cpus - topo.allowed_cpus()
    if not_allowed:
        raise UsageError(f"CPUs {not_allowed} are outside the CPUs this process may use",
                         hint="run rmctl from a cgroup/affinity that includes them")
    sysc = cpus & system_cpus(state)
    if sysc:
        raise ConflictError(f"CPUs {sysc} are system CPUs", hint="see rmctl cpu list")
    held = holder_of(state)
    clash = sorted({held[c] for c in cpus if c in held})
    if clash:
        taken = CpuSet(c for c in cpus if c in held)
        raise ConflictError(f"CPUs {taken} are held by reservation {', '.join(clash)}",
                            hint="see rmctl cpu list")
    return cpus


def release(state: dict, name: str) -> dict[str, Any]:
    """Remove reservation ``name`` from ``state`` and return its record."""
    check_name(name)
    rec = state["reservations"].pop(name, None)
    if rec is None:
        raise UsageError(f"no reservation named {name!r}", hint="see rmctl cpu list")
    return rec


def reserve_system(topo, state: dict, *, count: int | None = None, cpus: CpuSet | None = None,
                   kube=None) -> CpuSet:
    """Set the system CPUs (reservedSystemCPUs); with ``count`` in the packed order."""
    from rmctl.planning import cpus as planner

    if (count is None) == (cpus is None):
        raise UsageError("give either --count or --cpus")
    if cpus is None:
        kube = kube or planner.KubeTopology.from_topology(topo)
        if count is not None and count > len(kube.details):
            raise planner.UnsatisfiableError(f"cannot make {count} CPUs system CPUs: the node has {len(kube.details)} online")
        cpus = planner.reserved_cpus(kube, count)
    else:
        missing = CpuSet(c for c in cpus if c not in topo.cpus or not topo.cpus[c].online)
        if missing:
            raise UsageError(f"CPUs {missing} are not online CPUs of this node")
    held = holder_of(state)
    clash = sorted({held[c] for c in cpus if c in held})
    if clash:
        raise ConflictError(f"CPUs {CpuSet(c for c in cpus if c in held)} are held by reservation "
                            f"{', '.join(clash)}", hint="release it first, or choose other CPUs")
    state["system_cpus"] = cpus.to_list()
    return cpus


def reconcile(topo, state: dict, alive: Callable[[dict | None], bool]) -> dict[str, Any]:
    """Drop reservations whose owner is gone; report those holding offline or missing CPUs."""
    dropped, problems = [], []
    online = topo.online_cpus()
    for name in sorted(state["reservations"]):
        rec = state["reservations"][name]
        if not alive(rec.get("owner")):
            dropped.append(state["reservations"].pop(name))
            continue
        cpus = CpuSet.parse(rec.get("cpus") or "")
        missing = CpuSet(c for c in cpus if c not in topo.cpus)
        offline = (cpus & topo.offline_cpus())
        if missing or offline or not cpus.issubset(online | missing | offline):
            problems.append({"name": name, "cpus": rec["cpus"], "offline": offline.to_list(),
                             "missing": missing.to_list()})
    sysc = system_cpus(state)
    bad_sys = CpuSet(c for c in sysc if c not in topo.cpus or not topo.cpus[c].online)
    if bad_sys:
        problems.append({"name": None, "system_cpus": sysc.to_list(), "offline": bad_sys.to_list(),
                         "missing": ""})
    return {"dropped": dropped, "problems": problems}
