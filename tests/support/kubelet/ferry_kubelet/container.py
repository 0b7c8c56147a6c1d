"""One container of an emulated pod: spec resolution (command, env, security, mounts), start
through `ferry-kubelet-run run`, exec into it (nsenter), probes and hooks."""
import json
import os
import re
import signal
import subprocess
import threading
import time

from .node import spawn

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PROPAGATION = {None: "rprivate", "None": "rprivate", "HostToContainer": "rslave",
               "Bidirectional": "rshared"}
_VAR = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")


def expand(s, env):
    """Kubernetes $(VAR) expansion; $$ escapes; unknown references stay as written."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return _VAR.sub(sub, s)


class Container:
    def __init__(self, pod, spec, kind):
        self.pod, self.spec, self.kind = pod, spec, kind  # kind: init | sidecar | app
        self.name = spec["name"]
        self.proc = None
        self.pid = None
        # Open fds on each run's PID namespace: they keep its inode from being reused by
        # another test's namespace (nsfs recycles inode numbers), so leftovers() can trust it.
        # A PID namespace reference keeps neither processes nor mounts alive.
        self.pidns_fds = []
        self.runs = 0
        self.exit_codes = []
        self.events = []  # (time, text): Started, Killed, FailedPostStartHook, ...
        self.started = threading.Event()  # startupProbe passed / postStart done (current run)
        self.start_time = None
        self.thread = None
        self.log_path = os.path.join(pod.logs_dir, self.name + ".log")

    # ---- spec resolution ----
    def env(self):
        pod, out = self.pod, {"PATH": DEFAULT_PATH, "HOSTNAME": self.pod.name, "HOME": "/root"}
        for src in self.spec.get("envFrom", []):
            prefix = src.get("prefix", "")
            for key, ref, store in (("configMapRef", "configMapRef", pod.configmaps),
                                    ("secretRef", "secretRef", pod.secrets)):
                if key in src:
                    data = store.get(src[ref]["name"])
                    if data is None and not src[ref].get("optional"):
                        raise pod.error("CreateContainerConfigError: %s %r not found" % (
                            key, src[ref]["name"]))
                    for k, v in (data or {}).items():
                        out[prefix + k] = v if isinstance(v, str) else v.decode()
        for e in self.spec.get("env", []):
            if "valueFrom" in e:
                out[e["name"]] = pod.value_from(e["valueFrom"], self)
            else:
                out[e["name"]] = expand(e.get("value", ""), out)
        return out

    def argv(self, env):
        cmd = self.spec.get("command")
        if not cmd:
            raise self.pod.error("container %r has no command: the emulator runs no images, "
                                 "so every container must say what it runs" % self.name)
        return [expand(a, env) for a in cmd + self.spec.get("args", [])]

    def launch_spec(self, rootfs):
        pod_sc = self.pod.spec.get("securityContext") or {}
        sc = self.spec.get("securityContext") or {}
        caps = sc.get("capabilities") or {}
        env = self.env()
        bin_dir = self.pod.node.paths.bin_dir
        mounts = []
        for vm in self.spec.get("volumeMounts", []):
            src = self.pod.volume_path(vm["name"])
            if vm.get("subPath"):
                src = os.path.join(src, expand(vm["subPath"], env))
            mounts.append({"source": src, "target": vm["mountPath"],
                           "propagation": PROPAGATION[vm.get("mountPropagation")],
                           "readonly": bool(vm.get("readOnly", False))})
        # The kubelet binds a per-container file at terminationMessagePath (KUBERNETES.md §9:
        # never under the Bidirectional path, or teardown fails with EBUSY).
        tml = self.spec.get("terminationMessagePath", "/dev/termination-log")
        tml_src = rootfs + ".termination-log"
        open(tml_src, "a").close()
        self.termination_log = tml_src
        mounts.append({"source": tml_src, "target": tml, "propagation": "rprivate",
                       "readonly": False})
        return {
            "node_mntns": self.pod.node.mntns, "sandbox_pid": self.pod.sandbox_pid,
            "rootfs": rootfs,
            "bin_dir": bin_dir if os.path.isdir(bin_dir) else "",
            "argv": self.argv(env), "env": ["%s=%s" % kv for kv in env.items()],
            "cwd": self.spec.get("workingDir", "/"),
            "uid": sc.get("runAsUser", pod_sc.get("runAsUser", 0)),
            "gid": sc.get("runAsGroup", pod_sc.get("runAsGroup", 0)),
            "privileged": bool(sc.get("privileged", False)),
            "cap_add": caps.get("add", []), "cap_drop": caps.get("drop", []),
            "no_new_privs": sc.get("allowPrivilegeEscalation") is False,
            "read_only_rootfs": bool(sc.get("readOnlyRootFilesystem", False)),
            "mounts": mounts,
        }

    # ---- lifecycle ----
    def launch(self):
        self.runs += 1
        self.started.clear()
        rootfs = os.path.join(self.pod.node.run_dir, "%s-%s-%d" % (self.pod.uid[:8], self.name,
                                                                   self.runs))
        spec = self.launch_spec(rootfs)
        spec_path = rootfs + ".json"
        with open(spec_path, "w") as fh:
            json.dump(spec, fh)
        with open(self.log_path, "ab") as fh:
            fh.write(b"--- run %d ---\n" % self.runs)
        self.proc, self.pid = spawn([self.pod.node.paths.launcher, "run", "--spec", spec_path],
                                    self.log_path)
        try:
            self.pidns_fds.append(os.open("/proc/%d/ns/pid" % self.pid, os.O_RDONLY))
        except OSError:
            pass  # already gone: nothing of it can be left either
        self.start_time = time.monotonic()
        self.event("Started (run %d, pid %d)" % (self.runs, self.pid))

    def pidns_inodes(self):
        return {os.fstat(fd).st_ino for fd in self.pidns_fds}

    def close_fds(self):
        for fd in self.pidns_fds:
            os.close(fd)
        self.pidns_fds = []

    def event(self, text):
        self.events.append((time.time(), text))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout=None):
        """Exit code of the current run (128+N: killed by signal N); None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self, sig):
        if self.running():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, deadline, min_kill_after=0.0):
        """SIGTERM, then SIGKILL at `deadline` (at least `min_kill_after` s from now)."""
        if not self.running():
            return
        self.kill(signal.SIGTERM)
        self.event("Killing (SIGTERM)")
        left = max(deadline - time.monotonic(), min_kill_after)
        if self.wait(left) is None:
            self.kill(signal.SIGKILL)
            self.event("Killing (SIGKILL after grace period)")
            if self.wait(10) is None:
                self.proc.kill()  # the launcher; PDEATHSIG takes the container with it
                self.proc.wait()

    def exec(self, argv, timeout=10, env=None):
        """kubectl exec: runs argv in the container's namespaces with its env; CompletedProcess."""
        if not self.running():
            raise self.pod.error("container %r is not running" % self.name)
        e = self.env() if env is None else env
        sc = self.spec.get("securityContext") or {}
        uid = sc.get("runAsUser", (self.pod.spec.get("securityContext") or {}).get("runAsUser", 0))
        cmd = ["nsenter", "-t", str(self.pid), "-m", "-n", "-p", "-u", "-i", "-r", "-w"]
        if uid:
            cmd += ["-S", str(uid), "-G", str(uid)]
        cmd += ["--", "/usr/bin/env", "-i"] + ["%s=%s" % kv for kv in e.items()] + list(argv)
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as ex:
            return subprocess.CompletedProcess(cmd, -1, ex.stdout or "", "timeout")

    def probe(self, probe):
        """One probe run: True on success."""
        if "exec" not in probe:
            raise self.pod.error("container %r: only exec probes are emulated" % self.name)
        r = self.exec(probe["exec"]["command"], timeout=probe.get("timeoutSeconds", 1))
        return r.returncode == 0

    def run_startup_probe(self, stop):
        """kubelet prober: first run at once, then every periodSeconds. True once it passes,
        False after failureThreshold failures, None if the container exited or `stop` is set."""
        p = self.spec.get("startupProbe")
        if not p:
            return True
        period, threshold = p.get("periodSeconds", 10), p.get("failureThreshold", 3)
        if stop.wait(p.get("initialDelaySeconds", 0)):
            return None
        failures = 0
        while self.running() and not stop.is_set():
            if self.probe(p):
                return True
            failures += 1
            if failures >= threshold:
                return False
            if stop.wait(period):
                return None
        return None

    def run_post_start(self):
        """Blocking postStart exec hook: True when absent or it exits 0."""
        hook = ((self.spec.get("lifecycle") or {}).get("postStart") or {})
        if not hook:
            return True
        if "exec" not in hook:
            raise self.pod.error("container %r: only exec postStart hooks are emulated" % self.name)
        # The kubelet puts no timeout on postStart (a hung hook keeps the container from
        # starting); the emulator gives up after the pod's start timeout.
        r = self.exec(hook["exec"]["command"], timeout=self.pod.start_timeout)
        if r.returncode != 0:
            self.event("FailedPostStartHook: exit %d: %s" % (r.returncode, r.stderr.strip()))
        return r.returncode == 0

    def termination_message(self):
        """What the last run wrote to its terminationMessagePath (kubectl describe shows it)."""
        try:
            with open(self.termination_log) as fh:
                return fh.read()
        except (AttributeError, FileNotFoundError):
            return ""

    def logs(self):
        try:
            with open(self.log_path, "rb") as fh:
                return fh.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
