"""Shared by the profile end-to-end tests: the 2M pools they change, restored whatever happens."""

import pytest

from tests.conftest import require_root

GLOBAL = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
POOL = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"


def read_sysfs(path):
    with open(path) as f:
        return f.read().strip()


def write_sysfs(path, value):
    with open(path, "w") as f:
        f.write(str(value))


@pytest.fixture
def pools(machine_lock):
    """Yield {path: value} of the global and node-0 2M pools; restore and check them after."""
    require_root()
    before = {p: read_sysfs(p) for p in (POOL, GLOBAL)}
    try:
        yield before
    finally:
        write_sysfs(POOL, before[POOL])
        write_sysfs(GLOBAL, before[GLOBAL])
        assert {p: read_sysfs(p) for p in (POOL, GLOBAL)} == before
