"""deploy/kubernetes: manifests validate against the Kubernetes schemas; privileges are exactly those needed."""

import os

import yaml

from tests.conftest import REPO

DEPLOY = os.path.join(REPO, "deploy", "kubernetes")
K8S_VERSION = "1.34.0"


def _docs():
    out = {}
    for name in sorted(os.listdir(DEPLOY)):
        if name.endswith(".yaml"):
            with open(os.path.join(DEPLOY, name)) as f:
                for d in yaml.safe_load_all(f):
                    out[d["kind"]] = d
    return out


def test_manifests_validate():
    import kubernetes_validate

    docs = _docs()
    assert set(docs) == {"Namespace", "ConfigMap", "DaemonSet"}
    for d in docs.values():
        kubernetes_validate.validate(d, K8S_VERSION, strict=True)


def test_configmap_holds_a_valid_profile():
    from rmctl.profile import parse_profile

    cm = _docs()["ConfigMap"]
    p = parse_profile(cm["data"]["profile.yaml"], "profile-configmap.yaml")
    ds = _docs()["DaemonSet"]
    assert cm["metadata"]["name"] == ds["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
    for m in p.mounts:  # only /mnt propagates to the host
        assert m.path.startswith("/mnt/")


def test_daemonset_privileges_are_only_what_is_needed():
    pod = _docs()["DaemonSet"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    (c,) = pod["containers"]
    assert c["securityContext"]["privileged"] is True  # rw sysfs, mount(2) with propagation
    host = {v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert host == {"/var/lib/rmctl", "/etc/kubernetes/node-feature-discovery/features.d", "/mnt"}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/mnt"]["mountPropagation"] == "Bidirectional"
    assert all(m.get("mountPropagation") is None for p, m in mounts.items() if p != "/mnt")
    script = c["args"][0]
    assert "apply -f /etc/rmctl/profile.yaml -o json" in script
    assert "export nfd" in script and "features.d" in script
    assert c["readinessProbe"]["exec"]["command"][3] == "verify"
