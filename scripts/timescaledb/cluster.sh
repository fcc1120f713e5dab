#!/usr/bin/env bash
# A private PostgreSQL cluster with TimescaleDB preloaded, for tests and benchmarks (docs/timescaledb.md): the
# relocated PostgreSQL + TimescaleDB cached by build.sh, initdb in a new temporary directory, started on a free
# loopback port. The system PostgreSQL is never touched.
#
#   cluster.sh start [--owner PID] [-c name=value ...]   # prints "<admin url> <dir>"; exits 3 when not built
#   cluster.sh stop DIR                                   # stops the cluster and removes DIR
#
# -c settings override the defaults (e.g. -c shared_preload_libraries= for a cluster that has the extension files
# but does not preload them). A cluster whose --owner process (default: the caller) no longer exists is a leftover
# of a killed run: the next start stops and removes it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_MAJOR=${TIMESCALEDB_PG_MAJOR:-15}
DIR_PREFIX=ea-timescaledb-
TMP=${TMPDIR:-/tmp}

prefix=$(bash "$HERE/build.sh" --prefix) || { echo "cluster.sh: TimescaleDB is not built (run: bash scripts/timescaledb/build.sh)" >&2; exit 3; }
BIN=$prefix/usr/lib/postgresql/$PG_MAJOR/bin

# PostgreSQL refuses to run as root; as root the cluster runs as the postgres system user.
as_server() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_dir() {
  local dir=$1
  case "$(basename "$dir")" in "$DIR_PREFIX"*) ;; *) echo "cluster.sh: $dir is not a cluster directory" >&2; return 1 ;; esac
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null 2>&1 ||
      as_server "$BIN/pg_ctl" stop -D "$dir/data" -m immediate -w >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

case "${1:-}" in
  stop)
    stop_dir "${2:?cluster.sh stop DIR}"
    ;;
  start)
    shift
    owner=$PPID
    settings=(-c listen_addresses=127.0.0.1 -c "unix_socket_directories=" -c shared_preload_libraries=timescaledb
      -c timescaledb.telemetry_level=off -c max_connections=200)
    while [ $# -gt 0 ]; do
      case "$1" in
        --owner) owner=$2; shift 2 ;;
        -c) settings+=(-c "$2"); shift 2 ;;
        *) echo "cluster.sh: unknown argument $1" >&2; exit 2 ;;
      esac
    done
    for dir in "$TMP/$DIR_PREFIX"*; do
      [ -f "$dir/owner.pid" ] || continue
      pid=$(cat "$dir/owner.pid")
      kill -0 "$pid" 2>/dev/null || stop_dir "$dir"
    done
    dir=$(mktemp -d "$TMP/${DIR_PREFIX}XXXXXX")
    echo "$owner" >"$dir/owner.pid"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_server "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
    # A free port can be taken between the probe and the start: try a few.
    for _ in 1 2 3 4 5; do
      port=$(free_port)
      if as_server "$BIN/pg_ctl" start -D "$dir/data" -w -t 60 -l "$dir/server.log" -o "-p $port" \
        -o "$(printf "%q " "${settings[@]}")" >/dev/null 2>&1; then
        echo "postgres://postgres@127.0.0.1:$port/postgres $dir"
        exit 0
      fi
    done
    tail -n 20 "$dir/server.log" >&2
    rm -rf "$dir"
    exit 1
    ;;
  *)
    echo "usage: cluster.sh start [--owner PID] [-c name=value ...] | cluster.sh stop DIR" >&2
    exit 2
    ;;
esac
