"""A node: one mount namespace (held by `ferry-kubelet-run node`) standing for a Kubernetes node.

Its directory DIR (under /tmp on the real host) holds kubelet/ (bound onto itself and made shared
inside the node namespace, like /var/lib/kubelet on a systemd host), run/ (container roots) and
whatever the test puts there (e.g. data for local:// datasets). Every mount a pod makes lives in
the node namespace or below it, so nothing reaches the real host, and close() ends every process
it started (by PID) and removes DIR.
"""
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../.."))


class Paths:
    """Where the binaries are: FERRY_BUILD_DIR (default <source>/build)."""

    def __init__(self, build_dir=None):
        self.build_dir = os.path.abspath(build_dir or os.environ.get("FERRY_BUILD_DIR")
                                         or os.path.join(SOURCE_DIR, "build"))
        self.bin_dir = os.path.join(self.build_dir, "bin")
        self.launcher = os.path.join(self.build_dir, "tests", "ferry-kubelet-run")
        self.source_dir = SOURCE_DIR

    def binary(self, name):
        return os.path.join(self.bin_dir, name)

    def have(self, *names):
        return all(os.access(self.binary(n), os.X_OK) for n in names)


def spawn(args, log_path, stdin=subprocess.DEVNULL, timeout=10):
    """Starts args + [--report-fd N]; returns (Popen, reported pid)."""
    r, w = os.pipe()
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(args + ["--report-fd", str(w)], pass_fds=(w,), stdin=stdin,
                                stdout=log, stderr=subprocess.STDOUT)
    finally:
        os.close(w)
        log.close()
    try:
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                proc.kill()
                proc.wait()
                raise RuntimeError("%s did not report a pid in %ss" % (args[:2], timeout))
            chunk = os.read(r, 64)
            if not chunk:
                proc.wait()
                with open(log_path, "rb") as fh:
                    raise RuntimeError("%s failed (exit %s): %s" % (
                        " ".join(args[:2]), proc.returncode, fh.read().decode(errors="replace")))
            buf += chunk
        return proc, int(buf)
    finally:
        os.close(r)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False


def ns_inode(pid, ns):
    try:
        return os.stat("/proc/%d/ns/%s" % (pid, ns)).st_ino
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def parse_mountinfo(text):
    out = []
    for line in text.splitlines():
        pre, _, post = line.partition(" - ")
        f = pre.split()
        fstype, source = post.split()[:2]
        out.append({"id": int(f[0]), "parent": int(f[1]), "root": f[3],
                    "mountpoint": f[4].replace("\\040", " "), "options": f[5],
                    "optional": f[6:], "fstype": fstype, "source": source})
    return out


class Node:
    def __init__(self, paths=None, prefix="ferry-node-"):
        self.paths = paths or Paths()
        if not os.access(self.paths.launcher, os.X_OK):
            raise FileNotFoundError(self.paths.launcher + " missing: build ferry-kubelet-run")
        self.dir = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.kubelet_dir = os.path.join(self.dir, "kubelet")
        self.run_dir = os.path.join(self.dir, "run")
        os.makedirs(self.run_dir)
        self.pods = []
        self.proc, self.pid = spawn([self.paths.launcher, "node", "--dir", self.dir],
                                    os.path.join(self.dir, "node.log"), stdin=subprocess.PIPE)
        self.mntns = "/proc/%d/ns/mnt" % self.pid

    def mounts(self, under=None):
        """Mounts in the node namespace (optionally only those at or below `under`)."""
        with open("/proc/%d/mountinfo" % self.pid) as fh:
            ms = parse_mountinfo(fh.read())
        if under is None:
            return ms
        under = under.rstrip("/")
        return [m for m in ms if m["mountpoint"] == under or m["mountpoint"].startswith(under + "/")]

    def run(self, argv, **kw):
        """Runs argv in the node's mount namespace (host root)."""
        return subprocess.run(["nsenter", "--mount=" + self.mntns, "--"] + list(argv),
                              capture_output=True, text=True, **kw)

    def create_pod(self, pod, **kw):
        from .pod import Pod
        p = Pod(self, pod, **kw)
        self.pods.append(p)
        return p

    def close(self):
        errors = []
        for p in reversed(self.pods):
            try:
                p.destroy()
            except Exception as e:  # keep cleaning up
                errors.append(e)
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise errors[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
