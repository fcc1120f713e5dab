#!/usr/bin/env bash
# Checks the deployment files without a container engine (issue 8). Runs in CI on a fresh
# Debian bookworm machine: installs what it needs with apt-get only when it is missing.
#
#   bash scripts/check-deploy.sh            # all checks
#   SKIP_JEST=1 bash scripts/check-deploy.sh  # without the jest test of test/deploy
#
# Checks: compose files (base, base + scale) validate and need nothing outside .env.example;
# .env.example documents every variable; the app container only gets settings the service knows;
# promtool check config / check rules / test rules; dashboard JSON and every YAML parse; nginx -t;
# shell syntax of the init script; Dockerfile with hadolint when installed (else skipped, with the
# reason) plus this script's own structural checks; jest test/deploy (metric references).
# Debian packages installed when missing: docker-compose (compose v1, used when the
# `docker compose` plugin is absent), prometheus (for promtool), nginx-light (for nginx -t).
# Their daemons are never left running (no Prometheus on :9090 after this script).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
START=$(date +%s)
PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

pass() { PASSED=$((PASSED + 1)); printf '  PASS  %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$1"); printf '  FAIL  %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/        /'; return 0; }
skip() { SKIPPED=$((SKIPPED + 1)); printf '  SKIP  %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/        /'; return 0; }
section() { printf '\n== %s\n' "$1"; }

# Runs a command; PASS/FAIL with its output on failure.
check() {
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# ---------------------------------------------------------------------------------------------
section "Tools"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi

need=()
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  COMPOSE=(docker-compose)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
fi
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }
[ -n "$(nginx_bin)" ] || need+=(nginx-light)
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)

# PIDs of daemons that run before we install anything: those are not ours to stop.
running_before=" $(pgrep -x prometheus 2>/dev/null | tr '\n' ' ') $(pgrep -x nginx 2>/dev/null | tr '\n' ' ') "

if [ ${#need[@]} -gt 0 ]; then
  echo "  installing with apt-get: ${need[*]}"
  # Keep package scripts from starting daemons (the same mechanism Docker images use).
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null && "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d && created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${SUDO[@]}" apt-get update -qq >"$WORK/apt.log" 2>&1 &&
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$WORK/apt.log" 2>&1; }; then
    cat "$WORK/apt.log" >&2
    echo "check-deploy: could not install ${need[*]}" >&2
    [ "$created_policy" = 1 ] && "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
    exit 2
  fi
  [ "$created_policy" = 1 ] && "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
fi

# Stop and disable daemons that the packages started anyway (systemd hosts without policy-rc.d).
for daemon in prometheus nginx; do
  for pid in $(pgrep -x "$daemon" 2>/dev/null); do
    case "$running_before" in *" $pid "*) continue ;; esac
    echo "  stopping the $daemon daemon the package started (pid $pid)"
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$daemon" 2>/dev/null; then
      "${SUDO[@]}" systemctl stop "$daemon" >/dev/null 2>&1 || true
    fi
    kill -0 "$pid" 2>/dev/null && "${SUDO[@]}" kill "$pid" 2>/dev/null || true
  done
  if command -v systemctl >/dev/null 2>&1; then "${SUDO[@]}" systemctl disable "$daemon" >/dev/null 2>&1 || true; fi
  if command -v update-rc.d >/dev/null 2>&1 && [ -e "/etc/init.d/$daemon" ]; then "${SUDO[@]}" update-rc.d "$daemon" disable >/dev/null 2>&1 || true; fi
done

echo "  compose:  ${COMPOSE[*]} ($("${COMPOSE[@]}" version 2>/dev/null | head -1))"
echo "  promtool: $(promtool --version 2>&1 | head -1)"
NGINX=$(nginx_bin)
echo "  nginx:    $("$NGINX" -v 2>&1 | head -1)"

# ---------------------------------------------------------------------------------------------
section "docker compose config (with .env.example)"
compose_check() {
  local name=$1
  shift
  local out
  # A clean environment: only .env.example may provide variables.
  if out=$(env -i PATH="$PATH" HOME="$WORK" "${COMPOSE[@]}" --env-file .env.example "$@" config -q 2>&1); then
    if grep -qiE 'not set|defaulting to a blank' <<<"$out"; then
      fail "$name: a variable is missing from .env.example" "$out"
    else
      pass "$name"
    fi
  else
    fail "$name" "$out"
  fi
}
compose_check "docker-compose.yml" -f docker-compose.yml
compose_check "docker-compose.yml + docker-compose.scale.yml" -f docker-compose.yml -f docker-compose.scale.yml

touch "$WORK/empty.env"
if out=$(env -i PATH="$PATH" HOME="$WORK" "${COMPOSE[@]}" --env-file "$WORK/empty.env" -f docker-compose.yml config -q 2>&1); then
  fail "without .env the stack refuses to start (required secrets)" "compose accepted an empty environment"
elif grep -q 'in .env' <<<"$out"; then
  pass "without .env the stack refuses to start (required secrets)"
else
  fail "without .env the stack refuses to start (required secrets)" "$out"
fi

# The merged scale config has the replicas, roles and proxy the issue asks for.
if env -i PATH="$PATH" HOME="$WORK" "${COMPOSE[@]}" --env-file .env.example -f docker-compose.yml -f docker-compose.scale.yml config >"$WORK/scale.yml" 2>"$WORK/scale.err"; then
  check "scale: 2 api replicas (ROLE=api), 2 workers (ROLE=worker), proxy, worker scrape config" \
    /usr/bin/python3 - "$WORK/scale.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
problems = []
def want(cond, msg):
    if not cond: problems.append(msg)
want(int(s["api"]["deploy"]["replicas"]) == 2, "api replicas != 2")
want(s["api"]["environment"]["ROLE"] == "api", "api ROLE != api")
want(int(s["worker"]["deploy"]["replicas"]) == 2, "worker replicas != 2")
want(s["worker"]["environment"]["ROLE"] == "worker", "worker ROLE != worker")
want(s["worker"]["command"] == ["node", "dist/src/main.js"], "worker command")
want("ports" not in s["api"] and "ports" not in s["worker"], "api/worker publish host ports (replicas would clash)")
want("proxy" in s and s["proxy"].get("ports"), "no published proxy")
want(any("prometheus.scale.yml" in a for a in s["prometheus"]["command"]), "prometheus does not use prometheus.scale.yml")
for name, svc in s.items():
    want("healthcheck" in svc, f"{name}: no healthcheck")
    want(svc.get("restart") == "unless-stopped", f"{name}: restart policy")
    want(svc.get("deploy", {}).get("resources", {}).get("limits"), f"{name}: no resource limits")
print("\n".join(problems)); sys.exit(1 if problems else 0)
PY
else
  fail "scale config renders" "$(cat "$WORK/scale.err")"
fi

# ---------------------------------------------------------------------------------------------
section "Variables"
compose_vars=$(grep -ohE '\$\{[A-Z_][A-Z0-9_]*' docker-compose.yml docker-compose.scale.yml deploy/compose/app.yml | sed 's/^\${//' | sort -u)
example_vars=$(grep -oE '^[A-Z_][A-Z0-9_]*=' .env.example | tr -d '=' | sort -u)
undocumented=$(comm -23 <(echo "$compose_vars") <(echo "$example_vars"))
if [ -z "$undocumented" ]; then
  pass ".env.example documents every variable the compose files use ($(echo "$compose_vars" | wc -l) variables)"
else
  fail ".env.example documents every variable the compose files use" "missing: $(echo $undocumented)"
fi
unused=$(comm -13 <(echo "$compose_vars") <(echo "$example_vars") | grep -vx 'COMPOSE_PROJECT_NAME' || true)
if [ -z "$unused" ]; then pass ".env.example has no variable the stack ignores"; else fail ".env.example has no variable the stack ignores" "unused: $(echo $unused)"; fi
# Each variable sits in a block (lines between blank lines) that has a comment.
undocumented_lines=$(awk '/^[[:space:]]*$/ { commented = 0; next } /^#/ { commented = 1; next } /^[A-Z_][A-Z0-9_]*=/ && !commented { print }' .env.example)
if [ -z "$undocumented_lines" ]; then pass ".env.example: every variable is commented"; else fail ".env.example: every variable is commented" "$undocumented_lines"; fi

SCHEMA=src/config/config.schema.ts
if [ -f "$SCHEMA" ]; then
  app_keys=$(/usr/bin/python3 -c 'import yaml,sys; print("\n".join(sorted(yaml.safe_load(open(sys.argv[1]))["services"]["app"]["environment"])))' deploy/compose/app.yml)
  schema_keys=$(grep -oE '^\s+[A-Z][A-Z0-9_]*:' "$SCHEMA" | tr -d ' :' | sort -u)
  unknown=$(comm -23 <(echo "$app_keys") <(echo "$schema_keys"))
  if [ -z "$unknown" ]; then pass "the app container only gets settings $SCHEMA knows"; else fail "the app container only gets settings $SCHEMA knows" "unknown: $(echo $unknown)"; fi
else
  skip "app settings vs $SCHEMA" "$SCHEMA not found"
fi

# ---------------------------------------------------------------------------------------------
section "Prometheus (promtool)"
check "promtool check config deploy/prometheus/prometheus.yml" promtool check config deploy/prometheus/prometheus.yml
check "promtool check config deploy/prometheus/prometheus.scale.yml" promtool check config deploy/prometheus/prometheus.scale.yml
check "promtool check rules deploy/prometheus/alerts.yml" promtool check rules deploy/prometheus/alerts.yml
check "promtool test rules deploy/prometheus/alerts.test.yml (alerts fire, and only when they should)" \
  bash -c 'cd deploy/prometheus && promtool test rules alerts.test.yml'

# ---------------------------------------------------------------------------------------------
section "Grafana, YAML, nginx, shell"
check "dashboard JSON parses (deploy/grafana/dashboards/*.json)" \
  node -e 'for (const f of process.argv.slice(1)) { const d = JSON.parse(require("fs").readFileSync(f, "utf8")); if (!d.uid || !Array.isArray(d.panels) || !d.panels.length) throw new Error(f + ": no uid or panels"); }' deploy/grafana/dashboards/*.json
mapfile -t yamls < <(find deploy -name '*.yml' -o -name '*.yaml' | sort; ls docker-compose*.yml)
check "YAML parses (${#yamls[@]} files)" /usr/bin/python3 -c '
import sys, yaml
for f in sys.argv[1:]:
    yaml.safe_load(open(f))
' "${yamls[@]}"
check "nginx -t deploy/nginx/nginx.conf" "$NGINX" -q -t -c "$ROOT/deploy/nginx/nginx.conf" -p "$WORK/" -e /dev/stderr
check "sh -n deploy/timescaledb/100-grafana-readonly.sh" sh -n deploy/timescaledb/100-grafana-readonly.sh
check "bash -n scripts/check-deploy.sh" bash -n scripts/check-deploy.sh

# ---------------------------------------------------------------------------------------------
section "SQL against a local PostgreSQL (optional)"
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
if ! command -v psql >/dev/null 2>&1 || ! pg_isready -q -t 3 >/dev/null 2>&1; then
  skip "dashboard SQL and the Grafana read-only role" "no PostgreSQL reachable at $PGHOST as $PGUSER (psql/pg_isready)"
else
  db="deploy_check_$$"
  role="grafana_ro_check_$$"
  if ! psql -qc "CREATE DATABASE $db" >"$WORK/pg.log" 2>&1; then
    skip "dashboard SQL and the Grafana read-only role" "cannot create a scratch database: $(cat "$WORK/pg.log")"
  else
    migrated=1
    for f in migrations/*.sql; do
      psql -d "$db" -v ON_ERROR_STOP=1 -q -f "$f" >"$WORK/pg.log" 2>&1 || { fail "migrations apply to a scratch database ($f)" "$(cat "$WORK/pg.log")"; migrated=0; break; }
    done
    if [ "$migrated" = 1 ]; then
      # Grafana macros replaced by their PostgreSQL equivalents, then each panel's SQL runs.
      check "dashboard SQL panels run against the migrated schema" /usr/bin/python3 - "$db" <<'PY'
import glob, json, re, subprocess, sys
db = sys.argv[1]
bad = []
n = 0
for f in glob.glob("deploy/grafana/dashboards/*.json"):
    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(json.load(open(f))["panels"]):
        for t in p.get("targets", []):
            q = t.get("rawSql")
            if not q:
                continue
            n += 1
            q = re.sub(r"\$__timeGroupAlias\(([\w.]+),\s*'([^']+)'\)", r"date_bin('\2', \1, 'epoch') AS time", q)
            q = re.sub(r"\$__timeGroup\(([\w.]+),\s*'([^']+)'\)", r"date_bin('\2', \1, 'epoch')", q)
            q = re.sub(r"\$__timeFilter\(([\w.]+)\)", r"\1 BETWEEN now() - interval '6 hours' AND now()", q)
            r = subprocess.run(["psql", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", q], capture_output=True, text=True)
            if r.returncode:
                bad.append(f'{p.get("title")}: {r.stderr.strip()}')
print(f"{n} SQL targets"); print("\n".join(bad)); sys.exit(1 if bad or n == 0 else 0)
PY
      if env POSTGRES_USER="$PGUSER" POSTGRES_DB="$db" GRAFANA_DB_USER="$role" GRAFANA_DB_PASSWORD="check-$$" \
        sh deploy/timescaledb/100-grafana-readonly.sh >"$WORK/pg.log" 2>&1 &&
        psql -U "$role" -d "$db" -qAt -c "SELECT count(*) FROM quarantined_rows" >>"$WORK/pg.log" 2>&1 &&
        ! psql -U "$role" -d "$db" -q -c "DELETE FROM quarantined_rows" >>"$WORK/pg.log" 2>&1; then
        pass "grafana read-only role: created by deploy/timescaledb/100-grafana-readonly.sh, can read, cannot write"
      else
        fail "grafana read-only role: created by deploy/timescaledb/100-grafana-readonly.sh, can read, cannot write" "$(cat "$WORK/pg.log")"
      fi
    fi
    psql -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    psql -qc "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
  fi
fi

# ---------------------------------------------------------------------------------------------
section "Dockerfile"
if command -v hadolint >/dev/null 2>&1; then
  check "hadolint Dockerfile" hadolint Dockerfile
else
  skip "hadolint Dockerfile" "hadolint is not installed and cannot be installed here: Debian has no hadolint package,
and npm's \"hadolint\" is only a wrapper that downloads the binary from GitHub releases
at run time (not reachable from this network). Install the hadolint binary to run it."
fi
check "Dockerfile structure (own checks, not hadolint)" /usr/bin/python3 - <<'PY'
import re, sys
text = open("Dockerfile").read()
lines = [l for l in re.sub(r"\\\n", " ", text).splitlines() if l.strip() and not l.lstrip().startswith("#")]
problems = []
def want(cond, msg):
    if not cond: problems.append(msg)
froms = [l for l in lines if l.startswith("FROM ")]
want(len(froms) >= 2, "multi-stage build (>= 2 FROM)")
want(re.search(r"^ARG NODE_IMAGE=node:20[\w.-]*-bookworm-slim$", text, re.M), "base image node:20*-bookworm-slim")
want(not re.search(r"^FROM\s+\S+:latest", text, re.M), "no :latest base image")
runtime = text[text.rindex("\nFROM "):]
want(re.search(r"COPY [^\n]*\.npmrc[^\n]*\n(?:.*\n)*?RUN npm ci --omit=dev", runtime), "runtime: .npmrc copied before npm ci --omit=dev")
want(re.search(r"COPY [^\n]*\.npmrc[^\n]*\nRUN npm ci\n", text), "build: .npmrc copied before npm ci")
want("npm run build" in text, "build stage runs npm run build")
want(re.search(r"^COPY models \./models$", runtime, re.M), "models/ baked into the runtime image")
want(re.search(r"^COPY migrations \./migrations$", runtime, re.M), "migrations/ in the runtime image")
users = re.findall(r"^USER\s+(\S+)", runtime, re.M)
want(users and users[-1] not in ("root", "0"), "runtime runs as a non-root USER")
want(re.search(r"^HEALTHCHECK .*CMD \[.*/health/ready", text, re.M | re.S), "HEALTHCHECK on /health/ready")
cmd = [l for l in lines if l.startswith("CMD ")]
want(cmd and cmd[-1] == 'CMD ["node", "dist/src/main.js"]', "exec-form CMD node dist/src/main.js (SIGTERM reaches node)")
want(not re.search(r"^ENTRYPOINT\s+[^\[]", text, re.M), "no shell-form ENTRYPOINT")
for path in ("package.json", "package-lock.json", ".npmrc", "models", "migrations"):
    import os
    want(os.path.exists(path), f"{path} exists (COPY source)")
ignore = open(".dockerignore").read().split()
for entry in (".env", "**/node_modules", ".git", "dist", "data"):
    want(entry in ignore, f".dockerignore excludes {entry}")
print("\n".join("missing: " + p for p in problems)); sys.exit(1 if problems else 0)
PY

# ---------------------------------------------------------------------------------------------
section "Metric references (jest test/deploy)"
if [ -n "${SKIP_JEST:-}" ]; then
  skip "jest test/deploy" "SKIP_JEST is set"
elif [ ! -x node_modules/.bin/jest ]; then
  skip "jest test/deploy" "node_modules/.bin/jest missing (run npm ci first)"
else
  check "jest test/deploy (alerts and dashboard only use exported metrics)" \
    env NODE_OPTIONS=--experimental-vm-modules node_modules/.bin/jest test/deploy --silent
fi

# ---------------------------------------------------------------------------------------------
section "Result"
for daemon in prometheus; do
  for pid in $(pgrep -x "$daemon" 2>/dev/null); do
    case "$running_before" in *" $pid "*) ;; *) fail "no $daemon daemon left running" "pid $pid" ;; esac
  done
done
echo "  took $(($(date +%s) - START)) s"
if [ "$FAILED" -gt 0 ]; then
  printf '  failed: %s\n' "${FAILURES[@]}"
fi
echo "check-deploy: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
