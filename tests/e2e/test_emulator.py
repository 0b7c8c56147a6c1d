"""The kubelet emulator itself, with a hand-written pod (docs/pod-contract.md's shape) whose
"sidecar" is a shell script mounting tmpfs instead of FUSE. These pin the kernel semantics the
ferry scenarios rely on: if the emulator got propagation wrong, these fail."""
import os
import signal
import time

import pytest

from ferry_kubelet import atomic_writer

SIDECAR_SCRIPT = r"""
set -e
trap 'for d in /run/ferry/mnt/*/; do umount -l "$d" || true; done; exit 0' TERM
for n in $INITIAL; do
  mkdir -p /run/ferry/mnt/$n
  mount -t tmpfs -o size=1m $n /run/ferry/mnt/$n
  echo "bytes of $n" > /run/ferry/mnt/$n/file
done
touch /run/ferry/mnt/.ready
sleep 100000 & wait $!
"""

APP_SCRIPT = "trap 'exit 0' TERM; sleep 100000 & wait $!"


def make_pod(sidecar_prop="Bidirectional", app_prop="HostToContainer", initial="a"):
    sidecar_mount = {"name": "ferry-mnt", "mountPath": "/run/ferry/mnt"}
    if sidecar_prop:
        sidecar_mount["mountPropagation"] = sidecar_prop
    app_mount = {"name": "ferry-mnt", "mountPath": "/datasets", "readOnly": True}
    if app_prop:
        app_mount["mountPropagation"] = app_prop
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "emu-", "annotations": {"ferry.io/injected": "0.1.0"}},
        "spec": {
            "terminationGracePeriodSeconds": 5,
            "volumes": [
                {"name": "ferry-mnt", "emptyDir": {}},
                {"name": "ferry-config", "projected": {"defaultMode": 0o440, "sources": [
                    {"configMap": {"name": "ferry-datasets", "optional": True}},
                    {"secret": {"name": "ferry-credentials", "optional": True}}]}},
            ],
            "initContainers": [{
                "name": "ferry-sidecar", "restartPolicy": "Always",
                "command": ["sh", "-c", SIDECAR_SCRIPT],
                "env": [{"name": "INITIAL", "value": initial},
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "startupProbe": {"exec": {"command": ["test", "-e", "/run/ferry/mnt/.ready"]},
                                 "periodSeconds": 1, "failureThreshold": 10},
                "securityContext": {"privileged": True, "runAsUser": 0},
                "volumeMounts": [sidecar_mount,
                                 {"name": "ferry-config", "mountPath": "/etc/ferry",
                                  "readOnly": True}],
            }],
            "containers": [{
                "name": "app", "command": ["sh", "-c", APP_SCRIPT],
                "volumeMounts": [app_mount],
            }],
        },
    }


def ls(pod, container, path):
    r = pod.exec(container, ["ls", "-A", path])
    return sorted(r.stdout.split()) if r.returncode == 0 else None


def sidecar_mount_tmpfs(pod, name):
    r = pod.exec("ferry-sidecar", ["sh", "-c", "mkdir -p /run/ferry/mnt/{0} && mount -t tmpfs "
                                   "{0} /run/ferry/mnt/{0} && echo new > /run/ferry/mnt/{0}/file"
                                   .format(name)])
    assert r.returncode == 0, r.stderr


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def test_bidirectional_and_host_to_container_propagate_both_ways(node):
    pod = node.create_pod(make_pod(), configmaps={"ferry-datasets": {"datasets.yaml": "mounts: []\n"}})
    pod.start()
    assert ls(pod, "app", "/datasets") == [".ready", "a"]
    assert pod.exec("app", ["cat", "/datasets/a/file"]).stdout == "bytes of a\n"
    sidecar_mount_tmpfs(pod, "b")       # after the app started: only propagation shows it
    assert pod.exec("app", ["cat", "/datasets/b/file"]).stdout == "new\n"
    assert pod.exec("ferry-sidecar", ["sh", "-c", "umount /run/ferry/mnt/a"]).returncode == 0
    assert ls(pod, "app", "/datasets/a") == []   # the unmount propagated too
    # the app's view is read-only; the env and hostname come from the pod
    assert pod.exec("app", ["touch", "/datasets/x"]).returncode != 0
    assert pod.exec("ferry-sidecar", ["sh", "-c", "echo $POD; hostname"]).stdout.split() == \
        [pod.name, pod.name]
    pod.terminate()
    assert pod.leftovers() == {"processes": [], "fds": [], "mounts": [], "teardown_errors": []}


def test_sidecar_without_bidirectional_never_reaches_the_app(node):
    pod = node.create_pod(make_pod(sidecar_prop=None))
    pod.start()
    assert ls(pod, "ferry-sidecar", "/run/ferry/mnt/a") == ["file"]
    assert ls(pod, "app", "/datasets/a") == []   # the directory, not the mount
    assert node.mounts(under=pod.dir) == []


def test_app_without_host_to_container_misses_later_mounts(node):
    pod = node.create_pod(make_pod(app_prop=None))
    pod.start()
    assert pod.exec("app", ["cat", "/datasets/a/file"]).stdout == "bytes of a\n"  # rbind at start
    sidecar_mount_tmpfs(pod, "b")
    assert ls(pod, "ferry-sidecar", "/run/ferry/mnt/b") == ["file"]
    assert ls(pod, "app", "/datasets/b") == []


def test_bidirectional_needs_a_shared_source(node):
    data = os.path.join(node.dir, "private")
    os.makedirs(data)
    spec = make_pod()
    spec["spec"]["volumes"].append({"name": "p", "hostPath": {"path": data}})
    spec["spec"]["initContainers"][0]["volumeMounts"].append(
        {"name": "p", "mountPath": "/p", "mountPropagation": "Bidirectional"})
    pod = node.create_pod(spec)
    pod.start(wait=False)
    wait_for(lambda: pod["ferry-sidecar"].exit_codes, what="the container to fail")
    assert "is not a shared mount" in pod["ferry-sidecar"].logs()


def test_projected_volume_is_laid_out_like_the_atomic_writer(node):
    pod = node.create_pod(make_pod(), configmaps={"ferry-datasets": {"datasets.yaml": "v1"}},
                          secrets={"ferry-credentials": {"a.accessKeyId": "AK"}})
    pod.setup_volumes()
    vol = pod.volume_path("ferry-config")
    ts = os.readlink(os.path.join(vol, "..data"))
    assert ts.startswith("..") and os.path.isdir(os.path.join(vol, ts))
    assert os.readlink(os.path.join(vol, "datasets.yaml")) == "..data/datasets.yaml"
    assert os.stat(os.path.join(vol, "datasets.yaml")).st_mode & 0o777 == 0o440
    assert open(os.path.join(vol, "a.accessKeyId")).read() == "AK"
    assert pod.update_configmap("ferry-datasets", {"datasets.yaml": "v1"}) == []  # unchanged
    assert pod.update_configmap("ferry-datasets", {"datasets.yaml": "v2"}) == ["ferry-config"]
    ts2 = os.readlink(os.path.join(vol, "..data"))
    assert ts2 != ts and not os.path.exists(os.path.join(vol, ts))
    assert open(os.path.join(vol, "datasets.yaml")).read() == "v2"
    pod.update_secret("ferry-credentials", None)
    assert not os.path.lexists(os.path.join(vol, "a.accessKeyId"))
    ts3 = os.readlink(os.path.join(vol, "..data"))
    assert sorted(os.listdir(vol)) == sorted(["..data", ts3, "datasets.yaml"])


def test_startup_probe_gates_apps_and_failed_sidecars_restart(node):
    spec = make_pod()
    sc = spec["spec"]["initContainers"][0]
    # The first run never becomes ready; the second does.
    sc["command"] = ["sh", "-c", "if [ -e /run/ferry/mnt/.second ]; then touch /run/ferry/mnt/"
                     ".ready; else touch /run/ferry/mnt/.second; fi; trap 'exit 0' TERM; "
                     "sleep 100000 & wait $!"]
    sc["startupProbe"]["failureThreshold"] = 2
    pod = node.create_pod(spec)
    pod.start()
    assert pod["ferry-sidecar"].runs == 2
    assert pod["app"].runs == 1
    pod["ferry-sidecar"].kill(signal.SIGKILL)      # restartPolicy Always: comes back
    wait_for(lambda: pod["ferry-sidecar"].runs == 3 and pod["ferry-sidecar"].running(),
             what="the sidecar restart")
    assert pod["ferry-sidecar"].exit_codes[-1] == 128 + signal.SIGKILL


def test_job_completes_and_stops_its_sidecar(node):
    spec = make_pod()
    spec["spec"]["restartPolicy"] = "Never"
    spec["spec"]["containers"][0]["command"] = ["sh", "-c", "cat /datasets/a/file"]
    pod = node.create_pod(spec)
    pod.start()
    pod.wait_phase(("Succeeded", "Failed"))
    assert pod.phase == "Succeeded"
    assert "bytes of a" in pod["app"].logs()
    wait_for(lambda: not pod["ferry-sidecar"].running(), what="the sidecar to stop")


def test_sigkill_after_grace_period_and_nothing_left(node):
    spec = make_pod()
    spec["spec"]["terminationGracePeriodSeconds"] = 1
    spec["spec"]["containers"][0]["command"] = ["sh", "-c", "trap '' TERM; sleep 100000 & "
                                                "while :; do wait $!; done"]
    pod = node.create_pod(spec)
    pod.start()
    t0 = time.monotonic()
    pod.terminate()
    assert pod["app"].exit_codes[-1] == 128 + signal.SIGKILL
    assert pod["ferry-sidecar"].exit_codes[-1] == 0   # its trap unmounted and exited
    assert time.monotonic() - t0 < 5
    assert pod.leftovers()["processes"] == []
    assert pod.leftovers()["mounts"] == []


def test_atomic_writer_unchanged_payload_writes_nothing(tmp_path):
    assert atomic_writer.write(str(tmp_path), {"k": (b"v", 0o644)})
    assert not atomic_writer.write(str(tmp_path), {"k": (b"v", 0o644)})
    assert atomic_writer.write(str(tmp_path), {"k": (b"v", 0o600)})


def test_apiserver_drops_unknown_fields_and_rejects_bidirectional_for_apps():
    from ferry_kubelet import apiserver
    pod = make_pod()
    pod["spec"]["initContainers"][0]["volumeMounts"][0]["mountPropogation"] = "Bidirectional"
    pruned, unknown = apiserver.prune(pod)
    assert unknown == ["/spec/initContainers/0/volumeMounts/0/mountPropogation"]
    assert apiserver.validate_pod(pruned) == []
    pod = make_pod(app_prop="Bidirectional")
    assert "only to privileged" in " ".join(apiserver.validate_pod(pod))


def test_strict_json_patch_fails_on_missing_parent():
    import base64
    import json
    from ferry_kubelet import apiserver
    pod = make_pod()
    req = apiserver.review(pod)
    patch = [{"op": "add", "path": "/metadata/labels/x", "value": "y"}]  # no labels map
    answer = {"apiVersion": req["apiVersion"], "kind": "AdmissionReview", "response": {
        "uid": req["request"]["uid"], "allowed": True, "patchType": "JSONPatch",
        "patch": base64.b64encode(json.dumps(patch).encode()).decode()}}
    with pytest.raises(apiserver.AdmissionError, match="fails to apply"):
        apiserver.apply_answer(req, answer)
