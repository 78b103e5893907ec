"""gunicorn settings for Homeward's web nodes (deploy/homeward-web.service; docs/deployment.md).

Prometheus multi-process mode: every worker writes its request metrics to files in
PROMETHEUS_MULTIPROC_DIR, and a scrape of /metrics on any worker adds up the whole node. The
directory must be empty when gunicorn starts (the systemd unit empties it) and a dead worker's
files are marked dead here, so its live gauges stop counting.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, two per core. Homeward's requests are short and CPU-bound (Python, not waiting).
# bench/replies.py, 100 text replies a second on 2 cores (2026-12-02): 4 sync workers p95
# 0.10-0.85 s over four runs; 3 workers of 4 threads (gthread) p95 2.1 s, 2.0-2.2 s with one:
# a gthread worker accepts more connections than it can serve while the others wait idle.
# HAProxy in front buffers each request whole (deploy/haproxy.cfg: http-buffer-request), so a
# slow client never holds a worker.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1))))
worker_class = "sync"
threads = 1
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
