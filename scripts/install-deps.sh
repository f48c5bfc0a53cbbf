#!/usr/bin/env bash
# Installs the Debian packages eventscope needs that are missing (and only those).
#   scripts/install-deps.sh [--check] [--tests]
#     --check: only report what is missing (exit 1 if anything is)
#     --tests: also what the test suite needs (Chromium for the dashboard e2e, the benchmarks' peers, curl,
#              PyYAML for the metadata check) and the npm packages of dashboard/ and dashboard/server/
# As root: apt-get directly. Otherwise through sudo when it is available without questions asked of a
# non-terminal; else prints the command to run.
set -euo pipefail

PACKAGES=(build-essential cmake pkg-config libboost-dev libboost-test-dev libboost-stacktrace-dev libpqxx-dev
          nlohmann-json3-dev libbenchmark-dev postgresql-15 postgresql-client-15 jq)
TEST_PACKAGES=(chromium curl python3 python3-yaml libspdlog-dev liblttng-ust-dev nodejs npm)
check_only=0 tests=0
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    --tests) tests=1 ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ $tests = 1 ]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
  # Node.js from the machine image counts: only install Debian's when there is none.
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
    && PACKAGES=($(printf '%s\n' "${PACKAGES[@]}" | grep -vxE 'nodejs|npm'))
fi
root=$(cd "$(dirname "$0")/.." && pwd)

# npm packages (tests only): `npm ci` unless node_modules was installed from the current lock file.
install_npm() {
  [ $tests = 1 ] || return 0
  local dir
  for dir in "$root/dashboard" "$root/dashboard/server"; do
    [ -f "$dir/package-lock.json" ] || continue
    # npm rewrites node_modules/.package-lock.json on every install: newer than the lock file = up to date.
    if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then continue; fi
    echo "install-deps: npm ci in ${dir#$root/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "install-deps: npm ci failed in $dir" >&2; exit 1; }
  done
}

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  [ $check_only = 1 ] || install_npm
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"
[ $check_only = 1 ] && exit 1

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get here; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
  SUDO=(sudo)
else
  echo "install-deps: not root and no usable sudo; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
  || { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq "${missing[@]}"; } \
  || { echo "install-deps: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
echo "install-deps: installed ${missing[*]}"
install_npm
