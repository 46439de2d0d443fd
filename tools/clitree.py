"""Walk rmctl's command tree (typer -> click), for the completion and man page generators.

click-man cannot see typer >= 0.26 commands (typer vendors its own click as
``typer._click``), so the generators walk ``typer.main.get_command(app)``.
"""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def root_command():
    """Return the click Group of the rmctl app."""
    import typer

    from rmctl.cli.application import app

    return typer.main.get_command(app)


def walk(cmd=None, path=("rmctl",)):
    """Yield (path tuple, click command) for every command, depth first, in --help order."""
    cmd = cmd or root_command()
    yield path, cmd
    subs = getattr(cmd, "commands", None)
    if subs:
        import typer

        ctx = typer.Context(cmd, info_name=path[-1])
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            yield from walk(sub, path + (name,))


def write_or_check(files: dict[str, str], check: bool, regen: str) -> int:
    """Write ``files`` (path relative to the repo -> text), or with check report stale ones."""
    stale = []
    for rel, text in files.items():
        p = os.path.join(REPO, rel)
        old = None
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            stale.append(rel)
            if not check:
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w", encoding="utf-8") as f:
                    f.write(text)
    if check and stale:
        sys.stderr.write(f"stale: {', '.join(stale)}; run: python {regen}\n")
        return 1
    if not check:
        for rel in stale:
            sys.stdout.write(f"wrote {rel}\n")
    return 0
