#!/usr/bin/env bash
# `make fuzz`: schemathesis (pinned in server/tests/requirements.txt, in .venv/) against a
# real `latchkey serve --demo --ephemeral` on a free port, for SECONDS (default 180), with
# the Origin header set. Fails on any 5xx, any answer docs/openapi.json does not describe
# (status, content type, headers, body), any schema-invalid input the server accepts, and
# any panic in the server's log.
#
#     scripts/fuzz.sh [SECONDS]      after `cargo test --workspace --no-run` (the binary)
#
# Two runs share the time: a quarter without any session (what the world sees), then the
# rest signed in to the portal as `alice` and to the console as `ada` (a global
# administrator), so the calls behind the session checks are fuzzed too. The second run
# leaves out `sign_out` and `console_sign_out`, which would end those sessions.
# The per-client limits are raised and the self-service answer padding shortened: both
# would only slow the fuzzer down (their 429s are described all the same).
set -euo pipefail

seconds=${1:-180}
bin=${FUZZ_BIN:-target/debug/latchkey}
schemathesis=.venv/bin/schemathesis
[ -x "$bin" ] || { echo "fuzz: $bin is missing (cargo test --workspace --no-run)"; exit 1; }
[ -x "$schemathesis" ] || { echo "fuzz: $schemathesis is missing (make test-tools)"; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
work=$(mktemp -d)
log="$work/server.log"

LATCHKEY_BASE_URL="$base" \
LATCHKEY_LOG__FORMAT=json \
LATCHKEY_CLIENT_LIMITS__REQUESTS_PER_MINUTE=1000000 \
LATCHKEY_CLIENT_LIMITS__FAILURES_PER_HOUR=1000000 \
LATCHKEY_SELF_SERVICE__RESPONSE_TIME_MS=5 \
	"$bin" serve --demo --ephemeral --listen "127.0.0.1:$port" >"$log" 2>&1 &
server=$!
stop() {
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	rm -rf "$work"
}
trap stop EXIT

for _ in $(seq 1 240); do
	curl -fsS "$base/readyz" >/dev/null 2>&1 && break
	kill -0 "$server" 2>/dev/null || { echo "fuzz: the server did not start:"; cat "$log"; exit 1; }
	sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { echo "fuzz: the server is not ready:"; tail -50 "$log"; exit 1; }

# A session cookie's value, from signing in with `body` at `endpoint`.
cookie() {
	local endpoint=$1 name=$2 body=$3
	curl -fsS -o /dev/null -c "$work/$name.jar" -X POST "$base/api/$endpoint" \
		-H "Origin: $base" -H 'Content-Type: application/json' -d "$body"
	awk -v n="$name" '$6 == n { print $7 }' "$work/$name.jar"
}
portal=$(cookie sign_in latchkey_session '{"username":"alice","password":"lantern-orbit-meadow"}')
console=$(cookie console_sign_in latchkey_console '{"username":"ada","password":"harbour-violet-compass","code":null}')
[ -n "$portal" ] && [ -n "$console" ] || { echo "fuzz: signing in failed"; tail -50 "$log"; exit 1; }

# Every check but positive_data_acceptance: the server refuses much that the schema
# allows (a username of 500 characters, an unknown flow id), and says so with a described
# 400/404/409/410.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks=$checks,response_headers_conformance,response_schema_conformance
checks=$checks,negative_data_rejection,missing_required_header,unsupported_method
run() {
	local budget=$1
	shift
	"$schemathesis" ${SCHEMATHESIS_CONFIG:+--config-file "$SCHEMATHESIS_CONFIG"} \
		run docs/openapi.json --url "$base" \
		--header "Origin: $base" \
		--checks "$checks" \
		--max-time "$budget" \
		--request-timeout 30 \
		--suppress-health-check all \
		--output-truncate false \
		"$@"
}

status=0
first=$(( seconds / 4 > 0 ? seconds / 4 : 1 ))
echo "== fuzz: ${first}s without a session"
run "$first" || status=1
# The cookies as the description's security schemes, so that schemathesis knows them for
# what they are (and also tries each call without its cookie, expecting 401).
cat >"$work/schemathesis.toml" <<EOF
[auth.openapi.portal_session]
api_key = "$portal"

[auth.openapi.console_session]
api_key = "$console"
EOF
echo "== fuzz: $(( seconds - first > 0 ? seconds - first : 1 ))s signed in (alice, ada)"
SCHEMATHESIS_CONFIG="$work/schemathesis.toml" run "$(( seconds - first > 0 ? seconds - first : 1 ))" \
	--exclude-operation-id sign_out --exclude-operation-id console_sign_out || status=1

if grep -n 'panicked' "$log"; then
	echo "fuzz: the server panicked (above)"
	status=1
fi
if [ "$status" != 0 ]; then
	echo "fuzz: failed; the server's log ends:"
	tail -40 "$log"
fi
exit "$status"
