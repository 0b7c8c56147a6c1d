"""Scenario 2: without the mountPropagation the webhook writes, ferry must fail the way a real
cluster does. If one of these passes with the propagation left in, the emulator is broken (the
controls below check that the same steps do show the data when nothing is dropped)."""
import re

from ferry_env import wait_for
from ferry_kubelet.inject import drop_propagation


def test_sidecar_without_bidirectional_app_never_sees_data(ferry):
    fp = ferry(initial=["a"], patch=lambda p: drop_propagation(p, "ferry-sidecar"))
    fp.start(wait=False)
    sidecar = fp.pod["ferry-sidecar"]
    # The propagator notices that its mounts do not reach the pod and says so.
    wait_for(lambda: re.search(r"propagat", sidecar.logs(), re.I), timeout=30,
             what="the propagator to report the missing propagation")
    if sidecar.exit_codes:  # it gave up: the kubelet shows the reason as the termination message
        assert "Bidirectional" in sidecar.termination_message()
    if fp.pod[fp.app].running():
        assert not fp.visible("a")
        assert fp.ls("/datasets/a") in (None, [])
    assert fp.fuse_mounts() == []  # nothing reached the node


def test_app_without_host_to_container_misses_later_datasets(ferry):
    fp = ferry(initial=["a"], datasets=["a", "b"],
               patch=lambda p: drop_propagation(p, fp_app(p)))
    fp.start()
    assert fp.visible("a")  # mounted before the app started: the recursive bind shows it
    fp.set_datasets(["a", "b"])
    wait_for(lambda: fp.cat("/run/ferry/mnt/b/hello.txt", container="ferry-sidecar"),
             what="b mounted in the sidecar")
    wait_for(lambda: any(m["mountpoint"].endswith("/b") for m in fp.fuse_mounts()),
             what="b in the node")
    assert not fp.visible("b")


def test_control_with_propagation_sees_later_datasets(ferry):
    fp = ferry(initial=["a"], datasets=["a", "b"]).start()
    fp.set_datasets(["a", "b"])
    wait_for(lambda: fp.visible("b"), what="b in the app")


def fp_app(pod):
    return next(c["name"] for c in pod["spec"]["containers"] if c["name"] != "ferry-sidecar")
