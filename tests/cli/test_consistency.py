"""Consistency across commands: the same option means the same thing everywhere; tables fit 80 columns."""

from __future__ import annotations

import os
import re

import pytest

from tests import synth
from tests.cli.helpers import run_process
from tests.test_contract import EXEMPT, _leaf_commands

#: option names that carry different types on purpose (each named by an issue text: a contract)
MIXED_TYPES = {"--per-node": "hugepages set takes N:COUNT pairs, boot-args a flag (issue 4 names both)"}


def _options():
    for name, cmd in _leaf_commands():
        for p in cmd.params:
            if p.param_type_name == "option":
                yield name, p


def test_output_option_is_the_same_everywhere():
    for name, p in _options():
        if "--output" in p.opts or "-o" in p.opts:
            assert sorted(p.opts) == ["--output", "-o"], name
            # the commands that read many nodes add JSON Lines, one node per line as it is read (issue 14)
            fleet = name in ("request evaluate", "request explain")
            assert list(p.type.choices) == ["table", "json", "yaml"] + (["jsonl"] if fleet else []), name
            # exports print Kubernetes objects, which people read as YAML
            want = "yaml" if name in ("export kubelet-config", "export resourceslice") else "table"
            assert getattr(p.default, "value", p.default) == want, name


def test_dry_run_is_one_flag_with_one_help_text():
    helps = {}
    for name, p in _options():
        if "--dry-run" in p.opts:
            assert p.is_flag and p.opts == ["--dry-run"], name
            helps[name] = p.help
    assert len(set(helps.values())) == 1, helps


def test_every_dry_run_command_has_machine_readable_output():
    for name, cmd in _leaf_commands():
        names = {o for p in cmd.params for o in getattr(p, "opts", ())}
        if "--dry-run" in names and name not in EXEMPT:
            assert "--output" in names, f"{name} has --dry-run but no -o json"


def test_same_option_name_same_kind():
    kinds = {}
    for name, p in _options():
        for o in p.opts:
            if o.startswith("--") and o not in MIXED_TYPES:
                kind = "flag" if p.is_flag else "value"
                assert kinds.setdefault(o, (kind, name))[0] == kind, (o, name, kinds[o])


# Common human outputs on an 80-column terminal: no line wider than 80, no truncated header.
# (plan lines name the state file, whose path is the user's: not in this list)
TABLES = [["topology"], ["topology", "--tree"], ["cpu", "list"],
          ["hugepages", "show"], ["hugepages", "set", "2M=2", "--dry-run"],
          ["hugepages", "size", "8M", "--page-size", "2M"],
          ["hugepages", "mount", "/mnt/x", "--page-size", "2M", "--dry-run"],
          ["hugepages", "boot-args", "2M=4", "1G=1"], ["devices", "list"], ["devices", "show", "0000:3b:00.0"],
          ["class", "list"], ["class", "show", "gpu"]]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return synth.build(tmp_path_factory.mktemp("w80") / "root", sockets=2, cores=2, threads=2,
                       hugepages={"per_node": {(0, 2048): 4}},
                       devices=[synth.Device("0000:3b:00.0", numa_node=0, driver="nvidia")])


@pytest.mark.parametrize("argv", TABLES, ids=[" ".join(a) for a in TABLES])
def test_tables_fit_80_columns(root, tmp_path, argv):
    p = run_process(["--root", root, "--state-dir", str(tmp_path / "s"), *argv],
                    env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"})
    assert p.returncode == 0, p.stderr
    wide = [ln for ln in p.stdout.splitlines() if len(ln) > 80]
    assert not wide, wide
    assert not re.search(r"\w…", p.stdout), "a column was truncated:\n" + p.stdout


def test_readme_command_table_names_every_command():
    from tests.cli.helpers import REPO

    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        section = f.read().split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| `rmctl ")]
    for name, _ in _leaf_commands():
        group, _, leaf = name.rpartition(" ")
        ok = any(f"`rmctl {name}" in r
                 or (group and f"`rmctl {group} " in r and f"`{leaf}`" in r)
                 or (not group and f" / `{leaf}`" in r) for r in rows)
        assert ok, f"README's command table does not mention 'rmctl {name}'"
