"""What the apiserver does around a mutating webhook call (KUBERNETES.md §1-§3).

review()        wraps a pod in an AdmissionReview request as the apiserver sends it.
apply_answer()  checks the answer like VerifyAdmissionResponse and applies the JSON Patch with
                python3-jsonpatch (strict RFC 6902: a missing parent fails, as it would with a 500).
prune()         decodes non-strictly: fields unknown to the 1.35 OpenAPI schema vanish (a mistyped
                `mountPropogation` is silently lost in a real cluster) and are reported.
validate_pod()  the ValidatePod rules a ferry-injected pod can trip over.
"""
import base64
import copy
import json
import os
import uuid

import jsonpatch

SCHEMA_DIRS = [
    os.environ.get("FERRY_OPENAPI_DIR", ""),
    # vendored in the checkout (tests/testdata/k8s-openapi-1.35)
    os.path.join(os.path.dirname(__file__), "../../../testdata/k8s-openapi-1.35"),
]


class AdmissionError(Exception):
    pass


def review(pod, namespace="default", operation="CREATE", dry_run=False, api_version="v1"):
    return {
        "apiVersion": "admission.k8s.io/" + api_version,
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": pod,
            "oldObject": None,
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def apply_answer(request, answer):
    """Returns (mutated pod, response). Raises AdmissionError when the apiserver would fail."""
    req = request["request"]
    if answer.get("apiVersion") != request["apiVersion"] or answer.get("kind") != "AdmissionReview":
        raise AdmissionError("answer GVK %s/%s does not match the request" %
                             (answer.get("apiVersion"), answer.get("kind")))
    resp = answer.get("response")
    if not isinstance(resp, dict):
        raise AdmissionError("answer has no response")
    if resp.get("uid") != req["uid"]:
        raise AdmissionError("response uid %r != request uid %r" % (resp.get("uid"), req["uid"]))
    if ("patch" in resp) != ("patchType" in resp):
        raise AdmissionError("patch and patchType must come together")
    pod = copy.deepcopy(req["object"])
    if not resp.get("allowed"):
        msg = (resp.get("status") or {}).get("message") or "without explanation"
        raise AdmissionError("admission webhook denied the request: " + msg)
    if "patch" in resp:
        if resp["patchType"] != "JSONPatch":
            raise AdmissionError("patchType %r is not JSONPatch" % resp["patchType"])
        ops = json.loads(base64.b64decode(resp["patch"], validate=True))
        try:
            pod = jsonpatch.JsonPatch(ops).apply(pod)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
            raise AdmissionError("patch fails to apply (a 500 whatever the failurePolicy): %s" % e)
    return pod, resp


_schemas = None


def _load_schemas():
    global _schemas
    if _schemas is None:
        for d in SCHEMA_DIRS:
            p = os.path.join(d, "api_v1.json") if d else ""
            if p and os.path.exists(p):
                with open(p) as fh:
                    _schemas = json.load(fh)["components"]["schemas"]
                break
        else:
            raise FileNotFoundError("k8s-openapi-1.35/api_v1.json not found; set FERRY_OPENAPI_DIR")
    return _schemas


def _resolve(schema):
    schemas = _load_schemas()
    while True:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].split("/")[-1]]
        elif "allOf" in schema and len(schema["allOf"]) == 1 and not schema.get("properties"):
            schema = schema["allOf"][0]
        else:
            return schema


def _prune(value, schema, path, unknown):
    schema = _resolve(schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        if props is not None:
            out = {}
            for k, v in value.items():
                if k in props:
                    out[k] = _prune(v, props[k], path + "/" + k, unknown)
                else:
                    unknown.append(path + "/" + k)
            return out
        addl = schema.get("additionalProperties")
        if isinstance(addl, dict):
            return {k: _prune(v, addl, path + "/" + k, unknown) for k, v in value.items()}
        return value
    if isinstance(value, list) and "items" in schema:
        return [_prune(v, schema["items"], "%s/%d" % (path, i), unknown) for i, v in enumerate(value)]
    return value


def prune(pod):
    """Returns (pod without unknown fields, [JSON pointer of each dropped field])."""
    unknown = []
    out = _prune(pod, {"$ref": "#/components/schemas/io.k8s.api.core.v1.Pod"}, "", unknown)
    return out, unknown


def validate_pod(pod):
    """Returns a list of error strings (empty: the apiserver would accept the pod)."""
    errs = []
    spec = pod.get("spec", {})
    vols = [v.get("name") for v in spec.get("volumes", [])]
    if len(vols) != len(set(vols)):
        errs.append("spec.volumes: duplicate name")
    names = []
    for field in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(field, [])):
            where = "spec.%s[%d]" % (field, i)
            names.append(c.get("name"))
            privileged = (c.get("securityContext") or {}).get("privileged", False)
            if field == "containers" and "restartPolicy" in c:
                errs.append(where + ".restartPolicy: only init containers may set it")
            if field == "initContainers" and c.get("restartPolicy") not in (None, "Always"):
                errs.append(where + ".restartPolicy: must be Always")
            if field == "initContainers" and c.get("restartPolicy") != "Always":
                for k in ("startupProbe", "livenessProbe", "readinessProbe", "lifecycle"):
                    if k in c:
                        errs.append(where + "." + k + ": may not be set for init containers")
            paths = []
            for m in c.get("volumeMounts", []):
                paths.append(m.get("mountPath"))
                if m.get("name") not in vols:
                    errs.append(where + ".volumeMounts: volume %r not found" % m.get("name"))
                prop = m.get("mountPropagation")
                if prop not in (None, "None", "HostToContainer", "Bidirectional"):
                    errs.append(where + ".volumeMounts.mountPropagation: %r unsupported" % prop)
                if prop == "Bidirectional" and not privileged:
                    errs.append(where + ".volumeMounts.mountPropagation: Bidirectional mount "
                                "propagation is available only to privileged containers")
            if len(paths) != len(set(paths)):
                errs.append(where + ".volumeMounts: duplicate mountPath")
            sc = c.get("securityContext") or {}
            if sc.get("privileged") and sc.get("allowPrivilegeEscalation") is False:
                errs.append(where + ".securityContext: cannot set allowPrivilegeEscalation to "
                            "false and privileged to true")
    if len(names) != len(set(names)):
        errs.append("spec: duplicate container name")
    return errs
