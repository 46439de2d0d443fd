"""Install the man page and shell completions with the package (pyproject.toml holds the rest).

setuptools' ``data-files`` copy a file under its own name; bash-completion
looks a command's completion up by the command's name
(``share/bash-completion/completions/rmctl``), so the bash script, kept in
the tree as ``completions/rmctl.bash``, is installed under that name here.
Paths are relative to the install prefix (a venv, /usr/local, or the
wheel's ``.data/data``), where man(1), bash-completion, zsh and fish look.
"""

import os

# isort: off
from setuptools import setup

# after setuptools: its own distutils (the stdlib copy is gone from Python 3.12)
from distutils.command.install_data import install_data  # noqa: E402
# isort: on

#: (directory under the prefix, [(file in the tree, name installed)])
DATA = [
    ("share/man/man1", [("man/rmctl.1", "rmctl.1")]),
    ("share/bash-completion/completions", [("completions/rmctl.bash", "rmctl")]),
    ("share/zsh/site-functions", [("completions/_rmctl", "_rmctl")]),
    ("share/fish/vendor_completions.d", [("completions/rmctl.fish", "rmctl.fish")]),
]


class InstallData(install_data):
    """install_data that gives each file its installed name (DATA)."""

    def run(self):
        super().run()
        renames = {src: name for _, files in DATA for src, name in files}
        for i, out in enumerate(list(self.outfiles)):
            for src, name in renames.items():
                if os.path.basename(out) == os.path.basename(src) and os.path.basename(src) != name:
                    new = os.path.join(os.path.dirname(out), name)
                    os.replace(out, new)
                    self.outfiles[i] = new


setup(
    data_files=[(d, [src for src, _ in files]) for d, files in DATA],
    cmdclass={"install_data": InstallData},
)
