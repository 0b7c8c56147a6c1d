#!/usr/bin/env python3
"""Idle RSS of `ferry-sidecar mount` after a large read: does the BlockPool
give its buffers back (cache_pool_idle)?

Starts nginx on 127.0.0.1 (free port) serving one file of --size MiB, then for
each configuration, --runs times, in alternating order: mounts the server with
`ferry-sidecar mount http://... DIR -f -o OPTS`, reads the file once with dd,
samples the daemon's VmRSS right after the read and again after --idle seconds
without I/O. Reference in the same run: cache_pool=0 (no pooled buffers).

  python3 bench/cache/idle_rss.py --build build-execpool --runs 3
Needs root (FUSE mount) and nginx-light.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def is_mount_point(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_nginx(root, work):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{ access_log off; sendfile on; client_body_temp_path {work}/tmp;
  server {{ listen 127.0.0.1:{port}; root {root}; autoindex on; }} }}
""")
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    p = subprocess.Popen(["nginx", "-p", work, "-c", conf, "-e", work + "/error.log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False
    wait_for(up, 10, "nginx")
    return p, port


def one_run(build, url, opts, idle, work):
    mnt = tempfile.mkdtemp(dir=work, prefix="mnt")
    log = open(os.path.join(work, "sidecar.log"), "a")
    p = subprocess.Popen([os.path.join(build, "bin/ferry-sidecar"), "mount", url, mnt, "-f", "-o", opts],
                         stdout=log, stderr=log)
    try:
        wait_for(lambda: is_mount_point(mnt) or p.poll() is not None, 30, "mount")
        if p.poll() is not None:
            raise RuntimeError("ferry-sidecar exited; see " + log.name)
        time.sleep(1)
        base = rss_kib(p.pid)
        t0 = time.monotonic()
        subprocess.run(["dd", f"if={mnt}/big", "of=/dev/null", "bs=1M"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        secs = time.monotonic() - t0
        after_read = rss_kib(p.pid)
        time.sleep(idle)
        after_idle = rss_kib(p.pid)
        return base, after_read, after_idle, secs
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        if is_mount_point(mnt):
            subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)
        log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--pool-idle", type=int, default=10, help="cache_pool_idle seconds")
    args = ap.parse_args()
    idle = args.pool_idle + 3  # the standalone mount checks every second
    work = tempfile.mkdtemp(prefix="ferry-idle-rss.")
    os.chmod(work, 0o755)
    root = os.path.join(work, "data")
    os.makedirs(root)
    os.chmod(root, 0o755)
    with open(os.path.join(root, "big"), "wb") as f:
        for _ in range(args.size):
            f.write(os.urandom(1 << 20))
    os.chmod(os.path.join(root, "big"), 0o644)
    nginx, port = start_nginx(root, work)
    url = f"http://127.0.0.1:{port}/"
    configs = [
        ("cache_pool=0 (reference: no pool)", "cache_pool=0"),
        ("pool 32Mi, cache_pool_idle=0 (never trimmed: before)", "cache_pool_idle=0"),
        (f"pool 32Mi, cache_pool_idle={args.pool_idle}s (this change)", f"cache_pool_idle={args.pool_idle}"),
    ]
    results = {name: [] for name, _ in configs}
    loads = []
    try:
        for r in range(args.runs):
            order = configs if r % 2 == 0 else list(reversed(configs))
            for name, opts in order:
                loads.append(os.getloadavg()[0])
                results[name].append(one_run(args.build, url, opts, idle, work))
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    ref = statistics.median(x[2] for x in results[configs[0][0]])
    print(f"{args.size} MiB file, nginx on loopback, {args.runs} runs, idle {idle} s; "
          f"load average (1 min) {min(loads):.1f}-{max(loads):.1f}")
    print("| configuration | RSS mounted | RSS after read | RSS after idle | idle / reference | read s |")
    print("|---|---|---|---|---|---|")
    for name, _ in configs:
        rs = results[name]

        def cell(i):
            v = [x[i] / 1024 for x in rs]
            return f"{statistics.median(v):.1f} MiB ({min(v):.1f}-{max(v):.1f})"
        idle_med = statistics.median(x[2] for x in rs)
        secs = statistics.median(x[3] for x in rs)
        print(f"| {name} | {cell(0)} | {cell(1)} | {cell(2)} | {idle_med / ref:.2f} | {secs:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
