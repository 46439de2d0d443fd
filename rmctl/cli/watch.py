"""``--watch [SECONDS]``: print a command's table again and again on a terminal, as watch(1) does.

For the views an operator keeps open while things change (``cpu list``,
``hugepages show``).  Only a table on a terminal: a pipe or ``-o
json|yaml`` would get an endless stream no script can tell apart from one
answer, so they are refused (exit 2; a script polls with its own loop).
Each refresh runs the use case again (a fresh read of the machine and the
state), clears the screen and prints a header line as watch(1) does
(``Every 2s: rmctl cpu list``, the time); Ctrl-C ends it quietly with
exit 0, the way one leaves watch(1).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rmctl.errors import UsageError

#: watch(1)'s "clear the screen, cursor home"
CLEAR = "\x1b[H\x1b[2J"


def check(seconds: float | None, fmt: str, stream=None) -> None:
    """Raise UsageError when --watch cannot be honoured: a machine format, or stdout not a terminal."""
    if seconds is None:
        return
    if fmt != "table":
        raise UsageError(f"--watch prints tables for people; it cannot be combined with -o {fmt}",
                         hint="a script polls by running the command again (-o json prints one document)")
    stream = stream or sys.stdout
    if not (hasattr(stream, "isatty") and stream.isatty()):
        raise UsageError("--watch needs a terminal on stdout (it redraws the screen)",
                         hint="drop --watch, or run the command in a loop: while sleep 2; do rmctl ...; done")


def loop(seconds: float, title: str, once: Callable[[], int]) -> None:
    """Clear the screen, print the header and ``once()``'s output, sleep; until Ctrl-C (then return: exit 0).

    ``once`` runs the use case and prints it (its status is shown on the
    screen, not returned: the loop ends only when the operator ends it).
    An error of rmctl's own (a state file that became unreadable) is
    printed in place and the loop goes on: the next refresh may read it.
    """
    from rmctl.cli.errors import report_exception
    from rmctl.errors import RmctlError

    try:
        while True:
            sys.stdout.write(CLEAR + f"Every {seconds:g}s: {title}    {time.strftime('%Y-%m-%d %H:%M:%S')}\n\n")
            try:
                once()
            except RmctlError as e:
                sys.stdout.flush()
                report_exception(e, None)
            sys.stdout.flush()
            time.sleep(seconds)
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        sys.stdout.flush()
