import os
import tarfile

import pytest

from tests.conftest import NODE_FIXTURES

_nodes = {}


@pytest.fixture(scope="session")
def node_root(tmp_path_factory):
    """Return a function: "gpu-node" | "dev-vm" -> extracted root directory (cached per session)."""

    def get(name):
        if name not in _nodes:
            d = tmp_path_factory.mktemp(name)
            with tarfile.open(os.path.join(NODE_FIXTURES, name + ".tar.gz")) as tf:
                try:
                    tf.extractall(d, filter="data")
                except TypeError:  # Python < 3.10.12 has no filter
                    tf.extractall(d)
            tops = [e for e in os.listdir(d) if os.path.isdir(os.path.join(d, e, "sys"))]
            _nodes[name] = str(d / tops[0])
        return _nodes[name]

    return get
