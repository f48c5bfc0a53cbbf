#!/usr/bin/env bash
# Throughput, memory, storage and dashboard-query benchmarks against a real, throwaway PostgreSQL 15 cluster
# (GitHub issue 6; see benchmarks/README.md). The cluster runs with PostgreSQL's DEFAULT durability settings
# (fsync=on, synchronous_commit=on, full_page_writes=on: EVENTSCOPE_PG_OPTS=" ") and is removed afterwards.
#   scripts/bench-postgres.sh [--smoke] [--build-dir DIR] [--no-build] [--out DIR]
#                             [--jobs N] [--storage-invocations N] [--dash-invocations N[,N...]] [--no-dashboard]
#     --smoke                 tiny sizes (< 30 s once built): the test suite's check that everything runs
#     --jobs N                job scopes per ingest run (default 300000), for batch sizes 100 / 1,000 / 10,000
#     --storage-invocations N invocations written through the sink for bytes on disk (default 20000)
#     --dashboard-only        skip memory / ingest / storage
#     --reps N                timed runs per dashboard query (default 20, after 2 warm-up runs)
#     --dash-invocations LIST dashboard data sets, invocations (x5 = job rows; default 200000 = 1M job rows;
#                             2000000 = 10M job rows)
# Exits non-zero when a program fails, a query errors, or rows are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"; smoke=0; do_build=1; out=""; jobs=300000; storage_n=20000; dash_list=200000; dashboard=1; only_dash=0; reps_arg=
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build=$2; shift ;;
    --no-build) do_build=0 ;;
    --out) out=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --storage-invocations) storage_n=$2; shift ;;
    --dash-invocations) dash_list=$2; shift ;;
    --no-dashboard) dashboard=0 ;;
    --reps) reps_arg=$2; shift ;;
    --dashboard-only) only_dash=1 ;;
    *) echo "bench-postgres: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
reps=20; mem_jobs=""
[ -n "$reps_arg" ] && reps=$reps_arg
if [ "$smoke" = 1 ]; then jobs=2000; storage_n=100; dash_list=2000; reps=3; mem_jobs="--jobs 20000"; fi
auto_out=0
[ -n "$out" ] || { out=$(mktemp -d /tmp/eventscope-bench-pg.XXXXXX); auto_out=1; }
mkdir -p "$out"

if [ "$do_build" = 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEVENTSCOPE_BUILD_TESTS=OFF \
      -DEVENTSCOPE_BUILD_EXAMPLES=OFF -DEVENTSCOPE_BUILD_BENCHMARKS=ON >/dev/null
  fi
  cmake --build "$build" -j2 --target eventscope_pg_bench >/dev/null
fi
pgb="$build/benchmarks/eventscope_pg_bench"
[ -x "$pgb" ] || { echo "bench-postgres: $pgb missing (build it or drop --no-build)" >&2; exit 1; }

dir=$(mktemp -d /tmp/eventscope-bench-pgcluster.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  "$root/scripts/pg-cluster.sh" remove "$dir/pg" >/dev/null 2>&1 || true
  rm -rf "$dir"
  if [ "$smoke" = 1 ] && [ "$auto_out" = 1 ]; then rm -rf "$out"; fi   # smoke runs leave nothing behind
}
trap cleanup EXIT
url=$(EVENTSCOPE_PG_OPTS=" " "$root/scripts/pg-cluster.sh" start "$dir/pg")
export PGOPTIONS="-c client_min_messages=warning"
P() { psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }
P -f "$root/sql/schema.sql" >/dev/null
settings=$(P -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','shared_buffers','max_wal_size','wal_level')")
{
  echo "date: $(date -Is)"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB RAM"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "postgres: $(P -At -c 'SHOW server_version') ($settings; shared_buffers in 8 kB pages)"
} | tee "$out/header.txt"

if [ "$only_dash" = 0 ]; then
  echo "== memory per buffered job (sink blocked)"
  "$pgb" memory $mem_jobs > "$out/memory.jsonl"
  echo "== ingest through postgres_sink"
  : > "$out/ingest.jsonl"
  for b in 100 1000 10000; do
    "$pgb" ingest --url "$url" --batch "$b" --jobs "$jobs" >> "$out/ingest.jsonl" || { cat "$out/ingest.jsonl" >&2; echo "bench-postgres: ingest failed (batch $b)" >&2; exit 1; }
  done
  echo "== storage written through the sink, after VACUUM"
  "$pgb" storage --url "$url" --invocations "$storage_n" > "$out/storage.jsonl"
  "$pgb" storage --url "$url" --invocations "$storage_n" --payload >> "$out/storage.jsonl"
fi

: > "$out/dashboard.jsonl"
if [ "$dashboard" = 1 ]; then
  main="$root/dashboard/server/dist-server/src/main.js"
  if ! { [ -f "$main" ] && command -v node >/dev/null; }; then
    if [ "$smoke" = 1 ]; then
      echo "bench-postgres: console server not built ($main): dashboard queries skipped in the smoke run"; dash_list=""
    else
      echo "bench-postgres: console server not built ($main); build it (dashboard/server/README.md) or pass --no-dashboard" >&2; exit 1
    fi
  fi
  for n in ${dash_list//,/ }; do
    echo "== dashboard data: $n invocations, $((5 * n)) job rows (generated in SQL)"
    P -c "TRUNCATE event_detector_observability.invocations, event_detector_observability.event_executions, event_detector_observability.job_executions, event_detector_observability.job_logs"
    t0=$(date +%s)
    P -v n="$n" -f "$root/benchmarks/dashboard/generate.sql" >/dev/null
    P -c "VACUUM (ANALYZE)"
    echo "generated + vacuumed in $(( $(date +%s) - t0 )) s; job rows: $(P -At -c 'SELECT count(*) FROM event_detector_observability.job_executions')"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    OBSERVABILITY_DB_URL=$url node "$main" --metadata-dir "$root/hasura-metadata" --database-url "$url" --port "$port" \
      --static-dir none > "$out/server-$n.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$out/server-$n.log" >&2; echo "bench-postgres: console server did not start" >&2; exit 1; }
    node "$root/benchmarks/dashboard/queries.mjs" --endpoint "http://127.0.0.1:$port/v1/graphql" --reps "$reps" --hours 24,168 |
      jq -c --argjson n "$n" '. + {job_rows: ($n * 5)}' >> "$out/dashboard.jsonl" || { echo "bench-postgres: a dashboard query failed" >&2; grep error "$out/dashboard.jsonl" | grep -v '"error":null' >&2; exit 1; }
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  done
fi

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/header.txt"
python3 - "$out" > "$out/tables.md" <<'EOF'
import json, sys, os
d = sys.argv[1]
def load(f):
    p = os.path.join(d, f)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
print("### Ingest through postgres_sink (job rows/s, caller ns per job scope while the sink is busy)\n")
print("| batch size | jobs | job rows/s | all rows/s | transactions | caller p50 ns | p99 ns | p99.9 ns | max ns | dropped |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in load("ingest.jsonl"):
    print(f'| {r["batch_size"]:,} | {r["jobs"]:,} | {r["job_rows_per_s"]:,.0f} | {r["all_rows_per_s"]:,.0f} | {r["sink_transactions"]} | {r["caller_ns_p50"]:.0f} | {r["caller_ns_p99"]:.0f} | {r["caller_ns_p999"]:.0f} | {r["caller_ns_max"]:,.0f} | {r["records_dropped"]} |')
print("\n### Resident memory per buffered job (sink blocked; RSS delta incl. the preallocated ring)\n")
print("| capture | records/job | with result | jobs buffered | RSS/job B | heap/job B (mallinfo2) | sizeof(record) |")
print("|---|---:|---|---:|---:|---:|---:|")
for r in load("memory.jsonl"):
    print(f'| {r["capture"]} | {r["records_per_job"]} | {r["with_result"]} | {r["jobs"]:,} | {r["rss_per_job_bytes"]:.0f} | {r["heap_per_job_bytes"]:.0f} | {r["sizeof_record"]} |')
print("\n### Bytes on disk after VACUUM (written through the sink; 2 events, 1 detected with 5 jobs, 1 log line per job)\n")
print("| payload captured | B/job row (job_executions) | B/job incl. its log | B/invocation (all 4 tables) | invocations | job_executions table/index B per row |")
print("|---|---:|---:|---:|---:|---|")
for r in load("storage.jsonl"):
    t = r["tables"]["job_executions"]
    print(f'| {r["payload_captured"]} | {r["bytes_per_job_row"]:.0f} | {r["bytes_per_job_incl_log"]:.0f} | {r["bytes_per_invocation_5_jobs"]:,.0f} | {r["invocations"]:,} | {t["table_bytes"]/t["rows"]:.0f} / {t["index_bytes"]/t["rows"]:.0f} |')
rows = load("dashboard.jsonl")
if rows:
    print("\n### Dashboard GraphQL through the console server (ms round trip, p50 / p95)\n")
    sets = sorted({(r["job_rows"], r["hours"]) for r in rows})
    print("| operation | " + " | ".join(f'{j/1e6:g}M jobs, {h} h' for j, h in sets) + " |")
    print("|---|" + "---:|" * len(sets))
    ops = list(dict.fromkeys(r["op"] for r in rows))
    by = {(r["op"], r["job_rows"], r["hours"]): r for r in rows}
    for op in ops:
        cells = []
        for s in sets:
            r = by.get((op,) + s)
            cells.append("-" if not r else ("ERROR" if r["error"] else f'{r["p50_ms"]:.1f} / {r["p95_ms"]:.1f}'))
        print(f"| {op} | " + " | ".join(cells) + " |")
    worst = max((r for r in rows if r["p95_ms"] is not None), key=lambda r: r["p95_ms"])
    print(f'\nworst p95: {worst["op"]} {worst["p95_ms"]} ms ({worst["job_rows"]/1e6:g}M jobs, {worst["hours"]} h)')
EOF
cat "$out/tables.md"
[ "$smoke" = 1 ] && [ "$auto_out" = 1 ] || echo "(results: $out)"
