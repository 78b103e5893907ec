"""Prometheus /metrics (config/monitoring.py): requests by view name, and Homeward's own figures
read from the database when scraped: ladder step and message lateness, messages by state, the
heartbeat's age, open and overdue sign-outs. Only for a bearer token or an allowed network."""

import datetime
import re

import pytest
from django.urls import reverse

from tracking.models import Notification

from ..tracking.conftest import NOON

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)
TOKEN = "scrape-me-please-0123456789"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample, e.g. sample(text, "homeward_messages", state="pending")."""
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == {key: str(value) for key, value in labels.items()}:
            return float(match.group(3))
    raise AssertionError(f"{name} {labels} not in the scrape")


def test_after_a_ladder_runs_the_scrape_shows_its_lateness_and_counts(clock, signout, scan, client):
    # Each step's scan runs 3 seconds after the step falls due: every step fires 3 s late.
    for m in (15, 20, 25, 30):
        clock.move_to(R + m * minute + datetime.timedelta(seconds=3))
        scan()
    text = scrape(client)
    step = "homeward_escalation_step_lateness_seconds"
    assert sample(text, f"{step}_count") == 4
    assert sample(text, f"{step}_bucket", le="2.0") == 0
    assert sample(text, f"{step}_bucket", le="5.0") == 4
    assert sample(text, f"{step}_sum") == pytest.approx(12.0)
    messages = "homeward_message_lateness_seconds"
    assert sample(text, f"{messages}_count") == Notification.objects.filter(status="sent").count()
    assert sample(text, f"{messages}_bucket", le="5.0") == sample(text, f"{messages}_count") > 0
    assert sample(text, "homeward_signouts_open") == 1
    assert sample(text, "homeward_signouts_overdue") == 1
    assert sample(text, "homeward_escalation_heartbeat_age_seconds") == 0
    for state in ("pending", "sending", "failed", "in_doubt", "undelivered"):
        assert sample(text, "homeward_messages", state=state) == 0


def test_messages_in_doubt_and_waiting_are_counted(clock, signout, client):
    from tracking.ladder import signout_escalate

    clock.move_to(R + 15 * minute)
    signout_escalate(signout_id=signout.pk, now=R + 15 * minute)  # never handed to a worker
    waiting = Notification.objects.filter(signout=signout)
    first = waiting.first()
    waiting.filter(pk=first.pk).update(status="unknown", retry_at=None)
    text = scrape(client)
    assert sample(text, "homeward_messages", state="in_doubt") == 1
    assert sample(text, "homeward_messages", state="pending") == waiting.count() - 1


def test_the_heartbeat_age_grows_while_the_scan_is_quiet(clock, signout, scan, client):
    scan()
    clock.move_to(NOON + datetime.timedelta(minutes=3))
    assert sample(scrape(client), "homeward_escalation_heartbeat_age_seconds") == 180


def test_requests_are_counted_by_view_name_never_by_path(clock, signout, client, olive, signed_in):
    staff = signed_in(olive)
    assert staff.get(reverse("tracking:board")).status_code == 200
    client.get(reverse("tracking:checkin", args=["12:secret-token:guess"]))
    text = scrape(client)
    assert (
        sample(
            text, "homeward_http_requests_total", view="tracking:board", method="GET", status="200"
        )
        >= 1
    )
    assert 'view="tracking:checkin"' in text
    assert "secret-token" not in text  # a check-in link's token is in its path, never here
    assert sample(text, "homeward_http_request_duration_seconds_count", view="tracking:board") >= 1


def test_metrics_answer_nobody_without_the_token(client, db, settings):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_answer_an_allowed_network_behind_the_load_balancer(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/metrics", REMOTE_ADDR="10.20.1.5").status_code == 200
    # Through the load balancer (10.0.0.2), a client outside the network is refused even if it
    # writes an allowed address into the header itself.
    outside = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "10.20.1.5, 198.51.100.7"}
    assert client.get("/metrics", **outside).status_code == 404


def test_the_alert_rules_in_the_operations_guide_name_metrics_the_scrape_has(
    clock, signout, scan, client
):
    from pathlib import Path

    scan()
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    rules = guide.split("```yaml", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\b(homeward_[a-z_]+)", rules))
    assert {
        "homeward_escalation_heartbeat_age_seconds",
        "homeward_messages",
        "homeward_escalation_step_lateness_seconds_bucket",
    } <= named
    text = scrape(client)
    for metric in named:
        assert re.search(rf"^{metric}[{{ ]", text, flags=re.MULTILINE), metric
