#!/usr/bin/env bash
# Both ways a user takes eventscope into a CMake project: find_package from an install prefix, and
# add_subdirectory of the source tree. Each builds the consumer and checks the JSON lines it prints.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/eventscope-cmake.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check_output() {  # $1 = consumer binary
  local out; out=$("$1") || return 1
  local job; job=$(printf '%s\n' "$out" | grep '"table":"job_executions"' | grep '"status":"completed"')
  [ -n "$job" ] && printf '%s' "$job" | grep -q '"result":{"hello":"world"}' \
    && printf '%s\n' "$out" | grep -q '"correlation_id":"ann@example.com"'
}

report() { if [ "$2" = 0 ]; then echo "ok - $1"; passed=$((passed+1)); else echo "not ok - $1"; failed=$((failed+1)); fi; }

# 1. install, then find_package(eventscope)
(
  cmake -S "$root" -B "$work/lib" -DCMAKE_BUILD_TYPE=Release -DEVENTSCOPE_BUILD_TESTS=OFF -DEVENTSCOPE_BUILD_EXAMPLES=OFF \
    -DEVENTSCOPE_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >"$work/lib.log" 2>&1 &&
  cmake --install "$work/lib" >>"$work/lib.log" 2>&1 &&
  cmake -S "$root/tests/cmake/consumer" -B "$work/fp" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/fp.log" 2>&1 &&
  cmake --build "$work/fp" -j2 >>"$work/fp.log" 2>&1 &&
  check_output "$work/fp/consumer"
) || { cat "$work"/lib.log "$work"/fp.log 2>/dev/null | tail -30; false; }
report "find_package(eventscope) from an install prefix builds and records" $?

# The install carries the sinks' headers and no libpqxx requirement for core users.
test -f "$work/prefix/include/eventscope/eventscope.hpp" && test -f "$work/prefix/include/eventscope/sinks/json_lines_sink.hpp" \
  && ! grep -q pqxx "$work/prefix/include/eventscope/eventscope.hpp"
report "installed headers: core and sinks, core free of libpqxx" $?

# 2. add_subdirectory
(
  cmake -S "$root/tests/cmake/consumer" -B "$work/sub" -DEVENTSCOPE_SOURCE_DIR="$root" >"$work/sub.log" 2>&1 &&
  cmake --build "$work/sub" -j2 --target consumer >>"$work/sub.log" 2>&1 &&
  check_output "$work/sub/consumer"
) || { tail -30 "$work/sub.log"; false; }
report "add_subdirectory(eventscope) builds and records" $?

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
