#!/usr/bin/env bash
# edgefit's one set-up script, for a fresh Debian 12 machine:
#   scripts/bootstrap.sh example   install packages, build, run the main job on the bundled example
#   scripts/bootstrap.sh test      install packages, build, run every test (what CI runs)
#   scripts/bootstrap.sh build     install packages and build only
# Needs root (or sudo) for apt-get. Safe to run again: each step is skipped when already done.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-example}"
jobs="${EDGEFIT_JOBS:-$(nproc)}"

# Every Debian package edgefit needs (build, tests, benchmarks, oracle).
packages=(
  build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  libopenblas-dev
  libcli11-dev nlohmann-json3-dev libstb-dev libzip-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  time
  graphviz chromium
  libssl-dev libmimalloc-dev
)
# Node.js + npm run the ONNX Runtime oracle (tests) and benchmark peer. Debian's packages are
# used only when no node/npm is installed (a NodeSource nodejs already bundles npm and
# conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "== packages: all ${#packages[@]} installed"
    return
  fi
  echo "== packages: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  local dir="$1"; shift
  echo "== build: $dir $*"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

install_packages
case "$mode" in
  build)
    build build
    ;;
  example)
    build build -DEDGEFIT_BUILD_TESTS=OFF
    exec scripts/example.sh build/tools/edgefit/edgefit
    ;;
  test)
    build build
    exec scripts/test.sh
    ;;
  *)
    echo "usage: scripts/bootstrap.sh [example|test|build]" >&2
    exit 2
    ;;
esac
