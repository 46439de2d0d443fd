"""A fake cgroup2 file system for the executor: a RootHost that answers cgroup writes like the kernel.

This machine has only the v1 cpuset hierarchy, so the v2 path is tested
here.  ``build_v2(tmp)`` writes a pure-v2 node in the shape of the GPU host
(../shared/fixtures/nodes/gpu-node.tar.gz: one ``cgroup2`` mount at
/sys/fs/cgroup, root ``cgroup.controllers`` ``cpuset cpu io memory hugetlb
pids``) and ``CgroupV2Host`` acts on it with the kernel's rules
(Documentation/admin-guide/cgroup-v2.rst, kernel/cgroup/cpuset.c, Linux 6.x):

* ``cgroup.subtree_control`` takes ``+ctrl``/``-ctrl``; only controllers in
  the cgroup's own ``cgroup.controllers`` (ENOENT otherwise); a non-root
  cgroup holding processes cannot enable any (EBUSY, "no internal processes");
  reads back the enabled names, space separated;
* mkdir creates the interface files; a child's ``cgroup.controllers`` is its
  parent's ``cgroup.subtree_control``; cpuset files only when cpuset is in it;
* ``cgroup.procs`` takes one PID and moves it (from wherever it was); a non-root
  cgroup with controllers enabled for children refuses it (EBUSY);
* ``cpuset.cpus`` / ``cpuset.mems`` store the list; ``*.effective`` is the
  list (or, empty, the parent's) within the parent's effective set;
* ``cpuset.cpus.partition`` takes member/root/isolated (EINVAL otherwise) and
  reads back ``<type> invalid (<reason>)`` with the kernel's reason strings
  when the CPUs overlap a sibling's, the parent is not a valid partition
  root, or the CPUs are empty; a valid partition takes its CPUs out of the
  parent's ``cpuset.cpus.effective`` (and, isolated, into the root's
  ``cpuset.cpus.isolated``);
* rmdir of a cgroup with processes or child cgroups is EBUSY; it gives a
  partition's CPUs back.
"""

from __future__ import annotations

import errno
import os
import shutil

from rmctl.cpuset import CpuSet
from rmctl.execute.host import RootHost, _oserror

MOUNT = "/sys/fs/cgroup"
CONTROLLERS = "cpuset cpu io memory hugetlb pids"
# kernel/cgroup/cpuset.c perr_strings
NOT_EXCLUSIVE = "Cpu list in cpuset.cpus not exclusive"
INVALID_PARENT = "Parent is an invalid partition root"
NOT_PARTITION = "Parent is not a partition root"
CPUS_EMPTY = "cpuset.cpus and cpuset.cpus.exclusive are empty"


def _w(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def build_v2(tmp, *, cpus="0-15", mems="0", controllers=CONTROLLERS, subtree="", procs=(1,),
             v1_cpuset=False, mounts_extra=""):
    """Write a pure-v2 cgroup tree (and proc/mounts) under ``tmp``; return its path.

    ``controllers``: the root's cgroup.controllers (drop cpuset for the
    "v2 without cpuset" case); ``subtree``: its cgroup.subtree_control.
    """
    base = str(tmp)
    root = os.path.join(base, MOUNT.lstrip("/"))
    mounts = f"cgroup2 {MOUNT} cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n"
    if v1_cpuset:
        mounts += "cgroup /sys/fs/cgroup-v1/cpuset cgroup rw,relatime,cpuset 0 0\n"
        _w(os.path.join(base, "sys/fs/cgroup-v1/cpuset/cpuset.cpus"), cpus + "\n")
    prev = ""
    if os.path.exists(os.path.join(base, "proc/mounts")):  # a synth tree's own mounts stay
        prev = "".join(line for line in open(os.path.join(base, "proc/mounts")) if "cgroup" not in line)
    os.makedirs(os.path.join(base, "sys/devices/system/cpu"), exist_ok=True)
    _w(os.path.join(base, "proc/mounts"), prev + mounts + mounts_extra)
    _w(os.path.join(root, "cgroup.controllers"), controllers + "\n")
    _w(os.path.join(root, "cgroup.subtree_control"), subtree + "\n")
    _w(os.path.join(root, "cgroup.procs"), "".join(f"{p}\n" for p in procs))
    if "cpuset" in controllers.split():
        _w(os.path.join(root, "cpuset.cpus.effective"), cpus + "\n")
        _w(os.path.join(root, "cpuset.mems.effective"), mems + "\n")
        _w(os.path.join(root, "cpuset.cpus.isolated"), "\n")
    return base


class CgroupV2Host(RootHost):
    """A RootHost whose cgroup2 mount at ``mount`` behaves like the kernel's (see the module doc)."""

    def __init__(self, base, mount=MOUNT):
        super().__init__(base)
        self.mount = mount

    # -- helpers -----------------------------------------------------------------
    def _in(self, path):
        return path == self.mount or path.startswith(self.mount + "/")

    def _get(self, cg, name):
        text = super().read_text(f"{cg}/{name}")
        return None if text is None else text.strip()

    def _put(self, cg, name, value):
        with open(self.real(f"{cg}/{name}"), "w") as f:
            f.write(value + "\n")

    def _fail(self, code, what, path):
        raise _oserror(OSError(code, os.strerror(code)), what, path)

    def _children(self, cg):
        real = self.real(cg)
        return [f"{cg}/{d}" for d in sorted(os.listdir(real)) if os.path.isdir(os.path.join(real, d))]

    def _cgroups(self, cg=None):
        cg = cg or self.mount
        out = [cg]
        for c in self._children(cg):
            out += self._cgroups(c)
        return out

    def _set(self, cg, name):
        return CpuSet.parse(self._get(cg, name) or "")

    def _effective(self, cg, which):
        """Recompute cpuset.<which>.effective of ``cg`` and its children (which: cpus or mems)."""
        if cg == self.mount:
            return
        parent = os.path.dirname(cg)
        avail = self._set(parent, f"cpuset.{which}.effective")
        want = self._set(cg, f"cpuset.{which}")
        eff = (want & avail) if want else avail
        if which == "cpus" and self._valid_partition(cg):
            eff = want & avail
        self._put(cg, f"cpuset.{which}.effective", eff.to_list())
        for c in self._children(cg):
            if self._get(c, f"cpuset.{which}") is not None:
                self._effective(c, which)

    def _valid_partition(self, cg):
        st = self._get(cg, "cpuset.cpus.partition") or "member"
        return st in ("root", "isolated")

    # -- the kernel's answers -------------------------------------------------------------
    def write_text(self, path, value):
        if not self._in(path):
            return super().write_text(path, value)
        self.calls.append(("write", path, value))
        cg, name = os.path.dirname(path), os.path.basename(path)
        if not os.path.exists(self.real(path)):
            self._fail(errno.ENOENT, "cannot write", path)
        if name == "cgroup.subtree_control":
            return self._subtree(cg, value, path)
        if name == "cgroup.procs":
            return self._attach(cg, value.strip(), path)
        if name in ("cpuset.cpus", "cpuset.mems"):
            try:
                CpuSet.parse(value)
            except Exception:
                self._fail(errno.EINVAL, "cannot write", path)
            self._put(cg, name, CpuSet.parse(value).to_list())
            self._effective(cg, name.split(".")[1])
            return None
        if name == "cpuset.cpus.partition":
            return self._partition(cg, value.strip(), path)
        self._fail(errno.EACCES, "cannot write", path)  # read-only interface files

    def _subtree(self, cg, value, path):
        offered = (self._get(cg, "cgroup.controllers") or "").split()
        enabled = (self._get(cg, "cgroup.subtree_control") or "").split()
        for tok in value.split():
            op, ctrl = tok[:1], tok[1:]
            if op not in "+-" or ctrl not in offered:
                self._fail(errno.ENOENT if op in "+-" else errno.EINVAL, "cannot write", path)
            if op == "+" and cg != self.mount and (self._get(cg, "cgroup.procs") or ""):
                self._fail(errno.EBUSY, "cannot write", path)
            if op == "+" and ctrl not in enabled:
                enabled.append(ctrl)
            elif op == "-" and ctrl in enabled:
                enabled.remove(ctrl)
        order = CONTROLLERS.split()
        self._put(cg, "cgroup.subtree_control", " ".join(sorted(enabled, key=order.index)))
        # children see it at once: their cgroup.controllers, and the controller's files appear
        for child in self._children(cg):
            self._put(child, "cgroup.controllers", " ".join(sorted(enabled, key=order.index)))
            if "cpuset" in enabled and self._get(child, "cpuset.cpus") is None:
                self._cpuset_files(child)

    def _attach(self, cg, pid, path):
        if not pid.isdigit():
            self._fail(errno.EINVAL, "cannot write", path)
        holder = None
        for c in self._cgroups():
            if pid in (self._get(c, "cgroup.procs") or "").split():
                holder = c
        if holder is None:
            self._fail(errno.ESRCH, "cannot write", path)
        if cg != self.mount and (self._get(cg, "cgroup.subtree_control") or ""):
            self._fail(errno.EBUSY, "cannot write", path)
        if self._get(cg, "cpuset.cpus.effective") == "":
            self._fail(errno.ENOSPC, "cannot write", path)
        rest = [p for p in (self._get(holder, "cgroup.procs") or "").split() if p != pid]
        self._put(holder, "cgroup.procs", "\n".join(rest))
        mine = (self._get(cg, "cgroup.procs") or "").split() + [pid]
        self._put(cg, "cgroup.procs", "\n".join(mine))

    def _partition(self, cg, value, path):
        if value not in ("member", "root", "isolated"):
            self._fail(errno.EINVAL, "cannot write", path)
        parent = os.path.dirname(cg)
        self._give_back(cg)
        if value == "member":
            self._put(cg, "cpuset.cpus.partition", "member")
            self._effective(cg, "cpus")
            return
        mine = self._set(cg, "cpuset.cpus")
        reason = None
        if parent != self.mount:
            pst = self._get(parent, "cpuset.cpus.partition") or "member"
            if "invalid" in pst:
                reason = INVALID_PARENT
            elif pst == "member":
                reason = NOT_PARTITION
        if reason is None and not mine:
            reason = CPUS_EMPTY
        if reason is None:
            for sib in self._children(parent):
                if sib != cg and self._set(sib, "cpuset.cpus") & mine:
                    reason = NOT_EXCLUSIVE
                    break
        if reason is not None:
            self._put(cg, "cpuset.cpus.partition", f"{value} invalid ({reason})")
            return
        self._put(cg, "cpuset.cpus.partition", value)
        granted = mine & self._set(parent, "cpuset.cpus.effective")
        self._put(parent, "cpuset.cpus.effective", (self._set(parent, "cpuset.cpus.effective") - granted).to_list())
        self._put(cg, "cpuset.cpus.effective", granted.to_list())
        if value == "isolated":
            iso = self._set(self.mount, "cpuset.cpus.isolated") | granted
            self._put(self.mount, "cpuset.cpus.isolated", iso.to_list())

    def _give_back(self, cg):
        """A valid partition's CPUs go back to its parent (becoming member, or removed)."""
        if not self._valid_partition(cg):
            return
        parent = os.path.dirname(cg)
        mine = self._set(cg, "cpuset.cpus.effective")
        self._put(parent, "cpuset.cpus.effective", (self._set(parent, "cpuset.cpus.effective") | mine).to_list())
        iso = self._set(self.mount, "cpuset.cpus.isolated") - mine
        self._put(self.mount, "cpuset.cpus.isolated", iso.to_list())

    def mkdir(self, path, mode=0o755):
        if not self._in(path):
            return super().mkdir(path, mode)
        self.calls.append(("mkdir", path))
        parent = os.path.dirname(path)
        if not os.path.isdir(self.real(parent)):
            self._fail(errno.ENOENT, "cannot create directory", path)
        if os.path.isdir(self.real(path)):
            return
        os.mkdir(self.real(path), mode)
        ctrls = self._get(parent, "cgroup.subtree_control") or ""
        self._put(path, "cgroup.controllers", ctrls)
        self._put(path, "cgroup.subtree_control", "")
        self._put(path, "cgroup.procs", "")
        if "cpuset" in ctrls.split():
            self._cpuset_files(path)

    def _cpuset_files(self, path):
        parent = os.path.dirname(path)
        for name in ("cpuset.cpus", "cpuset.mems"):
            self._put(path, name, "")
        self._put(path, "cpuset.cpus.partition", "member")
        self._put(path, "cpuset.cpus.effective", self._get(parent, "cpuset.cpus.effective") or "")
        self._put(path, "cpuset.mems.effective", self._get(parent, "cpuset.mems.effective") or "")

    def rmdir(self, path):
        if not self._in(path):
            return super().rmdir(path)
        self.calls.append(("rmdir", path))
        if not os.path.isdir(self.real(path)):
            return
        if (self._get(path, "cgroup.procs") or "") or self._children(path):
            self._fail(errno.EBUSY, "cannot remove directory", path)
        self._give_back(path)
        shutil.rmtree(self.real(path))
