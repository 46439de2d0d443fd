"""The typer-free <Tab> (rmctl.cli.completefast) answers exactly what typer answers, or steps aside.

Every option and argument of every command whose value the generated
table says the fast path completes is typed in several ways (plain,
``--opt=``, a prefix, global options before, between and after the
command words) and completed both ways, for bash (zsh and fish: the
plain and the prefixed value, their words are split alike): the bytes
printed and the exit status must be equal, and the fast path must have
answered (a test where it silently stepped aside would prove nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rmctl.cli import completefast
from rmctl.cli.completion_table import COMMANDS, GLOBALS
from tests import synth
from tests.cli.helpers import REPO
from tests.conftest import NODE_FIXTURES
from tests.test_docs import _tool

GPU_TARBALL = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")

CLASS = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: big-gpu}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].kind == "gpu"'
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A root with 4 NUMA nodes, 2 page sizes and 3 PCI devices, a state dir and a class dir."""
    base = tmp_path_factory.mktemp("completefast")
    root = synth.build(base / "node", sockets=2, numa_per_socket=2, hugepages={2 << 20: 4, 1 << 30: 1},
                       devices=[synth.Device("0000:3b:00.0"), synth.Device("0000:3b:00.1"),
                                synth.Device("0000:af:00.0")])
    state = base / "state"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"reservations": {"db": {}, "web": {}, "web2": {}}}))
    other = base / "other-state"
    other.mkdir()
    (other / "state.json").write_text(json.dumps({"reservations": {"batch": {}}}))
    classes = base / "classes"
    classes.mkdir()
    (classes / "big.yaml").write_text(CLASS)
    return {"root": root, "state": str(state), "other_state": str(other), "classes": str(classes)}


def _env(world, line: str, shell: str, action: str = "") -> dict[str, str]:
    env = {"RMCTL_ROOT": world["root"], "RMCTL_STATE_DIR": world["state"], "_RMCTL_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        words = line.split()
        env["COMP_WORDS"] = line
        env["COMP_CWORD"] = str(len(words) if line.endswith(" ") else len(words) - 1)
    else:
        env["_TYPER_COMPLETE_ARGS"] = line
        if shell == "fish":
            env["_TYPER_COMPLETE_FISH_ACTION"] = action
    return env


_KEYS = ("RMCTL_ROOT", "RMCTL_STATE_DIR", "RMCTL_CLASS_DIR", "_RMCTL_COMPLETE", "COMP_WORDS", "COMP_CWORD",
         "_TYPER_COMPLETE_ARGS", "_TYPER_COMPLETE_FISH_ACTION")


def _both(env: dict[str, str], capsys) -> tuple[tuple[str, int] | None, tuple[str, int]]:
    """Return (the fast path's answer, typer's (stdout, exit status)) for one completion request."""
    from rmctl.cli.application import app

    saved = {k: os.environ.get(k) for k in _KEYS}
    try:
        for k in _KEYS:
            os.environ.pop(k, None)
        os.environ.update(env)
        fast = completefast.answer(os.environ)
        capsys.readouterr()
        try:
            code = app(args=[], prog_name="rmctl", standalone_mode=False)
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr().out
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return fast, (out, code)


def _cases():
    """(command words, what is completed: an option flag or an argument index, its completion)."""
    for words, (subs, options, arguments) in sorted(COMMANDS.items()):
        if subs is not None:
            continue
        for flag, (_, takes, completion) in sorted(options.items()):
            if takes and completion is not None and flag.startswith("--"):
                yield words, flag, completion
        for n, (_, _, completion) in enumerate(arguments):
            if completion is not None:
                yield words, n, completion


CASES = list(_cases())


def _lines(world, words, what, completion) -> list[str]:
    """The command lines (up to the cursor) that complete ``what`` of the command ``words``."""
    cmd = " ".join(("rmctl",) + words)
    live = isinstance(completion, str)
    prefixes = {"numa": "1", "numa-list": "0,", "pci": "0000:3", "reservation": "we", "page-size": "1",
                "page-size-count": "2", "class": "g"}
    prefix = prefixes.get(completion, "") if live else (completion[0][:2] if completion else "x")
    if isinstance(completion, list):
        prefix = prefix.upper()  # a choice type matches without case
    if isinstance(what, int):
        filler = " ".join(["x"] * what)
        lead = f"{cmd} {filler} ".replace("  ", " ")
        lines = [lead, lead + prefix, f"{cmd} -v {filler} ".replace("  ", " ")]
        if live:
            lines += [f"rmctl --root {world['root']} {' '.join(words)} {filler} ".replace("  ", " "),
                      f"{cmd} --state-dir {world['other_state']} {filler} ".replace("  ", " "),
                      f"rmctl -vv --state-dir {world['other_state']} {' '.join(words)} {filler} ".replace("  ", " ")]
        return lines
    lines = [f"{cmd} {what} ", f"{cmd} {what} {prefix}", f"{cmd} {what}={prefix}", f"{cmd} -v {what} "]
    if live:
        lines += [f"rmctl --root {world['root']} {' '.join(words)} {what} ",
                  f"{cmd} --root={GPU_TARBALL} {what} ",
                  f"{cmd} --state-dir {world['other_state']} --debug {what} ",
                  f"{cmd} --class-dir {world['classes']} {what} " if "--class-dir" in COMMANDS[words][1] else
                  f"{cmd} --no-color {what} "]
    return lines


@pytest.mark.parametrize("words,what,completion", CASES,
                         ids=[f"{' '.join(w)} {x if isinstance(x, str) else f'arg{x}'}" for w, x, _ in CASES])
def test_fast_answers_what_typer_answers(world, capsys, words, what, completion):
    for i, line in enumerate(_lines(world, words, what, completion)):
        shells = (("bash", ""), ("zsh", ""), ("fish", "get-args"), ("fish", "is-args")) if i < 2 else (("bash", ""),)
        for shell, action in shells:
            fast, slow = _both(_env(world, line, shell, action), capsys)
            assert fast is not None, f"the fast path stepped aside on {line!r} ({shell})"
            assert fast == slow, f"{line!r} ({shell} {action}): fast {fast!r}, typer {slow!r}"


def test_the_cases_cover_every_kind_of_live_value():
    from rmctl.cli.complete import KINDS

    assert {c for _, _, c in CASES if isinstance(c, str)} == set(KINDS)
    assert len(CASES) > 50


@pytest.mark.parametrize("line", [
    "rmctl ",                                   # command names (with their help): typer's
    "rmctl cpu ",
    "rmctl cpu res",
    "rmctl cpu reserve --nu",                   # option names
    "rmctl cpu reserve -",
    "rmctl cpu run -- ",                        # after --
    "rmctl cpu reserve --bogus 1 --numa ",      # an option the table does not know
    "rmctl bogus --numa ",                      # a command it does not know
    "rmctl cpu reserve --lock-timeout 1 --numa ",
    "rmctl cpu reserve -n2 --numa ",            # a short option glued to its value
    "rmctl cpu release 'we",                    # quotes: click splits with shlex
    "rmctl cpu reserve --debug=1 --numa ",      # a flag given a value: click stops parsing there
    "rmctl --root=",                            # a value of the root group's option: typer's
])
def test_fast_steps_aside_where_it_cannot_be_sure(world, capsys, line):
    for shell, action in (("bash", ""), ("zsh", ""), ("fish", "get-args")):
        fast, slow = _both(_env(world, line, shell, action), capsys)
        assert fast is None, f"{line!r} ({shell}): answered {fast!r}; typer: {slow!r}"


def test_other_instructions_are_typers(world):
    env = _env(world, "rmctl cpu release ", "bash")
    for instruction in ("source_bash", "complete_powershell", "complete", "bash_complete"):
        assert completefast.answer({**env, "_RMCTL_COMPLETE": instruction}) is None
    assert completefast.answer({**_env(world, "rmctl cpu release ", "fish", "other")}) is None
    assert completefast.answer({**env, "COMP_CWORD": "0"}) is None
    assert completefast.answer({**env, "COMP_CWORD": "-1"}) is None
    assert completefast.answer(env) == ("db\nweb\nweb2\n", 0)


def test_answers_only_from_the_root_given(world, tmp_path):
    """NUMA ids and PCI addresses of the --root on the line (a tarball through its index), not of the live node."""
    env = {**_env(world, f"rmctl --root {GPU_TARBALL} devices show ", "bash"), "RMCTL_CACHE_DIR": str(tmp_path)}
    text, code = completefast.answer(env)
    assert code == 0 and text.split()[0] == "0000:00:00.0" and "0000:3b:00.0" not in text
    env = _env(world, "rmctl cpu reserve --numa 1,", "bash")
    assert completefast.answer(env) is not None


def test_the_table_is_fresh():
    gen = _tool("gen_completion_table")
    for rel, text in gen.generate().items():
        with open(os.path.join(REPO, rel), encoding="utf-8") as f:
            assert f.read() == text, f"{rel} is stale; run: python tools/gen_completion_table.py"


def test_globals_are_the_global_options():
    from rmctl.cli.context import BY_FLAG

    assert set(GLOBALS) == set(BY_FLAG)
    assert all(GLOBALS[f][0] == o.dest and GLOBALS[f][1] == o.takes_value for f, o in BY_FLAG.items())


def test_a_value_tab_imports_neither_typer_nor_rich_nor_yaml(world):
    """A deterministic budget: the answer comes without typer (~45 ms of imports on the 2-CPU VM), rich or yaml."""
    env = {**os.environ, **_env(world, "rmctl cpu reserve x --numa ", "bash")}
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "rmctl"], env=env, capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    assert p.returncode == 0 and p.stdout == "0\n1\n2\n3\n"
    loaded = {line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in loaded if m.split(".")[0] in ("typer", "rich", "yaml", "click")}
    assert "rmctl.cli.completefast" in loaded
