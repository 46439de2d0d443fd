"""Plan a NodeProfile against a node: profile + NodeModel + state -> ordered Plan (rmctl plan, apply, verify).

Not a pure planner: it reads the current values through a Host, the
reservations state, owner processes and the request files a profile
names, so it sits with the use cases (rmctl.ops.profile) and hands each
area to its pure planner (planning.hugepages, planning.cpus through
state.reservations, planning.requests through state.requests).

Order (each step only needs the ones before it):

1. hugepage pools (``spec.hugepages``), through the hugepage planner;
2. hugetlbfs mounts (``spec.mounts``), through the same planner;
3. system-reserved CPUs, then named reservations, through the CPU
   reservations state (the allocator chooses CPUs, the kubelet's way);
4. request reservations (``spec.requests``): each ResourceRequest is
   evaluated against the state as the steps before leave it and recorded
   (CPUs, devices, hugepage pages per node) by the code behind
   ``rmctl request evaluate --reserve`` (rmctl.state.requests);
5. isolated CPUs as kernel arguments: reboot-only, never performed.

Every item becomes one or more actions; each is tagged with the profile field
it comes from and the value it finds now (``current``) and wants
(``desired``).  ``ProfilePlan.changes()`` are the actions not yet at their
target; ``apply`` runs all of them so that unchanged ones are reported as
such (idempotence shows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rmctl.cpuset import CpuSet
from rmctl.model.fingerprint import fingerprint
from rmctl.model.plan import Action, BootArgs, Plan
from rmctl.model.profile_actions import StateReplace

PROFILE_PLAN_COMMAND = "apply"


@dataclass
class PlanItem:
    """One action of a profile plan with its review data."""

    action: Action
    field: str  #: the profile field it comes from, e.g. spec.hugepages[0]
    current: Any
    desired: Any
    changed: bool

    @property
    def reboot(self) -> bool:
        return bool(self.action.reboot)

    def to_data(self) -> dict:
        d = self.action.to_data()
        d.update({"field": self.field, "current": _show(self.current), "desired": _show(self.desired),
                  "reboot": self.reboot, "changed": self.changed})
        return d


@dataclass
class ProfilePlan:
    """All actions of a profile (changed or not) plus the node fingerprint."""

    profile: Any
    items: list[PlanItem] = field(default_factory=list)
    fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)

    def changes(self) -> list[PlanItem]:
        return [i for i in self.items if i.changed]

    def plan(self, *, only_changes: bool = True) -> Plan:
        """Return the executable Plan (only the changes unless asked)."""
        items = self.changes() if only_changes else self.items
        return Plan(actions=[i.action for i in items], fingerprint=self.fingerprint,
                    command=PROFILE_PLAN_COMMAND, notes=list(self.notes))

    def intent(self) -> dict[str, Any]:
        """Return what this plan is for: the profile's file and text (rmctl.ops.intent)."""
        from rmctl.ops.intent import make

        source = self.profile.source
        return make("plan", profile=self.profile.text,
                    file="-" if source.startswith("<") else source)

    def to_data(self) -> dict:
        """Return the saved-plan document body: a Plan any `rmctl apply` can load.

        The words of the apply report: ``changed`` (would anything
        change) and ``reboot_required`` (the changes that take effect only
        after a reboot, described); ``changes`` counts the actions.
        """
        d = self.plan().with_intent(self.intent()).to_data()
        ch = self.changes()
        d["profile"] = {"name": self.profile.name, "source": self.profile.source}
        d["actions"] = [i.to_data() for i in ch]
        d["changed"] = bool(ch)
        d["changes"] = len(ch)
        d["reboot_required"] = [i.action.describe() for i in ch if i.reboot]
        return d


def _show(v):
    if isinstance(v, CpuSet):
        return v.to_list()
    if isinstance(v, tuple):
        return list(v)
    return v


def node_for(root, profile):
    """Return the node model of ``root`` with what ``profile`` needs (devices only when it names some:
    discovering them costs time)."""
    from rmctl.discovery import discover

    return discover(root, devices=bool(profile.requests) or any(r.near for r in profile.reservations))


def plan_of_text(root, state_dir: str, text: str, source: str, *, kubelet_root: str | None = None) -> ProfilePlan:
    """Return the ProfilePlan of the profile ``text`` (read from ``source``: request files are relative to
    it) on ``root``: what ``rmctl plan`` plans, from a saved plan's recorded profile."""
    from rmctl.ops.hosts import host_for
    from rmctl.profile import parse_profile

    profile = parse_profile(text, source)
    return plan_profile(profile, node_for(root, profile), host_for(root), root, state_dir=state_dir,
                        kubelet_root=kubelet_root)


def plan_profile(profile, node, host, root, *, state_dir: str, kubelet_root: str | None = None) -> ProfilePlan:
    """Return the ProfilePlan turning ``node`` (seen through ``host``; ``root`` for devices and owner
    processes) into ``profile``.

    Raises UsageError (exit 2) naming the profile field when the profile
    asks for something this node does not have (a NUMA node, a page size,
    a CPU), and UnsatisfiableError (exit 4) when it does not fit.
    """
    from rmctl.planning.amounts import resolve

    check_node(profile, node)
    profile, notes = resolve(profile, node)  # "50%", "all-but-1": numbers for this node
    pp = ProfilePlan(profile=profile, fingerprint=fingerprint(node), notes=notes)
    for entry, actions in hugepage_actions(profile, node):
        _add(pp, host, entry, actions)
    for entry, actions in mount_actions(profile, node, host):
        _add(pp, host, entry, actions)
    for entry, actions in cpu_actions(profile, node, root, state_dir, kubelet_root):
        _add(pp, host, entry, actions)
    if profile.isolated_cpus:
        want = f"isolcpus={profile.isolated_cpus}"
        _add(pp, host, "spec.isolatedCPUs", [BootArgs(add=(want,))])
    return pp


def _add(pp: ProfilePlan, host, field_path: str, actions: list[Action]) -> None:
    for a in actions:
        cur = a.current(host)
        # A state replace by the same text is a no-op even where an earlier
        # step of this plan changes the file first (chained state changes).
        changed = not a.done(cur) and not (isinstance(a, StateReplace) and a.content == a.previous)
        pp.items.append(PlanItem(action=a, field=field_path, current=_current_view(a, cur),
                                 desired=a.desired(), changed=changed))


def _current_view(a: Action, cur):
    """Return what an operator should read as the current value."""
    kind = a.kind
    if kind == "mount":
        return "not mounted" if cur is None else f"{cur[1]} {','.join(f'{k}={v}' if v else k for k, v in cur[2].items())}"
    if kind in ("mkdir",):
        return "directory" if cur else "absent"
    if kind in ("replace-file", "replace-state", "remove-file"):
        if a.done(cur):
            return a.desired()
        return "no state file" if getattr(a, "previous", None) is None else "not in the state"
    if isinstance(a, BootArgs):
        words = (cur or "").split()
        have = [w for w in words if any(w.split("=")[0] == x.split("=")[0] for x in a.add)]
        return " ".join(have) or "(not set)"
    return cur


# -- node checks -------------------------------------------------------------

def check_node(profile, node) -> None:
    """Raise UsageError for fields naming what this node does not have."""
    from rmctl.units import format_size

    topo = node.topology
    online = topo.online_cpus()
    sizes = node.page_sizes()
    for h in profile.hugepages:
        if sizes and h.page_size not in sizes:
            raise profile.error(f"{h.field}.pageSize", f"this node offers no {format_size(h.page_size)} pages",
                                hint="page sizes here: " + ", ".join(format_size(s) for s in sizes))
        if not sizes:
            raise profile.error(f"{h.field}.pageSize", "this node has no hugepage support (no sys/kernel/mm/hugepages)")
        if h.node is not None and h.node not in topo.nodes:
            raise profile.error(f"{h.field}.node", f"NUMA node {h.node} does not exist",
                                hint="nodes here: " + ",".join(str(n) for n in sorted(topo.nodes)))
    for m in profile.mounts:
        if sizes and m.page_size not in sizes:
            raise profile.error(f"{m.field}.pageSize", f"this node offers no {format_size(m.page_size)} pages")
    for label, text in (("spec.systemReservedCPUs.cpus", profile.system_reserved_cpus),
                        ("spec.isolatedCPUs.cpus", profile.isolated_cpus)):
        if text:
            missing = CpuSet.parse(text) - online
            if missing:
                raise profile.error(label, f"{missing.phrase('are')} not online here",
                                    hint=f"online CPUs: {online.to_list()}")
    for r in profile.reservations:
        for label, text in (("cpus", r.cpus), ("from", r.from_cpus)):
            if text:
                missing = CpuSet.parse(text) - online
                if missing:
                    raise profile.error(f"{r.field}.{label}", f"{missing.phrase('are')} not online here")
        if r.numa is not None and r.numa not in topo.nodes:
            raise profile.error(f"{r.field}.numa", f"NUMA node {r.numa} does not exist")


# -- areas (each built on the area's own planner) ----------------------------

def _located(profile, field_path: str, err):
    """Return ``err`` (same class) with the profile field and file position in front."""
    return type(err)(f"{profile.where(field_path)}: {field_path}: {err.message}", hint=err.hint,
                     details=dict(err.details, field=field_path))


def hugepage_actions(profile, node) -> list[tuple[str, list[Action]]]:
    """Return (field, actions) per hugepage entry, from the hugepage planner.

    All entries go to one ``plan_set`` call (it checks the memory they need
    together, and orders shrinks before grows); its actions are then mapped
    back to the entries by (page size, node).
    """
    if not profile.hugepages:
        return []
    from rmctl.errors import RmctlError
    from rmctl.planning.hugepages import plan_set

    by_size: dict[int, dict] = {}
    for h in profile.hugepages:
        by_size.setdefault(h.page_size, {})[h.node] = h.count
    try:
        pp = plan_set(node, sorted(by_size.items()), command="apply")
    except RmctlError as e:
        raise _located(profile, "spec.hugepages", e) from None
    entry_of = {(h.page_size, h.node): h.field for h in profile.hugepages}
    return [(entry_of.get((getattr(a, "page_size", None), getattr(a, "node", None)), "spec.hugepages"), [a])
            for a in pp.plan.actions]


def mount_actions(profile, node, host) -> list[tuple[str, list[Action]]]:
    """Return (field, actions) per mount entry, from the hugepage mount planner."""
    if not profile.mounts:
        return []
    from rmctl.errors import RmctlError
    from rmctl.planning.hugepages import mount_request, plan_mount

    out = []
    for m in profile.mounts:
        o = m.options
        try:
            req = mount_request(node, m.path, m.page_size, size=o.get("size"), min_size=o.get("min_size"),
                                nr_inodes=o.get("nr_inodes"),
                                uid=int(o["uid"]) if "uid" in o else None,
                                gid=int(o["gid"]) if "gid" in o else None, mode=o.get("mode"))
            mp = plan_mount(node, req, existing=host.mount_at(m.path), dir_state=host.dir_state(m.path))
        except RmctlError as e:
            raise _located(profile, m.field, e) from None
        out.append((m.field, list(mp.plan.actions)))
    return out


def cpu_actions(profile, node, root, state_dir: str, kubelet_root: str | None = None) -> list[tuple[str, list[Action]]]:
    """Return (field, actions) for system CPUs and reservations, on the reservations state.

    The state is :mod:`rmctl.state.ledger`'s file; the changes are
    :mod:`rmctl.state.reservations`' operations (CPUs chosen by the
    allocator, the kubelet's way) and :mod:`rmctl.state.requests`'.  Each
    item becomes one ``StateReplace`` of the state file, chained (each
    expects the text the one before wrote), so undo restores every
    intermediate state in reverse.  An item already in the state is an
    unchanged action: a reservation of that name with the asked CPUs (or
    count), or system CPUs already as asked.
    """
    if profile.system_reserved_count is None and not profile.system_reserved_cpus and not profile.reservations \
            and not profile.requests:
        return []
    from rmctl.errors import ConflictError, RmctlError
    from rmctl.ops import statedir
    from rmctl.ops.kubelet import cpu_view, guard_cpus
    from rmctl.ops.near import near_cpus
    from rmctl.planning import cpus as planner
    from rmctl.planning.kubelet import cpu_roles
    from rmctl.state import reservations as R
    from rmctl.state.ledger import dumps, parse
    from rmctl.state.owners import owner_of

    # the kubelet's pods' exclusive CPUs are never chosen (its checkpoint at the default root,
    # or the one a snapshot recorded)
    kubelet_state, _ = cpu_view(root, kubelet_root)
    pod_cpus = cpu_roles(kubelet_state)["exclusive"] \
        if kubelet_state.cpu is not None and kubelet_state.cpu.policy == "static" else CpuSet()
    from rmctl.state.records import ReservationState

    # a snapshot's plan never reads this machine's default state dir (rmctl.ops.statedir)
    lg = statedir.for_node(node, state_dir, "rmctl plan")
    fp = fingerprint(node)
    text = lg.read_text()
    state = ReservationState(fingerprint=fp) if text is None else parse(text, lg.path)
    lg.check_node(state, fp)
    state = state.for_node(fp)
    topo = node.topology
    out: list[tuple[str, list[Action]]] = []
    prev = text

    def step(field_path: str, new_state: ReservationState | None, summary: str) -> None:
        nonlocal prev, state
        if new_state is None:  # already as asked: an unchanged action, when there is a file
            if prev is not None:
                out.append((field_path, [StateReplace.of(lg.path, prev, prev, summary)]))
            return
        content = dumps(new_state.stamped())
        out.append((field_path, [StateReplace.of(lg.path, content, prev, summary)]))
        prev, state = content, new_state

    if profile.system_reserved_cpus or profile.system_reserved_count:
        p = "spec.systemReservedCPUs"
        have = state.system_cpus
        want = CpuSet.parse(profile.system_reserved_cpus) if profile.system_reserved_cpus else None
        if (want is not None and have == want) or (want is None and len(have) == profile.system_reserved_count):
            step(p, None, f"system CPUs {have.to_list()}")
        else:
            try:
                new, got = R.reserve_system(topo, state, count=None if want is not None else profile.system_reserved_count,
                                            cpus=want)
            except RmctlError as e:
                raise _located(profile, p, e) from None
            step(p, new, f"system CPUs {got.to_list()}")
    for r in profile.reservations:
        rec = state.get(r.name)
        if rec is not None:
            have = rec.cpus
            if (r.cpus and have == CpuSet.parse(r.cpus)) or (r.count and len(have) == r.count):
                step(r.field, None, f"reservation {r.name}: CPUs {have.to_list()}")
                continue
            raise profile.error(f"{r.field}.name", f"reservation {r.name!r} exists with CPUs {have.to_list()}, "
                                f"not as the profile asks", hint=f"release it first: rmctl cpu release {r.name}",
                                cls=ConflictError)
        near, near_set = None, None
        if r.near:
            try:
                # the same device lookup and locality rule as cpu reserve --near (rmctl.ops.near)
                near, near_set = near_cpus(root, node, r.near)
            except RmctlError as e:
                raise _located(profile, f"{r.field}.near", e) from None
        try:
            opts = planner.parse_options(r.options)
            cons = planner.Constraints(numa=r.numa, socket=r.socket, near=near, near_cpus=near_set,
                                       cpus_from=CpuSet.parse(r.from_cpus) if r.from_cpus else None)
            owner = owner_of(root, r.owner_pid) if r.owner_pid else None
            if r.cpus:  # CPUs a pod holds exclusively are refused (issue #16); a profile has no --force
                guard_cpus(kubelet_state, CpuSet.parse(r.cpus), what=f"reserve {r.name}", force=False)
            new, made = R.reserve(topo, state, r.name, count=r.count, cpus=CpuSet.parse(r.cpus) if r.cpus else None,
                                  options=opts, constraints=cons, owner=owner, exclude=pod_cpus)
        except RmctlError as e:
            raise _located(profile, r.field, e) from None
        step(r.field, new, f"reservation {r.name}: CPUs {made.cpus.to_list()}")
    for q in profile.requests:
        step(q.field, *_request_step(profile, node, state, q))
    return out


def _request_step(profile, node, state, q):
    """Return (new state or None when already reserved as asked, summary) for request entry ``q``.

    The evaluation and the record are rmctl.state.requests', the code
    behind ``request evaluate --reserve``: CPUs and devices that other
    reservations hold are not handed out, and hugepage pages are counted
    on, not allocated (pools are ``spec.hugepages``).
    """
    from rmctl.errors import ConflictError, UnsatisfiableError
    from rmctl.state.requests import reserve_request, same_request, summary

    req, classes = request_of(profile, q)
    rec = state.get(q.name)
    if rec is not None:
        if same_request(rec, req):
            return None, summary(q.name, rec)
        raise profile.error(f"{q.field}.name", f"reservation {q.name!r} exists ({rec.kind}, CPUs "
                            f"{rec.cpus.to_list() or '-'}, devices {', '.join(rec.devices) or '-'}) "
                            "but not for this request", hint=f"release it first: rmctl request release {q.name}",
                            cls=ConflictError)
    ev, new, rec = reserve_request(node, state, q.name, req, classes)
    if rec is None:
        why = "; ".join(ev.reasons[:2]) or "it does not fit"
        raise profile.error(q.field, f"request {req.name!r} does not fit this node: {why}",
                            hint=f"see why: rmctl request explain (the request of {q.field})",
                            cls=UnsatisfiableError)
    return new, summary(q.name, rec)


def request_of(profile, q):
    """Return (ResourceRequest, classes) of request entry ``q``; errors name the profile field.

    ``file``: the ResourceRequest file (ResourceClass documents in it join
    the classes, as for ``request evaluate``).  ``spec``: the request's
    spec inline, read again from the profile text so errors carry the
    profile's line:column.  Classes: the built-ins plus ``classDir``, else
    $RMCTL_CLASS_DIR, else /etc/rmctl/classes (as ``--class-dir``).
    """
    import os
    import re

    from rmctl.errors import RmctlError
    from rmctl.resources.classes import DEFAULT_CLASS_DIR, load_classes
    from rmctl.resources.request import check_classes, load_request, request_from_document

    try:
        if q.file is not None:
            req = load_request(q.file)
        else:
            try:
                req = request_from_document(_inline_request(profile, q), profile.source)
            except RmctlError as e:
                # "FILE:L:C: spec.cpus: ..." -> "FILE:L:C: spec.requests[i].spec.cpus: ..."
                msg = re.sub(r"^(.*?:\d+:\d+: )spec\b", lambda m: m.group(1) + q.field + ".spec", e.message, count=1)
                raise type(e)(msg, hint=e.hint, details=dict(e.details, field=q.field)) from None
        class_dir = q.class_dir or os.environ.get("RMCTL_CLASS_DIR")
        classes = dict(load_classes(class_dir or DEFAULT_CLASS_DIR, strict_dir=class_dir is not None))
        classes.update(req.classes)
        check_classes(req, classes)
    except RmctlError as e:
        if q.file is None and e.message.startswith(profile.source + ":"):
            raise
        raise _located(profile, q.field, e) from None
    return req, classes


def _inline_request(profile, q):
    """Return the ResourceRequest document of an inline entry, with the profile's positions."""
    from rmctl.resources.classes import API_VERSION
    from rmctl.resources.yamlio import PosDict, load_documents

    spec = q.spec
    if profile.text:
        try:
            spec = load_documents(profile.text, profile.source)[0]["spec"]["requests"][int(q.field.rsplit("[", 1)[1][:-1])]["spec"]
        except (LookupError, ValueError, TypeError):
            spec = q.spec
    doc = PosDict(apiVersion=API_VERSION, kind="ResourceRequest", metadata={"name": q.name}, spec=spec)
    doc.mark = getattr(spec, "mark", (0, 0))
    doc.key_marks = {"spec": doc.mark}
    return doc


# -- verify: applied but not effective -------------------------------------------

def effect_mismatches(profile, node, state_dir: str, root, kubelet_root: str | None = None) -> list[dict]:
    """Return what is recorded as the profile asks but not in effect on the running node.

    ``rmctl verify`` adds these to the plan's differences: isolated CPUs in
    the kernel command line but not in ``sys/devices/system/cpu/isolated``
    (reboot pending); reservations (``spec.reservations``, ``spec.requests``)
    in the state whose CPUs are now offline or gone, or whose devices are
    no longer on the node (unplugged, or the snapshot is of another node).
    """
    from rmctl.discovery import paths

    out: list[dict] = []
    if profile.isolated_cpus:
        text = root.read_strip(paths.CPU_ISOLATED)
        have = CpuSet.parse(text) if text else CpuSet()
        want = CpuSet.parse(profile.isolated_cpus)
        if not want.issubset(have):
            out.append({"field": "spec.isolatedCPUs", "kind": "boot-args", "target": "/" + paths.CPU_ISOLATED,
                        "current": have.to_list() or "(none)", "desired": want.to_list(), "reboot": True,
                        "detail": "in the kernel command line but not in effect: reboot pending"})
    entries = [(r.name, r.field) for r in profile.reservations] + [(q.name, q.field) for q in profile.requests]
    if not entries:
        return out
    from rmctl.ops import statedir
    from rmctl.state.ledger import parse

    # a snapshot's reservations are never this machine's default state dir's (rmctl.ops.statedir)
    lg = statedir.for_node(node, state_dir, "rmctl verify")
    text = lg.read_text()
    if text is None:
        return out
    state = parse(text, lg.path)
    online = node.topology.online_cpus()
    present = {str(d.address) for d in node.devices}
    from rmctl.ops.kubelet import cpu_view
    from rmctl.planning.kubelet import cpu_clash, kubelet_held

    kubelet_state, _ = cpu_view(root, kubelet_root)
    pod_devices = kubelet_held(node, kubelet_state).devices if kubelet_state.present() else ()
    for name, fld in entries:
        rec = state.get(name)
        if rec is None:
            continue  # the plan already lists it as a change
        gone = rec.cpus - online
        if gone:
            out.append({"field": fld, "kind": "reservation", "target": name, "current": f"CPUs {gone.to_list()} offline",
                        "desired": f"CPUs {rec.cpus.to_list()} online", "reboot": False,
                        "detail": "reserved, but CPUs are offline or gone"})
        missing = [a for a in rec.devices if a not in present]
        if missing:
            out.append({"field": fld, "kind": "reservation", "target": name,
                        "current": f"devices {', '.join(missing)} absent", "desired": "devices present",
                        "reboot": False, "detail": "reserved, but the devices are not on this node"})
        # drift against the kubelet (issue #16): the same CPU or device held by rmctl and by a pod
        clash = cpu_clash(kubelet_state, rec.cpus)
        if clash.refused():
            out.append({"field": fld, "kind": "kubelet", "target": name,
                        "current": f"CPUs {clash.exclusive.to_list()} also held by pods: {'; '.join(clash.holders)}",
                        "desired": "CPUs held by this reservation only", "reboot": False,
                        "detail": "the kubelet gave a pod CPUs this reservation holds: release and reserve again, "
                                  "or drain the pod"})
        both = [(a, who) for a, who in pod_devices if a in set(rec.devices)]
        if both:
            out.append({"field": fld, "kind": "kubelet", "target": name,
                        "current": "devices also held by pods: " + "; ".join(f"{a} by {w}" for a, w in both),
                        "desired": "devices held by this reservation only", "reboot": False,
                        "detail": "the kubelet's device manager gave a pod a device this reservation holds"})
    return out
