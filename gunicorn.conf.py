"""gunicorn settings for `make run`; every value can be overridden on the command line."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
# SIGTERM/SIGHUP: workers stop accepting and finish the requests in flight for up to this long.
graceful_timeout = 20
accesslog = "-"
# The request id (blueprints/request_ids.py) ends every line, as in the app's own log lines.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms '
    'request_id=%({x-request-id}o)s'
)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
