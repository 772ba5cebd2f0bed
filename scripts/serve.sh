#!/usr/bin/env bash
# `make run`'s last step: the web server in front, a background-task worker beside it (statement PDFs,
# invoice PDFs), the outbox's sweeper (emails, automatic charges, retried until delivered) and the
# periodic jobs (`portico periodic`: payment reconciliation every 5 minutes, card expiry notices
# daily). A SIGINT or SIGTERM stops all four; if one ends, the others are stopped too.
set -uo pipefail
BIN=${BIN:-.venv/bin}
PORT=${PORT:-8000}

"$BIN/python" manage.py db_worker --no-reload --interval 1 -v 0 &
worker=$!
"$BIN/python" manage.py deliver_outbox --interval 1 -v 0 &
outbox=$!
"$BIN/python" manage.py periodic -v 0 &
periodic=$!
# The demo's identity provider ("Sign in with Demo identity provider"), where Node.js and its
# packages are here (`make idp-deps`); the portal works without it.
IDP_PORT=${PORTICO_DEMO_IDP_PORT:-8009}
idp=""
if command -v node >/dev/null && [ -d tests/idp/oidc/node_modules ]; then
    callback="http://renotech.localhost:$PORT/portal/account/oidc/ssodemorenotech/login/callback/"
    OIDC_IDP_CLIENTS="[{\"client_id\":\"portico-demo\",\"client_secret\":\"portico-demo-secret\",\"redirect_uris\":[\"$callback\"]}]" \
        node tests/idp/oidc/server.mjs --port "$IDP_PORT" </dev/null >/dev/null &
    idp=$!
fi
"$BIN/gunicorn" portico.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
    --graceful-timeout 10 --access-logfile - &
server=$!

stop() {
    kill -TERM "$server" "$worker" "$outbox" "$periodic" $idp 2>/dev/null
    wait "$server" "$worker" "$outbox" "$periodic" $idp 2>/dev/null
    exit 0
}
trap stop INT TERM
wait -n "$server" "$worker" "$outbox" "$periodic"
status=$?
kill -TERM "$server" "$worker" "$outbox" "$periodic" $idp 2>/dev/null
wait 2>/dev/null
exit "$status"
