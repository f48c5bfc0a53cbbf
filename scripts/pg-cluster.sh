#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster on 127.0.0.1 for tests, benchmarks and the demo.
#   pg-cluster.sh start DIR   -> initdb (as a non-root user), start on a free port; prints the URL, writes DIR/url
#   pg-cluster.sh stop DIR    -> stop the cluster (fast shutdown)
#   pg-cluster.sh kill DIR    -> stop immediately (simulates a crash; data stays for a restart)
#   pg-cluster.sh restart DIR -> start again on the same port
#   pg-cluster.sh remove DIR  -> stop and delete everything
# initdb refuses root, so as root the cluster runs as the system user "eventscope" (created if missing).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_AS_USER=${EVENTSCOPE_PG_USER:-eventscope}
# Durability off by default: these clusters are thrown away. Benchmarks pass PG defaults with EVENTSCOPE_PG_OPTS=" ".
PG_OPTS=${EVENTSCOPE_PG_OPTS:--c fsync=off -c full_page_writes=off -c synchronous_commit=off}

die() { echo "pg-cluster: $*" >&2; exit 1; }

ensure_server_installed() {
  [ -x "$PG_BIN/initdb" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "pg-cluster: installing postgresql-15 (server binaries missing)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; } \
      || die "could not install postgresql-15"
  else
    die "PostgreSQL 15 server not found in $PG_BIN; run: sudo apt-get install postgresql-15"
  fi
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    # su with a login-free shell; keep the environment minimal and explicit.
    su -s /bin/sh "$RUN_AS_USER" -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

ensure_run_user() {
  [ "$(id -u)" = 0 ] || return 0
  id "$RUN_AS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS_USER"
}

# Below Linux's ephemeral range (32768-60999), where outgoing connections take their local ports.
free_port() {
  local port
  for port in $(shuf -i 20000-32767 -n 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

# The data directory must be reachable by the run user; as root under a private home it may not be,
# so the cluster then lives in /tmp and DIR holds a symlink to it.
data_dir_for() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    chown "$RUN_AS_USER" "$dir"
    if ! su -s /bin/sh "$RUN_AS_USER" -c "test -w '$dir'" 2>/dev/null; then
      local tmp; tmp=$(mktemp -d /tmp/eventscope-pg.XXXXXX)
      chown "$RUN_AS_USER" "$tmp"
      ln -sfn "$tmp" "$dir/cluster"
      echo "$tmp"; return 0
    fi
  fi
  mkdir -p "$dir/cluster"
  [ "$(id -u)" = 0 ] && chown "$RUN_AS_USER" "$dir/cluster"
  echo "$dir/cluster"
}

try_start_server() {
  local data=$1 port=$2 log=$3
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data $PG_OPTS" \
    start >/dev/null
}
start_server() {
  try_start_server "$@" || { cat "$3" >&2; die "server did not start (log above)"; }
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: pg-cluster.sh start|stop|kill|restart|remove DIR"

case "$cmd" in
  start)
    ensure_server_installed
    ensure_run_user
    if [ -f "$dir/url" ] && [ -f "$dir/port" ]; then die "$dir already holds a cluster (remove it first)"; fi
    data=$(data_dir_for "$dir")
    log="$data/server.log"
    as_owner "$PG_BIN/initdb" -D "$data/pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # A free port can be taken by someone else before the server binds it (a shared machine): try others.
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      try_start_server "$data/pgdata" "$port" "$log" && break
      [[ $(tail -n 8 "$log") == *"Address already in use"* ]] && [ "$attempt" -lt 5 ] || { cat "$log" >&2; die "server did not start (log above)"; }
      echo "pg-cluster: port $port was taken meanwhile; trying another" >&2
    done
    echo "$data/pgdata" >"$dir/pgdata"
    echo "$port" >"$dir/port"
    url="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  restart)
    [ -f "$dir/pgdata" ] || die "no cluster in $dir"
    data=$(cat "$dir/pgdata"); port=$(cat "$dir/port")
    start_server "$data" "$port" "$(dirname "$data")/server.log"
    cat "$dir/url"
    ;;
  stop|kill)
    [ -f "$dir/pgdata" ] || exit 0
    mode=fast; [ "$cmd" = kill ] && mode=immediate
    as_owner "$PG_BIN/pg_ctl" -D "$(cat "$dir/pgdata")" -m "$mode" -w stop >/dev/null 2>&1 || true
    ;;
  remove)
    if [ -f "$dir/pgdata" ]; then
      data=$(cat "$dir/pgdata")
      as_owner "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
      rm -rf "$(dirname "$data")"
    fi
    rm -rf "$dir"
    ;;
  *) die "unknown command $cmd" ;;
esac
