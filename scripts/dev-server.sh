#!/usr/bin/env bash
# `make run`: the portal on 127.0.0.1:8000 with a real Celery worker and beat on the
# embedded broker. Ctrl-C (or any one of them dying) stops all three.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  echo "Stopped the portal, the worker and beat."
}
trap stop INT TERM EXIT

"$bin/celery" -A portal worker --loglevel=info --pool=threads --concurrency=2 -n "portal-dev@%h" &
pids+=($!)
"$bin/celery" -A portal beat --loglevel=info &
pids+=($!)
"$bin/python" manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)
echo "Portal: http://127.0.0.1:8000/  (Ctrl-C stops the portal, the worker and beat)"
wait -n
