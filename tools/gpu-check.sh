#!/usr/bin/env bash
# Device check for issue 5 on a bare GPU host (no network): NVML detail live,
# a snapshot capture, and the same attributes read back offline.
#
# Run from the repository root, with the typer wheel carried in .whl/:
#   bash tools/gpu-check.sh            (writes gpu.tar.gz and *.json under $OUT)
# Prepare .whl/ here first (see /work/.library/device/README.md, Notes):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 -d .whl typer==0.28.0
set -u
OUT=${OUT:-/tmp/rmctl-gpu-check}
mkdir -p "$OUT"
REPO=$(cd "$(dirname "$0")/.." && pwd)
SITE=/tmp/rmctl-site
PY=python3
step() { printf '\n===== %s\n' "$*"; }

step "host"
uname -a; $PY --version; nvidia-smi -L 2>&1 | sed -E 's/UUID: [^)]*/UUID: (hidden)/'
$PY -m pip list 2>/dev/null | grep -i -E '^(typer|rich|psutil|py-cpuinfo|pyyaml|nvidia-ml-py|click) '

step "install (typer wheel from .whl if carried; rmctl from the working tree)"
mkdir -p "$SITE"
if ls "$REPO"/.whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$REPO"/.whl/*.whl || echo "wheel install failed"
fi
export PYTHONPATH="$SITE:$REPO"
$PY -c 'import typer, typer._click, pynvml, rmctl; print("typer", typer.__version__, "| rmctl", rmctl.__version__, "| pynvml ok")' || exit 1
rmctl() { $PY -m rmctl "$@"; }

step "rmctl devices list --kind gpu -o json (live, NVML)"
rmctl devices list --kind gpu -o json | tee "$OUT/live-gpu.json"; echo "rc=${PIPESTATUS[0]}"

step "rmctl devices list (table, live)"
rmctl -v devices list; echo "rc=$?"

step "rmctl snapshot capture --keep-ids $OUT/gpu.tar.gz (UUIDs kept so live and offline compare whole)"
rmctl snapshot capture "$OUT/gpu.tar.gz" --keep-ids --force; echo "rc=$?"
tar -xzOf "$OUT/gpu.tar.gz" --wildcards '*/rmctl-facts.json' | tee "$OUT/facts.json" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d.get("nvml"), indent=1)); print("pci_names:", len(d.get("pci_names", {})))'

step "rmctl --root $OUT/gpu.tar.gz devices list --kind gpu -o json (offline)"
rmctl --root "$OUT/gpu.tar.gz" devices list --kind gpu -o json | tee "$OUT/snapshot-gpu.json"; echo "rc=${PIPESTATUS[0]}"

step "compare live vs snapshot attributes and capacity"
$PY - "$OUT/live-gpu.json" "$OUT/snapshot-gpu.json" <<'PY'
import json, sys
live, snap = (json.load(open(p))["devices"] for p in sys.argv[1:3])
ok = True
for a, b in zip(live, snap):
    same = a["attributes"] == b["attributes"] and a["capacity"] == b["capacity"]
    ok &= same
    at = a["attributes"]
    print(a["address"], "| productName", at.get("rmctl.io/productName"), "| memory", a["capacity"].get("rmctl.io/memory"),
          "| uuid", "present" if at.get("rmctl.io/uuid") else "MISSING", "| computeCapability", at.get("rmctl.io/computeCapability"),
          "| numa_node", a["numa_node"], "| local_cpus", a["local_cpus"], "| same offline:", same)
print("GPUs live:", len(live), "snapshot:", len(snap), "ALL SAME" if ok and len(live) == len(snap) else "DIFFERENT")
PY
step "default capture (no --keep-ids): the GPU UUID must be absent, the rest the same"
rmctl snapshot capture "$OUT/gpu-shared.tar.gz" --force >/dev/null; echo "rc=$?"
tar -xzOf "$OUT/gpu-shared.tar.gz" --wildcards '*/rmctl-facts.json' | grep -c 'GPU-' | sed 's/^/GPU- strings in facts: /'
rmctl --root "$OUT/gpu-shared.tar.gz" devices list --kind gpu -o json | $PY -c '
import json, sys
d = json.load(sys.stdin)["devices"][0]
a = d["attributes"]
print("uuid attribute:", "present" if "rmctl.io/uuid" in a else "absent",
      "| productName", a.get("rmctl.io/productName"), "| memory", d["capacity"].get("rmctl.io/memory"),
      "| computeCapability", a.get("rmctl.io/computeCapability"))'

step "rmctl topology --tree (devices under NUMA nodes)"
rmctl topology --tree | grep -v -E 'Core|CPU [0-9]'
