"""Bad input across the CLI: exit 2 (or 3 for a bad root), one clear line, nothing written.

A table of hostile values per kind (cpulists, sizes, counts, NUMA ids, PCI
addresses, YAML files, odd --root paths) plus hypothesis over cpulists and
sizes.  Every case checks: the documented exit code, exactly one
``rmctl: error:`` line (plus an optional hint) and no traceback, nothing on
stdout in table mode and one Error document with -o json, and the state
dir untouched (never created by bad input).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import synth
from tests.cli.helpers import REPO, run_main
from tests.test_contract import _tree_digest

GOOD_PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: a}
spec:
  hugepages:
  - {pageSize: 2Mi, count: 2}
"""

GOOD_REQUEST = """\
apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: a}
spec:
  cpus: {count: 1}
"""

GOOD_CLASS = """\
apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: a}
spec:
  selectors:
  - cel: 'device.driver == "nvidia"'
"""

# YAML files every loader must refuse: name -> bytes (a function of the good text)
BAD_YAML = {
    "empty": lambda good: b"",
    "binary": lambda good: bytes(range(256)) * 8,
    "not-utf8": lambda good: good.encode() + b"\n# \xff\xfe\n",
    "huge-unknown-field": lambda good: b"a: " + b"x" * (8 << 20) + b"\n",
    "deeply-nested": lambda good: b"[" * 5000 + b"]" * 5000 + b"\n",
    "recursive-alias": lambda good: b"a: &x [*x]\n",
    "python-tag": lambda good: good.replace("metadata:", "metadata: !!python/object/apply:os.system [\"true\"]\n"
                                            "_x:").encode(),
    "duplicate-key": lambda good: (good + good.split("\n", 3)[2] + "\n").encode(),
    "a-list": lambda good: b"- a\n- b\n",
    "a-scalar": lambda good: b"hello\n",
    "tab-indent": lambda good: b"a:\n\tb: 1\n",
    "unclosed": lambda good: b"a: [1, 2\n",
}

# command argv with {f} for the file, and the good text of its kind
YAML_COMMANDS = {
    "plan": (["plan", "-f", "{f}"], GOOD_PROFILE),
    "apply": (["apply", "-f", "{f}", "--dry-run"], GOOD_PROFILE),
    "verify": (["verify", "-f", "{f}"], GOOD_PROFILE),
    "export nfd": (["export", "nfd", "-f", "{f}"], GOOD_PROFILE),
    "class validate": (["class", "validate", "{f}"], GOOD_CLASS),
    "request evaluate": (["request", "evaluate", "{f}"], GOOD_REQUEST),
    "request explain": (["request", "explain", "{f}"], GOOD_REQUEST),
}

# (argv after the global options, expected exit code)
BAD_VALUES = [
    # cpulists
    *[(["cpu", "reserve", "a", "--cpus", v, "--dry-run"], 2)
      for v in ["", "-", "0-", "3-1", "0,,1", "1-2-3", "0x3", "a", "0 1", "99999999999999999999", "0-99999999999",
                "99"]],
    (["cpu", "reserve", "a", "-n", "2", "--from", "junk", "--dry-run"], 2),
    (["cpu", "reserve-system", "--cpus", "1-0", "--dry-run"], 2),
    (["hugepages", "size", "4G", "--page-size", "2M", "--nodes", "0-"], 2),
    # counts
    *[(["cpu", "reserve", "a", "-n", v, "--dry-run"], 2) for v in ["0", "-1", "abc", "1e3", "1.5", ""]],
    (["cpu", "reserve-system", "-n", "0", "--dry-run"], 2),
    *[(["hugepages", "set", a, "--dry-run"], 2) for a in ["2M=-1", "2M=1.5", "2M=", "=3", "2M", "2M=x", "2M==1"]],
    (["hugepages", "set", "2M=1", "--overcommit", "-3", "--dry-run"], 2),
    (["hugepages", "boot-args", "1G=x"], 2),
    # sizes
    *[(["hugepages", "size", v, "--page-size", "2M"], 2) for v in ["", "abc", "-1G", "1.5.G", "1e999", "G", "1Q",
                                                                  "inf", "nan"]],
    *[(["hugepages", "set", f"{v}=1", "--dry-run"], 2) for v in ["3M", "0", "abc", "2Mx"]],
    (["hugepages", "mount", "/mnt/rmctl-bad", "--page-size", "2M", "--size", "1Q", "--dry-run"], 2),
    (["hugepages", "mount", "/mnt/rmctl-bad", "--page-size", "2M", "--mode", "999", "--dry-run"], 2),
    (["hugepages", "mount", "relative", "--page-size", "2M", "--dry-run"], 2),
    # NUMA ids
    *[(["cpu", "reserve", "a", "-n", "1", "--numa", v, "--dry-run"], 2) for v in ["99", "-1", "x"]],
    (["cpu", "reserve", "a", "-n", "1", "--socket", "9", "--dry-run"], 2),
    *[(["devices", "list", "--numa", v], 2) for v in ["99", "-1", "x"]],
    *[(["hugepages", "set", "2M=1", "--node", v, "--dry-run"], 2) for v in ["99", "-1", "x"]],
    (["hugepages", "set", "2M=1", "--per-node", "9:1", "--dry-run"], 2),
    (["hugepages", "size", "4G", "--page-size", "2M", "--nodes", "0,99"], 2),
    (["hugepages", "boot-args", "1G=0:4,9:4"], 2),
    # PCI addresses
    *[(["devices", "show", v], 2) for v in ["", "zz:zz", "0000:3b:00", "0000:3b:00.8", "0000:3b:00.0.0",
                                            "00000000000:00:00.0", "0000:99:00.0"]],
    (["cpu", "reserve", "a", "-n", "1", "--near", "0000:3b:00", "--dry-run"], 2),
    (["cpu", "reserve", "a", "-n", "1", "--near", "0000:99:00.0", "--dry-run"], 2),
    # names and options
    *[(["cpu", "reserve", v, "-n", "1", "--dry-run"], 2) for v in ["", "../x", "a/b", "x" * 64]],
    (["cpu", "reserve", "a", "-n", "1", "--option", "bogus", "--dry-run"], 2),
    (["devices", "list", "--kind", "bogus"], 2),
    (["--lock-timeout", "-1", "cpu", "list"], 2),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return synth.build(tmp_path_factory.mktemp("bad") / "root", sockets=2, cores=2, threads=2,
                       hugepages={"per_node": {(0, 2048): 4}},
                       devices=[synth.Device("0000:3b:00.0", numa_node=0, driver="nvidia"),
                                synth.Device("0000:af:00.0", numa_node=1, cls="0x020000", vendor="0x8086")])


def _check_refused(code, out, err, expected, fmt, document=True):
    """``document=False``: an export, which never prints an error document (stdout stays empty)."""
    assert code == expected, (code, out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("rmctl: error: "), err
    assert sum(ln.startswith("rmctl: error: ") for ln in lines) == 1, err
    assert all(ln.startswith(("rmctl: error: ", "hint: ")) for ln in lines), err
    assert "Traceback" not in err and "internal error" not in err, err
    if fmt == "json" and document:
        doc = json.loads(out)
        assert doc["kind"] == "Error" and doc["exit_code"] == expected and doc["error"]["message"]
    else:
        assert out == "", out


def _run_refused(root, argv, expected, state, fmt="table"):
    before = _tree_digest(state)
    pre = ["--root", root] if root else []
    code, out, err = run_main(pre + ["--state-dir", state] + argv + ["-o", fmt], env={"NO_COLOR": "1"})
    _check_refused(code, out, err, expected, fmt, document="export" not in argv)
    assert _tree_digest(state) == before, "bad input wrote to the state dir"


@pytest.mark.parametrize("argv,expected", BAD_VALUES, ids=[" ".join(a)[:60] for a, _ in BAD_VALUES])
def test_bad_value(root, tmp_path, argv, expected):
    for fmt in ("table", "json"):
        _run_refused(root, argv, expected, str(tmp_path / "state"), fmt)


def _yaml_params():
    for name in sorted(YAML_COMMANDS):
        for kind in sorted(BAD_YAML):
            yield pytest.param(name, kind, id=f"{name}-{kind}")


@pytest.mark.parametrize("name,kind", list(_yaml_params()))
def test_bad_yaml_file(root, tmp_path, name, kind):
    argv, good = YAML_COMMANDS[name]
    f = tmp_path / f"{kind}.yaml"
    f.write_bytes(BAD_YAML[kind](good))
    _run_refused(root, [a.format(f=f) for a in argv], 2, str(tmp_path / "state"), "json")


@pytest.mark.parametrize("name", sorted(YAML_COMMANDS))
def test_yaml_file_that_is_not_a_file(root, tmp_path, name):
    argv, _ = YAML_COMMANDS[name]
    for f in (tmp_path, "/dev/null", tmp_path / "missing.yaml"):
        _run_refused(root, [a.format(f=f) for a in argv], 2, str(tmp_path / "state"))


def test_good_yaml_files_are_accepted(root, tmp_path):
    """The bad-file table is only meaningful if the good texts pass."""
    for name, (argv, good) in YAML_COMMANDS.items():
        f = tmp_path / "good.yaml"
        f.write_text(good)
        code, out, err = run_main(["--root", root, "--state-dir", str(tmp_path / "s")]
                                  + [a.format(f=f) for a in argv] + ["-o", "json"])
        assert code in (0, 4), (name, err)  # verify says 4 when the node differs
        assert json.loads(out)["kind"] != "Error"


ROOT_COMMANDS = [["topology"], ["topology", "--tree"], ["cpu", "list"], ["hugepages", "show"], ["devices", "list"],
                 ["export", "resourceslice"], ["cpu", "reserve", "a", "-n", "1", "--dry-run"]]


def _odd_roots(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "sys-only" / "sys").mkdir(parents=True)
    (tmp_path / "sys-proc" / "sys").mkdir(parents=True)
    (tmp_path / "sys-proc" / "proc").mkdir()
    (tmp_path / "file.txt").write_text("hello\n")
    (tmp_path / "junk.tar.gz").write_bytes(b"\x1f\x8b not really")
    os.mkfifo(tmp_path / "fifo")
    os.mkfifo(tmp_path / "fifo.tar.gz")
    return ["/nonexistent-root", "/dev/null", str(tmp_path / "empty"), str(tmp_path / "sys-only"),
            str(tmp_path / "sys-proc"), str(tmp_path / "file.txt"), str(tmp_path / "junk.tar.gz"),
            str(tmp_path / "fifo"), str(tmp_path / "fifo.tar.gz")]


@pytest.mark.parametrize("argv", ROOT_COMMANDS, ids=[" ".join(a) for a in ROOT_COMMANDS])
def test_odd_root_exit_3(tmp_path, argv):
    state = str(tmp_path / "state")
    for r in _odd_roots(tmp_path):
        # a subprocess with a timeout: opening a FIFO would block an in-process run forever
        p = subprocess.run([sys.executable, "-m", "rmctl", "--root", r, "--state-dir", state, *argv, "-o", "json"],
                           cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                           env={**os.environ, "NO_COLOR": "1"})
        _check_refused(p.returncode, p.stdout, p.stderr, 3, "json", document="export" not in argv)
        assert not os.path.exists(state), r


CPULIST_CHARS = st.text(alphabet="0123456789,-x: \t", max_size=12)
SIZE_CHARS = st.text(alphabet="0123456789.kKMGTPiBb -e", max_size=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=CPULIST_CHARS)
def test_fuzz_cpulist(root, tmp_path, text):
    state = str(tmp_path / "fuzz-state")
    code, out, err = run_main(["--root", root, "--state-dir", state, "cpu", "reserve", "a", "--cpus=" + text,
                               "--dry-run", "-o", "json"])
    assert code in (0, 2, 4), (text, code, err)
    assert "Traceback" not in err and "internal error" not in err
    doc = json.loads(out)
    assert (doc["kind"] == "Error") == (code != 0)
    if code:
        assert sum(ln.startswith("rmctl: error: ") for ln in err.splitlines()) == 1
    assert not os.path.exists(state)  # --dry-run and bad input never create the state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=SIZE_CHARS)
def test_fuzz_size(root, tmp_path, text):
    code, out, err = run_main(["--root", root, "hugepages", "size", "--page-size", "2M", "-o", "json", "--", text])
    assert code in (0, 2, 4), (text, code, err)
    assert "Traceback" not in err and "internal error" not in err
    assert (json.loads(out)["kind"] == "Error") == (code != 0)
