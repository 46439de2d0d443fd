"""export resourceslice (selection, split, API versions), --output-file (atomic), export nfd (expiry, NodeFeature)."""

import json
import os
import tarfile

import pytest
import yaml

from tests import synth
from tests.conftest import NODE_FIXTURES, REPO

#: kubernetes-validate schema sets: the first release serving each API version, and the newest
API_SCHEMAS = {"resource.k8s.io/v1": ["1.34.0", "1.37.0"], "resource.k8s.io/v1beta2": ["1.33.0", "1.37.0"],
               "resource.k8s.io/v1beta1": ["1.32.0", "1.37.0"]}


def _validate(doc, version):
    import kubernetes_validate

    kubernetes_validate.validate(doc, version, strict=True)


@pytest.fixture(scope="module")
def big_node(tmp_path_factory):
    """152 PCI functions: 150 NIC functions (SR-IOV-like), 2 GPUs."""
    devs = [synth.Device(f"0000:{1 + i // 32:02x}:{(i % 32):02x}.0", vendor="0x8086", device="0x1889",
                         cls="0x020000", numa_node=0, driver="iavf") for i in range(150)]
    devs += [synth.Device("0000:80:00.0", numa_node=0, driver="nvidia"),
             synth.Device("0000:81:00.0", numa_node=0, driver="nvidia")]
    return synth.build(tmp_path_factory.mktemp("big") / "root", cores=2, threads=1, devices=devs)


@pytest.mark.parametrize("api", sorted(API_SCHEMAS))
def test_152_functions_make_two_slices_that_validate(run_cli, big_node, api):
    code, out, err = run_cli("--root", big_node, "export", "resourceslice", "--node-name", "w1",
                             "--api-version", api, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["kind"] == "List" and len(doc["items"]) == 2
    counts = [len(s["spec"]["devices"]) for s in doc["items"]]
    assert counts == [128, 24]
    for s in doc["items"]:
        assert s["apiVersion"] == api
        assert s["spec"]["pool"] == {"name": "w1", "generation": 1, "resourceSliceCount": 2}
        for version in API_SCHEMAS[api]:
            _validate(s, version)
        dev = s["spec"]["devices"][0]
        assert ("basic" in dev) == (api == "resource.k8s.io/v1beta1")
    names = [d["name"] for s in doc["items"] for d in s["spec"]["devices"]]
    assert len(set(names)) == 152
    # the YAML form is the same List
    code, out_y, _ = run_cli("--root", big_node, "export", "resourceslice", "--node-name", "w1", "--api-version", api)
    assert yaml.safe_load(out_y) == doc


def test_a_wrong_shape_fails_validation(run_cli, big_node):
    import kubernetes_validate

    code, out, _ = run_cli("--root", big_node, "export", "resourceslice", "--node-name", "w1",
                           "--api-version", "resource.k8s.io/v1beta1", "-o", "json")
    s = json.loads(out)["items"][0]
    s["spec"]["devices"][0]["attributes"] = s["spec"]["devices"][0].pop("basic")["attributes"]  # v1 shape
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(s, "1.32.0")


@pytest.fixture
def dev_vm(tmp_path):
    """dev-vm.tar.gz unpacked, plus the proc/net/route of such a VM (the snapshot predates its capture)."""
    with tarfile.open(os.path.join(NODE_FIXTURES, "dev-vm.tar.gz")) as tf:
        try:
            tf.extractall(tmp_path, filter="data")
        except TypeError:
            tf.extractall(tmp_path)
    root = tmp_path / os.listdir(tmp_path)[0]
    (root / "proc" / "net").mkdir(exist_ok=True)
    (root / "proc" / "net" / "route").write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
    return str(root)


def test_the_dev_vm_keeps_its_root_disk_and_default_route_nic(run_cli, dev_vm):
    code, out, err = run_cli("--root", dev_vm, "-v", "export", "resourceslice", "--node-name", "dev")
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["spec"].get("devices", []) == []  # nothing on this VM is for workloads
    for text in (out, err):  # the reasons: in the output's comment and in -v output
        assert "# excluded 0000:00:02.0 (virtio block): the node uses it: holds the root filesystem on /dev/vda" \
            in text
        assert "# excluded 0000:00:03.0 (virtio net): the node uses it: carries the default route" in text
        assert "# excluded 0000:00:00.0 (Device 8086:0d57): a PCI bridge" in text
    _validate(doc, "1.34.0")
    # --all publishes everything; --class picks what to publish
    code, out, _ = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev", "--all", "-o", "json")
    assert len(json.loads(out)["spec"]["devices"]) == 6
    code, out, err = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev", "--class", "nvme",
                             "--class", "nope", "-o", "json")
    assert code == 2 and out == "" and "unknown class 'nope'" in err


def test_without_route_facts_the_nic_stays_and_that_is_said(run_cli, dev_vm):
    os.unlink(os.path.join(dev_vm, "proc", "net", "route"))
    code, out, err = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev", "-o", "json")
    assert code == 0
    assert [d["name"] for d in json.loads(out)["spec"]["devices"]] == ["pci-0000-00-03-0"]
    assert "default route: no proc/net/route" in err


def test_driver_is_one_meaning_offline_and_in_the_slice(run_cli, dev_vm, tmp_path):
    """device.driver is the DRA driver name: a class on it selects the same devices as the slice's driver."""
    cls = tmp_path / "classes"
    cls.mkdir()
    (cls / "mine.yaml").write_text(
        "apiVersion: rmctl.io/v1alpha1\nkind: ResourceClass\nmetadata: {name: mine}\nspec:\n  selectors:\n"
        "  - cel: 'device.driver == \"example.com\" && device.attributes[\"rmctl.io\"].driver == \"virtio-pci\"'\n")
    code, out, err = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev", "--all",
                             "--driver", "example.com", "-o", "json")
    assert json.loads(out)["spec"]["driver"] == "example.com"
    code, out, err = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev", "--class-dir",
                             str(cls), "--class", "mine", "--driver", "example.com", "-o", "json")
    assert code == 0, err
    assert [d["name"] for d in json.loads(out)["spec"]["devices"]] == ["pci-0000-00-01-0", "pci-0000-00-04-0",
                                                                       "pci-0000-00-05-0"]
    code, out, _ = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev", "--class-dir",
                           str(cls), "--class", "mine", "-o", "json")  # published as rmctl.io: no match
    assert json.loads(out)["spec"].get("devices", []) == []


# -- --output-file -------------------------------------------------------------------

def test_output_file_is_written_atomically_and_keeps_its_mode(run_cli, dev_vm, tmp_path):
    target = tmp_path / "slice.yaml"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    code, out, err = run_cli("--root", dev_vm, "export", "resourceslice", "--node-name", "dev",
                             "--output-file", str(target))
    assert code == 0 and out == "", err
    assert yaml.safe_load(target.read_text())["kind"] == "ResourceSlice"
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == sorted(["slice.yaml", os.path.basename(dev_vm)])  # no temp file left


@pytest.mark.parametrize("argv", [
    ["--root", "/nonexistent-root", "export", "resourceslice", "--node-name", "n"],
    ["export", "kubelet-config", "-f", "/nonexistent.yaml"],
    ["export", "nfd", "--expiry", "soon"],
])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_failures_leave_stdout_empty_and_the_file_untouched(run_cli, tmp_path, argv, fmt):
    target = tmp_path / "out.yaml"
    target.write_text("previous content\n")
    code, out, err = run_cli(*argv, "-o", fmt, "--output-file", str(target))
    assert code != 0 and out == "" and err.startswith("rmctl: error: ")
    assert target.read_text() == "previous content\n"
    assert os.listdir(tmp_path) == ["out.yaml"]


def test_output_file_never_follows_a_symlink(run_cli, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    link = tmp_path / "features"
    link.symlink_to(victim)
    code, out, err = run_cli("export", "nfd", "--output-file", str(link))
    assert code == 2 and out == "" and "symbolic link" in err
    assert victim.read_text() == "keep\n" and link.is_symlink()
    code, out, err = run_cli("export", "nfd", "--output-file", str(tmp_path / "missing-dir" / "f"))
    assert code == 2 and "does not exist" in err


# -- NFD -----------------------------------------------------------------------------------

def _strict(schema):
    """The CRD schema with additionalProperties: false where properties are listed (a typo fails)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and out.get("type") == "object":
            out["additionalProperties"] = False
        return out
    return schema


def test_nfd_node_feature_validates_against_the_crd(run_cli, tmp_path):
    import jsonschema

    with open(os.path.join(REPO, "tests", "fixtures", "nfd", "nodefeature-crd-v1alpha1.json")) as f:
        crd = json.load(f)
    schema = _strict(crd["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    code, out, err = run_cli("export", "nfd", "-o", "yaml", "--node-name", "worker-1")
    assert code == 0, err
    doc = yaml.safe_load(out)
    jsonschema.validate(doc, schema)
    assert doc["apiVersion"] == "nfd.k8s-sigs.io/v1alpha1" and doc["kind"] == crd["kind"]
    assert doc["metadata"]["labels"] == {"nfd.node.kubernetes.io/node-name": "worker-1"}
    assert all(k.startswith("feature.node.kubernetes.io/rmctl-") for k in doc["spec"]["labels"])
    doc["spec"]["features"]["attributes"]["rmctl.features"]["elemnts"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_nfd_feature_file_expires(run_cli):
    import datetime

    code, out, err = run_cli("export", "nfd", "--expiry", "2h")
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("# +expiry-time="))
    when = datetime.datetime.strptime(line.split("=", 1)[1], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    left = when - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=1, minutes=58) < left <= datetime.timedelta(hours=2)
    # the directive comes before the features it applies to
    assert out.index("# +expiry-time=") < out.index("rmctl-cpus-online=")
    code, out, _ = run_cli("export", "nfd", "--expiry", "never")
    assert "+expiry-time" not in out
