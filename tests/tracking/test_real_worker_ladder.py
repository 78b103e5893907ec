"""The ladder on a real Celery worker and beat, against real Redis and PostgreSQL, with the
Twilio client library talking to a fake Twilio on 127.0.0.1 and email going over SMTP to a
mail server the test runs (CI's second run). Skipped on SQLite or without Redis."""

import datetime
from collections import Counter
from email import message_from_string
from email.policy import default

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from time_machine import travel

from tests.worker import celery_process, process_kill, unique_queue, wait_for
from tracking.models import EscalationStep, Notification

from .conftest import authorised_visit, sign_out
from .fake_providers import TWILIO_SID, TWILIO_TOKEN, fake_sms_provider, mail_server

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


@pytest.fixture
def services_on_loopback():
    with fake_sms_provider() as twilio, mail_server() as (mail, port):
        env = {
            "SMS_BACKEND": "tracking.sms.TwilioBackend",
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM": "+447700900999",
            "TWILIO_API_BASE_URL": twilio.url,
            "SMS_TIMEOUT_SECONDS": "20",
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "ESCALATION_SCAN_SECONDS": "1",
        }
        yield twilio, mail, env


def overdue_for_an_hour(visit, olive):
    """Signed out two hours ago, due back an hour ago: every step of the ladder is due."""
    with travel(timezone.now() - datetime.timedelta(hours=2), tick=False):
        return sign_out(visit, olive)


def manager_ready(oakfield, max):
    oakfield.designated_manager = max
    oakfield.monitor_phone = "+447700900500"
    # These tests measure the ladder up to the manager; the chain after it (R-ESC-9) is walked
    # in tests/tracking/test_alarm.py. Four hours between chain steps keeps it out of the way.
    oakfield.chain_step_minutes = oakfield.chain_reminder_minutes = 240
    oakfield.save()


def test_a_real_worker_and_beat_send_the_manager_sms_and_email_once(
    tmp_path, services_on_loopback, sam, tess, dana, olive, max, pupil, oakfield
):
    twilio, mail, env = services_on_loopback
    manager_ready(oakfield, max)
    signout = overdue_for_an_hour(authorised_visit(sam, pupil, [sam, tess], dana), olive)
    queue = unique_queue()
    with (
        celery_process(
            "worker", "--pool=solo", "-Q", f"{queue},{queue}-scan", CELERY_QUEUE=queue, **env
        ),
        celery_process("beat", "-s", str(tmp_path / "beat"), CELERY_QUEUE=queue, **env),
    ):
        manager_texts = wait_for(
            lambda: [t for t in twilio.texts() if t["to"] == max.profile.work_mobile], timeout=60
        )
        wait_for(lambda: [m for m in mail.received() if max.email in m["to"]], timeout=30)
        wait_for(
            lambda: (
                not Notification.objects.exclude(status="sent").exists()
                and Notification.objects.count() == 8
            ),
            timeout=30,
        )
        # Beat keeps scanning; nothing fires or sends twice.
        beat_seen = EscalationStep.objects.count()
        wait_for(lambda: _heartbeat_moved(), timeout=10)
    assert "HOMEWARD ALERT: Sam Example and Tess Example" in manager_texts[0]["body"]
    assert f"/tracking/{signout.pk}/emergency/" in manager_texts[0]["body"]
    assert len([t for t in twilio.texts() if t["to"] == max.profile.work_mobile]) == 1
    (email,) = [m for m in mail.received() if max.email in m["to"]]
    subject = message_from_string(email["data"], policy=default)["Subject"]
    assert (
        subject
        == "URGENT Homeward: Sam Example and Tess Example cannot be reached after a home visit"
    )
    assert beat_seen == EscalationStep.objects.count() == 4
    assert len(twilio.texts()) == 6  # monitor, two visitors, two retries, manager
    assert len(mail.received()) == 2  # the office (overdue), the manager


_last_beat = {}


def _heartbeat_moved() -> bool:
    from tracking.models import Heartbeat

    beat = Heartbeat.objects.get(name="escalation-scan").last_ran_at
    moved = "seen" in _last_beat and beat > _last_beat["seen"]
    _last_beat["seen"] = beat
    return moved


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    tmp_path, services_on_loopback, sam, tess, dana, olive, max, pupil, oakfield
):
    """SIGKILL the worker while Twilio holds its first SMS. When a worker comes back, every step
    has fired once; every message is sent once, except the one that was in flight, which is
    marked in doubt (it reached Twilio) and is not sent again."""
    import threading

    twilio, mail, env = services_on_loopback
    env = {
        **env,
        "NOTIFICATION_IN_DOUBT_AFTER_SECONDS": "3",
        "NOTIFICATION_REQUEUE_AFTER_SECONDS": "2",
    }
    manager_ready(oakfield, max)
    signouts = [
        overdue_for_an_hour(authorised_visit(sam, pupil, [sam, tess], dana), olive)
        for _ in range(3)
    ]
    twilio.hold = threading.Event()
    queue = unique_queue()
    with celery_process("beat", "-s", str(tmp_path / "beat"), CELERY_QUEUE=queue, **env):
        with celery_process(
            "worker", "--pool=solo", "-Q", f"{queue},{queue}-scan", CELERY_QUEUE=queue, **env
        ) as worker:
            assert twilio.received.wait(timeout=60), "the worker never reached Twilio"
            wait_for(lambda: Notification.objects.filter(status="sending").exists())
            process_kill(worker)
        twilio.hold.set()  # Twilio answers, but nobody is listening any more
        twilio.hold = None
        with celery_process(
            "worker", "--pool=solo", "-Q", f"{queue},{queue}-scan", CELERY_QUEUE=queue, **env
        ):
            wait_for(
                lambda: (
                    Notification.objects.count() == 3 * 8
                    and not Notification.objects.filter(
                        status__in=["pending", "sending", "failed"]
                    ).exists()
                ),
                timeout=60,
            )
    fired = list(EscalationStep.objects.values_list("signout_id", "number"))
    assert sorted(fired) == sorted((s.pk, n) for s in signouts for n in (1, 2, 3, 4))
    (in_doubt,) = Notification.objects.filter(status="unknown")
    assert in_doubt.channel == "sms" and in_doubt.sent_at is None
    sent = Notification.objects.filter(status="sent")
    assert sent.count() == 3 * 8 - 1
    # Twilio received every SMS of the outbox exactly once: the one in doubt included, once.
    texts = Counter((t["to"], t["body"]) for t in twilio.texts())
    outbox = Counter(Notification.objects.filter(channel="sms").values_list("address", "body"))
    assert texts == outbox
    assert (in_doubt.address, in_doubt.body) in texts
    assert sum(texts.values()) == 3 * 6
    emails = mail.received()
    assert len(emails) == 3 * 2


def test_each_steps_sends_go_to_the_workers_alerts_first_then_texts_then_emails(
    tmp_path, services_on_loopback, sam, tess, dana, olive, max, pupil, oakfield
):
    """R-ESC-8, R-ESC-11: in an incident across a trust the sends queue up. Each ladder's
    messages are handed to the workers in order: the texts that ask a person to act (the
    office, the manager) first, then the other texts (the visitors'), then the emails, which
    copy a text."""
    twilio, mail, env = services_on_loopback
    env = {**env, "NOTIFICATION_REQUEUE_AFTER_SECONDS": "600"}
    manager_ready(oakfield, max)
    signouts = [
        overdue_for_an_hour(authorised_visit(sam, pupil, [sam, tess], dana), olive)
        for _ in range(3)
    ]
    queue = unique_queue()
    # Only the scan runs at first: every step fires and its sends wait in the queue (not
    # requeued meanwhile: this test is about the order of one queue).
    with (
        celery_process("worker", "--pool=solo", "-Q", f"{queue}-scan", CELERY_QUEUE=queue, **env),
        celery_process("beat", "-s", str(tmp_path / "beat"), CELERY_QUEUE=queue, **env),
    ):
        wait_for(lambda: Notification.objects.filter(status="pending").count() == 3 * 8)
    assert not twilio.texts() and not mail.received()
    with celery_process("worker", "--pool=solo", "-Q", queue, CELERY_QUEUE=queue, **env):
        wait_for(lambda: Notification.objects.filter(status="sent").count() == 3 * 8, timeout=60)
    alerts = {("sms", t) for t in ("overdue_office", "retry_office", "manager")}
    for signout in signouts:
        order = list(
            Notification.objects.filter(signout=signout)
            .order_by("sent_at")
            .values_list("channel", "template")
        )
        assert set(order[:4]) == alerts  # overdue, two retries, manager
        assert set(order[4:6]) == {("sms", "overdue_visitor")}
        assert {channel for channel, _ in order[6:]} == {"email"}
