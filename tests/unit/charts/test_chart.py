"""Static checks of charts/ferry.

helm is not installed on the build machines, so the chart is not rendered.
These tests check what can be checked without it: values.yaml against
values.schema.json (with a small draft-07 subset validator), that every
template is well-formed YAML once its template actions are blanked out, that
templates only use values that exist, the webhook configurations' rules, and
that the Deployment's flags and the --config keys are ones ferry-webhook
accepts (read from webhook/flags.cc and webhook/config.cc).
"""
import copy
import json
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(os.environ.get("FERRY_SOURCE_DIR", Path(__file__).resolve().parents[3]))
CHART = ROOT / "charts" / "ferry"
TEMPLATES = CHART / "templates"


def load_values():
    return yaml.safe_load((CHART / "values.yaml").read_text())


def load_schema():
    return json.loads((CHART / "values.schema.json").read_text())


# --- a small JSON-schema (draft-07 subset) validator --------------------------

_TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool,
    "integer": int, "number": (int, float), "null": type(None),
}


def _is_type(value, name):
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def validate(value, schema, path="values"):
    """Returns a list of error strings (empty when valid)."""
    errors = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(_is_type(value, t) for t in types):
            return [f"{path}: expected {types}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required {key}")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                errors += validate(item, props[key], f"{path}.{key}")
            elif extra is False:
                errors.append(f"{path}: unknown key {key}")
            elif isinstance(extra, dict):
                errors += validate(item, extra, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


def test_validator_itself_catches_errors():
    schema = {"type": "object", "additionalProperties": False, "required": ["a"],
              "properties": {"a": {"type": "integer", "minimum": 1},
                             "b": {"type": "string", "enum": ["x"]}}}
    assert validate({"a": 1, "b": "x"}, schema) == []
    assert validate({"a": 0}, schema)
    assert validate({"a": True}, schema)
    assert validate({"b": "x"}, schema)
    assert validate({"a": 1, "b": "y"}, schema)
    assert validate({"a": 1, "c": 1}, schema)


# --- values and schema -----------------------------------------------------


def test_values_match_schema():
    assert validate(load_values(), load_schema()) == []


@pytest.mark.parametrize("path,bad", [
    (("webhook", "failurePolicy"), "Sometimes"),
    (("webhook", "timeoutSeconds"), 31),
    (("tls", "mode"), "self-made"),
    (("config", "sidecar", "mode"), "sidecar"),
    (("config", "cacheSizeLimit"), "10 GB"),
    (("config", "datasetsConfigMap"), "Ferry_Datasets"),
    (("replicaCount"), 0),
    (("webhook", "typo"), 1),
])
def test_schema_refuses_bad_values(path, bad):
    values = load_values()
    path = path if isinstance(path, tuple) else (path,)
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    assert validate(values, load_schema()), f"schema accepted {path}={bad!r}"


def test_schema_defaults_match_the_pod_contract():
    values = load_values()
    assert values["replicaCount"] >= 2
    assert values["webhook"]["timeoutSeconds"] == 5
    assert values["webhook"]["failurePolicy"] == "Fail"
    assert values["config"]["datasetsConfigMap"] == "ferry-datasets"
    assert values["config"]["credentialsSecret"] == "ferry-credentials"
    assert values["config"]["datasetsPath"] == "/datasets"
    assert values["config"]["cacheSizeLimit"] == "10Gi"
    assert values["image"]["repository"] == "ghcr.io/ferry-data/ferry"
    for ns in ("kube-system", "kube-public", "kube-node-lease"):
        assert ns in values["webhook"]["excludedNamespaces"]


def test_chart_version_matches_project():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "ferry"
    project = re.search(r"project\(ferry VERSION ([0-9.]+)",
                        (ROOT / "CMakeLists.txt").read_text()).group(1)
    assert chart["appVersion"] == project
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", chart["version"])


# --- templates ----------------------------------------------------------------

ACTION = re.compile(r"\{\{-?.*?-?\}\}", re.S)


def strip_template(text):
    """Blanks template actions: lines holding only actions go, inline ones become X."""
    out = []
    for line in text.splitlines():
        if line.strip() and ACTION.sub("", line).strip() == "":
            continue
        out.append(ACTION.sub("X", line))
    return "\n".join(out) + "\n"


def template_files():
    return sorted(p for p in TEMPLATES.glob("*.yaml"))


def stripped_docs(name):
    return [d for d in yaml.safe_load_all(strip_template((TEMPLATES / name).read_text())) if d]


def test_strip_template_keeps_structure():
    text = "a: {{ .Values.x }}\n{{- if .Values.y }}\nb:\n  {{- toYaml . | nindent 2 }}\n{{- end }}\n"
    assert yaml.safe_load(strip_template(text)) == {"a": "X", "b": None}


@pytest.mark.parametrize("path", template_files(), ids=lambda p: p.name)
def test_template_is_yaml_with_kind(path):
    docs = [d for d in yaml.safe_load_all(strip_template(path.read_text())) if d]
    assert docs, f"{path.name} holds no object"
    for doc in docs:
        assert isinstance(doc, dict)
        assert doc.get("apiVersion") and doc.get("kind"), doc
        assert "name" in doc.get("metadata", {})


def _value_paths(node, prefix=""):
    paths = set()
    if isinstance(node, dict):
        for key, item in node.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= _value_paths(item, path)
    return paths


def test_templates_use_only_existing_values():
    known = _value_paths(load_values())
    for path in list(TEMPLATES.glob("*.yaml")) + [TEMPLATES / "_helpers.tpl", TEMPLATES / "NOTES.txt"]:
        for ref in re.findall(r"\.Values\.([A-Za-z0-9_.]+)", path.read_text()):
            assert ref.rstrip(".") in known, f"{path.name}: .Values.{ref} is not in values.yaml"


def _webhook(name, kind):
    docs = [d for d in stripped_docs(name) if d["kind"] == kind]
    assert len(docs) == 1
    hooks = docs[0]["webhooks"]
    assert len(hooks) == 1
    return hooks[0], (TEMPLATES / name).read_text()


def _namespace_selector_ok(hook, helpers):
    # The selector comes from _helpers.tpl (included), so check the helper text.
    assert "ferry.namespaceSelector" in hook
    assert re.search(r"key: ferry.io/inject\s+operator: In\s+values: \[\"enabled\"\]", helpers)
    assert re.search(r"key: kubernetes.io/metadata.name\s+operator: NotIn", helpers)
    assert "has .Release.Namespace" in helpers and '"kube-system"' in helpers


def test_mutating_webhook_rules():
    hook, raw = _webhook("mutatingwebhook.yaml", "MutatingWebhookConfiguration")
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["rules"] == [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                              "resources": ["pods"], "scope": "Namespaced"}]
    assert hook["sideEffects"] == "None"
    assert hook["reinvocationPolicy"] == "IfNeeded"
    assert hook["matchPolicy"] == "Equivalent"
    assert hook["objectSelector"] == {"matchExpressions": [
        {"key": "ferry.io/inject", "operator": "NotIn", "values": ["false"]}]}
    assert "failurePolicy: {{ .Values.webhook.failurePolicy }}" in raw
    assert "timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}" in raw
    conditions = hook["matchConditions"]
    assert [c["name"] for c in conditions] == ["not-a-mirror-pod", "not-opted-out"]
    assert "kubernetes.io/config.mirror" in conditions[0]["expression"]
    assert "'ferry.io/inject'" in conditions[1]["expression"]
    assert '"/mutate"' in raw
    _namespace_selector_ok(raw, (TEMPLATES / "_helpers.tpl").read_text())


def test_validating_webhook_rules():
    hook, raw = _webhook("validatingwebhook.yaml", "ValidatingWebhookConfiguration")
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["rules"] == [{"apiGroups": [""], "apiVersions": ["v1"],
                              "operations": ["CREATE", "UPDATE"],
                              "resources": ["configmaps", "secrets"], "scope": "Namespaced"}]
    assert hook["sideEffects"] == "None"
    assert "object.metadata.name in" in hook["matchConditions"][0]["expression"]
    assert ".Values.config.datasetsConfigMap" in raw and ".Values.config.credentialsSecret" in raw
    assert '"/validate"' in raw
    _namespace_selector_ok(raw, (TEMPLATES / "_helpers.tpl").read_text())


def test_match_conditions_only_on_kubernetes_1_28_and_later():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    assert 'semverCompare ">=1.28.0-0" .Capabilities.KubeVersion.Version' in helpers
    for name in ("mutatingwebhook.yaml", "validatingwebhook.yaml"):
        raw = (TEMPLATES / name).read_text()
        block = raw[raw.index("matchConditions:") - 200:raw.index("matchConditions:")]
        assert 'include "ferry.matchConditionsSupported"' in block


def test_tls_modes():
    helpers = (TEMPLATES / "_helpers.tpl").read_text()
    assert "cert-manager.io/inject-ca-from" in helpers
    assert "caBundle: {{ required" in helpers
    cert = (TEMPLATES / "certificate.yaml").read_text()
    docs = stripped_docs("certificate.yaml")
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Issuer", "Certificate"]
    names = docs[1]["spec"]["dnsNames"]
    assert len(names) == 2 and names[0].endswith(".X.svc") and names[1].endswith(".svc.cluster.local")
    assert '{{- if eq .Values.tls.mode "cert-manager" }}' in cert


def test_service_and_deployment():
    service = stripped_docs("service.yaml")[0]
    assert service["spec"]["ports"] == [{"name": "https", "port": 443, "targetPort": "https",
                                         "protocol": "TCP"}]
    deployment = stripped_docs("deployment.yaml")[0]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["command"] == ["ferry-webhook"]
    assert container["ports"][0]["name"] == "https"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "https",
                                                      "scheme": "HTTPS"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "https",
                                                     "scheme": "HTTPS"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    args = " ".join(container["args"])
    assert mounts["tls"]["mountPath"] + "/tls.crt" in args
    assert mounts["config"]["mountPath"] + "/config.yaml" in args
    assert "subPath" not in json.dumps(mounts)
    assert "PodDisruptionBudget" in (TEMPLATES / "pdb.yaml").read_text()


def test_deployment_flags_are_accepted_by_ferry_webhook():
    flags_cc = ROOT / "webhook" / "flags.cc"
    if not flags_cc.exists():
        pytest.skip("webhook/flags.cc not present")
    accepted = set(re.findall(r'"(--[a-z-]+)"', flags_cc.read_text()))
    container = stripped_docs("deployment.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    for arg in container["args"]:
        flag = arg.split("=", 1)[0]
        assert flag in accepted, f"ferry-webhook does not know {flag}"
    for required in ("--tls-cert", "--tls-key", "--config", "--listen"):
        assert any(a.startswith(required + "=") for a in container["args"])


def _allowed_config_keys(config_cc, where):
    """Keys of one CheckKeys(node, <where>, {...}) call; `where` is its source text."""
    pattern = r'CheckKeys\(\w+,\s*%s,\s*\{([^}]*)\}' % re.escape(where)
    match = re.search(pattern, config_cc, re.S)
    assert match, f"CheckKeys for {where} not found in webhook/config.cc"
    return set(re.findall(r'"([A-Za-z]+)"', match.group(1)))


def test_config_file_keys_are_accepted_by_ferry_webhook():
    config_cc_path = ROOT / "webhook" / "config.cc"
    if not config_cc_path.exists():
        pytest.skip("webhook/config.cc not present")
    config_cc = config_cc_path.read_text()
    cm = stripped_docs("configmap.yaml")[0]
    config = yaml.safe_load(cm["data"]["config.yaml"])
    root_keys = _allowed_config_keys(config_cc, '""')
    assert set(config) <= root_keys
    assert set(config["sidecar"]) <= _allowed_config_keys(config_cc, '"sidecar"')
    raw = (TEMPLATES / "configmap.yaml").read_text()
    for optional in ("platformProfiles", "mutators"):
        assert optional + ":" in raw
        assert optional in root_keys
    # values.schema.json describes platform profiles as ferry-webhook reads them.
    profile = load_schema()["properties"]["config"]["properties"]["platformProfiles"]["items"]
    assert set(profile["properties"]) == _allowed_config_keys(config_cc, "where")
    assert set(profile["properties"]["match"]["properties"]) == _allowed_config_keys(
        config_cc, 'where + ".match"')
