"""Issue 14 item 2: one request over a fleet of roots, read in parallel, streamed as nodes are known.

Roots come from --root (repeated, or a directory of snapshots) and
--roots-from (a file or stdin).  -o table and -o jsonl print each node as
it is read; -o json|yaml one document, nodes in root order.  Exit 0 when
it fits on any node, 4 when on none, else the first unreadable node's
status.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests import synth
from tests.cli.helpers import REPO, run_main, run_typer
from tests.requests.helpers import H200, request_file

GPU = "  cpus: {count: 1}\n  devices:\n  - {name: gpu, class: gpu}\n"
ONE_CPU = "  cpus: {count: 1}\n"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A directory of snapshots: 3 H200 tarballs (the GPU fits) and 2 synthetic directories (no GPU)."""
    d = tmp_path_factory.mktemp("fleet") / "nodes"
    d.mkdir()
    for i in (1, 2, 10):
        shutil.copy(H200, d / f"gpu{i}.tar.gz")
    synth.build(d / "cpu1", sockets=1, cores=2, threads=1)
    synth.build(d / "cpu2", sockets=2, cores=2, threads=1)
    (d / "notes.txt").write_text("not a snapshot\n")
    os.symlink(H200, d / "link.tar.gz")  # a link is never followed out of the directory
    return str(d)


def _env(tmp_path):
    return {"RMCTL_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1", "RMCTL_CACHE_DIR": str(tmp_path / "cache")}


def test_a_directory_of_snapshots_is_every_snapshot_in_it(fleet, tmp_path):
    req = request_file(tmp_path, GPU)
    code, out, err = run_main(["--root", fleet, "request", "evaluate", req, "-o", "json", "--jobs", "2"],
                              env=_env(tmp_path))
    doc = json.loads(out)
    assert code == 0, err
    names = [os.path.basename(n["node"]) for n in doc["nodes"]]
    # natural order of the directory, not completion order; the link and the text file are not snapshots
    assert names == ["cpu1", "cpu2", "gpu1.tar.gz", "gpu2.tar.gz", "gpu10.tar.gz"]
    assert doc["kind"] == "RequestEvaluationList" and doc["fits"] is True and doc["errors"] == []
    assert [os.path.basename(n) for n in doc["fitting_nodes"]] == ["gpu1.tar.gz", "gpu2.tar.gz", "gpu10.tar.gz"]


def test_jsonl_is_one_document_per_node_as_each_is_read(fleet, tmp_path):
    req = request_file(tmp_path, GPU)
    code, out, _ = run_main(["request", "evaluate", req, "--root", fleet, "--root", "/nonexistent-root",
                             "-o", "jsonl", "-j", "3"], env=_env(tmp_path))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6
    docs = [json.loads(x) for x in lines]
    evs = [d for d in docs if d["kind"] == "RequestEvaluation"]
    errs = [d for d in docs if d["kind"] == "Error"]
    assert len(evs) == 5 and sorted(os.path.basename(d["node"]) for d in evs if d["fits"]) == \
        ["gpu1.tar.gz", "gpu10.tar.gz", "gpu2.tar.gz"]
    # each record is the document -o json prints for that node alone
    alone = json.loads(run_main(["--root", evs[0]["node"], "request", "evaluate", req, "-o", "json"],
                                env=_env(tmp_path))[1])
    assert alone == evs[0]
    assert errs == [{"apiVersion": "rmctl.io/v1alpha1", "kind": "Error", "schemaVersion": 1,
                     "node": "/nonexistent-root", "error": errs[0]["error"], "exit_code": 3}]
    assert errs[0]["error"]["code"] == "discovery_failed"


def test_roots_from_a_file_and_from_stdin(fleet, tmp_path):
    req = request_file(tmp_path, ONE_CPU)
    listing = tmp_path / "roots.txt"
    gpu1 = os.path.join(fleet, "gpu1.tar.gz")
    listing.write_text(f"# the fleet\n\n{gpu1}\n  {os.path.join(fleet, 'cpu1')}  \n{gpu1}\n")
    code, out, _ = run_main(["request", "evaluate", req, "--roots-from", str(listing), "-o", "json"],
                            env=_env(tmp_path))
    doc = json.loads(out)
    assert code == 0 and [os.path.basename(n["node"]) for n in doc["nodes"]] == ["gpu1.tar.gz", "cpu1"]
    p = subprocess.run([sys.executable, "-m", "rmctl", "request", "evaluate", req, "--roots-from", "-", "-o", "jsonl"],
                       input=f"{gpu1}\n", capture_output=True, text=True, cwd=REPO, env={**os.environ, **_env(tmp_path)})
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 1
    # a list of one is still a fleet: the document's shape does not depend on the list's length
    listing.write_text(gpu1 + "\n")
    doc = json.loads(run_main(["request", "evaluate", req, "--roots-from", str(listing), "-o", "json"],
                              env=_env(tmp_path))[1])
    assert doc["kind"] == "RequestEvaluationList" and len(doc["nodes"]) == 1


def test_request_and_roots_both_on_stdin_is_refused(tmp_path):
    code, _, err = run_main(["request", "evaluate", "-", "--roots-from", "-", "-o", "json"], env=_env(tmp_path))
    assert code == 2 and "stdin" in err


def test_exit_status_rule(fleet, tmp_path):
    gpu = request_file(tmp_path, GPU, "gpu.yaml")
    cpu1 = os.path.join(fleet, "cpu1")
    e = _env(tmp_path)
    # fits somewhere (an unreadable node is a warning then)
    code, _, err = run_main(["--root", os.path.join(fleet, "gpu1.tar.gz"), "--root", "/nonexistent-root",
                             "request", "evaluate", gpu, "-o", "json"], env=e)
    assert code == 0 and "rmctl: warning: node /nonexistent-root could not be read" in err
    # every node read, fits on none
    code, out, _ = run_main(["--root", cpu1, "--root", os.path.join(fleet, "cpu2"), "request", "evaluate", gpu,
                             "-o", "json"], env=e)
    assert code == 4 and json.loads(out)["fits"] is False
    # fits on none of those read, one unreadable: the answer is not known, the node's error decides
    code, out, err = run_main(["--root", cpu1, "--root", "/nonexistent-root", "request", "evaluate", gpu,
                               "-o", "json"], env=e)
    doc = json.loads(out)
    assert code == 3 and doc["errors"][0]["node"] == "/nonexistent-root" and doc["errors"][0]["exit_code"] == 3
    assert "rmctl: error: node /nonexistent-root could not be read" in err


def test_table_streams_rows_then_why_not_then_the_count(fleet, tmp_path):
    req = request_file(tmp_path, GPU)
    code, out, _ = run_main(["--root", fleet, "request", "evaluate", req, "--jobs", "1"], env=_env(tmp_path))
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["NODE", "FITS", "NUMA", "CPUS", "DEVICES"]
    assert [x.split()[:2] for x in lines[1:6]] == [["cpu1", "no"], ["cpu2", "no"], ["gpu1", "yes"],
                                                   ["gpu2", "yes"], ["gpu10", "yes"]]
    assert lines[6] == "why not on cpu1:" and lines[-1] == "request r: fits on 3 of 5 nodes"


def test_fast_path_and_typer_print_the_same(fleet, tmp_path):
    from rmctl.cli import fastpath

    req = request_file(tmp_path, GPU)
    for argv in (["--root", fleet, "request", "evaluate", req, "-o", "jsonl", "--jobs", "1"],
                 ["request", "explain", req, "--root", fleet, "-o", "json", "-j", "2"],
                 ["request", "evaluate", req, "--root", fleet, "--root", "/nonexistent-root", "-o", "yaml"]):
        assert fastpath.parse(argv, {}) is not None
        fast, slow = run_main(argv, env=_env(tmp_path)), run_typer(argv, env=_env(tmp_path))
        assert fast == slow


def test_pods_on_a_fleet(fleet, tmp_path):
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers:\n"
                   "  - name: c\n    resources: {limits: {cpu: '1', memory: 64Mi}}\n")
    code, out, _ = run_main(["--root", os.path.join(fleet, "cpu1"), "--root", os.path.join(fleet, "gpu1.tar.gz"),
                             "request", "evaluate", str(pod), "-o", "jsonl", "--cpu-manager-policy", "static", "--reserved-cpus", "0"],
                            env=_env(tmp_path))
    docs = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and {d["kind"] for d in docs} == {"PodEvaluation"} and all(d["admitted"] for d in docs)
    code, out, _ = run_main(["--root", os.path.join(fleet, "cpu1"), "--root", os.path.join(fleet, "gpu1.tar.gz"),
                             "request", "evaluate", str(pod), "-o", "json"], env=_env(tmp_path))
    doc = json.loads(out)
    assert doc["kind"] == "PodEvaluationList" and doc["admitted"] and len(doc["nodes"]) == 2


def test_twenty_tarballs_in_parallel(tmp_path):
    """Distinct archives (cold index cache each), two workers: every node read once, in root order."""
    d = tmp_path / "many"
    d.mkdir()
    raw = open(H200, "rb").read()
    import gzip

    for i in range(20):
        (d / f"n{i:02d}.tar.gz").write_bytes(raw + gzip.compress(b"\0" * 512, mtime=i))
    req = request_file(tmp_path, GPU)
    code, out, _ = run_main(["--root", str(d), "request", "evaluate", req, "-o", "json", "-j", "2"],
                            env=_env(tmp_path))
    doc = json.loads(out)
    assert code == 0 and len(doc["fitting_nodes"]) == 20
    assert [os.path.basename(n["node"]) for n in doc["nodes"]] == [f"n{i:02d}.tar.gz" for i in range(20)]


def test_progress_line_on_a_terminal_only(fleet, tmp_path):
    """stderr a terminal: a progress line, redrawn in place and cleared at the end; a pipe: none."""
    import pty

    req = request_file(tmp_path, ONE_CPU)
    argv = [sys.executable, "-m", "rmctl", "--root", fleet, "request", "evaluate", req, "-o", "jsonl", "-j", "1"]
    env = {**os.environ, **_env(tmp_path)}
    p = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env)
    assert p.returncode == 0 and "nodes" not in p.stderr
    master, slave = pty.openpty()
    try:
        q = subprocess.run(argv, stdout=subprocess.PIPE, stderr=slave, cwd=REPO, env=env, timeout=120)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert q.returncode == 0 and len(q.stdout.splitlines()) == 5
    text = seen.decode()
    assert "5/5 nodes, 5 fit" in text and text.endswith("\r\x1b[K")
