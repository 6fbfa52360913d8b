"""gunicorn settings for Hài Lòng (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

The app writes its own access line (JSON, with the request id), so gunicorn's
access log stays off; its error log goes to stderr, i.e. the journal.
"""

import ipaddress
import multiprocessing
import os


def local_only(addresses: str) -> list[str]:
    """``GUNICORN_BIND`` (comma-separated) if every address is a Unix socket or loopback.

    gunicorn serves plain HTTP and believes nginx's X-Forwarded-* headers (ProxyFix):
    reachable from the network it would serve without TLS and take a client's word
    for its address. Anything else stops the start with this message.
    """
    binds = [a.strip() for a in addresses.split(",") if a.strip()]
    for address in binds:
        if address.startswith("unix:"):
            continue
        host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise RuntimeError(
                f"GUNICORN_BIND={addresses!r}: gunicorn must listen on 127.0.0.1, [::1] or a "
                "unix: socket only; nginx is the one open to the network (deploy/nginx)"
            )
    if not binds:
        raise RuntimeError("GUNICORN_BIND is empty")
    return binds


bind = local_only(os.environ.get("GUNICORN_BIND", "127.0.0.1:8000"))
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
