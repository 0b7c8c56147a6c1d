#!/usr/bin/env python3
"""Writes the webhook's test pods (tests/testdata/pods/*.json) and example reviews
(tests/testdata/admission/*.json). Pods look as the apiserver hands them to a mutating
webhook: defaulted, generateName only (for controller pods), the ServiceAccount
plugin's kube-api-access volume and mounts, creationTimestamp null, status {}.
Run from anywhere: python3 tests/testdata/pods/generate.py"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ADMISSION = os.path.join(HERE, "..", "admission")
SA_VOL = "kube-api-access-x7k2p"
SA_MOUNT = {"name": SA_VOL, "readOnly": True,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}


def sa_volume():
    return {"name": SA_VOL, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}


def container(name, image="registry.example.com/ml/trainer:1.4.2", env=4, mounts=True,
              probes=True):
    c = {
        "name": name, "image": image,
        "command": ["python3", "-m", "trainer"],
        "args": ["--data=/datasets/imagenet", "--epochs=90", "--batch-size=256"],
        "env": [{"name": f"TRAINER_OPTION_{i}", "value": f"value-{i}"} for i in range(env)],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    if probes:
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
                               "timeoutSeconds": 1, "periodSeconds": 10,
                               "successThreshold": 1, "failureThreshold": 3}
    if mounts:
        c["volumeMounts"] = [dict(SA_MOUNT)]
    return c


def init_container(name, image="busybox:1.36", restart_always=False):
    c = {"name": name, "image": image, "command": ["sh", "-c", "echo init"],
         "resources": {}, "terminationMessagePath": "/dev/termination-log",
         "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
         "volumeMounts": [dict(SA_MOUNT)]}
    if restart_always:
        c["restartPolicy"] = "Always"
    return c


def pod(generate_name="trainer-7d9f8c6b5-", name=None, containers=None, labels=None,
        annotations=None, owner=None):
    meta = {"creationTimestamp": None}
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name
    meta["namespace"] = "ml-team"
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    if owner:
        meta["ownerReferences"] = [owner]
    return {
        "kind": "Pod", "apiVersion": "v1", "metadata": meta,
        "spec": {
            "volumes": [sa_volume()],
            "containers": containers or [container("trainer")],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "serviceAccount": "default", "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {},
    }


def rs_owner():
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "trainer-7d9f8c6b5",
            "uid": "6c1b2e8a-3f1d-4c2e-9a77-0d5f3c1e2b4a", "controller": True,
            "blockOwnerDeletion": True}


def deployment():
    """A realistic ~8 KB Deployment pod (the benchmark's pod)."""
    p = pod(labels={"app.kubernetes.io/name": "trainer", "app.kubernetes.io/part-of": "vision",
                    "pod-template-hash": "7d9f8c6b5", "team": "ml"},
            annotations={"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                         "kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z"},
            owner=rs_owner())
    p["spec"]["containers"] = [container("trainer", env=60), container(
        "metrics-exporter", image="registry.example.com/ops/exporter:2.1.0", env=24)]
    p["spec"]["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {
            "app.kubernetes.io/name": "trainer"}}, "topologyKey": "kubernetes.io/hostname"}}]}}
    p["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux", "node.example.com/pool": "gpu"}
    p["spec"]["volumes"].append({"name": "scratch", "emptyDir": {}})
    p["spec"]["containers"][0]["volumeMounts"].append({"name": "scratch", "mountPath": "/scratch"})
    return p


def bare():
    p = pod(name="debug-shell")
    del p["metadata"]["namespace"]  # request.namespace is authoritative (Fluid #1414)
    del p["spec"]["volumes"]
    p["spec"]["automountServiceAccountToken"] = False
    p["spec"]["containers"] = [container("shell", image="debian:12", mounts=False, probes=False,
                                         env=0)]
    del p["spec"]["containers"][0]["env"]
    return p


def with_init():
    p = pod(annotations={"ferry.io/init-containers": "warm-cache"})
    p["spec"]["initContainers"] = [init_container("migrate"), init_container("warm-cache")]
    return p


def istio_native():
    p = pod(labels={"security.istio.io/tlsMode": "istio"},
            annotations={"sidecar.istio.io/status": "{\"initContainers\":[\"istio-init\"]}"})
    p["spec"]["initContainers"] = [init_container("istio-init", "docker.io/istio/proxyv2:1.24.0"),
                                   init_container("istio-proxy", "docker.io/istio/proxyv2:1.24.0",
                                                  restart_always=True),
                                   init_container("db-migrate")]
    return p


def linkerd_native():
    p = pod(annotations={"linkerd.io/inject": "enabled"})
    p["spec"]["initContainers"] = [init_container("linkerd-init", "cr.l5d.io/linkerd/proxy-init:v2.4.1"),
                                   init_container("linkerd-proxy", "cr.l5d.io/linkerd/proxy:edge-24.11.1",
                                                  restart_always=True)]
    return p


def istio_legacy():
    p = pod(annotations={"sidecar.istio.io/status": "{}"})
    p["spec"]["initContainers"] = [init_container("istio-init", "docker.io/istio/proxyv2:1.20.0")]
    proxy = container("istio-proxy", "docker.io/istio/proxyv2:1.20.0", env=2, probes=False)
    p["spec"]["containers"] = [proxy, container("app")]
    return p


def job():
    p = pod(generate_name="nightly-train-28512345-",
            labels={"batch.kubernetes.io/job-name": "nightly-train-28512345",
                    "batch.kubernetes.io/controller-uid": "0b7d6a5e-8f4c-4a2b-9d1e-3c2b1a0f9e8d"},
            owner={"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-train-28512345",
                   "uid": "0b7d6a5e-8f4c-4a2b-9d1e-3c2b1a0f9e8d", "controller": True,
                   "blockOwnerDeletion": True})
    p["spec"]["restartPolicy"] = "Never"
    p["spec"]["containers"][0].pop("readinessProbe")
    return p


def knative():
    p = pod(generate_name="hello-00001-deployment-5c9f8d7b6-",
            labels={"serving.knative.dev/service": "hello", "serving.knative.dev/revision": "hello-00001",
                    "serving.knative.dev/configuration": "hello", "app": "hello-00001"},
            annotations={"autoscaling.knative.dev/min-scale": "0"})
    user = container("user-container", "registry.example.com/hello:1")
    user["env"].append({"name": "K_SERVICE", "value": "hello"})
    qp = container("queue-proxy", "gcr.io/knative-releases/queue:v1.16", env=3, probes=False)
    p["spec"]["containers"] = [user, qp]
    return p


def multi():
    p = pod()
    no_mounts = container("logger", "fluent/fluent-bit:3.1", mounts=False, probes=False)
    p["spec"]["containers"] = [container("trainer"), no_mounts, container("tensorboard",
                                                                          "tensorflow/tensorflow:2.17.0")]
    return p


def many():
    p = pod(generate_name="wide-")
    p["spec"]["containers"] = [container(f"worker-{i:03d}", env=2, probes=False) for i in range(100)]
    return p


def unicode_pod():
    return pod(labels={"app": "trainer"},
               annotations={"description": "Entraînement du modèle 模型训练 🚀",
                            "example.com/path": "/x/y",
                            "note": "quote \" backslash \\ tab \t"})


def nonroot():
    p = pod(labels={"app": "secure"})
    p["spec"]["securityContext"] = {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000,
                                    "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
    c = p["spec"]["containers"][0]
    c["securityContext"] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}}
    return p


def fargate():
    p = pod(labels={"eks.amazonaws.com/fargate-profile": "ml"})
    p["spec"]["schedulerName"] = "fargate-scheduler"
    return p


def virtual_kubelet():
    p = pod()
    p["spec"]["nodeSelector"] = {"type": "virtual-kubelet"}
    p["spec"]["tolerations"].append({"key": "virtual-kubelet.io/provider", "operator": "Exists"})
    return p


def host_users():
    p = pod()
    p["spec"]["hostUsers"] = False
    return p


def custom():
    p = pod(annotations={"ferry.io/mount-path": "/mnt/data", "ferry.io/datasets": "team-datasets",
                         "ferry.io/init-containers": "*"})
    p["spec"]["initContainers"] = [init_container("fetch")]
    return p


def clash_volume():
    p = pod()
    p["spec"]["volumes"].append({"name": "ferry-cache", "emptyDir": {}})
    return p


def clash_mount():
    p = pod()
    p["spec"]["volumes"].append({"name": "data", "emptyDir": {}})
    p["spec"]["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": "/datasets"})
    return p


def opt_out():
    return pod(annotations={"ferry.io/inject": "false"})


PODS = {
    "deployment": deployment, "bare": bare, "init-containers": with_init,
    "istio-native": istio_native, "linkerd-native": linkerd_native, "istio-legacy": istio_legacy,
    "job": job, "knative": knative, "multi-container": multi, "100-containers": many,
    "unicode": unicode_pod, "nonroot": nonroot, "fargate": fargate,
    "virtual-kubelet": virtual_kubelet, "host-users": host_users, "custom-annotations": custom,
    "clash-volume": clash_volume, "clash-mount": clash_mount, "opt-out": opt_out,
}


def review(version, uid, obj, operation="CREATE", resource="pods", kind="Pod", sub=None,
           old=None, ns="ml-team", name=None):
    req = {"uid": uid,
           "kind": {"group": "", "version": "v1", "kind": kind},
           "resource": {"group": "", "version": "v1", "resource": resource},
           "requestKind": {"group": "", "version": "v1", "kind": kind},
           "requestResource": {"group": "", "version": "v1", "resource": resource},
           "namespace": ns, "operation": operation,
           "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
                        "groups": ["system:serviceaccounts", "system:authenticated"]},
           "object": obj, "oldObject": old, "dryRun": False,
           "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}}
    if sub:
        req["subResource"] = sub
    if name:
        req["name"] = name
    return {"kind": "AdmissionReview", "apiVersion": f"admission.k8s.io/{version}", "request": req}


def main():
    for name, fn in PODS.items():
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump(fn(), f, indent=1, ensure_ascii=False)
            f.write("\n")
    os.makedirs(ADMISSION, exist_ok=True)
    dep = deployment()
    cm_ok = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "ferry-datasets", "namespace": "ml-team"},
             "data": {"datasets.yaml": "mounts:\n  - name: imagenet\n    source: s3://bucket/imagenet/\n"
                                       "    options: {region: us-east-1}\n    credentials: imagenet\n"}}
    cm_bad = copy.deepcopy(cm_ok)
    cm_bad["data"]["datasets.yaml"] = "mounts:\n  - name: imagenet\n    source: ftp://x/\n"
    secret_ok = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                 "metadata": {"name": "ferry-credentials", "namespace": "ml-team"},
                 "data": {"imagenet.accessKeyId": "QUtJQUVYQU1QTEU=",
                          "imagenet.secretAccessKey": "c2VjcmV0"}}
    secret_bad = copy.deepcopy(secret_ok)
    secret_bad["data"]["datasets.yaml"] = "bW91bnRzOiBbXQo="
    reviews = {
        "pod-create-v1": review("v1", "a1b2c3d4-0001-4000-8000-000000000001", dep),
        "pod-create-v1beta1": review("v1beta1", "a1b2c3d4-0002-4000-8000-000000000002", dep),
        "pod-update": review("v1", "a1b2c3d4-0003-4000-8000-000000000003", dep, operation="UPDATE",
                             old=dep, name="trainer-7d9f8c6b5-abcde"),
        "pod-delete": review("v1", "a1b2c3d4-0004-4000-8000-000000000004", None, operation="DELETE",
                             old=dep, name="trainer-7d9f8c6b5-abcde"),
        "pod-exec-connect": review("v1", "a1b2c3d4-0005-4000-8000-000000000005",
                                   {"kind": "PodExecOptions", "apiVersion": "v1", "stdin": True,
                                    "tty": True, "container": "trainer", "command": ["sh"]},
                                   operation="CONNECT", kind="PodExecOptions", sub="exec",
                                   name="trainer-7d9f8c6b5-abcde"),
        "pod-status-update": review("v1", "a1b2c3d4-0006-4000-8000-000000000006", dep,
                                    operation="UPDATE", sub="status", old=dep,
                                    name="trainer-7d9f8c6b5-abcde"),
        "pod-kube-system": review("v1", "a1b2c3d4-0007-4000-8000-000000000007", dep, ns="kube-system"),
        "configmap-valid": review("v1", "a1b2c3d4-0008-4000-8000-000000000008", cm_ok,
                                  resource="configmaps", kind="ConfigMap", name="ferry-datasets"),
        "configmap-invalid": review("v1", "a1b2c3d4-0009-4000-8000-000000000009", cm_bad,
                                    resource="configmaps", kind="ConfigMap", name="ferry-datasets"),
        "secret-valid": review("v1", "a1b2c3d4-0010-4000-8000-000000000010", secret_ok,
                               resource="secrets", kind="Secret", name="ferry-credentials"),
        "secret-datasets-key": review("v1", "a1b2c3d4-0011-4000-8000-000000000011", secret_bad,
                                      resource="secrets", kind="Secret", name="ferry-credentials"),
    }
    reviews["pod-create-dry-run"] = copy.deepcopy(reviews["pod-create-v1"])
    reviews["pod-create-dry-run"]["request"]["dryRun"] = True
    for name, r in reviews.items():
        with open(os.path.join(ADMISSION, name + ".json"), "w") as f:
            json.dump(r, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
