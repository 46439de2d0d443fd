"""The scripted fast path: ``rmctl [global options] topology -o json|yaml``.

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

from rmctl.cli.context import DEFAULT_STATE_DIR, Settings

#: global options taking a value, and the Settings field each sets
_VALUED = {"--root": "root_spec", "--state-dir": "state_dir", "--lock-timeout": "lock_timeout"}
_VERBOSE = re.compile(r"-v+\Z")
# what click's FloatRange(min=0) surely accepts; anything else goes to typer
_SECONDS = re.compile(r"\d+(\.\d*)?\Z")


def parse(argv: list[str], environ) -> tuple[Settings, str] | None:
    """Return (settings, format) when ``argv`` is a fast-path topology call, else None."""
    if any(k.startswith("_RMCTL_COMPLETE") for k in environ):
        return None  # shell completion is typer's business
    s = Settings(root_spec=environ.get("RMCTL_ROOT") or "/",
                 state_dir=environ.get("RMCTL_STATE_DIR") or DEFAULT_STATE_DIR)
    i = 0
    while True:
        if i >= len(argv):
            return None
        a = argv[i]
        if a == "topology":
            break
        name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
        if name in _VALUED:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                i += 1
                value = argv[i]
            if not value or value.startswith("-"):
                return None
            if name == "--lock-timeout":
                if not _SECONDS.match(value):
                    return None
                s.lock_timeout = float(value)
            else:
                setattr(s, _VALUED[name], value)
        elif a == "--verbose" or _VERBOSE.match(a):
            s.verbose += 1 if a == "--verbose" else len(a) - 1
        elif a == "--debug":
            s.debug = True
        elif a == "--no-color":
            s.color = False
        else:
            return None
        i += 1
    fmt = None
    rest = argv[i + 1:]
    j = 0
    while j < len(rest):
        a = rest[j]
        if a in ("-o", "--output"):
            if j + 1 >= len(rest):
                return None
            j += 1
            value = rest[j]
        elif a.startswith("--output="):
            value = a[len("--output="):]
        elif a.startswith("-o") and not a.startswith("--"):
            value = a[2:]
        elif a == "--verbose" or _VERBOSE.match(a):
            j += 1  # findings are in the document whatever the verbosity
            continue
        else:
            return None
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
