"""The root typer app: global options, command registration, error boundary.

Imported only on the typer path (``rmctl.cli.main`` dispatches the scripted
fast path before this module is imported).  Each command group is its own
module with a ``register(app)`` function (typer's one-file-per-command
layout), and the root group loads a module only when one of its commands
is asked for (:data:`COMMANDS`, :class:`RmctlGroup`): ``rmctl request
evaluate`` imports and builds the three ``request`` commands, not all 40
(typer inspects every parameter of every command it builds: 20 ms on the
2-CPU VM, issue 14).  The root's ``--help`` and the completion of a
command name load them all.  Modules here import only typer at module
level: rich, yaml, cel and NVML are imported inside the commands that
need them, so ``rmctl --help`` stays fast.
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Annotated, Any

import typer
from typer import _click  # typer >= 0.26 vendors click (see performance-baselines.md)
from typer.core import TyperGroup, TyperOption

from rmctl import __version__
from rmctl.cli.context import BY_FLAG, COUNT, FLAG, GLOBAL_OPTIONS, MULTI, Settings
from rmctl.errors import EXIT_CODE_MEANINGS, ExitCode

#: the exit-status table of --help; ``\b`` keeps click from re-wrapping it
EXIT_EPILOG = "\b\nExit status:\n" + "\n".join(
    f"  {int(c):>3}  {m}" for c, m in EXIT_CODE_MEANINGS.items())


class RmctlGroup(TyperGroup):
    """The root group: click's own error printing replaced by rmctl's one line.

    A usage error (unknown option, bad value) becomes ``rmctl: error: ...``
    plus a hint, exit 2, and with ``-o json|yaml`` on the command line an
    error document on stdout too.  An error that escaped a command's
    ``@handle_errors`` still gets one line and its exit code, never a
    traceback (unless ``--debug``).
    """

    def __init__(self, *args, **kwargs):
        self._commands: dict = {}
        super().__init__(*args, **kwargs)
        add_global_options(self)
        for p in self.params:  # typer's flags, answered by completion_option() with an optional SHELL
            if isinstance(p, TyperOption) and p.name in ("install_completion", "show_completion"):
                p.metavar, p.help = "[bash|zsh|fish]", COMPLETION_HELP[p.name]
        for cmd in self._commands.values():  # given at construction (a test's app): not from COMMANDS
            give_global_options(cmd)

    # -- the command modules, loaded on demand (COMMANDS) ------------------------------------------
    @property
    def commands(self):
        """Every command, each module loaded (help, walkers); running one loads its module only."""
        for name in COMMANDS:
            self._load(name)
        return self._commands

    @commands.setter
    def commands(self, value) -> None:
        self._commands = dict(value)

    def _load(self, name: str) -> None:
        """Import the module of the top-level command ``name`` and add its commands (global options given)."""
        module = COMMANDS.get(name)
        if module is None or name in self._commands:
            return
        staging = typer.Typer(rich_markup_mode=None)
        importlib.import_module(f"rmctl.cli.{module}").register(staging)
        built = typer.main.get_group(staging)
        for sub_name, cmd in built.commands.items():
            if COMMANDS.get(sub_name) != module:
                raise RuntimeError(f"rmctl.cli.{module} registered {sub_name!r}, which application.COMMANDS "
                                   "does not list under it")
            give_global_options(cmd)
            self._commands[sub_name] = cmd

    def get_command(self, ctx, cmd_name: str):
        self._load(cmd_name)
        return self._commands.get(cmd_name)

    def list_commands(self, ctx) -> list[str]:
        return [*COMMANDS, *(n for n in self._commands if n not in COMMANDS)]

    # click's main() is overloaded on standalone_mode; this one always returns the exit status
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,  # type: ignore[override]
             **extra):
        from rmctl.cli.errors import exit_code_for, report_usage_error
        from rmctl.cli.options import optional_values

        argv = optional_values(list(sys.argv[1:] if args is None else args))
        if argv and argv[0].split("=", 1)[0] in ("--show-completion", "--install-completion"):
            return _exit(completion_option(argv), standalone_mode)
        try:
            rv = super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except _click.exceptions.NoArgsIsHelpError as e:
            e.show()
            code = 0
        except _click.exceptions.ClickException as e:
            code = report_usage_error(e, argv)
        except typer.Abort:
            code = exit_code_for(KeyboardInterrupt(), argv)
        except BrokenPipeError:
            raise  # rmctl.cli.main: the reader went away; end as coreutils do (SIGPIPE)
        except SystemExit:
            # typer's own main catches EPIPE (its --help printing, a command's output) and exits 1
            # after wrapping stdout in click's PacifyFlushWrapper: the reader went away, not an error.
            if isinstance(sys.stdout, _click.utils.PacifyFlushWrapper):
                raise BrokenPipeError(errno.EPIPE, "the reader of stdout went away") from None
            raise
        except Exception as e:  # escaped a command's @handle_errors
            code = exit_code_for(e, argv)
        return _exit(code, standalone_mode)


def _exit(code: int, standalone_mode: bool) -> int:
    if standalone_mode:
        sys.exit(code)
    return code


COMPLETION_HELP = {
    "install_completion": "Install completion for SHELL (default: $SHELL's) in your home directory.",
    "show_completion": "Print the completion script for SHELL (default: $SHELL's), e.g. "
                       "eval \"$(rmctl --show-completion zsh)\".",
}


def completion_option(argv: list[str]) -> int:
    """Answer ``--show-completion [SHELL]`` / ``--install-completion [SHELL]`` (also ``=SHELL``).

    typer's own flags take no value (with shellingham installed) and
    detect the shell, so ``--show-completion zsh`` printed bash's script
    (issue 11 finding 11); and typer's zsh script completes nothing on the
    first <Tab>.  These print and install rmctl.cli.completion_scripts'.
    """
    from rmctl.cli.completion_scripts import SHELLS, detect_shell, script
    from rmctl.cli.errors import report_usage_error

    flag, _, shell = argv[0].partition("=")
    rest = argv[1:]
    if not shell and rest and not rest[0].startswith("-"):
        shell, rest = rest[0], rest[1:]
    shell = shell or detect_shell()
    if shell not in SHELLS or rest:
        bad = shell if shell not in SHELLS else " ".join(rest)
        return report_usage_error(_click.exceptions.UsageError(
            f"{flag}: {bad!r} is not one of {', '.join(SHELLS)}" if shell not in SHELLS
            else f"{flag} takes at most one SHELL, got also {bad!r}"), argv)
    if flag == "--show-completion":
        sys.stdout.write(script(shell))
        return int(ExitCode.OK)
    from typer._completion_shared import install

    _shell, path = install(shell=shell, prog_name="rmctl", complete_var="_RMCTL_COMPLETE")
    path.write_text(script(shell))  # typer chose the place and the rc-file line; the script is rmctl's
    sys.stdout.write(f"{shell} completion installed in {path}\nCompletion will take effect once you "
                     "restart the terminal\n")
    return int(ExitCode.OK)


def _take_global(ctx, param, value):
    """Apply a global option given on the command line (at any level) to the invocation's Settings."""
    if ctx.get_parameter_source(param.name) is not _click.core.ParameterSource.COMMANDLINE:
        return  # defaults and the environment are Settings.from_environ's
    if ctx.obj is None:
        ctx.obj = Settings.from_environ()
    option = BY_FLAG[param.opts[0]]
    for v in (value if option.kind == MULTI else (value,)):
        ctx.obj.take(option.dest, v)


def global_option(option, *, hidden: bool):
    """Return the click Option of a GlobalOption (rmctl.cli.context), applied by :func:`_take_global`."""
    kw: dict[str, Any] = {}
    if option.kind == COUNT:
        kw = {"count": True, "default": 0}
    elif option.kind == FLAG:
        kw = {"is_flag": True, "default": False}
    elif option.kind == MULTI:
        kw = {"multiple": True, "metavar": option.metavar}
    else:
        kw = {"metavar": option.metavar}
        if option.dest == "lock_timeout":
            kw["type"] = _click.types.FloatRange(min=0)
    return TyperOption(param_decls=list(option.flags), help=option.help, hidden=hidden, expose_value=False,
                       callback=_take_global, show_default=False, **kw)


def add_global_options(group) -> None:
    """Give the root ``group`` the global options (shown in its help).

    The one rule of rmctl.cli.context: a global option is accepted before
    the command and after it, at any depth; the commands below get them
    (hidden) as their modules load (:func:`give_global_options`).
    """
    group.params[0:0] = [global_option(o, hidden=False) for o in GLOBAL_OPTIONS]


def give_global_options(cmd) -> None:
    """Give ``cmd`` and every command below it the global options, hidden from their help.

    A command that defines a flag itself keeps it
    (tests/cli/test_global_options.py checks none does).
    """
    own = {f for p in cmd.params for f in getattr(p, "opts", ())}
    cmd.params.extend(global_option(o, hidden=True) for o in GLOBAL_OPTIONS if not own.intersection(o.flags))
    for sub in (getattr(cmd, "commands", None) or {}).values():
        give_global_options(sub)


app = typer.Typer(
    name="rmctl",
    cls=RmctlGroup,
    help="Resource management for one Linux node: topology, CPUs, hugepages, devices, requests, profiles.",
    epilog=EXIT_EPILOG,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: every top-level command and the module (rmctl.cli.<module>, with register(app)) that adds it, in
#: --help order.  Known without importing the modules, so the root group loads only the one that runs.
COMMANDS = {
    "topology": "topology",
    "plan": "profile", "apply": "profile", "undo": "profile", "verify": "profile",
    "snapshot": "snapshot",
    "cpu": "cpu",
    "hugepages": "hugepages",
    "devices": "devices",
    "class": "classes",
    "request": "request",
    "export": "export",
    "kubelet": "kubelet",
    "state": "state",
}
#: the command modules, in the order they first appear in COMMANDS
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def _version(value: bool):
    if value:
        sys.stdout.write(f"rmctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
):
    """Resource management for one Linux node."""
    # The global options (rmctl.cli.context.GLOBAL_OPTIONS) are click options RmctlGroup adds to every
    # command; each one met on the command line has already been applied to these settings.
    if ctx.obj is None:
        ctx.obj = Settings.from_environ()
