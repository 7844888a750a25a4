#!/bin/sh
# A throwaway PostgreSQL cluster for tests and benchmarks (the recipe measured in
# ../shared/SERVICES.md): initdb into a new temporary directory, start the server on
# 127.0.0.1:PORT without durability (fsync off: nothing here outlives the run), print
# its URL on standard output, then wait until standard input closes — the process that
# started this script has ended, however it ended — and stop the server by its own pid
# and delete the directory.
#
#     scripts/throwaway-postgres.sh PORT
#
# As root, the server runs as the `postgres` user (initdb refuses root). Needs Debian's
# `postgresql` package (`make test-tools` installs it when missing).
set -eu
PORT=${1:?usage: throwaway-postgres.sh PORT}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ ! -x "$BIN/initdb" ]; then
    echo "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run make test-tools" >&2
    exit 1
fi
DIR=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-pg.XXXXXX")
AS=""
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$DIR"
    AS="setpriv --reuid=postgres --regid=postgres --init-groups"
fi
PID=""
stop() {
    if [ -n "$PID" ]; then
        kill -INT "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 1' INT TERM HUP
if ! $AS "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync --no-instructions >"$DIR/initdb.log" 2>&1; then
    cat "$DIR/initdb.log" >&2
    exit 1
fi
# setpriv replaces itself with the server, so $! is the server's own pid.
$AS "$BIN/postgres" -D "$DIR/data" -k "$DIR" -c listen_addresses=127.0.0.1 -p "$PORT" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=300 </dev/null >"$DIR/server.log" 2>&1 &
PID=$!
until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; do
    if ! kill -0 "$PID" 2>/dev/null; then
        cat "$DIR/server.log" >&2
        PID=""
        exit 1
    fi
    sleep 0.05
done
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
echo "data: $DIR/data"
# Until whoever started us is gone.
cat >/dev/null || true
