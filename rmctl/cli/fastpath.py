"""The scripted fast path: ``rmctl [global options] topology [global options] -o json|yaml``.

Provisioning scripts call this in loops; through typer it costs 4-5x
``lstopo`` (typer's import alone is ~80 ms, performance-baselines.md
section 3.3), so ``main()`` recognises exactly this argv shape and runs the
same code as the typer command without importing typer.  Anything not
recognised here (another option, ``--help``, a value starting with ``-``,
a malformed value) returns None and falls through to typer, which then
handles it, errors included, exactly as before.  Both paths share
:func:`rmctl.ops.topology.show` (rendered by :func:`rmctl.cli.output.finish`)
and :func:`rmctl.cli.errors.report_exception`, and a test checks that they
print the same bytes.
"""

from __future__ import annotations

import re

from rmctl.cli.context import BY_FLAG, COUNT, FLAG, Settings

_VERBOSE = re.compile(r"-v+\Z")
# what click's FloatRange(min=0) surely accepts; anything else goes to typer
_SECONDS = re.compile(r"\d+(\.\d*)?\Z")


def _global(argv: list[str], i: int, s: Settings) -> int | None:
    """Apply the global option at ``argv[i]`` (rmctl.cli.context's table); return the next index.

    None: not a global option, or one the fast path leaves to typer (a
    missing or odd value, a second --root: typer then says what is wrong).
    """
    a = argv[i]
    if _VERBOSE.match(a):
        s.take("verbose", len(a) - 1)
        return i + 1
    name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
    option = BY_FLAG.get(name)
    if option is None:
        return None
    if option.kind in (COUNT, FLAG):
        if eq:
            return None
        s.take(option.dest, 1 if option.kind == COUNT else True)
        return i + 1
    if not eq:
        if i + 1 >= len(argv):
            return None
        i += 1
        value = argv[i]
    if not value or value.startswith("-"):
        return None
    if option.dest == "lock_timeout":
        if not _SECONDS.match(value):
            return None
        s.take("lock_timeout", float(value))
    elif option.dest == "root" and s.roots_given:
        return None  # topology reads one node: typer's usage error says so
    else:
        s.take(option.dest, value)
    return i + 1


def parse(argv: list[str], environ) -> tuple[Settings, str] | None:
    """Return (settings, format) when ``argv`` is a fast-path topology call, else None.

    Global options may come before and after ``topology`` (as on the typer
    path); ``-o``/``--output`` after it.
    """
    if any(k.startswith("_RMCTL_COMPLETE") for k in environ):
        return None  # shell completion is typer's business
    s = Settings.from_environ(environ)
    i = 0
    while True:
        if i >= len(argv):
            return None
        if argv[i] == "topology":
            break
        nxt = _global(argv, i, s)
        if nxt is None:
            return None
        i = nxt
    fmt = None
    j = i + 1
    while j < len(argv):
        a = argv[j]
        if a in ("-o", "--output"):
            if j + 1 >= len(argv):
                return None
            j += 1
            value = argv[j]
        elif a.startswith("--output="):
            value = a[len("--output="):]
        elif a.startswith("-o") and not a.startswith("--"):
            value = a[2:]
        else:
            nxt = _global(argv, j, s)  # findings are in the document whatever the verbosity
            if nxt is None:
                return None
            j = nxt
            continue
        if value.lower() not in ("table", "json", "yaml"):
            return None
        fmt = value.lower()
        j += 1
    if fmt not in ("json", "yaml"):
        return None
    return s, fmt


def emit_topology(settings: Settings, fmt: str, *, tree: bool = False) -> None:
    """Print the Topology document (json or yaml)."""
    from rmctl.cli.output import finish
    from rmctl.ops.topology import show

    finish(settings, show(settings.root, devices=tree), fmt)


def run(argv: list[str], environ) -> int | None:
    """Run the fast path when ``argv`` fits it; return the exit code, or None to fall through."""
    parsed = parse(argv, environ)
    if parsed is None:
        return None
    settings, fmt = parsed
    try:
        emit_topology(settings, fmt)
    except BrokenPipeError:
        raise
    except (Exception, KeyboardInterrupt) as e:
        from rmctl.cli.errors import report_exception

        return report_exception(e, fmt, settings.debug)
    return 0
