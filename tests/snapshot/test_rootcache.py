"""The cache of tarball indexes (discovery/rootcache.py): private, validated, bounded, leaves nothing.

Issue 14 item 1 (a tarball root costs about what its directory does) and
issue 15 item 6 (no leftovers after SIGKILL: nothing is unpacked any more).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from rmctl.discovery import rootcache
from rmctl.discovery.root import Root
from tests.conftest import FIXTURES
from tests.snapshot import tarbuild as tb

EPYC = os.path.join(FIXTURES, "sysfs", "utillinux-x86_64-epyc_7451.tar.gz")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache" / "roots"
    d.parent.mkdir(mode=0o700)
    monkeypatch.setenv("RMCTL_CACHE_DIR", str(d))
    return d


def tarball(tmp_path, name="t.tar.gz", extra=b""):
    p = tmp_path / name
    p.write_bytes(tb.gz(tb.base() + extra + tb.end()))
    return str(p)


def entries(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_miss_then_hit(tmp_path, cache_dir):
    path = tarball(tmp_path)
    Root.open(path)
    assert rootcache.last_outcome == "miss"
    (entry,) = entries(cache_dir)
    assert entry.endswith(".idx") and len(entry) == 64 + 4
    st = os.stat(cache_dir)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()
    assert stat.S_IMODE(os.stat(cache_dir / entry).st_mode) == 0o600
    r = Root.open(path)
    assert rootcache.last_outcome == "hit"
    assert r.read("sys/devices/system/cpu/online") == "0\n"


def test_content_addressed(tmp_path, cache_dir):
    a = tarball(tmp_path, "a.tar.gz")
    b = tarball(tmp_path, "b.tar.gz")  # same bytes, another name: one entry
    c = tarball(tmp_path, "c.tar.gz", tb.member("snap/proc/cmdline", b"x\n"))
    for p in (a, b, c):
        Root.open(p)
    assert len(entries(cache_dir)) == 2
    # rewriting an archive in place is a new key, never the old index
    with open(a, "wb") as f:
        f.write(tb.gz(tb.base().replace(b"0\n", b"7\n", 1) + tb.end()))
    assert Root.open(a).read("sys/devices/system/cpu/online") == "7\n"


def test_damaged_entry_is_a_miss_and_removed(tmp_path, cache_dir):
    path = tarball(tmp_path)
    Root.open(path)
    (entry,) = entries(cache_dir)
    data = bytearray((cache_dir / entry).read_bytes())
    data[-10] ^= 0x55
    (cache_dir / entry).write_bytes(bytes(data))
    os.chmod(cache_dir / entry, 0o600)
    r = Root.open(path)
    assert rootcache.last_outcome == "miss"  # CRC mismatch: rebuilt, stored again
    assert r.read("sys/devices/system/cpu/online") == "0\n"
    assert Root.open(path) and rootcache.last_outcome == "hit"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not_ours_mode", "symlink"])
def test_unusable_entries_are_never_used(tmp_path, cache_dir, damage):
    path = tarball(tmp_path)
    Root.open(path)
    (entry,) = entries(cache_dir)
    p = cache_dir / entry
    if damage == "truncated":
        p.write_bytes(p.read_bytes()[:200])
    elif damage == "garbage":
        p.write_bytes(os.urandom(4096))
    elif damage == "not_ours_mode":
        os.chmod(p, 0o644)  # readable by others: not trusted
    else:
        other = tmp_path / "elsewhere.idx"
        other.write_bytes(p.read_bytes())
        p.unlink()
        p.symlink_to(other)
    r = Root.open(path)
    assert rootcache.last_outcome == "miss"
    assert r.read("sys/devices/system/cpu/online") == "0\n"


@pytest.mark.parametrize("problem", ["group_writable_dir", "world_writable_parent", "dir_is_a_link", "off"])
def test_unsafe_cache_dir_turns_the_cache_off(tmp_path, monkeypatch, problem):
    d = tmp_path / "c" / "roots"
    d.parent.mkdir()
    if problem == "group_writable_dir":
        d.mkdir()
        os.chmod(d, 0o770)
    elif problem == "world_writable_parent":
        os.chmod(d.parent, 0o777)
    elif problem == "dir_is_a_link":
        (tmp_path / "real").mkdir(mode=0o700)
        d.symlink_to(tmp_path / "real")
    monkeypatch.setenv("RMCTL_CACHE_DIR", "off" if problem == "off" else str(d))
    r = Root.open(tarball(tmp_path))
    assert rootcache.last_outcome == "off"
    assert r.read("sys/devices/system/cpu/online") == "0\n"
    if problem == "dir_is_a_link":
        assert os.listdir(tmp_path / "real") == []


def test_cache_dir_is_created_private_whatever_the_umask(tmp_path, monkeypatch):
    d = tmp_path / "rmctl" / "roots"
    monkeypatch.setenv("RMCTL_CACHE_DIR", str(d))
    old = os.umask(0)
    try:
        Root.open(tarball(tmp_path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d.parent).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(d / e).st_mode) == 0o600 for e in entries(d))


def test_bounded_least_recently_used_first(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setattr(rootcache, "MAX_ENTRIES", 3)
    paths = [tarball(tmp_path, f"n{i}.tar.gz", tb.member("snap/proc/cmdline", b"%d\n" % i)) for i in range(5)]
    names = []
    for i, p in enumerate(paths[:3]):
        before = set(entries(cache_dir))
        Root.open(p)
        (new,) = set(entries(cache_dir)) - before
        os.utime(cache_dir / new, (1000 + i, 1000 + i))  # stored long ago, in this order
        names.append(new)
    Root.open(paths[0])  # a hit touches the oldest: now the most recently used
    assert rootcache.last_outcome == "hit"
    Root.open(paths[3])  # a fourth entry: the least recently used goes
    assert len(entries(cache_dir)) == 3
    assert names[0] in entries(cache_dir) and names[1] not in entries(cache_dir)
    biggest = max(os.path.getsize(cache_dir / e) for e in entries(cache_dir))
    monkeypatch.setattr(rootcache, "MAX_BYTES", biggest + 100)  # room for one: only the newest stays
    Root.open(paths[4])
    assert len(entries(cache_dir)) == 1


def test_stale_named_temporary_files_are_removed(tmp_path, cache_dir):
    Root.open(tarball(tmp_path))
    stale = cache_dir / ".tmp-12345-x.idx"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 2 * rootcache.STALE_TMP_SECONDS,) * 2)
    fresh = cache_dir / ".tmp-12346-y.idx"
    fresh.write_bytes(b"being written")
    Root.open(tarball(tmp_path, "other.tar.gz", tb.member("snap/proc/x", b"1")))  # a store evicts
    assert not stale.exists() and fresh.exists()


def test_no_leftovers_after_sigkill(tmp_path, cache_dir):
    """Issue 15 item 6: 51 kills left 554 MB of unpack directories in TMPDIR.  Now nothing is
    unpacked; a kill while the index is stored leaves no half entry (O_TMPFILE, then link)."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    big = str(tmp_path / "epyc-copy.tar.gz")
    raw = open(EPYC, "rb").read()
    env = dict(os.environ, TMPDIR=str(tmpdir), RMCTL_CACHE_DIR=str(cache_dir))
    for i, delay in enumerate((0.05, 0.15, 0.3, 0.5, 0.8)):
        with open(big, "wb") as f:  # a new archive each time: every run is a cold miss
            f.write(raw + tb.gz(b"\0" * 1024 * (i + 1)))
        p = subprocess.Popen([sys.executable, "-m", "rmctl", "--root", big, "topology", "-o", "json"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert os.listdir(tmpdir) == []
    assert not [e for e in entries(cache_dir) if not e.endswith(".idx")]
    cache = rootcache.Cache.open(str(cache_dir))
    for e in entries(cache_dir):  # whatever was stored is whole
        assert cache.load(e[:-4]) is not None
    cache.close()


def test_epyc_hit_loads_the_same_index(cache_dir):
    a = Root.open(EPYC)
    b = Root.open(EPYC)
    assert rootcache.last_outcome == "hit"
    assert a._reader.index.files == b._reader.index.files
    assert a._reader.index.children == b._reader.index.children
    assert a.listdir("sys/devices/system/cpu") == b.listdir("sys/devices/system/cpu")


def test_a_tarball_root_imports_no_tarfile(cache_dir):
    """Nothing is extracted: tarfile, gzip, shutil and tempfile stay out (zlib reads gzip)."""
    from tests.test_imports import imported

    r = imported(["--root", EPYC, "topology", "-o", "json"], env={"RMCTL_CACHE_DIR": str(cache_dir)})
    assert r["code"] == 0
    assert not [m for m in ("tarfile", "gzip", "shutil", "tempfile", "typer", "bz2", "lzma") if m in r["top"]], r
