#!/bin/sh
# Entrypoint of the portal image. The command tells the role:
#   gunicorn ...  web: wait for the database, apply the migrations, then serve.
#   celery ...    worker and beat: wait until the database is up AND migrated (by
#                 web), so no task runs against an old schema; they never migrate.
#   anything else (manage.py shell, sh, ...) runs as it is.
# Then exec: the command becomes PID 1 and receives Docker's SIGTERM itself.
set -eu

cd /app

# Seconds to wait for the database (and, for celery, for web's migrations).
WAIT_TIMEOUT="${PORTAL_WAIT_TIMEOUT:-300}"

log() {
    echo "entrypoint: $*" >&2
}

wait_for_database() {
    python - "$WAIT_TIMEOUT" <<'PY'
import os
import sys
import time

import django
from django.db import connection
from django.db.utils import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
timeout = float(sys.argv[1])
deadline = time.monotonic() + timeout
while True:
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:
        if time.monotonic() >= deadline:
            sys.exit(f"entrypoint: no database after {timeout:.0f}s: {exc}")
        print("entrypoint: waiting for the database...", file=sys.stderr, flush=True)
        time.sleep(2)
connection.close()
PY
}

wait_for_migrations() {
    # migrate --check exits non-zero while migrations are unapplied.
    deadline=$(( $(date +%s) + WAIT_TIMEOUT ))
    until out=$(python manage.py migrate --check --noinput 2>&1); do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "database not migrated after ${WAIT_TIMEOUT}s; last output:"
            printf '%s\n' "$out" >&2
            exit 1
        fi
        log "waiting for the web service to apply the migrations..."
        sleep 3
    done
}

case "${1:-}" in
    gunicorn)
        wait_for_database
        log "applying migrations"
        python manage.py migrate --noinput
        ;;
    celery)
        wait_for_database
        wait_for_migrations
        ;;
esac

exec "$@"
