"""ruff and mypy stay clean (the configuration is pyproject.toml's [tool.ruff] and [tool.mypy]).

They run here, in the README's test command, so CI checks them with the
versions the test extra pins; a finding fails the suite like any test.
The formatter is not enforced: the code is wrapped by hand at 120 columns.
"""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    p = _run("ruff", "check", "--no-cache", "rmctl", "tests", "benchmarks", "tools", "setup.py", "bin/rmctl")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]


def test_mypy_finds_nothing(tmp_path):
    # a cache of its own: a stale one in the tree must not hide or invent findings
    p = _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
