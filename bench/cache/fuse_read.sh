#!/bin/bash
# fuse_read.sh BUILD_DIR URL FILE MOUNT_OPTS: one cold read of FILE through a
# fresh `ferry-sidecar mount` of URL; prints MB/s, the daemon's CPU seconds and
# peak RSS. E.g. (nginx on loopback serving the data plane bench's data):
#   bench/cache/fuse_read.sh build-h5 http://127.0.0.1:PORT/ big cache_memory=256Mi,cache_pool=0
set -eu
BUILD=$1 URL=$2 FILE=$3 OPTS=$4
M=$(mktemp -d /tmp/ferry-fuse-read.XXXXXX)
"$BUILD/bin/ferry-sidecar" mount "$URL" "$M" -f -o "$OPTS" 2>"$M.err" &
PID=$!
cleanup() {
  set +e
  mountpoint -q "$M" && fusermount3 -u "$M"
  kill "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  rmdir "$M"
  rm -f "$M.err"
}
trap cleanup EXIT
for _ in $(seq 300); do mountpoint -q "$M" && break; sleep 0.1; done
SIZE=$(stat -c %s "$M/$FILE")
T0=$(date +%s.%N)
dd if="$M/$FILE" of=/dev/null bs=1M 2>/dev/null
T1=$(date +%s.%N)
read -r U S < <(awk '{print $14, $15}' /proc/$PID/stat)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
python3 -c "import os; t=$T1-$T0; tk=os.sysconf('SC_CLK_TCK'); print(f'{$SIZE/t/1e6:.0f} MB/s; daemon cpu {($U+$S)/tk:.2f} s; peak RSS {$HWM/1024:.0f} MiB')"
