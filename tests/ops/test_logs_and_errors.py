"""Structured logs (config/logs.py) and error reports (config/sentry.py): one JSON event per
line with the request id, user id and school id, never a path or a body; Sentry events scrubbed
of request bodies, cookies, names, emails and local variables before they leave."""

import json
import logging

import pytest
from django.urls import reverse

from config.logs import JsonFormatter
from config.sentry import scrub


@pytest.fixture
def json_lines():
    """Everything logged during the test, formatted as production formats it."""
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(JsonFormatter().format(record))

    handler = Collect(level=logging.INFO)
    root, request_logger = logging.getLogger(), logging.getLogger("homeward.request")
    before = request_logger.level
    request_logger.setLevel(logging.INFO)
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)
    request_logger.setLevel(before)


def test_a_request_gets_an_id_which_the_response_echoes(client, db):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    given = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a-0001")
    assert given["X-Request-ID"] == "lb-7f3a-0001"
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="<script>" + "x" * 100)
    assert odd["X-Request-ID"] != "<script>" + "x" * 100  # not echoed: a fresh one instead


def test_each_log_line_is_one_json_event_with_the_request_user_and_school_ids(
    signed_in, olive, oakfield, json_lines
):
    staff = signed_in(olive)
    response = staff.get(reverse("tracking:board"), HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 200
    events = [json.loads(line) for line in json_lines]
    assert all("\n" not in line for line in json_lines)
    (request,) = [e for e in events if e["logger"] == "homeward.request"]
    assert request["request_id"] == "req-42"
    assert request["user_id"] == olive.pk
    assert request["school_id"] == oakfield.pk
    assert request["view"] == "tracking:board" and request["status"] == 200
    assert "path" not in request and "/tracking/" not in json.dumps(request)


def test_a_check_in_link_s_token_never_reaches_the_log(client, db, json_lines):
    client.get(reverse("tracking:checkin", args=["12:secret-token:guess"]))
    assert json_lines and not any("secret-token" in line for line in json_lines)


def test_production_logs_json_by_default(monkeypatch):
    import importlib

    from config import settings as project_settings

    monkeypatch.setenv("PRODUCTION", "true")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    try:
        reloaded = importlib.reload(project_settings)
        assert reloaded.LOGGING["handlers"]["console"]["formatter"] == "json"
        monkeypatch.setenv("LOG_FORMAT", "plain")
        assert importlib.reload(project_settings).LOG_FORMAT == "plain"
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


def test_the_sentry_scrubber_removes_personal_data_from_an_event():
    # A fabricated event, shaped as sentry-sdk's Django integration builds one.
    event = {
        "request": {
            "url": "https://homeward.example/tracking/checkin/12:tok:sig/?next=/x",
            "method": "POST",
            "data": {"notes": "a child's name"},
            "cookies": {"sessionid": "abc"},
            "query_string": "next=/x",
            "headers": {"Cookie": "sessionid=abc", "Authorization": "Bearer t", "Accept": "*/*"},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"id": 7, "username": "olive", "email": "olive@oakfield.example"},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "stacktrace": {
                        "frames": [{"function": "view", "vars": {"pupil": "Ada Smith"}}]
                    },
                }
            ]
        },
        "threads": {"values": [{"stacktrace": {"frames": [{"vars": {"secret": "x"}}]}}]},
        "breadcrumbs": {"values": [{"category": "query", "data": {"params": ["Ada"]}}]},
        "extra": {"form": "Ada Smith"},
    }
    scrubbed = scrub(event, {})
    text = json.dumps(scrubbed)
    for secret in ("a child's name", "abc", "Bearer t", "olive@", '"olive"', "Ada", "tok:sig"):
        assert secret not in text, secret
    assert scrubbed["user"] == {"id": 7}
    assert scrubbed["request"]["headers"]["Accept"] == "*/*"
    assert scrubbed["exception"]["values"][0]["type"] == "ValueError"
    assert scrubbed["request"]["method"] == "POST"


def test_sentry_is_off_unless_a_dsn_is_set(settings):
    import sentry_sdk

    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()
