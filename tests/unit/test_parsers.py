"""Every parser on inline strings (parse.py, cpuinfo, cgroup path resolution)."""

import pytest

from rmctl.cpuset import CpuSet
from rmctl.discovery.cgroup import cgroup_cpus_files
from rmctl.discovery.parse import (
    cmdline_cpulist,
    parse_cache_size,
    parse_cache_type,
    parse_cmdline,
    parse_cpuinfo_arch,
    parse_cpuinfo_s390_caches,
    parse_distance,
    parse_meminfo,
    parse_mounts,
    parse_status_field,
)
from rmctl.discovery.root import _hwloc_nofile_info
from rmctl.errors import ParseError


def test_meminfo_system_and_node():
    mi = parse_meminfo("MemTotal:       16384 kB\nHugePages_Total:      4\nHugepagesize:    2048 kB\nbogus\n")
    assert mi == {"MemTotal": 16384 * 1024, "HugePages_Total": 4, "Hugepagesize": 2 << 20}
    node = parse_meminfo("Node 1 MemTotal:       1024 kB\nNode 1 MemFree:  512 kB\n")
    assert node == {"MemTotal": 1 << 20, "MemFree": 512 * 1024}
    assert parse_meminfo("MemTotal: lots kB\n") == {}


@pytest.mark.parametrize("text,size", [("32K", 32 << 10), ("5118K", 5118 << 10), ("1M", 1 << 20),
                                       ("256KiB\n", 256 << 10), ("64", 64), ("junk", None), ("", None)])
def test_cache_size(text, size):
    assert parse_cache_size(text) == size


def test_cache_type():
    assert parse_cache_type("Data\n") == "data"
    assert parse_cache_type("Instruction") == "instruction"
    assert parse_cache_type("Unified") == "unified"
    assert parse_cache_type("Trace") is None


def test_mounts_octal_escapes():
    text = ("none /mnt/huge\\040pages hugetlbfs rw,relatime,pagesize=1G 0 0\n"
            "a\\011b /x\\134y ext4 rw 0 0\nshort line\n")
    m = parse_mounts(text)
    assert m[0] == ("none", "/mnt/huge pages", "hugetlbfs", {"rw": "", "relatime": "", "pagesize": "1G"})
    assert m[1][0] == "a\tb" and m[1][1] == "/x\\y"
    assert len(m) == 2


def test_cmdline():
    c = parse_cmdline("BOOT_IMAGE=/vmlinuz quiet isolcpus=1-3 isolcpus=5 hugepagesz=1G -- init=x\n")
    assert c["isolcpus"] == ["1-3", "5"] and c["quiet"] == [""] and "init" not in c
    assert cmdline_cpulist("domain,managed_irq,2-3,8") == CpuSet([2, 3, 8])
    assert cmdline_cpulist("nohz,junk-") == CpuSet()


def test_distance():
    assert parse_distance("10 21 31\n") == [10, 21, 31]
    with pytest.raises(ParseError):
        parse_distance("10 x")


def test_status_field():
    text = "Name:\tbash\nCpus_allowed_list:\t0-3,8\n"
    assert parse_status_field(text, "Cpus_allowed_list") == "0-3,8"
    assert parse_status_field(text, "Mems_allowed_list") is None


@pytest.mark.parametrize("text,byteorder,arch", [
    ("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu lm sse\n", None, "x86_64"),
    ("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse\n", None, "i686"),
    ("processor\t: 0\nCPU architecture: 8\n", None, "aarch64"),
    ("processor\t: 0\nCPU architecture: 7\n", None, "arm"),
    ("processor\t: 0\nisa\t\t: rv64imafdcv\n", None, "riscv64"),
    ("processor  : 0\narch       : IA-64\n", None, "ia64"),
    ("vendor_id       : IBM/S390\nfeatures\t: esan3 zarch stfle\n", None, "s390x"),
    ("processor\t: 0\ncpu\t\t: POWER7 (architected)\n", None, "ppc64"),
    ("processor\t: 0\ncpu\t\t: POWER9 (raw)\n", "little\n", "ppc64le"),
    ("nothing here\n", None, None),
])
def test_cpuinfo_arch(text, byteorder, arch):
    assert parse_cpuinfo_arch(text, byteorder) == arch


def test_s390_caches():
    text = ("cache3          : level=2 type=Instruction scope=Private size=2048K line_size=256 associativity=8\n"
            "cache4          : level=3 type=Unified scope=Shared size=65536K line_size=256 associativity=16\n"
            "cache9          : level=x type=Unified\n")
    c = parse_cpuinfo_s390_caches(text)
    assert [(e["level"], e["type"], e["size_bytes"], e["scope"]) for e in c] == [
        (2, "instruction", 2048 << 10, "Private"), (3, "unified", 64 << 20, "Shared")]
    assert c[1]["ways"] == 16 and c[1]["line_size"] == 256


def test_hwloc_nofile_info_drops_hostname():
    f = _hwloc_nofile_info("OSRelease: 6.1.0\nHostName: vesubie\nArchitecture: x86_64\nPageSize: 4096\n")
    assert f == {"kernel": "6.1.0", "arch": "x86_64", "page_size": 4096}
    assert _hwloc_nofile_info("OSRelease: dummy\n") == {}


def test_cgroup_files_v1_v2_legacy():
    mounts = ("cgroup /sys/fs/cgroup/cpuset cgroup rw,cpuset 0 0\n"
              "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\nnone /dev/cpuset cpuset rw 0 0\n")
    files = cgroup_cpus_files(mounts, "3:cpuset:/job\n0::/a/b\n", "/dummy\n")
    assert files[:2] == ["sys/fs/cgroup/cpuset/job/cpuset.effective_cpus", "sys/fs/cgroup/cpuset/job/cpuset.cpus"]
    assert "sys/fs/cgroup/unified/a/b/cpuset.cpus.effective" in files
    assert "sys/fs/cgroup/unified/cpuset.cpus.effective" in files  # walked up to the mount
    assert "dev/cpuset/dummy/cpus" in files
    assert cgroup_cpus_files(None, "0::/", None) == []


def test_stat_fields_count_after_the_last_parenthesis():
    from rmctl.discovery.parse import stat_fields
    from rmctl.discovery.tasks import parse_task_stat
    from rmctl.state.owners import parse_stat_start_time

    line = "42 (a) b (c)) S 1 42 42 0 -1 4194560 " + " ".join(str(i) for i in range(10, 60)) + "\n"
    comm, rest = stat_fields(line)
    assert comm == "a) b (c)" and rest[0] == "S" and rest[1] == "1"
    assert parse_stat_start_time(line) == 22 and parse_task_stat(line)[:3] == ("a) b (c)", "S", 1)
    assert stat_fields("garbage") is None and parse_stat_start_time("garbage") is None


def test_only_cpuset_cgroups_confine_cpus():
    from rmctl.discovery.parse import cpuset_cgroup_paths

    v1 = "12:memory:/rmctl/db\n4:cpuset:/rmctl/web\n1:name=systemd:/user.slice\n"
    assert cpuset_cgroup_paths(v1) == ("/rmctl/web", None)
    assert cpuset_cgroup_paths("0::/rmctl/db\n") == (None, "/rmctl/db")
    assert cpuset_cgroup_paths("3:cpu,cpuset:/x\n0::/y\n") == ("/x", "/y")
    assert cpuset_cgroup_paths(None) == (None, None) and cpuset_cgroup_paths("junk\n") == (None, None)
