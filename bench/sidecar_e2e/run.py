"""ferry control-plane benchmarks through the kubelet emulator (bench/sidecar_e2e/CMakeLists.txt).

edit-to-visible  from the ConfigMap's `..data` swap to `/datasets/<new>` existing in the running
                 app's mount namespace (a poller inside the app container), p50/p99 over 50 edits
                 per run, each edit `--pace` ms after the previous swap (default 250: isolated
                 edits, as kubelet syncs are); reference in the same run: `mount --bind` in the
                 sidecar + `ls` in the app via exec (what a script-driven sidecar would take).
                 The sidecar runs with FERRY_LOG_LEVEL=debug: the config watcher's line for each
                 read says how it read each edit (at once, or at the end of a debounce window).
gap sweep        (--sweep 0,10,...) the watcher's burst path: a primer edit after 300 ms of
                 quiet, then the measured edit `gap` ms later; latency by gap.
start-to-probe   sidecar container start (launcher spawned) to status.json ready (read on the
                 node) and to `ferryctl probe` passing (exec loop), with 3 local datasets;
                 reference: start of a container running `true` through the same emulator.
idle RSS         VmRSS of ferry-propagator and ferry-sidecar with 10 datasets mounted, idle;
                 reference: a shell in the app container.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support", "kubelet"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from ferry_env import FerryPod, spec_yaml, wait_for  # noqa: E402
from ferry_kubelet import Node, Paths  # noqa: E402
from ferry_kubelet.webhook import Webhook  # noqa: E402

# One long-lived poller in the app's mount namespace: reads paths on stdin (one a line) and
# prints "<path> <time.time()>" when each exists, checking every 0.5 ms. Long-lived so that an
# edit costs the bench a pipe write, not a Python start-up: the pacing is the bench's choice.
POLLER = r"""
import os, select, sys, time
print("ready", flush=True)
pending, buf, fd = [], b"", sys.stdin.fileno()
while True:
    if select.select([fd], [], [], 0.0005)[0]:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        pending += [l.decode() for l in lines if l]
    for p in [p for p in pending if os.path.exists(p)]:
        pending.remove(p)
        print("%s %.6f" % (p, time.time()), flush=True)
"""

# The config watcher's debug line for each read of the spec (sidecar/config_watcher.cc).
READ_LINE = re.compile(r"read (\d+) \(([^)]+)\): ([\d.]+) ms after its first event, "
                       r"(-?[\d.]+) ms after the previous read, (\w+), hash ([0-9a-f]{16})")


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def fnv1a(text):
    h = 14695981039346656037
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


class Poller:
    def __init__(self, fp):
        c = fp.pod[fp.app]
        cmd = ["nsenter", "-t", str(c.pid), "-m", "-n", "-p", "-r", "-w", "--",
               "/usr/bin/python3", "-c", POLLER]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def watch(self, path):
        self.proc.stdin.write(path + "\n")
        self.proc.stdin.flush()

    def seen(self):
        """(path, time) of the next path that appeared."""
        path, t = self.proc.stdout.readline().split()
        return path, float(t)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def debug_sidecar(pod):
    """Patch for FerryPod: the config watcher logs each read (why, how long after its event)."""
    for field in ("initContainers", "containers"):
        for c in pod["spec"].get(field, []):
            if c["name"] == "ferry-sidecar":
                c.setdefault("env", []).append({"name": "FERRY_LOG_LEVEL", "value": "debug"})


def watcher_reads(fp):
    """{hash: (why, waited ms, ms since the previous read)} from the sidecar's log."""
    out = {}
    for m in READ_LINE.finditer(fp.pod["ferry-sidecar"].logs()):
        if m.group(5) == "changed":
            out[m.group(6)] = (m.group(2), float(m.group(3)), float(m.group(4)))
    return out


def sleep_until(t):
    while True:
        d = t - time.time()
        if d <= 0:
            return
        time.sleep(min(d, 0.05) if d > 0.002 else d)


def edit_to_visible(node, webhook, edits, pace_ms, legacy=False):
    """`edits` edits, each swapped in `pace_ms` after the previous swap (an isolated edit when
    pace_ms > the debounce, as a kubelet sync is). legacy: the session-2 pacing instead (no wait;
    a fresh poller process per edit, started after the reference execs). Per edit: latency,
    reference, (watcher path, ms waited, ms since the previous read)."""
    names = ["base"] + ["e%02d" % i for i in range(edits)]
    fp = FerryPod(node, webhook, initial=["base"], datasets=names, patch=debug_sidecar).start()
    poll = None if legacy else Poller(fp)
    lat, ref, hashes = [], [], []
    t_swap = time.time()
    for i in range(edits):
        new = names[i + 1]
        if legacy:
            poll = Poller(fp)
        else:
            sleep_until(t_swap + pace_ms / 1000.0)
        poll.watch("/datasets/%s/hello.txt" % new)
        current = ["base", new]
        hashes.append(fnv1a(spec_yaml(current)))
        t_swap = time.time()
        fp.set_datasets(current)
        _, seen = poll.seen()
        lat.append((seen - t_swap) * 1000)
        if legacy:
            poll.close()
        # reference: a bind mount done by exec in the sidecar, then ls in the app
        t0 = time.monotonic()
        r1 = fp.pod.exec("ferry-sidecar", ["sh", "-c", "mkdir -p /run/ferry/mnt/.ref && "
                                           "mount --bind /data/base /run/ferry/mnt/.ref"])
        r2 = fp.pod.exec(fp.app, ["ls", "/datasets/.ref/hello.txt"])
        ref.append((time.monotonic() - t0) * 1000)
        assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
        fp.pod.exec("ferry-sidecar", ["sh", "-c", "umount /run/ferry/mnt/.ref && "
                                      "rmdir /run/ferry/mnt/.ref"])
    if not legacy:
        poll.close()
    reads = watcher_reads(fp)
    fp.pod.terminate()
    paths = [reads.get(h, ("unknown", 0.0, 0.0)) for h in hashes]
    return lat, ref, paths


def gap_sweep(node, webhook, gaps_ms, reps, quiet_ms=300):
    """The bisection of the bimodal p50: a primer edit after `quiet_ms` of quiet, then the measured
    edit `gap` ms after the primer's swap. Returns [(gap asked, gap to the previous read as the
    watcher saw it, latency ms, watcher path, ms the watcher waited before reading)]."""
    names = ["base"] + ["p%03d" % i for i in range(len(gaps_ms) * reps)] + [
        "m%03d" % i for i in range(len(gaps_ms) * reps)]
    fp = FerryPod(node, webhook, initial=["base"], datasets=names, patch=debug_sidecar).start()
    poll = Poller(fp)
    out, hashes = [], []
    t_swap = time.time()
    k = 0
    for _ in range(reps):
        for gap in gaps_ms:
            sleep_until(t_swap + quiet_ms / 1000.0)
            t_primer = time.time()
            fp.set_datasets(["base", "p%03d" % k])
            measured = ["base", "m%03d" % k]
            poll.watch("/datasets/m%03d/hello.txt" % k)
            sleep_until(t_primer + gap / 1000.0)
            hashes.append(fnv1a(spec_yaml(measured)))
            t_swap = time.time()
            fp.set_datasets(measured)
            _, seen = poll.seen()
            out.append([gap, None, (seen - t_swap) * 1000, None, None])
            k += 1
    poll.close()
    reads = watcher_reads(fp)
    fp.pod.terminate()
    for row, h in zip(out, hashes):
        why, waited, since = reads.get(h, ("unknown", 0.0, -1.0))
        row[1], row[3], row[4] = since, why, waited
    return out


def start_to_probe(node, webhook):
    fp = FerryPod(node, webhook, initial=["a", "b", "c"])
    status = os.path.join(fp.pod.volume_path("ferry-mnt"), ".ferry", "status.json")
    sidecar = fp.pod["ferry-sidecar"]
    t0 = time.monotonic()
    fp.pod.start(wait=False)

    def ready():
        try:
            with open(status) as fh:
                return json.load(fh).get("ready") is True
        except (OSError, ValueError):
            return False
    wait_for(ready, timeout=30, interval=0.001)
    t_ready = time.monotonic() - t0
    probe = sidecar.spec["startupProbe"]["exec"]["command"]
    wait_for(lambda: sidecar.running() and sidecar.exec(probe).returncode == 0, timeout=30,
             interval=0)
    t_probe = time.monotonic() - t0
    fp.pod.wait_started()
    fp.pod.terminate()
    # reference: a container running `true`, same emulator
    ref_pod = node.create_pod({"metadata": {"generateName": "ref-"}, "spec": {
        "restartPolicy": "Never", "containers": [{"name": "t", "command": ["true"]}]}})
    t0 = time.monotonic()
    ref_pod.start()
    ref_pod.wait_phase(("Succeeded", "Failed"))
    t_ref = time.monotonic() - t0
    ref_pod.terminate()
    return t_ready * 1000, t_probe * 1000, t_ref * 1000


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, tid)) as fh:
            out += [int(x) for x in fh.read().split()]
    return out


def idle_rss(node, webhook):
    names = ["r%02d" % i for i in range(10)]
    fp = FerryPod(node, webhook, initial=names).start()
    wait_for(lambda: (s := fp.status()) and len(s["datasets"]) == 10 and all(
        d["phase"] == "Mounted" for d in s["datasets"].values()), what="10 mounted")
    for n in names:  # touch every dataset once, then let it idle
        fp.cat("/datasets/%s/hello.txt" % n)
    time.sleep(2)  # idle: let start-up work settle before reading VmRSS
    prop = fp.pod["ferry-sidecar"].pid
    plane = children(prop)
    app = fp.pod[fp.app].pid
    out = (rss_kib(prop), sum(rss_kib(p) for p in plane), rss_kib(app))
    fp.pod.terminate()
    return out


def machine():
    model = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%s, %d cores, Linux %s" % (model, os.cpu_count(), platform.release())


def med_spread(values, fmt="%.1f"):
    return (fmt + " (spread " + fmt + "–" + fmt + ")") % (
        statistics.median(values), min(values), max(values))


def path_split(lat, paths):
    """How the watcher read each edit: 'at once 48 (p50 7.1 ms; watcher wait 0.0 ms, previous
    read 250.3 ms before, medians)'."""
    by = {}
    for ms, (why, waited, since) in zip(lat, paths):
        by.setdefault(why, []).append((ms, waited, since))
    return ", ".join("%s %d (p50 %.1f ms; watcher wait %.1f ms, previous read %.1f ms before, "
                     "medians)" % (k, len(v), pct([x[0] for x in v], 50),
                                   statistics.median(x[1] for x in v),
                                   statistics.median(x[2] for x in v))
                     for k, v in sorted(by.items(), key=lambda kv: -len(kv[1])))


def sweep_table(rows):
    """Latency by gap between the primer's swap and the measured swap."""
    lines = ["| gap after the primer swap (ms) | watcher: previous read (ms before), median | "
             "watcher wait before reading (ms), median (spread) | edit to visible, median "
             "(spread) ms | how the watcher read it |", "|---|---|---|---|---|"]
    for gap in sorted({r[0] for r in rows}):
        sel = [r for r in rows if r[0] == gap]
        whys = {}
        for r in sel:
            whys[r[3]] = whys.get(r[3], 0) + 1
        lines.append("| %d | %.1f | %s | %s | %s |" % (
            gap, statistics.median(r[1] for r in sel), med_spread([r[4] for r in sel]),
            med_spread([r[2] for r in sel]),
            ", ".join("%s %d" % kv for kv in sorted(whys.items()))))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--edits", type=int, default=50)
    ap.add_argument("--pace", type=float, default=250,
                    help="ms from one edit's `..data` swap to the next (default 250: isolated "
                    "edits, as a kubelet sync is; the kubelet's real spacing is >= 1 s)")
    ap.add_argument("--legacy-pacing", action="store_true",
                    help="pace edits as the session-2 bench did (no wait, a fresh poller per "
                    "edit): ~50 ms from one read to the next swap, the bimodal case")
    ap.add_argument("--edits-only", action="store_true",
                    help="only edit to visible (skip start-to-probe and idle RSS)")
    ap.add_argument("--sweep", default="",
                    help="comma-separated gaps (ms): also measure an edit swapped this long after "
                    "a primer edit, per gap (the burst path of the watcher)")
    ap.add_argument("--sweep-reps", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "sidecar_e2e.md"))
    ap.add_argument("--append", metavar="TITLE", default="",
                    help="append a section with this title to --out instead of rewriting it")
    args = ap.parse_args()
    paths = Paths()
    load_start = os.getloadavg()
    webhook = Webhook(paths.binary("ferry-webhook"), "/tmp/ferry-bench-webhook-%d" % os.getpid())
    runs, sweep = [], []
    gaps = [int(g) for g in args.sweep.split(",") if g]
    try:
        for r in range(args.runs):
            with Node(paths) as node:
                lat, ref, why = edit_to_visible(node, webhook, args.edits, args.pace,
                                                args.legacy_pacing)
            run = {"p50": pct(lat, 50), "p99": pct(lat, 99), "ref": statistics.median(ref),
                   "paths": path_split(lat, why)}
            if not args.edits_only:
                with Node(paths) as node:
                    start = start_to_probe(node, webhook)
                with Node(paths) as node:
                    rss = idle_rss(node, webhook)
                run.update({"ready": start[0], "probe": start[1], "ref_start": start[2],
                            "rss_prop": rss[0], "rss_plane": rss[1], "rss_ref": rss[2]})
            if gaps:
                with Node(paths) as node:
                    rows = gap_sweep(node, webhook, gaps, args.sweep_reps)
                sweep += rows
                run["sweep"] = rows
            run["lat"] = [round(x, 2) for x in lat]
            runs.append(run)
            print("run %d: p50 %.1f p99 %.1f ref %.1f; %s" % (
                r + 1, run["p50"], run["p99"], run["ref"], run["paths"]), flush=True)
    finally:
        webhook.stop()
        subprocess.run(["rm", "-rf", webhook.workdir])
    load_end = os.getloadavg()
    col = lambda k: [x[k] for x in runs]  # noqa: E731
    ratio = [x["p50"] / x["ref"] for x in runs]
    command = "`sudo FERRY_BUILD_DIR=%s /usr/bin/python3 bench/sidecar_e2e/run.py --runs %d " \
              "--edits %d %s%s%s%s` (Release build)." % (
                  os.path.relpath(paths.build_dir, ROOT), args.runs, args.edits,
                  "--legacy-pacing" if args.legacy_pacing else "--pace %g" % args.pace,
                  " --edits-only" if args.edits_only else "",
                  " --sweep %s --sweep-reps %d" % (args.sweep, args.sweep_reps) if gaps else "",
                  " --append '%s'" % args.append if args.append else "")
    lines = [
        "## %s, %s" % (args.append, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        if args.append else "# sidecar_e2e: control-plane figures through the kubelet emulator",
        "",
        "Command: " + command,
        "Machine: %s. Date: %s. Median over %d runs, spread = min–max of the runs." % (
            machine(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), args.runs),
        "Load average (1/5/15 min) at start: %.1f / %.1f / %.1f, at end: %.1f / %.1f / %.1f: "
        "figures taken on a busy machine are upper bounds." % (load_start + load_end),
        "",
        "| figure | target | median (spread) | reference, same run | ratio |",
        "|---|---|---|---|---|",
        "| edit to visible, p50 (ms) | | %s | exec `mount` in sidecar + exec `ls` in app: %s ms "
        "| %s |" % (med_spread(col("p50")), med_spread(col("ref")),
                   med_spread(ratio, "%.2f")),
        "| edit to visible, p99 (ms) | < 100 | %s | | |" % med_spread(col("p99")),
    ]
    if not args.edits_only:
        lines += [
            "| sidecar start to status.json ready, 3 local datasets (ms) | | %s | container "
            "running `true`: %s ms | %s |" % (
                med_spread(col("ready")), med_spread(col("ref_start")),
                med_spread([x["ready"] / x["ref_start"] for x in runs], "%.2f")),
            "| sidecar start to `ferryctl probe` passing (ms) | < 300 | %s | | %s |" % (
                med_spread(col("probe")),
                med_spread([x["probe"] / x["ref_start"] for x in runs], "%.2f")),
            "| idle VmRSS ferry-propagator, 10 datasets (MiB) | | %s | shell in the app: %s MiB "
            "| |" % (med_spread([x / 1024 for x in col("rss_prop")], "%.1f"),
                     med_spread([x / 1024 for x in col("rss_ref")], "%.1f")),
            "| idle VmRSS ferry-sidecar (data plane), 10 datasets (MiB) | | %s | | |" %
            med_spread([x / 1024 for x in col("rss_plane")], "%.1f"),
            "| idle VmRSS propagator + sidecar (MiB) | < 20 | %s | | |" %
            med_spread([(x["rss_prop"] + x["rss_plane"]) / 1024 for x in runs], "%.1f"),
        ]
    lines += ["", "How the config watcher read each edit (from its debug log), per run:", ""]
    lines += ["- run %d: p50 %.1f ms, p99 %.1f ms: %s" % (i + 1, x["p50"], x["p99"], x["paths"])
              for i, x in enumerate(runs)]
    if sweep:
        lines += ["", "Gap sweep (%d runs x %d reps per gap; a primer edit after 300 ms of quiet, "
                  "then the measured edit):" % (args.runs, args.sweep_reps), ""]
        lines += sweep_table(sweep)
    lines += [
        "",
        "Notes: edits are paced %s. Edit-to-visible starts just before "
        "the AtomicWriter writes the new `..data` directory and swaps it in, and ends when a "
        "polling process inside the app's mount namespace (checking every 0.5 ms) sees "
        "`/datasets/<new>/hello.txt`. The kubelet's own sync delay (60-120 s in a cluster) is not "
        "included. Start-to-probe excludes the kubelet's probe period (periodSeconds: 1)." %
        ("as the session-2 bench did (no wait; a fresh poller per edit after the reference "
         "execs)" if args.legacy_pacing else "%g ms apart (swap to swap)" % args.pace),
        "",
        "Raw runs:",
        "",
        "```",
    ] + [json.dumps({k: v for k, v in x.items() if k not in ("lat", "sweep")}) for x in runs] + [
        "```", ""]
    text = "\n".join(lines)
    if args.append:
        with open(args.out, "a") as fh:
            fh.write("\n" + text)
    else:
        with open(args.out, "w") as fh:
            fh.write(text)
    print(text)
    raw = os.environ.get("FERRY_BENCH_RAW")
    if raw:  # every latency and sweep row, for re-analysis
        with open(raw, "w") as fh:
            json.dump({"runs": runs, "load": [load_start, load_end]}, fh)


if __name__ == "__main__":
    main()
