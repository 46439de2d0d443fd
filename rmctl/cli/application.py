"""The root typer app: global options, command registration, error boundary.

Imported only on the typer path (``rmctl.cli.main`` dispatches the scripted
fast path before this module is imported).  Each command group is its own
module with a ``register(app)`` function (typer's one-file-per-command
layout).  Modules here import only typer at module level: rich, yaml, cel
and NVML are imported inside the commands that need them, so
``rmctl --help`` stays fast.
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Annotated, Any, Optional

import typer
from typer import _click  # typer >= 0.26 vendors click (see performance-baselines.md)
from typer.core import TyperGroup, TyperOption

from rmctl import __version__
from rmctl.cli.context import BY_FLAG, COUNT, FLAG, GLOBAL_OPTIONS, MULTI, Settings
from rmctl.errors import EXIT_CODE_MEANINGS

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
        super().__init__(*args, **kwargs)
        add_global_options(self)

    # click's main() is overloaded on standalone_mode; this one always returns the exit status
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,  # type: ignore[override]
             **extra):
        from rmctl.cli.errors import exit_code_for, report_usage_error

        argv = list(sys.argv[1:] if args is None else args)
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
        except SystemExit as e:
            # typer's own main catches EPIPE (its --help printing, a command's output) and exits 1
            # after wrapping stdout in click's PacifyFlushWrapper: the reader went away, not an error.
            if isinstance(sys.stdout, _click.utils.PacifyFlushWrapper):
                raise BrokenPipeError(errno.EPIPE, "the reader of stdout went away") from None
            raise
        except Exception as e:  # escaped a command's @handle_errors
            code = exit_code_for(e, argv)
        if standalone_mode:
            sys.exit(code)
        return code


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
    """Give ``group`` the global options (shown in its help) and every command below it (hidden).

    The one rule of rmctl.cli.context: a global option is accepted before
    the command and after it, at any depth.  A command that defines a flag
    itself keeps it (tests/cli/test_global_options.py checks none does).
    """
    group.params[0:0] = [global_option(o, hidden=False) for o in GLOBAL_OPTIONS]

    def below(cmd) -> None:
        for sub in (getattr(cmd, "commands", None) or {}).values():
            own = {f for p in sub.params for f in getattr(p, "opts", ())}
            sub.params.extend(global_option(o, hidden=True) for o in GLOBAL_OPTIONS
                              if not own.intersection(o.flags))
            below(sub)

    below(group)


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

#: command modules, each with register(app); order is the order in --help
COMMAND_MODULES = (
    "topology", "snapshot", "cpu", "hugepages", "devices", "classes", "request", "profile", "export", "kubelet",
)


def _version(value: bool):
    if value:
        sys.stdout.write(f"rmctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
):
    """Resource management for one Linux node."""
    # The global options (rmctl.cli.context.GLOBAL_OPTIONS) are click options RmctlGroup adds to every
    # command; each one met on the command line has already been applied to these settings.
    if ctx.obj is None:
        ctx.obj = Settings.from_environ()


for _name in COMMAND_MODULES:
    importlib.import_module(f"rmctl.cli.{_name}").register(app)
