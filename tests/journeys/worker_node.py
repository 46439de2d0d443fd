"""What the shipped worker profile (examples/ansible/profiles/worker.yaml) changes on this machine, put back
whatever happens: the 2 MiB hugepage pools and the hugetlbfs mount at /mnt/huge-2m.

The journeys that apply it for real hold ``machine_lock`` (tests/conftest.py)
around :func:`restored`; its state dir is the test's own, so reservations
never touch this machine's /var/lib/rmctl.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

from tests.conftest import REPO

WORKER = os.path.join(REPO, "examples", "ansible", "profiles", "worker.yaml")
MOUNT = "/mnt/huge-2m"  # the profile's spec.mounts[0].path
NODE_POOL = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
GLOBAL_POOL = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"


def read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def mounted(path: str = MOUNT) -> bool:
    with open("/proc/mounts") as f:
        return any(ln.split()[1] == path for ln in f)


@contextlib.contextmanager
def restored():
    """Yield the pools' values before; afterwards unmount what the profile mounted, remove the mount point
    if it was made, and put the pools back (asserting they are)."""
    pools = {p: read(p) for p in (NODE_POOL, GLOBAL_POOL)}
    was_mounted, had_dir = mounted(), os.path.isdir(MOUNT)
    assert not was_mounted, f"{MOUNT} is mounted before the journey: another test left it"
    try:
        yield pools
    finally:
        while mounted():
            subprocess.run(["umount", MOUNT], check=False)
        if not had_dir and os.path.isdir(MOUNT):
            os.rmdir(MOUNT)
        for p in (NODE_POOL, GLOBAL_POOL):
            with open(p, "w") as f:
                f.write(pools[p])
        assert {p: read(p) for p in pools} == pools
