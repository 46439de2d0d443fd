"""``request evaluate|explain`` without typer: shared by the typer commands and the scripted fast path.

Both paths call :func:`run` with the parsed options, so a script's
``rmctl request evaluate r.yaml -o json`` (served before typer is
imported, rmctl.cli.fastpath) and the same command through typer print
the same bytes and exit the same way.  It returns the exit status; the
caller ends the process with it.

One node (one ``--root``, or none): the use case's Outcome, rendered as
every command's.  A fleet (``--root`` repeated, a directory of snapshots,
``--roots-from``): rmctl.ops.fleet reads the nodes in parallel and each
node is printed as it is known:

- ``-o table``: a header, then one row per node in the order they finish,
  then why it does not fit where it does not, then the summary line;
- ``-o jsonl``: one JSON document per line per node, in the order they
  finish, each the document ``-o json`` prints for that node alone (an
  ``Error`` document, naming the node, for one that could not be read);
- ``-o json|yaml``: the one list document at the end, nodes in root order.

On a terminal, stderr shows a progress line while nodes are read.
"""

from __future__ import annotations

import sys

from rmctl.cli.output import show


def run(settings, files, *, explain: bool = False, class_dir: str | None = None, fmt: str = "table",
        jobs: int | None = None, roots_from: str | None = None, max_numa_nodes: int | None = None,
        flags=None, kubelet_config: str | None = None, table=None) -> int:
    """Evaluate (or explain) the request in ``files`` on the roots of ``settings``; return the exit status.

    ``table(settings, outcome)`` prints one node's evaluation for people
    (the typer command's renderer, rich); the fast path never asks for a
    table.
    """
    from rmctl.ops import requests

    roots, fleet = requests.request_roots(settings.root_specs, settings.roots_given, roots_from, files)
    kw = dict(class_dir=class_dir, state_dir=settings.state_dir, lock_timeout=settings.lock_timeout,
              max_numa_nodes=max_numa_nodes, kubelet_root=settings.kubelet_root, flags=flags,
              kubelet_config=kubelet_config)
    if not fleet:
        settings.root_spec = roots[0]
        op = requests.explain_request if explain else requests.evaluate_request
        outcome = op(settings.root, files, **kw)
        if fmt == "jsonl":
            return show(settings, outcome, "jsonl")
        return show(settings, outcome, fmt, table=table)
    stream = requests.evaluate_fleet(roots, files, explain=explain, jobs=jobs, **kw)
    return _stream(settings, stream, fmt)


def _stream(settings, stream, fmt: str) -> int:
    """Print a fleet's nodes as they come (see the module doc); return its exit status."""
    from rmctl.render import fleet as text
    from rmctl.render.data import document, dumps

    names = text.labels(list(stream.roots))
    width = max([len(n) for n in names.values()] + [4])
    progress = _Progress(len(stream)) if _terminal(sys.stderr) else None
    color = settings.use_color(sys.stdout)
    pods = stream.pods
    if fmt == "table":
        _out(text.header(width, pods=pods), progress)
    results = []
    for r in stream:
        results.append(r)
        if fmt == "jsonl":
            kind, data = stream.document(r)
            _out(dumps(document(kind, data), "jsonl"), progress)
        elif fmt == "table":
            _out(text.row(r, names[r.root], width, color=color), progress)
        if progress is not None:
            progress.tick(r)
    if progress is not None:
        progress.clear()
    outcome = stream.outcome()
    if fmt == "table":
        import shutil

        ordered = sorted(results, key=lambda r: r.index)
        columns = shutil.get_terminal_size((80, 24)).columns
        _out(text.why_not(ordered, names, columns) + text.summary(stream.name, ordered, pods=pods), None)
        return show(settings, outcome, "table", table=lambda *_: None)
    if fmt == "jsonl":
        return show(settings, outcome, "none")
    return show(settings, outcome, fmt)


def _terminal(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def _out(text: str, progress) -> None:
    """Write a line on stdout, the progress line (on the same terminal, maybe) cleared first."""
    if progress is not None:
        progress.clear()
    sys.stdout.write(text)
    sys.stdout.flush()
    if progress is not None:
        progress.draw()


class _Progress:
    """The progress line on stderr (a terminal): drawn after each node, cleared before stdout is written."""

    def __init__(self, total: int):
        self.total, self.done, self.fits, self.failed = total, 0, 0, 0
        self.shown = False

    def tick(self, r) -> None:
        self.done += 1
        self.fits += bool(r.fits)
        self.failed += r.error is not None
        self.draw()

    def draw(self) -> None:
        import shutil

        from rmctl.render.fleet import progress

        width = shutil.get_terminal_size((80, 24)).columns
        sys.stderr.write("\r" + progress(self.done, self.total, self.fits, self.failed, width - 1) + "\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False
