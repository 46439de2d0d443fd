"""Completion in real shells (issue 11 finding 11): the shipped scripts of completions/, driven by bash,
zsh and fish, answer from the ``--root``/``--class-dir``/``--state-dir`` on the line being completed.

bash: the script is sourced and its function called with the variables
readline sets (COMP_LINE, COMP_POINT, and COMP_WORDS split at
COMP_WORDBREAKS, so ``0000:3b`` is three words).  zsh: the file is put on
``$fpath`` as the README says, ``compinit`` run, and the function compinit
bound to rmctl called once (the first <Tab>), with zsh's ``_arguments`` and
``_files`` replaced by functions printing their arguments (they need a
terminal's completion widget).  fish: ``complete -C`` (fish's own
completion of a command line).  A test skips only where its shell is not
installed (.ci/run installs zsh and fish).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests import synth
from tests.cli.helpers import REPO

COMPLETIONS = os.path.join(REPO, "completions")
CLASS = """apiVersion: rmctl.io/v1alpha1
kind: ResourceClass
metadata:
  name: {name}
spec:
  selectors:
  - cel: device.attributes["rmctl.io"].kind == "gpu"
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A 4-node synthetic root with 2M and 1G pools and two PCI functions the live VM lacks."""
    tmp = tmp_path_factory.mktemp("complete")
    root = synth.build(tmp / "node", sockets=2, numa_per_socket=2, hugepages={2 << 20: 1, 1 << 30: 1},
                       devices=[synth.Device("0000:3b:00.0"), synth.Device("0000:af:00.1")])
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "rmctl"  # the scripts run `rmctl` from PATH, as an installed one would be
    shim.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m rmctl \"$@\"\n")
    shim.chmod(0o755)
    classes = tmp / "classes"
    classes.mkdir()
    (classes / "fast.yaml").write_text(CLASS.format(name="fast-gpu"))
    state = tmp / "state"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"reservations": {"db": {}, "web": {}}}))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "HOME": str(tmp)}
    for k in ("RMCTL_ROOT", "RMCTL_STATE_DIR", "RMCTL_CLASS_DIR"):
        env.pop(k, None)
    return {"root": str(root), "classes": str(classes), "state": str(state), "env": env, "tmp": tmp}


def _readline_words(line: str) -> list[str]:
    """COMP_WORDS as bash's readline makes them: blanks separate words, ':' and '=' are words of their own."""
    words = re.findall(r"[:=]|[^\s:=]+", line)
    if not line or line[-1] in " :=":
        words.append("")
    return words


def bash_complete(node, line: str) -> list[str]:
    words = _readline_words(line)
    script = (f"source {COMPLETIONS}/rmctl.bash\n"
              'COMP_LINE="$1"; COMP_POINT=${#1}; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))\n'
              "_rmctl_completion rmctl\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", line, *words],
                       env=node["env"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.splitlines() if w]


# -- bash ---------------------------------------------------------------------------------------

def test_bash_commands_and_options(node):
    assert bash_complete(node, "rmctl top") == ["topology"]
    assert "show" in bash_complete(node, "rmctl devices ")


def test_bash_devices_show_completes_the_roots_addresses(node):
    root = node["root"]
    for line in (f"rmctl --root {root} devices show ", f"rmctl devices show --root {root} "):
        assert bash_complete(node, line) == ["0000:3b:00.0", "0000:af:00.1"], line
    # readline made "0000", ":", "a" of the word: the answer replaces the part after the last ':'
    assert bash_complete(node, f"rmctl --root {root} devices show 0000:a") == ["af:00.1"]
    assert bash_complete(node, f"rmctl --root {root} devices show 0000:") == ["3b:00.0", "af:00.1"]


def test_bash_numa_ids_and_page_sizes_of_the_root(node):
    root = node["root"]
    assert bash_complete(node, f"rmctl --root {root} devices list --numa ") == ["0", "1", "2", "3"]
    assert bash_complete(node, f"rmctl --root {root} hugepages set --numa 3") == ["3"]
    assert bash_complete(node, f"rmctl --root {root} hugepages set ") == ["1G=", "2M="]
    assert bash_complete(node, f"rmctl --root {root} hugepages size 4G --page-size ") == ["1G", "2M"]
    assert bash_complete(node, f"rmctl --root {root} hugepages size 4G --numa 0,") == ["0,1", "0,2", "0,3"]
    assert bash_complete(node, f"rmctl --root {root} cpu reserve x -n 2 --numa ") == ["0", "1", "2", "3"]


def test_bash_class_names_from_the_class_dir_given(node):
    names = bash_complete(node, f"rmctl class show --class-dir {node['classes']} ")
    assert "fast-gpu" in names and "gpu" in names
    assert "fast-gpu" not in bash_complete(node, "rmctl class show ")


def test_bash_reservation_names_from_the_state_dir_given(node):
    assert bash_complete(node, f"rmctl --state-dir {node['state']} cpu release ") == ["db", "web"]
    assert bash_complete(node, f"rmctl cpu release --state-dir {node['state']} w") == ["web"]


# -- zsh ----------------------------------------------------------------------------------------

ZSH = shutil.which("zsh")


def zsh_first_tab(node, words: list[str]) -> str:
    """Install _rmctl on $fpath, run compinit, press <Tab> once (call the function compinit bound)."""
    fpath = node["tmp"] / "zfunc"
    fpath.mkdir(exist_ok=True)
    shutil.copy(os.path.join(COMPLETIONS, "_rmctl"), fpath / "_rmctl")
    script = (f"fpath=({fpath} $fpath); autoload -Uz compinit; compinit -u -D\n"
              "_arguments() { print -r -- \"ARGUMENTS $*\" }\n_files() { print -r -- FILES }\n"
              "words=(\"$@\"); CURRENT=$#\n"
              "print -r -- \"BOUND $_comps[rmctl]\"\n"
              "$_comps[rmctl]\n")
    p = subprocess.run([ZSH, "-f", "-c", script, "zsh", *words], env=node["env"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.skipif(ZSH is None and not os.environ.get("CI"), reason="zsh is not installed (.ci/run installs it)")
def test_zsh_first_tab_after_installing_the_file_completes(node):
    out = zsh_first_tab(node, ["rmctl", "top"])
    assert "BOUND _rmctl" in out
    assert re.search(r'ARGUMENTS \*: :\(\("topology"', out), out
    out = zsh_first_tab(node, ["rmctl", "--root", node["root"], "devices", "show", ""])
    assert '"0000\\\\:3b\\\\:00.0"' in out and '"0000\\\\:af\\\\:00.1"' in out, out
    out = zsh_first_tab(node, ["rmctl", "--root", node["root"], "hugepages", "set", "--numa", ""])
    assert '"0" "1" "2" "3"' in out, out
    out = zsh_first_tab(node, ["rmctl", "class", "show", "--class-dir", node["classes"], "f"])
    assert '"fast-gpu"' in out, out


@pytest.mark.skipif(ZSH is None and not os.environ.get("CI"), reason="zsh is not installed (.ci/run installs it)")
def test_zsh_script_shown_by_rmctl_registers_when_sourced(node):
    shown = subprocess.run(["rmctl", "--show-completion", "zsh"], env=node["env"], capture_output=True,
                           text=True, timeout=60).stdout
    script = (f"autoload -Uz compinit; compinit -u -D\neval {shlex_quote(shown)}\n"
              "print -r -- \"BOUND $_comps[rmctl]\"\n")
    p = subprocess.run([ZSH, "-f", "-c", script], env=node["env"], capture_output=True, text=True, timeout=60)
    assert "BOUND _rmctl" in p.stdout, p.stdout + p.stderr


# -- fish ---------------------------------------------------------------------------------------

FISH = shutil.which("fish")


def fish_complete(node, line: str) -> list[str]:
    script = f"source {COMPLETIONS}/rmctl.fish; complete -C {shlex_quote(line)}"
    p = subprocess.run([FISH, "--no-config", "-c", script], env=node["env"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return [w.split("\t")[0] for w in p.stdout.splitlines() if w]


@pytest.mark.skipif(FISH is None and not os.environ.get("CI"), reason="fish is not installed (.ci/run installs it)")
def test_fish_completes_from_the_roots_given(node):
    root = node["root"]
    assert fish_complete(node, "rmctl top") == ["topology"]
    assert fish_complete(node, f"rmctl devices show --root {root} 0000:") == ["0000:3b:00.0", "0000:af:00.1"]
    assert fish_complete(node, f"rmctl --root {root} hugepages set ") == ["1G=", "2M="]
    assert fish_complete(node, f"rmctl --root {root} devices list --numa ") == ["0", "1", "2", "3"]
    assert "fast-gpu" in fish_complete(node, f"rmctl class show --class-dir {node['classes']} ")


# -- the scripts rmctl prints -------------------------------------------------------------------

def shlex_quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


@pytest.mark.parametrize("shell,file", [("bash", "rmctl.bash"), ("zsh", "_rmctl"), ("fish", "rmctl.fish")])
def test_show_completion_prints_the_shells_script(node, shell, file):
    with open(os.path.join(COMPLETIONS, file), encoding="utf-8") as f:
        shipped = [ln for ln in f.read().splitlines() if ln and not ln.startswith("# ")]
    for argv in (["--show-completion", shell], [f"--show-completion={shell}"]):
        p = subprocess.run(["rmctl", *argv], env=node["env"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert [ln for ln in p.stdout.splitlines() if ln] == shipped, argv


def test_show_completion_without_a_shell_follows_SHELL_and_refuses_others(node):
    p = subprocess.run(["rmctl", "--show-completion"], env={**node["env"], "SHELL": "/usr/bin/zsh"},
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("#compdef rmctl\n")
    p = subprocess.run(["rmctl", "--show-completion", "tcsh"], env=node["env"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and p.stdout == "" and "tcsh" in p.stderr and "Traceback" not in p.stderr


def test_install_completion_writes_rmctls_script(node):
    home = node["tmp"] / "home"
    home.mkdir()
    p = subprocess.run(["rmctl", "--install-completion", "zsh"], env={**node["env"], "HOME": str(home)},
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (home / ".zfunc" / "_rmctl").read_text().startswith("#compdef rmctl\n")
    assert "_rmctl \"$@\"" in (home / ".zfunc" / "_rmctl").read_text()
