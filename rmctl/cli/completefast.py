"""<Tab> on a value without typer: the same answer as typer's completion, in a third of the time.

The completion scripts (rmctl.cli.completion_scripts) run ``rmctl`` with
``_RMCTL_COMPLETE=complete_<shell>`` and the words typed.  Through typer,
importing typer and building the command tree cost ~60 ms before the
answer (issue 14 budgets a <Tab> on class names, NUMA ids, PCI addresses
and reservation names at 100 ms).  Here :func:`run` reads the words the
way typer's completion classes do (typer._completion_classes), walks them
with the generated table of every command's options and arguments
(rmctl.cli.completion_table, from tools/gen_completion_table.py), finds
what click would complete (click's ``_resolve_context`` and
``_resolve_incomplete``: the value of the option just typed, else the
first argument still open) and answers with the same function the typer
path calls (:func:`rmctl.cli.complete.answer`), printed as typer prints it
for each shell.

It answers only what it can answer exactly; for anything else it returns
None and typer answers as before: command and option names (typer prints
their help beside them), an option or word the table does not know, a
value typer itself completes (paths, enum members), ``--``, quotes or
backslashes in the line (click splits those with shlex), short options
glued to their value, ``--lock-timeout`` (its type decides whether click
applies it), answers that are not ASCII.  tests/cli/test_completefast.py
runs both paths over every completing option and argument of every
command and compares their bytes and exit status.
"""

from __future__ import annotations

from rmctl.cli.context import Settings

_SHELLS = ("bash", "zsh", "fish")


def _split(line: str) -> list[str] | None:
    """Split as click's split_arg_string (shlex, POSIX, whitespace_split) where that is ``str.split``.

    shlex treats only quotes and the backslash specially and splits at
    space, tab, CR and LF; a line with any of those specials, or another
    character str.split would split at, is left to typer (None).
    """
    for c in line:
        if c in "'\"\\" or (c.isspace() and c not in " \t\r\n"):
            return None
    return line.split()


def _words(shell: str, environ) -> tuple[list[str], str] | None:
    """Return (the complete words after ``rmctl``, the word being typed), as typer's class for ``shell`` reads them."""
    if shell == "bash":
        cwords = _split(environ.get("COMP_WORDS", ""))
        cword = environ.get("COMP_CWORD", "")
        if cwords is None or not (cword.isascii() and cword.isdigit()) or int(cword) < 1:
            return None
        n = int(cword)
        return cwords[1:n], (cwords[n] if n < len(cwords) else "")
    line = environ.get("_TYPER_COMPLETE_ARGS", "")
    cwords = _split(line)
    if cwords is None:
        return None
    args = cwords[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


class _Line:
    """What the words typed give: the command reached, its own option values, the global options, arguments."""

    __slots__ = ("words", "entry", "given", "settings", "any_global", "arguments")

    def __init__(self, environ):
        from rmctl.cli.completion_table import COMMANDS

        self.words: tuple[str, ...] = ()
        self.entry = COMMANDS[()]
        self.given: dict[str, str] = {}
        self.settings = Settings.from_environ(environ)
        self.any_global = False
        self.arguments = 0

    def option(self, flag: str):
        """Return the table's (dest, takes a value, completion) of ``flag`` for the command reached, or None."""
        from rmctl.cli.completion_table import GLOBALS

        return self.entry[1].get(flag) or GLOBALS.get(flag)

    def lookup(self, name: str, env: str, default: str, environ) -> str:
        """rmctl.cli.complete._param, from this line instead of click's contexts."""
        if self.any_global and name == "root":
            return self.settings.root_specs[0]
        if self.any_global and name == "state_dir":
            return self.settings.state_dir
        return self.given.get(name) or environ.get(env) or default


def _take(line: _Line, args: list[str], i: int) -> int | None:
    """Apply the option at ``args[i]`` as click's parser would; return the next index (len(args) + 1:
    its value is missing, the parser stopped there), or None where the fast path steps aside."""
    from rmctl.cli.completion_table import GLOBALS

    a = args[i]
    if len(a) > 2 and a[0] == "-" and a[1] != "-" and not a[1:].strip("v"):  # -vv: click counts each v
        flags = ["-v"] * (len(a) - 1)
    else:
        flags = [a]
    name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
    if len(flags) == 1:
        flags = [name]
    nxt = i + 1
    for flag in flags:
        spec = line.option(flag)
        if spec is None or flag == "--lock-timeout":
            return None
        dest, takes, _ = spec
        if not takes:
            if eq:
                return None  # click: "does not take a value", and the parser stops
            value = True if dest != "verbose" else 1  # type: ignore[assignment]
        elif not eq:
            if nxt >= len(args):
                return len(args) + 1  # the value is missing: click's resilient parser stops here
            value, nxt = args[nxt], nxt + 1
        if flag in GLOBALS and line.entry[1].get(flag) is None:
            line.settings.take(dest, value)
            line.any_global = True
        else:
            line.given[dest] = value
    return nxt


def _walk(args: list[str], environ) -> _Line | None:
    """Follow ``args`` through the command tree as click's _resolve_context does; None: step aside."""
    from rmctl.cli.completion_table import COMMANDS

    line = _Line(environ)
    i = 0
    while line.entry[0] is not None:  # a group: its options, then a command name
        while i < len(args) and args[i].startswith("-") and args[i] != "-":
            nxt = _take(line, args, i)
            if nxt is None:
                return None
            i = nxt
        if i >= len(args):
            return None if i == len(args) else line  # a command name is typed (typer), or a value is
        name = args[i]
        if name not in line.entry[0]:
            return None
        line.words += (name,)
        line.entry = COMMANDS[line.words]
        line.given = {}
        i += 1
    while i < len(args):
        if args[i].startswith("-") and args[i] != "-":
            nxt = _take(line, args, i)
            if nxt is None:
                return None
            i = nxt
        else:
            line.arguments += 1
            i += 1
    return line


def _completion(line: _Line, args: list[str]):
    """Return the table's completion of what is being typed (click's _resolve_incomplete), or None."""
    if args and args[-1].startswith("-"):
        spec = line.option(args[-1])
        if spec is not None and spec[1]:
            return spec[2]  # the value of the option just typed
    if line.entry[0] is not None:
        return None
    for n, (_, nargs, completion) in enumerate(line.entry[2]):
        if nargs == -1 or n >= line.arguments:
            return completion  # the first argument still open
    return None


def _escape_zsh(s: str) -> str:
    """typer's ZshComplete.format_completion escaping."""
    return s.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")


def answer(environ) -> tuple[str, int] | None:
    """Return (what to print, exit status) for the completion request in ``environ``, or None (typer's turn)."""
    instruction, _, shell = environ.get("_RMCTL_COMPLETE", "").partition("_")
    if instruction != "complete" or shell not in _SHELLS:
        return None
    action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "") if shell == "fish" else ""
    if shell == "fish" and action not in ("get-args", "is-args"):
        return None
    typed = _words(shell, environ)
    if typed is None:
        return None
    args, incomplete = typed
    if "--" in args:
        return None
    full = list(args)
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete.startswith("-"):
        name, _, incomplete = incomplete.partition("=")
        full.append(name)
    if incomplete.startswith("-"):
        return None  # option names, with their help: typer's
    line = _walk(args, environ)
    if line is None:
        return None
    completion = _completion(line, full)
    if completion is None:
        return None
    if isinstance(completion, list):  # a choice type's words, matched without case (TyperChoice.shell_complete)
        values = [w for w in completion if w.lower().startswith(incomplete.lower())]
    elif isinstance(completion, tuple):  # rmctl.cli.complete.choices
        values = [w for w in completion if w.startswith(incomplete)]
    else:
        from rmctl.cli.complete import answer as live

        values = live(completion, lambda n, env, default: line.lookup(n, env, default, environ), incomplete)
        values = [v for v in values if v.startswith(incomplete)]  # what typer keeps of a completion function's
    if not all(v.isascii() for v in values):
        return None  # click.echo's encoding rules: typer's
    if shell == "fish" and action == "is-args":
        return "", 0 if values else 1
    if shell == "zsh":
        if not values:
            return "_files\n", 0
        return "_arguments '*: :((" + "\n".join(f'"{_escape_zsh(v)}"' for v in values) + "))'\n", 0
    return "\n".join(values) + "\n", 0


def run(environ) -> int | None:
    """Print the answer and return the exit status, or None when typer is to answer."""
    import sys

    result = answer(environ)
    if result is None:
        return None
    text, code = result
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()
    return code
