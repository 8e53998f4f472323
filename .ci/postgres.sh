#!/usr/bin/env bash
# Install (if absent) and start a throw-away PostgreSQL server on 127.0.0.1 for the tests.
#
# Prints, as its last line, the variable the PostgreSQL tests read:
#   export REGISTRY_LINK_TEST_PG=postgresql+psycopg://registry_link:registry_link@127.0.0.1:55432/registry_link_test
# Use:  eval "$(.ci/postgres.sh | tail -n 1)"
# Stop: pg_ctl -D "$PGDATA_DIR" stop   (the folder is printed on stderr)
# Environment: PG_PORT (default 55432), PG_DATA (default: a new temp folder).
set -euo pipefail

PORT="${PG_PORT:-55432}"
DB=registry_link_test
ROLE=registry_link
PASSWORD=registry_link

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    # Debian keeps the server binaries out of PATH, in /usr/lib/postgresql/<version>/bin
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ] || [ ! -x "$BINDIR/initdb" ]; then
    log "PostgreSQL is not installed: installing the Debian package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BINDIR="$(find_bindir)"
fi
log "server binaries in $BINDIR"

id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres

if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    log "a server already answers on 127.0.0.1:$PORT: reusing it"
    DATA=""
else
    DATA="${PG_DATA:-$(mktemp -d /tmp/registry-link-pg.XXXXXX)}"
fi
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ -n "$DATA" ]; then
    mkdir -p "$DATA"
    chown postgres "$DATA"
    chmod 700 "$DATA"
    if [ ! -f "$DATA/PG_VERSION" ]; then
        as_pg "'$BINDIR/initdb' -D '$DATA' -U postgres -A trust -E UTF8 --locale=C.UTF-8" >&2
fi
if ! as_pg "'$BINDIR/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
    as_pg "'$BINDIR/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w \
        -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DATA' -c fsync=off\" start" >&2
fi
log "server running on 127.0.0.1:$PORT, data folder $DATA"
fi

PSQL="'$BINDIR/psql' -h 127.0.0.1 -p $PORT -U postgres -v ON_ERROR_STOP=1 -qtA"
if [ "$(as_pg "$PSQL -c \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\" postgres")" != 1 ]; then
    as_pg "$PSQL -c \"CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'\" postgres" >&2
fi
if [ "$(as_pg "$PSQL -c \"SELECT 1 FROM pg_database WHERE datname='$DB'\" postgres")" != 1 ]; then
    as_pg "$PSQL -c \"CREATE DATABASE $DB OWNER $ROLE\" postgres" >&2
fi
echo "export REGISTRY_LINK_TEST_PG=postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
