"""Memory policy of the calling thread: get_mempolicy(2) and set_mempolicy(2) by syscall number.

Python has no binding; libnuma is not a dependency.  The policy of the
calling thread is inherited by the processes it spawns, which is how
``rmctl cpu run --membind`` binds the command's memory.
"""

from __future__ import annotations

import ctypes
import os
import platform

from rmctl.cpuset import CpuSet
from rmctl.model.cpu_actions import MPOL_DEFAULT

_SYSCALLS = {  # (get_mempolicy, set_mempolicy) per architecture (unistd tables)
    "x86_64": (239, 238), "aarch64": (236, 237), "ppc64le": (260, 261), "ppc64": (260, 261),
    "s390x": (269, 270), "riscv64": (236, 237),
}
_MAXNODE = 1024


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def get_mempolicy() -> tuple[int, str]:
    """Return (mode, nodelist) of the calling thread's memory policy."""
    nr = _SYSCALLS.get(platform.machine())
    if nr is None:
        raise OSError(f"no get_mempolicy syscall number for {platform.machine()}")
    mode = ctypes.c_int(0)
    words = _MAXNODE // (8 * ctypes.sizeof(ctypes.c_ulong))
    mask = (ctypes.c_ulong * words)()
    if _libc().syscall(nr[0], ctypes.byref(mode), mask, ctypes.c_ulong(_MAXNODE), None, ctypes.c_ulong(0)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    bits = 8 * ctypes.sizeof(ctypes.c_ulong)
    nodes = [w * bits + b for w in range(words) for b in range(bits) if mask[w] >> b & 1]
    return mode.value, CpuSet(nodes).to_list()


def set_mempolicy(mode: int, nodes: str) -> None:
    """Set the calling thread's memory policy (inherited by children it spawns)."""
    nr = _SYSCALLS.get(platform.machine())
    if nr is None:
        raise OSError(f"no set_mempolicy syscall number for {platform.machine()}")
    bits = 8 * ctypes.sizeof(ctypes.c_ulong)
    words = _MAXNODE // bits
    mask = (ctypes.c_ulong * words)()
    for n in CpuSet.parse(nodes):
        mask[n // bits] |= 1 << (n % bits)
    arg = mask if mode != MPOL_DEFAULT else None
    if _libc().syscall(nr[1], ctypes.c_int(mode), arg, ctypes.c_ulong(_MAXNODE if arg is not None else 0)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


