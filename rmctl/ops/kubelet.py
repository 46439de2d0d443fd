"""``rmctl kubelet show``: what the kubelet assigned, per pod and container.

Read-only: the kubelet's checkpoints under its root (live or snapshot) and,
on the live node, its PodResources API for pod names.  ``view`` of the
Outcome is unused: the table is drawn from the document.
"""

from __future__ import annotations

from rmctl.cpuset import CpuSet
from rmctl.discovery import discover, kubelet
from rmctl.discovery.root import Root
from rmctl.errors import ParseError, UsageError
from rmctl.model.kubelet import KubeletState
from rmctl.ops.outcome import Message, Outcome, note, warning
from rmctl.planning.kubelet import device_holdings
from rmctl.render import kubelet as render
from rmctl.units import counted


def read_state(root: Root, kubelet_root: str | None, *, api: bool = False,
               socket: str | None = None) -> KubeletState:
    """Return the kubelet's state (checkpoints, and the live API when ``api``)."""
    return kubelet.read(root, kubelet_root, api=api and root.is_live, socket=socket)


def _pod_filter(pod: str) -> tuple[str | None, str]:
    """Return (namespace, name) of ``NS/NAME``, or (None, UID-or-name)."""
    if "/" in pod:
        ns, _, name = pod.partition("/")
        if not ns or not name or "/" in name:
            raise UsageError(f"--pod {pod!r} is not NAMESPACE/NAME or a pod UID", hint="e.g. --pod default/web-0")
        return ns, name
    return None, pod


def show(root: Root, kubelet_root: str | None = None, *, api: bool = True, socket: str | None = None,
         pod: str | None = None) -> Outcome:
    """Return the KubeletState document: checkpoints, managers, pods with their CPUs, memory and devices.

    ``api``: ask the live PodResources API for pod names (a note when it
    cannot answer; never on a snapshot).  ``pod``: only that pod
    (``NAMESPACE/NAME`` needs the API's names; a UID works everywhere);
    UsageError (exit 2) when no such pod holds anything.
    KubeletCheckpointError (exit 5) for a corrupt checkpoint.
    """
    state = read_state(root, kubelet_root, api=api, socket=socket)
    node = discover(root, devices=True)
    holdings = device_holdings(node, state)
    pods = render.pods_data(state, node, holdings)
    if pod is not None:
        ns, name = _pod_filter(pod)
        pods = [p for p in pods if (p["namespace"], p["name"]) == (ns, name) or (ns is None and p["uid"] == name)]
        if not pods:
            raise UsageError(f"no pod {pod} holds CPUs, memory or devices of the kubelet on {root.spec}",
                             hint="'rmctl kubelet show' lists the pods that do (names need the live API)")
    data = render.show_data(state, node, holdings, pods, api_asked=api and root.is_live)
    messages: list[Message] = [note(n) for n in data["notes"]]
    if data["api"]:
        messages += [note(n) for n in data["api"]["notes"]]
    for cp in data["checkpoints"]:
        if cp["checksum_status"] != "verified":
            messages.append(note(f"{cp['path']}: {cp['detail'] or cp['checksum_status']}"))
    unresolved = [d for d in holdings if d.address is None]
    if unresolved:
        messages.append(note(f"{counted(len(unresolved), 'device')} of the kubelet {'is' if len(unresolved) == 1 else 'are'} not tied to a PCI device "
                             f"({', '.join(sorted({d.resource for d in unresolved}))}): their IDs are shown as is"))
    return Outcome(kind="KubeletState", data=data, messages=tuple(messages))


def _config(root: Root, kubelet_rel: str, path: str | None) -> tuple[dict | None, str | None]:
    """Return (the config's resource-manager fields, where they came from)."""
    from rmctl.discovery.kubelet import config as kconfig

    if path is not None:
        rel = path.strip().lstrip("/")
        cfg = kconfig.read(root, rel)
        if cfg is None:
            raise UsageError(f"no kubelet config at {path} under {root.spec}",
                             hint="the file the kubelet's --config names (kubeadm: /var/lib/kubelet/config.yaml)")
        return cfg, "/" + rel
    rel = f"{kubelet_rel}/config.yaml"
    cfg = kconfig.read(root, rel)
    if cfg is not None:
        return cfg, "/" + rel
    if not root.is_live:
        k = root.facts().get("kubelet")
        if isinstance(k, dict) and isinstance(k.get("config"), dict):
            return kconfig.extract(k["config"]), "snapshot facts"
    return None, None


def check(root: Root, kubelet_root: str | None = None, *, config: str | None = None, state_dir: str | None = None,
          lock_timeout: float = 10.0) -> Outcome:
    """Return the KubeletCheck document: each check with what to change; exit 4 when any fails.

    Compared: the CPU Manager checkpoint with the online CPUs and the
    config's policy; reservedSystemCPUs with isolcpus=/nohz_full= and the
    shared pool; rmctl's reservations and system CPUs (``state_dir``, live
    root only) with the kubelet's pods and reserved CPUs; the Memory
    Manager's hugepages with the kernel's pools.  Read-only.
    """
    from rmctl.errors import ExitCode
    from rmctl.planning.kubelet_check import check as run_checks

    state = kubelet.read(root, kubelet_root)
    node = discover(root)
    cfg, cfg_from = _config(root, state.root, config)
    reservations: dict = {}
    system = None
    messages: list[Message] = []
    if state_dir is not None and root.is_live:
        from rmctl.model.fingerprint import fingerprint
        from rmctl.ops import statedir

        ledger_state = statedir.for_root(root, state_dir, "rmctl kubelet check", lock_timeout).load(
            fingerprint(node))
        reservations = {n: r.cpus for n, r in ledger_state.reservations.items() if r.cpus}
        system = ledger_state.system_cpus or None
    elif not root.is_live:
        messages.append(note("rmctl's reservations are this machine's: not compared on a snapshot"))
    if not state.present():
        messages.append(note(f"no kubelet checkpoint under /{state.root}: only the config and the kernel compared"))
    findings = run_checks(node, state, cfg, reservations=reservations, system_cpus=system)
    ok = all(f.ok for f in findings)
    data = {"kubelet_root": "/" + state.root, "config": cfg_from, "ok": ok,
            "findings": [{"check": f.check, "ok": f.ok, "message": f.message, "fix": f.fix or None} for f in findings]}
    return Outcome(kind="KubeletCheck", data=data, exit_code=ExitCode.OK if ok else ExitCode.UNSATISFIABLE,
                   messages=tuple(messages))


# -- the kubelet beside rmctl's CPU commands -------------------------------------------------

def cpu_view(root: Root, kubelet_root: str | None) -> tuple[KubeletState, CpuSet | None]:
    """Return the kubelet's state (checkpoints only) and its reservedSystemCPUs when its config says.

    The config is read from ``<kubelet root>/config.yaml`` (or a snapshot's
    facts) when it is there and well-formed; a bad one only costs the
    ``reserved`` marks here (``rmctl kubelet check`` reports it).
    """
    state = kubelet.read(root, kubelet_root)
    reserved = None
    try:
        cfg, _ = _config(root, state.root, None)
    except UsageError:
        cfg = None
    if cfg and isinstance(cfg.get("reservedSystemCPUs"), str):
        try:
            reserved = CpuSet.parse(cfg["reservedSystemCPUs"])
        except ParseError:
            reserved = None
    return state, reserved


def guard_cpus(state: KubeletState, cpus: CpuSet, *, what: str, force: bool) -> tuple[list[Message], dict | None]:
    """Refuse ``cpus`` a pod holds exclusively (ConflictError, exit 5) unless ``force``; warn on the shared pool.

    Returns the messages and, when ``force`` overrode a refusal, the record
    to log in the state (``kubelet_override``: CPUs, holders, when).
    """
    import time

    from rmctl.errors import ConflictError
    from rmctl.planning.kubelet import cpu_clash

    clash = cpu_clash(state, cpus)
    messages: list[Message] = []
    override = None
    if clash.refused():
        if not force:
            raise ConflictError(
                f"cannot {what}: the kubelet gave {clash.exclusive.phrase()} to pods exclusively "
                f"({'; '.join(clash.holders)})",
                hint="choose other CPUs ('rmctl kubelet show' lists the pods' CPUs), or --force to take them anyway",
                details={"kubelet_exclusive_cpus": clash.exclusive.to_list(), "holders": list(clash.holders)})
        override = {"cpus": clash.exclusive.to_list(), "holders": list(clash.holders), "at_unix": int(time.time())}
        messages.append(warning(f"--force: {what} on {clash.exclusive.phrase()} that the kubelet gave pods exclusively "
                                f"({'; '.join(clash.holders)})"))
    shared = clash.shared - clash.exclusive
    if shared:
        messages.append(warning(f"{shared.phrase('are')} in the kubelet's shared pool: Burstable and BestEffort pods run "
                                "there too",
                                hint="add them to the kubelet's reservedSystemCPUs with the strict-cpu-reservation "
                                     "option to keep pods off them"))
    return messages, override
