"""An emulated pod: volumes, sandbox and containers run as a kubelet would (docs/testing.md).

Native sidecars (initContainers with restartPolicy: Always) start first, in order; the next
container starts only once the sidecar's startupProbe passed (exec, run in the sidecar's
namespaces; failureThreshold exhausted -> the sidecar is killed and restarted). Sidecars are
restarted whenever they exit. Plain init containers run to completion. App containers start in
order, each after the previous one's postStart hook returned (legacy mode's gate). When every app
container is done (restartPolicy), the sidecars are stopped and the pod completes. terminate():
SIGTERM to apps, then to sidecars in reverse order, SIGKILL past the grace period.
"""
import copy
import os
import random
import shutil
import signal
import string
import subprocess
import threading
import time
import uuid

from . import atomic_writer
from .container import Container
from .node import ns_inode, pid_alive, spawn


class PodError(Exception):
    pass


class Pod:
    def __init__(self, node, pod, namespace="default", configmaps=None, secrets=None,
                 restart_backoff=0.2, start_timeout=60):
        self.node = node
        self.obj = copy.deepcopy(pod)
        meta = self.obj.setdefault("metadata", {})
        if not meta.get("name"):
            meta["name"] = meta.get("generateName", "pod-") + "".join(
                random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        meta["namespace"] = namespace
        meta["uid"] = str(uuid.uuid4())
        self.name, self.namespace, self.uid = meta["name"], namespace, meta["uid"]
        self.spec = self.obj["spec"]
        self.obj.setdefault("status", {})["podIP"] = "127.0.0.1"
        self.configmaps = dict(configmaps or {})   # the "API": name -> {key: str|bytes}
        self.secrets = dict(secrets or {})
        self.restart_backoff = restart_backoff
        self.start_timeout = start_timeout
        self.dir = os.path.join(node.kubelet_dir, "pods", self.uid)
        self.logs_dir = os.path.join(node.dir, "logs", self.name)
        os.makedirs(self.logs_dir, exist_ok=True)
        self.sandbox_proc = self.sandbox_pid = None
        self.sandbox_net = None
        self.sandbox_netns_fd = None
        self.lock = threading.Lock()
        self.stop_event = threading.Event()  # set when the pod terminates
        self.phase = "Pending"
        self.teardown_errors = []
        self.containers = {}
        self.init_order, self.sidecars, self.apps = [], [], []
        for c in self.spec.get("initContainers", []):
            kind = "sidecar" if c.get("restartPolicy") == "Always" else "init"
            self.init_order.append(self._add(Container(self, c, kind)))
            if kind == "sidecar":
                self.sidecars.append(self.containers[c["name"]])
        for c in self.spec.get("containers", []):
            self.apps.append(self._add(Container(self, c, "app")))

    def _add(self, c):
        self.containers[c.name] = c
        return c

    def error(self, msg):
        return PodError("pod %s: %s" % (self.name, msg))

    def __getitem__(self, name):
        return self.containers[name]

    def grace_seconds(self):
        return self.spec.get("terminationGracePeriodSeconds", 30)

    # ---- downward API and API objects ----
    def value_from(self, vf, container):
        meta = self.obj["metadata"]
        if "fieldRef" in vf:
            path = vf["fieldRef"]["fieldPath"]
            simple = {"metadata.name": meta["name"], "metadata.namespace": self.namespace,
                      "metadata.uid": self.uid, "spec.nodeName": "ferry-e2e-node",
                      "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
                      "status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1"}
            if path in simple:
                return simple[path]
            for field in ("labels", "annotations"):
                pre = "metadata.%s['" % field
                if path.startswith(pre) and path.endswith("']"):
                    return (meta.get(field) or {}).get(path[len(pre):-2], "")
            raise self.error("fieldRef %r is not emulated" % path)
        for ref, store in (("configMapKeyRef", self.configmaps), ("secretKeyRef", self.secrets)):
            if ref in vf:
                r = vf[ref]
                v = (store.get(r["name"]) or {}).get(r["key"])
                if v is None and not r.get("optional"):
                    raise self.error("CreateContainerConfigError: %s %s/%s not found" % (
                        ref, r["name"], r["key"]))
                return "" if v is None else (v if isinstance(v, str) else v.decode())
        return ""  # resourceFieldRef: not emulated

    # ---- volumes ----
    def volume(self, name):
        for v in self.spec.get("volumes", []):
            if v["name"] == name:
                return v
        raise self.error("volume %r not found" % name)

    def volume_path(self, name):
        v = self.volume(name)
        if "hostPath" in v:
            return v["hostPath"]["path"]
        kind = next(k for k in ("emptyDir", "projected", "configMap", "secret", "downwardAPI")
                    if k in v) if any(k in v for k in ("emptyDir", "projected", "configMap",
                                                          "secret", "downwardAPI")) else None
        if kind is None:
            raise self.error("volume %r: type not emulated (%s)" % (name, sorted(v)))
        plugin = {"emptyDir": "empty-dir", "projected": "projected", "configMap": "configmap",
                  "secret": "secret", "downwardAPI": "downward-api"}[kind]
        return os.path.join(self.dir, "volumes", "kubernetes.io~" + plugin, name)

    def _object_payload(self, store, name, items, optional, default_mode, what):
        data = store.get(name)
        if data is None:
            if optional:
                return {}
            raise self.error("FailedMount: %s %r not found" % (what, name))
        out = {}
        if items:
            for it in items:
                if it["key"] not in data:
                    if optional:
                        continue
                    raise self.error("FailedMount: %s %r has no key %r" % (what, name, it["key"]))
                out[it["path"]] = (data[it["key"]], it.get("mode", default_mode))
        else:
            out = {k: (v, default_mode) for k, v in data.items()}
        return {k: (v.encode() if isinstance(v, str) else v, m) for k, (v, m) in out.items()}

    def _payload(self, v):
        if "projected" in v:
            mode = v["projected"].get("defaultMode", 0o644)
            payload = {}
            for s in v["projected"].get("sources", []):
                if "configMap" in s:
                    c = s["configMap"]
                    payload.update(self._object_payload(self.configmaps, c["name"], c.get("items"),
                                                        c.get("optional", False), mode, "configmap"))
                elif "secret" in s:
                    c = s["secret"]
                    payload.update(self._object_payload(self.secrets, c["name"], c.get("items"),
                                                        c.get("optional", False), mode, "secret"))
                elif "serviceAccountToken" in s:
                    payload[s["serviceAccountToken"]["path"]] = (b"emulated-token", mode)
                elif "downwardAPI" in s:
                    for it in s["downwardAPI"].get("items", []):
                        payload[it["path"]] = (self.value_from(it, None).encode(),
                                               it.get("mode", mode))
            return payload
        if "configMap" in v:
            c = v["configMap"]
            return self._object_payload(self.configmaps, c["name"], c.get("items"),
                                        c.get("optional", False), c.get("defaultMode", 0o644),
                                        "configmap")
        if "secret" in v:
            c = v["secret"]
            return self._object_payload(self.secrets, c["secretName"], c.get("items"),
                                        c.get("optional", False), c.get("defaultMode", 0o644),
                                        "secret")
        return None

    def setup_volumes(self):
        for v in self.spec.get("volumes", []):
            path = self.volume_path(v["name"])
            if "hostPath" in v:
                if v["hostPath"].get("type") == "DirectoryOrCreate":
                    os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(path, exist_ok=True)
            if "emptyDir" in v:
                os.chmod(path, 0o777)
                continue
            atomic_writer.write(path, self._payload(v))

    def sync_volumes(self):
        """One kubelet sync: re-projects every ConfigMap/Secret volume. Returns written names."""
        written = []
        for v in self.spec.get("volumes", []):
            payload = self._payload(v)
            if payload is not None and atomic_writer.write(self.volume_path(v["name"]), payload):
                written.append(v["name"])
        return written

    def update_configmap(self, name, data):
        """Edits the API object (None deletes it) and syncs the volumes, as the kubelet would on
        its next sync. Returns the names of the volumes rewritten."""
        if data is None:
            self.configmaps.pop(name, None)
        else:
            self.configmaps[name] = dict(data)
        return self.sync_volumes()

    def update_secret(self, name, data):
        if data is None:
            self.secrets.pop(name, None)
        else:
            self.secrets[name] = dict(data)
        return self.sync_volumes()

    # ---- lifecycle ----
    def start(self, wait=True):
        """Creates volumes and sandbox, then starts containers in kubelet order. With wait, returns
        once every app container has started (postStart done); raises PodError on failure."""
        self.setup_volumes()
        self.sandbox_proc, self.sandbox_pid = spawn(
            [self.node.paths.launcher, "sandbox", "--hostname", self.name[:63]],
            os.path.join(self.logs_dir, "sandbox.log"), stdin=subprocess.PIPE)
        self.sandbox_netns_fd = os.open("/proc/%d/ns/net" % self.sandbox_pid, os.O_RDONLY)
        self.sandbox_net = os.fstat(self.sandbox_netns_fd).st_ino
        self.phase = "Pending"
        t = threading.Thread(target=self._run, name="pod-" + self.name, daemon=True)
        self.thread = t
        self._started = threading.Event()
        self._start_error = None
        t.start()
        if wait:
            self.wait_started()
        return self

    def wait_started(self, timeout=None):
        if not self._started.wait(timeout or self.start_timeout):
            raise self.error("not started after %ss; %s" % (timeout or self.start_timeout,
                                                              self.describe()))
        if self._start_error:
            raise self._start_error

    def _run(self):
        try:
            for c in self.init_order:
                if c.kind == "sidecar":
                    self._spawn_thread(c, lambda c=c: self._supervise_sidecar(c))
                    while not c.started.wait(0.05):
                        if self.stop_event.is_set():
                            raise self.error("terminated while starting")
                        if c.exit_codes[-3:] == [125] * 3:  # the runtime cannot create it
                            raise self.error("CreateContainerError: %s:\n%s" % (c.name,
                                                                                c.logs()[-2000:]))
                else:
                    self._run_init(c)
            self.phase = "Running"
            for c in self.apps:
                gate = threading.Event()
                self._spawn_thread(c, lambda c=c, gate=gate: self._supervise_app(c, gate))
                while not gate.wait(0.05):
                    if self.stop_event.is_set():
                        raise self.error("terminated while starting")
        except Exception as e:  # reported by wait_started()
            self._start_error = e if isinstance(e, PodError) else self.error(repr(e))
        finally:
            self._started.set()

    def _spawn_thread(self, c, fn):
        def guarded():
            try:
                fn()
            except Exception as e:  # surfaces in wait_started() / describe()
                c.event("emulator error: %r" % e)
                if self._start_error is None:
                    self._start_error = e if isinstance(e, PodError) else self.error(repr(e))
                self.stop_event.set()
        c.thread = threading.Thread(target=guarded, name="%s/%s" % (self.name, c.name), daemon=True)
        c.thread.start()

    def _launch_unless_stopping(self, c):
        with self.lock:
            if self.stop_event.is_set():
                return False
            c.launch()
            return True

    def _backoff(self, c):
        return self.stop_event.wait(min(self.restart_backoff * (2 ** min(c.runs - 1, 5)), 5))

    def _supervise_sidecar(self, c):
        while self._launch_unless_stopping(c):
            ok = c.run_post_start() and c.run_startup_probe(self.stop_event)
            if ok:
                c.started.set()
                c.event("Started: startupProbe passed")
            elif ok is False and c.running():
                c.event("Unhealthy: startupProbe failed %s times; restarting" %
                        c.spec["startupProbe"].get("failureThreshold", 3))
                c.stop(time.monotonic() + self.grace_seconds())
            code = c.wait()
            c.exit_codes.append(code)
            c.event("Exited %s" % code)
            if self.stop_event.is_set() or self._backoff(c):
                return

    def _run_init(self, c):
        policy = self.spec.get("restartPolicy", "Always")
        while True:
            if not self._launch_unless_stopping(c):
                raise self.error("terminated while running init container %s" % c.name)
            code = c.wait(self.start_timeout)
            if code is None:
                raise self.error("init container %s did not finish" % c.name)
            c.exit_codes.append(code)
            if code == 0:
                return
            if policy == "Never":
                self.phase = "Failed"
                raise self.error("init container %s failed with %d:\n%s" % (c.name, code, c.logs()))
            if self._backoff(c):
                raise self.error("terminated")

    def _supervise_app(self, c, gate):
        policy = self.spec.get("restartPolicy", "Always")
        while self._launch_unless_stopping(c):
            if c.run_post_start():
                c.started.set()
            else:
                c.stop(time.monotonic() + self.grace_seconds())  # FailedPostStartHook
            gate.set()
            code = c.wait()
            c.exit_codes.append(code)
            c.event("Exited %s" % code)
            if self.stop_event.is_set():
                return
            if policy == "Never" or (policy == "OnFailure" and code == 0):
                break
            if self._backoff(c):
                return
        gate.set()
        self._maybe_complete(c)

    def _maybe_complete(self, c):
        """`c` is done for good. Once every app container is, the pod completes and the native
        sidecars are stopped (they never block a Job)."""
        with self.lock:
            c.done = True
            if self.stop_event.is_set() or not all(getattr(a, "done", False) for a in self.apps):
                return
        codes = [a.exit_codes[-1] if a.exit_codes else None for a in self.apps]
        threading.Thread(target=self._complete, args=(codes,), daemon=True).start()

    def _complete(self, codes):
        self.stop_event.set()
        deadline = time.monotonic() + self.grace_seconds()
        for c in reversed(self.sidecars):
            c.stop(deadline, min_kill_after=2)
        self.phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"

    def wait_phase(self, phases, timeout=30):
        deadline = time.monotonic() + timeout
        while self.phase not in phases:
            if time.monotonic() > deadline:
                raise self.error("phase %s, wanted %s; %s" % (self.phase, phases, self.describe()))
            time.sleep(0.02)

    def terminate(self, grace=None):
        """Pod deletion: SIGTERM apps; after they exit (or the grace period ends: SIGKILL), the
        sidecars in reverse order (SIGKILL at the deadline, but at least 2 s after SIGTERM).
        Legacy pods (no native sidecar): every container at once. Then volume teardown."""
        grace = self.grace_seconds() if grace is None else grace
        with self.lock:
            self.stop_event.set()
        deadline = time.monotonic() + grace
        if self.sidecars:
            self._stop_all(self.apps, deadline)
            for c in reversed(self.sidecars):
                c.stop(deadline, min_kill_after=2)
        else:
            self._stop_all(self.apps, deadline)
        for c in self.containers.values():
            if c.thread is not None:
                c.thread.join(timeout=15)
        if self.phase in ("Pending", "Running"):
            self.phase = "Terminated"
        self._stop_sandbox()
        self._teardown()

    def _stop_all(self, containers, deadline):
        threads = [threading.Thread(target=c.stop, args=(deadline,)) for c in containers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _stop_sandbox(self):
        if self.sandbox_proc is not None and self.sandbox_proc.poll() is None:
            self.sandbox_proc.stdin.close()
            self.sandbox_proc.send_signal(signal.SIGTERM)
            try:
                self.sandbox_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sandbox_proc.kill()
                self.sandbox_proc.wait()

    def _teardown(self):
        """Volume teardown as the kubelet does it: a mount left in a volume makes it fail
        (device or resource busy / transport endpoint is not connected) and is recorded."""
        left = self.node.mounts(under=self.dir)
        for m in left:
            self.teardown_errors.append("unmounting volume: %s (%s) is still mounted: device or "
                                        "resource busy" % (m["mountpoint"], m["fstype"]))
        for m in sorted(left, key=lambda m: -len(m["mountpoint"])):
            self.node.run(["umount", "-l", m["mountpoint"]])
        shutil.rmtree(self.dir, ignore_errors=True)

    def destroy(self):
        """Test clean-up: terminate if needed, then make sure nothing of the pod is left."""
        if not self.stop_event.is_set() or self.sandbox_proc and self.sandbox_proc.poll() is None:
            self.terminate(grace=min(self.grace_seconds(), 5))
        for c in self.containers.values():
            if c.proc is not None and c.proc.poll() is None:
                c.kill(signal.SIGKILL)
                c.proc.kill()
                c.proc.wait()
            c.close_fds()
        if self.sandbox_netns_fd is not None:
            os.close(self.sandbox_netns_fd)
            self.sandbox_netns_fd = None

    # ---- inspection ----
    def exec(self, container, argv, timeout=10):
        return self.containers[container].exec(argv, timeout=timeout)

    def leftovers(self):
        """What the pod left behind: processes in its namespaces, fds into its directory,
        mounts below it in the node. Empty lists after a clean termination."""
        inodes = set()
        for c in self.containers.values():
            inodes |= c.pidns_inodes()
        procs, fds = [], []
        skip = {os.getpid(), self.node.pid, self.sandbox_pid}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in skip:
                continue
            pid = int(entry)
            if not pid_alive(pid):
                continue
            if ns_inode(pid, "pid") in inodes or (self.sandbox_net and
                                                 ns_inode(pid, "net") == self.sandbox_net):
                procs.append(pid)
            try:
                for fd in os.listdir("/proc/%d/fd" % pid):
                    target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                    if target.startswith(self.dir) or target.startswith(self.node.run_dir):
                        fds.append((pid, target))
            except (FileNotFoundError, PermissionError, ProcessLookupError):
                pass
        return {"processes": procs, "fds": fds,
                "mounts": [m["mountpoint"] for m in self.node.mounts(under=self.dir)],
                "teardown_errors": list(self.teardown_errors)}

    def describe(self):
        lines = ["pod %s phase %s" % (self.name, self.phase)]
        for c in self.containers.values():
            lines.append("  %s (%s) runs=%d exits=%s events=%s" % (
                c.name, c.kind, c.runs, c.exit_codes, [e[1] for e in c.events[-5:]]))
            log = c.logs().strip().splitlines()[-15:]
            lines += ["    | " + l for l in log]
        return "\n".join(lines)
