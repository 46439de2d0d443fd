"""The scripted fast path: machine output of the commands scripts call in loops, without typer.

``rmctl [global options] topology [global options] [-o json|yaml|table]`` (the
summary table too: people type it, issue 14 sets it within 4x of
lstopo-no-graphics) and
``rmctl [global options] request evaluate|explain FILE... [--class-dir D]
[--max-allowable-numa-nodes N] [--jobs N] [--roots-from F] -o
json|yaml|jsonl``.  Provisioning scripts call these in loops; through
typer they cost 4-5x ``lstopo`` more (typer's import alone is ~45 ms of
CPU on the 2-CPU VM, performance-baselines.md section 3.3), so ``main()``
recognises exactly these argv shapes and runs the same code as the typer
commands (rmctl.ops.topology.show; rmctl.cli.evaluate.run) without
importing typer.  Anything not
recognised here (another option, ``--help``, a value starting with ``-``,
a malformed value) returns None and falls through to typer, which then
handles it, errors included, exactly as before.  Both paths share the use
cases, :func:`rmctl.cli.output.show` and
:func:`rmctl.cli.errors.report_exception`, and tests/cli/test_fastpath.py
checks that they print the same bytes and exit the same way.
"""

from __future__ import annotations

import os
import sys

from rmctl.cli.context import BY_FLAG, COUNT, FLAG, Settings

# parsed by hand, not with re: its import (with enum's) is ~8M instructions of topology -o json


def _verbose(a: str) -> bool:
    """``-v``, ``-vv``...: ``-v+\\Z``."""
    return len(a) > 1 and a[0] == "-" and not a[1:].strip("v")


def _seconds(value: str) -> bool:
    """What click's FloatRange(min=0) surely accepts (``\\d+(\\.\\d*)?\\Z``); anything else goes to typer."""
    whole, dot, frac = value.partition(".")
    return whole.isdecimal() and (not dot or not frac or frac.isdecimal())


def _small_int(value: str) -> bool:
    """``[0-9]{1,6}\\Z``."""
    return 0 < len(value) <= 6 and value.isascii() and value.isdigit()


def _global(argv: list[str], i: int, s: Settings) -> int | None:
    """Apply the global option at ``argv[i]`` (rmctl.cli.context's table); return the next index.

    None: not a global option, or one the fast path leaves to typer (a
    missing or odd value: typer then says what is wrong).
    """
    a = argv[i]
    if _verbose(a):
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
        if not _seconds(value):
            return None
        s.take("lock_timeout", float(value))
    else:
        s.take(option.dest, value)
    return i + 1


#: the commands the fast path serves: words -> (its own options: flag -> (dest, kind), formats, positionals)
_INT, _TEXT = "int", "text"
COMMANDS = {
    ("topology",): ({}, ("json", "yaml", "table"), False),
    ("request", "evaluate"): ({"--class-dir": ("class_dir", _TEXT), "--max-allowable-numa-nodes": ("max_numa", _INT),
                               "--jobs": ("jobs", _INT), "-j": ("jobs", _INT), "--roots-from": ("roots_from", _TEXT)},
                              ("json", "yaml", "jsonl"), True),
}
COMMANDS[("request", "explain")] = COMMANDS[("request", "evaluate")]
#: bounds of the integer options (typer's min/max: outside them typer reports the usage error)
_BOUNDS = {"max_numa": (8, 12), "jobs": (1, 1 << 16)}


class Call:
    """A command line the fast path serves: the command's words, the settings, the format, its own options."""

    __slots__ = ("words", "settings", "fmt", "options", "files")

    def __init__(self, words: tuple[str, ...], settings: Settings, fmt: str, options: dict, files: list[str]):
        self.words, self.settings, self.fmt, self.options, self.files = words, settings, fmt, options, files

    def __iter__(self):  # (settings, fmt), as parse() returned before it served more than topology
        return iter((self.settings, self.fmt))


def parse(argv: list[str], environ) -> Call | None:
    """Return the Call when ``argv`` is a command line the fast path serves, else None.

    Global options may come before and after the command (as on the typer
    path); the command's own options and ``-o``/``--output`` after it.
    """
    if any(k.startswith("_RMCTL_COMPLETE") for k in environ):
        return None  # shell completion is rmctl.cli.completion's business
    s = Settings.from_environ(environ)
    i = 0
    words: tuple[str, ...] = ()
    while True:
        if i >= len(argv):
            return None
        for cmd in COMMANDS:
            if tuple(argv[i:i + len(cmd)]) == cmd:
                words = cmd
                break
        if words:
            break
        nxt = _global(argv, i, s)
        if nxt is None:
            return None
        i = nxt
    own, formats, takes_files = COMMANDS[words]
    fmt = None
    options: dict = {}
    files: list[str] = []
    j = i + len(words)
    while j < len(argv):
        a = argv[j]
        if a in ("-o", "--output") or a.startswith("--output=") or (a.startswith("-o") and not a.startswith("--")):
            if a in ("-o", "--output"):
                if j + 1 >= len(argv):
                    return None
                j += 1
                value = argv[j]
            else:
                value = a[len("--output="):] if a.startswith("--output=") else a[2:]
            if value.lower() not in ("table", *formats):
                return None
            fmt = value.lower()
            j += 1
            continue
        name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
        if name in own:
            dest, kind = own[name]
            if not eq:
                if j + 1 >= len(argv):
                    return None
                j += 1
                value = argv[j]
            if not value or value.startswith("-") or dest in options:
                return None  # odd or repeated: typer says what it makes of it
            if kind == _INT:
                lo, hi = _BOUNDS[dest]
                if not _small_int(value) or not lo <= int(value) <= hi:
                    return None
                options[dest] = int(value)
            else:
                options[dest] = value
            j += 1
            continue
        if takes_files and (a == "-" or not a.startswith("-")):
            files.append(a)
            j += 1
            continue
        nxt = _global(argv, j, s)  # findings are in the document whatever the verbosity
        if nxt is None:
            return None
        j = nxt
    if fmt is None and words == ("topology",):
        fmt = "table"  # topology's default (Format.table); --tree and anything else go to typer
    if fmt not in formats or (takes_files and not files):
        return None
    if words == ("topology",) and len(s.root_specs) > 1:
        return None  # topology reads one node: typer's usage error says so
    if takes_files and "class_dir" not in options:
        options["class_dir"] = environ.get("RMCTL_CLASS_DIR") or None  # ClassDir's envvar (an empty one is unset)
    return Call(words, s, fmt, options, files)


def emit_topology(settings: Settings, fmt: str, *, tree: bool = False) -> int:
    """Print the Topology document (json or yaml) or the summary table; return the exit status."""
    from rmctl.cli.output import show
    from rmctl.ops.topology import show as topology

    return show(settings, topology(settings.root, devices=tree), fmt, table=topology_table)


def topology_table(settings: Settings, outcome) -> None:
    """Print ``rmctl topology``'s summary tables (rich, without typer: typer's import and command
    building were ~30 ms of the table's ~100 ms CPU, 4.5x lstopo-no-graphics on the 2-CPU VM; issue 14)."""
    if not settings.use_color(sys.stdout):
        # no colour: the same bytes without importing rich (~40 ms), where plain text can match them
        from rmctl.render.summary import plain_topology

        text = plain_topology(outcome.view, verbose=settings.verbose, width=_console_width())
        if text is not None:
            sys.stdout.write(text)
            return
    from rmctl.cli.output import console
    from rmctl.render import tables

    tables.print_topology(console(settings), outcome.view, verbose=settings.verbose)


def _console_width() -> int:
    """Return a width rich's Console never undercuts here: COLUMNS, else the first of stdin,
    stdout and stderr that is a terminal, capped at rich's 80 for everything else (a table wider
    than this is printed by rich, which wraps it)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return min(80, int(columns))
    for fd in (0, 1, 2):
        try:
            return min(80, os.get_terminal_size(fd).columns)
        except (OSError, ValueError):
            continue
    return 80


def _serve(call: Call) -> int:
    if call.words == ("topology",):
        return emit_topology(call.settings, call.fmt)
    from rmctl.cli import evaluate

    o = call.options
    return evaluate.run(call.settings, call.files, explain=call.words[1] == "explain", class_dir=o.get("class_dir"),
                        fmt=call.fmt, jobs=o.get("jobs"), roots_from=o.get("roots_from"),
                        max_numa_nodes=o.get("max_numa"))


def run(argv: list[str], environ) -> int | None:
    """Run the fast path when ``argv`` fits it; return the exit code, or None to fall through."""
    call = parse(argv, environ)
    if call is None:
        return None
    try:
        return _serve(call)
    except BrokenPipeError:
        raise
    except (Exception, KeyboardInterrupt) as e:
        from rmctl.cli.errors import report_exception

        return report_exception(e, call.fmt, call.settings.debug)
