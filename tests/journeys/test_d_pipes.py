"""Journey (d), issue 11: every command piped into ``head -1`` ends quietly.

For every leaf command of the CLI (tools/clitree.py walks the tree, so a
new command without a line in INVOCATIONS fails here until it gets one),
an invocation that prints something, run with the installed console
script two ways:

- as typed: ``rmctl ... | head -1`` in bash.  head may read everything
  before it exits, so PIPESTATUS[0] is the command's own status or 141
  (SIGPIPE, as ``seq 1 100000 | head -1`` gives); never an error message,
  never "internal error", never 1 for a command that succeeds;
- deterministically: stdout a pipe whose reader has already gone, so the
  first write meets EPIPE: rmctl is killed by SIGPIPE (-13 to Python, 141
  to a shell), without a word on stderr (``cpu run``: its child meets the
  closed pipe and rmctl passes the child's 128+13 on).

Snapshot roots and state dirs of the journey's own; commands that change
the machine run with --dry-run; nothing on the machine changes.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys

import pytest

from tests.conftest import NODE_FIXTURES
from tests.journeys.console import environ, into_closed_pipe, rmctl, shell

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools"))
from clitree import walk  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GPU_NODE = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
PROFILE = os.path.join(REPO, "examples", "ansible", "profiles", "worker.yaml")
GPU_ADDRESS = "0000:00:06.0"  # gpu-node's H200

REQUEST = """apiVersion: rmctl.io/v1alpha1
kind: ResourceRequest
metadata: {name: train}
spec:
  cpus: {count: 2}
  devices:
  - name: gpu
    class: gpu
"""

CLASS = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata: {name: big-gpu}
spec:
  selectors:
  - cel: 'device.attributes["rmctl.io"].kind == "gpu"'
"""

S = "{state}"  # the journey's state dir
ON_GPU_NODE = ["--root", GPU_NODE, "--state-dir", S]
LIVE = ["--state-dir", S]

#: leaf command -> (argv, the statuses it may end with when its reader reads everything, setup argv or None)
INVOCATIONS: dict[str, tuple[list[str], tuple[int, ...], list[str] | None]] = {
    "topology": (["topology", "--tree", *ON_GPU_NODE], (0,), None),
    "plan": (["plan", "-f", PROFILE, *ON_GPU_NODE], (0,), None),
    "apply": (["apply", "-f", PROFILE, "--dry-run", *ON_GPU_NODE], (0,), None),
    "undo": (["undo", "--dry-run", *ON_GPU_NODE], (0,), None),
    "verify": (["verify", "-f", PROFILE, *ON_GPU_NODE], (0, 4), None),
    "snapshot capture": (["snapshot", "capture", "{tmp}/capture.tar.gz", "--force"], (0,), None),
    "cpu reserve": (["cpu", "reserve", "a", "-n", "2", "--dry-run", *ON_GPU_NODE], (0,), None),
    "cpu release": (["cpu", "release", "r", "--dry-run", *ON_GPU_NODE], (0,),
                    ["cpu", "reserve", "r", "-n", "1", *ON_GPU_NODE]),
    "cpu list": (["cpu", "list", *ON_GPU_NODE], (0,), None),
    "cpu reconcile": (["cpu", "reconcile", "--dry-run", *ON_GPU_NODE], (0,),
                      ["cpu", "reserve", "r", "-n", "1", *ON_GPU_NODE]),
    "cpu reserve-system": (["cpu", "reserve-system", "-n", "1", "--dry-run", *ON_GPU_NODE], (0,), None),
    "cpu pin": (["cpu", "pin", str(os.getpid()), "--cpus", "0", "--dry-run", *LIVE], (0,), None),
    # the child writes: it meets the closed pipe itself, and rmctl passes its status on
    "cpu run": (["cpu", "run", "-n", "1", *LIVE, "--", "seq", "1", "100000"], (0,), None),
    "cpu cpuset": (["cpu", "cpuset", "r", "--dry-run", *LIVE], (0,), ["cpu", "reserve", "r", "-n", "1", *LIVE]),
    "hugepages show": (["hugepages", "show", *ON_GPU_NODE], (0,), None),
    "hugepages set": (["hugepages", "set", "2M=2", "--dry-run", *ON_GPU_NODE], (0,), None),
    "hugepages size": (["hugepages", "size", "8M", "--page-size", "2M", *ON_GPU_NODE], (0,), None),
    "hugepages mount": (["hugepages", "mount", "/mnt/rmctl-journey", "--page-size", "2M", "--dry-run",
                         *ON_GPU_NODE], (0,), None),
    "hugepages umount": (["hugepages", "umount", "/mnt/rmctl-journey", "--dry-run", *ON_GPU_NODE], (0,), None),
    "hugepages boot-args": (["hugepages", "boot-args", "2M=4", "1G=1", *ON_GPU_NODE], (0,), None),
    "devices list": (["devices", "list", "-v", *ON_GPU_NODE], (0,), None),
    "devices show": (["devices", "show", GPU_ADDRESS, *ON_GPU_NODE], (0,), None),
    "class list": (["class", "list", "--class-dir", "{classes}"], (0,), None),
    "class show": (["class", "show", "gpu"], (0,), None),
    "class validate": (["class", "validate", "{classes}/big-gpu.yaml"], (0,), None),
    "request evaluate": (["request", "evaluate", "{request}", *ON_GPU_NODE], (0,), None),
    "request explain": (["request", "explain", "{request}", *ON_GPU_NODE], (0,), None),
    "request list": (["request", "list", *ON_GPU_NODE], (0,),
                     ["request", "evaluate", "{request}", "--reserve", "r", *ON_GPU_NODE]),
    "request release": (["request", "release", "r", "--dry-run", *ON_GPU_NODE], (0,),
                        ["cpu", "reserve", "r", "-n", "1", *ON_GPU_NODE]),
    "export kubelet-config": (["export", "kubelet-config", "-f", PROFILE, *ON_GPU_NODE], (0,), None),
    "export resourceslice": (["export", "resourceslice", "--node-name", "gpu-node", *ON_GPU_NODE], (0,), None),
    "export nfd": (["export", "nfd", "-f", PROFILE, *ON_GPU_NODE], (0,), None),
    "kubelet show": (["kubelet", "show", *ON_GPU_NODE], (0,), None),
    "kubelet check": (["kubelet", "check", *ON_GPU_NODE], (0, 4), None),
    "state show": (["state", "show", *ON_GPU_NODE], (0,), ["cpu", "reserve", "r", "-n", "1", *ON_GPU_NODE]),
    "state reset": (["state", "reset", *ON_GPU_NODE], (0,), ["cpu", "reserve", "r", "-n", "1", *ON_GPU_NODE]),
}

LEAVES = sorted(" ".join(p[1:]) for p, cmd in walk() if len(p) > 1 and not getattr(cmd, "commands", None))

#: what never appears on stderr when the reader goes away
NEVER = ("internal error", "Traceback", "Broken pipe", "BrokenPipe", "rmctl: error")


def test_every_command_has_an_invocation():
    missing = sorted(set(LEAVES) - set(INVOCATIONS))
    assert not missing, f"add a line to INVOCATIONS in {__file__} for: {missing}"
    assert not sorted(set(INVOCATIONS) - set(LEAVES)), "INVOCATIONS names commands that no longer exist"


@pytest.fixture
def world(tmp_path, machine_lock):
    # machine_lock: cpu run pins rmctl's own process for its child; nothing else touches the machine
    classes = tmp_path / "classes"
    classes.mkdir()
    (classes / "big-gpu.yaml").write_text(CLASS)
    (tmp_path / "request.yaml").write_text(REQUEST)
    return {"{state}": str(tmp_path / "state"), "{tmp}": str(tmp_path), "{classes}": str(classes),
            "{request}": str(tmp_path / "request.yaml")}


def _fill(argv: list[str], world: dict[str, str]) -> list[str]:
    out = []
    for a in argv:
        for k, v in world.items():
            a = a.replace(k, v)
        out.append(a)
    return out


@pytest.mark.parametrize("command", LEAVES)
def test_piped_into_head_it_ends_quietly(command, world):
    argv, codes, setup = INVOCATIONS[command]
    argv = _fill(argv, world)
    if setup:
        p = rmctl(*_fill(setup, world))
        assert p.returncode == 0, p.stderr
    # as typed at a prompt
    p = shell(f"rmctl {shlex.join(argv)} | head -1; echo \"status=${{PIPESTATUS[0]}}\"")
    first, _, status = p.stdout.rpartition("status=")
    assert first.strip(), f"rmctl {command} printed nothing: the journey needs an invocation that prints"
    assert int(status) in codes + (141,), (command, status, p.stderr)
    assert not any(w in p.stderr for w in NEVER), (command, p.stderr)
    # a reader that is already gone: the first write meets EPIPE
    p = into_closed_pipe(*argv, env=environ())
    assert not any(w in p.stderr for w in NEVER), (command, p.stderr)
    if command == "cpu run":
        assert p.returncode == 128 + signal.SIGPIPE, p.stderr  # the child's death by SIGPIPE, passed on
    else:
        assert p.returncode == -signal.SIGPIPE, (command, p.returncode, p.stderr)


def test_the_rule_is_documented_in_readme_and_man():
    for rel in ("README.md", os.path.join("man", "rmctl.1")):
        with open(os.path.join(REPO, rel), encoding="utf-8") as f:
            text = f.read()
        assert "SIGPIPE" in text and "141" in text, rel
