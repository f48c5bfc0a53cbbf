#!/usr/bin/env bash
# Regenerates src/graphql/schema.graphql (what the console server serves as admin over sql/schema.sql with
# hasura-metadata/) and src/graphql/operations.generated.ts (the types of queries.ts). Run it after changing
# the schema, the metadata or a query; the console server's tests fail while schema.graphql is stale, and
# `npm test` fails while operations.generated.ts is.
set -euo pipefail
dashboard=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$dashboard/.." && pwd)
work=$(mktemp -d /tmp/eventscope-codegen.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  bash "$root/scripts/pg-cluster.sh" remove "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

url=$(bash "$root/scripts/pg-cluster.sh" start "$work/pg")
psql "$url" -q -v ON_ERROR_STOP=1 -f "$root/sql/schema.sql" >/dev/null
(cd "$dashboard/server" && npm run build >/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node "$dashboard/server/dist-server/src/main.js" --metadata-dir "$root/hasura-metadata" --database-url "$url" --port "$port" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.2
done
cd "$dashboard" && node scripts/codegen.mjs --schema-from "http://127.0.0.1:$port/v1/graphql"
