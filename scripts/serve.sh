#!/usr/bin/env bash
# `make run`'s last step: the web server in front, a background-task worker beside it (statement PDFs,
# invoice PDFs, emails). A SIGINT or SIGTERM stops both; if either one ends, the other is stopped too.
set -uo pipefail
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}

"$BIN/python" manage.py db_worker --no-reload --interval 1 -v 0 &
worker=$!
"$BIN/gunicorn" portico.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
    --graceful-timeout 10 --access-logfile - &
server=$!

stop() {
    kill -TERM "$server" "$worker" 2>/dev/null
    wait "$server" "$worker" 2>/dev/null
    exit 0
}
trap stop INT TERM
wait -n "$server" "$worker"
status=$?
kill -TERM "$server" "$worker" 2>/dev/null
wait 2>/dev/null
exit "$status"
