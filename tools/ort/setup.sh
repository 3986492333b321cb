#!/usr/bin/env bash
# Install the pinned onnxruntime-node into tools/ort/node_modules (idempotent).
#
#   tools/ort/setup.sh            # from any directory
#   tools/ort/setup.sh --force    # reinstall even if up to date
#
# Runs `npm ci` only when node_modules is missing or was installed from a
# different package.json / package-lock.json / .npmrc, then checks that the
# native binding loads. Install scripts are skipped (.npmrc: ignore-scripts=true,
# plus ONNXRUNTIME_NODE_INSTALL=skip): onnxruntime-node's postinstall would try to
# download CUDA provider libraries from outside the npm registry; the CPU runtime
# ships inside the npm package itself.
# Status goes to stderr; exit status is non-zero on any failure.
set -euo pipefail

src="${BASH_SOURCE[0]}"
case "$src" in */*) here="${src%/*}" ;; *) here=. ;; esac
here="$(cd "$here" && pwd)"
msg() { printf 'ort setup: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (usage: setup.sh [--force])" ;;
esac

command -v node >/dev/null 2>&1 || die "node not found in PATH (need Node.js >= 18; Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || die "npm not found in PATH (Debian: apt-get install npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "node does not run"
[ "$node_major" -ge 18 ] 2>/dev/null || die "Node.js >= 18 required, found $(node --version)"

cd "$here"
[ -f package-lock.json ] || die "missing $here/package-lock.json"

# Serialize concurrent callers (parallel test jobs) when flock is available.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$here/.setup.lock"
  flock 9
fi

stamp_file="node_modules/.edgefit-ort-stamp"
want_stamp="$(node -e '
  const crypto = require("crypto"), fs = require("fs");
  const h = crypto.createHash("sha256");
  for (const f of ["package.json", "package-lock.json", ".npmrc"]) {
    h.update(f + "\0");
    if (fs.existsSync(f)) h.update(fs.readFileSync(f));
    h.update("\0");
  }
  h.update(process.platform + "/" + process.arch);
  process.stdout.write(h.digest("hex"));
')" || die "cannot hash the package files"

have_stamp=""
[ -f "$stamp_file" ] && have_stamp="$(cat "$stamp_file" 2>/dev/null || true)"

check_load() {
  node -e 'const o = require("onnxruntime-node"); process.stdout.write(o.env.versions.node)' 2>/dev/null
}

if [ "$force" = 0 ] && [ -d node_modules ] && [ "$have_stamp" = "$want_stamp" ]; then
  if version="$(check_load)"; then
    msg "onnxruntime-node $version up to date in $here/node_modules"
    exit 0
  fi
  msg "installed onnxruntime-node does not load; reinstalling"
fi

msg "running npm ci in $here"
start=$(date +%s)
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2 ||
  die "npm ci failed in $here (registry unreachable? see npm's log above)"
version="$(check_load)" ||
  die "onnxruntime-node was installed but its native binding does not load on $(uname -sm)"
printf '%s' "$want_stamp" > "$stamp_file"
msg "onnxruntime-node $version installed in $(( $(date +%s) - start ))s"
