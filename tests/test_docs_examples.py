"""Every example file and every shell block of the docs runs, as a user would run it (issue 11 finding 9).

* ``examples/``: a ResourceClass file is validated (``class validate``), a
  ResourceRequest evaluated and a NodeProfile planned on the 2-CPU VM's
  snapshot (``dev-vm.tar.gz``, a machine the size of the one rmctl is
  built on), each with exit 0; a profile is also planned on the 16-CPU
  ``gpu-node.tar.gz``.  Kubernetes manifests are run by the docs blocks
  that name them; the Ansible playbooks by tests/journeys/test_ansible.py.
* README.md and docs/*.md: each ``sh``/``bash``/``shell`` block runs in
  bash, in a scratch directory holding the snapshots under the names the
  docs use (``gpu-node.tar.gz``, ``dev-vm.tar.gz``, ``a.tar.gz``,
  ``b.tar.gz``) and a copy of ``examples/``, with a scratch
  ``RMCTL_STATE_DIR``; every rmctl command must exit 0 or 4 (an answer:
  "does not fit"), never a usage, input or internal error.  A block that
  cannot run here is marked, on the line before its fence, with
  ``<!-- norun: REASON -->``; NORUN_MAX keeps that list short.
* YAML blocks of docs/formats.md that hold one of rmctl's kinds load
  through the loaders they document.
"""

from __future__ import annotations

import glob
import os
import re
import shutil

import pytest

from tests.conftest import NODE_FIXTURES
from tests.journeys.console import RMCTL, environ, rmctl, shell

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV_VM = os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")
GPU_NODE = os.path.join(NODE_FIXTURES, "gpu-node.tar.gz")
DOCS = ["README.md"] + sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "docs", "*.md")))
SHELLS = ("sh", "bash", "shell")
NORUN = re.compile(r"<!--\s*norun:\s*(\S.*?)\s*-->")
#: blocks allowed to be marked norun, all docs together (raise it only with a reason in the block's comment)
NORUN_MAX = 3
#: example files run elsewhere, and where
ELSEWHERE = {
    "examples/ansible/site.yml": "tests/journeys/test_ansible.py",
    "examples/ansible/undo.yml": "tests/journeys/test_ansible.py",
}

# outside CI a checkout without the shared fixtures skips; CI (CI=true) has them and must run every block
pytestmark = pytest.mark.skipif(not os.path.exists(DEV_VM) and not os.environ.get("CI"),
                                reason="needs the shared node fixtures")


# -- reading the docs -------------------------------------------------------------

def blocks(rel: str) -> list[tuple[int, str, str, str | None]]:
    """Return (line, language, text, norun reason or None) of every fenced block of ``rel``."""
    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        nr = NORUN.search(prev)
        out.append((start + 1, lang, "\n".join(lines[start + 1:j]) + "\n", nr.group(1) if nr else None))
        i = j + 1
    return out


SHELL_BLOCKS = [(rel, line, text, why) for rel in DOCS for line, lang, text, why in blocks(rel) if lang in SHELLS]


def test_docs_have_shell_blocks_and_few_are_norun():
    assert len(SHELL_BLOCKS) >= 5, "the block parser found too few shell blocks: did the fence syntax change?"
    norun = [f"{rel}:{line} ({why})" for rel, line, _, why in SHELL_BLOCKS if why]
    assert len(norun) <= NORUN_MAX, "too many shell blocks are marked norun: " + "; ".join(norun)


def test_the_block_parser_reads_fences_and_annotations(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("x\n<!-- norun: installs packages -->\n\n```sh\npip install x\n```\n\n```yaml\na: 1\n```\n"
                   "```bash\nrmctl topology\n```\n")
    assert blocks(str(doc)) == [(4, "sh", "pip install x\n", "installs packages"), (8, "yaml", "a: 1\n", None),
                                (11, "bash", "rmctl topology\n", None)]


# -- running the docs' shell blocks ----------------------------------------------------

#: every rmctl command of a block must answer (0) or say "does not fit" (4); the status of the
#: first one that does not is the block's
PRELUDE = r"""
set -o pipefail
rmctl() {
    command rmctl "$@"
    local rc=$?
    case $rc in 0|4) return 0 ;; esac
    echo "DOCS-BLOCK-FAILED: rmctl $* exited $rc" >&2
    exit 97
}
"""


@pytest.fixture
def sandbox(tmp_path):
    """A scratch directory: the snapshots under the docs' names, a copy of examples/, a scratch state dir."""
    shutil.copytree(os.path.join(REPO, "examples"), tmp_path / "examples")
    # the snapshots are where the user works: here, and in examples/kubernetes (docs/kubernetes-input.md cds there)
    for where in (tmp_path, tmp_path / "examples" / "kubernetes"):
        for name, target in (("gpu-node.tar.gz", GPU_NODE), ("dev-vm.tar.gz", DEV_VM),
                             ("a.tar.gz", GPU_NODE), ("b.tar.gz", DEV_VM)):
            os.symlink(target, where / name)
    return tmp_path


@pytest.mark.parametrize("rel,line,text,why", SHELL_BLOCKS, ids=[f"{r}:{ln}" for r, ln, _, _ in SHELL_BLOCKS])
def test_docs_shell_block_runs(sandbox, rel, line, text, why):
    if why:
        pytest.skip(f"{rel}:{line} is marked norun: {why}")
    assert os.path.exists(RMCTL), "the rmctl console script is not installed: pip install -e ."
    env = environ(RMCTL_STATE_DIR=str(sandbox / "state"), HOME=str(sandbox))
    p = shell(f"cd {sandbox}\n{PRELUDE}\n{text}", env=env)
    assert p.returncode == 0 and "DOCS-BLOCK-FAILED" not in p.stderr, (
        f"{rel}:{line}: the block exits {p.returncode}\n--- stderr:\n{p.stderr[-3000:]}\n--- stdout:\n{p.stdout[-2000:]}")


def test_a_failing_command_fails_its_block(sandbox):
    """The check itself: a usage error (2) fails the block, a "does not fit" (4) does not."""
    env = environ(RMCTL_STATE_DIR=str(sandbox / "state"))
    p = shell(f"cd {sandbox}\n{PRELUDE}\nrmctl topology --no-such-option\necho after\n", env=env)
    assert p.returncode == 97 and "DOCS-BLOCK-FAILED: rmctl topology --no-such-option exited 2" in p.stderr
    assert "after" not in p.stdout
    p = shell(f"cd {sandbox}\n{PRELUDE}\nrmctl --root dev-vm.tar.gz cpu reserve x -n 99 --dry-run\necho after\n",
              env=env)
    assert p.returncode == 0 and "after" in p.stdout


# -- the YAML of docs/formats.md ----------------------------------------------------------

FORMAT_BLOCKS = [(line, text) for line, lang, text, _ in blocks("docs/formats.md") if lang == "yaml"]


@pytest.mark.parametrize("line,text", FORMAT_BLOCKS, ids=[f"docs/formats.md:{ln}" for ln, _ in FORMAT_BLOCKS])
def test_formats_yaml_blocks_load(line, text):
    import yaml

    from rmctl.profile import parse_profile
    from rmctl.resources.classes import class_from_document
    from rmctl.resources.request import request_from_documents
    from rmctl.resources.yamlio import load_documents

    where = f"docs/formats.md:{line}"
    kind = yaml.safe_load(text)["kind"]
    docs = load_documents(text, where)
    if kind == "NodeProfile":
        assert parse_profile(text, where).name
    elif kind == "ResourceRequest":
        assert request_from_documents(docs, where).name
    else:
        assert kind == "ResourceClass" and class_from_document(docs[0], where).name


def test_formats_documents_every_field():
    """Each field the loaders accept is named in docs/formats.md (a new field needs its row)."""
    from rmctl.profile import schema

    with open(os.path.join(REPO, "docs", "formats.md"), encoding="utf-8") as f:
        doc = f.read()
    names = {"systemReservedCPUs", "isolatedCPUs", "hugepages", "mounts", "reservations", "kubelet", "requests",
             "pageSize", "reserved", "minSize", "nrInodes", "uid", "gid", "mode", "classDir", "ownerPid",
             "topologyManagerPolicy", "topologyManagerScope", "topologyManagerPolicyOptions", "cpuManagerPolicy",
             "cpuManagerPolicyOptions", "memoryManagerPolicy", "systemReservedMemory", "kubeReservedMemory",
             "evictionHardMemory", "evictionHard", "topologyPolicy", "wholeCores", "memory", "devices",
             "constraints", "allocationMode", "deviceClassName", "firstAvailable", "matchAttribute", "selectors",
             "description", "config", "labels", "annotations"}
    names |= set(schema.RESERVATION_KEYS) - {"from"}
    # in a code span as a field: `spec.devices[].count`, `labels`...
    missing = sorted(n for n in names if not re.search(rf"`[^`\n]*(?<![\w-]){n}(?![\w-])[^`\n]*`", doc))
    assert not missing, f"docs/formats.md does not document: {missing}"


# -- the examples -----------------------------------------------------------------------

def _example_files() -> list[str]:
    out = []
    for dirpath, _, files in os.walk(os.path.join(REPO, "examples")):
        out += [os.path.relpath(os.path.join(dirpath, f), REPO) for f in files if f.endswith((".yaml", ".yml"))]
    return sorted(out)


def _kinds(rel: str) -> list[str]:
    import yaml

    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        return [d.get("kind") for d in yaml.safe_load_all(f) if isinstance(d, dict)]


EXAMPLES = _example_files()


@pytest.mark.parametrize("rel", EXAMPLES)
def test_example_runs(tmp_path, rel):
    kinds = set(_kinds(rel))
    path = os.path.join(REPO, rel)
    classes = os.path.join(REPO, "examples", "classes")
    state = ("--state-dir", str(tmp_path / "state"))
    if "NodeProfile" in kinds:
        for root in (DEV_VM, GPU_NODE):
            p = rmctl("--root", root, *state, "plan", "-f", path)
            assert p.returncode == 0, f"{rel} does not plan on {os.path.basename(root)}: {p.stderr}"
    elif "ResourceRequest" in kinds:
        p = rmctl("--root", DEV_VM, "request", "evaluate", path, "--class-dir", classes)
        assert p.returncode == 0, f"{rel} does not fit the 2-CPU VM: {p.stdout}{p.stderr}"
        assert "fits" in p.stdout
    elif kinds == {"ResourceClass"}:
        p = rmctl("class", "validate", path)
        assert p.returncode == 0, p.stderr
    elif rel in ELSEWHERE:
        with open(os.path.join(REPO, ELSEWHERE[rel]), encoding="utf-8") as f:
            assert os.path.basename(rel) in f.read(), f"{ELSEWHERE[rel]} no longer runs {rel}"
    else:
        # Kubernetes manifests: a docs shell block that runs must use them
        name = os.path.basename(rel)
        users = [f"{r}:{ln}" for r, ln, text, why in SHELL_BLOCKS if not why and name in text]
        assert users, f"{rel} ({', '.join(sorted(k or '?' for k in kinds))}) is run by no docs block; use it in one"


def test_examples_cover_the_three_kinds():
    kinds = {k for rel in EXAMPLES for k in _kinds(rel)}
    assert {"ResourceClass", "ResourceRequest", "NodeProfile"} <= kinds
