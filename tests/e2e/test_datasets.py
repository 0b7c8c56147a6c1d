"""Scenarios 1, 3 and 4: datasets at start, live add/remove, a bad spec, 100 datasets + a burst."""
import gzip
import os

from ferry_env import example, wait_for


def kernel_has_fuse_passthrough():
    """Linux >= 6.9 built with CONFIG_FUSE_PASSTHROUGH (assumed when the config is unreadable)."""
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    if (major, minor) < (6, 9):
        return False
    for path, opener in (("/proc/config.gz", gzip.open), ("/boot/config-" + os.uname().release, open)):
        try:
            with opener(path, "rt") as f:
                return "CONFIG_FUSE_PASSTHROUGH=y" in f.read()
        except OSError:
            continue
    return True


def test_dataset_at_start_then_added_and_removed_live(ferry):
    fp = ferry(manifest=example("Deployment", "deployment.yaml"), initial=["a"],
               datasets=["a", "b"]).start()
    # The startupProbe gated the app: the bytes are there at its first look.
    assert fp.cat("/datasets/a/hello.txt") == "hello from a\n"
    assert fp.cat("/datasets/a/sub/n.txt") == "aaa"
    if kernel_has_fuse_passthrough():
        # A file of 1 MiB or more is read by passthrough: the unprivileged data
        # plane had the propagator register it (a refusal would turn
        # passthrough off for the dataset, and status.json would say so).
        big = "ferry" * (300 * 1024)
        with open(os.path.join(fp.data_dir, "a", "big.txt"), "w") as fh:
            fh.write(big)
        wait_for(lambda: fp.cat("/datasets/a/big.txt") == big, what="big.txt read in the app")
        wait_for(lambda: ((fp.status() or {}).get("datasets", {}).get("a", {})
                          .get("passthrough")), what="passthrough for a in status.json")
    running_app = fp.pod[fp.app].pid

    fp.set_datasets(["a", "b"])                      # the kubelet's ..data swap
    wait_for(lambda: fp.visible("b"), what="/datasets/b in the running app")
    fp.set_datasets(["b"])
    wait_for(lambda: "a" not in (fp.ls() or ["a"]), what="/datasets/a to disappear")
    assert fp.pod[fp.app].pid == running_app and fp.pod[fp.app].runs == 1  # no restart
    assert fp.cat("/datasets/a/hello.txt") is None
    assert [m["mountpoint"].rsplit("/", 1)[1] for m in fp.fuse_mounts()] == ["b"]
    st = wait_for(lambda: (s := fp.status()) and set(s["datasets"]) == {"b"} and s,
                  what="status.json to list only b")
    assert st["datasets"]["b"]["phase"] == "Mounted" and st["ready"] is True
    fp.pod.terminate()
    left = fp.pod.leftovers()
    assert left == {"processes": [], "fds": [], "mounts": [], "teardown_errors": []}, left


def test_bad_spec_keeps_working_mounts_and_reports_error(ferry):
    fp = ferry(initial=["a"]).start()
    assert fp.visible("a")
    before = wait_for(lambda: fp.status(), what="status.json")
    fp.pod.update_configmap("ferry-datasets", {"datasets.yaml": "mounts:\n- name: Bad_Name!\n"
                                                                "  source: ftp://nowhere\n"})
    st = wait_for(lambda: (s := fp.status()) and s.get("specError") and s,
                  what="specError in status.json")
    assert st["generation"] == before["generation"]
    assert st["datasets"]["a"]["phase"] == "Mounted"
    assert fp.visible("a")
    assert len(fp.fuse_mounts()) == 1
    # A good spec afterwards clears the error and applies.
    fp.set_datasets([])
    wait_for(lambda: (s := fp.status()) and not s.get("specError") and not s["datasets"],
             what="the next good spec")
    assert fp.fuse_mounts() == []


def test_hundred_datasets_and_fifty_edits_converge(ferry):
    names = ["d%03d" % i for i in range(150)]
    fp = ferry(initial=names[:100], datasets=names).start()
    assert len([n for n in fp.ls() if n.startswith("d")]) == 100
    assert fp.cat("/datasets/d099/hello.txt") == "hello from d099\n"
    for k in range(1, 51):                           # a burst: no waiting between edits
        fp.set_datasets(names[k:k + 100])
    final = names[50:150]
    wait_for(lambda: [n for n in (fp.ls() or []) if n.startswith("d")] == final, timeout=60,
             what="the final spec's 100 datasets", interval=0.2)
    assert fp.cat("/datasets/d149/hello.txt") == "hello from d149\n"
    assert fp.cat("/datasets/d000/hello.txt") is None
    mounted = sorted(m["mountpoint"].rsplit("/", 1)[1] for m in fp.fuse_mounts())
    assert mounted == final
    st = wait_for(lambda: (s := fp.status()) and sorted(s["datasets"]) == final and s,
                  what="status.json to match")
    assert all(d["phase"] == "Mounted" for d in st["datasets"].values())
