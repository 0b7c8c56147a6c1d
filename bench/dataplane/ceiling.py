#!/usr/bin/env python3
"""The FUSE + ferry-cache ceiling: how fast ferry delivers when the network is
out of the read path. Starts one server (s3rver or nginx) with run.py's data,
reads everything once through ferry with a memory tier big enough for all of
it (2 GiB), then drops only the kernel page cache and reads again: the second
reads come from ferry's memory through FUSE. Printed next to direct curl from
the same server, so a target ratio can be checked against what FUSE itself
allows on the machine. Needs root.

  python3 bench/dataplane/ceiling.py --server nginx --build build
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("s3rver", "nginx"), default="nginx")
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default="/var/tmp/ferry-dataplane")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: mounts and drop_caches need it")
    R.ensure_tools()
    work = os.path.abspath(args.work)
    data = os.path.join(work, "data-1024m-2000")
    os.makedirs(work, exist_ok=True)
    files = R.make_data(data)
    try:
        if args.server == "s3rver":
            base = f"http://127.0.0.1:{R.start_s3rver(work, data, files)}"
            warm, prefix = (data + ".s3rver",), f"{base}/{R.BUCKET}"
        else:
            base = f"http://127.0.0.1:{R.start_nginx(work, data)}"
            warm, prefix = (data,), base
        R.drop_caches(warm)
        urls = [f"{prefix}/{rel}" for rel in files]
        print(f"direct curl: 8 streams {R.curl_many(urls, 8, work):.0f} MB/s, "
              f"1 GiB {R.curl_big(prefix + '/big'):.0f} MB/s")
        m = R.Mount("ferry", args.server, base, os.path.abspath(args.build), work, ["cache_memory=2Gi"])
        m.warm = warm
        R.drop_caches(warm)
        m.up(fresh=True)
        try:
            print(f"ferry, cold: 8 readers {R.small_files(m.dir, files, 8):.0f} MB/s, "
                  f"1 GiB {R.dd_big(m.dir):.0f} MB/s")
            for _ in range(2):
                R.drop_caches(warm)
                small = R.small_files(m.dir, files, 8)
                R.drop_caches(warm)
                big = R.dd_big(m.dir)
                print(f"ferry, page cache dropped, all in ferry's memory: 8 readers {small:.0f} MB/s, "
                      f"1 GiB {big:.0f} MB/s")
        finally:
            m.down()
    finally:
        R.cleanup()


if __name__ == "__main__":
    main()
