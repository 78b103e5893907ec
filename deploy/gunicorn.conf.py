"""gunicorn settings for Homeward's web nodes (deploy/homeward-web.service; docs/deployment.md).

Prometheus multi-process mode: every worker writes its request metrics to files in
PROMETHEUS_MULTIPROC_DIR, and a scrape of /metrics on any worker adds up the whole node. The
directory must be empty when gunicorn starts (the systemd unit empties it) and a dead worker's
files are marked dead here, so its live gauges stop counting.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 25
keepalive = 5
# Requests are logged by Homeward itself (one JSON line with the view name, never the path,
# which may carry a check-in link's token): no gunicorn access log.
accesslog = None
errorlog = "-"
# A worker restarts after this many requests (with jitter), so a slow leak never grows.
max_requests = 5000
max_requests_jitter = 500


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
