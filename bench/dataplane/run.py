#!/usr/bin/env python3
"""ferry vs s3fs vs rclone mount, next to direct curl GETs and the local disk.

One run starts s3rver and nginx on loopback serving the same data (a 1 GiB
file; 2,000 x 256 KiB files in 100 dirs) and measures, in that run, every tool
over every server it supports:

  cold sequential 1 GiB   page cache dropped, fresh mount, empty tool cache
  warm re-read            same mount again
  re-read, cache dropped  page cache dropped, tool cache kept
  small files 1 / 8 readers, cold (fresh mount, empty tool cache) and warm
  ls -lR cold / warm
  daemon CPU seconds per test and peak RSS (VmHWM) of the daemon

MB/s are decimal (10^6 B/s); each cell is the median of --runs repetitions
with the spread (min-max). The verdict compares ferry with the targets of
issue 5 as ratios within this run. Needs root (mounts, drop_caches, apt-get).
Every load is bounded in count and time; mounts and processes are cleaned up
by path and PID.

  python3 bench/dataplane/run.py --build build-cache --runs 3 --out bench/results/dataplane.md
"""
import argparse
import http.client
import mmap
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

GIB = 1 << 30  # size of the big file; --big-mib shrinks it for a smoke run
SMALL_FILES, SMALL_DIRS, SMALL_SIZE = 2000, 100, 256 << 10  # --small-files shrinks the count
BUCKET = "bench"
KEY = "S3RVER"  # s3rver's built-in credentials
S3RVER = "/opt/ferry-tools/node_modules/.bin/s3rver"
STEP_TIMEOUT = 900  # seconds, any single measured step
MEMORY_TIER = "256Mi"
MEMORY_TIER_BYTES = 256 << 20

started = []  # (kind, Popen) to stop by PID
mounts = []   # mountpoints to unmount by path


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def drop_caches(warm=()):
    """Drops the page cache, then re-reads the server's files under `warm`:
    "cold" means a cold client with a warm server, as in DATAPLANE.md §6."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    for top in warm:
        for d, _, names in os.walk(top):
            for n in names:
                read_file(os.path.join(d, n))


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return float("nan")


def is_mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


# ---------------------------------------------------------------- tools setup

def ensure_tools():
    missing = [p for p, b in (("s3fs", "s3fs"), ("rclone", "rclone")) if not shutil.which(b)]
    if missing:
        log(f"installing {' '.join(missing)} with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                       check=True, env=env, timeout=900)
    if not os.path.exists(S3RVER):
        sys.exit(f"{S3RVER} missing: run scripts/lib/common.sh install_npm_tools")


def make_data(data):
    os.makedirs(data, exist_ok=True)
    big = os.path.join(data, "big")
    if not os.path.exists(big) or os.path.getsize(big) != GIB:
        subprocess.run(["dd", "if=/dev/urandom", f"of={big}", "bs=1M", f"count={GIB >> 20}",
                        "iflag=fullblock", "status=none"], check=True, timeout=600)
    files = []
    for i in range(SMALL_FILES):
        rel = f"small/d{i % SMALL_DIRS:03d}/f{i:04d}"
        p = os.path.join(data, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if not os.path.exists(p) or os.path.getsize(p) != SMALL_SIZE:
            with open(p, "wb") as f:
                f.write(os.urandom(SMALL_SIZE))
        files.append(rel)
    os.sync()
    return files


def start(kind, cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=kw.pop("stderr", subprocess.DEVNULL),
                         **kw)
    started.append((kind, p))
    return p


def start_s3rver(work, data, files):
    port = free_port()
    # s3rver 3.7.1 makes continuation tokens with DES, which node's OpenSSL 3
    # refuses without the legacy provider: every truncated listing would fail.
    start("s3rver", [S3RVER, "--directory", data + ".s3rver", "--address", "127.0.0.1",
                     "--port", str(port), "--silent"],
          env=dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider"))
    wait_for(lambda: port_open(port), "s3rver")
    conn = [http.client.HTTPConnection("127.0.0.1", port, timeout=120)]

    def req(method, path, body=None):
        for attempt in range(2):  # s3rver closes idle keep-alive connections: reconnect once
            try:
                conn[0].request(method, path, body=body,
                                headers={"Content-Length": str(len(body or b""))})
                r = conn[0].getresponse()
                r.read()
                return r.status
            except (http.client.HTTPException, OSError):
                conn[0].close()
                conn[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                if attempt == 1:
                    raise

    req("PUT", f"/{BUCKET}")
    # The last file uploaded marks a complete upload.
    if req("HEAD", f"/{BUCKET}/{files[-1]}") != 200:
        log("uploading the data set to s3rver (once)")
        # Python's http.client loses the connection on a 1 GiB body; curl streams it.
        subprocess.run(["curl", "-sf", "-o", "/dev/null", "-T", os.path.join(data, "big"),
                        f"http://127.0.0.1:{port}/{BUCKET}/big"], check=True, timeout=STEP_TIMEOUT)
        # s3rver omits prefixes holding only subdirectories from a delimiter
        # listing: marker objects make every directory visible.
        req("PUT", f"/{BUCKET}/small/", b"")
        for d in range(SMALL_DIRS):
            req("PUT", f"/{BUCKET}/small/d{d:03d}/", b"")
        for rel in files:
            with open(os.path.join(data, rel), "rb") as f:
                req("PUT", f"/{BUCKET}/{rel}", f.read())
    conn[0].close()
    return port


def start_nginx(work, data):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx.err;
events {{ worker_connections 256; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port};
    root {data};
    location / {{ autoindex on; }}
  }}
}}
""")
    start("nginx", ["nginx", "-c", conf, "-g", "daemon off;"])
    wait_for(lambda: port_open(port), "nginx")
    return port


# ---------------------------------------------------------------- mounts

class Mount:
    """One tool mounted over one server; `pid` is the daemon's."""

    def __init__(self, tool, server, base_url, build, work, extra):
        self.tool, self.server, self.base_url = tool, server, base_url
        self.build, self.work, self.extra = build, work, extra
        self.dir = os.path.join(work, f"mnt-{tool}-{server}")
        self.cache = os.path.join(work, f"cache-{tool}-{server}")
        self.proc = None
        self.warm = ()  # the server's files, re-read after every drop_caches

    def command(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=KEY)
        env.pop("AWS_CA_BUNDLE", None)  # rclone's SDK refuses it with its own transport; loopback is plain HTTP
        if self.tool == "ferry":
            src = f"s3://{BUCKET}/" if self.server == "s3rver" else self.base_url + "/"
            opts = [f"cache_memory={MEMORY_TIER}", f"cache_dir={self.cache}", "cache_disk=4Gi"]
            if self.server == "s3rver":
                opts += [f"endpoint={self.base_url}", "style=path"]
            opts += self.extra
            return [os.path.join(self.build, "bin", "ferry-sidecar"), "mount", src, self.dir, "-f",
                    "-o", ",".join(opts)], env
        if self.tool == "s3fs":
            passwd = os.path.join(self.work, "s3fs.passwd")
            with open(passwd, "w") as f:
                f.write(f"{KEY}:{KEY}\n")
            os.chmod(passwd, 0o600)
            return ["s3fs", BUCKET, self.dir, "-f", "-o",
                    f"url={self.base_url},use_path_request_style,passwd_file={passwd},"
                    f"use_cache={self.cache},allow_other,ro"], env
        if self.tool == "rclone":
            common = ["--vfs-cache-mode", "full", "--cache-dir", self.cache, "--read-only",
                      "--allow-other", "--config", "/dev/null"]
            if self.server == "s3rver":
                return ["rclone", "mount", f":s3:{BUCKET}", self.dir, "--s3-provider", "Other",
                        "--s3-endpoint", self.base_url, "--s3-access-key-id", KEY,
                        "--s3-secret-access-key", KEY, "--s3-force-path-style=true", *common], env
            return ["rclone", "mount", ":http:", self.dir, "--http-url", self.base_url + "/",
                    *common], env
        raise ValueError(self.tool)

    def up(self, fresh):
        if fresh:
            shutil.rmtree(self.cache, ignore_errors=True)
        os.makedirs(self.cache, exist_ok=True)
        os.makedirs(self.dir, exist_ok=True)
        cmd, env = self.command()
        errlog = open(os.path.join(self.work, f"{self.tool}-{self.server}.log"), "ab")
        self.proc = start(self.tool, cmd, env=env, stderr=errlog)
        mounts.append(self.dir)
        wait_for(lambda: is_mounted(self.dir) or self.proc.poll() is not None, f"{self.tool} mount",
                 timeout=60)
        if not is_mounted(self.dir):
            raise RuntimeError(f"{self.tool} exited with {self.proc.returncode} "
                               f"(see {self.work}/{self.tool}-{self.server}.log)")

    def down(self):
        if is_mounted(self.dir):
            subprocess.run(["fusermount3", "-u", self.dir], stderr=subprocess.DEVNULL, timeout=60)
            if is_mounted(self.dir):
                subprocess.run(["fusermount", "-u", self.dir], stderr=subprocess.DEVNULL, timeout=60)
            if is_mounted(self.dir):
                subprocess.run(["umount", "-l", self.dir], timeout=60)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        if self.dir in mounts:
            mounts.remove(self.dir)


# ---------------------------------------------------------------- workloads

_bufs = threading.local()


def read_file(path, bufsize=1 << 20):
    """Reads `path` to the end into one reused, page-aligned buffer per thread,
    as a careful C reader would. A fresh 1 MiB bytes object per read() costs
    the reader an mmap, page faults and a munmap per call; a bytearray sits at
    malloc's 16-byte offset, where the kernel's copy out of the page cache runs
    5x slower on this CPU (4 KiB aliasing: 2.1 GB/s instead of 10.8 GB/s from
    a warm local file). Either would charge the reader to the tool under test."""
    buf = getattr(_bufs, "buf", None)
    if buf is None or len(buf) != bufsize:
        buf = _bufs.buf = memoryview(mmap.mmap(-1, bufsize))
    n = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            got = f.readinto(buf)
            if not got:
                return n
            n += got


def dd_big(root):
    t = time.monotonic()
    n = read_file(os.path.join(root, "big"))
    dt = time.monotonic() - t
    if n != GIB:
        raise RuntimeError(f"read {n} bytes of big, want {GIB}")
    return n / dt / 1e6


def small_files(root, files, readers):
    t = time.monotonic()
    with ThreadPoolExecutor(readers) as ex:
        total = sum(ex.map(lambda rel: read_file(os.path.join(root, rel)), files))
    dt = time.monotonic() - t
    if total != len(files) * SMALL_SIZE:
        raise RuntimeError(f"small files: read {total} bytes")
    return total / dt / 1e6


def ls_lr(root):
    t = time.monotonic()
    subprocess.run(["ls", "-lR", root], stdout=subprocess.DEVNULL, check=True, timeout=STEP_TIMEOUT)
    return time.monotonic() - t


def curl_big(url):
    out = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                          url], capture_output=True, text=True, check=True, timeout=STEP_TIMEOUT)
    size, secs = out.stdout.split()
    if int(float(size)) != GIB:
        raise RuntimeError(f"curl got {size} bytes")
    return GIB / float(secs) / 1e6


def curl_many(urls, streams, work):
    cfg = os.path.join(work, "curl.cfg")
    with open(cfg, "w") as f:
        for u in urls:
            f.write(f'url = "{u}"\noutput = "/dev/null"\n')
    cmd = ["curl", "-sf", "--no-progress-meter", "-K", cfg]
    if streams > 1:
        cmd[1:1] = ["-Z", "--parallel-max", str(streams)]
    t = time.monotonic()
    subprocess.run(cmd, check=True, timeout=STEP_TIMEOUT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return len(urls) * SMALL_SIZE / (time.monotonic() - t) / 1e6


# ---------------------------------------------------------------- driver

ROWS = [  # (key, label, unit)
    ("big_cold", "1 GiB sequential, cold", "MB/s"),
    ("big_warm", "1 GiB re-read, warm", "MB/s"),
    ("big_dropped", "1 GiB re-read, page cache dropped", "MB/s"),
    ("small1_cold", "2,000 small files, cold, 1 reader", "MB/s"),
    ("small1_warm", "2,000 small files, warm, 1 reader", "MB/s"),
    ("small8_cold", "2,000 small files, cold, 8 readers", "MB/s"),
    ("small8_warm", "2,000 small files, warm, 8 readers", "MB/s"),
    ("ls_cold", "`ls -lR`, cold", "s"),
    ("ls_warm", "`ls -lR`, warm", "s"),
]


def measure(m, files, results, cpu, rss):
    """All rows for one mounted tool; records MB/s (or s) and daemon CPU s."""
    warm = m.warm

    def step(key, fn):
        c0 = cpu_seconds(m.proc.pid)
        v = fn()
        results.setdefault(key, []).append(v)
        cpu.setdefault(key, []).append(cpu_seconds(m.proc.pid) - c0)

    drop_caches(warm)
    m.up(fresh=True)
    step("big_cold", lambda: dd_big(m.dir))
    rss.append(peak_rss_mb(m.proc.pid))
    step("big_warm", lambda: dd_big(m.dir))
    drop_caches(warm)
    step("big_dropped", lambda: dd_big(m.dir))
    m.down()
    for readers in (1, 8):
        drop_caches(warm)
        m.up(fresh=True)
        step(f"small{readers}_cold", lambda: small_files(m.dir, files, readers))
        step(f"small{readers}_warm", lambda: small_files(m.dir, files, readers))
        m.down()
    drop_caches(warm)
    m.up(fresh=True)
    step("ls_cold", lambda: ls_lr(m.dir))
    step("ls_warm", lambda: ls_lr(m.dir))
    m.down()


def measure_local(data, files, results):
    drop_caches()
    results.setdefault("big_cold", []).append(dd_big(data))
    results.setdefault("big_warm", []).append(dd_big(data))
    for readers in (1, 8):
        drop_caches()
        results.setdefault(f"small{readers}_cold", []).append(small_files(data, files, readers))
        results.setdefault(f"small{readers}_warm", []).append(small_files(data, files, readers))
    drop_caches()
    results.setdefault("ls_cold", []).append(ls_lr(data))
    results.setdefault("ls_warm", []).append(ls_lr(data))


def cell(vals, unit):
    vals = [v for v in vals if v == v]
    if not vals:
        return ""
    med = statistics.median(vals)
    fmt = (lambda v: f"{v:,.0f}") if unit == "MB/s" else (lambda v: f"{v:.2f}")
    return f"{fmt(med)} ({fmt(min(vals))}-{fmt(max(vals))})" if len(vals) > 1 else fmt(med)


def med(vals):
    vals = [v for v in vals if v == v]
    return statistics.median(vals) if vals else float("nan")


def report(args, servers, cols, direct, errors):
    out = [f"# Data plane: ferry vs s3fs vs rclone mount ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
           "",
           f"Command: `python3 bench/dataplane/run.py --build {args.build} --runs {args.runs}`  ",
           f"Machine: {platform.node()}, {os.cpu_count()} CPUs, kernel {platform.release()}; "
           f"ferry memory tier {MEMORY_TIER}, disk tier on the work dir. Data: a {GIB >> 20} MiB "
           f"file, {SMALL_FILES} x 256 KiB files in {SMALL_DIRS} dirs. MB/s = 10^6 B/s, "
           "median (min-max) of the runs; CPU = daemon user+sys seconds for that step.", ""]
    for server in servers:
        d = direct[server]
        out += [f"## {server}", "",
                f"Direct curl: 1 GiB GET {cell(d.get('big', []), 'MB/s')} MB/s; 2,000 x 256 KiB, "
                f"1 stream {cell(d.get('small1', []), 'MB/s')} MB/s, 8 streams "
                f"{cell(d.get('small8', []), 'MB/s')} MB/s.", ""]
        tools = [t for t in cols if isinstance(t, tuple) and t[1] == server]
        out.append("| test | " + " | ".join(f"{t} | {t} CPU s" for t, _ in tools) + " | local disk |")
        out.append("|---" * (2 * len(tools) + 2) + "|")
        for key, label, unit in ROWS:
            row = [f"{label} ({unit})"]
            for t in tools:
                r, c = cols[t]["results"], cols[t]["cpu"]
                row += [cell(r.get(key, []), unit), cell(c.get(key, []), "s")]
            row.append(cell(cols["local"]["results"].get(key, []), unit) if key != "big_dropped" else "")
            out.append("| " + " | ".join(row) + " |")
        rss_row = ["peak RSS during 1 GiB read (MB)"]
        for t in tools:
            rss_row += [cell(cols[t]["rss"], "MB/s"), ""]
        out.append("| " + " | ".join(rss_row + [""]) + " |")
        out.append("")
        out += verdict(server, cols, d)
    if errors:
        out += ["## Failures", ""] + [f"- {e}" for e in errors] + [""]
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def verdict(server, cols, d):
    f = cols.get(("ferry", server))
    if not f or not f["results"]:
        return ["Verdict: ferry did not run over this server (see Failures).", ""]
    r = f["results"]
    local = cols["local"]["results"]
    checks = []

    def check(name, value, target):
        ok = value == value and value >= target
        checks.append(f"| {name} | {value:.2f} | >= {target} | {'PASS' if ok else 'FAIL'} |")

    check("cold 1 GiB / direct curl GET", med(r.get("big_cold", [])) / med(d.get("big", [])), 0.9)
    check("small files, 8 readers, cold / 8 parallel curl GETs",
          med(r.get("small8_cold", [])) / med(d.get("small8", [])), 0.8)
    check("warm re-read / local page-cache re-read",
          med(r.get("big_warm", [])) / med(local.get("big_warm", [])), 0.5)
    rss = med(f["rss"])
    limit = 64 + MEMORY_TIER_BYTES / 1e6
    checks.append(f"| peak RSS, 1 GiB read (MB) | {rss:.0f} | < {limit:.0f} | "
                  f"{'PASS' if rss < limit else 'FAIL'} |")
    for other in ("s3fs", "rclone"):
        o = cols.get((other, server))
        if not o or not o["results"]:
            continue
        for key, label, unit in ROWS:
            a, b = med(r.get(key, [])), med(o["results"].get(key, []))
            if a != a or b != b:
                continue
            ratio = a / b if unit == "MB/s" else b / a  # > 1 means ferry is ahead
            checks.append(f"| {label}: ferry / {other} | {ratio:.2f} | > 1 | "
                          f"{'PASS' if ratio > 1 else 'FAIL'} |")
    return ["| target | ratio | goal | result |", "|---|---|---|---|", *checks, ""]


def cleanup():
    for path in list(mounts):
        subprocess.run(["fusermount3", "-u", path], stderr=subprocess.DEVNULL)
        if is_mounted(path):
            subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)
    for _, p in reversed(started):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build dir holding bin/ferry-sidecar")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/var/tmp/ferry-dataplane", help="data, caches, mountpoints")
    ap.add_argument("--tools", default="ferry,s3fs,rclone")
    ap.add_argument("--servers", default="s3rver,nginx")
    ap.add_argument("--ferry-opt", action="append", default=[], help="extra -o k=v for ferry")
    ap.add_argument("--out", default="")
    ap.add_argument("--big-mib", type=int, default=1024, help="smoke runs only: smaller big file")
    ap.add_argument("--small-files", type=int, default=2000, help="smoke runs only: fewer files")
    args = ap.parse_args()
    global GIB, SMALL_FILES
    GIB, SMALL_FILES = args.big_mib << 20, args.small_files
    if not (1 <= args.big_mib <= 4096 and 100 <= args.small_files <= 2000):
        sys.exit("--big-mib must be 1..4096 and --small-files 100..2000")
    # SIGTERM/SIGINT run the clean-up in main's finally (mounts, servers by PID).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(130))
    if os.geteuid() != 0:
        sys.exit("run as root: mounts and drop_caches need it")
    if not 1 <= args.runs <= 10:
        sys.exit("--runs must be 1..10")
    ensure_tools()
    work = os.path.abspath(args.work)
    data = os.path.join(work, f"data-{args.big_mib}m-{args.small_files}")
    os.makedirs(work, exist_ok=True)
    log("preparing data")
    files = make_data(data)
    servers = [s for s in args.servers.split(",") if s]
    tools = [t for t in args.tools.split(",") if t]
    base = {}
    try:
        if "s3rver" in servers:
            base["s3rver"] = f"http://127.0.0.1:{start_s3rver(work, data, files)}"
        if "nginx" in servers:
            base["nginx"] = f"http://127.0.0.1:{start_nginx(work, data)}"
        cols = {"local": {"results": {}}}
        direct = {s: {} for s in servers}
        errors = []
        for run in range(args.runs):
            for server in servers:
                prefix = f"{base[server]}/{BUCKET}" if server == "s3rver" else base[server]
                log(f"run {run + 1}: direct curl from {server}")
                drop_caches((data + ".s3rver",) if server == "s3rver" else (data,))
                direct[server].setdefault("big", []).append(curl_big(f"{prefix}/big"))
                urls = [f"{prefix}/{rel}" for rel in files]
                direct[server].setdefault("small1", []).append(curl_many(urls, 1, work))
                direct[server].setdefault("small8", []).append(curl_many(urls, 8, work))
                for tool in tools:
                    if tool == "s3fs" and server != "s3rver":
                        continue  # s3fs speaks S3 only
                    col = cols.setdefault((tool, server), {"results": {}, "cpu": {}, "rss": []})
                    m = Mount(tool, server, base[server], os.path.abspath(args.build), work,
                              args.ferry_opt)
                    m.warm = (data + ".s3rver",) if server == "s3rver" else (data,)
                    log(f"run {run + 1}: {tool} over {server}")
                    try:
                        measure(m, files, col["results"], col["cpu"], col["rss"])
                    except Exception as e:  # noqa: BLE001 - one tool failing must not stop the others
                        errors.append(f"run {run + 1}, {tool} over {server}: {e}")
                        log(errors[-1])
                    finally:
                        m.down()
            log(f"run {run + 1}: local disk")
            measure_local(data, files, cols["local"]["results"])
        report(args, servers, cols, direct, errors)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
