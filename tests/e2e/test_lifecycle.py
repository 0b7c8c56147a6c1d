"""Scenario 5 (SIGTERM, SIGKILL + restart) and the other workload shapes: Job, legacy mode,
Knative Service."""
import os
import re
import signal
import tempfile

import pytest
from conftest import require
from ferry_env import FerryPod, example, wait_for
from ferry_kubelet.webhook import Webhook

CLEAN = {"processes": [], "fds": [], "mounts": [], "teardown_errors": []}
# The app keeps a dataset file open across SIGTERM: the unmount must be lazy.
HOLDER = ["sh", "-c", "exec 3</datasets/a/hello.txt; trap 'exit 0' TERM; sleep 100000 & wait $!"]


def test_sigterm_leaves_no_mount_process_or_fd(ferry):
    fp = ferry(initial=["a", "b"], app_command=HOLDER).start()
    assert fp.visible("a") and fp.visible("b")
    assert len(fp.fuse_mounts()) == 2
    fp.pod.terminate()
    assert fp.pod["ferry-sidecar"].exit_codes[-1] in (0, 128 + signal.SIGTERM)
    left = fp.pod.leftovers()
    assert left == CLEAN, left


def test_restart_after_sigkill_sweeps_stale_mounts(ferry):
    fp = ferry(initial=["a"]).start()
    sidecar = fp.pod["ferry-sidecar"]
    assert fp.visible("a")
    sidecar.kill(signal.SIGKILL)  # the propagator (PID 1) and with it the data plane
    wait_for(lambda: sidecar.runs == 2 and sidecar.started.is_set(), timeout=30,
             what="the sidecar to restart and pass its startupProbe")
    assert sidecar.exit_codes[0] == 128 + signal.SIGKILL
    # (The probe may pass on the previous run's status.json before the new propagator has
    # logged anything, so wait for the sweep itself.)
    wait_for(lambda: re.search(r"\b[1-9]\d* stale mount", sidecar.logs()), timeout=30,
             what="the restarted propagator to sweep the stale mount")
    wait_for(lambda: fp.visible("a"), what="a served again")
    mounts = fp.fuse_mounts()
    assert [m["mountpoint"].rsplit("/", 1)[1] for m in mounts] == ["a"], mounts  # none stacked
    fp.pod.terminate()
    assert fp.pod.leftovers() == CLEAN


JOB_SCRIPT = """ls /datasets
for d in /datasets/*/; do
  echo "$d: $(find "$d" -type f | wc -l) files"
done
"""


def test_job_completes_with_native_sidecar(ferry):
    job = example("Job", "job.yaml") or {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "etl"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "etl", "image": "busybox", "command": ["sh", "-c", JOB_SCRIPT]}]}}}}
    fp = ferry(manifest=job, initial=["a"], app_command=None)  # the example's own command
    fp.start()
    fp.pod.wait_phase(("Succeeded", "Failed"), timeout=30)
    assert fp.pod.phase == "Succeeded", fp.pod.describe()
    assert "/datasets/a/: 2 files" in fp.pod[fp.app].logs()
    wait_for(lambda: not fp.pod["ferry-sidecar"].running(), what="the sidecar to be stopped")
    fp.pod.terminate()
    assert fp.pod.leftovers() == CLEAN


def test_knative_service_pod(ferry):
    ksvc = example("Service", "knative-service.yaml") or {
        "apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "hello"},
        "spec": {"template": {"spec": {"containers": [{"image": "ghcr.io/example/hello"}]}}}}
    fp = ferry(manifest=ksvc, initial=["a"])
    assert fp.app == "user-container"
    fp.start()
    assert fp.visible("a")
    fp.set_datasets([])
    wait_for(lambda: not fp.visible("a"), what="a to go away")
    fp.pod.terminate()
    assert fp.pod.leftovers() == CLEAN


@pytest.fixture
def legacy_webhook(paths):
    require(paths, "ferry-webhook", "ferry-propagator", "ferry-sidecar", "ferryctl")
    with tempfile.TemporaryDirectory(prefix="ferry-legacy-") as d:
        w = Webhook(paths.binary("ferry-webhook"), d, config_text="sidecar:\n  mode: legacy\n")
        try:
            yield w
        finally:
            w.stop()


def test_legacy_mode_pod(node, legacy_webhook):
    fp = FerryPod(node, legacy_webhook, initial=["a"], datasets=["a", "b"])
    spec = fp.pod_spec["spec"]
    assert not spec.get("initContainers")
    assert spec["containers"][0]["name"] == "ferry-sidecar"
    assert spec["containers"][0]["lifecycle"]["postStart"]["exec"]["command"][0] == "ferryctl"
    assert fp.pod_spec["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] \
        == fp.app
    fp.start()  # the app starts only after the blocking postStart returned
    assert fp.visible("a")
    fp.set_datasets(["a", "b"])
    wait_for(lambda: fp.visible("b"), what="b in the legacy pod's app")
    fp.pod.terminate()
    assert fp.pod.leftovers() == CLEAN
    assert os.path.isdir(node.dir)


# Regression: the emptyDir outlives a restarted container; the probe must not trust the old
# instance's status.json (the propagator marks it not ready at start).
def test_probe_after_restart_waits_for_the_new_instance(ferry):
    fp = ferry(initial=["a"]).start()
    sidecar = fp.pod["ferry-sidecar"]
    sidecar.kill(signal.SIGKILL)
    wait_for(lambda: sidecar.runs == 2 and sidecar.running(), interval=0.001,
             what="the restart")
    probe = sidecar.exec(sidecar.spec["startupProbe"]["exec"]["command"])
    if probe.returncode == 0:  # then the new data plane must already serve the dataset
        assert "serving local:///data/a" in sidecar.logs().split("--- run 2 ---")[1]
