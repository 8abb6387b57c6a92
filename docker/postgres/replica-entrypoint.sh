#!/bin/sh
# The streaming replica of docker-compose.scale.yml (postgres image, run as the
# postgres user). First start: clone the primary with pg_basebackup -R, which also
# writes standby.signal and primary_conninfo; every start: run PostgreSQL as a hot
# standby that the portal's heavy reads go to (DATABASE_REPLICA_URL).
# The clone goes to a folder beside the data folder and is moved in place only when
# complete, so a clone cut short is never started as a database.
set -eu

: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD in .env}"
PRIMARY_HOST="${PRIMARY_HOST:-postgres}"
PGDATA="${PGDATA:-/var/lib/postgresql/data/pgdata}"
# libpq reads it: pg_basebackup now, the standby's WAL receiver later.
export PGPASSWORD="$REPLICATION_PASSWORD"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h "$PRIMARY_HOST" -p 5432; do
        echo "replica: waiting for the primary at $PRIMARY_HOST..." >&2
        sleep 2
    done
    rm -rf "$PGDATA.partial" "$PGDATA"
    echo "replica: cloning the primary (pg_basebackup)" >&2
    pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U replicator -D "$PGDATA.partial" \
        -R -X stream --checkpoint=fast
    chmod 0700 "$PGDATA.partial"
    mv "$PGDATA.partial" "$PGDATA"
fi

exec postgres -D "$PGDATA" -c hot_standby=on
