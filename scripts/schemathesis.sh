#!/usr/bin/env bash
# Fuzzes the JSON API against its own OpenAPI document with schemathesis (from PyPI):
# seeds the demo world into DATABASE, starts the real server on a free loopback port, signs
# in as the demo admin (bearer token) and runs every operation twice, bounded:
#   1. generated identifiers (mostly unknown ones: 404s, validation, authorization);
#   2. the demo's real identifiers (a round, a cluster, an operation, a feedback reference,
#      chart names), so that scoring, charts, the inbox and the workflow run on real rows.
# Every check is on except positive_data_acceptance (the server's rules, e.g. that a round's
# closes_at is in the future or that a referenced cluster exists, are stricter than a schema
# can say). It fails on any 5xx, any reply that breaks its schema or status list, any
# accepted invalid request, and any request served without the credentials it needs.
#
# Usage: scripts/schemathesis.sh DATABASE_URL [label]
#   the binary is target/debug/clusterpulse (under $CARGO_TARGET_DIR when set; cargo test
#   builds it); the database must be
#   empty (a fresh SQLite path or a fresh PostgreSQL database).
# Environment: SCHEMATHESIS_EXAMPLES (per operation and pass, default 25).
set -euo pipefail
cd "$(dirname "$0")/.."

DB_URL=${1:?usage: scripts/schemathesis.sh DATABASE_URL [label]}
LABEL=${2:-$DB_URL}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
ST_VERSION=4.32.5
VENV=target/schemathesis-venv
BIN=${CARGO_TARGET_DIR:-target}/debug/clusterpulse

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  echo "installing schemathesis $ST_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
[ -x "$BIN" ] || cargo build --quiet

WORK=$(mktemp -d /tmp/clusterpulse-st.XXXXXX)
SERVER_PID=""
finish() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap finish EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export DATABASE_URL="$DB_URL"
export CLUSTERPULSE_DATA_DIR="$WORK/data"
export CLUSTERPULSE_SECRET_KEY="schemathesis-run-secret-key-0123456789abcdef"
export CLUSTERPULSE_SURVEYS_DIR="$PWD/surveys"
export CLUSTERPULSE_BIND="127.0.0.1:$PORT"
export CLUSTERPULSE_SCORECARDS=off
export CLUSTERPULSE_MAIL_WORKER=off
# The fuzzer is one client sending thousands of requests: the per-address limits would
# answer most of them 429 (documented, but it would hide the handlers behind).
export CLUSTERPULSE_RATE_LIMIT_PUBLIC=0
export CLUSTERPULSE_RATE_LIMIT_LOGIN=0
export RUST_LOG=warn
unset SMTP_URL

"$BIN" demo --no-serve >"$WORK/demo.log" 2>&1 || { cat "$WORK/demo.log" >&2; exit 1; }
TOKEN=$("$BIN" tokens create --email admin@demo.example --label schemathesis)
# The only token DELETE /api/v1/tokens/{id} may revoke: never the one the run signs in with.
"$BIN" tokens create --email admin@demo.example --label decoy >/dev/null
# The only account PATCH /api/v1/users/{id} may change (role, scope, disabled).
printf '%s\n' "decoy-account-password-$$" | "$BIN" users add --email decoy@demo.example \
  --role coordinator --operation shelter-yemen --password-stdin >/dev/null
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  python3 - "$BASE" <<'PY' && break
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)
PY
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done

# Real identifiers from the demo world, for the second pass.
python3 - "$BASE" "$TOKEN" >"$WORK/ids.env" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, timeout=60))
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=60))
# The only directory entries PATCH (and merge) may change: a cluster, an operation in it and
# an organization no demo round uses.
post("/api/v1/clusters", {"code": "decoy", "name": "Decoy cluster"})
post("/api/v1/operations", {"slug": "decoy-op", "cluster": "decoy", "country": "YE", "name": "Decoy"})
org = post("/api/v1/organizations", {"name": "Decoy organization", "org_type": "nngo"})
print(f"DECOY_ORG_ID={org['id']}")
rounds = get("/api/v1/rounds?operation=shelter-yemen")["rounds"]
closed = [r for r in rounds if r["state"] == "closed"]
item = get("/api/v1/feedback?operation=shelter-yemen&limit=1")["items"][0]
print(f"ROUND_ID={closed[0]['id']}")
decoy = [t for t in get("/api/v1/tokens")["tokens"] if t["label"] == "decoy"]
print(f"DECOY_TOKEN_ID={decoy[0]['id']}")
user = [u for u in get("/api/v1/users")["users"] if u["email"] == "decoy@demo.example"]
print(f"DECOY_USER_ID={user[0]['id']}")
print(f"REFERENCE={item['reference']}")
PY
# shellcheck disable=SC1091
. "$WORK/ids.env"

# Both passes: revoking a token or changing an account only ever aims at a decoy.
cat >"$WORK/decoy.toml" <<EOF
[[operations]]
include-path-regex = "^/api/v1/tokens/"
parameters = { "path.id" = $DECOY_TOKEN_ID }

[[operations]]
include-path-regex = "^/api/v1/users/\\\\{id\\\\}"
parameters = { "path.id" = $DECOY_USER_ID }

[[operations]]
include-method = "PATCH"
include-path-regex = "^/api/v1/clusters/\\\\{code\\\\}$"
parameters = { "path.code" = "decoy" }

[[operations]]
include-method = "PATCH"
include-path-regex = "^/api/v1/operations/\\\\{slug\\\\}$"
parameters = { "path.slug" = "decoy-op" }

[[operations]]
include-path-regex = "^/api/v1/organizations/\\\\{id\\\\}"
parameters = { "path.id" = $DECOY_ORG_ID }
EOF

cat >"$WORK/real-ids.toml" <<EOF
[[operations]]
include-path-regex = "^/api/v1/rounds/\\\\{id\\\\}"
parameters = { "path.id" = $ROUND_ID }

[[operations]]
include-path-regex = "^/api/v1/rounds/\\\\{id\\\\}/charts/"
parameters = { "path.id" = $ROUND_ID, "path.file" = "functions.svg" }

[[operations]]
include-path-regex = "^/api/v1/clusters/\\\\{code\\\\}"
exclude-method = "PATCH"
parameters = { "path.code" = "shelter" }

[[operations]]
include-path-regex = "^/api/v1/clusters/\\\\{code\\\\}/scorecard/charts/"
parameters = { "path.code" = "shelter", "path.file" = "grid.png" }

[[operations]]
include-path-regex = "^/api/v1/operations/\\\\{slug\\\\}"
exclude-method = "PATCH"
parameters = { "path.slug" = "shelter-yemen" }

[[operations]]
include-path-regex = "^/api/v1/operations/\\\\{slug\\\\}/feedback/charts/"
parameters = { "path.slug" = "shelter-yemen", "path.file" = "volume.svg" }

[[operations]]
include-path-regex = "^/api/v1/(surveys|frameworks)/\\\\{id\\\\}"
parameters = { "path.id" = "ccpm-partner" }

[[operations]]
include-path-regex = "^/api/v1/frameworks/\\\\{id\\\\}"
parameters = { "path.id" = "ccpm" }

[[operations]]
include-path-regex = "^/api/v1/feedback/(status/)?\\\\{reference\\\\}"
parameters = { "path.reference" = "$REFERENCE" }
EOF
cat "$WORK/decoy.toml" >>"$WORK/real-ids.toml"
cp "$WORK/decoy.toml" "$WORK/empty.toml"

status=0
total=0
run_pass() {
  local name=$1 config=$2
  echo "== schemathesis ($LABEL): $name, at most $EXAMPLES examples per operation"
  set +e
  "$VENV/bin/schemathesis" --config-file "$config" run "$BASE/api/v1/openapi.json" \
    -H "Authorization: Bearer $TOKEN" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$EXAMPLES" --seed 20261123 --generation-database none \
    --workers 2 --request-timeout 60 --no-color --output-truncate true \
    >"$WORK/$name.log" 2>&1
  local rc=$?
  set -e
  sed -n '/=* FAILURES =*/,$p' "$WORK/$name.log" | head -200
  grep -E "^\s*(Selected|Tested):|generated" "$WORK/$name.log" || tail -20 "$WORK/$name.log"
  local n
  n=$(sed -nE 's/^ *([0-9]+) generated.*/\1/p' "$WORK/$name.log" | tail -1)
  total=$((total + ${n:-0}))
  if [ $rc -ne 0 ]; then
    status=$rc
    echo "schemathesis ($LABEL, $name) FAILED; server log tail:" >&2
    tail -40 "$WORK/server.log" >&2
  fi
}
run_pass generated-ids "$WORK/empty.toml"
run_pass demo-ids "$WORK/real-ids.toml"
if grep -qE "panicked|internal error" "$WORK/server.log"; then
  echo "the server logged a panic or an internal error:" >&2
  grep -E "panicked|internal error" "$WORK/server.log" >&2
  status=1
fi
echo "schemathesis ($LABEL): $total cases in all, exit $status"
exit $status
