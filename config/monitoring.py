"""Prometheus metrics: /metrics, for the people who run Homeward (docs/operations.md).

Two kinds:
- Requests, by view name (the URL pattern's name, never the path, which can carry a check-in
  token): a counter and a latency histogram, recorded by RequestMetricsMiddleware. Under
  gunicorn each worker process writes its own files in PROMETHEUS_MULTIPROC_DIR and a scrape adds
  them up (prometheus-client's multi-process mode; deploy/gunicorn.conf.py removes a dead
  worker's files).
- Homeward's own, read from the database at scrape time (HomewardCollector): ladder step and
  alert message lateness over the last METRICS_WINDOW_MINUTES, messages by state, the
  escalation heartbeat's age, open and overdue sign-outs, the scan interval. Nothing in the
  ladder's code is instrumented: the database is the record, so any web node reports the same.

/metrics answers only a request with `Authorization: Bearer <METRICS_TOKEN>` or from an address
in METRICS_ALLOWED_NETWORKS; with neither set it answers nobody (404).
"""

import datetime
import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from core.client import client_address

REQUESTS = Counter(
    "homeward_http_requests",
    "Requests answered, by view name, method and status code.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "homeward_http_request_duration_seconds",
    "Time to answer a request, by view name.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LATENESS_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class RequestMetricsMiddleware:
    """Counts each request and times it, labelled with the resolved view's name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unresolved"
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response


def _histogram(name: str, documentation: str, values: list[float]) -> HistogramMetricFamily:
    buckets = [(str(bound), sum(1 for v in values if v <= bound)) for bound in LATENESS_BUCKETS]
    buckets.append(("+Inf", len(values)))
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=sum(values))


class HomewardCollector:
    """Reads the ladder, the outbox and the heartbeat from the database when scraped."""

    def collect(self):
        from tracking import selectors

        now = timezone.now()
        window = datetime.timedelta(minutes=settings.METRICS_WINDOW_MINUTES)
        late = selectors.lateness_recent(since=now - window)
        yield _histogram(
            "homeward_escalation_step_lateness_seconds",
            f"Ladder steps fired in the last {settings.METRICS_WINDOW_MINUTES} minutes: "
            "seconds from when each fell due to when it fired (a window, not a running total).",
            late["steps"],
        )
        yield _histogram(
            "homeward_message_lateness_seconds",
            f"Alert messages sent in the last {settings.METRICS_WINDOW_MINUTES} minutes: "
            "seconds from when their step fell due to when the provider took them.",
            late["messages"],
        )
        states = GaugeMetricFamily(
            "homeward_messages",
            "Unfinished outbox messages by state: pending, sending, failed (will be retried), "
            "in_doubt (a send that never finished: a person decides) and undelivered (retries "
            "given up).",
            labels=["state"],
        )
        for state, count in selectors.messages_by_state().items():
            states.add_metric([state], count)
        yield states
        beat = selectors.escalation_heartbeat()
        age = (now - beat["last_ran_at"]).total_seconds() if beat["last_ran_at"] else float("inf")
        yield GaugeMetricFamily(
            "homeward_escalation_heartbeat_age_seconds",
            "Seconds since the escalation scan last ran (+Inf: never).",
            value=max(0.0, age),
        )
        yield GaugeMetricFamily(
            "homeward_escalation_scan_interval_seconds",
            "How often beat asks for the escalation scan (ESCALATION_SCAN_SECONDS). The scan "
            "does not record its own duration; bench/escalation.py measures it.",
            value=settings.ESCALATION_SCAN_SECONDS,
        )
        signouts = selectors.signouts_open_and_overdue()
        yield GaugeMetricFamily(
            "homeward_signouts_open", "Sign-outs open now: visitors out.", value=signouts["open"]
        )
        yield GaugeMetricFamily(
            "homeward_signouts_overdue",
            "Open sign-outs whose escalation ladder has started.",
            value=signouts["overdue"],
        )


class _ThisProcess:
    """The default registry (this process's requests, Python's own metrics), in one scrape."""

    def collect(self):
        yield from REGISTRY.collect()


def scrape() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(HomewardCollector())
    return generate_latest(registry)


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Bearer ") and hmac.compare_digest(
            header.removeprefix("Bearer ").encode(), token.encode()
        ):
            return True
    if settings.METRICS_ALLOWED_NETWORKS:
        try:
            address = ipaddress.ip_address(client_address(request))
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(network, strict=False)
            for network in settings.METRICS_ALLOWED_NETWORKS
        )
    return False


@never_cache
@require_GET
def metrics(request):
    if not _allowed(request):
        raise Http404("Not found.")  # says nothing about whether metrics exist here
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
