#!/usr/bin/env bash
# Builds the vendored TimescaleDB source once into a cache outside the clone, beside a relocated copy of Debian's
# PostgreSQL binaries, so tests and benchmarks can run a private cluster that preloads it (docs/timescaledb.md).
# Never installs anything into the system PostgreSQL: a non-preloaded install there makes CREATE EXTENSION end
# the connection with a FATAL (see the vendor README).
#
#   bash scripts/timescaledb/build.sh            # build unless cached; prints the prefix on the last line
#   bash scripts/timescaledb/build.sh --prefix   # print the prefix; exit 3 when it is not built yet
#
# The cache is keyed by the tarball's sha256 (pinned below) and the PostgreSQL major version:
#   ${TIMESCALEDB_CACHE_DIR:-/var/cache/equipment-anomaly (root) or ${XDG_CACHE_HOME:-~/.cache}/equipment-anomaly}
#     /timescaledb-<sha256>-pg<major>/usr/lib/postgresql/<major>/{bin,lib}, .../usr/share/postgresql/<major>
# The tarball: TIMESCALEDB_TARBALL, else shared/vendor/timescaledb/ beside the clone or a folder above it.
set -euo pipefail

VERSION=2.28.3
SHA256=c80abd42995a317d9c046da6499a7a6e63c58e188124a2f20580f7c82fa4b801
PG_MAJOR=${TIMESCALEDB_PG_MAJOR:-15}   # 2.28.x is the last line for PostgreSQL 15, the one Debian 12 ships

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${TIMESCALEDB_CACHE_DIR:-}" ]; then cache_root=$TIMESCALEDB_CACHE_DIR
elif [ "$(id -u)" = 0 ]; then cache_root=/var/cache/equipment-anomaly
else cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/equipment-anomaly
fi
PREFIX=$cache_root/timescaledb-$SHA256-pg$PG_MAJOR

if [ "${1:-}" = --prefix ]; then
  echo "$PREFIX"
  [ -f "$PREFIX/.complete" ] || exit 3
  exit 0
fi

log() { echo "timescaledb-build: $*" >&2; }
if [ -f "$PREFIX/.complete" ]; then log "cached build $VERSION (PostgreSQL $PG_MAJOR) in $PREFIX"; echo "$PREFIX"; exit 0; fi

tarball=${TIMESCALEDB_TARBALL:-}
if [ -z "$tarball" ]; then
  # ../shared/vendor/timescaledb beside the clone, or beside any folder above it (a worktree under wt/, a CI clone).
  dir=$ROOT
  while [ "$dir" != / ]; do
    dir=$(dirname "$dir")
    candidate=$dir/shared/vendor/timescaledb/timescaledb-$VERSION.tar.gz
    [ -f "$candidate" ] && { tarball=$candidate; break; }
  done
fi
if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
  log "no timescaledb-$VERSION.tar.gz (set TIMESCALEDB_TARBALL or put it in ../shared/vendor/timescaledb/)"
  exit 3
fi
actual=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$actual" != "$SHA256" ]; then log "$tarball has sha256 $actual, expected $SHA256"; exit 1; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for pkg in "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" cmake libssl-dev gcc make; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${missing[@]}" >/dev/null
fi

mkdir -p "$cache_root"
# One build at a time per cache (two CI runs, or tests and a benchmark started together).
exec 9>"$cache_root/.timescaledb-$SHA256-pg$PG_MAJOR.lock"
flock 9
if [ -f "$PREFIX/.complete" ]; then log "built meanwhile by another run: $PREFIX"; echo "$PREFIX"; exit 0; fi

started=$(date +%s)
work=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/prefix
log "building TimescaleDB $VERSION against PostgreSQL $PG_MAJOR ($(nproc) cores) into $PREFIX"
# Debian's server binaries find their share and lib directories relative to bin/, so a copy under a prefix is
# a PostgreSQL of its own; the extension goes into that copy only (DESTDIR).
mkdir -p "$stage/usr/lib/postgresql" "$stage/usr/share/postgresql"
cp -a "/usr/lib/postgresql/$PG_MAJOR" "$stage/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$PG_MAJOR" "$stage/usr/share/postgresql/"
tar xzf "$tarball" -C "$work"
(
  cd "$work/timescaledb-$VERSION"
  ./bootstrap -DPG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
    -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF -DGENERATE_DOWNGRADE_SCRIPT=OFF -DCMAKE_BUILD_TYPE=Release
  make -C build -j"$(nproc)"
  make -C build install DESTDIR="$stage"
) >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; log "build failed"; exit 1; }
ls "$stage/usr/lib/postgresql/$PG_MAJOR/lib/timescaledb-$VERSION.so" >/dev/null
cp "$work/build.log" "$stage/build.log"
echo "$VERSION $SHA256 built $(date -u +%FT%TZ) in $(( $(date +%s) - started )) s" >"$stage/.complete"
chmod -R go+rX "$stage"
rm -rf "$PREFIX"
mv "$stage" "$PREFIX"
log "built in $(( $(date +%s) - started )) s"
echo "$PREFIX"
