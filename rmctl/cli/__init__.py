"""The rmctl command line: the root app, global options and main().

Global options live in the callback and travel on ``ctx.obj`` (a Settings);
each command group is its own module with a ``register(app)`` function
(typer's one-file-per-command layout).  Modules here import only typer at
module level: rich, yaml, cel and NVML are imported inside the commands
that need them, so ``rmctl --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Optional

import typer
from typing import Annotated

from rmctl import __version__
from rmctl.cli.context import DEFAULT_STATE_DIR, Settings
from rmctl.errors import EXIT_CODE_MEANINGS

EXIT_EPILOG = "Exit status: " + "; ".join(f"{int(c)} {m.split(':')[0]}" for c, m in EXIT_CODE_MEANINGS.items()) + "."

app = typer.Typer(
    name="rmctl",
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
    "topology", "snapshot", "cpu", "hugepages", "devices", "classes", "request", "profile", "export",
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
                       verbose=verbose, debug=debug, color=False if no_color else None)


for _name in COMMAND_MODULES:
    importlib.import_module(f"rmctl.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, prog_name="rmctl")
    except KeyboardInterrupt:
        sys.stderr.write("rmctl: interrupted\n")
        sys.exit(130)
