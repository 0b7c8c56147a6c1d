"""From a user's manifest to the pod a kubelet would run: the pod template the controller
would create, sent through the real webhook as the apiserver does, checked like the apiserver."""
import copy

import yaml

from . import apiserver

TEMPLATE_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}


def load_manifests(path):
    with open(path) as fh:
        return [d for d in yaml.safe_load_all(fh) if d]


def find(docs, kind):
    return next((d for d in docs if d.get("kind") == kind), None)


def pod_from_manifest(doc):
    """The pod a controller makes from `doc` at admission time (generateName, no name/uid)."""
    kind = doc.get("kind")
    if kind == "Pod":
        pod = copy.deepcopy(doc)
    elif kind in TEMPLATE_KINDS or kind == "CronJob":
        spec = doc["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else doc["spec"]
        tmpl = copy.deepcopy(spec["template"])
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": tmpl.get("metadata") or {},
               "spec": tmpl["spec"]}
        pod["metadata"]["generateName"] = doc["metadata"]["name"] + "-"
    elif kind == "Service" and doc.get("apiVersion", "").startswith("serving.knative.dev"):
        tmpl = copy.deepcopy(doc["spec"]["template"])
        spec = tmpl["spec"]
        # Knative's revision Deployment: the user container is named user-container and
        # queue-proxy is appended (KUBERNETES.md §12).
        spec["containers"][0]["name"] = "user-container"
        spec["containers"].append({
            "name": "queue-proxy", "image": "gcr.io/knative-releases/queue",
            "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait $!"],
            "ports": [{"containerPort": 8012, "name": "http1"}]})
        meta = tmpl.get("metadata") or {}
        meta.setdefault("labels", {})["serving.knative.dev/service"] = doc["metadata"]["name"]
        meta["generateName"] = doc["metadata"]["name"] + "-00001-deployment-"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    else:
        raise ValueError("no pod template in a %s" % kind)
    pod["metadata"].pop("name", None) if kind != "Pod" else None
    spec = pod["spec"]
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    for field in ("initContainers", "containers"):
        for c in spec.get(field, []):
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", "IfNotPresent")
    pod.setdefault("status", {})
    return pod


class Injection:
    def __init__(self, request, answer, pod, response, unknown, errors):
        self.request, self.answer, self.pod, self.response = request, answer, pod, response
        self.unknown_fields, self.errors = unknown, errors

    def container(self, name):
        for field in ("initContainers", "containers"):
            for c in self.pod["spec"].get(field, []):
                if c["name"] == name:
                    return c
        raise KeyError(name)


def inject(webhook, pod, namespace="default"):
    """POSTs the pod to the webhook's /mutate and applies the answer like the apiserver: the
    patch strictly (RFC 6902), unknown fields pruned (listed in unknown_fields), ValidatePod
    errors in errors. Raises apiserver.AdmissionError on a deny or an unusable answer."""
    request = apiserver.review(pod, namespace)
    answer = webhook.mutate(request)
    mutated, response = apiserver.apply_answer(request, answer)
    pruned, unknown = apiserver.prune(mutated)
    return Injection(request, answer, pruned, response, unknown, apiserver.validate_pod(pruned))


def set_command(pod, container, argv):
    for field in ("initContainers", "containers"):
        for c in pod["spec"].get(field, []):
            if c["name"] == container:
                c["command"], c["args"] = list(argv), []
                return
    raise KeyError(container)


def add_host_dir(pod, container, host_path, mount_path, name="e2e-data", read_only=True):
    """Test-only: binds a node directory into one container (how local:// datasets get their
    data; ferry itself never adds hostPath volumes)."""
    pod["spec"].setdefault("volumes", []).append(
        {"name": name, "hostPath": {"path": host_path, "type": "Directory"}})
    for field in ("initContainers", "containers"):
        for c in pod["spec"].get(field, []):
            if c["name"] == container:
                c.setdefault("volumeMounts", []).append(
                    {"name": name, "mountPath": mount_path, "readOnly": read_only})
                return
    raise KeyError(container)


def drop_propagation(pod, container, volume="ferry-mnt"):
    """Removes mountPropagation from `container`'s mount of `volume` (scenario 2)."""
    for field in ("initContainers", "containers"):
        for c in pod["spec"].get(field, []):
            if c["name"] == container:
                for m in c.get("volumeMounts", []):
                    if m["name"] == volume:
                        m.pop("mountPropagation", None)
                        return
    raise KeyError(container)
