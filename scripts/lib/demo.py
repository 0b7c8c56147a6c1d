"""scripts/demo's story (see scripts/demo). Needs root and a build (FERRY_BUILD_DIR)."""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support", "kubelet"))

from ferry_kubelet import Node, Paths  # noqa: E402
from ferry_kubelet import inject as inj  # noqa: E402
from ferry_kubelet.webhook import Webhook  # noqa: E402

NAMESPACE = "team-a"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait $!"]
BOLD, DIM, GREEN, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[0m"
if not sys.stdout.isatty():
    BOLD = DIM = GREEN = RESET = ""


def step(text):
    print("\n%s▶ %s%s" % (BOLD, text, RESET), flush=True)


def say(text=""):
    print("  " + text.replace("\n", "\n  "), flush=True)


def shell(cmd, output):
    say("%s$ %s%s" % (DIM, cmd, RESET))
    say(output.rstrip() if output.strip() else "(empty)")


def wait_for(cond, timeout=30, interval=0.005):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("demo: timed out; see the logs in the work dir")
        time.sleep(interval)


def spec_yaml(names):
    return "mounts:\n" + "".join("- name: %s\n  source: local:///data/%s\n" % (n, n)
                                 for n in names) if names else "mounts: []\n"


def summarize(result):
    req_pod = result.request["request"]["object"]
    pod = result.pod
    ops = json.loads(__import__("base64").b64decode(result.response.get("patch", "") or "W10="))
    say("the webhook answered allowed=%s with a %d-op JSON Patch:" % (
        result.response.get("allowed"), len(ops)))
    for op in ops:
        say("  %s+ %s %s%s" % (GREEN, op["op"], op["path"], RESET))
    for w in result.response.get("warnings", []):
        say("  warning: " + w)
    sc = result.container("ferry-sidecar")
    where = "initContainers (native sidecar)" if sc.get("restartPolicy") == "Always" else \
        "containers[0] (legacy)"
    say("sidecar ferry-sidecar in %s: %s %s" % (where, " ".join(sc["command"]),
                                                " ".join(sc.get("args", []))))
    for m in sc["volumeMounts"]:
        say("  mounts %-13s at %-18s %s" % (m["name"], m["mountPath"],
                                            m.get("mountPropagation", "")))
    for c in pod["spec"]["containers"]:
        if c["name"] == "ferry-sidecar":
            continue
        m = next(m for m in c["volumeMounts"] if m["name"] == "ferry-mnt")
        say("app %s sees ferry-mnt at %s (%s, readOnly=%s)" % (
            c["name"], m["mountPath"], m.get("mountPropagation"), m.get("readOnly")))
    say("volumes added: %s" % ", ".join(v["name"] for v in pod["spec"]["volumes"]
                                        if v not in req_pod["spec"].get("volumes", [])))
    say("schema check (k8s 1.35): %s; pod validation: %s" % (
        "no unknown fields" if not result.unknown_fields else result.unknown_fields,
        "ok" if not result.errors else result.errors))


def main():
    keep = "--keep" in sys.argv
    paths = Paths()
    work = tempfile.mkdtemp(prefix="ferry-demo-")
    webhook = node = None
    try:
        step("1. Start ferry-webhook over TLS (a fresh test CA made with openssl)")
        webhook = Webhook(paths.binary("ferry-webhook"), work)
        say("listening on https://%s:%d (certificate verified against %s)" % (
            webhook.host, webhook.port, webhook.ca))

        step("2. A Deployment's pod goes through admission, as the apiserver sends it")
        manifest_path = os.path.join(ROOT, "examples", "deployment.yaml")
        manifest = inj.find(inj.load_manifests(manifest_path), "Deployment") \
            if os.path.exists(manifest_path) else None
        if manifest is None:
            raise SystemExit("demo: examples/deployment.yaml is missing")
        say("POST /mutate with the pod template of %s (namespace %s)" % (
            os.path.relpath(manifest_path, ROOT), NAMESPACE))
        result = inj.inject(webhook, inj.pod_from_manifest(manifest), NAMESPACE)
        summarize(result)
        injected = os.path.join(work, "injected-pod.json")
        with open(injected, "w") as fh:
            json.dump(result.pod, fh, indent=2)
        say("full injected pod: " + injected)
        missing = [b for b in ("ferry-propagator", "ferry-sidecar", "ferryctl")
                   if not paths.have(b)]
        if missing:
            step("The sidecar is not built yet (%s): the story stops here." % ", ".join(missing))
            return 0

        step("3. Run the pod with the kubelet emulator and a local:// dataset")
        node = Node(paths)
        data = os.path.join(node.dir, "data")
        for name, files in (("mnist", {"README.txt": "MNIST, 70000 handwritten digits\n",
                                        "train/labels.csv": "id,label\n0,5\n1,0\n"}),
                            ("imagenet-mini", {"README.txt": "ImageNet, a small slice\n",
                                               "val/n01440764.txt": "tench\n"})):
            for rel, content in files.items():
                os.makedirs(os.path.dirname(os.path.join(data, name, rel)), exist_ok=True)
                with open(os.path.join(data, name, rel), "w") as fh:
                    fh.write(content)
        pod_spec = result.pod
        app = next(c["name"] for c in pod_spec["spec"]["containers"]
                   if c["name"] != "ferry-sidecar")
        inj.set_command(pod_spec, app, SLEEPER)
        inj.add_host_dir(pod_spec, "ferry-sidecar", data, "/data")
        pod_spec["spec"]["terminationGracePeriodSeconds"] = 10
        say("ConfigMap ferry-datasets, key datasets.yaml:")
        say("  " + spec_yaml(["mnist"]).rstrip().replace("\n", "\n  "))
        pod = node.create_pod(pod_spec, namespace=NAMESPACE, configmaps={
            "ferry-datasets": {"datasets.yaml": spec_yaml(["mnist"])}})
        t0 = time.monotonic()
        pod.start()
        say("pod %s: sidecar started, startupProbe (ferryctl probe) passed, app %r started "
            "after %.2f s" % (pod.name, app, time.monotonic() - t0))
        ex = lambda *argv: pod.exec(app, list(argv)).stdout  # noqa: E731
        shell("kubectl exec %s -c %s -- ls /datasets" % (pod.name, app), ex("ls", "/datasets"))
        shell("kubectl exec ... -- cat /datasets/mnist/README.txt",
              ex("cat", "/datasets/mnist/README.txt"))

        step("4. Edit the ConfigMap: add imagenet-mini (the kubelet's ..data swap)")
        t0 = time.monotonic()
        pod.update_configmap("ferry-datasets",
                             {"datasets.yaml": spec_yaml(["mnist", "imagenet-mini"])})
        wait_for(lambda: pod.exec(app, ["cat", "/datasets/imagenet-mini/README.txt"])
                 .returncode == 0)
        say("visible in the running app %.0f ms after the swap (no restart)" % (
            (time.monotonic() - t0) * 1000))
        shell("kubectl exec ... -- ls /datasets", ex("ls", "/datasets"))

        step("5. Remove mnist")
        pod.update_configmap("ferry-datasets", {"datasets.yaml": spec_yaml(["imagenet-mini"])})
        wait_for(lambda: "mnist" not in ex("ls", "/datasets").split())
        shell("kubectl exec ... -- ls /datasets", ex("ls", "/datasets"))

        step("6. What the app can read about its datasets")
        shell("kubectl exec ... -- cat /datasets/.ferry/status.json",
              ex("cat", "/datasets/.ferry/status.json"))

        step("7. Delete the pod: SIGTERM to the app, then to the sidecar")
        pod.terminate()
        left = pod.leftovers()
        say("exit codes: %s" % ", ".join("%s=%s" % (c.name, c.exit_codes[-1])
                                         for c in pod.containers.values() if c.exit_codes))
        say("left behind: %d mounts, %d processes, %d open fds, volume teardown %s" % (
            len(left["mounts"]), len(left["processes"]), len(left["fds"]),
            "ok" if not left["teardown_errors"] else left["teardown_errors"]))
        ok = not any(left.values())
        step("Done: %s" % ("nothing left behind." if ok else "something was left behind!"))
        return 0 if ok else 1
    finally:
        if node is not None:
            node.close()
        if webhook is not None:
            webhook.stop()
        if keep:
            print("work dir kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM/SIGHUP (CI timeout, closed terminal) unwind like Ctrl-C, so main's
    # finally stops the pod, the webhook and removes the work dir.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    sys.exit(main())
