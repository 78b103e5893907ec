"""R-REC-3 on a real Celery worker and Redis (CI's PostgreSQL run): the scan claims the reminder
and the send it enqueues on commit reaches the worker, once."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from records.models import RecordReminder
from records.tasks import record_reminders_scan
from tests.factories import visit_returned
from tests.worker import celery_process, unique_queue, wait_for
from visits.models import Visit

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


def test_a_real_worker_sends_the_reminder_of_a_record_falling_due_once(
    sam, tess, dana, hugh, olive, pupil
):
    # R-REC-3
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    back = timezone.now() - datetime.timedelta(hours=21)  # due in three hours
    Visit.objects.filter(pk=visit.pk).update(returned_at=back)
    queue = unique_queue()
    with celery_process("worker", "--pool=solo", "-Q", f"{queue},{queue}-scan", CELERY_QUEUE=queue):
        for _ in range(2):  # two beats, or one scan run twice
            record_reminders_scan.apply_async(queue=queue)
        reminder = wait_for(
            lambda: RecordReminder.objects.filter(
                visit=visit, status=RecordReminder.Status.SENT
            ).first()
        )
    assert reminder.sent_at is not None
    assert RecordReminder.objects.filter(visit=visit).count() == 1
