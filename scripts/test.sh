#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a developer's:
#   installs what it needs (Debian packages), starts a throwaway PostgreSQL and a real SMTP
#   server (scripts/smtp_sink.py, aiosmtpd) on 127.0.0.1, runs formatting and lint checks and
#   `cargo test` (every integration test runs on SQLite and on that PostgreSQL; mail tests
#   deliver to that SMTP server), the date-dependent tests again with the clock moved a month
#   and a year ahead (faketime), fuzzes the API against its OpenAPI document with
#   schemathesis on both backends (scripts/schemathesis.sh), then stops what it started.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s ==\n' "$*"; }

# --- 1. system packages ---------------------------------------------------------------
need_pkgs=()
pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
[ -n "$(pg_bin_dir)" ] && [ -x "$(pg_bin_dir)/initdb" ] || need_pkgs+=(postgresql)
dpkg -s libpq-dev >/dev/null 2>&1 || need_pkgs+=(libpq-dev)
command -v node >/dev/null 2>&1 || need_pkgs+=(nodejs)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
# schemathesis (PyPI) runs in a virtualenv under target/.
python3 -m venv --help >/dev/null 2>&1 || need_pkgs+=(python3-venv)
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
# tests/openrosa builds libxslt (a native Node module) against Debian's node headers.
{ command -v g++ && command -v make; } >/dev/null 2>&1 || need_pkgs+=(build-essential)
[ -f /usr/include/node/node.h ] || need_pkgs+=(nodejs)
# wrk, the outside HTTP load generator the submission and feedback benches drive the server
# with (their smoke runs below use it too).
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
# libfaketime moves the clock for the shifted-clock pass below.
command -v faketime >/dev/null 2>&1 || need_pkgs+=(faketime)
# The SMTP sink runs on Debian's python3 with Debian's aiosmtpd (not a pyenv python on PATH).
SINK_PY=/usr/bin/python3
{ [ -x "$SINK_PY" ] && "$SINK_PY" -c 'import aiosmtpd' 2>/dev/null; } || need_pkgs+=(python3-aiosmtpd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install: ${need_pkgs[*]} (or install them yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy

# playwright-core drives Debian's chromium in the page tests (no browser download).
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  log "npm ci (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

# enketo-transformer (Enketo's and ODK Central's XForm engine) checks every generated XForm
# (tests/openrosa.rs). Its peer libxslt compiles natively against Debian's node headers
# (node-gyp --nodedir=/usr, no header download) and links the libxmljs build it depends on,
# so the two are built one after the other rather than by npm's parallel install scripts.
if ! (cd tests/openrosa && node -e "require('libxslt'); require('enketo-transformer')") >/dev/null 2>&1; then
  log "npm ci (tests/openrosa)"
  (cd tests/openrosa \
    && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
    && npm_config_nodedir=/usr npm rebuild node1-libxmljsmt-myh --loglevel=error \
    && npm_config_nodedir=/usr npm rebuild libxslt --loglevel=error)
fi

# enketo-core (Enketo's form engine, bundled for the browser with esbuild) renders and fills
# in the collectors' forms in chromium (tests/openrosa.rs, tests/enketo/fill.mjs). Its
# dependency leaflet-draw is pinned to the npm release (package.json overrides). No install
# script is needed: esbuild's binary comes as a package, and sass's optional file watcher
# (a native build) is never used.
if ! (cd tests/enketo && node -e "require.resolve('enketo-core'); require('esbuild'); require('sass')") >/dev/null 2>&1; then
  log "npm ci (tests/enketo)"
  (cd tests/enketo && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

# The export tests read CSV, XLSX and HXL with openpyxl and libhxl, Parquet with pyarrow, and
# the OData feed with python-odata (PyPI); tests/totp.rs makes authenticator codes with pyotp;
# tests/survey_uploads.rs and tests/admin_browser.rs convert and edit exported XLSForms with
# pyxform (ODK's XLSForm converter) and openpyxl. All in a virtualenv under target/ (the tests
# find it through EXPORT_TOOLS_PYTHON).
EXPORT_VENV=target/export-tools-venv
EXPORT_TOOLS="openpyxl==3.1.5 libhxl==5.2.2 six==1.17.0 python-odata==0.8.1 pyotp==2.9.0 pyxform==4.5.0 pyarrow==26.0.1"
if ! "$EXPORT_VENV/bin/python" -c 'import openpyxl, hxl, odata, pyotp, pyxform, pyarrow.parquet' 2>/dev/null; then
  log "installing $EXPORT_TOOLS into $EXPORT_VENV"
  rm -rf "$EXPORT_VENV"
  python3 -m venv "$EXPORT_VENV"
  "$EXPORT_VENV/bin/pip" install --quiet --disable-pip-version-check $EXPORT_TOOLS
fi
export EXPORT_TOOLS_PYTHON="$PWD/$EXPORT_VENV/bin/python"

# --- 2. throwaway PostgreSQL ---------------------------------------------------------------
PGBIN=$(pg_bin_dir)
PGTMP=$(mktemp -d /tmp/clusterpulse-pg.XXXXXX)
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$PGTMP"
stop_pg() {
  as_pg "'$PGBIN/pg_ctl' -D '$PGTMP/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$PGTMP"
}
SMTPTMP=""
SMTPPID=""
stop_smtp() {
  if [ -n "$SMTPPID" ]; then kill "$SMTPPID" 2>/dev/null || true; wait "$SMTPPID" 2>/dev/null || true; fi
  if [ -n "$SMTPTMP" ]; then rm -rf "$SMTPTMP"; fi
}
cleanup() { stop_smtp; stop_pg; }
trap cleanup EXIT
log "starting PostgreSQL on 127.0.0.1:$PGPORT"
as_pg "'$PGBIN/initdb' -D '$PGTMP/data' -A trust -U postgres -E UTF8 >/dev/null"
as_pg "'$PGBIN/pg_ctl' -D '$PGTMP/data' -l '$PGTMP/log' -w -o \"-p $PGPORT -k '$PGTMP' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start >/dev/null"
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"

# --- 3. real SMTP server (accepts everything, writes each message as a .eml file) ----------
SMTPTMP=$(mktemp -d /tmp/clusterpulse-smtp.XXXXXX)
SMTPPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log "starting SMTP sink on 127.0.0.1:$SMTPPORT"
"$SINK_PY" scripts/smtp_sink.py --port "$SMTPPORT" --dir "$SMTPTMP/mail" \
  --ready-file "$SMTPTMP/ready" >"$SMTPTMP/log" 2>&1 &
SMTPPID=$!
for _ in $(seq 1 200); do
  [ -f "$SMTPTMP/ready" ] && break
  kill -0 "$SMTPPID" 2>/dev/null || break
  sleep 0.1
done
if [ ! -f "$SMTPTMP/ready" ]; then
  echo "the SMTP sink did not start:" >&2
  cat "$SMTPTMP/log" >&2
  exit 1
fi
export TEST_SMTP_URL="smtp://127.0.0.1:$SMTPPORT"
export TEST_SMTP_DIR="$SMTPTMP/mail"
export SMTP_SINK_PYTHON="$SINK_PY"

# --- 4. checks and tests --------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
log "cargo test (SQLite and PostgreSQL)"
set +e
cargo test --no-fail-fast "$@" 2>&1 | tee "$SMTPTMP/cargo-test.log"
status=${PIPESTATUS[0]}
# The tests that involve periods, dates and windows once more with the clock moved one month
# and one year ahead (libfaketime, SQLite only), so a test tied to this month fails now and
# not next month. The_clock_is_the_one_the_test_command_set checks that the clock moved.
if [ $# -eq 0 ]; then
  for shift in +31d +365d; do
    log "cargo test with the clock moved $shift (faketime, SQLite)"
    expect=$(faketime -f "$shift" date -u +%Y-%m)
    env -u TEST_DATABASE_URL CLUSTERPULSE_TEST_EXPECT_PERIOD="$expect" FAKETIME_DONT_FAKE_MONOTONIC=1 \
      faketime -f "$shift" cargo test --no-fail-fast --lib --test scorecards --test mail \
      --test feedback --test aap_metrics --test scores --test rounds 2>&1 | tee -a "$SMTPTMP/cargo-test.log"
    shifted=${PIPESTATUS[0]}
    [ "$shifted" -eq 0 ] || status=$shifted
  done
  # Every bench's smoke run (a bench run without --bench does a small pass with the same
  # checks), so that a bench cannot fall behind the schema unnoticed.
  log "benches, smoke runs"
  cargo test --no-fail-fast --bench '*' 2>&1 | tee "$SMTPTMP/cargo-bench-smoke.log"
  benches=${PIPESTATUS[0]}
  [ "$benches" -eq 0 ] || { echo "bench smoke runs: FAILED (see above)"; status=$benches; }
fi
set -e

# --- 5. the API fuzzed against its OpenAPI document (schemathesis), on both backends ----------
# (skipped when cargo test was narrowed with arguments)
st_status=0
if [ $# -eq 0 ]; then
  log "schemathesis (SQLite)"
  scripts/schemathesis.sh "sqlite://$SMTPTMP/schemathesis.db" SQLite || st_status=$?
  log "schemathesis (PostgreSQL)"
  PGADMIN="$TEST_DATABASE_URL"
  "$PGBIN/psql" -q "$PGADMIN" -c "CREATE DATABASE cp_schemathesis" >/dev/null
  scripts/schemathesis.sh "${PGADMIN%/*}/cp_schemathesis" PostgreSQL || st_status=$?
fi

# One closing line for the whole run.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\ntests: %d passed, %d failed\n", p, f }' "$SMTPTMP/cargo-test.log"
[ "$st_status" -eq 0 ] || echo "schemathesis: FAILED (see above)"
[ "$status" -eq 0 ] && exit "$st_status"
exit "$status"
