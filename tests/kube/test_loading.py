"""Reading Kubernetes manifests: the API's shapes per version, its validation rules, bounds."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

from rmctl.resources import kube
from rmctl.resources.kube.common import MAX_FILE_BYTES, MAX_NODES
from rmctl.resources.kube.pod import qos_class, requests_of
from rmctl.resources.manifests import read_manifests
from rmctl.resources.yamlio import InputError


def load(tmp_path, text: str, name: str = "m.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return kube.load([str(p)])


def fails(tmp_path, text: str, *needles: str):
    with pytest.raises(InputError) as e:
        load(tmp_path, text)
    for n in needles:
        assert n in str(e.value) + (e.value.hint or ""), str(e.value)
    return e.value


CLAIM = """apiVersion: resource.k8s.io/{v}
kind: ResourceClaim
metadata: {{name: c}}
spec:
  devices:
    requests:
{requests}
"""


def claim(v: str, requests: str) -> str:
    return CLAIM.format(v=v, requests=requests)


# -- the three API versions mean the same ------------------------------------------------

V1 = """    - name: gpu
      exactly:
        deviceClassName: gpu
        allocationMode: ExactCount
        count: 2
        selectors:
        - cel: {expression: 'device.attributes["rmctl.io"].kind == "gpu"'}
    - name: nic
      firstAvailable:
      - {name: fast, deviceClassName: rdma}
      - {name: any, deviceClassName: nic, allocationMode: All}
"""
V1BETA1 = """    - name: gpu
      deviceClassName: gpu
      allocationMode: ExactCount
      count: 2
      selectors:
      - cel: {expression: 'device.attributes["rmctl.io"].kind == "gpu"'}
    - name: nic
      firstAvailable:
      - {name: fast, deviceClassName: rdma}
      - {name: any, deviceClassName: nic, allocationMode: All}
"""


@pytest.mark.parametrize("version,body", [("v1", V1), ("v1beta2", V1), ("v1beta1", V1BETA1)])
def test_versions_read_to_the_same_requests(tmp_path, version, body):
    inp = load(tmp_path, claim(version, body))
    c = inp.claims[("default", "c")]
    gpu, nic = c.requests
    assert (gpu.name, gpu.first_available) == ("gpu", False)
    ch = gpu.choices[0]
    assert (ch.class_name, ch.count, ch.all, len(ch.selectors)) == ("gpu", 2, False, 1)
    assert nic.first_available and [(x.name, x.class_name, x.all) for x in nic.choices] == [
        ("fast", "rdma", False), ("any", "nic", True)]
    req = kube.as_request(inp)
    assert [d.name for d in req.devices] == ["c/gpu", "c/nic"]


def test_v1_needs_exactly_or_first_available(tmp_path):
    fails(tmp_path, claim("v1", "    - name: gpu\n      deviceClassName: gpu\n"), "unknown field")
    fails(tmp_path, claim("v1", "    - name: gpu\n"), "exactly one of 'exactly' or 'firstAvailable'")


def test_v1beta1_first_available_excludes_the_exact_fields(tmp_path):
    fails(tmp_path, claim("v1beta1", "    - name: gpu\n      deviceClassName: gpu\n      firstAvailable:\n"
                                     "      - {name: a, deviceClassName: gpu}\n"),
          "must not be set together with firstAvailable")


@pytest.mark.parametrize("body,needle", [
    ("    - name: g\n      exactly: {deviceClassName: gpu, allocationMode: All, count: 2}\n",
     "must not be specified when allocationMode is 'All'"),
    ("    - name: g\n      exactly: {deviceClassName: gpu, count: 0}\n", "must be at least 1"),
    ("    - name: g\n      exactly: {deviceClassName: gpu, allocationMode: Some}\n", "ExactCount or All"),
    ("    - name: G_1\n      exactly: {deviceClassName: gpu}\n", "must be a DNS label"),
    ("    - name: g\n      exactly: {deviceClassName: gpu, adminAccess: true}\n", "not evaluated by rmctl"),
    ("    - name: g\n      exactly: {deviceClassName: gpu, capacity: {requests: {memory: 1Gi}}}\n",
     "DRAConsumableCapacity"),
    ("    - name: g\n      exactly: {deviceClassName: gpu}\n    - name: g\n      exactly: {deviceClassName: gpu}\n",
     "duplicate request name"),
])
def test_request_rules(tmp_path, body, needle):
    e = fails(tmp_path, claim("v1", body), needle)
    assert "m.yaml:" in str(e)  # every error names file:line:col


def test_selector_error_names_its_position(tmp_path):
    from rmctl.errors import UsageError

    with pytest.raises(UsageError) as e:
        load(tmp_path, claim("v1", "    - name: g\n      exactly:\n        deviceClassName: gpu\n"
                                   "        selectors:\n        - cel: {expression: 'device.attributes[']}\n"))
    assert "m.yaml:" in str(e.value)


def test_constraints_match_attribute(tmp_path):
    text = claim("v1", "    - {name: a, exactly: {deviceClassName: gpu}}\n    - {name: b, exactly: {deviceClassName: nic}}\n")
    inp = load(tmp_path, text + "    constraints:\n    - matchAttribute: resource.kubernetes.io/pcieRoot\n")
    (con,) = inp.claims[("default", "c")].constraints
    assert con.attribute == "resource.kubernetes.io/pcieRoot" and con.requests == ["a", "b"]  # empty = all
    (rcon,) = kube.as_request(inp).constraints
    assert rcon.requests == ["c/a", "c/b"]
    fails(tmp_path, text + "    constraints:\n    - {matchAttribute: pcieRoot}\n", "fully qualified")
    fails(tmp_path, text + "    constraints:\n    - {matchAttribute: x.io/y, requests: [zz]}\n", "no request named 'zz'")
    fails(tmp_path, text + "    constraints:\n    - {distinctAttribute: x.io/y}\n", "distinctAttribute")
    fails(tmp_path, text + "    constraints:\n    - {matchAttribute: x.io/y, requests: [a/sub]}\n", "subrequest")


def test_config_and_tolerations_are_noted_not_evaluated(tmp_path):
    text = claim("v1", "    - name: g\n      exactly:\n        deviceClassName: gpu\n"
                       "        tolerations: [{key: k, operator: Exists}]\n")
    text += "    config:\n    - requests: [g]\n      opaque: {driver: gpu.nvidia.com, parameters: {a: 1}}\n"
    c = load(tmp_path, text).claims[("default", "c")]
    assert any("config: 1 entry ignored" in n for n in c.notes)
    assert any("tolerations" in n for n in c.notes)


def test_device_class_becomes_a_class(tmp_path):
    inp = load(tmp_path, """apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu.example.com}
spec:
  selectors:
  - cel: {expression: 'device.driver == "gpu.example.com"'}
  config:
  - opaque: {driver: gpu.example.com, parameters: {x: 1}}
""")
    c = inp.classes["gpu.example.com"]
    assert [s.cel for s in c.selectors] == ['device.driver == "gpu.example.com"']
    assert "config" in c.description and c.config


def test_unknown_kind_and_version_and_duplicates(tmp_path):
    fails(tmp_path, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", "kind 'Service' is not read")
    fails(tmp_path, claim("v1alpha3", "    - {name: g, exactly: {deviceClassName: gpu}}\n"), "unsupported")
    one = claim("v1", "    - {name: g, exactly: {deviceClassName: gpu}}\n")
    fails(tmp_path, one + "---\n" + one, "also defined at")
    fails(tmp_path, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n", "--kubelet-config")


# -- pods ------------------------------------------------------------------------------------

POD = """apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: ns}}
spec:
{spec}
"""


def pod(tmp_path, spec: str):
    return load(tmp_path, POD.format(spec=spec)).pods[0]


def test_requests_default_to_limits_and_qos(tmp_path):
    p = pod(tmp_path, "  containers:\n  - name: a\n    resources:\n      limits: {cpu: '2', memory: 1Gi}\n")
    assert p.containers[0].requests == {"cpu": 2, "memory": 1 << 30}
    assert qos_class(p) == "Guaranteed"
    p = pod(tmp_path, "  containers:\n  - name: a\n    resources:\n      requests: {cpu: 500m}\n"
                      "      limits: {cpu: '1', memory: 1Gi}\n")
    assert p.containers[0].requests["cpu"] == Fraction(1, 2) and qos_class(p) == "Burstable"
    p = pod(tmp_path, "  containers:\n  - name: a\n")
    assert qos_class(p) == "BestEffort"
    # an init container without limits makes the pod Burstable (qos.go: every container)
    p = pod(tmp_path, "  initContainers:\n  - name: i\n    resources: {requests: {cpu: '1'}}\n"
                      "  containers:\n  - name: a\n    resources: {limits: {cpu: '2', memory: 1Gi}}\n")
    assert qos_class(p) == "Burstable"


def test_effective_requests_with_init_containers_and_sidecars(tmp_path):
    p = pod(tmp_path, """  initContainers:
  - {name: side, restartPolicy: Always, resources: {limits: {cpu: '1', memory: 1Gi}}}
  - {name: init, resources: {limits: {cpu: '6', memory: 1Gi}}}
  containers:
  - {name: a, resources: {limits: {cpu: '2', memory: 2Gi}}}
  - {name: b, resources: {limits: {cpu: '2', memory: 2Gi}}}
""")
    assert [c.kind for c in p.containers] == ["sidecar", "init", "app", "app"]
    # cpu: max(init 6 + sidecar 1, apps 4 + sidecar 1) = 7; memory: max(1+1, 4+1) = 5Gi
    assert requests_of(p) == {"cpu": 7, "memory": 5 << 30}


@pytest.mark.parametrize("spec,needle", [
    ("  containers:\n  - name: a\n    resources: {requests: {cpu: '2'}, limits: {cpu: '1'}}\n",
     "must be less than or equal to cpu limit"),
    ("  containers:\n  - name: a\n    resources: {requests: {hugepages-2Mi: 2Mi, cpu: '1'}, limits: {hugepages-2Mi: 4Mi}}\n",
     "must be equal to hugepages-2Mi limit"),
    ("  containers:\n  - name: a\n    resources: {limits: {hugepages-2Mi: 4Mi}}\n", "HugePages require cpu or memory"),
    ("  containers:\n  - name: a\n    resources: {limits: {hugepages-2Mi: 3Mi, cpu: '1'}}\n", "whole number of 2Mi pages"),
    ("  containers:\n  - name: a\n    resources: {limits: {gpus: '1'}}\n", "extended resource DOMAIN/NAME"),
    ("  containers:\n  - name: a\n    resources: {requests: {nvidia.com/gpu: '1'}}\n", "limit must be set"),
    ("  containers:\n  - name: a\n  - name: a\n", "duplicate container name"),
    ("  containers: []\n", "at least one container"),
    ("  containers:\n  - name: a\n    resources: {claims: [{name: gpu}]}\n", "no pod resource claim named 'gpu'"),
    ("  resources: {limits: {cpu: '1'}}\n  containers:\n  - name: a\n", "pod-level resources"),
    ("  resourceClaims:\n  - {name: gpu, source: {resourceClaimName: x}}\n  containers:\n  - name: a\n", "1.31"),
    ("  resourceClaims:\n  - {name: gpu, resourceClaimName: missing}\n  containers:\n  - name: a\n",
     "not in the input"),
    ("  containers:\n  - name: a\n    restartPolicy: Always\n", "only an init container"),
    ("  containers:\n  - name: a\n    resources: {limits: {cpu: lots}}\n", "not a Kubernetes quantity"),
])
def test_pod_rules(tmp_path, spec, needle):
    fails(tmp_path, POD.format(spec=spec), needle)


@pytest.mark.parametrize("kind,api,path", [
    ("Deployment", "apps/v1", "spec:\n  template:\n    spec:\n"),
    ("StatefulSet", "apps/v1", "spec:\n  template:\n    spec:\n"),
    ("DaemonSet", "apps/v1", "spec:\n  template:\n    spec:\n"),
    ("Job", "batch/v1", "spec:\n  template:\n    spec:\n"),
    ("CronJob", "batch/v1", "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"),
])
def test_workloads_read_their_pod_template(tmp_path, kind, api, path):
    indent = " " * (len(path.splitlines()[-1]) - len(path.splitlines()[-1].lstrip()) + 2)
    text = (f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: w, namespace: prod}}\n{path}"
            f"{indent}containers:\n{indent}- name: app\n{indent}  resources: {{limits: {{cpu: '4', memory: 1Gi}}}}\n")
    (p,) = load(tmp_path, text).pods
    assert (p.name, p.namespace, p.origin) == ("w", "prod", f"{kind} w")
    assert p.containers[0].requests["cpu"] == 4


def test_a_list_is_read_item_by_item(tmp_path):
    text = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a}
  spec: {containers: [{name: c}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: b}
  spec: {containers: [{name: c}]}
"""
    assert [p.name for p in load(tmp_path, text).pods] == ["a", "b"]


def test_claims_of_pods_resolve_and_unused_ones_are_noted(tmp_path):
    text = POD.format(spec="  resourceClaims:\n  - {name: g, resourceClaimName: c}\n  containers:\n  - name: a\n")
    text += "---\n" + claim("v1", "    - {name: g, exactly: {deviceClassName: gpu}}\n").replace(
        "metadata: {name: c}", "metadata: {name: c, namespace: ns}")
    text += "---\n" + claim("v1", "    - {name: g, exactly: {deviceClassName: gpu}}\n").replace(
        "metadata: {name: c}", "metadata: {name: other, namespace: ns}")
    inp = load(tmp_path, text)
    assert inp.pods[0].claims[0].claim == "c"
    assert any("ns/other is not used" in n for n in inp.notes)
    # the same claim name in another namespace does not resolve
    fails(tmp_path, text.replace("metadata: {name: c, namespace: ns}", "metadata: {name: c, namespace: other}"),
          "not in the input")


# -- bounds -----------------------------------------------------------------------------------

def test_a_large_file_is_refused_before_it_is_parsed(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="MiB"):
        kube.load([str(p)])


def test_alias_bombs_stop_at_the_value_budget(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n" + "\n".join(lines) + "\nspec: {containers: [{name: c}]}\n"
    with pytest.raises(InputError, match=str(MAX_NODES)):
        load(tmp_path, text)


def test_a_fifo_nobody_writes_to_is_empty_not_waited_on(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert read_manifests(str(fifo)) == []  # opened O_NONBLOCK: no writer, no bytes, no hang


def test_a_pipe_is_read_as_it_comes(tmp_path):
    """``rmctl request evaluate <(kubectl get pod p -o yaml)``: the shell hands over a pipe (yamlio's reading)."""
    import threading

    fifo = tmp_path / "pod.yaml"
    os.mkfifo(fifo)
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n"

    def write():
        with open(fifo, "w") as f:
            f.write(pod)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        fd = os.open(fifo, os.O_RDONLY)  # as the shell's /dev/fd/N: the writer is connected
        try:
            docs = read_manifests(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
    finally:
        writer.join(10)
    assert docs and docs[0]["metadata"] == {"name": "p"}


def test_a_device_that_never_ends_is_cut_at_the_limit():
    with pytest.raises(InputError, match="more than the 4 MiB"):
        read_manifests("/dev/zero")


def test_python_tags_are_refused(tmp_path):
    with pytest.raises(InputError, match="plain"):
        load(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: !!python/object:os.system {}\n")


def test_a_directory_is_refused_and_an_empty_device_is_empty(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        kube.load([str(tmp_path)])
    assert read_manifests("/dev/null") == []  # empty: the caller says "no YAML documents"
