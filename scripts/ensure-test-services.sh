#!/usr/bin/env bash
# Makes sure the servers the test suite talks to run on 127.0.0.1: PostgreSQL (5432, trust auth for local
# TCP) and NATS with JetStream (4222). Starts them when installed but stopped; installs them from Debian's
# packages when missing (needs root). Does nothing when both already answer.
set -euo pipefail

port_open() { timeout 1 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  echo "ensure-test-services: nothing answers on 127.0.0.1:$1 after 30 s" >&2
  return 1
}

if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "ensure-test-services: installing PostgreSQL from Debian's packages"
    # Keep the package's post-install from starting a server through a missing init system.
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # The tests connect as postgres without a password over TCP, as on the development machines.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  echo "ensure-test-services: starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432
fi

if ! port_open 4222; then
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    echo "ensure-test-services: installing nats-server from Debian's packages"
    apt_install nats-server
  fi
  as_root mkdir -p /var/lib/nats-server
  echo "ensure-test-services: starting nats-server with JetStream"
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server
  wait_port 4222
fi

# TimescaleDB for the timescaledb test backend: the vendored source built once into a cache outside the clone
# (scripts/timescaledb/build.sh, docs/timescaledb.md); jest's globalSetup starts a private cluster from it.
bash "$(dirname "$0")/timescaledb/build.sh" >/dev/null ||
  echo "ensure-test-services: no TimescaleDB build: the timescaledb backend is skipped (under CI=true it fails)" >&2
