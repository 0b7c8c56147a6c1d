"""Shared steps of the ferry scenarios: a pod template -> the real webhook -> the emulator."""
import json
import os
import time

from ferry_kubelet import inject as inj

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE_DIR, "examples")
NAMESPACE = "team-a"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait $!"]

FALLBACK_DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "trainer", "namespace": NAMESPACE},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "trainer"}},
             "template": {"metadata": {"labels": {"app": "trainer"}},
                          "spec": {"containers": [{"name": "trainer", "image": "python:3.12-slim",
                                                   "command": SLEEPER}]}}},
}


def example(kind, filename):
    """The first `kind` document of examples/<filename>, or None if it is not there yet."""
    path = os.path.join(EXAMPLES, filename)
    if not os.path.exists(path):
        return None
    return inj.find(inj.load_manifests(path), kind)


def spec_yaml(names, source_dir="/data"):
    if not names:
        return "mounts: []\n"
    return "mounts:\n" + "".join("- name: %s\n  source: local://%s/%s\n" % (n, source_dir, n)
                                 for n in names)


def wait_for(cond, timeout=20, what="condition", interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


class FerryPod:
    """One injected pod on `node`: datasets under <node>/data/<name> (bound read-only at /data
    in the sidecar), the ConfigMap ferry-datasets holding `spec_yaml(initial)`."""

    def __init__(self, node, webhook, manifest=None, initial=("a",), datasets=None,
                 app_command=SLEEPER, patch=None, grace=10):
        self.node = node
        self.data_dir = os.path.join(node.dir, "data")
        for name in datasets or initial:
            self.make_dataset(name)
        os.makedirs(self.data_dir, exist_ok=True)
        pod = inj.pod_from_manifest(manifest or FALLBACK_DEPLOYMENT)
        pod["spec"]["terminationGracePeriodSeconds"] = grace
        self.injection = inj.inject(webhook, pod, NAMESPACE)
        assert self.injection.unknown_fields == [], self.injection.unknown_fields
        assert self.injection.errors == [], self.injection.errors
        self.pod_spec = self.injection.pod
        self.app = next(c["name"] for c in self.pod_spec["spec"]["containers"]
                        if c["name"] != "ferry-sidecar")
        if app_command is not None:
            inj.set_command(self.pod_spec, self.app, app_command)
        inj.add_host_dir(self.pod_spec, "ferry-sidecar", self.data_dir, "/data")
        if patch:
            patch(self.pod_spec)
        self.pod = node.create_pod(self.pod_spec, namespace=NAMESPACE, configmaps={
            "ferry-datasets": {"datasets.yaml": spec_yaml(initial)}})

    def make_dataset(self, name, files=None):
        d = os.path.join(self.data_dir, name)
        os.makedirs(os.path.join(d, "sub"), exist_ok=True)
        for rel, content in (files or {"hello.txt": "hello from %s\n" % name,
                                       "sub/n.txt": name * 3}).items():
            with open(os.path.join(d, rel), "w") as fh:
                fh.write(content)
        return d

    def start(self, wait=True):
        self.pod.start(wait=wait)
        return self

    def set_datasets(self, names):
        return self.pod.update_configmap("ferry-datasets", {"datasets.yaml": spec_yaml(names)})

    def ls(self, path="/datasets", container=None):
        r = self.pod.exec(container or self.app, ["ls", "-A", path])
        return sorted(r.stdout.split()) if r.returncode == 0 else None

    def cat(self, path, container=None):
        r = self.pod.exec(container or self.app, ["cat", path])
        return r.stdout if r.returncode == 0 else None

    def status(self, container=None, path="/datasets/.ferry/status.json"):
        text = self.cat(path, container=container)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return None

    def sidecar_status(self):
        return self.status("ferry-sidecar", "/run/ferry/mnt/.ferry/status.json")

    def fuse_mounts(self):
        """FUSE mounts below the pod's ferry-mnt emptyDir, as the node sees them."""
        return [m for m in self.node.mounts(under=self.pod.volume_path("ferry-mnt"))
                if m["fstype"].startswith("fuse")]

    def visible(self, name):
        return self.cat("/datasets/%s/hello.txt" % name) == "hello from %s\n" % name
