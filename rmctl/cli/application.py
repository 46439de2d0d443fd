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
from typing import Annotated, Optional

import typer
from typer import _click  # typer >= 0.26 vendors click (see performance-baselines.md)
from typer.core import TyperGroup

from rmctl import __version__
from rmctl.cli.context import DEFAULT_STATE_DIR, Settings
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
    root: Annotated[str, typer.Option("--root", envvar="RMCTL_ROOT", metavar="PATH",
                                      help="Machine to read: / (live), a directory with sys/ and proc/, or a snapshot tarball.")] = "/",
    state_dir: Annotated[str, typer.Option("--state-dir", envvar="RMCTL_STATE_DIR", metavar="DIR",
                                           help="Where reservations and journals are kept.")] = DEFAULT_STATE_DIR,
    kubelet_root: Annotated[Optional[str], typer.Option(
        "--kubelet-root", envvar="RMCTL_KUBELET_ROOT", metavar="DIR",
        help="The kubelet's --root-dir, where its checkpoints are [default: /var/lib/kubelet, "
             "or what a snapshot recorded].")] = None,
    lock_timeout: Annotated[float, typer.Option("--lock-timeout", metavar="SECONDS", min=0,
                                                help="How long to wait for the state lock.")] = 10.0,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Show findings and detail (repeat for more).")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Never colour (NO_COLOR is honoured too).")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
):
    """Resource management for one Linux node."""
    ctx.obj = Settings(root_spec=root, state_dir=state_dir, lock_timeout=lock_timeout,
                       verbose=verbose, debug=debug, color=False if no_color else None,
                       kubelet_root=kubelet_root)


for _name in COMMAND_MODULES:
    importlib.import_module(f"rmctl.cli.{_name}").register(app)
