"""Tables for pod evaluations: the kubelet's answer per pod (rich; imported on the table path only)."""

from __future__ import annotations

from rmctl.render.requests import _e, _table, hint_text, node_label, selector_renderables
from rmctl.units import counted, format_size


def _policies(k: dict) -> list[str]:
    """Return the kubelet's policies as short lines (80 columns)."""
    cpu = k.get("cpuManagerPolicy", "none")
    if cpu == "static":
        reserved = k.get("reservedSystemCPUs") or counted(k.get('reservedCPUCount', 0), 'CPU')
        opts = [n for n, v in (k.get("cpuManagerPolicyOptions") or {}).items() if v]
        cpu += f", reserved CPUs {reserved}" + ("; " + ", ".join(opts) if opts else "")
    topo = f"{k.get('topologyManagerPolicy', 'none')}, scope {k.get('topologyManagerScope', 'container')}"
    topts = k.get("topologyManagerPolicyOptions") or {}
    if topts.get("prefer-closest-numa-nodes"):
        topo += ", prefer-closest-numa-nodes"
    return [f"  CPUs:     CPU Manager {cpu}", f"  NUMA:     Topology Manager {topo}",
            f"  memory:   Memory Manager {k.get('memoryManagerPolicy', 'None')}"]


def _verdict(ev) -> str:
    v = ev.verdict
    if v is None or v.admitted:
        return "[green]admitted[/green]"
    return f"[red]refused[/red] by the {v.stage}: {_e(v.reason)}"


def _cores(v) -> str:
    """Return a CPU quantity (a Fraction) as Kubernetes writes it: 8, 500m, 1.5."""
    if v.denominator == 1:
        return str(v.numerator)
    milli = v * 1000
    return f"{milli.numerator}m" if milli.denominator == 1 else str(float(v))


def _cpus(res) -> str:
    if res.pool == "exclusive":
        return res.cpus.to_list() or "-"
    if res.pool == "shared":
        return "shared pool"
    return "any"


def pod_renderables(ev, *, explain: bool = False, roots: list | None = None) -> list:
    """Return what to print for one pod: verdict, policies, containers, per-resource table, notes."""
    out: list = []
    head = f"pod {_e(ev.pod)}" + (f" ({_e(ev.origin)})" if ev.origin != "Pod" else "") + f": {_verdict(ev)}"
    v = ev.verdict
    if v is not None and not v.admitted and v.container:
        head += f" (container {_e(v.container)})"
    lines = [head, f"  node:     {_e(node_label(ev.node, roots or [ev.node]))}",
             f"  QoS:      {ev.qos}"] + [_e(x) for x in _policies(ev.kubelet)]
    if v is not None and not v.admitted:
        lines.append(f"  message:  {_e(v.message)}")
        lines += [f"  why:      {_e(r)}" for r in ev.reasons[1:]]
    out.append("\n".join(lines))
    if ev.containers:
        t = _table()
        for col in ("CONTAINER", "TYPE", "CPU", "MEMORY", "CPUS", "NUMA", "CLAIMS"):
            t.add_column(col)
        for res in ev.containers:
            mem = format_size(res.memory) if res.memory else "-"
            if res.hugepages:
                mem += " + " + ", ".join(f"{format_size(b)} {r[len('hugepages-'):]}" for r, b in res.hugepages.items())
            numa = ",".join(map(str, res.memory_nodes if res.memory_nodes is not None else (res.affinity or []))) or "-"
            t.add_row(_e(res.name), res.kind, _cores(res.cpu) if res.cpu else "-", _e(mem), _e(_cpus(res)), numa,
                      _e(", ".join(res.claims)) or "-")
        out.append(t)
    if ev.devices:
        out.append("\n".join(f"  claim {_e(name)}: {', '.join(addrs)}" for name, addrs in ev.devices.items()))
    if ev.resources:
        t = _table()
        for col in ("RESOURCE", "WANTED", "FITS", "NUMA HINTS", "WHY"):
            t.add_column(col)
        for r in ev.resources:
            t.add_row(_e(r.resource), _e(r.wanted), "yes" if r.fits else "[red]no[/red]", hint_text(r.hints),
                      _e(r.reason))
        out.append(t)
    a = ev.admission
    if a is not None and a.policy != "none":
        nodes = "any" if a.hint.mask is None else "{" + ",".join(map(str, a.hint.nodes())) + "}"
        out.append(f"topology manager ({a.policy}, scope {ev.scope}): merged {nodes}, "
                   f"{'preferred' if a.hint.preferred else 'not preferred'}, {'admitted' if a.admit else 'rejected'}"
                   " (*: preferred hint)")
    for n in ev.notes:
        out.append(_e(f"note: {n}"))
    if explain:
        for key, matches in ev.matches.items():
            out.extend(selector_renderables(key, matches, ev.no_match.get(key)))
        for h in ev.hints_for_typos:
            out.append(_e(f"hint: {h}"))
    return out


def pods_renderables(per_node, data: dict, *, explain: bool = False) -> list:
    """Return every pod's answer on every node; across several nodes a summary line first."""
    out: list = []
    roots = [n.source.root for n, _ in per_node]
    if len(per_node) > 1:
        ok = sum(1 for _, evs in per_node if all(e.fits for e in evs))
        out.append(f"admitted on {ok} of {counted(len(per_node), 'node')}")
    for _, evs in per_node:
        for ev in evs:
            out.extend(pod_renderables(ev, explain=explain, roots=roots))
    for n in data.get("notes") or ():
        out.append(_e(f"note: {n}"))
    return out
