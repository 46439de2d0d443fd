"""Node profiles: what a node should look like (``kind: NodeProfile``).

``load_profile(path)`` reads and validates a profile; every error names the
field (``spec.hugepages[0].count``) and its position in the file
(``worker.yaml:7:5``).  Planning against a node is
:mod:`rmctl.ops.profile_plan`.
"""

from rmctl.profile.schema import (
                                  PROFILE_API_VERSION,
                                  HugepageEntry,
                                  KubeletSpec,
                                  MountEntry,
                                  NodeProfile,
                                  RequestEntry,
                                  ReservationEntry,
                                  load_profile,
                                  parse_profile,
)

__all__ = [
    "PROFILE_API_VERSION", "HugepageEntry", "KubeletSpec", "MountEntry", "NodeProfile",
    "RequestEntry", "ReservationEntry", "load_profile", "parse_profile",
]
