#!/usr/bin/env python3
"""Warm re-read: ext4 vs ferry FUSE vs tmpfs (4 KiB pages), interleaved, plus the folio sizes of
each page cache (/proc/self/pagemap + /proc/kpageflags). Explains the FUSE warm ratio: the FUSE
page cache holds order-0 pages only, ext4 large folios. Needs root and the data of run.py
(`run.py --keep-data`).

  sudo python3 bench/local_fs/warm_folios.py --build build-h3 --reps 9
"""
import argparse
import mmap
import os
import shutil
import signal
import statistics
import struct
import subprocess
import time

GIB = 1 << 30


def folios(path, limit=256 << 20):
    """(pages in large folios, order-0 pages) of the first `limit` bytes, once cached."""
    fd = os.open(path, os.O_RDONLY)
    size = min(os.fstat(fd).st_size, limit)
    m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
    for off in range(0, size, 4096):
        m[off]
    base = None
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip().endswith(path):
                base = int(line.split()[0].split("-")[0], 16)
                break
    large = small = 0
    with open("/proc/self/pagemap", "rb") as pm, open("/proc/kpageflags", "rb") as kf:
        for i in range(size // 4096):
            pm.seek((base // 4096 + i) * 8)
            e = struct.unpack("Q", pm.read(8))[0]
            if not e >> 63:
                continue
            kf.seek((e & ((1 << 55) - 1)) * 8)
            flags = struct.unpack("Q", kf.read(8))[0]
            if flags & ((1 << 15) | (1 << 16)):  # KPF_COMPOUND_HEAD / KPF_COMPOUND_TAIL
                large += 1
            else:
                small += 1
    m.close()
    os.close(fd)
    return large, small


def read_mbps(path):
    t = time.perf_counter()
    subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=1M", "status=none"], check=True)
    return os.path.getsize(path) / (time.perf_counter() - t) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", default="/var/tmp/ferry-bench-local/data")
    ap.add_argument("--mnt", default="/var/tmp/ferry-bench-local/mnt-warm")
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args()
    big = os.path.join(args.data, "big")
    shm = "/dev/shm/ferry-warm-big"
    shutil.copyfile(big, shm)
    os.makedirs(args.mnt, exist_ok=True)
    binary = os.path.abspath(os.path.join(args.build, "bin", "ferry-bench-mount"))
    proc = subprocess.Popen([binary, "mount", f"local://{args.data}", args.mnt, "-o", "ro", "-f"],
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not os.path.ismount(args.mnt):
            if time.time() > deadline:
                raise SystemExit("mount failed")
            time.sleep(0.01)
        paths = {"ext4": big, "fuse": os.path.join(args.mnt, "big"), "tmpfs": shm}
        for p in paths.values():
            read_mbps(p)  # warm every page cache
        res = {k: [] for k in paths}
        load = [os.getloadavg()[0]]
        for _ in range(args.reps):
            for k, p in paths.items():
                res[k].append(read_mbps(p))
        load.append(os.getloadavg()[0])
        fol = {k: folios(p) for k, p in paths.items()}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        os.unlink(shm)
    print(f"load average (1 min) start/end: {load[0]:.1f} / {load[1]:.1f}; {args.reps} interleaved "
          "reps of `dd bs=1M` over 1 GiB, median (min-max)")
    print("| page cache | MB/s | / ext4 (per rep) | pages in large folios / order-0 (first 256 MiB) |")
    print("|---|---|---|---|")
    for k in paths:
        r = [a / b for a, b in zip(res[k], res["ext4"])]
        print(f"| {k} | {statistics.median(res[k]):,.0f} ({min(res[k]):,.0f}-{max(res[k]):,.0f}) | "
              f"{statistics.median(r) * 100:.0f} % ({min(r) * 100:.0f}-{max(r) * 100:.0f}) | "
              f"{fol[k][0]} / {fol[k][1]} |")


if __name__ == "__main__":
    main()
