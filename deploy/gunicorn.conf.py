"""gunicorn settings for Hài Lòng (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

The app writes its own access line (JSON, with the request id), so gunicorn's
access log stays off; its error log goes to stderr, i.e. the journal.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
max_requests = 5000  # recycle workers now and then
max_requests_jitter = 500
forwarded_allow_ips = "127.0.0.1"
accesslog = None
errorlog = "-"


def child_exit(server, worker):
    """A dead worker's live-gauge files must not be summed into later scrapes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
