"""The state dir is rmctl's: nothing another user puts there steers it (issue 15 items 1, 5 and 6).

Each test here fails on the rmctl before issue 15: the lock opened with
O_CREAT through a planted link and truncated, a 0644 lock any user could
flock, directories made with the caller's umask, a FIFO state file that
blocked forever, links and directories read as state, temporary files
of killed runs left behind, checksummed state taken without a look.
Subprocesses carry a timeout: a hang is a failure, not a stuck run.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from rmctl.state import files, ledger
from tests import synth

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (another user's files)")


def _env() -> dict:
    e = dict(os.environ, NO_COLOR="1")
    e["PYTHONPATH"] = REPO + os.pathsep + e.get("PYTHONPATH", "")
    return e


def rmctl(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rmctl", *args], capture_output=True, text=True, env=_env(),
                          cwd=REPO, timeout=timeout, **kw)


@pytest.fixture
def root(tmp_path):
    return synth.build(tmp_path / "root", sockets=1, cores=4, threads=1)


@pytest.fixture
def public_dir():
    """A directory other users can reach (tmp_path is under a 0700 directory of root's)."""
    d = tempfile.mkdtemp(prefix="rmctl-h15-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _nobody() -> pwd.struct_passwd:
    return pwd.getpwnam("nobody")


#: a Python another user may run (the test's interpreter may live under root's 0700 home)
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "/usr/bin/python3"


def as_nobody(code: str, *args: str, **kw):
    """Start ``code`` as user nobody (cwd /, the system Python)."""
    return subprocess.Popen([SYSTEM_PYTHON, "-c", code, *args], user="nobody", group=_nobody().pw_gid,
                            extra_groups=[], cwd="/", **kw)


def _write_state(path: str, doc: dict) -> str:
    """Write ``doc`` as a state file with a valid checksum (as if rmctl wrote it)."""
    doc = dict(doc)
    doc["checksum"] = ledger.checksum(doc)
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    with open(path, "w") as f:
        f.write(text)
    return text


def _reserved_state(root: str, state_dir: str) -> dict:
    """Reserve two CPUs (a and b) and return the state document."""
    from rmctl.discovery.root import Root
    from rmctl.ops import cpu

    for name, cpus in (("a", "1"), ("b", "2")):
        assert cpu.reserve(Root.open(root), state_dir, name, cpus=cpus).exit_code == 0
    with open(os.path.join(state_dir, "state.json")) as f:
        return json.load(f)


# -- item 1: the lock and the directory -------------------------------------------------------

def test_a_planted_lock_link_is_neither_followed_nor_truncated(root, tmp_path):
    st = tmp_path / "state"
    st.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    target = tmp_path / "x" / "target"  # dangling: the old code created it
    (st / "state.lock").symlink_to(target)  # the lock of rmctl before issue 15
    p = rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "a", "--count", "1")
    assert p.returncode == 0, p.stderr
    assert not os.path.lexists(target) and os.path.islink(st / "state.lock")
    # the lock rmctl uses now, planted as a link: refused with the reason, nothing written through it
    os.unlink(st / files.LOCK_FILE)
    (st / files.LOCK_FILE).symlink_to(victim)
    p = rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "b", "--count", "1")
    assert p.returncode == 6 and "symbolic link" in p.stderr and str(st / files.LOCK_FILE) in p.stderr, p.stderr
    assert victim.read_text() == "precious\n"
    os.unlink(st / files.LOCK_FILE)
    (st / files.LOCK_FILE).symlink_to(tmp_path / "y" / "dangling")
    assert rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "b", "--count", "1").returncode == 6
    assert not os.path.lexists(tmp_path / "y")


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(120)
"""


@needs_root
def test_a_lock_another_user_flocks_does_not_block_root(root, public_dir):
    st = os.path.join(public_dir, "state")
    os.mkdir(st, 0o755)
    old = os.path.join(st, "state.lock")  # what rmctl made before issue 15: 0644, any user may open it
    with open(old, "w"):
        pass
    os.chmod(old, 0o644)
    holder = as_nobody(HOLD, old, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        p = rmctl("--root", root, "--state-dir", st, "--lock-timeout", "2", "cpu", "reserve", "a", "--count", "1")
        assert p.returncode == 0, p.stderr
        lock = os.path.join(st, files.LOCK_FILE)
        s = os.stat(lock)
        assert stat.S_IMODE(s.st_mode) == 0o600 and s.st_uid == os.geteuid()
        # nobody cannot open the lock rmctl uses, so cannot flock it
        probe = as_nobody("import os, sys; os.open(sys.argv[1], os.O_RDONLY)", lock, stderr=subprocess.PIPE)
        _, err = probe.communicate(timeout=60)
        assert probe.returncode != 0 and b"PermissionError" in err
    finally:
        holder.kill()
        holder.wait()


@needs_root
def test_a_lock_file_others_may_open_is_refused_not_waited_on(root, public_dir):
    st = os.path.join(public_dir, "state")
    os.mkdir(st, 0o755)
    lock = os.path.join(st, files.LOCK_FILE)
    with open(lock, "w"):
        pass
    os.chmod(lock, 0o644)
    holder = as_nobody(HOLD, lock, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        t0 = time.monotonic()
        p = rmctl("--root", root, "--state-dir", st, "--lock-timeout", "60", "cpu", "reserve", "a", "--count", "1")
        assert p.returncode == 6 and "mode 0644" in p.stderr and f"rm {lock}" in p.stderr, p.stderr
        assert time.monotonic() - t0 < 50  # refused, not waited on for the 60 s timeout
    finally:
        holder.kill()
        holder.wait()
    os.chown(lock, _nobody().pw_uid, -1)
    os.chmod(lock, 0o600)
    p = rmctl("--root", root, "--state-dir", st, "cpu", "reserve", "a", "--count", "1")
    assert p.returncode == 6 and "owned by uid" in p.stderr, p.stderr
    assert os.path.getsize(lock) == 0  # never truncated or written: not ours


def test_umask_000_still_gives_0700_directories_and_0600_files(root, tmp_path):
    st = tmp_path / "a" / "b" / "state"
    p = subprocess.run(["sh", "-c", 'umask 000 && exec "$@"', "sh", sys.executable, "-m", "rmctl", "--root", root,
                        "--state-dir", str(st), "cpu", "reserve", "a", "--count", "1"],
                       capture_output=True, text=True, env=_env(), cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    for d in (tmp_path / "a", tmp_path / "a" / "b", st):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
    for f in ("state.json", files.LOCK_FILE):
        assert stat.S_IMODE(os.stat(st / f).st_mode) == 0o600, f
    # a later umask that takes the owner's bits does not make the directory unusable either
    st2 = tmp_path / "c" / "state"
    p = subprocess.run(["sh", "-c", 'umask 0277 && exec "$@"', "sh", sys.executable, "-m", "rmctl", "--root", root,
                        "--state-dir", str(st2), "cpu", "reserve", "a", "--count", "1"],
                       capture_output=True, text=True, env=_env(), cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(st2).st_mode) == 0o700


@pytest.mark.parametrize("case", ["dir-0777", "dir-0775", "parent-0777", "parent-sticky", "link-of-another-user",
                                  "dir-of-another-user", "parent-of-another-user"])
def test_a_state_dir_others_can_change_is_refused_with_the_reason(root, tmp_path, case):
    if "another-user" in case and os.geteuid() != 0:
        pytest.skip("needs root to make another user's files")
    nobody = _nobody().pw_uid
    parent = tmp_path / "parent"
    parent.mkdir()
    st = parent / "state"
    want = None
    if case == "dir-0777":
        st.mkdir()
        os.chmod(st, 0o777)
        want = "writable by group or others"
    elif case == "dir-0775":
        st.mkdir()
        os.chmod(st, 0o775)
        want = "writable by group or others"
    elif case == "parent-0777":
        os.chmod(parent, 0o777)
        want = "without the sticky bit"
    elif case == "parent-sticky":
        os.chmod(parent, 0o1777)  # like /tmp: accepted
    elif case == "link-of-another-user":
        real = tmp_path / "real"
        real.mkdir()
        os.symlink(real, st)
        os.lchown(st, nobody, -1)
        want = "symbolic link owned by uid"
    elif case == "dir-of-another-user":
        st.mkdir()
        os.chown(st, nobody, -1)
        want = "owned by uid"
    elif case == "parent-of-another-user":
        os.chown(parent, nobody, -1)
        want = "owned by uid"
    p = rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "a", "--count", "1")
    if want is None:
        assert p.returncode == 0, p.stderr
        return
    assert p.returncode == 6 and want in p.stderr and str(st) in p.stderr, p.stderr
    assert not os.path.exists(st / "state.json") and not os.path.exists(st / files.LOCK_FILE)
    # a read refuses it too: what others could have written is not listed as rmctl's
    p = rmctl("--root", root, "--state-dir", str(st), "cpu", "list")
    assert p.returncode == 6 and want in p.stderr, p.stderr


def test_completion_reads_the_state_file_safely(tmp_path):
    from rmctl.ops.complete import _MAX_STATE_BYTES, reservation_names

    assert _MAX_STATE_BYTES == files.MAX_STATE_BYTES
    st = tmp_path / "state"
    st.mkdir()
    (st / "state.json").write_text(json.dumps({"reservations": {"db": {}, "web": {}, "x\ny": {}}}))
    assert reservation_names(str(st), "") == ["db", "web"]  # a name with a newline is two words to a shell
    os.unlink(st / "state.json")
    os.mkfifo(st / "state.json")
    t0 = time.monotonic()
    assert reservation_names(str(st), "") == []  # a FIFO: nothing, at once (it used to block the shell)
    assert time.monotonic() - t0 < 10
    os.unlink(st / "state.json")
    os.symlink("/dev/zero", st / "state.json")
    assert reservation_names(str(st), "") == []
    os.unlink(st / "state.json")
    with open(st / "state.json", "w") as f:
        f.truncate(files.MAX_STATE_BYTES + 1)  # sparse: refused by its size, never read
    assert reservation_names(str(st), "") == []


# -- item 5: special files as state --------------------------------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "directory", "link-to-dev-zero", "dangling-link", "link-to-a-file",
                                  "too-large"])
def test_a_special_state_file_is_a_clear_error_never_a_hang(root, tmp_path, kind, run_cli):
    st = tmp_path / "state"
    st.mkdir()
    path = st / "state.json"
    elsewhere = tmp_path / "elsewhere.json"
    if kind == "fifo":
        os.mkfifo(path)
        want = "is a FIFO"
    elif kind == "directory":
        path.mkdir()
        want = "is a directory"
    elif kind == "link-to-dev-zero":
        os.symlink("/dev/zero", path)
        want = "is a symbolic link"
    elif kind == "dangling-link":
        os.symlink(elsewhere, path)
        want = "is a symbolic link"
    elif kind == "link-to-a-file":
        _reserved_state(root, str(tmp_path / "other"))
        shutil.copy(tmp_path / "other" / "state.json", elsewhere)
        os.symlink(elsewhere, path)
        want = "is a symbolic link"
    else:
        with open(path, "w") as f:
            f.truncate(files.MAX_STATE_BYTES + 1)
        want = "more than the"
    before = open(elsewhere).read() if os.path.exists(elsewhere) else None
    for args in (("cpu", "list"), ("cpu", "reserve", "a", "--count", "1"), ("request", "release", "a"),
                 ("cpu", "reserve", "a", "--count", "1", "--dry-run")):
        if kind == "fifo":  # in a subprocess with a timeout: a hang fails the test instead of stopping it
            p = rmctl("--root", root, "--state-dir", str(st), *args, timeout=60)
            code, err = p.returncode, p.stderr
        else:
            code, _, err = run_cli("--root", root, "--state-dir", str(st), *args)
        assert code == 5, (args, err)
        assert want in err and str(path) in err and "internal error" not in err, (args, err)
    # nothing dropped, overwritten or created
    assert os.path.lexists(path)
    assert (open(elsewhere).read() if os.path.exists(elsewhere) else None) == before
    assert sorted(os.listdir(st)) in (["state.json"], sorted(["state.json", files.LOCK_FILE]))


def test_a_state_dir_that_is_a_file_is_a_clear_error(root, tmp_path):
    st = tmp_path / "state"
    st.write_text("not a directory\n")
    for args, code in ((("cpu", "list"), 6), (("cpu", "reserve", "a", "--count", "1"), 6)):
        p = rmctl("--root", root, "--state-dir", str(st), *args)
        assert p.returncode == code and f"state dir {st} is not a directory" in p.stderr, p.stderr
        assert "internal error" not in p.stderr and "not writable" not in p.stderr
    assert st.read_text() == "not a directory\n"


def _tamper(root: str, tmp_path, edit) -> str:
    st = str(tmp_path / "state")
    doc = _reserved_state(root, st)
    doc.pop("checksum")
    edit(doc)
    return _write_state(os.path.join(st, "state.json"), doc)


@pytest.mark.parametrize("name,edit,want", [
    ("system_cpus", lambda d: d.update(system_cpus="0-"), "bad system_cpus cpulist '0-'"),
    ("cpulist", lambda d: d["reservations"]["a"].update(cpus="1-x"), "bad cpulist '1-x'"),
    ("cpu-twice", lambda d: d["reservations"]["b"].update(cpus="1,2"), "holds CPU 1 twice"),
    ("system-and-reserved", lambda d: d.update(system_cpus="2"), "holds CPU 2 both as a system CPU"),
    ("device-twice", lambda d: [d["reservations"][n].update(devices=["0000:3b:00.0"]) for n in "ab"],
     "holds device 0000:3b:00.0 twice"),
    ("owner-pid", lambda d: d["reservations"]["a"].update(owner={"pid": "1; rm -rf /", "start_time": 1}),
     "owner has no process id"),
    ("owner-bool", lambda d: d["reservations"]["a"].update(owner={"pid": True, "start_time": 1}),
     "owner has no process id"),
    ("name-newline", lambda d: d["reservations"].update({"c\n": dict(d["reservations"].pop("b"), name="c\n")}),
     "does not follow the name rule"),
    ("cgroup-path", lambda d: d["reservations"]["a"].update(cgroup={"path": "/etc", "version": 1}),
     "is not an absolute, plain path ending in rmctl-a"),
    ("cgroup-dotdot", lambda d: d["reservations"]["a"].update(
        cgroup={"path": "/sys/fs/cgroup/cpuset/../../../etc/rmctl-a", "version": 1}), "rmctl-a"),
    ("device-path", lambda d: d["reservations"]["a"].update(devices=["../../../etc/shadow"]),
     "devices is not a list of device addresses"),
    ("kind", lambda d: d["reservations"]["a"].update(kind="exploit"), "unknown kind 'exploit'"),
])
def test_checksummed_state_is_still_validated_naming_the_file(root, tmp_path, name, edit, want, run_cli):
    text = _tamper(root, tmp_path, edit)
    path = str(tmp_path / "state" / "state.json")
    base = ("--root", root, "--state-dir", str(tmp_path / "state"))
    code, _, err = run_cli(*base, "cpu", "list")
    assert code == 5 and want in err and path in err, err
    code, _, err = run_cli(*base, "cpu", "reserve", "z", "--count", "1")
    assert code == 5 and want in err
    assert open(path).read() == text  # never overwritten


def test_v1_fixture_states_pass_the_new_checks():
    v1 = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "state", "v1")
    for which in ("snapshot", "live", "journal"):
        path = os.path.join(v1, which, "state.json")
        with open(path) as f:
            assert ledger.parse(f.read(), path).reservations


# -- item 6: leftovers -----------------------------------------------------------------------------

def test_temporary_files_of_killed_runs_are_removed_under_the_lock(root, tmp_path):
    st = tmp_path / "state"
    assert rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "a", "--count", "1").returncode == 0
    (st / "journal").mkdir(mode=0o700)
    left = [st / ".tmp-abc123", st / "journal" / ".tmp-def456"]
    for f in left:
        f.write_text('{"partial": ')
    (st / ".tmp-keep").mkdir()  # not a file rmctl made: left alone
    p = rmctl("--root", root, "--state-dir", str(st), "cpu", "list")  # a read takes no lock: nothing removed
    assert p.returncode == 0 and all(f.exists() for f in left)
    p = rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "b", "--count", "1")
    assert p.returncode == 0, p.stderr
    assert not any(f.exists() for f in left) and (st / ".tmp-keep").is_dir()
    assert json.loads((st / "state.json").read_text())["reservations"].keys() == {"a", "b"}


KILL_MID_WRITE = """
import os, sys
from rmctl.execute import host as H
real = H.Host.replace_file
def dying(self, path, content):
    import tempfile
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    os.write(fd, content[: len(content) // 2].encode())
    os.kill(os.getpid(), 9)  # SIGKILL between write and rename: what a killed run leaves
H.Host.replace_file = dying
from rmctl.cli import main
sys.argv = ["rmctl", *sys.argv[1:]]
main()
"""


def test_a_run_killed_mid_write_leaves_a_temp_file_the_next_run_removes(root, tmp_path):
    st = tmp_path / "state"
    assert rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "a", "--count", "1").returncode == 0
    before = (st / "state.json").read_text()
    p = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, "--root", root, "--state-dir", str(st),
                        "cpu", "reserve", "b", "--count", "1"], capture_output=True, text=True, env=_env(),
                       cwd=REPO, timeout=120)
    assert p.returncode == -9
    temps = [n for n in os.listdir(st) if n.startswith(".tmp-")]
    assert len(temps) == 1 and (st / "state.json").read_text() == before  # not torn
    assert rmctl("--root", root, "--state-dir", str(st), "cpu", "reserve", "c", "--count", "1").returncode == 0
    assert [n for n in os.listdir(st) if n.startswith(".tmp-")] == []


def test_the_lock_file_is_ours_and_never_truncated_when_refused(tmp_path):
    st = tmp_path / "state"
    st.mkdir()
    lock = st / files.LOCK_FILE
    lock.write_text("1 someone\n")
    os.chmod(lock, 0o600)
    os.link(lock, tmp_path / "second-name")  # two links: someone else can reach it
    from rmctl.errors import AccessDenied

    with pytest.raises(AccessDenied, match="2 links"):
        files.open_lock(str(lock))
    assert lock.read_text() == "1 someone\n"
    os.unlink(tmp_path / "second-name")
    fd = files.open_lock(str(lock))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
