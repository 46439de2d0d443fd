"""What a user installs: the sdist and the wheel built from it carry the licence, man page and completions.

The wheel is built from the sdist (what ``pip install rmctl-X.tar.gz``
does), so both are checked in one go: a file missing from the sdist is
missing from the wheel.  Data files go under the install prefix where
man(1), bash-completion, zsh and fish look for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: installed path under the prefix -> the file in the tree it must equal
DATA = {
    "share/man/man1/rmctl.1": "man/rmctl.1",
    "share/bash-completion/completions/rmctl": "completions/rmctl.bash",
    "share/zsh/site-functions/_rmctl": "completions/_rmctl",
    "share/fish/vendor_completions.d/rmctl.fish": "completions/rmctl.fish",
}


def _read(rel: str) -> bytes:
    with open(os.path.join(REPO, rel), "rb") as f:
        return f.read()


def test_license_is_the_apache_2_text_pyproject_names():
    text = _read("LICENSE").decode()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert 'license = {text = "Apache-2.0"}' in _read("pyproject.toml").decode()


def test_sdist_and_wheel_install_licence_man_page_and_completions(tmp_path):
    sdist_dir, wheel_dir = tmp_path / "sdist", tmp_path / "wheel"
    sdist_dir.mkdir()
    # the PEP 517 hook pip calls, with this environment's setuptools
    out = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
                          "print(build_meta.build_sdist(sys.argv[1]))", str(sdist_dir)],
                         cwd=REPO, capture_output=True, text=True, check=True)
    sdist = sdist_dir / out.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for rel in ("LICENSE", "setup.py", "MANIFEST.in", *DATA.values()):
        assert rel in names, f"{rel} is not in the sdist"

    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(sdist)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = wheel_dir.glob("rmctl-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        listing = zf.namelist()
        data_prefix = next(n.split("/data/", 1)[0] + "/data/" for n in listing if ".data/data/" in n)
        for installed, rel in DATA.items():
            assert data_prefix + installed in listing, f"{installed} is not in the wheel: {sorted(listing)[:20]}"
            assert zf.read(data_prefix + installed) == _read(rel), f"{installed} differs from {rel}"
        licence = [n for n in listing if n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE")]
        assert licence and zf.read(licence[0]) == _read("LICENSE")
        record = zf.read(next(n for n in listing if n.endswith(".dist-info/RECORD"))).decode()
        for installed in DATA:
            assert data_prefix + installed in record
