#!/usr/bin/env bash
# Real checks on a pure cgroup-v2 host (the project's GPU machine), where this
# development VM (cgroup v1 cpuset) cannot reach: a v2 cpuset cgroup for a
# reservation, a process moved into it, an isolated partition attempt, removal;
# plus 2M/1G hugepages and a hugetlbfs mount through rmctl, restored.
# Run from the repository root, the typer wheel carried in .whl/ (see gpu-check.sh).
set -u
OUT=${OUT:-/tmp/rmctl-host-check}; mkdir -p "$OUT"
REPO=$(cd "$(dirname "$0")/.." && pwd); SITE=/tmp/rmctl-site; PY=${PY:-python3}
mkdir -p "$SITE"
if [ -z "${NO_WHL:-}" ] && ls "$REPO"/.whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$REPO"/.whl/*.whl
fi
export PYTHONPATH="$SITE:$REPO" RMCTL_STATE_DIR="$OUT/state"
rmctl() { $PY -m rmctl "$@"; }
step() { printf '\n===== %s\n' "$*"; }
cleanup() { rmctl cpu release v2test >/dev/null 2>&1; kill "$SLEEPER" 2>/dev/null; rmctl hugepages umount "$OUT/mnt" >/dev/null 2>&1;
            rmctl hugepages set 2M=0 1G=0 >/dev/null 2>&1; }
trap cleanup EXIT

step "cgroup mounts"; grep cgroup /proc/mounts; cat /sys/fs/cgroup/cgroup.controllers
step "reserve 2 CPUs"; rmctl cpu reserve v2test --count 2 -o json | $PY -c 'import json,sys; print(json.load(sys.stdin)["reservation"])'; echo "rc=$?"
sleep 300 & SLEEPER=$!
step "cpu cpuset v2test --move $SLEEPER --dry-run"; rmctl cpu cpuset v2test --move "$SLEEPER" --dry-run; echo "rc=$?"
step "cpu cpuset v2test --move $SLEEPER"; rmctl cpu cpuset v2test --move "$SLEEPER"; echo "rc=$?"
CG=$(find /sys/fs/cgroup -maxdepth 2 -type d -name 'rmctl-v2test' | head -1); echo "cgroup: $CG"
for f in cpuset.cpus cpuset.mems cpuset.cpus.effective cpuset.cpus.partition cgroup.procs; do printf '%s = %s\n' "$f" "$(cat "$CG/$f" 2>&1 | tr '\n' ' ')"; done
grep Cpus_allowed_list /proc/$SLEEPER/status
step "same again (idempotent)"; rmctl cpu cpuset v2test --move "$SLEEPER"; echo "rc=$?"
step "release (cgroup removed, process moved out)"; rmctl cpu release v2test; echo "rc=$?"; ls -d "$CG" 2>&1; grep -c "$SLEEPER" /sys/fs/cgroup/cgroup.procs
step "isolated partition"; rmctl cpu reserve v2iso --count 1 >/dev/null; rmctl cpu cpuset v2iso --partition isolated; echo "rc=$?"
CG2=$(find /sys/fs/cgroup -maxdepth 2 -type d -name 'rmctl-v2iso' | head -1); [ -n "$CG2" ] && cat "$CG2/cpuset.cpus.partition"
rmctl cpu release v2iso; echo "release rc=$?"; find /sys/fs/cgroup -maxdepth 2 -name 'rmctl-*'
step "hugepages 2M=64 and 1G=1, then back"; rmctl hugepages set 2M=64 1G=1 -o json | $PY -c 'import json,sys; d=json.load(sys.stdin); print([(p["page_size"], p["requested"], p.get("achieved"), p["status"]) for p in d["pools"]])'; echo "rc=$?"
grep -E 'HugePages_Total|Hugetlb' /proc/meminfo
step "hugetlbfs mount"; mkdir -p "$OUT/mnt"; rmctl hugepages mount "$OUT/mnt" --page-size 2M --size 64M; echo "rc=$?"; grep "$OUT/mnt" /proc/mounts
rmctl hugepages mount "$OUT/mnt" --page-size 2M --size 64M; echo "again rc=$?"
rmctl hugepages umount "$OUT/mnt"; echo "umount rc=$?"
rmctl hugepages set 2M=0 1G=0 >/dev/null; echo "restore rc=$?"; cat /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages
