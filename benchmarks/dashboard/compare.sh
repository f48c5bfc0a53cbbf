#!/usr/bin/env bash
# Before/after at production scale (GitHub issue 11), measured in one session: the dashboard's GraphQL operations
# (each variant's own queries, through the console server), ingest through the sink, bytes per job row, retention
# of one day and the rollups' p95 error. "before" is the base commit (default 54d8372), extracted with git archive
# into build-compare/before and built there; "after" is this tree. Each variant has its own throwaway cluster with
# PostgreSQL's default settings (fsync, synchronous_commit and full_page_writes on); both are removed at the end.
#
#   benchmarks/dashboard/compare.sh [--base COMMIT] [--sizes 200000,1000000,2000000] [--reps 20] [--jobs 100000]
#                                   [--skip-ingest] [--skip-dashboard] [--out DIR]
#     --sizes  invocations per data set (x5 = job rows): the growth curve; the largest set also gives bytes per
#              row, retention and the p95 error
#     --jobs   job scopes per ingest run (batch sizes 100 / 1,000 / 10,000, before and after alternately)
# Prints the tables (also in OUT/tables.md); raw JSON lines in OUT. Exits non-zero when a step fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base=54d8372; sizes=200000,1000000,2000000; reps=20; jobs=100000; ingest=1; dashboard=1; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --reps) reps=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --skip-ingest) ingest=0 ;;
    --skip-dashboard) dashboard=0 ;;
    --out) out=$2; shift ;;
    *) echo "compare: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
work="$root/build-compare"
out=${out:-$work/results-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$work" "$out"
before="$work/before"
log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$out/progress.log" >&2; }

# ---- the two trees ---------------------------------------------------------------------------------------------
if [ ! -x "$before/build/benchmarks/eventscope_pg_bench" ] || [ "$(cat "$before/.base" 2>/dev/null)" != "$base" ]; then
  log "extracting $base into $before and building its eventscope_pg_bench"
  rm -rf "$before" && mkdir -p "$before"
  git -C "$root" archive "$base" | tar -x -C "$before"
  echo "$base" > "$before/.base"
  cmake -S "$before" -B "$before/build" -DCMAKE_BUILD_TYPE=Release -DEVENTSCOPE_BUILD_TESTS=OFF -DEVENTSCOPE_BUILD_EXAMPLES=OFF \
    -DEVENTSCOPE_BUILD_BENCHMARKS=ON >/dev/null
  cmake --build "$before/build" -j2 --target eventscope_pg_bench >/dev/null
fi
# The before tree's dashboard query loader needs typescript: the same packages as this tree's.
[ -e "$before/dashboard/node_modules" ] || ln -s "$root/dashboard/node_modules" "$before/dashboard/node_modules"
after_build="$root/build-bench"
if [ ! -f "$after_build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$after_build" -DCMAKE_BUILD_TYPE=Release -DEVENTSCOPE_BUILD_TESTS=OFF -DEVENTSCOPE_BUILD_EXAMPLES=OFF \
    -DEVENTSCOPE_BUILD_BENCHMARKS=ON >/dev/null
fi
cmake --build "$after_build" -j2 --target eventscope_pg_bench >/dev/null
server="$root/dashboard/server/dist-server/src/main.js"
[ -f "$server" ] || (cd "$root/dashboard/server" && npm run build >/dev/null)

src_of() { [ "$1" = before ] && echo "$before" || echo "$root"; }
pgbench_of() { [ "$1" = before ] && echo "$before/build/benchmarks/eventscope_pg_bench" || echo "$after_build/benchmarks/eventscope_pg_bench"; }

# ---- clusters ----------------------------------------------------------------------------------------------------
declare -A url=()
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  for v in before after; do "$root/scripts/pg-cluster.sh" remove "$work/pg-$v" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
for v in before after; do
  "$root/scripts/pg-cluster.sh" remove "$work/pg-$v" >/dev/null 2>&1 || true
  url[$v]=$(EVENTSCOPE_PG_OPTS=" " "$root/scripts/pg-cluster.sh" start "$work/pg-$v")
done
export PGOPTIONS="-c client_min_messages=warning"
P() { local v=$1; shift; psql "${url[$v]}" -X -q -v ON_ERROR_STOP=1 "$@"; }
fresh_db() {  # variant -> URL of a new database with the variant's schema
  local v=$1 db="bench_$v"
  P "$v" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  local u="${url[$v]%/*}/$db"
  psql "$u" -X -q -v ON_ERROR_STOP=1 -f "$(src_of "$v")/sql/schema.sql" >/dev/null
  echo "$u"
}
{
  echo "date: $(date -Is)"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB RAM"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "postgres: $(P after -At -c 'SHOW server_version'), $(P after -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','shared_buffers')")"
  echo "before: $base; after: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (with uncommitted changes)')"
} | tee "$out/header.txt"

# ---- ingest and bytes through the sink -----------------------------------------------------------------------------
: > "$out/ingest.jsonl"; : > "$out/storage.jsonl"
if [ "$ingest" = 1 ]; then
  for v in before after; do url[${v}_db]=$(fresh_db "$v"); done
  for b in 100 1000 10000; do
    for v in before after; do
      log "ingest $v, batch $b"
      /usr/bin/time -f '%U %S' -o "$out/time.tmp" "$(pgbench_of "$v")" ingest --url "${url[${v}_db]}" --batch "$b" --jobs "$jobs" > "$out/one.json"
      read -r user sys < "$out/time.tmp"
      jq -c --arg v "$v" --argjson u "$user" --argjson s "$sys" '. + {variant: $v, client_user_s: $u, client_sys_s: $s}' "$out/one.json" >> "$out/ingest.jsonl"
    done
  done
  for v in before after; do
    log "bytes per row through the sink, $v"
    "$(pgbench_of "$v")" storage --url "${url[${v}_db]}" --invocations 20000 | jq -c --arg v "$v" '. + {variant: $v}' >> "$out/storage.jsonl"
  done
fi

# ---- dashboard operations at each size, before and after alternately --------------------------------------------
: > "$out/dashboard.jsonl"; : > "$out/generate.jsonl"; : > "$out/scale.jsonl"
largest=$(tr , '\n' <<<"$sizes" | sort -n | tail -1)
if [ "$dashboard" = 1 ]; then
  for n in ${sizes//,/ }; do
    for v in before after; do
      u=$(fresh_db "$v")
      log "$v: generating $n invocations ($((5 * n)) job rows)"
      t0=$(date +%s.%N)
      psql "$u" -X -q -v ON_ERROR_STOP=1 -v n="$n" -f "$root/benchmarks/dashboard/generate.sql" >/dev/null
      t1=$(date +%s.%N)
      psql "$u" -X -q -c "VACUUM (ANALYZE)"
      t2=$(date +%s.%N)
      jq -nc --arg v "$v" --argjson n "$n" --argjson g "$(echo "$t1 - $t0" | bc)" --argjson va "$(echo "$t2 - $t1" | bc)" \
        '{variant: $v, invocations: $n, job_rows: ($n * 5), generate_s: $g, vacuum_analyze_s: $va}' >> "$out/generate.jsonl"
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      node "$server" --metadata-dir "$(src_of "$v")/hasura-metadata" --database-url "$u" --port "$port" --static-dir none > "$out/server-$v-$n.log" 2>&1 &
      server_pid=$!
      for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
      log "$v: timing the dashboard's operations at $((5 * n)) job rows"
      node "$(src_of "$v")/benchmarks/dashboard/queries.mjs" --endpoint "http://127.0.0.1:$port/v1/graphql" --reps "$reps" --hours 24,168 |
        jq -c --arg v "$v" --argjson n "$n" '. + {variant: $v, job_rows: ($n * 5)}' >> "$out/dashboard.jsonl"
      kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
      if [ "$n" = "$largest" ]; then
        log "$v: bytes per row of the generated data, rollup error, retention of one day"
        # per table: rows (reltuples after VACUUM ANALYZE, summed over partitions), heap and index bytes per row
        bytes=$(psql "$u" -X -At -c "
          SELECT json_object_agg(t, json_build_object('rows', n,
                   'heap_b_per_row', round(heap::numeric / greatest(n, 1), 1), 'index_b_per_row', round(idx::numeric / greatest(n, 1), 1)))
          FROM (SELECT t, (SELECT sum(c.reltuples)::bigint FROM (SELECT relid FROM pg_partition_tree(('event_detector_observability.' || t)::regclass) UNION SELECT ('event_detector_observability.' || t)::regclass) p
                           JOIN pg_class c ON c.oid = p.relid WHERE c.relkind = 'r') AS n,
                       (SELECT sum(pg_table_size(relid)) FROM (SELECT relid FROM pg_partition_tree(('event_detector_observability.' || t)::regclass) UNION SELECT ('event_detector_observability.' || t)::regclass) x) AS heap,
                       (SELECT sum(pg_indexes_size(relid)) FROM (SELECT relid FROM pg_partition_tree(('event_detector_observability.' || t)::regclass) UNION SELECT ('event_detector_observability.' || t)::regclass) x) AS idx
                FROM unnest(ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs']) t) s")
        err="null"
        if [ "$v" = after ]; then
          # dashboard_stats' p95 (histogram) against percentile_cont on the same rows, per hour and source function,
          # and the KPIs' 24 h / 7 day p95 (merged hourly histograms) against percentile_cont over the window
          err=$(psql "$u" -X -At -c "
            WITH raw AS (SELECT date_trunc('hour', created_at, 'UTC') h, source_function f,
                                percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms) p
                         FROM event_detector_observability.invocations GROUP BY 1, 2),
                 e AS (SELECT abs(d.p95_duration_ms - raw.p) / raw.p AS rel FROM raw
                       JOIN event_detector_observability.dashboard_stats d ON d.hour_bucket = raw.h AND d.source_function = raw.f),
                 w AS (SELECT hours, (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms) FROM event_detector_observability.invocations
                                      WHERE created_at >= date_trunc('hour', now() - hours * interval '1 hour', 'UTC')) AS exact,
                              event_detector_observability.hist_quantile((SELECT event_detector_observability.hist_sum(duration_hist)
                                 FROM event_detector_observability.invocation_hourly
                                 WHERE hour_bucket >= date_trunc('hour', now() - hours * interval '1 hour', 'UTC')), 0.95) AS est
                       FROM unnest(ARRAY[24, 168]) hours)
            SELECT json_build_object('groups', (SELECT count(*) FROM e), 'max_rel_error', (SELECT round(max(rel)::numeric, 4) FROM e),
                                     'median_rel_error', (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY rel))::numeric, 4) FROM e),
                                     'windows', (SELECT json_agg(json_build_object('hours', hours, 'percentile_cont', exact, 'rollup', est,
                                                 'rel_error', round((abs(est - exact::numeric) / exact::numeric), 4))) FROM w))")
        fi
        # Retention of the oldest data: after, the oldest partition holding rows is dropped
        # (drop_old_partitions(days) with days = today - its end); before, 001's batched DELETE with the same days.
        days=$(psql "$u" -X -At -c "SELECT COALESCE((SELECT (now() AT TIME ZONE 'UTC')::date - min(r.end_day)
            FROM event_detector_observability.partition_ranges('invocations') r
            WHERE r.first_day <= (SELECT min(created_at) FROM event_detector_observability.invocations)::date), 29)" 2>/dev/null || echo 29)
        [ -n "$days" ] || days=29
        jobs_before=$(psql "$u" -X -At -c "SELECT count(*) FROM event_detector_observability.job_executions")
        t0=$(date +%s.%N)
        if [ "$v" = after ]; then
          ret=$(psql "$u" -X -At -c "SELECT json_agg(r) FROM event_detector_observability.drop_old_partitions($days) r")
        else
          psql "$u" -X -q -c "CALL event_detector_observability.purge_observability_data($days)"
          ret='"batched DELETE (purge_observability_data)"'
        fi
        t1=$(date +%s.%N)
        jq -nc --arg v "$v" --argjson n "$n" --argjson b "$bytes" --argjson e "$err" --argjson r "${ret:-null}" \
          --argjson s "$(echo "$t1 - $t0" | bc)" \
          --argjson removed "$(( jobs_before - $(psql "$u" -X -At -c "SELECT count(*) FROM event_detector_observability.job_executions") ))" \
          '{variant: $v, job_rows: ($n * 5), bytes: $b, p95_error: $e, retention: {seconds: $s, days: '"$days"', job_rows_removed: $removed, result: $r}}' >> "$out/scale.jsonl"
      fi
      P "$v" -c "DROP DATABASE IF EXISTS bench_$v WITH (FORCE)"
    done
  done
fi
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/header.txt"
python3 "$root/benchmarks/dashboard/compare_tables.py" "$out" | tee "$out/tables.md"
echo "(results: $out)"
