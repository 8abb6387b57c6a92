#!/bin/sh
# The primary's side of streaming replication (docker-compose.scale.yml). Run by the
# postgres image once, when it first initialises an empty data folder
# (/docker-entrypoint-initdb.d): a `replicator` role that may only stream WAL, and the
# pg_hba.conf line that lets it in with its password. PostgreSQL 15's defaults already
# stream (wal_level=replica, max_wal_senders=10, hot_standby=on).
# On a primary initialised before, run the same two steps by hand (README, "Production
# topology in compose").
set -eu

: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD in .env}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL

echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
