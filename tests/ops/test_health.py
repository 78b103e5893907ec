"""Health and readiness (config/health.py): /healthz says the process answers; /readyz says
whether this node can do its job (database reachable and migrated, broker reachable, escalation
scan running, outbox moving), as JSON with one word per check and 200 or 503. Both are public and
name no host and count nothing."""

import datetime
import json
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from tracking.ladder import ESCALATION_SCAN
from tracking.models import Heartbeat, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def heartbeat():
    return Heartbeat.objects.create(name=ESCALATION_SCAN, last_ran_at=timezone.now())


def test_healthz_answers_without_the_database(client):
    with mock.patch.object(connection, "ensure_connection", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_every_check_passes(client, heartbeat):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "broker": "ok",
            "migrations": "ok",
            "escalation_heartbeat": "ok",
            "outbox": "ok",
        },
    }


def test_readyz_is_unavailable_when_the_escalation_heartbeat_is_over_two_minutes_old(
    client, heartbeat
):
    heartbeat.last_ran_at = timezone.now() - datetime.timedelta(minutes=2, seconds=5)
    heartbeat.save()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["escalation_heartbeat"] == "stale"


def test_readyz_is_unavailable_when_the_scan_has_never_run(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["escalation_heartbeat"] == "stale"


def test_readyz_is_unavailable_when_the_database_is_unreachable(client, heartbeat):
    with mock.patch.object(
        connection, "ensure_connection", side_effect=OperationalError("could not connect")
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "unreachable"
    assert checks["migrations"] == checks["escalation_heartbeat"] == "unknown"


def test_readyz_is_unavailable_when_a_migration_is_unapplied(client, heartbeat):
    from django.db.migrations.executor import MigrationExecutor

    with mock.patch.object(
        MigrationExecutor, "migration_plan", return_value=[(mock.sentinel.migration, False)]
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "unapplied"


def test_readyz_finds_unapplied_migrations_from_the_recorder(client, heartbeat):
    """The real check, not a mock of it: forget that one migration was applied."""
    from django.db.migrations.recorder import MigrationRecorder

    MigrationRecorder(connection).migration_qs.filter(app="tracking").order_by(
        "-id"
    ).first().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "unapplied"


def test_readyz_is_unavailable_when_a_message_has_waited_too_long(
    client, heartbeat, settings, signout_with_a_message
):
    settings.READYZ_OUTBOX_MINUTES = 5
    assert client.get("/readyz").json()["checks"]["outbox"] == "ok"  # waiting, but not long
    signout_with_a_message.update(created_at=timezone.now() - datetime.timedelta(minutes=6))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"] == "backed_up"


def test_readyz_is_unavailable_when_a_message_is_in_doubt(
    client, heartbeat, signout_with_a_message
):
    signout_with_a_message.update(
        status=Notification.Status.UNKNOWN,
        retry_at=None,
        created_at=timezone.now() - datetime.timedelta(minutes=6),
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"] == "in_doubt"


def test_readyz_is_unavailable_when_the_redis_broker_does_not_answer(client, heartbeat, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unreachable"


def test_readyz_reveals_no_host_name_and_no_count(client, settings):
    settings.CELERY_BROKER_URL = "redis://broker.internal.example:1/0"
    body = client.get("/readyz").content.decode()
    assert "internal.example" not in body and "127.0.0.1" not in body
    values = json.loads(body)["checks"].values()
    assert all(isinstance(value, str) and not any(c.isdigit() for c in value) for value in values)


@pytest.fixture
def signout_with_a_message(clock, signout):
    """The overdue step fired but its messages were never handed to a worker: they wait."""
    from tracking.ladder import signout_escalate

    due = signout.expected_return_at + datetime.timedelta(seconds=signout.grace_seconds)
    clock.move_to(due)
    signout_escalate(signout_id=signout.pk, now=due)
    return Notification.objects.filter(signout=signout)
