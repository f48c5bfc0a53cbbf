#!/usr/bin/env bash
# Compile cost of one detector source file (detector_tu.cpp) against two header trees, in one run:
# preprocessed lines (g++ -E | wc -l) and CPU seconds (user+sys of g++ -O2 -c), median of N runs each,
# alternating before/after so that machine load hits both alike.
#   benchmarks/compile/measure.sh BEFORE_INCLUDE_DIR AFTER_INCLUDE_DIR [runs=5]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
before=$1; after=$2; runs=${3:-5}
# A tree from before issue 12 has no eventscope::recorder: its detector file names the observer's sink (ES_BEFORE).
# Trees that both have it compile the same source.
before_api=""; [ -f "$before/eventscope/recorder.hpp" ] || before_api=-DES_BEFORE
work=$(mktemp -d /tmp/eventscope-compile.XXXXXX)
trap 'rm -rf "$work"' EXIT
flags=(-std=c++20 -O2 -Wall -Wextra -DNDEBUG)
lines() { g++ "${flags[@]}" -E -I"$2" $1 "$here/detector_tu.cpp" | wc -l; }
cpu() {  # prints user+sys seconds of one compile
  /usr/bin/time -f '%U %S' -o "$work/t" g++ "${flags[@]}" -c -I"$2" $1 "$here/detector_tu.cpp" -o "$work/tu.o"
  awk '{ printf "%.2f\n", $1 + $2 }' "$work/t"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: > "$work/before"; : > "$work/after"
for ((i = 0; i < runs; i++)); do
  cpu "$before_api" "$before" >> "$work/before"
  cpu "" "$after" >> "$work/after"
done
lb=$(lines "$before_api" "$before"); la=$(lines "" "$after")
mb=$(median < "$work/before"); ma=$(median < "$work/after")
echo "| detector TU (3 macros, nlohmann::json payload) | before | after | ratio |"
echo "|---|---:|---:|---:|"
echo "| preprocessed lines | $lb | $la | $(awk -v a="$lb" -v b="$la" 'BEGIN { printf "%.2fx", a / b }') |"
echo "| compile CPU s, g++ -O2 -c, median of $runs | $mb | $ma | $(awk -v a="$mb" -v b="$ma" 'BEGIN { printf "%.2fx", a / b }') |"
echo "(runs before: $(tr '\n' ' ' < "$work/before"); after: $(tr '\n' ' ' < "$work/after"))"
