"""gunicorn settings for `make run`; every value can be overridden on the command line."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# One request at a time per worker: a check is CPU work (SQLite runs in the worker), and more
# threads only made them queue for the GIL and the database's write lock. bench/verify.py at
# 32 clients on 2 workers: 1 thread 934-1,034 req/s, p99 66 ms; 4 threads 810-853 req/s,
# p99 87-94 ms (3 s runs). One worker at 16 clients: 1.71 ms of CPU a request with 1 thread,
# 2.39 ms with 4. Idle keep-alive connections wait in the worker's poller, not in a thread.
# Raise it for clients that send slowly with no buffering proxy (nginx) in front.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
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


def post_worker_init(worker):
    """Mail left queued when the server last stopped goes out from the new worker."""
    sender = getattr(worker.wsgi, "extensions", {}).get("mail_sender")
    if sender is not None:
        sender.kick()
