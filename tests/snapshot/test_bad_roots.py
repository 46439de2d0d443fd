"""Bad roots and bad files: one clear line on stderr, the right exit code, never a traceback.

Hostile tarballs are refused with UnsafeSnapshotError (exit 3) and nothing
is written outside rmctl's private temporary directory.
"""

import io
import json
import os
import tarfile

import pytest

from rmctl.discovery import tarindex
from rmctl.discovery.root import Root
from rmctl.discovery.tarindex import MAX_MEMBER_BYTES
from rmctl.errors import DiscoveryError, UnsafeSnapshotError
from tests import synth


def run_topology(run_cli, root, *extra):
    code, out, err = run_cli("--root", str(root), "topology", *extra)
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def one_line_error(err):
    lines = [ln for ln in err.splitlines() if ln.startswith("rmctl: error:")]
    assert len(lines) == 1, err
    return lines[0]


def make_tar(path, members, mode="w:gz"):
    """members: list of (TarInfo, bytes|None)."""
    with tarfile.open(path, mode) as tf:
        for ti, data in members:
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return str(path)


def ti(name, type=tarfile.REGTYPE, linkname="", size=0):
    t = tarfile.TarInfo(name)
    t.type, t.linkname, t.size = type, linkname, size
    return t


def base_members(top="snap"):
    """A minimal valid root: one online CPU."""
    return [(ti(f"{top}/sys/devices/system/cpu", tarfile.DIRTYPE), None),
            (ti(f"{top}/sys/devices/system/cpu/online"), b"0\n"),
            (ti(f"{top}/sys/devices/system/cpu/cpu0/topology/core_id"), b"0\n")]


def test_valid_minimal_tarball(tmp_path, run_cli):
    code, out, err = run_topology(run_cli, make_tar(tmp_path / "ok.tar.gz", base_members()), "-o", "json")
    assert code == 0, err
    assert json.loads(out)["summary"]["pus_online"] == 1


def test_tarball_without_top_folder(tmp_path, run_cli):
    members = [(ti(m.name.split("/", 1)[1], m.type), d) for m, d in base_members()]
    code, _, err = run_topology(run_cli, make_tar(tmp_path / "flat.tar", members, "w"), "-o", "json")
    assert code == 0, err


@pytest.mark.parametrize("kind", ["missing", "file", "no_sys", "empty_tar", "corrupt", "truncated", "facts_not_json"])
def test_bad_roots_exit_3(kind, tmp_path, run_cli):
    p = tmp_path / "root"
    if kind == "missing":
        target = p
    elif kind == "file":
        (tmp_path / "notes.txt").write_text("hello\n")
        target = tmp_path / "notes.txt"
    elif kind == "no_sys":
        (p / "proc").mkdir(parents=True)
        target = p
    elif kind == "empty_tar":
        target = make_tar(tmp_path / "empty.tar.gz", [])
    elif kind == "corrupt":
        target = tmp_path / "junk.tar.gz"
        target.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(200))
    elif kind == "truncated":
        good = make_tar(tmp_path / "g.tar.gz", base_members() + [(ti("snap/big"), os.urandom(100_000))])
        data = open(good, "rb").read()
        target = tmp_path / "cut.tar.gz"
        target.write_bytes(data[: len(data) // 2])
    elif kind == "facts_not_json":
        target = make_tar(tmp_path / "f.tar.gz", base_members() + [(ti("snap/rmctl-facts.json"), b"{not json")])
    code, out, err = run_topology(run_cli, target)
    assert code == 3, (kind, err)
    one_line_error(err)
    # And as a JSON error document with -o json.
    code, out, err = run_topology(run_cli, target, "-o", "json")
    assert code == 3
    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["exit_code"] == 3 and doc["error"]["message"]


HOSTILE = {
    "absolute": [(ti("/tmp/rmctl-evil"), b"x")],
    "dotdot": [(ti("snap/../../rmctl-evil"), b"x")],
    "symlink_absolute": [(ti("snap/sys/link", tarfile.SYMTYPE, "/etc"), None)],
    "symlink_relative_out": [(ti("snap/sys/link", tarfile.SYMTYPE, "../../.."), None)],
    "hardlink_out": [(ti("snap/h", tarfile.LNKTYPE, "../etc/passwd"), None)],
    "hardlink_absolute": [(ti("snap/h", tarfile.LNKTYPE, "/etc/passwd"), None)],
    "device": [(ti("snap/dev/sda", tarfile.BLKTYPE), None)],
    "chardev": [(ti("snap/dev/null", tarfile.CHRTYPE), None)],
    "fifo": [(ti("snap/fifo", tarfile.FIFOTYPE), None)],
    # p/q -> .. is the root itself (lexically fine); s -> p/q/.. is above it:
    # lexical checks pass, and s/evil would land outside.
    "chained_link_escape": [(ti("snap/p/q", tarfile.SYMTYPE, ".."), None),
                            (ti("snap/s", tarfile.SYMTYPE, "p/q/.."), None),
                            (ti("snap/s/evil"), b"x")],
    # A link to a directory inside, then a member written through it.
    "write_through_link": [(ti("snap/d", tarfile.SYMTYPE, "sys"), None), (ti("snap/d/evil"), b"x")],
    # A file member replacing an earlier link (open() would follow it).
    "file_over_link": [(ti("snap/l", tarfile.SYMTYPE, "sys/devices/system/cpu/online"), None),
                       (ti("snap/l"), b"x")],
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_tarballs_refused(kind, tmp_path, run_cli):
    path = make_tar(tmp_path / f"{kind}.tar.gz", base_members() + HOSTILE[kind])
    before = set(os.listdir(tmp_path))
    with pytest.raises(UnsafeSnapshotError):
        Root.open(path)
    code, out, err = run_topology(run_cli, path, "-o", "json")
    assert code == 3, err
    one_line_error(err)
    assert json.loads(out)["error"]["code"] == "unsafe_snapshot"
    assert set(os.listdir(tmp_path)) == before
    assert not os.path.exists("/tmp/rmctl-evil")


def test_absurdly_large_member(tmp_path):
    # A size-faked header and no data: refused when the header is read, not after
    # reading (or failing to read) 64 MiB.
    big = ti("snap/huge")
    big.size = MAX_MEMBER_BYTES + 1
    raw = b"".join(m.tobuf(format=tarfile.GNU_FORMAT) + (d or b"").ljust(-(-len(d or b"") // 512) * 512, b"\0")
                   for m, d in [(m, d) for m, d in base_members() if not d] + [(big, None)])
    with pytest.raises(UnsafeSnapshotError, match="absurdly large"):
        tarindex.build_index(raw, "x.tar")


def test_absurdly_large_member_in_a_real_tarball(tmp_path, monkeypatch):
    monkeypatch.setattr(tarindex, "MAX_MEMBER_BYTES", 1000)
    path = make_tar(tmp_path / "b.tar.gz", base_members() + [(ti("snap/huge"), b"\0" * 1001)])
    with pytest.raises(UnsafeSnapshotError, match="absurdly large"):
        Root.open(path)


def test_tar_bomb_total(tmp_path, monkeypatch):
    monkeypatch.setattr(tarindex, "MAX_TOTAL_BYTES", 10)
    path = make_tar(tmp_path / "t.tar", base_members() + [(ti("snap/a"), b"0123456789abc")], "w")
    with pytest.raises(UnsafeSnapshotError, match="more than"):
        Root.open(path)


def test_nul_bytes_and_garbage_are_findings_not_errors(tmp_path, run_cli):
    root = synth.build(tmp_path / "r", sockets=1, cores=2, threads=1)
    with open(os.path.join(root, "sys/devices/system/cpu/online"), "wb") as f:
        f.write(b"\0garbage\0")
    with open(os.path.join(root, "proc/meminfo"), "wb") as f:
        f.write(b"MemTotal: \0\0 lots kB\n")
    code, out, err = run_topology(run_cli, root, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    codes = {f["code"] for f in doc["findings"]}
    assert {"bad_cpulist", "nul_bytes"} <= codes
    assert doc["summary"]["pus_online"] == 2
    assert doc["memory"]["total"] is None  # not a made-up number


def test_facts_not_object(tmp_path):
    root = synth.build(tmp_path / "r", sockets=1, cores=1, threads=1)
    with open(os.path.join(root, "rmctl-facts.json"), "w") as f:
        f.write("[1, 2]")
    with pytest.raises(DiscoveryError, match="not a JSON object"):
        Root.open(root).facts()


def test_unreadable_path_escape_refused(tmp_path):
    root = Root.open(synth.build(tmp_path / "r", sockets=1, cores=1, threads=1))
    for rel in ("/etc/passwd", "../x", "sys/../../x"):
        with pytest.raises(DiscoveryError):
            root.read(rel)


def test_malformed_option_is_usage(run_cli):
    code, _, err = run_cli("--lock-timeout", "soon", "topology")
    assert code == 2 and "Traceback" not in err
