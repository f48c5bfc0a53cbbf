#!/usr/bin/env bash
# Microbenchmarks of eventscope's hot path (GitHub issue 6). See benchmarks/README.md.
#   scripts/bench-micro.sh [--smoke] [--pg] [--build-dir DIR] [--no-build] [--out DIR] [-- extra google-benchmark flags]
#     --smoke      tiny fixed iteration counts, one repetition (< 30 s): the test suite's check that it all runs
#     --pg         also measure the postgres_sink caller cost against a throwaway cluster (PG defaults, removed
#                  after); without it the postgres variant runs only when EVENTSCOPE_BENCH_DB_URL is set
#     --build-dir  default: <repo>/build-bench (configured Release if missing; builds with -j2)
#     --no-build   use the binaries as they are (the ctest smoke)
#     --out DIR    where the JSON and the ratio table go (default: a temp dir, printed)
#     --before DIR a source tree to compare against (e.g. `git worktree add /tmp/base <commit>`): the same
#                  micro.cpp is built against its headers too, and both run in this one invocation, alternating
#                  (--rounds N, default 3); then callgrind instruction counts, resident memory per buffered job
#                  and the compile cost of a detector file, before and after. Writes $out/comparison.md.
# Steps: build; capture::off codegen check (objdump of a noinline function with off-scopes must equal the same
# function without them); eventscope_micro with 5 repetitions (medians); a ratio table against the baselines.
# Exits non-zero when a binary fails, the codegen check fails, or a benchmark reports an error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"; smoke=0; pg=0; do_build=1; out=""; extra=(); before=""; rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --pg) pg=1 ;;
    --build-dir) build=$2; shift ;;
    --no-build) do_build=0 ;;
    --out) out=$2; shift ;;
    --before) before=$(cd "$2" && pwd); shift ;;
    --rounds) rounds=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "bench-micro: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
auto_out=0
[ -n "$out" ] || { out=$(mktemp -d /tmp/eventscope-bench-micro.XXXXXX); auto_out=1; }
mkdir -p "$out"
pgdir=""
cleanup() {
  if [ -n "$pgdir" ]; then "$root/scripts/pg-cluster.sh" remove "$pgdir/pg" >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
  if [ "$smoke" = 1 ] && [ "$auto_out" = 1 ]; then rm -rf "$out"; fi   # smoke runs leave nothing behind
}
trap cleanup EXIT

if [ "$do_build" = 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEVENTSCOPE_BUILD_TESTS=OFF \
      -DEVENTSCOPE_BUILD_EXAMPLES=OFF -DEVENTSCOPE_BUILD_BENCHMARKS=ON >/dev/null
  fi
  if [ -n "$before" ]; then
    cmake -S "$root" -B "$build" -DEVENTSCOPE_BENCH_BEFORE_DIR="$before" >/dev/null
    cmake --build "$build" -j2 --target eventscope_micro eventscope_micro_before eventscope_offcheck >/dev/null
  else
    cmake --build "$build" -j2 --target eventscope_micro eventscope_offcheck >/dev/null
  fi
fi
bin="$build/benchmarks"
for b in eventscope_micro eventscope_offcheck; do
  [ -x "$bin/$b" ] || { echo "bench-micro: $bin/$b missing (build it or drop --no-build)" >&2; exit 1; }
done

echo "== $(date -Is)  $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. capture::off generates the same code as no instrumentation.
"$bin/eventscope_offcheck"
objdump -d --no-show-raw-insn "$bin/eventscope_offcheck" > "$out/offcheck.dis"
# A function's instructions without addresses: call/jump targets, and rip-relative displacements (a literal's
# place in .rodata moves with the code around it), and the alignment padding after its last instruction.
body() {
  awk -v fn="<$1>:" '$2 == fn { p = 1; next } p && /^$/ { exit } p' "$out/offcheck.dis" |
    sed -E 's/^ *[0-9a-f]+:[[:space:]]*//; s/[0-9a-f]+ <[^>]*>/<addr>/g; s/-?0x[0-9a-f]+\(%rip\)/<rip>/g' |
    awk '{ lines[NR] = $0 } END { n = NR; while (n > 0 && lines[n] ~ /^(nop|xchg +%ax,%ax|data16|cs nopw)/) n--; for (i = 1; i <= n; i++) print lines[i] }'
}
plain=$(body esb_plain); off=$(body esb_off_scopes)
[ -n "$plain" ] || { echo "bench-micro: esb_plain not found in the disassembly" >&2; exit 1; }
if [ "$plain" != "$off" ]; then
  echo "bench-micro: FAIL capture::off changes the generated code:" >&2
  diff <(echo "$plain") <(echo "$off") >&2 || true
  exit 1
fi
echo "capture::off codegen: esb_off_scopes == esb_plain ($(echo "$plain" | wc -l) instructions, objdump -d)"
# Issue 14: EVENTSCOPE_DETECT under capture::off is the bare && of its clauses.
plain=$(body esb_plain_detect); off=$(body esb_off_detect)
[ -n "$plain" ] || { echo "bench-micro: esb_plain_detect not found in the disassembly" >&2; exit 1; }
if [ "$plain" != "$off" ]; then
  echo "bench-micro: FAIL EVENTSCOPE_DETECT under capture::off changes the generated code:" >&2
  diff <(echo "$plain") <(echo "$off") >&2 || true
  exit 1
fi
echo "capture::off codegen: esb_off_detect == esb_plain_detect ($(echo "$plain" | wc -l) instructions, objdump -d)"

# 2. Optional throwaway PostgreSQL for the postgres_sink variant.
if [ "$pg" = 1 ]; then
  pgdir=$(mktemp -d /tmp/eventscope-bench-micro-pg.XXXXXX)
  url=$(EVENTSCOPE_PG_OPTS=" " "$root/scripts/pg-cluster.sh" start "$pgdir/pg")
  psql "$url" -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages=warning" -f "$root/sql/schema.sql" >/dev/null
  export EVENTSCOPE_BENCH_DB_URL=$url
fi

# 2b. Comparison with another tree (--before): everything below runs both builds and exits.
if [ -n "$before" ]; then
  [ -x "$bin/eventscope_micro_before" ] || { echo "bench-micro: $bin/eventscope_micro_before missing" >&2; exit 1; }
  export LTTNG_UST_REGISTER_TIMEOUT=0
  filter='^baseline(/|$)|^job/off(/|$)|^job/full/memory/ring16k(/iter|$)|^job/full/memory/ring1M(/iter|$)|^job/full/memory/ring16k/no_running_rows|^job/full/consumer_parked|^job/full\+result|^invocation/|^invocation5x5/full|^peer/spdlog_async_nullsink(/|$)|^mt2/'
  for ((r = 1; r <= rounds; r++)); do
    for side in after before; do
      exe="$bin/eventscope_micro"; [ "$side" = before ] && exe="$bin/eventscope_micro_before"
      "$exe" --benchmark_filter="$filter" --benchmark_repetitions=1 --benchmark_min_time=0.3 \
        --benchmark_out="$out/$side-$r.json" --benchmark_out_format=json > /dev/null 2> "$out/$side-$r.stderr" \
        || { cat "$out/$side-$r.stderr" >&2; echo "bench-micro: $side run $r failed" >&2; exit 1; }
    done
  done
  # Instructions per call (callgrind), the same functions in both builds.
  calls=20000
  for side in after before; do
    exe="$bin/eventscope_micro"; [ "$side" = before ] && exe="$bin/eventscope_micro_before"
    ESB_CALLGRIND=$calls valgrind --tool=callgrind --callgrind-out-file="$out/callgrind-$side.out" --toggle-collect='*esb_cg_*' \
      "$exe" > "$out/callgrind-$side.txt" 2> "$out/callgrind-$side.log" || { tail "$out/callgrind-$side.log" >&2; exit 1; }
    callgrind_annotate --inclusive=yes --threshold=100 "$out/callgrind-$side.out" 2>/dev/null | grep -E 'esb_cg_' > "$out/callgrind-$side.fn" || true
    ESB_MEMORY=1 "$exe" > "$out/memory-$side.json"
  done
  # Compile cost of a detector file.
  bash "$root/benchmarks/compile/measure.sh" "$before/include" "$root/include" 5 > "$out/compile.md"
  python3 - "$out" "$rounds" "$calls" > "$out/comparison.md" <<'PY'
import json, re, statistics, sys
out, rounds, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
unit = {"ns": 1.0, "us": 1e3, "ms": 1e6}
def load(side):
    runs = {}
    for r in range(1, rounds + 1):
        for b in json.load(open(f"{out}/{side}-{r}.json"))["benchmarks"]:
            name = re.sub(r"/(iterations:\d+|real_time|threads:\d+)", "", b.get("run_name", b["name"]))
            runs.setdefault(name, []).append(b["cpu_time"] * unit[b["time_unit"]])
    return {k: statistics.median(v) for k, v in runs.items()}
after, before = load("after"), load("before")
print(f"CPU time of the calling thread, ns per call, median of {rounds} alternating runs (Google Benchmark):\n")
print("| benchmark | before | after | after / before |")
print("|---|---:|---:|---:|")
for k in after:
    b = before.get(k)
    print(f"| {k} | {b:.1f} | {after[k]:.1f} | {after[k] / b:.2f} |" if b else f"| {k} | - | {after[k]:.1f} | - |")
def ir(side):
    got = {}
    for line in open(f"{out}/callgrind-{side}.fn"):
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+.*?(esb_cg_\w+)", line)
        if m: got[m.group(2)] = got.get(m.group(2), 0) + int(m.group(1).replace(",", ""))
    return got
ia, ib = ir("after"), ir("before")
print(f"\nInstructions per call (callgrind, inclusive, {calls} calls each, pipeline parked):\n")
print("| function | before | after | after / before |")
print("|---|---:|---:|---:|")
for k in sorted(set(ia) | set(ib)):
    a, b = ia.get(k, 0) / calls, ib.get(k, 0) / calls
    print(f"| {k} | {b:.0f} | {a:.0f} | {a / b:.2f} |" if b else f"| {k} | - | {a:.0f} | - |")
ma, mb = json.load(open(f"{out}/memory-after.json")), json.load(open(f"{out}/memory-before.json"))
print("\nResident memory per buffered job (parked sink, ring of 2^20 records filled; running row + final row):\n")
print("| | before | after |")
print("|---|---:|---:|")
print(f"| jobs buffered | {mb['jobs_buffered']} | {ma['jobs_buffered']} |")
print(f"| RSS per job, bytes | {mb['rss_per_job']:.0f} | {ma['rss_per_job']:.0f} |")
print()
print(open(f"{out}/compile.md").read())
PY
  echo "== $(date -Is)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  cat "$out/comparison.md"
  echo "(results: $out)"
  exit 0
fi

# 3. The benchmarks.
export LTTNG_UST_REGISTER_TIMEOUT=0   # no session daemon here: do not wait for one at start-up
if [ "$smoke" = 1 ]; then
  export ESB_SMOKE=1
  flags=(--benchmark_repetitions=1)
else
  flags=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_min_time=0.3)
fi
"$bin/eventscope_micro" "${flags[@]}" --benchmark_out="$out/micro.json" --benchmark_out_format=json "${extra[@]}" \
  > "$out/micro.txt" 2> "$out/micro.stderr" || { cat "$out/micro.txt" "$out/micro.stderr" >&2; echo "bench-micro: eventscope_micro failed" >&2; exit 1; }

# 4. Ratio table: median ns/op of each benchmark against the baseline of the same run and group.
python3 - "$out/micro.json" > "$out/ratios.md" <<'EOF'
import json, re, sys
data = json.load(open(sys.argv[1]))
rows, errors = {}, []
for b in data["benchmarks"]:
    if b.get("error_occurred"):
        errors.append(f'{b["name"]}: {b.get("error_message")}')
        continue
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue
    name = re.sub(r"/(iterations:\d+|real_time|threads:\d+|repeats:\d+)", "", b.get("run_name", b["name"]))
    name = re.sub(r"_(median|mean|stddev|cv)$", "", name)
    rows[name] = b
if errors:
    print("\n".join("ERROR " + e for e in errors), file=sys.stderr)
    sys.exit(1)
if not rows:
    print("no benchmark results", file=sys.stderr); sys.exit(1)
def base_of(name):
    if name.startswith("invocation5x5/"): return "invocation5x5/baseline"
    if name.startswith("mt2/"): return "mt2/baseline"
    return "baseline"
unit = {"ns": 1.0, "us": 1e3, "ms": 1e6}
ns = {k: v["real_time"] * unit[v["time_unit"]] for k, v in rows.items()}
cpu = {k: v["cpu_time"] * unit[v["time_unit"]] for k, v in rows.items()}
# Wall time is what a caller waits; CPU time is the calling thread's own cost. They differ when the machine is
# loaded (2 cores shared with the pipeline thread, the sink, and other processes): read both.
print("| benchmark | wall ns/op | wall vs baseline | CPU ns/op | CPU vs baseline | CPU ns added | records | dropped (ring full) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for k, b in rows.items():
    bk = base_of(k)
    r = f"{ns[k] / ns[bk]:.2f}x" if bk in ns else "-"
    rc = f"{cpu[k] / cpu[bk]:.2f}x" if bk in cpu else "-"
    added = f"{cpu[k] - cpu[bk]:.1f}" if bk in cpu else "-"
    rec = f'{b["records"]:.0f}' if "records" in b else ""
    drop = f'{b["dropped"]:.0f} ({b["drop_pct"]:.1f} %)' if "dropped" in b else ""
    print(f"| {k} | {ns[k]:.1f} | {r} | {cpu[k]:.1f} | {rc} | {added} | {rec} | {drop} |")
EOF
cat "$out/micro.txt" | grep -v '^\*\*\*WARNING' || true
echo
cat "$out/ratios.md"
[ "$smoke" = 1 ] && [ "$auto_out" = 1 ] || echo "(results: $out)"
