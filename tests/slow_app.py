"""A WSGI app whose one page takes two seconds, for tests/integration/test_graceful_shutdown.py."""

import time


def app(environ, start_response):
    time.sleep(float(environ.get("QUERY_STRING") or 2))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished"]
