"""`rmctl topology` without colour is written without rich (issue 14: the live table within 4x of
lstopo-no-graphics): the plain text must be the bytes rich writes, on every machine we have."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from rmctl.discovery import discover
from rmctl.discovery.root import Root
from rmctl.render.summary import plain_topology
from tests.conftest import NODE_FIXTURES, fixture_names

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _rich(node, verbose=0, width=80) -> str:
    from rich.console import Console

    from rmctl.render.tables import print_topology

    buf = io.StringIO()
    con = Console(file=buf, no_color=True, color_system=None, highlight=False, soft_wrap=False, width=width)
    print_topology(con, node, verbose=verbose)
    return buf.getvalue()


def _nodes(fixture_root):
    for name in fixture_names():
        yield name, discover(Root.open(fixture_root(name)))
    for name in ("gpu-node.tar.gz", "dev-vm.tar.gz"):
        yield name, discover(Root.open(os.path.join(NODE_FIXTURES, name)))
    yield "live", discover(Root.open("/"))


def test_plain_text_is_what_rich_writes_on_every_machine(fixture_root):
    plain = 0
    for name, node in _nodes(fixture_root):
        for width in (80, 60, 200):
            for verbose in (0, 1):
                text = plain_topology(node, verbose=verbose, width=min(80, width))
                if text is None:
                    continue  # the caller prints with rich
                plain += 1
                assert text == _rich(node, verbose, width), f"{name}, width {width}, -v {verbose}"
    # the plain path serves most of them (wide NUMA tables and -v findings go to rich)
    assert plain >= 40, plain


def test_where_plain_text_could_differ_it_steps_aside(fixture_root):
    node = discover(Root.open(fixture_root("hwloc-256ia64-64n2s2c")))
    assert plain_topology(node, width=20) is None  # tables wider than the console: rich wraps them
    live = discover(Root.open("/"))
    assert plain_topology(live, width=80) is not None


def test_the_table_imports_no_rich_on_a_pipe():
    code = ("import sys\nsys.argv = ['rmctl', 'topology']\nfrom rmctl.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\nRICH ' + str(any(m == 'rich' or m.startswith('rich.') for m in sys.modules)))\n")
    e = {k: v for k, v in os.environ.items() if k not in ("RMCTL_ROOT", "COLUMNS")}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=e, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr.rsplit("RICH ", 1)[1].strip() == "False", p.stderr
    assert "NUMA nodes" in p.stdout or "Caches" in p.stdout



def test_control_characters_go_to_rich(tmp_path):
    """Text from outside the kernel's own files (here the snapshot's path, shown as Source) may hold BEL,
    BS, ESC...: rich drops them, so the plain path must step aside rather than write them to a terminal."""
    from tests import synth

    root = synth.build(tmp_path / "snap\x07\x1b]0;owned\x07")
    node = discover(Root.open(root))
    assert "\x07" not in _rich(node)
    assert plain_topology(node) is None
    assert plain_topology(discover(Root.open(synth.build(tmp_path / "plain")))) is not None
