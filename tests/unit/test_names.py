"""One name rule, anchored with \\A...\\Z, everywhere a name becomes a path, a cgroup or a key (issue 15 item 6).

Before: ``NAME_RE`` ended in ``$``, which also matches before a trailing
newline, so ``cpu reserve 'x\\n'`` planned ``mkdir .../rmctl-x\\n``; profile
entries had a second, different rule; class, request and profile names
had none.
"""

from __future__ import annotations

import ast
import json
import os

import pytest

from rmctl.names import MAX_NAME, NAME_RE, check_name, is_name, path_problem
from tests import synth

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("name", ["a", "db", "Web-1", "x.y_z", "0", "a" * MAX_NAME])
def test_names_that_follow_the_rule(name):
    assert is_name(name) and check_name(name) == name


@pytest.mark.parametrize("name", ["", "x\n", "x\r", "\nx", "x\ny", "-x", ".x", "..", ".", "a/b", "a b", "a" * 64,
                                  "x\x00", "é", None, 3])
def test_names_that_do_not(name):
    assert not is_name(name)


@pytest.mark.parametrize("path,ok", [("/mnt/huge", True), ("/mnt/x\n", False), ("/mnt/\tx", False),
                                     ("mnt/x", False), ("/mnt/../etc", False), ("/" + "a" * 5000, False)])
def test_the_path_rule(path, ok):
    assert (path_problem(path) is None) == ok


def test_every_name_regex_is_anchored_at_the_very_end():
    """No ``re`` pattern in rmctl ends in ``$`` (true before a trailing newline), except line parsers
    and display clean-ups, which never produce a name."""
    allowed = {("rmctl/units.py", r"\s*$"), ("rmctl/discovery/parse.py", r"(.*)$"),
               ("rmctl/discovery/buddyinfo.py", r"(.*)$"), ("rmctl/discovery/inuse.py", r"\d+$"),
               ("rmctl/render/devices.py", r").*$"), ("rmctl/render/devices.py", r"\s*$")}
    bad = []
    for dirpath, _, names in os.walk(os.path.join(REPO, "rmctl")):
        for n in names:
            if not n.endswith(".py"):
                continue
            path = os.path.join(dirpath, n)
            rel = os.path.relpath(path, REPO)
            for node in ast.walk(ast.parse(open(path).read())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args):
                    continue
                arg = node.args[0]
                if isinstance(arg, ast.JoinedStr):
                    arg = arg.values[-1]
                pat = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else ""
                if pat.endswith("$") and not pat.endswith("\\$") \
                        and not any(rel == f and pat.endswith(tail) for f, tail in allowed):
                    bad.append(f"{rel}:{node.lineno}: {pat!r}")
    assert not bad, "use \\Z, not $:\n" + "\n".join(bad)
    assert NAME_RE.pattern.startswith(r"\A") and NAME_RE.pattern.endswith(r"\Z")


# -- every entry point refuses a trailing newline ----------------------------------------------------

@pytest.fixture
def root(tmp_path):
    return synth.build(tmp_path / "root", sockets=1, cores=4, threads=1)


def test_cli_names_with_a_newline_are_refused(run_cli, root, tmp_path):
    base = ("--root", root, "--state-dir", str(tmp_path / "st"))
    req = tmp_path / "r.yaml"
    req.write_text("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec:\n"
                   "  cpus: {count: 1}\n")
    for args in (("cpu", "reserve", "x\n", "--count", "1"), ("cpu", "reserve", "x\n", "--count", "1", "--dry-run"),
                 ("request", "evaluate", str(req), "--reserve", "x\n"), ("cpu", "release", "x\n"),
                 ("cpu", "cpuset", "x\n", "--dry-run"), ("request", "release", "x\n")):
        code, out, err = run_cli(*base, *args)
        assert code == 2 and "bad reservation name 'x\\n'" in err, (args, err)
    assert not os.path.exists(tmp_path / "st" / "state.json")


def _profile(tmp_path, body: str) -> str:
    p = tmp_path / "p.yaml"
    p.write_text("apiVersion: rmctl.io/v1alpha1\nkind: NodeProfile\n" + body)
    return str(p)


@pytest.mark.parametrize("body,field", [
    ('metadata: {name: "w\\n"}\nspec: {}\n', "metadata.name"),
    ('metadata: {name: w}\nspec:\n  reservations:\n  - {name: "db\\n", count: 1}\n', "spec.reservations[0].name"),
    ('metadata: {name: w}\nspec:\n  requests:\n  - {name: "job\\n", spec: {cpus: {count: 1}}}\n',
     "spec.requests[0].name"),
    ('metadata: {name: w}\nspec:\n  mounts:\n  - {path: "/mnt/h\\n", pageSize: 2Mi}\n', "spec.mounts[0].path"),
])
def test_profile_names_and_paths_with_a_newline_are_refused(run_cli, root, tmp_path, body, field):
    code, _, err = run_cli("--root", root, "--state-dir", str(tmp_path / "st"), "plan", "-f", _profile(tmp_path, body))
    assert code == 2 and field in err, err


def test_profile_entries_follow_the_same_rule_as_cpu_reserve(run_cli, root, tmp_path):
    # one rule: a name cpu reserve takes (upper case) is a valid profile entry too
    p = _profile(tmp_path, "metadata: {name: W}\nspec:\n  reservations:\n  - {name: DB, count: 1}\n")
    code, out, err = run_cli("--root", root, "--state-dir", str(tmp_path / "st"), "plan", "-f", p, "-o", "json")
    assert code == 0, err
    assert "DB" in json.dumps(json.loads(out))


@pytest.mark.parametrize("kind", ["ResourceClass", "ResourceRequest"])
def test_class_and_request_names_with_a_newline_are_refused(run_cli, root, tmp_path, kind):
    classes = tmp_path / "classes"
    classes.mkdir()
    req = tmp_path / "r.yaml"
    if kind == "ResourceClass":
        (classes / "c.yaml").write_text('apiVersion: rmctl.io/v1alpha1\nkind: ResourceClass\n'
                                        'metadata: {name: "big\\n"}\nspec:\n  selectors:\n  - cel: "true"\n')
        req.write_text("apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: r}\nspec:\n"
                       "  cpus: {count: 1}\n")
    else:
        req.write_text('apiVersion: rmctl.io/v1alpha1\nkind: ResourceRequest\nmetadata: {name: "r\\n"}\nspec:\n'
                       "  cpus: {count: 1}\n")
    code, _, err = run_cli("--root", root, "request", "evaluate", str(req), "--class-dir", str(classes))
    assert code == 2 and "metadata.name" in err and "is not a valid name" in err, err


def test_hugepage_mount_paths_with_a_newline_are_refused(run_cli, root):
    code, _, err = run_cli("--root", root, "hugepages", "mount", "/mnt/h\n", "--page-size", "2M", "--dry-run")
    assert code == 2 and "control character" in err, err
