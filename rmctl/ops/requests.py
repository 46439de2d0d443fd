"""``rmctl request evaluate|explain``: does a ResourceRequest fit this node (or those snapshots)?

The input is rmctl's ResourceRequest or Kubernetes manifests (DeviceClass,
ResourceClaim, ResourceClaimTemplate, a Pod or a workload's pod template:
rmctl.resources.kube).  Claims without a pod are evaluated as one
ResourceRequest; pods get the kubelet's answer (rmctl.planning.pods) under
the kubelet's policies from ``--kubelet-config`` and flags.

Read-only: an evaluation subtracts what the reservations in the state dir
that applies to the root already hold (the live node's, or a snapshot's
own ``--state-dir``: :func:`held`), exactly as ``--reserve`` does, and
changes nothing.  Exit status: 0 when the request
fits (pods: every pod admitted; with several roots: on at least one
node), 4 when it does not; the evaluation is the document either way.

Reserving the result (``evaluate --reserve``) and releasing it are the
reservation use cases', which share :func:`load_request` and
:func:`discover_roots` with these.
"""

from __future__ import annotations

from collections.abc import Sequence

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.errors import ExitCode
from rmctl.model.node import NodeModel
from rmctl.ops.classes import load as load_classes
from rmctl.ops.outcome import Outcome, note, warning
from rmctl.planning.requests import Evaluation, Reserved, evaluate
from rmctl.resources.classes import ResourceClass
from rmctl.resources.request import ResourceRequest, check_classes
from rmctl.units import counted


class Loaded:
    """What the input files hold: an rmctl request (its own, or the claims of Kubernetes manifests)
    or Kubernetes pods; the classes they may use; the manifests when the input was Kubernetes'."""

    def __init__(self, request: ResourceRequest | None, classes: dict[str, ResourceClass], kube=None):
        self.request = request
        self.classes = classes
        self.kube = kube  #: rmctl.resources.kube.KubeInput, or None for rmctl's ResourceRequest


def load_input(files, class_dir: str | None) -> Loaded:
    """Return the input of ``files`` ('-': stdin): one rmctl ResourceRequest file, or Kubernetes manifests.

    Kubernetes manifests (DeviceClass, ResourceClaim, ResourceClaimTemplate,
    Pod and workloads, in any order and files) are read within bounds
    (rmctl.resources.kube); without a pod their claims become one
    ResourceRequest.  Every class a request names must exist: the
    manifests' DeviceClasses, else rmctl's classes (built-ins and the class
    directory); InputError (exit 2) otherwise.
    """
    from rmctl.resources.manifests import MAX_FILES, is_rmctl_document, read_manifests
    from rmctl.resources.request import request_from_documents
    from rmctl.resources.yamlio import InputError

    files = [files] if isinstance(files, str) else list(files)
    if not files:
        raise InputError("no input file", hint="give a ResourceRequest file or Kubernetes manifests ('-': stdin)")
    if len(files) > MAX_FILES:
        raise InputError(f"{len(files)} files, more than the {MAX_FILES} rmctl reads at once")
    if files.count("-") > 1:
        raise InputError("'-' (stdin) given more than once")
    pairs = [(f, read_manifests(f)) for f in files]
    docs = [d for _, ds in pairs for d in ds]
    if not docs:
        raise InputError(f"{', '.join(files)}: no YAML documents",
                         hint="give a ResourceRequest, or DeviceClass/ResourceClaim/Pod manifests")
    classes = load_classes(class_dir)
    if all(is_rmctl_document(d) or (isinstance(d, dict) and d.get("kind") in ("ResourceRequest", "ResourceClass"))
           for d in docs):
        if len(files) > 1:
            raise InputError("rmctl's ResourceRequest is evaluated one file at a time",
                             hint="give one ResourceRequest file (it may hold its ResourceClass documents)")
        req = request_from_documents(pairs[0][1], files[0])
        merged = dict(classes)
        merged.update(req.classes)
        check_classes(req, merged)
        return Loaded(req, merged)
    # Kubernetes manifests: their readers are imported only now (issue 14: an rmctl request without them)
    from rmctl.resources import kube

    inp = kube.load_documents(pairs)
    merged = dict(classes)
    merged.update(inp.classes)
    for name in kube.claim_classes(list(inp.claims.values()) + list(inp.templates.values())):
        if name not in merged:
            where = next(ch.where for c in list(inp.claims.values()) + list(inp.templates.values())
                         for r in c.requests for ch in r.choices if ch.class_name == name)
            raise InputError(f"{where}: DeviceClass {name!r} is neither in the input nor one of rmctl's classes",
                             hint="add the DeviceClass manifest to the files (kubectl get deviceclass NAME -o yaml)")
    if inp.pods:
        return Loaded(None, merged, inp)
    return Loaded(kube.as_request(inp), merged, inp)


def load_request(file, class_dir: str | None) -> tuple[ResourceRequest, dict[str, ResourceClass]]:
    """Return the request in ``file`` ('-': stdin) and the classes it may use (directory + its own).

    The file is rmctl's ResourceRequest, or Kubernetes claims (their
    DeviceClasses along); a Pod is admitted by the kubelet, not reserved
    (UsageError).  Every class the request names must exist (InputError, exit 2).
    """
    from rmctl.errors import UsageError

    got = load_input(file, class_dir)
    if got.request is None:
        raise UsageError("a Pod cannot be reserved: rmctl reserves a ResourceRequest or ResourceClaims",
                         hint="evaluate the pod (rmctl request evaluate), or reserve its claims alone")
    return got.request, got.classes


def discover_roots(root: Root, roots: Sequence[str] = ()) -> list[NodeModel]:
    """Return the node models (devices included) of ``roots``, or of ``root`` when none are given."""
    if not roots:
        return [discover(root, devices=True)]
    return [discover(Root.open(r), devices=True) for r in roots]


def held(node: NodeModel, state_dir: str, lock_timeout: float = 10.0, notes: list[str] | None = None) -> Reserved:
    """Return what the reservations in the state dir that applies to ``node`` hold on it (issue 11 finding 3).

    Any root: the live node's reservations, or a snapshot's in its own
    ``--state-dir``, are taken exactly as ``--reserve`` takes them (the same
    reserved_from_state), so a plain evaluation agrees with the
    reservation made before it.  A snapshot never reads the default state
    dir (rmctl.ops.statedir): nothing is held there.  A state dir of
    another node is refused (exit 5), unless ``notes`` is given (several
    nodes evaluated: the state dir can be the reservations of one of them
    only): then the others are evaluated without and a note says so.
    Read without the state lock (an evaluation reserves nothing).
    """
    import os

    from rmctl.ops import statedir

    if not statedir.applies(node.source.live, state_dir) or not os.path.exists(os.path.join(state_dir, "state.json")):
        return Reserved()  # no state file: nothing held (and the ledger, 20 ms, not imported)
    # imported here: the ledger brings the executor and the Hosts (ctypes, subprocess), 20 ms that an
    # evaluation of a snapshot without a state dir never needs (issue 14: request evaluate one node under 120 ms)
    from rmctl.errors import StateError
    from rmctl.model.fingerprint import fingerprint
    from rmctl.state.requests import reserved_from_state

    lg = statedir.for_node(node, state_dir, "rmctl request", lock_timeout)
    try:
        state = lg.load(fingerprint(node))
    except StateError as e:
        if notes is None or e.details.get("state_fingerprint") is None:
            raise
        notes.append(f"{node.source.root}: the state dir {lg.state_dir} holds another node's reservations "
                     f"({e.details['state_fingerprint'][:12]}): evaluated without rmctl's reservations")
        return Reserved()
    return reserved_from_state(state)


def with_kubelet(root: Root, node: NodeModel, reserved: Reserved, kubelet_root: str | None) -> tuple[Reserved, list[str]]:
    """Return ``reserved`` plus what the kubelet under ``root`` holds (its checkpoints), and notes.

    The kubelet's exclusive CPUs, the devices its device manager allocated
    (tied to PCI addresses, named by pod) and the hugepages its Memory
    Manager promised but no process uses yet are taken.  On the live node
    the PodResources API names the pods when its socket is there.
    KubeletCheckpointError (exit 5) for a corrupt checkpoint: what the
    kubelet holds is then unknown, and guessing "nothing" could hand out a
    pod's GPU.
    """
    from rmctl.discovery import kubelet
    from rmctl.planning.kubelet import kubelet_held

    state = kubelet.read(root, kubelet_root, api=root.is_live)
    if not state.present():
        return reserved, []
    k = kubelet_held(node, state)
    devices = dict(reserved.devices)
    for addr, who in k.devices:
        devices.setdefault(addr, who)
    pages = dict(reserved.hugepages)
    for key, n in k.hugepages:
        pages[key] = pages.get(key, 0) + n
    notes = []
    if k.unresolved:
        notes.append(f"{counted(len(k.unresolved), 'device')} the kubelet allocated {'is' if len(k.unresolved) == 1 else 'are'} not tied to a PCI device "
                     f"({', '.join(sorted({h.resource for h in k.unresolved}))}): not counted as taken")
    return Reserved(cpus=reserved.cpus | k.cpus, devices=devices, hugepages=pages,
                    memory=dict(reserved.memory)), notes


def kubelet_flags(**values):
    """Return the kubelet policy flags of the command line (rmctl.resources.kube.kubelet.Flags)."""
    from rmctl.resources.kube.kubelet import Flags

    return Flags(**values)


def policies_for(flags=None, kubelet_config: str | None = None):
    """Return the kubelet's policies: the defaults, then the KubeletConfiguration file, then the flags."""
    from rmctl.resources.kube.kubelet import KubeletPolicies, apply_flags, load_config

    pol = load_config(kubelet_config) if kubelet_config else KubeletPolicies()
    if flags is not None:
        pol = apply_flags(pol, flags)
    return pol


def _request_policy(req: ResourceRequest, pol) -> tuple[ResourceRequest, list[str]]:
    """Return the request under the Topology Manager policy that applies, and notes on ignored flags.

    --topology-policy overrides spec.topologyPolicy; a --kubelet-config's
    topologyManagerPolicy applies when the request does not set its own.
    """
    from rmctl.model.value import replace

    notes = []
    src = pol.sources.get("topologyManagerPolicy")
    if src == "flag" or (src is not None and not req.policy_given):
        req = replace(req, policy=pol.topology_policy)
    if pol.sources.get("topologyManagerScope"):
        notes.append(f"topology scope {pol.topology_scope}: a ResourceRequest is one unit, "
                     "so container and pod scope give the same answer")
    pod_only = sorted(k for k in pol.sources if k in (
        "cpuManagerPolicy", "cpuManagerPolicyOptions", "reservedSystemCPUs", "memoryManagerPolicy",
        "reservedMemory", "systemReserved", "kubeReserved", "evictionHard"))
    if pod_only:
        notes.append(f"{', '.join(pod_only)}: used for Pods only (a ResourceRequest says its own CPUs and memory)")
    return req, notes


class _Prepared:
    """What every node's evaluation shares: the input, the kubelet's policies (None: the defaults, for an
    rmctl request given no kubelet flag or configuration), the request (None: pods)."""

    def __init__(self, got: Loaded, pol, request: ResourceRequest | None, notes: list[str]):
        self.got, self.pol, self.request, self.notes = got, pol, request, notes

    @property
    def name(self) -> str:
        if self.request is None:
            assert self.got.kube is not None
            return self.got.kube.name
        return self.request.name


def _prepare(file, class_dir: str | None, max_numa_nodes: int | None, flags,
             kubelet_config: str | None) -> _Prepared:
    """Read the input and the policies once, before any node is read (a fleet's workers share it)."""
    got = load_input(file, class_dir)
    if got.kube is None and flags is None and max_numa_nodes is None and not kubelet_config:
        # rmctl's request under the kubelet's default policies: nothing to lay over the request, and
        # evaluate()'s defaults are KubeletPolicies()' (tests/requests/test_import_budget.py), so the
        # kubelet's policies (rmctl.resources.kube) are not imported (issue 14: one class on one node
        # under 120 ms)
        assert got.request is not None  # rmctl's request (not Kubernetes pods)
        _compile_selectors(got.request, got.classes)
        return _Prepared(got, None, got.request, [])
    from rmctl.resources.kube.kubelet import Flags

    if max_numa_nodes is not None:
        flags = flags or Flags()
        flags.max_numa_nodes = max_numa_nodes
    pol = policies_for(flags, kubelet_config)
    notes: list[str] = list(got.kube.notes) if got.kube is not None else []
    if got.kube is not None and got.kube.pods:
        from rmctl.planning.pods import check_config

        check_config(pol)
        return _Prepared(got, pol, None, notes)
    assert got.request is not None  # no pods: rmctl's request, or the claims as one
    req, more = _request_policy(got.request, pol)
    _compile_selectors(req, got.classes)
    return _Prepared(got, pol, req, notes + more)


def _compile_selectors(req: ResourceRequest, classes: dict[str, ResourceClass]) -> None:
    """Compile the selectors of the classes the request uses, once, before a fleet's workers are forked."""
    for d in req.devices:
        for ch in d.choices:
            c = classes.get(ch.class_name)
            for s in c.selectors if c is not None else ():
                s.compiled  # noqa: B018  # compiled on first use (rmctl.resources.classes.ClassSelector)


def _on_node(r: Root, prep: _Prepared, state_dir: str, lock_timeout: float,
             kubelet_root: str | None, several: bool = False) -> tuple[object, list[str], bool]:
    """Return one node's answer: (the Evaluation, or (NodeModel, pod evaluations)), notes, and whether it fits.

    ``several``: one of several nodes, so a state dir of another node is a note, not an error (:func:`held`).
    """
    n = discover(r, devices=True)
    if prep.request is None:
        evs, more = _pod_evaluations(r, n, prep.got, prep.pol, state_dir, lock_timeout, kubelet_root)
        return (n, evs), more, all(e.fits for e in evs)
    state_notes: list[str] = []
    reserved, more = with_kubelet(r, n, held(n, state_dir, lock_timeout, state_notes if several else None),
                                  kubelet_root)
    more = state_notes + more
    if prep.pol is None:  # the kubelet's defaults: evaluate()'s own
        ev = evaluate(n, prep.request, prep.got.classes, reserved=reserved)
    else:
        ev = evaluate(n, prep.request, prep.got.classes, reserved=reserved, max_numa_nodes=prep.pol.max_numa_nodes,
                      prefer_closest=prep.pol.prefer_closest_numa)
    kube = prep.got.kube
    if kube is not None:
        from rmctl.model.value import replace

        ev = replace(ev, notes=tuple(ev.notes) + tuple(
            f"{c.ref()}: {x}" for c in list(kube.claims.values()) + list(kube.templates.values())
            for x in c.notes))
    return ev, more, ev.fits


def _evaluations(root: Root, file, roots: Sequence[str], class_dir: str | None, state_dir: str,
                 lock_timeout: float, max_numa_nodes: int | None = None,
                 kubelet_root: str | None = None, flags=None,
                 kubelet_config: str | None = None) -> tuple[str, list, list[str], Loaded]:
    """Return (name, per node: the Evaluation or (NodeModel, pod evaluations), notes, the input), in order."""
    prep = _prepare(file, class_dir, max_numa_nodes, flags, kubelet_config)
    notes = list(prep.notes)
    out = []
    for r in [root] if not roots else [Root.open(x) for x in roots]:
        value, more, _ = _on_node(r, prep, state_dir, lock_timeout, kubelet_root, several=len(roots) > 1)
        notes += more
        out.append(value)
    return prep.name, out, notes, prep.got


def request_roots(specs: Sequence[str], given: bool, roots_from: str | None = None,
                  files: Sequence[str] = ()) -> tuple[list[str], bool]:
    """Return the roots a request is evaluated on, and whether they are a fleet (list documents).

    A fleet is what the caller asked for as one: ``--root`` more than
    once, a directory of snapshots, ``--roots-from`` (even when it names
    one root: the document's shape does not depend on the list's
    length).  ``--roots-from`` replaces the default root (``/`` or
    RMCTL_ROOT) rather than adding to it.
    """
    from rmctl.discovery.roots import fleet_roots  # not through ops.fleet: one node needs no pool

    if roots_from == "-" and "-" in ([files] if isinstance(files, str) else list(files)):
        from rmctl.errors import UsageError

        raise UsageError("the request and --roots-from cannot both be read from stdin ('-')",
                         hint="give one of them as a file")
    if roots_from is None and len(specs) == 1:
        expanded = fleet_roots(list(specs))
        return expanded, expanded != list(specs)
    return fleet_roots(list(specs) if given or roots_from is None else [], roots_from), True


def evaluate_fleet(roots: Sequence[str], file, *, explain: bool = False, jobs: int | None = None,
                   class_dir: str | None = None, state_dir: str, lock_timeout: float = 10.0,
                   max_numa_nodes: int | None = None, kubelet_root: str | None = None, flags=None,
                   kubelet_config: str | None = None):
    """Return the rmctl.ops.fleet.Fleet of a request on ``roots``: nodes read in up to ``jobs`` processes.

    The input is read (and its selectors compiled) here, once; a bad
    request is an error before any node is read.  Iterate the Fleet for
    each node as it is known, then take its ``outcome()``: the
    RequestEvaluationList (RequestExplanationList, PodEvaluationList,
    PodExplanationList) document, nodes in the order of ``roots``, with
    ``errors`` for the nodes that could not be read.
    """
    from rmctl.ops.fleet import Fleet, errors_data

    prep = _prepare(file, class_dir, max_numa_nodes, flags, kubelet_config)

    def node(spec: str):
        with Root.open(spec) as r:
            return _on_node(r, prep, state_dir, lock_timeout, kubelet_root, several=True)

    pods = prep.request is None
    kind = ("Pod" if pods else "Request") + ("Explanation" if explain else "Evaluation")

    def document(res) -> tuple[str, dict]:
        if pods:
            n, evs = res.value
            return kind, {"node": n.source.root, "admitted": res.fits, "pods": [e.to_data(explain=explain) for e in evs],
                          "input": list(prep.got.kube.files), "notes": list(prep.got.kube.notes)}
        return kind, res.value.to_data(explain=explain)

    def finish(results) -> Outcome:
        good = [r for r in results if r.error is None]
        status = Fleet.status(results)
        msgs = tuple(note(n) for n in prep.notes)
        if pods:
            out = _pod_outcome(kind, [r.value for r in good], prep.got, msgs, explain=explain, fleet=True)
            return Outcome(kind=out.kind, data={**out.data, "errors": errors_data(results)}, exit_code=status,
                           view=out.view, messages=out.messages)
        evs = [r.value for r in good]
        data = {"request": prep.name, "fits": any(e.fits for e in evs)}
        if not explain:
            data["fitting_nodes"] = [e.node for e in evs if e.fits]
        data["nodes"] = [e.to_data(explain=explain) for e in evs]
        data["errors"] = errors_data(results)
        return Outcome(kind=kind + "List", data=data, exit_code=status, view=tuple(evs),
                       messages=msgs + finding_warnings(evs))

    return Fleet(roots, node, jobs=jobs, document=document, finish=finish, name=f"request {prep.name}", pods=pods)


def _pod_evaluations(r: Root, node: NodeModel, got: Loaded, pol, state_dir: str, lock_timeout: float,
                     kubelet_root: str | None):
    """Return the kubelet's answer for every pod of the input on one node, and notes."""
    from rmctl.discovery import kubelet
    from rmctl.planning.kubelet import kubelet_held
    from rmctl.planning.pods import evaluate_pods

    notes: list[str] = []
    state = kubelet.read(r, kubelet_root, api=r.is_live)
    k_held = Reserved()
    if state.present():
        k = kubelet_held(node, state)
        k_held = Reserved(cpus=k.cpus, devices=dict(k.devices))
        if k.unresolved:
            notes.append(f"{counted(len(k.unresolved), 'device')} the kubelet allocated {'is' if len(k.unresolved) == 1 else 'are'} not tied to a PCI device: "
                         "not counted as taken")
    else:
        notes.append("no kubelet checkpoints on this node: evaluated as a kubelet with no pods yet "
                     "(the scheduler counts every pod's requests; rmctl sees only what the checkpoints hold)")
    inp = got.kube

    def claims_of(pod) -> list[tuple]:
        out: list[tuple] = []
        for pc in pod.claims:
            if pc.claim is not None:
                key = (pod.namespace, pc.claim)
                out.append((pc.name, inp.claims[key], key))
            else:
                out.append((pc.name, inp.templates[(pod.namespace, pc.template)], None))
        return out

    evs = evaluate_pods(node, inp.pods, got.classes, claims_of, pol, kubelet=state if state.present() else None,
                        held=k_held, rmctl_held=held(node, state_dir, lock_timeout))
    return evs, notes


def finding_warnings(evs) -> tuple:
    """Return one stderr warning per node finding that changed an answer (Evaluation.warnings), node named
    when there are several (issue 11 finding 4: the node_memory_mismatch fallback to the machine's memory)."""
    out = []
    for ev in evs:
        for w in ev.warnings:
            out.append(warning(w if len(evs) == 1 else f"{ev.node}: {w}"))
    return tuple(dict.fromkeys(out))


def _status(fits: bool) -> ExitCode:
    return ExitCode.OK if fits else ExitCode.UNSATISFIABLE


def evaluate_request(root: Root, file, *, roots: Sequence[str] = (), class_dir: str | None = None,
                     state_dir: str, lock_timeout: float = 10.0, max_numa_nodes: int | None = None,
                     kubelet_root: str | None = None, flags=None, kubelet_config: str | None = None,
                     jobs: int | None = 1) -> Outcome:
    """Evaluate the request in ``file`` (one path or several) on ``root`` (or each of ``roots``).

    rmctl's ResourceRequest, or Kubernetes claims without a pod: one node,
    the RequestEvaluation document; several: the RequestEvaluationList
    (``fits`` when any node fits, ``fitting_nodes``, one evaluation per
    node; :func:`evaluate_fleet`, which streams them).  Kubernetes pods:
    the PodEvaluation document (one node) or the PodEvaluationList, the
    kubelet's answer per pod (:func:`_pod_outcome`).  What the kubelet
    under ``kubelet_root`` holds is taken (:func:`with_kubelet`).
    """
    kw = dict(class_dir=class_dir, state_dir=state_dir, lock_timeout=lock_timeout, max_numa_nodes=max_numa_nodes,
              kubelet_root=kubelet_root, flags=flags, kubelet_config=kubelet_config)
    if roots:
        return evaluate_fleet(roots, file, jobs=jobs, **kw).outcome()
    prep = _prepare(file, class_dir, max_numa_nodes, flags, kubelet_config)
    value, more, _ = _on_node(root, prep, state_dir, lock_timeout, kubelet_root)
    msgs = tuple(note(n) for n in prep.notes + more)
    if prep.request is None:
        return _pod_outcome("PodEvaluation", [value], prep.got, msgs, explain=False)
    assert isinstance(value, Evaluation)  # a request (not pods): its Evaluation
    ev = value
    return Outcome(kind="RequestEvaluation", data=ev.to_data(), exit_code=_status(ev.fits), view=(ev,),
                   messages=msgs + finding_warnings([ev]))


def explain_request(root: Root, file, *, roots: Sequence[str] = (), class_dir: str | None = None,
                    state_dir: str, lock_timeout: float = 10.0, max_numa_nodes: int | None = None,
                    kubelet_root: str | None = None, flags=None, kubelet_config: str | None = None,
                    jobs: int | None = 1) -> Outcome:
    """Explain the request: as :func:`evaluate_request`, every selector's result on every device included.

    One node: the RequestExplanation (PodExplanation) document; several:
    the RequestExplanationList (PodExplanationList), ``fits`` when any
    node fits.
    """
    kw = dict(class_dir=class_dir, state_dir=state_dir, lock_timeout=lock_timeout, max_numa_nodes=max_numa_nodes,
              kubelet_root=kubelet_root, flags=flags, kubelet_config=kubelet_config)
    if roots:
        return evaluate_fleet(roots, file, explain=True, jobs=jobs, **kw).outcome()
    prep = _prepare(file, class_dir, max_numa_nodes, flags, kubelet_config)
    value, more, _ = _on_node(root, prep, state_dir, lock_timeout, kubelet_root)
    msgs = tuple(note(n) for n in prep.notes + more)
    if prep.request is None:
        return _pod_outcome("PodExplanation", [value], prep.got, msgs, explain=True)
    assert isinstance(value, Evaluation)  # a request (not pods): its Evaluation
    ev = value
    return Outcome(kind="RequestExplanation", data=ev.to_data(explain=True), exit_code=_status(ev.fits),
                   view=(ev,), messages=msgs + finding_warnings([ev]))


def _pod_outcome(kind: str, per_node: list, got: Loaded, msgs: tuple, *, explain: bool,
                 fleet: bool = False) -> Outcome:
    """Return the PodEvaluation (one node) or PodEvaluationList document.

    Per node: ``admitted`` (every pod of the input admitted, in order),
    ``pods`` (one PodEvaluation each).  Exit 0 when every pod is admitted
    (several nodes: on at least one node), 4 otherwise.  ``view``: the
    (node model, evaluations) pairs.
    """
    nodes = []
    for n, evs in per_node:
        nodes.append({"node": n.source.root, "admitted": all(e.fits for e in evs),
                      "pods": [e.to_data(explain=explain) for e in evs]})
    if len(nodes) == 1 and not fleet:
        data = dict(nodes[0])
        data["input"] = list(got.kube.files)
        data["notes"] = list(got.kube.notes)
        return Outcome(kind=kind, data=data, exit_code=_status(data["admitted"]), view=tuple(per_node),
                       messages=msgs)
    ok = [x["node"] for x in nodes if x["admitted"]]
    data = {"input": list(got.kube.files), "admitted": bool(ok), "admitted_on": ok, "nodes": nodes,
            "notes": list(got.kube.notes)}
    return Outcome(kind=kind + "List", data=data, exit_code=_status(bool(ok)), view=tuple(per_node),
                   messages=msgs)
