"""charts/ferry rendered by the real helm, and examples/, checked as a cluster would.

- `helm lint --strict` and `helm template` over a matrix of values;
- every rendered object (and every example manifest) validated against the
  Kubernetes 1.35 OpenAPI schemas by tests/integration/charts/openapi_check.cc
  (the strict validator of the webhook's unit tests);
- values.schema.json refuses bad values at `helm template` time;
- the rendered Deployment's args and --config file start the real
  ferry-webhook, which then injects the sidecar image and resources the values
  ask for into examples/deployment.yaml's pod.

helm comes from scripts/lib/common.sh install_k8s_tools; without it these tests
fail with the command that installs it (they do not skip).
"""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(os.environ.get("FERRY_SOURCE_DIR", Path(__file__).resolve().parents[3]))
BUILD = Path(os.environ.get("FERRY_BUILD_DIR", ROOT / "build"))
SHARED = Path(os.environ.get("FERRY_OPENAPI_DIR",
                           ROOT / "tests" / "testdata" / "k8s-openapi-1.35"))
CHECK = Path(os.environ.get("FERRY_OPENAPI_CHECK", BUILD / "tests" / "ferry-openapi-check"))
TOOLS = Path(os.environ.get("FERRY_TOOLS_DIR", "/opt/ferry-tools")) / "bin"
CHART = ROOT / "charts" / "ferry"
NAMESPACE = "ferry-system"

sys.path.insert(0, str(ROOT / "tests" / "support" / "kubelet"))
from ferry_kubelet import apiserver, inject  # noqa: E402
from ferry_kubelet.webhook import Webhook  # noqa: E402


def helm_bin():
    helm = TOOLS / "helm"
    if not os.access(helm, os.X_OK):
        pytest.fail(f"{helm} is missing: run scripts/test, or `source scripts/lib/common.sh; "
                    "install_k8s_tools` as root")
    return str(helm)


def helm(*args, check=True):
    r = subprocess.run([helm_bin(), *args], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def set_args(values):
    out = []
    for key, value in values.items():
        out += ["--set-json", f"{key}={json.dumps(value)}"]
    return out


def render(values=None, kube_version="1.35.0"):
    r = helm("template", "ferry", str(CHART), "--namespace", NAMESPACE,
             "--kube-version", kube_version, *set_args(values or {}))
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def openapi_check(objects):
    """Returns the checker's lines; fails the test on schema errors."""
    assert CHECK.exists(), f"{CHECK} is not built (cmake --build BUILD --target ferry-openapi-check)"
    with tempfile.NamedTemporaryFile("w", suffix=".json") as fh:
        json.dump(objects, fh)
        fh.flush()
        r = subprocess.run([str(CHECK), str(SHARED), fh.name], capture_output=True, text=True,
                           timeout=120)
    lines = r.stdout.splitlines()
    assert r.returncode in (0, 1), r.stderr
    errors = [line for line in lines if line.startswith("error ")]
    assert not errors, "\n".join(errors)
    assert r.returncode == 0
    return lines


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


VALUE_SETS = {
    "defaults": {},
    "tls-secret": {"tls.mode": "secret", "tls.secret.name": "my-tls",
                   "tls.secret.caBundle": base64.b64encode(b"-----BEGIN CERTIFICATE-----\n")
                   .decode()},
    "issuer-ref": {"tls.certManager.issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer"}},
    "legacy-sidecar": {"config.sidecar.mode": "legacy"},
    "single-replica": {"replicaCount": 1, "podDisruptionBudget.enabled": False,
                       "priorityClassName": ""},
    "scheduling": {"nodeSelector": {"kubernetes.io/os": "linux"},
                   "tolerations": [{"key": "dedicated", "operator": "Exists",
                                    "effect": "NoSchedule"}],
                   "podAnnotations": {"example.com/team": "ml"},
                   "imagePullSecrets": [{"name": "regcred"}]},
    "custom-image": {"image.repository": "registry.example.com/ferry", "image.tag": "9.9.9",
                     "config.cacheSizeLimit": "50Gi", "config.datasetsPath": "/mnt/data"},
}


def test_helm_lint_strict():
    r = helm("lint", "--strict", str(CHART))
    assert "0 chart(s) failed" in r.stdout, r.stdout


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_rendered_objects_match_kubernetes_schemas(name):
    docs = render(VALUE_SETS[name])
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount",
            "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} <= kinds, kinds
    lines = openapi_check(docs)
    checked = [line for line in lines if line.startswith("ok ")]
    skipped = [line for line in lines if line.startswith("skip ")]
    # Only cert-manager's CRDs have no schema document here.
    assert all("cert-manager.io" in line for line in skipped), skipped
    assert len(checked) + len(skipped) == len(docs)
    for d in docs:
        assert d["metadata"].get("namespace", NAMESPACE) == NAMESPACE or d["kind"].endswith(
            "WebhookConfiguration"), d["metadata"]


def test_match_conditions_follow_the_kube_version():
    new = by_kind(render(kube_version="1.30.0"), "MutatingWebhookConfiguration")[0]
    old = by_kind(render(kube_version="1.27.0"), "MutatingWebhookConfiguration")[0]
    assert all("matchConditions" in w for w in new["webhooks"])
    assert all("matchConditions" not in w for w in old["webhooks"])


@pytest.mark.parametrize("key,value,needle", [
    ("replicaCount", -1, "replicaCount"),
    ("config.sidecar.mode", "sometimes", "mode"),
    ("webhook.failurePolicy", "Maybe", "failurePolicy"),
    ("tls.mode", "none", "mode"),
])
def test_schema_refuses_bad_values(key, value, needle):
    r = helm("template", "ferry", str(CHART), *set_args({key: value}), check=False)
    assert r.returncode != 0, f"helm accepted {key}={value!r}"
    assert needle in r.stderr, r.stderr


def test_secret_mode_needs_a_secret_name():
    r = helm("template", "ferry", str(CHART), *set_args({"tls.mode": "secret"}), check=False)
    assert r.returncode != 0
    assert "tls.secret" in r.stderr, r.stderr


def start_chart_webhook(docs, workdir):
    """ferry-webhook started with the args and --config file the chart renders (listen
    address and TLS files replaced by test ones; no shutdown delay)."""
    deployment = by_kind(docs, "Deployment")[0]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    config_map = by_kind(docs, "ConfigMap")[0]
    replaced = {"--listen", "--tls-cert", "--tls-key", "--config", "--shutdown-delay"}
    flags = [a for a in container["args"] if a.split("=", 1)[0] not in replaced]
    assert replaced <= {a.split("=", 1)[0] for a in container["args"]}, container["args"]
    return Webhook(str(BUILD / "bin" / "ferry-webhook"), workdir,
                   config_text=config_map["data"]["config.yaml"],
                   flags=flags + ["--shutdown-delay=0"])


@pytest.mark.parametrize("name", ["defaults", "custom-image", "legacy-sidecar"])
def test_rendered_deployment_starts_ferry_webhook_that_injects_what_values_say(name, tmp_path):
    values = VALUE_SETS[name]
    docs = render(values)
    hook = start_chart_webhook(docs, str(tmp_path))
    try:
        manifest = inject.find(inject.load_manifests(ROOT / "examples" / "deployment.yaml"),
                               "Deployment")
        pod = inject.pod_from_manifest(manifest)
        review = apiserver.review(pod, namespace="ml-team")
        status, answer = hook.post("/mutate", review)
        assert status == 200, answer
        assert answer["response"]["allowed"], answer
        mutated, _ = apiserver.apply_answer(review, answer)
        errors = apiserver.validate_pod(mutated)
        assert not errors, errors
        spec = mutated["spec"]
        legacy = values.get("config.sidecar.mode") == "legacy"
        sidecars = [c for c in spec["containers" if legacy else "initContainers"]
                    if c["name"] == "ferry-sidecar"]
        assert len(sidecars) == 1, spec
        image = (f"{values.get('image.repository', 'ghcr.io/ferry-data/ferry')}:"
                 f"{values.get('image.tag', '0.1.0')}")
        assert sidecars[0]["image"] == image
        assert sidecars[0]["resources"]["limits"]["memory"] == "512Mi"
        if not legacy:
            assert sidecars[0]["restartPolicy"] == "Always"
        cache = next(v for v in spec["volumes"] if v["name"] == "ferry-cache")
        assert cache["emptyDir"]["sizeLimit"] == values.get("config.cacheSizeLimit", "10Gi")
        path = values.get("config.datasetsPath", "/datasets")
        app_mounts = [m for c in spec["containers"] for m in c.get("volumeMounts", [])
                      if m["name"] == "ferry-mnt" and c["name"] != "ferry-sidecar"]
        assert app_mounts and all(m["mountPath"] == path for m in app_mounts), app_mounts
        # The release namespace is excluded by the rendered config.
        status, answer = hook.post("/mutate", apiserver.review(pod, namespace=NAMESPACE))
        assert status == 200 and "patch" not in answer["response"], answer
        # The validating hook path the chart registers answers for the example spec.
        validating = by_kind(docs, "ValidatingWebhookConfiguration")[0]
        path = validating["webhooks"][0]["clientConfig"]["service"]["path"]
        cm = inject.find(inject.load_manifests(ROOT / "examples" / "datasets.yaml"), "ConfigMap")
        status, answer = hook.post(path, {
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u1", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                        "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                        "namespace": "ml-team", "operation": "CREATE", "object": cm}})
        assert status == 200 and answer["response"]["allowed"], answer
    finally:
        hook.stop()
    assert hook.proc.returncode == 0, hook.log()


def test_examples_match_kubernetes_schemas():
    docs = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert docs
    lines = openapi_check(docs)
    skipped = [line for line in lines if line.startswith("skip ")]
    # Knative and Fluid are CRDs: no schema document for them here.
    assert all(re.search(r"serving\.knative\.dev|data\.fluid\.io", line) for line in skipped), \
        skipped
    assert any(line.startswith("ok Deployment/") for line in lines)
    assert any(line.startswith("ok Job/") for line in lines)
