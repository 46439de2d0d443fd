"""The machine-readable contract of every command (pipx style).

For each command that takes ``-o json``: the exit code is a documented one;
stdout is ONE JSON document in the versioned envelope (apiVersion, kind,
schemaVersion; Kubernetes-shaped exports keep their own apiVersion/kind);
CPU sets are canonical cpulist strings; ``-o yaml`` carries the same data;
a bad argument gives a ``kind: Error`` document with error.code, message
and hint, the documented exit code, exactly one ``rmctl: error:`` line on
stderr and no traceback; read-only and ``--dry-run`` runs write nothing to
the root or the state dir.

A command added to the tree without a row in CASES (or an entry in EXEMPT
saying why) fails :func:`test_every_command_is_covered`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
import yaml

from rmctl.cpuset import CpuSet
from rmctl.errors import ExitCode
from tests import synth
from tests.cli.helpers import run_main

#: commands that never print an rmctl JSON document, and why
EXEMPT = {
    "cpu run": "its -o/--output belongs to the child command; it prints the child's output and returns its status",
}

#: documents that are Kubernetes (or NFD) objects: their own apiVersion, no schemaVersion
KUBERNETES_KINDS = {"KubeletConfiguration", "ResourceSlice", "List", "NodeFeature"}

#: dry-runs whose plan does not carry the node fingerprint (yet), and why
NO_FINGERPRINT = {
    "undo": "with nothing journaled it prints an empty UndoReport, not a plan",
}

LIVE = "<live>"  # a case run against this machine (no --root): only dry-runs and reads

PROFILE = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: worker}
spec:
  systemReservedCPUs: {count: 1}
  hugepages:
  - {pageSize: 2Mi, count: 8, node: 0}
  mounts:
  - {path: /mnt/rmctl-contract-2m, pageSize: 2Mi}
  reservations:
  - {name: db, count: 2}
"""

REQUEST = """\
apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  topologyPolicy: single-numa-node
  cpus: {count: 2}
  devices:
  - name: gpu
    class: gpu
    count: 1
"""

# exports read a profile as the node should be; a count of system CPUs needs an apply first
EXPORT_PROFILE = PROFILE.replace("{count: 1}", '{cpus: "0"}')

CLASS = """\
apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: big-gpu}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].kind == "gpu"'
"""

# One row per command: ok = argv of a run that succeeds (read-only, or
# --dry-run), ok_codes = the exit codes it may give, bad = argv with one bad
# argument, bad_code = the exit code that must give, setup = argv run first
# (state dir only), root = LIVE for commands that only plan for this
# machine.  {root}, {profile}, {request}, {classes}, {tmp} are filled in.
CASES = {
    "topology": dict(ok=["topology"], bad=["--root", "/nonexistent-root", "topology"], bad_code=3),
    "plan": dict(ok=["plan", "-f", "{profile}"], bad=["plan", "-f", "{tmp}/missing.yaml"], bad_code=2),
    "apply": dict(ok=["apply", "-f", "{profile}", "--dry-run"],
                  bad=["apply", "-f", "{tmp}/missing.yaml", "--dry-run"], bad_code=2),
    "undo": dict(ok=["undo", "--dry-run"], bad=["--lock-timeout", "-1", "undo"], bad_code=2),
    "verify": dict(ok=["verify", "-f", "{profile}"], ok_codes=(0, 4),
                   bad=["verify", "-f", "{tmp}/missing.yaml"], bad_code=2),
    "snapshot capture": dict(ok=["snapshot", "capture", "{tmp}/out.tar.gz", "--force"], writes_out=True,
                             bad=["snapshot", "capture", "{tmp}/no/such/dir/x.tar.gz"], bad_code=2),
    "cpu reserve": dict(ok=["cpu", "reserve", "a", "-n", "2", "--dry-run"],
                        bad=["cpu", "reserve", "a", "-n", "0", "--dry-run"], bad_code=2),
    "cpu release": dict(setup=["cpu", "reserve", "a", "-n", "2"], ok=["cpu", "release", "a", "--dry-run"],
                        bad=["cpu", "release", "nosuch", "--dry-run"], bad_code=2),
    "cpu list": dict(ok=["cpu", "list"], bad=["--root", "/dev/null", "cpu", "list"], bad_code=3),
    "cpu reconcile": dict(setup=["cpu", "reserve", "a", "-n", "1"], ok=["cpu", "reconcile", "--dry-run"],
                          bad=["--root", "{tmp}", "cpu", "reconcile", "--dry-run"], bad_code=3),
    "cpu reserve-system": dict(ok=["cpu", "reserve-system", "-n", "1", "--dry-run"],
                               bad=["cpu", "reserve-system", "--cpus", "3-1", "--dry-run"], bad_code=2),
    "cpu pin": dict(root=LIVE, ok=["cpu", "pin", "{pid}", "--cpus", "0", "--dry-run"],
                    bad=["cpu", "pin", "{pid}", "--cpus", "0-", "--dry-run"], bad_code=2),
    "cpu cpuset": dict(root=LIVE, setup=["cpu", "reserve", "a", "-n", "1"], ok=["cpu", "cpuset", "a", "--dry-run"],
                       bad=["cpu", "cpuset", "nosuch", "--dry-run"], bad_code=2),
    "hugepages show": dict(ok=["hugepages", "show"], bad=["--root", "/nonexistent-root", "hugepages", "show"],
                           bad_code=3),
    "hugepages set": dict(ok=["hugepages", "set", "2M=2", "--node", "0", "--dry-run"],
                          bad=["hugepages", "set", "2M=abc", "--dry-run"], bad_code=2),
    "hugepages size": dict(ok=["hugepages", "size", "8M", "--page-size", "2M"],
                           bad=["hugepages", "size", "12Q", "--page-size", "2M"], bad_code=2),
    "hugepages mount": dict(ok=["hugepages", "mount", "/mnt/rmctl-contract", "--page-size", "2M", "--dry-run"],
                            bad=["hugepages", "mount", "/mnt/rmctl-contract", "--page-size", "3M", "--dry-run"],
                            bad_code=2),
    "hugepages umount": dict(ok=["hugepages", "umount", "/mnt/rmctl-contract", "--dry-run"],
                             bad=["hugepages", "umount", "relative/path", "--dry-run"], bad_code=2),
    "hugepages boot-args": dict(ok=["hugepages", "boot-args", "2M=4", "1G=1"],
                                bad=["hugepages", "boot-args", "7M=1"], bad_code=2),
    "devices list": dict(ok=["devices", "list"], bad=["devices", "list", "--numa", "99"], bad_code=2),
    "devices show": dict(ok=["devices", "show", "0000:3b:00.0"], bad=["devices", "show", "zz:zz"], bad_code=2),
    "class list": dict(ok=["class", "list", "--class-dir", "{classes}"],
                       bad=["class", "list", "--class-dir", "{tmp}/missing"], bad_code=2),
    "class show": dict(ok=["class", "show", "big-gpu", "--class-dir", "{classes}"],
                       bad=["class", "show", "nosuch"], bad_code=2),
    "class validate": dict(ok=["class", "validate", "{classes}/big-gpu.yaml"],
                           bad=["class", "validate", "{request}"], bad_code=2),
    "request evaluate": dict(ok=["request", "evaluate", "{request}"],
                             bad=["request", "evaluate", "{tmp}/missing.yaml"], bad_code=2),
    "request list": dict(ok=["request", "list"], bad=["--root", "/nonexistent-root", "request", "list"], bad_code=3),
    "request explain": dict(ok=["request", "explain", "{request}"],
                            bad=["request", "explain", "{profile}"], bad_code=2),
    # request --reserve refuses a snapshot root; release takes any kind of reservation
    "request release": dict(setup=["cpu", "reserve", "r", "-n", "1"],
                            ok=["request", "release", "r", "--dry-run"],
                            bad=["request", "release", "nosuch", "--dry-run"], bad_code=2),
    "export kubelet-config": dict(ok=["export", "kubelet-config", "-f", "{export_profile}"],
                                  bad=["export", "kubelet-config", "-f", "{tmp}/missing.yaml"], bad_code=2),
    "export resourceslice": dict(ok=["export", "resourceslice", "--node-name", "node-a"],
                                 bad=["--root", "/nonexistent-root", "export", "resourceslice"], bad_code=3),
    "export nfd": dict(ok=["export", "nfd", "-f", "{export_profile}"],
                       bad=["export", "nfd", "-f", "{tmp}/missing.yaml"], bad_code=2),
    "state show": dict(setup=["cpu", "reserve", "a", "-n", "1"], ok=["state", "show"],
                       bad=["--root", "/nonexistent-root", "state", "show"], bad_code=3),
    # without --yes reset only shows what it would clear
    "state reset": dict(setup=["cpu", "reserve", "a", "-n", "1"], ok=["state", "reset"],
                        bad=["--lock-timeout", "-1", "state", "reset"], bad_code=2),
    "kubelet show": dict(ok=["kubelet", "show"], bad=["kubelet", "show", "--pod", "a/b/c"], bad_code=2),
    "kubelet check": dict(ok=["kubelet", "check"], ok_codes=(0, 4),
                          bad=["kubelet", "check", "--config", "{tmp}/missing.yaml"], bad_code=2),
}

# A CPU set is any string under one of these keys (canonical: CpuSet.parse(v).to_list() == v).
CPU_KEY = re.compile(r"(^|_)cpus$|^cpulist$|CPUs$")
#: keys whose string value is a count, not a set (NFD labels)
NOT_CPU_KEYS = {"rmctl-cpus-online"}
#: keys that differ between two runs of the same command (times, ages, temp names)
VOLATILE = {"created", "created_unix", "captured", "captured_at", "capture_time", "age", "age_seconds", "time", "started"}


def _leaf_commands():
    import typer

    from rmctl.cli.application import app

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs is None:
            yield " ".join(path), cmd
            return
        for name, sub in subs.items():
            if not getattr(sub, "hidden", False):
                yield from walk(sub, path + [name])

    yield from walk(typer.main.get_command(app), [])


def _has_output(cmd) -> bool:
    return any("--output" in getattr(p, "opts", ()) for p in cmd.params)


def test_every_command_is_covered():
    leaves = dict(_leaf_commands())
    with_output = {n for n, c in leaves.items() if _has_output(c)}
    without = set(leaves) - with_output
    missing = with_output - set(CASES) - set(EXEMPT)
    assert not missing, f"commands with -o json but no contract case in tests/test_contract.py: {sorted(missing)}"
    assert without <= set(EXEMPT), f"commands without -o/--output (add it, or exempt them with a reason): " \
                                   f"{sorted(without - set(EXEMPT))}"
    stale = (set(CASES) | set(EXEMPT)) - set(leaves)
    assert not stale, f"contract cases for commands that no longer exist: {sorted(stale)}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A synthetic dual-socket root with two devices and a 2M pool, plus input files."""
    tmp = tmp_path_factory.mktemp("contract")
    root = synth.build(tmp / "root", sockets=2, cores=2, threads=2, hugepages={"per_node": {(0, 2048): 4}},
                       devices=[synth.Device("0000:3b:00.0", numa_node=0, driver="nvidia"),
                                synth.Device("0000:af:00.0", numa_node=1, vendor="0x15b3", device="0x101b",
                                             cls="0x020000", driver="mlx5_core")])
    (tmp / "profile.yaml").write_text(PROFILE)
    (tmp / "export-profile.yaml").write_text(EXPORT_PROFILE)
    (tmp / "request.yaml").write_text(REQUEST)
    (tmp / "classes").mkdir()
    (tmp / "classes" / "big-gpu.yaml").write_text(CLASS)
    return {"root": root, "profile": str(tmp / "profile.yaml"), "export_profile": str(tmp / "export-profile.yaml"), "request": str(tmp / "request.yaml"),
            "classes": str(tmp / "classes"), "tmp": str(tmp), "pid": str(os.getpid())}


def _fill(argv, world, tmp):
    vals = dict(world, tmp=str(tmp))
    return [a.format(**vals) for a in argv]


def _tree_digest(path) -> str:
    """Return a digest of every name and file content under ``path`` (absent -> '')."""
    if not os.path.exists(path):
        return ""
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        h.update(d.encode())
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(f.encode())
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def _run(case_root, argv, state, env=None):
    # a case that names its own --root reads that one (two --root are a usage error: issue 11 finding 6)
    pre = [] if case_root == LIVE or "--root" in argv else ["--root", case_root]
    e = {"NO_COLOR": "1", "RMCTL_STATE_DIR": state}
    e.update(env or {})
    return run_main(pre + list(argv), env=e)


def _walk(o, key=None):
    if isinstance(o, dict):
        for k, v in o.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(o, list):
        for v in o:
            yield from _walk(v, key)


#: a planned state-file replacement embeds the new file, whose records carry creation times
STATE_FILE_KEYS = {"content", "content_sha256", "expect_sha256", "previous"}


def _strip_volatile(o):
    if isinstance(o, dict):
        drop = VOLATILE | (STATE_FILE_KEYS if "content_sha256" in o else set())
        return {k: _strip_volatile(v) for k, v in o.items() if k not in drop}
    if isinstance(o, list):
        return [_strip_volatile(v) for v in o]
    return o


def _no_traceback(err):
    assert "Traceback" not in err and "Error:" not in err.replace("rmctl: error:", ""), err


def _one_error_line(err):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert sum(ln.startswith("rmctl: error: ") for ln in lines) == 1, err
    assert lines[0].startswith("rmctl: error: "), err
    assert all(ln.startswith(("rmctl: error: ", "hint: ")) for ln in lines), err
    assert "Traceback" not in err


def _check_envelope(doc, name):
    assert isinstance(doc, dict) and doc.get("kind") and doc.get("apiVersion"), (name, doc)
    if doc["kind"] in KUBERNETES_KINDS:
        assert "/" in doc["apiVersion"] and "schemaVersion" not in doc
    else:
        assert doc["apiVersion"] == "rmctl.io/v1alpha1" and doc["schemaVersion"] == 1, (name, list(doc))


def _check_cpusets(doc, name):
    for k, v in _walk(doc):
        if isinstance(k, str) and isinstance(v, str) and CPU_KEY.search(k) and k not in NOT_CPU_KEYS:
            assert CpuSet.parse(v).to_list() == v, f"{name}: {k}={v!r} is not a canonical cpulist"


DOCUMENTED = {int(c) for c in ExitCode}


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_contract(name, world, tmp_path):
    case = CASES[name]
    root = case.get("root", world["root"])
    root = root if root == LIVE else world["root"]
    state = str(tmp_path / "state")
    if "setup" in case:
        code, out, err = _run(root, _fill(case["setup"], world, tmp_path), state)
        assert code == 0, err
    before = (_tree_digest(state), _tree_digest(world["root"]))
    argv = _fill(case["ok"], world, tmp_path)

    code, out, err = _run(root, argv + ["-o", "json"], state)
    assert code in DOCUMENTED and code in case.get("ok_codes", (0,)), (name, code, err)
    _no_traceback(err)
    doc = json.loads(out)  # exactly one document: trailing text fails here
    _check_envelope(doc, name)
    assert doc["kind"] != "Error", (name, doc)
    _check_cpusets(doc, name)

    if "--dry-run" in argv and name not in NO_FINGERPRINT:
        fps = [v for k, v in _walk(doc) if k == "fingerprint"]
        assert fps and all(isinstance(v, str) and v for v in fps), f"{name} --dry-run: the plan has no node fingerprint"

    code_y, out_y, err_y = _run(root, argv + ["-o", "yaml"], state)
    assert code_y == code, (name, err_y)
    assert _strip_volatile(yaml.safe_load(out_y)) == _strip_volatile(doc), name

    # read-only and --dry-run: the state dir and the root are as they were
    assert (_tree_digest(state), _tree_digest(world["root"])) == before, f"{name} wrote something"


@pytest.mark.parametrize("fmt", ["json", "yaml", "table"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_error_contract(name, fmt, world, tmp_path):
    case = CASES[name]
    root = case.get("root", world["root"])
    root = root if root == LIVE else world["root"]
    state = str(tmp_path / "state")
    if "setup" in case:
        assert _run(root, _fill(case["setup"], world, tmp_path), state)[0] == 0
    before = _tree_digest(state)
    code, out, err = _run(root, _fill(case["bad"], world, tmp_path) + ["-o", fmt], state)
    assert code == case["bad_code"], (name, code, out, err)
    _one_error_line(err)
    if fmt == "table" or name.startswith("export "):  # exports never print an error document
        assert out == "", (name, out)
    else:
        doc = json.loads(out) if fmt == "json" else yaml.safe_load(out)
        _check_envelope(doc, name)
        assert doc["kind"] == "Error" and doc["exit_code"] == code
        e = doc["error"]
        assert e["code"] and isinstance(e["code"], str) and e["message"] and "hint" in e, (name, e)
        assert err.splitlines()[0] == f"rmctl: error: {e['message']}"
    assert _tree_digest(state) == before, f"{name}: bad input wrote to the state dir"
