#!/usr/bin/env bash
# Load benchmark of ferry-webhook over TLS with keep-alive, against nginx serving a
# static response of the same size over TLS in the same run. Max throughput: wrk from
# Debian (closed loop, 16 connections), cross-checked by ferry-loadgen in closed loop.
# Latency at a fixed rate: ferry-loadgen (bench/webhook/loadgen.cc), open loop with a
# fixed arrival schedule, latency from each request's due time (coordinated omission
# counted), for both servers. Loopback only; everything it starts is stopped by PID.
#
# Usage: bench/webhook/run_load.sh BUILD_DIR [DURATION_S] [REPEATS]
# Prints a markdown report on stdout.
set -euo pipefail
BUILD=${1:?usage: run_load.sh BUILD_DIR [DURATION_S] [REPEATS]}
DUR=${2:-10}
REPEATS=${3:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$BUILD/bin/ferry-webhook
LOADGEN=$BUILD/bench/ferry-loadgen
[ -x "$LOADGEN" ] || { echo "build the ferry-loadgen target first" >&2; exit 1; }
TMP=$(mktemp -d /tmp/ferry-webhook-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# TLS material (one self-signed EC cert for both servers).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=ferry-webhook.ferry-system.svc -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

# Request bodies: the ~8 KB Deployment pod and the 100-container pod as AdmissionReviews.
python3 - "$ROOT" "$TMP" <<'PY'
import json, sys
root, tmp = sys.argv[1], sys.argv[2]
for name in ("deployment", "100-containers"):
    pod = json.load(open(f"{root}/tests/testdata/pods/{name}.json"))
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": "bench", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                          "resource": {"group": "", "version": "v1", "resource": "pods"},
                          "namespace": "ml-team", "operation": "CREATE", "object": pod,
                          "dryRun": False}}
    open(f"{tmp}/{name}.json", "w").write(json.dumps(review, separators=(",", ":")))
PY

LOADAVG_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
WH_PORT=$(free_port)
"$BIN" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" --listen "127.0.0.1:$WH_PORT" \
  2>"$TMP/webhook.log" &
WH_PID=$!
PIDS+=("$WH_PID")
for _ in $(seq 100); do grep -q "listening on" "$TMP/webhook.log" && break; sleep 0.05; done
grep -q "listening on" "$TMP/webhook.log" || { cat "$TMP/webhook.log" >&2; exit 1; }
sleep 1
IDLE_RSS_KB=$(awk '/VmRSS/{print $2}' /proc/$WH_PID/status)

# nginx: a static file of the same size as the webhook's answer, returned for the same POST.
curl -sk -o "$TMP/answer.json" -X POST --data-binary "@$TMP/deployment.json" \
  -H 'Content-Type: application/json' "https://127.0.0.1:$WH_PORT/mutate"
ANSWER_BYTES=$(stat -c %s "$TMP/answer.json")
mkdir -p "$TMP/nginx/html" "$TMP/nginx/logs"
chmod 755 "$TMP"  # nginx workers run as an unprivileged user
head -c "$ANSWER_BYTES" /dev/zero | tr '\0' 'x' > "$TMP/nginx/html/static.json"
chmod -R a+rX "$TMP/nginx"
NG_PORT=$(free_port)
cat > "$TMP/nginx/nginx.conf" <<NGX
worker_processes auto;
error_log $TMP/nginx/logs/error.log warn;
pid $TMP/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  client_max_body_size 4m;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NG_PORT ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $TMP/nginx/html;
    # The static module refuses POST with 405; answer it with the file instead.
    location = /mutate { rewrite ^ /static.json last; }
    location = /static.json { default_type application/json; error_page 405 =200 \$uri; }
  }
}
NGX
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' &
NG_PID=$!
PIDS+=("$NG_PID")
for _ in $(seq 100); do curl -sk -o /dev/null "https://127.0.0.1:$NG_PORT/static.json" && break; sleep 0.05; done
NG_STATUS=$(curl -sk -o "$TMP/ng.out" -w '%{http_code}' -X POST --data-binary "@$TMP/deployment.json" "https://127.0.0.1:$NG_PORT/mutate")
[ "$NG_STATUS" = 200 ] && [ "$(stat -c %s "$TMP/ng.out")" = "$ANSWER_BYTES" ] || { echo "nginx reference broken ($NG_STATUS)" >&2; exit 1; }

run_wrk() {  # port body_file connections delay_ms -> "rps p50_ms p99_ms errors"
  local out
  out=$(BODY_FILE=$2 URL_PATH=/mutate DELAY_MS=$4 wrk -t1 -c"$3" -d"${DUR}s" --latency \
        -s "$ROOT/bench/webhook/post.lua" "https://127.0.0.1:$1" 2>&1)
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        return float("nan")
    v, u = m.groups()
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]
def grab(pattern):
    m = re.search(pattern, out)
    return m.group(1) if m else ""
rps = float(grab(r"Requests/sec:\s+([\d.]+)") or "nan")
p50 = ms(grab(r"50%\s+(\S+)"))
p99 = ms(grab(r"99%\s+(\S+)"))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
errs = (int(m.group(1)) if m else 0) + (sum(map(int, e.groups())) if e else 0)
print(f"{rps:.0f} {p50:.3f} {p99:.3f} {errs}")
PY
}

run_loadgen() {  # port body_file connections rate -> "rps p50_ms p99_ms errors"
  "$LOADGEN" --port "$1" --body "$2" --connections "$3" --rate "$4" --duration "$DUR" --warmup 1 |
    awk '{print $1, $2, $4, $7}'
}

median() { sort -n | awk '{a[NR]=$1} END{print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -n | awk 'NR==1{min=$1} {max=$1} END{printf "%s-%s", min, max}'; }

declare -A R
LOADS=()
for i in $(seq "$REPEATS"); do
  LOADS+=("$(cut -d" " -f1 /proc/loadavg)")
  R[wh_max]+="$(run_wrk "$WH_PORT" "$TMP/deployment.json" 16 0)"$'\n'
  R[ng_max]+="$(run_wrk "$NG_PORT" "$TMP/deployment.json" 16 0)"$'\n'
  R[wh_lgmax]+="$(run_loadgen "$WH_PORT" "$TMP/deployment.json" 16 0)"$'\n'
  R[ng_lgmax]+="$(run_loadgen "$NG_PORT" "$TMP/deployment.json" 16 0)"$'\n'
  R[wh_1k]+="$(run_loadgen "$WH_PORT" "$TMP/deployment.json" 10 1000)"$'\n'
  R[ng_1k]+="$(run_loadgen "$NG_PORT" "$TMP/deployment.json" 10 1000)"$'\n'
  R[wh_100]+="$(run_loadgen "$WH_PORT" "$TMP/100-containers.json" 1 50)"$'\n'
done
LOADED_RSS_KB=$(awk '/VmRSS/{print $2}' /proc/$WH_PID/status)

col() { printf '%s' "${R[$1]}" | awk -v c="$2" 'NF{print $c}'; }
row() {  # label key
  printf '| %s | %s (%s) | %s (%s) | %s (%s) | %s |\n' "$1" \
    "$(col "$2" 1 | median)" "$(col "$2" 1 | spread)" \
    "$(col "$2" 2 | median)" "$(col "$2" 2 | spread)" \
    "$(col "$2" 3 | median)" "$(col "$2" 3 | spread)" \
    "$(col "$2" 4 | awk '{s+=$1} END{print s}')"
}
WH_MAX=$(col wh_max 1 | median); NG_MAX=$(col ng_max 1 | median)
echo "Run: $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load average before: $LOADAVG_BEFORE, at each repeat: ${LOADS[*]}, after: $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "| run | req/s median (spread) | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
row "ferry-webhook, 8 KB pod, wrk 16 conns, max rate" wh_max
row "nginx static same size, wrk 16 conns, max rate" ng_max
row "ferry-webhook, 8 KB pod, loadgen 16 conns closed loop" wh_lgmax
row "nginx static, loadgen 16 conns closed loop" ng_lgmax
row "ferry-webhook, 8 KB pod, loadgen open loop 1000/s, 10 conns" wh_1k
row "nginx static, loadgen open loop 1000/s, 10 conns" ng_1k
row "ferry-webhook, 100-container pod, loadgen open loop 50/s, 1 conn" wh_100
LG_WH=$(col wh_lgmax 1 | median); LG_NG=$(col ng_lgmax 1 | median)
P99_WH=$(col wh_1k 3 | median); P99_NG=$(col ng_1k 3 | median)
echo
echo "- throughput ratio ferry-webhook / nginx: wrk $(python3 -c "print(f'{$WH_MAX/$NG_MAX:.2f}')"), loadgen $(python3 -c "print(f'{$LG_WH/$LG_NG:.2f}')")"
echo "- p99 at 1000/s ferry-webhook / nginx: $(python3 -c "print(f'{$P99_WH/$P99_NG:.2f}')")"
echo "- answer size: $ANSWER_BYTES bytes; request: $(stat -c %s "$TMP/deployment.json") bytes (8 KB pod), $(stat -c %s "$TMP/100-containers.json") bytes (100 containers)"
echo "- ferry-webhook RSS: idle $((IDLE_RSS_KB / 1024)).$(( (IDLE_RSS_KB % 1024) * 10 / 1024 )) MB, after load $((LOADED_RSS_KB / 1024)).$(( (LOADED_RSS_KB % 1024) * 10 / 1024 )) MB"
