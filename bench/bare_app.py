"""The reference of the submission benchmark: a bare WSGI app that inserts one row.

No Django, no form, no session: a POST inserts one row into `bench_bare` with psycopg
(one connection per gunicorn worker) and answers 302, as the portal does. bench/run.py
serves it with the same gunicorn settings as the portal and creates and drops the
table itself. Reads BENCH_BARE_DATABASE_URL.
"""

import os
import uuid

import psycopg

_connection = None


def _db():
    global _connection  # noqa: PLW0603 (one connection per worker process)
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(
            os.environ["BENCH_BARE_DATABASE_URL"], autocommit=True
        )
    return _connection


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"bare"]
    _db().execute(
        "INSERT INTO bench_bare (key, body) VALUES (%s, %s)",
        [str(uuid.uuid4()), body.decode("utf-8", "replace")],
    )
    start_response("302 Found", [("Location", "/sent/"), ("Content-Length", "0")])
    return [b""]
