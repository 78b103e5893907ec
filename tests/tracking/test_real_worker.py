"""Celery for real: a worker and beat processes on Redis and PostgreSQL (CI's second run)."""

import pytest
from django.conf import settings
from django.db import connection

from tests.worker import celery_process, unique_queue, wait_for
from tracking.models import Heartbeat
from tracking.tasks import escalation_scan

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL), as in CI",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _tasks_go_to_the_broker():
    from config.celery_app import app

    app.conf.task_always_eager = False


def test_a_real_worker_on_redis_runs_a_task_sent_to_it():
    queue = unique_queue()
    with celery_process("worker", "--pool=solo", "-Q", f"{queue},{queue}-scan", CELERY_QUEUE=queue):
        escalation_scan.apply_async(queue=queue)
        beat = wait_for(lambda: Heartbeat.objects.filter(name="escalation-scan").first())
    assert beat.last_ran_at is not None


def test_beat_and_a_worker_together_keep_the_escalation_heartbeat_fresh(tmp_path):
    schedule, queue = str(tmp_path / "beat-schedule"), unique_queue()
    with (
        celery_process("worker", "--pool=solo", "-Q", f"{queue},{queue}-scan", CELERY_QUEUE=queue),
        celery_process("beat", "-s", schedule, CELERY_QUEUE=queue, ESCALATION_SCAN_SECONDS="1"),
    ):
        first = wait_for(lambda: Heartbeat.objects.filter(name="escalation-scan").first())
        wait_for(
            lambda: Heartbeat.objects.get(name="escalation-scan").last_ran_at > first.last_ran_at
        )
