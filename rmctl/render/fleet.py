"""Text for a fleet evaluation as it streams: one table row per node, a progress line, the summary.

Plain strings (no rich): a row is printed the moment its node is known,
so the columns cannot be measured over every row first.  NODE is as wide
as the widest node label (the roots are known before the first node is
read); FITS, NUMA and CPUS have fixed widths that a longer value pushes
along (as ``kubectl get --watch`` does); DEVICES is last.  Colour (red
"no", yellow "error") only when the caller says so (a terminal).
"""

from __future__ import annotations

from rmctl.render.requests import node_label
from rmctl.units import counted

RED, YELLOW, DIM, RESET = "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"
_NUMA_W, _CPUS_W = 6, 14


def labels(roots: list[str]) -> dict[str, str]:
    """Return each root's short label (its file name, when unique among the roots)."""
    return {r: node_label(r, roots) for r in roots}


def header(label_width: int, *, pods: bool = False) -> str:
    """Return the header row."""
    if pods:
        return f"{'NODE':<{label_width}}  {'ADMITTED':<8}  PODS\n"
    return f"{'NODE':<{label_width}}  {'FITS':<5}  {'NUMA':<{_NUMA_W}}  {'CPUS':<{_CPUS_W}}  DEVICES\n"


def _paint(text: str, colour: str, color: bool) -> str:
    return f"{colour}{text}{RESET}" if color else text


def row(result, label: str, label_width: int, *, color: bool = False) -> str:
    """Return one node's row: its evaluation, its pods' verdicts, or its error."""
    name = f"{label:<{label_width}}"
    if result.error is not None:
        return f"{name}  {_paint('error', YELLOW, color)}  {' '.join(result.error.message.split())}\n"
    value = result.value
    if isinstance(value, tuple):  # (node model, pod evaluations)
        _, evs = value
        verdict = "yes" if result.fits else _paint("no", RED, color)
        pods = ", ".join(f"{e.pod}: {'admitted' if e.fits else 'refused'}" for e in evs) if evs else "-"
        pad = " " * (8 - len("yes" if result.fits else "no"))
        return f"{name}  {verdict}{pad}  {pods}\n"
    ev = value
    fits = "yes" if ev.fits else _paint("no", RED, color)
    pad = " " * (5 - (3 if ev.fits else 2))
    numa = ",".join(map(str, ev.numa_nodes)) or "-"
    cpus = ev.cpus.to_list() or "-"
    devices = ", ".join(ev.device_addresses) or "-"
    return f"{name}  {fits}{pad}  {numa:<{_NUMA_W}}  {cpus:<{_CPUS_W}}  {devices}\n"


def why_not(results, names: dict[str, str], width: int = 80) -> str:
    """Return why the request does not fit on each node it does not fit on (after the rows), wrapped to ``width``."""
    import textwrap

    out = []
    for r in results:
        if r.error is not None or r.fits:
            continue
        if isinstance(r.value, tuple):
            _, evs = r.value
            reasons = [f"{e.pod}: {x}" for e in evs if not e.fits for x in (e.reasons or ["refused"])]
        else:
            reasons = list(r.value.reasons)
        out.append(f"why not on {names.get(r.root, r.root)}:\n")
        for x in reasons or ["?"]:
            out.append(textwrap.fill(x, width=max(40, width), initial_indent="  - ", subsequent_indent="    ",
                                     break_long_words=False, break_on_hyphens=False) + "\n")
    return "".join(out)


def summary(name: str, results, *, pods: bool = False) -> str:
    """Return the closing line: on how many nodes it fits, how many could not be read."""
    total = len(results)
    fits = sum(1 for r in results if r.fits)
    failed = sum(1 for r in results if r.error is not None)
    what = "admitted" if pods else "fits"
    line = f"{name}: {what} on {fits} of {counted(total, 'node')}"
    if failed:
        line += f"; {failed} could not be read"
    return line + "\n"


def progress(done: int, total: int, fits: int, failed: int, width: int = 80) -> str:
    """Return the progress line (no newline): a bar, the count, what fits so far."""
    tail = f" {done}/{total} nodes, {fits} fit" + (f", {failed} failed" if failed else "")
    bar_w = max(10, min(40, width - len(tail) - 4))
    filled = bar_w * done // total if total else bar_w
    return f"[{'#' * filled}{'.' * (bar_w - filled)}]{tail}"
