"""The cpuset cgroup hierarchy reservations use: where it is mounted and which version.

Found by :func:`rmctl.discovery.cgroup.cpuset_hierarchy`; the actions that
create and remove a reservation's cgroup in it are planned by
:mod:`rmctl.planning.cgroups`.  Layouts (kernel
Documentation/admin-guide/cgroup-v2.rst "Cpuset", cgroup-v1/cpusets.rst)
are described there.
"""

from __future__ import annotations

import os

from rmctl.model.record import record

#: ``cpuset.cpus.partition`` types rmctl creates (cgroup v2 only; ``isolated`` needs Linux 5.15+)
PARTITIONS = ("isolated", "root")


@record
class CpusetHierarchy:
    """The cpuset hierarchy: cgroup ``version`` (1 or 2) mounted at ``mount`` (absolute).

    ``parent`` is the cgroup (relative to the mount, '' for the mount's
    root) under which rmctl makes its cgroups.
    """

    version: int
    mount: str
    parent: str = ""

    def parent_path(self) -> str:
        """Return the absolute path of the parent cgroup."""
        return os.path.join(self.mount, self.parent) if self.parent else self.mount

    def path(self, name: str) -> str:
        """Return the absolute path of reservation ``name``'s cgroup."""
        return f"{self.parent_path()}/rmctl-{name}"

    def ancestors(self) -> list[str]:
        """Return the cgroups from the mount's root down to the parent (absolute paths)."""
        out = [self.mount]
        for part in filter(None, self.parent.split("/")):
            out.append(f"{out[-1]}/{part}")
        return out
