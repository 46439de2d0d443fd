"""NodeProfile validation: every error names the field and its file position."""

import pytest

from rmctl.errors import ExitCode
from rmctl.profile import load_profile, parse_profile
from rmctl.profile.schema import ProfileError

GOOD = """\
apiVersion: rmctl.io/v1alpha1
kind: NodeProfile
metadata: {name: worker}
spec:
  systemReservedCPUs: {count: 1}          # or {cpus: "0"}
  isolatedCPUs: {cpus: "2-3"}             # boot arguments; needs a reboot
  hugepages:
  - {pageSize: 2Mi, count: 8, node: 0}    # omit node for the global pool
  mounts:
  - {path: /mnt/huge-2m, pageSize: 2Mi}
  reservations:
  - {name: db, count: 1}                  # any `cpu reserve` constraint may appear
"""


def test_issue_shape_parses():
    p = parse_profile(GOOD, "worker.yaml")
    assert p.name == "worker"
    assert p.system_reserved_count == 1 and p.system_reserved_cpus is None
    assert p.isolated_cpus == "2-3"
    assert [(h.page_size, h.count, h.node) for h in p.hugepages] == [(2 << 20, 8, 0)]
    assert [(m.path, m.page_size) for m in p.mounts] == [("/mnt/huge-2m", 2 << 20)]
    assert [(r.name, r.count) for r in p.reservations] == [("db", 1)]
    assert p.where("spec.hugepages[0].count") == "worker.yaml:8:21"  # the key's line:column
    assert p.where("spec.hugepages[0]") == "worker.yaml:8:5"


def test_load_from_file(tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text(GOOD)
    assert load_profile(str(f)).name == "worker"


def test_reservation_constraints_and_extensions():
    p = parse_profile(GOOD.replace("{name: db, count: 1}",
                                   "{name: db, count: 2, numa: 0, from: '0-3', options: [full-pcpus-only]}")
                      .replace("{path: /mnt/huge-2m, pageSize: 2Mi}",
                               "{path: /mnt/huge-2m, pageSize: 2Mi, size: 16Mi, mode: '0770', uid: 0}"))
    r = p.reservations[0]
    assert r.constraints() == {"count": 2, "numa": 0, "from": "0-3", "options": ["full-pcpus-only"]}
    assert p.mounts[0].options == {"size": "16Mi", "mode": "0770", "uid": "0"}


def _pos(text: str, needle: str) -> str:
    """Return LINE:COL (1-based) of the first ``needle`` in ``text``."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return f"{n}:{line.index(needle) + 1}"
    raise AssertionError(needle)


@pytest.mark.parametrize("old,new,needle,field,words", [
    ("count: 8, node: 0", "count: -8, node: 0", "count: -8", "spec.hugepages[0].count", ">= 0"),
    ("count: 8, node: 0", "count: eight, node: 0", "count: eight", "spec.hugepages[0].count", "integer"),
    ("pageSize: 2Mi, count: 8", "pageSize: 2Mb, count: 8", "pageSize: 2Mb", "spec.hugepages[0].pageSize", "bits"),
    ("{count: 1}", "{count: 1, cpus: '0'}", "systemReservedCPUs", "spec.systemReservedCPUs", "exactly one"),
    ("{cpus: \"2-3\"}", "{cpus: \"3-2x\"}", "cpus: \"3-2x", "spec.isolatedCPUs.cpus", "cpu"),
    ("  mounts:", "  mount:", "mount:", "spec.mount", "unknown field"),
    ("path: /mnt/huge-2m", "path: mnt/huge", "path: mnt", "spec.mounts[0].path", "absolute"),
    ("{name: db, count: 1}", "{name: DB!, count: 1}", "name: DB!", "spec.reservations[0].name", "not a valid name"),
    ("{name: db, count: 1}", "{count: 1}", "{count: 1}                  # any", "spec.reservations[0]", "name is required"),
    ("{name: db, count: 1}", "{name: db, count: 1, colour: red}", "colour",
     "spec.reservations[0].colour", "unknown field"),
    ("metadata: {name: worker}", "metadata: {}", "metadata", "metadata", "name"),
    ("kind: NodeProfile", "kind: Profile", "kind", "kind", "NodeProfile"),
    ("count: 8, node: 0}", "count: 8, node: 0, reserved: 9}", "reserved", "spec.hugepages[0].reserved", "exceed"),
])
def test_errors_name_field_and_position(old, new, needle, field, words):
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(ProfileError) as ei:
        parse_profile(text, "w.yaml")
    msg = str(ei.value)
    assert msg.startswith(f"w.yaml:{_pos(text, needle)}: {field}:"), msg
    assert words.lower() in msg.lower()
    assert ei.value.exit_code == ExitCode.USAGE


def test_duplicate_pool_and_mount():
    text = GOOD.replace("  mounts:", "  - {pageSize: 2M, count: 1, node: 0}\n  mounts:")
    with pytest.raises(ProfileError, match=r"w.yaml:9:5: spec.hugepages\[1\]: same pageSize and node"):
        parse_profile(text, "w.yaml")


def test_duplicate_key_and_bad_yaml():
    with pytest.raises(ProfileError, match="given twice"):
        parse_profile(GOOD + "kind: NodeProfile\n", "w.yaml")
    with pytest.raises(ProfileError, match=r"w.yaml:\d+:\d+: not valid YAML"):
        parse_profile(GOOD + "  - [unclosed\n", "w.yaml")
    with pytest.raises(ProfileError, match="empty document"):
        parse_profile("", "w.yaml")


def test_cli_reports_position(run_cli, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(GOOD.replace("count: 8, node: 0", "count: -1, node: 0"))
    code, out, err = run_cli("plan", "-f", str(f))
    assert code == 2
    assert f"{f}:8:21: spec.hugepages[0].count" in err
    assert "Traceback" not in err
    code, out, err = run_cli("plan", "-f", str(f), "-o", "json")
    import json

    doc = json.loads(out)
    assert doc["kind"] == "Error" and doc["error"]["code"] == "invalid_profile"
    assert doc["error"]["details"]["field"] == "spec.hugepages[0].count"


def test_missing_file(run_cli, tmp_path):
    code, out, err = run_cli("plan", "-f", str(tmp_path / "nope.yaml"))
    assert code == 2 and "does not exist" in err
