"""The docs follow the code: help texts, man page, completions, README, exit codes.

When one of these fails after you added or changed a command, regenerate:

    python tools/gen_man.py && python tools/gen_completions.py && python tools/gen_completion_table.py
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGEN = "run: python tools/gen_man.py && python tools/gen_completions.py"


def _tool(name):
    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "tools", f"{name}.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.pop(0)


clitree = _tool("clitree")
COMMANDS = [p for p, _ in clitree.walk() if len(p) > 1]


def _read(rel):
    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p[1:]) for p in COMMANDS])
def test_every_command_has_help_text(path):
    cmd = dict(clitree.walk())[path]
    text = (cmd.help or cmd.short_help or "").strip()
    assert text, f"'{' '.join(path)}' has no help text: give its function a docstring (or help=)"


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p[1:]) for p in COMMANDS])
def test_every_command_is_in_the_man_page(path):
    man = _read("man/rmctl.1")
    name = " ".join(path[1:]).replace("-", "\\-")
    assert f".SS {name}\n" in man, f"'{' '.join(path)}' is missing from man/rmctl.1; {REGEN}"


def test_man_page_is_fresh():
    gen = _tool("gen_man")
    for rel, text in gen.generate().items():
        assert _read(rel) == text, f"{rel} is stale; {REGEN}"


def test_completions_are_fresh():
    gen = _tool("gen_completions")
    files = gen.generate()
    assert set(files) == {"completions/rmctl.bash", "completions/_rmctl", "completions/rmctl.fish"}
    for rel, text in files.items():
        assert os.path.exists(os.path.join(REPO, rel)) and _read(rel) == text, f"{rel} is stale; {REGEN}"


def test_zsh_completion_starts_with_compdef():
    assert _read("completions/_rmctl").startswith("#compdef rmctl\n")


def _readme_exit_table():
    text = _read("README.md")
    section = text.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    return {int(m.group(1)): m.group(2).strip() for m in re.finditer(r"^\|\s*(\d+)\s*\|\s*(.+?)\s*\|$",
                                                                       section, re.M)}


def test_exit_codes_agree_everywhere():
    from rmctl.cli.application import EXIT_EPILOG
    from rmctl.errors import EXIT_CODE_MEANINGS, ExitCode

    code = {int(c): m for c, m in EXIT_CODE_MEANINGS.items()}
    assert set(code) == {int(c) for c in ExitCode}, "every ExitCode needs a meaning in EXIT_CODE_MEANINGS"
    assert _readme_exit_table() == code, "README.md's exit status table differs from rmctl.errors"
    man = _read("man/rmctl.1").split(".SH EXIT STATUS", 1)[1].split(".SH ", 1)[0]
    man_codes = {int(c): m.replace("\\-", "-") for c, m in re.findall(r"\\fB(\d+)\\fR\n(.+)", man)}
    assert man_codes == code, f"man page exit status differs; {REGEN}"
    epilog = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\s+(\d+)\s\s(.+)$", EXIT_EPILOG, re.M)}
    assert epilog == code


def test_help_epilog_keeps_one_code_per_line(capsys):
    from tests.cli.helpers import run_main

    out = run_main(["--help"])[1]
    from rmctl.errors import EXIT_CODE_MEANINGS

    for c, m in EXIT_CODE_MEANINGS.items():
        assert re.search(rf"^\s+{int(c)}\s+{re.escape(m)}$", out, re.M), (c, out)


def test_readme_names_every_top_level_command():
    readme = _read("README.md")
    missing = [p[1] for p in COMMANDS if len(p) == 2 and f"rmctl {p[1]}" not in readme
               and f"`{p[1]}`" not in readme]
    assert not missing, f"README.md does not mention: {missing}; add them to its Commands section"


def test_quick_start_is_two_lines_and_ci_runs_line_two():
    readme = _read("README.md")
    qs = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [ln for ln in qs.splitlines() if ln.strip()]
    assert len(lines) == 2
    assert "rmctl topology" in lines[0]
    assert "pytest" in lines[1] and "[test]" in lines[1]
    assert lines[1] in _read(".ci/run")


def _error_classes():
    """Return every RmctlError subclass defined in rmctl (imports each module that defines one)."""
    import importlib
    import pkgutil

    import rmctl
    from rmctl.errors import RmctlError

    for m in pkgutil.walk_packages(rmctl.__path__, "rmctl."):
        if m.name.startswith("rmctl.cli") or m.name.endswith("__main__"):
            continue
        importlib.import_module(m.name)
    seen, todo = [], [RmctlError]
    while todo:
        c = todo.pop()
        seen.append(c)
        todo += c.__subclasses__()
    return seen


def test_readme_error_code_table_is_complete():
    """Every error `code` rmctl can put in an Error document is in README's table with its exit."""
    readme = _read("README.md")
    table = dict(re.findall(r"^\| `([a-z_]+)` \| (\d+) \|", readme, re.M))
    codes = {c.code: int(c.exit_code) for c in _error_classes()}
    codes.update({"usage": 2, "internal_error": 1, "interrupted": 130})  # rmctl/cli/errors.py
    assert {k: int(v) for k, v in table.items()} == codes
