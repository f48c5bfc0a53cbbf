#!/usr/bin/env bash
# Every test suite, from a fresh machine: installs what is missing, builds (normal and ASan+UBSan), starts one
# throwaway PostgreSQL 15 on 127.0.0.1 (as a dedicated user: initdb refuses root), runs each suite against it,
# removes the cluster, and ends with one line "N passed, M failed" counting suites.
#   scripts/test.sh                 everything
#   scripts/test.sh core sql ...    only the named suites (names: see SUITES below)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${EVENTSCOPE_BUILD_DIR:-$root/build}
asan_build=${EVENTSCOPE_ASAN_BUILD_DIR:-$root/build-asan}
tsan_build=${EVENTSCOPE_TSAN_BUILD_DIR:-$root/build-tsan}
artifacts=${EVENTSCOPE_ARTIFACTS_DIR:-$build/test-artifacts}
jobs=${EVENTSCOPE_JOBS:-2}
SUITES=(core core-asan core-tsan policy-swap postgres postgres-asan cmake-consumers sql console-server dashboard demo service e2e bench-smoke)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${SUITES[@]}")

started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
wants() { local s; for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
wants_any() { local s; for s in "$@"; do wants "$s" && return 0; done; return 1; }

step "installing what is missing"
bash "$root/scripts/install-deps.sh" --tests || { echo "dependency installation failed"; exit 1; }

mkdir -p "$artifacts"
declare -a results=()
passed=0 failed=0
record() {  # name, exit code
  if [ "$2" = 0 ]; then results+=("ok      $1"); passed=$((passed + 1)); else results+=("FAILED  $1 (exit $2)"); failed=$((failed + 1)); fi
}
run_suite() {  # name, command...
  local name=$1; shift
  wants "$name" || return 0
  step "suite: $name"
  "$@" 2>&1 | tee "$artifacts/$name.log"
  record "$name" "${PIPESTATUS[0]}"
}

# -g1: line tables and function names, which is all the stack-trace tests and the sanitizers' reports read.
# Full -g made the builds ~30 % more compiler CPU for type information no test uses (benchmarks/README.md,
# "Build time of the test suite").
line_tables=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_DEBUG="-g1")

if wants_any core policy-swap postgres cmake-consumers demo service e2e bench-smoke; then
  step "building (RelWithDebInfo) in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${line_tables[@]}" >"$artifacts/configure.log" 2>&1 \
    && cmake --build "$build" -j"$jobs" 2>&1 | tee "$artifacts/build.log" | grep -E '^\[ *[0-9]+%\] (Built|Linking)|error|warning' 
  [ "${PIPESTATUS[0]}" = 0 ] || { tail -n 40 "$artifacts/configure.log" "$artifacts/build.log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if wants_any core-asan postgres-asan; then
  step "building the tests with ASan+UBSan in $asan_build"
  asan_targets=(core_tests catch_site_tests)
  [ -d "$root/tests/postgres" ] && asan_targets+=(postgres_tests)
  cmake -S "$root" -B "$asan_build" -DCMAKE_BUILD_TYPE=Debug "${line_tables[@]}" -DEVENTSCOPE_SANITIZE=ON -DEVENTSCOPE_BUILD_EXAMPLES=OFF \
      -DEVENTSCOPE_BUILD_BENCHMARKS=OFF >"$artifacts/configure-asan.log" 2>&1 \
    && cmake --build "$asan_build" -j"$jobs" --target "${asan_targets[@]}" >"$artifacts/build-asan.log" 2>&1
  [ $? = 0 ] || { tail -n 40 "$artifacts/configure-asan.log" "$artifacts/build-asan.log"; echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

if wants core-tsan; then
  step "building the core tests with ThreadSanitizer in $tsan_build"
  cmake -S "$root" -B "$tsan_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${line_tables[@]}" -DEVENTSCOPE_SANITIZE_THREAD=ON -DEVENTSCOPE_BUILD_EXAMPLES=OFF \
      -DEVENTSCOPE_BUILD_BENCHMARKS=OFF >"$artifacts/configure-tsan.log" 2>&1 \
    && cmake --build "$tsan_build" -j"$jobs" --target core_tests catch_site_tests >"$artifacts/build-tsan.log" 2>&1
  [ $? = 0 ] || { tail -n 40 "$artifacts/configure-tsan.log" "$artifacts/build-tsan.log"; echo "thread-sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

# One cluster for all suites; each suite creates and drops its own databases in it.
pg_dir="$build/test-pg"
cleanup() { bash "$root/scripts/pg-cluster.sh" remove "$pg_dir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if wants_any postgres postgres-asan sql console-server demo e2e bench-smoke; then
  step "starting a throwaway PostgreSQL"
  bash "$root/scripts/pg-cluster.sh" remove "$pg_dir" >/dev/null 2>&1 || true
  EVENTSCOPE_TEST_DB_URL=$(bash "$root/scripts/pg-cluster.sh" start "$pg_dir") || { echo "could not start PostgreSQL"; echo "0 passed, 1 failed"; exit 1; }
  export EVENTSCOPE_TEST_DB_URL
  echo "PostgreSQL at $EVENTSCOPE_TEST_DB_URL"
fi

# Sanitizer reports fail the run (halt_on_error); leaks are reported too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# core_tests has the opt-in throw capture; catch_site_tests is a program without it.
both_core() { "$1/core_tests" "${@:2}" && "$1/catch_site_tests" --report_level=short; }
run_suite core both_core "$build/tests" --report_level=short
run_suite core-asan both_core "$asan_build/tests" --report_level=short
# ThreadSanitizer: the whole core suite (scopes, ring, pipeline, fanout, stats, shutdown under load) except the
# wall-clock bounds of the deadline tests, which a 5-15x slower build cannot keep. No suppressions.
run_suite core-tsan env TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" bash -c '"$0/core_tests" "$@" && "$0/catch_site_tests" --report_level=short' \
  "$tsan_build/tests" --report_level=short --run_test='!deadlines'
# One detector source (the example service's modules) at every capture level: each passes its own checks and
# all four reply alike.
run_suite policy-swap bash -c 'for l in off metrics full disable; do "$0/tests/policy_swap_$l" "$0/tests/policy_swap_$l.out" > /dev/null || exit 1; done
  for l in metrics full disable; do cmp -s "$0/tests/policy_swap_off.out" "$0/tests/policy_swap_$l.out" || { echo "replies differ: off vs $l"; diff "$0/tests/policy_swap_off.out" "$0/tests/policy_swap_$l.out" | head; exit 1; }; done
  echo "policy-swap: off, metrics, full and EVENTSCOPE_DISABLE reply alike ($(wc -l < "$0/tests/policy_swap_off.out") deliveries)"' "$build"
run_suite postgres "$build/tests/postgres/postgres_tests" --report_level=short
# Full unwinding on malloc so that the third-party suppressions (tests/lsan.supp) match their exact frames.
run_suite postgres-asan env ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" LSAN_OPTIONS="suppressions=$root/tests/lsan.supp" \
  "$asan_build/tests/postgres/postgres_tests" --report_level=short
run_suite cmake-consumers bash "$root/tests/cmake/run.sh"
run_suite sql bash "$root/tests/sql/run.sh"
run_suite console-server bash -c "cd '$root/dashboard/server' && npm test"
run_suite dashboard bash -c "cd '$root/dashboard' && npm test && npm run build"
run_suite demo env EVENTSCOPE_BUILD_DIR="$build" bash "$root/tests/demo/run.sh"
# The example service as an operator meets it; then under faults (its own cluster: outages, kill -9, bad configuration).
run_suite service bash -c 'python3 "$0/tests/service/check_service.py" --binary "$1/examples/detector_service"; a=$?
  python3 "$0/tests/service/check_faults.py" --binary "$1/examples/detector_service"; b=$?; [ $a = 0 ] && [ $b = 0 ]' "$root" "$build"
run_suite e2e env EVENTSCOPE_BUILD_DIR="$build" EVENTSCOPE_ARTIFACTS_DIR="$artifacts/e2e" bash "$root/tests/e2e/run.sh"
run_suite bench-smoke bash -c "bash '$root/scripts/bench-micro.sh' --smoke --no-build --build-dir '$build' && bash '$root/scripts/bench-postgres.sh' --smoke --no-build --build-dir '$build' && ESB_SMOKE=1 '$build/benchmarks/eventscope_detect_bench' && node '$root/benchmarks/console/prepare.mjs' --reps 5 --rounds 1"

# A failed suite's errors again at the end: CI keeps only the tail of this output.
for r in "${results[@]}"; do
  case "$r" in
    FAILED*)
      name=$(awk '{print $2}' <<<"$r")
      echo "---- $name: error lines of $artifacts/$name.log (then its last lines)"
      grep -E -i -m 30 "error|fail|assert|sanitizer|exception" "$artifacts/$name.log" | cut -c1-400 || true
      echo "...."
      tail -n 15 "$artifacts/$name.log" | cut -c1-400
      ;;
  esac
done
step "summary (logs in $artifacts)"
printf '  %s\n' "${results[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
