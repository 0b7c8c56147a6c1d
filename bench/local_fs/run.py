#!/usr/bin/env python3
"""local:// through ferry's FUSE data plane vs the same files read directly.

Same run, same files, alternating direct/FUSE per repetition; reports median
and spread (min-max) of MB/s (10^6 B/s) and the per-repetition FUSE/direct
ratio. Needs root (mount, drop_caches, bdi read_ahead_kb).

  python3 bench/local_fs/run.py --build build-fs --runs 3 --out bench/results/local_fs.md
"""
import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

GIB = 1 << 30
SMALL_FILES, SMALL_DIRS, SMALL_SIZE = 2000, 100, 256 << 10


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def resident_bytes(path):
    """Bytes of `path` in the page cache (fincore), to prove a cold read is cold."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) if out else 0


def bdi_read_ahead_path(path):
    """/sys/class/bdi/M:m/read_ahead_kb of the block device under `path` (its disk for a
    partition)."""
    dev = os.stat(path).st_dev
    majmin = f"{os.major(dev)}:{os.minor(dev)}"
    p = f"/sys/class/bdi/{majmin}/read_ahead_kb"
    if os.path.exists(p):
        return p
    sysdev = os.path.realpath(f"/sys/dev/block/{majmin}")
    if os.path.exists(os.path.join(sysdev, "partition")):
        with open(os.path.join(os.path.dirname(sysdev), "dev")) as f:
            p = f"/sys/class/bdi/{f.read().strip()}/read_ahead_kb"
            if os.path.exists(p):
                return p
    return None


def make_data(data):
    os.makedirs(data, exist_ok=True)
    big = os.path.join(data, "big")
    if not os.path.exists(big) or os.path.getsize(big) != GIB:
        sh(["dd", "if=/dev/urandom", f"of={big}", "bs=4M", "count=256", "iflag=fullblock",
            "status=none"])
    files = []
    for i in range(SMALL_FILES):
        d = os.path.join("small", f"d{i % SMALL_DIRS:03d}")
        os.makedirs(os.path.join(data, d), exist_ok=True)
        rel = os.path.join(d, f"f{i:04d}")
        p = os.path.join(data, rel)
        if not os.path.exists(p) or os.path.getsize(p) != SMALL_SIZE:
            with open(p, "wb") as f:
                f.write(os.urandom(SMALL_SIZE))
        files.append(rel)
    os.sync()
    return files


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd, **kw):
    t = time.perf_counter()
    sh(cmd, **kw)
    return time.perf_counter() - t


def seq_read(root):
    return timed(["dd", f"if={os.path.join(root, 'big')}", "of=/dev/null", "bs=1M", "status=none"])


def small_read(root, list_path, readers):
    with open(list_path) as lst:
        return timed(["xargs", "-P", str(readers), "-n", str(SMALL_FILES // readers), "cat"],
                     stdin=lst, stdout=subprocess.DEVNULL, cwd=root)


def mount(binary, data, mnt, opts):
    os.makedirs(mnt, exist_ok=True)
    proc = subprocess.Popen([binary, "mount", f"local://{data}", mnt, "-o", opts, "-f"])
    deadline = time.time() + 20
    while not os.path.ismount(mnt):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("mount failed")
        time.sleep(0.01)
    return proc


def set_read_ahead(mnt, kb):
    dev = os.stat(mnt).st_dev
    path = f"/sys/class/bdi/{os.major(dev)}:{os.minor(dev)}/read_ahead_kb"
    with open(path, "w") as f:
        f.write(str(kb))
    return path


def fmt(values, unit=""):
    med = statistics.median(values)
    return f"{med:,.0f}{unit} ({min(values):,.0f}-{max(values):,.0f})"


def fmt_ratio(values):
    return f"{statistics.median(values) * 100:.0f} % ({min(values) * 100:.0f}-{max(values) * 100:.0f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-fs")
    ap.add_argument("--data", default="/var/tmp/ferry-bench-local/data")
    ap.add_argument("--mnt", default="/var/tmp/ferry-bench-local/mnt")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--read-ahead-kb", type=int, default=16384)
    ap.add_argument("--mount-opts", default="", help="extra -o options, e.g. splice=1")
    ap.add_argument("--backing-read-ahead-kb", type=int, default=-1,
                    help="read_ahead_kb of the data's block device during the run (default: the "
                         "FUSE value, so both sides read ahead alike; 0 keeps the device's own)")
    ap.add_argument("--tmpfs", default="/dev/shm", help="where the 4 KiB-page reference copy goes")
    ap.add_argument("--out", default="")
    ap.add_argument("--keep-data", action="store_true")
    args = ap.parse_args()

    binary = os.path.abspath(os.path.join(args.build, "bin", "ferry-bench-mount"))
    files = make_data(args.data)
    list_path = os.path.join(os.path.dirname(args.data), "small.list")
    with open(list_path, "w") as f:
        f.write("\n".join(files) + "\n")

    opts = f"ro,threads={args.threads}" + (f",{args.mount_opts}" if args.mount_opts else "")
    load_start = os.getloadavg()
    # Same read-ahead on both sides: the FUSE bdi gets --read-ahead-kb (what the propagator
    # sets), the data's own block device the same unless told otherwise.
    backing_ra = bdi_read_ahead_path(args.data)
    backing_ra_old = None
    backing_ra_kb = args.read_ahead_kb if args.backing_read_ahead_kb < 0 else args.backing_read_ahead_kb
    if backing_ra and backing_ra_kb > 0:
        with open(backing_ra) as f:
            backing_ra_old = f.read().strip()
        with open(backing_ra, "w") as f:
            f.write(str(backing_ra_kb))
    # The 4 KiB-folio page-cache reference: tmpfs (huge=never) holds the same 1 GiB.
    shm_big = os.path.join(args.tmpfs, "ferry-bench-big")
    shutil.copyfile(os.path.join(args.data, "big"), shm_big)
    proc = mount(binary, args.data, args.mnt, opts)
    ra_path = set_read_ahead(args.mnt, args.read_ahead_kb)
    resident_before_cold = []  # backing file bytes cached right before each cold read
    results = {}  # test -> target -> [MB/s]
    cpu = {}  # test -> [daemon CPU s]
    ratios = {}

    def record(test, target, mbps):
        results.setdefault(test, {}).setdefault(target, []).append(mbps)

    tests = [
        ("1 GiB sequential, cold (`dd bs=1M`)", "seq_cold"),
        ("1 GiB re-read, warm", "seq_warm"),
        ("2,000 x 256 KiB, cold, 8 readers", "small_cold_8"),
        ("2,000 x 256 KiB, warm, 8 readers", "small_warm_8"),
        ("2,000 x 256 KiB, cold, 1 reader", "small_cold_1"),
    ]
    small_bytes = SMALL_FILES * SMALL_SIZE
    tmpfs_warm = []
    loads = []
    try:
        for run in range(args.runs):
            loads.append(os.getloadavg()[0])
            order = (("direct", args.data), ("fuse", args.mnt))
            if run % 2:
                order = order[::-1]  # alternate who goes first (host-side caches, drift)
            subprocess.run(["cat", shm_big], stdout=subprocess.DEVNULL, check=True)
            t = timed(["dd", f"if={shm_big}", "of=/dev/null", "bs=1M", "status=none"])
            tmpfs_warm.append(GIB / t / 1e6)
            for target, root in order:
                for _, key in tests:
                    before = cpu_seconds(proc.pid)
                    if key == "seq_cold":
                        drop_caches()
                        resident_before_cold.append(
                            max(resident_bytes(os.path.join(args.data, "big")),
                                resident_bytes(os.path.join(root, "big"))))
                        mbps = GIB / seq_read(root) / 1e6
                    elif key == "seq_warm":
                        seq_read(root)
                        mbps = GIB / seq_read(root) / 1e6
                    elif key in ("small_cold_8", "small_cold_1"):
                        drop_caches()
                        mbps = small_bytes / small_read(root, list_path, 8 if key.endswith("8") else 1) / 1e6
                    else:
                        small_read(root, list_path, 8)
                        mbps = small_bytes / small_read(root, list_path, 8) / 1e6
                    record(key, target, mbps)
                    if target == "fuse":
                        cpu.setdefault(key, []).append(cpu_seconds(proc.pid) - before)
            for _, key in tests:
                ratios.setdefault(key, []).append(results[key]["fuse"][-1] / results[key]["direct"][-1])
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        if backing_ra_old is not None:
            with open(backing_ra, "w") as f:
                f.write(backing_ra_old)
        if os.path.exists(shm_big):
            os.unlink(shm_big)
        if not args.keep_data:
            shutil.rmtree(os.path.dirname(args.data), ignore_errors=True)
    if rc != 0:
        raise SystemExit(f"ferry-bench-mount exited {rc}")

    cpu_model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    lines = [
        "| test | direct MB/s | ferry FUSE MB/s | FUSE / direct | daemon CPU s |",
        "|---|---|---|---|---|",
    ]
    for title, key in tests:
        lines.append(f"| {title} | {fmt(results[key]['direct'])} | {fmt(results[key]['fuse'])} | "
                     f"{fmt_ratio(ratios[key])} | {statistics.median(cpu[key]):.2f} |")
    warm_vs_tmpfs = [f / t for f, t in zip(results["seq_warm"]["fuse"], tmpfs_warm)]
    lines.append(f"| 1 GiB re-read, warm, from tmpfs (4 KiB pages; reference for the FUSE page "
                 f"cache) | {fmt(tmpfs_warm)} (tmpfs) | {fmt(results['seq_warm']['fuse'])} | "
                 f"{fmt_ratio(warm_vs_tmpfs)} of tmpfs | |")
    table = "\n".join(lines)
    load_end = os.getloadavg()
    header = (f"Machine: {os.cpu_count()} vCPU {cpu_model}, "
              f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GIB:.1f} GiB RAM, "
              f"kernel {platform.release()}, data on ext4 ({args.data}). FUSE mount: "
              f"`ferry-bench-mount mount local://DATA MNT -o {opts} -f`, "
              f"{ra_path} = {args.read_ahead_kb}; the data's device {backing_ra} = "
              f"{backing_ra_kb if backing_ra_old is not None else 'unchanged'} during the run "
              f"(was {backing_ra_old}). {args.runs} runs, the side going first alternating; "
              "median (min-max); ratio = FUSE/direct per run. Cold reads follow "
              "`sync; echo 3 > drop_caches`; bytes of the 1 GiB file still cached right before a "
              f"cold read (fincore, backing file and FUSE file): max {max(resident_before_cold)}. "
              f"Load average (1 min) at start {load_start[0]:.1f}, per run "
              f"{', '.join(f'{x:.1f}' for x in loads)}, at end {load_end[0]:.1f}.")
    print(header + "\n\n" + table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(f"# local_fs: local:// through FUSE vs direct reads\n\nCommand: "
                    f"`sudo python3 bench/local_fs/run.py --build {args.build} --runs {args.runs}"
                    f"{' --mount-opts ' + args.mount_opts if args.mount_opts else ''}`\n\n"
                    f"{header}\n\n{table}\n")


if __name__ == "__main__":
    main()
