import json
import os
import tarfile

import pytest

HERE = os.path.dirname(__file__)
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("RMCTL_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
FIXTURES = os.path.join(SHARED, "fixtures")
SYSFS_FIXTURES = os.path.join(FIXTURES, "sysfs")
NODE_FIXTURES = os.path.join(FIXTURES, "nodes")


def fixture_names():
    if not os.path.isdir(SYSFS_FIXTURES):
        return []
    return sorted(f[: -len(".expected.json")] for f in os.listdir(SYSFS_FIXTURES) if f.endswith(".expected.json"))


def fixture_tarball(name):
    for ext in (".tar.bz2", ".tar.gz", ".tar.xz", ".tar"):
        p = os.path.join(SYSFS_FIXTURES, name + ext)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(name)


def fixture_expected(name):
    with open(os.path.join(SYSFS_FIXTURES, name + ".expected.json")) as f:
        return json.load(f)


_extracted = {}


@pytest.fixture(scope="session")
def fixture_root(tmp_path_factory):
    """Return a function: fixture name -> extracted root directory (cached per session)."""

    def get(name):
        if name not in _extracted:
            d = tmp_path_factory.mktemp(name.replace("+", "_"))
            with tarfile.open(fixture_tarball(name)) as tf:
                try:
                    tf.extractall(d, filter="data")
                except TypeError:  # Python < 3.10.12 has no filter
                    tf.extractall(d)
            exp = fixture_expected(name)
            _extracted[name] = str(d / exp["root_in_tarball"])
        return _extracted[name]

    return get


@pytest.fixture
def run_cli(tmp_path):
    """Run rmctl in-process through typer's CliRunner; returns (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from rmctl.cli import app

    def run(*args, env=None, input=None):
        runner = CliRunner()
        e = {"RMCTL_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
        e.update(env or {})
        r = runner.invoke(app, list(args), env=e, input=input, catch_exceptions=False)
        return r.exit_code, r.stdout, r.stderr

    return run


@pytest.fixture
def machine_lock():
    """Serialise end-to-end tests that change this machine (hugepages, mounts,
    cgroups, affinity) across concurrent pytest runs; CI runs one process."""
    import fcntl

    with open("/tmp/rmctl-e2e.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield
        fcntl.flock(f, fcntl.LOCK_UN)


def require_root():
    """End-to-end tests need root; in CI (CI=true) not being root is a failure, not a skip."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("end-to-end tests must run as root in CI")
        pytest.skip("needs root")


@pytest.fixture(scope="session", autouse=True)
def _root_cache_dir(tmp_path_factory):
    """Keep the tarball-index cache of test runs out of /var/cache (discovery/rootcache.py).

    Set in the environment, so subprocesses (rmctl runs) use it too.
    """
    path = tmp_path_factory.mktemp("root-cache") / "roots"
    old = os.environ.get("RMCTL_CACHE_DIR")
    os.environ["RMCTL_CACHE_DIR"] = str(path)
    yield str(path)
    if old is None:
        os.environ.pop("RMCTL_CACHE_DIR", None)
    else:
        os.environ["RMCTL_CACHE_DIR"] = old
