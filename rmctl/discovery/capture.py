"""Snapshot capture: the files of the manifest, scrubbed, plus a facts file, in one tarball.

What is captured is :data:`rmctl.discovery.manifest.MANIFEST` (the files
discovery reads) and the capturing process's cgroup cpuset files; the facts
file holds what is not a file (kernel, arch, page size: ``Root.facts``), the
capture time and rmctl's version, and the device facts (NVML, pci.ids
names: :func:`rmctl.discovery.pci.snapshot_facts`).  Only the tarball is
written; the machine is not changed (hwloc-gather-topology, ghw's snapshot
rules).

Nothing that identifies a machine is captured: no DMI ids, hostname,
boot_id, machine-id (``EXCLUDE``); ``scrub()`` rewrites the few captured
files that can carry such data (UUIDs in ``proc/cmdline``, other hosts in
``proc/mounts``, s390 CPU identification, Arm ``Serial``, hwloc's HostName,
cgroup ids), and unit identities (GPU UUIDs) leave the facts unless asked.
"""

from __future__ import annotations

import datetime
import fnmatch
import io
import json
import os
import re
import tarfile
import tempfile

from rmctl import __version__
from rmctl.discovery import paths as P
from rmctl.discovery import pci
from rmctl.discovery.cgroup import cgroup_cpus_files
from rmctl.discovery.manifest import EXCLUDE, MANIFEST, dynamic_paths, matches
from rmctl.discovery.root import FACTS_FILE, HWLOC_NOFILE_INFO, Root
from rmctl.errors import AccessDenied, ConflictError, UsageError

# -- scrubbing ----------------------------------------------------------------

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_LONG_HEX = re.compile(r"[0-9a-fA-F]{16,}")
_KEEP_MOUNTS = {"hugetlbfs", "cgroup", "cgroup2", "cpuset", "sysfs", "proc"}
_KEEP_STATUS = ("Name", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed", "Mems_allowed_list")


def scrub_id(text: str) -> str:
    """Return ``text`` with UUIDs and long hex ids (cgroup/container ids) replaced."""
    text = _UUID.sub("00000000-0000-0000-0000-000000000000", text)
    return _LONG_HEX.sub(lambda m: "0" * 8, text)


_STANDARD_MOUNTS = {"/", "/boot", "/boot/efi", "/home", "/var", "/var/lib", "/usr", "/tmp", "/opt", "/srv"}


def _scrub_block_mount(line: str) -> str:
    f = line.split()
    if f[1] not in _STANDARD_MOUNTS:
        f[1] = "/scrubbed"
    return " ".join(f)


def _scrub_routes(rel: str, text: str) -> str:
    """Keep the default routes only, gateways zeroed: which interface, not which network."""
    lines = text.splitlines()
    if rel == "proc/net/route":
        out = lines[:1]
        for ln in lines[1:]:
            f = ln.split()
            if len(f) >= 8 and f[1] == "00000000" and f[7] == "00000000":
                f[2] = "00000000"
                out.append("\t".join(f))
    else:
        out = []
        for ln in lines:
            f = ln.split()
            if len(f) >= 10 and set(f[0]) == {"0"} and f[1] == "00":
                f[4] = "0" * 32
                out.append(" ".join(f))
    return "\n".join(out) + "\n"


def scrub(rel: str, data: bytes) -> bytes:
    """Return a captured file's content without machine identity."""
    text = data.decode("utf-8", "replace")
    if rel == P.PROC_MOUNTS:
        keep = [ln for ln in text.splitlines() if len(ln.split()) > 2 and ln.split()[2] in _KEEP_MOUNTS]
        # block-device mounts tell which disk holds a filesystem (export resourceslice never
        # publishes it); their mount points may name people or customers: standard ones only
        keep += [_scrub_block_mount(ln) for ln in text.splitlines()
                 if len(ln.split()) > 2 and ln.split()[0].startswith("/dev/") and ln.split()[2] not in _KEEP_MOUNTS]
        text = "\n".join(keep) + "\n"
    elif rel in ("proc/net/route", "proc/net/ipv6_route"):
        text = _scrub_routes(rel, text)
    elif rel == P.PROC_SELF_STATUS:
        keep = [ln for ln in text.splitlines() if ln.split(":", 1)[0] in _KEEP_STATUS]
        text = "\n".join(keep) + "\n"
    elif rel == HWLOC_NOFILE_INFO:
        text = "".join(ln for ln in text.splitlines(True) if not ln.startswith("HostName"))
    elif rel == P.PROC_CPUINFO:
        text = re.sub(r"(identification\s*=\s*)[0-9A-Fa-f]+", r"\g<1>000000", text)
        text = "".join(ln for ln in text.splitlines(True) if not ln.lower().startswith("serial"))
    elif rel == P.PROC_CMDLINE:
        # What follows "--" belongs to init (kernel-parameters.rst), not the kernel.
        text = scrub_id(text.split(" -- ")[0].rstrip("\n")) + "\n"
    elif rel in (P.PROC_SELF_CGROUP, P.PROC_SELF_CPUSET):
        text = scrub_id(text)
    else:
        return data
    return text.encode()


# -- capture ------------------------------------------------------------------

def _expand(root: Root, pat: list[str], rel: str, out: set[str]) -> None:
    """Add to ``out`` the files under ``rel`` matching pattern components ``pat``."""
    if not pat:
        if root.filetype(rel, follow=False) in ("file", "link"):
            out.add(rel)
        return
    head, rest = pat[0], pat[1:]
    if head == "**":
        _expand(root, rest, rel, out)
        for name in root.listdir(rel):
            sub = f"{rel}/{name}" if rel else name
            if root.filetype(sub, follow=False) == "dir":
                _expand(root, pat, sub, out)
        return
    if not any(c in head for c in "*?["):
        _expand(root, rest, f"{rel}/{head}" if rel else head, out)
        return
    for n in root.listdir(rel):
        if fnmatch.fnmatchcase(n, head):
            _expand(root, rest, f"{rel}/{n}" if rel else n, out)


def manifest_files(root: Root, globs: tuple[str, ...] | list[str] = MANIFEST) -> list[str]:
    """Return the root-relative files under ``root`` the manifest names, sorted."""
    out: set[str] = set()
    for g in globs:
        _expand(root, g.split("/"), "", out)
    return sorted(p for p in out if not matches(p, EXCLUDE))


#: keys of facts that identify one physical unit (NVML's GPU UUID, serials);
#: dropped unless capture is asked to keep them (issue #2: no serial numbers,
#: UUIDs or hostnames in a snapshot by default)
IDENTITY_KEYS = frozenset({"uuid", "serial", "serial_number", "board_id", "hostname"})


def scrub_identity(value):
    """Return ``value`` (facts) without IDENTITY_KEYS at any depth."""
    if isinstance(value, dict):
        return {k: scrub_identity(v) for k, v in value.items() if k not in IDENTITY_KEYS}
    if isinstance(value, list):
        return [scrub_identity(v) for v in value]
    return value


def facts(root: Root, *, keep_ids: bool = False) -> dict:
    """Return the facts file content: kernel, arch, page size, capture time, version, providers'.

    Unit identities (GPU UUIDs) are dropped unless ``keep_ids``: a snapshot
    is shared for capacity planning and bug reports, where they only leak.
    """
    f = dict(root.facts())
    f.update({
        "captured_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "rmctl_version": __version__,
    })
    f.update(pci.snapshot_facts(root))
    f["identities_kept"] = keep_ids
    return f if keep_ids else scrub_identity(f)


_COMPRESSION = {".tar": "", ".tar.gz": "gz", ".tgz": "gz", ".tar.bz2": "bz2", ".tbz2": "bz2",
                ".tar.xz": "xz", ".txz": "xz"}


def _split_suffix(dest: str) -> tuple[str, str]:
    for suf in sorted(_COMPRESSION, key=len, reverse=True):
        if dest.endswith(suf):
            return os.path.basename(dest)[: -len(suf)], _COMPRESSION[suf]
    raise UsageError(f"snapshot name {dest!r} does not end in .tar, .tar.gz, .tar.bz2 or .tar.xz",
                     hint="e.g. rmctl snapshot capture node1.tar.gz")


def capture(root: Root, dest: str, *, force: bool = False, keep_ids: bool = False,
            kubelet_root: str | None = None) -> dict:
    """Write a snapshot tarball of ``root`` to ``dest``; return a summary dict.

    The tarball has one top folder (the file name without its suffix);
    symlinks met on the way to a manifest file are kept as symlinks and the
    file is stored at its real place; the facts file is added.  The output
    is written to a temporary file beside ``dest`` and renamed, so a failed
    capture leaves nothing behind.  Refuses to overwrite unless ``force``.
    GPU UUIDs and other unit identities stay out unless ``keep_ids``.
    The kubelet's checkpoints under ``kubelet_root`` (default
    /var/lib/kubelet) are added with pod and device identities scrubbed
    (discovery/kubelet/capture.py), as they are with ``keep_ids``.
    """
    from rmctl.discovery import kubelet
    from rmctl.discovery.kubelet import capture as kubelet_capture

    top, comp = _split_suffix(dest)
    if not top or top.startswith("."):
        raise UsageError(f"snapshot name {dest!r} has no base name")
    if os.path.lexists(dest) and not force:
        raise ConflictError(f"{dest} already exists", hint="pass --force to overwrite it")
    parent = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(parent):
        raise UsageError(f"directory {parent} does not exist")
    kubelet_rel = kubelet.kubelet_rel(kubelet_root)
    kubelet_files = set(P.kubelet_checkpoints()) | set(P.kubelet_checkpoints(kubelet_rel))
    files = [f for f in manifest_files(root) if f not in kubelet_files]
    cgroup_src = dynamic_paths(root)
    now = int(datetime.datetime.now().timestamp())
    members: dict[str, tuple[str, bytes | str]] = {}  # rel -> ("file", data) | ("link", target)

    def add_path(rel: str, store_as: str | None = None) -> None:
        # Under sys/ keep symlinks along the way as links and store the file
        # at its real place (sys/bus/pci/devices/* point into sys/devices).
        # Under proc/ store the logical path: proc/self and proc/mounts are
        # links to the capturing PID, which must not leak into the snapshot.
        if rel.startswith("proc/") and store_as is None:
            store_as = rel
        parts = rel.split("/") if store_as is None else []
        for i in range(1, len(parts) + 1):
            pre = "/".join(parts[:i])
            target = root.readlink(pre)
            if target is not None:
                if root.realpath(pre) is None or os.path.isabs(target):
                    return  # leaves the root, or absolute: not captured
                # A link inside a linked directory (sys/bus/pci/devices/X/driver) is
                # stored where it really lives, beside that directory's files: its
                # logical path would clash with the link to the directory.
                parent = root.realpath(os.path.dirname(pre)) if i > 1 else ""
                members.setdefault(f"{parent}/{parts[i - 1]}" if parent else pre, ("link", target))
        real = root.realpath(rel)
        if real is None:
            return
        data = root.read_bytes(real)
        if data is None:
            return  # write-only or erroring attributes (EIO, EACCES) are skipped
        name = store_as or real
        members[name] = ("file", scrub(name, data))

    for rel in files:
        add_path(rel)
    # cgroup files: stored under scrubbed cgroup paths, matching scrubbed proc/self/cgroup.
    cgroup_dst = cgroup_cpus_files(
        scrub(P.PROC_MOUNTS, (root.read(P.PROC_MOUNTS) or "").encode()).decode(),
        scrub_id(root.read(P.PROC_SELF_CGROUP) or ""), scrub_id(root.read(P.PROC_SELF_CPUSET) or ""))
    # the scrubbed texts name the same cgroups, so the lists pair up; a mount line
    # dropped by scrubbing leaves the rest of the list unpaired, as before
    for src, dst in zip(cgroup_src, cgroup_dst, strict=False):
        if root.isfile(src):
            add_path(src, dst)
    k_members, k_facts = kubelet_capture.capture(root, kubelet_rel, keep_ids=keep_ids)
    for rel, data in k_members.items():
        members[rel] = ("file", data)
    f = facts(root, keep_ids=keep_ids)
    if k_members or k_facts.get("left_out"):
        f["kubelet"] = k_facts
    members[FACTS_FILE] = ("file", (json.dumps(f, indent=2, sort_keys=True) + "\n").encode())

    fd, tmp = tempfile.mkstemp(prefix=".rmctl-capture-", dir=parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, f"w:{comp}") as tf:  # type: ignore[call-overload]  # comp: one of _COMPRESSION's
            dirs: set[str] = set()
            for name in sorted(members):
                parts = name.split("/")
                for i in range(len(parts)):
                    d = "/".join([top] + parts[:i])
                    if d not in dirs:
                        dirs.add(d)
                        ti = tarfile.TarInfo(d)
                        ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, now
                        tf.addfile(ti)
                _kind, payload = members[name]
                ti = tarfile.TarInfo(f"{top}/{name}")
                ti.mtime = now
                if isinstance(payload, str):  # a link: its target
                    ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, payload, 0o777
                    tf.addfile(ti)
                else:
                    ti.size, ti.mode = len(payload), 0o644
                    tf.addfile(ti, io.BytesIO(payload))
        os.replace(tmp, dest)
    except PermissionError as e:
        raise AccessDenied(f"cannot write {dest}: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {"path": dest, "top": top, "files": sum(1 for k, _ in members.values() if k == "file"),
            "links": sum(1 for k, _ in members.values() if k == "link"), "facts": f}
