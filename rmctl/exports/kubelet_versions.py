"""What changes by kubelet version for the fields ``export kubelet-config`` emits.

Only the CPU and Topology Manager policy options differ between the
versions supported here (1.30 to 1.37): which options a kubelet knows, and
at which maturity.  An alpha option is refused unless its feature gate
(``CPUManagerPolicyAlphaOptions`` / ``TopologyManagerPolicyAlphaOptions``,
off by default) is on; beta and GA options need nothing (their gates are
on by default).  Sources: the option sets in
pkg/kubelet/cm/cpumanager/policy_options.go and
pkg/kubelet/cm/topologymanager/policy_options.go, and each option's KEP
``kep.yaml`` milestones (kubernetes/enhancements keps/sig-node: 2625
full-pcpus-only, 2902 distribute-cpus-across-numa, 3327 align-by-socket,
4176 distribute-cpus-across-cores, 4540 strict-cpu-reservation, 4800
prefer-align-cpus-by-uncorecache, 3545 prefer-closest-numa-nodes, 4622
max-allowable-numa-nodes).

Unchanged across 1.30-1.37 and so not in the table: the hard eviction
defaults (memory.available<100Mi, nodefs.available<10%,
nodefs.inodesFree<5%, imagefs.available<15%, imagefs.inodesFree<5%; the
last since 1.30, kubernetes#121834), the reserved-resource keys (cpu,
memory, ephemeral-storage, pid: cmd/kubelet/app/server.go
parseResourceList; hugepages there are KEP-6252, alpha planned for 1.38),
the Memory Manager's reservedMemory sum rule.  1.36 and 1.37 add nothing
to these options that is recorded here; they use 1.35's table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rmctl.errors import UsageError

OLDEST = (1, 30)
NEWEST = (1, 37)

ALPHA, BETA, GA = "alpha", "beta", "GA"

#: option -> ((since, maturity), ...) in version order; absent before the first
CPU_OPTIONS: dict[str, tuple[tuple[tuple[int, int], str], ...]] = {
    "full-pcpus-only": (((1, 22), ALPHA), ((1, 23), BETA), ((1, 33), GA)),
    "distribute-cpus-across-numa": (((1, 23), ALPHA), ((1, 33), BETA)),
    "align-by-socket": (((1, 25), ALPHA),),
    "distribute-cpus-across-cores": (((1, 31), ALPHA),),
    "strict-cpu-reservation": (((1, 32), ALPHA), ((1, 33), BETA), ((1, 35), GA)),
    "prefer-align-cpus-by-uncorecache": (((1, 32), ALPHA), ((1, 34), BETA)),
}
TOPOLOGY_OPTIONS: dict[str, tuple[tuple[tuple[int, int], str], ...]] = {
    "prefer-closest-numa-nodes": (((1, 26), ALPHA), ((1, 28), BETA), ((1, 32), GA)),
    "max-allowable-numa-nodes": (((1, 31), BETA), ((1, 35), GA)),
}
CPU_ALPHA_GATE = "CPUManagerPolicyAlphaOptions"
TOPOLOGY_ALPHA_GATE = "TopologyManagerPolicyAlphaOptions"


@dataclass(frozen=True)
class KubeletVersion:
    """A kubelet minor version, e.g. 1.34."""

    major: int
    minor: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def beyond_table(self) -> bool:
        """True for a version newer than the newest one whose rules are recorded here."""
        return self.key > NEWEST


def parse_version(text: str | None) -> KubeletVersion:
    """Return the kubelet version in ``text`` (``1.34``, ``v1.34.2``); None: the newest supported."""
    if text is None:
        return KubeletVersion(*NEWEST)
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?", text.strip())
    if not m:
        raise UsageError(f"--kubelet-version {text!r} is not a version like 1.34",
                         hint=f"supported: {_range()}")
    v = KubeletVersion(int(m.group(1)), int(m.group(2)))
    if v.key < OLDEST:
        raise UsageError(f"kubelet {v} is older than rmctl supports", hint=f"supported: {_range()}")
    return v


def _range() -> str:
    return f"{OLDEST[0]}.{OLDEST[1]} to {NEWEST[0]}.{NEWEST[1]}"


def maturity(table: dict, option: str, version: KubeletVersion) -> str | None:
    """Return the maturity of ``option`` in ``version`` (alpha, beta, GA), or None when it has none."""
    got = None
    for since, level in table.get(option, ()):
        if version.key >= since:
            got = level
    return got


def cpu_option_maturity(option: str, version: KubeletVersion) -> str | None:
    return maturity(CPU_OPTIONS, option, version)


def topology_option_maturity(option: str, version: KubeletVersion) -> str | None:
    return maturity(TOPOLOGY_OPTIONS, option, version)


def changes() -> list[str]:
    """Return one line per change by version (for docs and ``--help``)."""
    out = []
    for table, what in ((CPU_OPTIONS, "cpuManagerPolicyOptions"), (TOPOLOGY_OPTIONS, "topologyManagerPolicyOptions")):
        for opt, steps in table.items():
            out.append(f"{what} {opt}: " + ", ".join(f"{level} in {a}.{b}" for (a, b), level in steps))
    return out
