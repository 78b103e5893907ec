"""The outbox: each message sent exactly once; a send that crashed half-way is marked in doubt
on the board with a resend button and never resent automatically (R-ESC-5)."""

import datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tracking import sms
from tracking.common import TrackingConflict
from tracking.ladder import signout_escalate
from tracking.models import Notification
from tracking.outbox import notification_resend, notification_send

from .conftest import NOON
from .sms_doubles import WorkerDied

R = NOON + datetime.timedelta(hours=1)
minute = datetime.timedelta(minutes=1)
DOUBLES = "tests.tracking.sms_doubles."


def fire_overdue_without_sending(signout):
    """The overdue step fires, but its on-commit hand-off to the workers never happens (the
    test runs inside a transaction that does not commit): the messages wait in the outbox."""
    signout_escalate(signout_id=signout.pk, now=R + 15 * minute)
    return list(Notification.objects.filter(signout=signout, channel="sms").order_by("pk"))


def test_a_message_is_sent_once_even_when_its_task_runs_twice(clock, signout):
    # R-ESC-5: sending claims the row first.
    clock.move_to(R + 15 * minute)
    texts = fire_overdue_without_sending(signout)
    assert len(texts) == 3
    for note in texts:
        assert notification_send(notification_id=note.pk) == "sent"
        assert notification_send(notification_id=note.pk) is None
    assert len(sms.outbox) == 3
    assert all(
        n.status == "sent" and n.provider_ref for n in Notification.objects.filter(channel="sms")
    )


def test_each_message_has_one_idempotency_key(clock, signout):
    clock.move_to(R + 15 * minute)
    fire_overdue_without_sending(signout)
    keys = list(Notification.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 4
    assert f"signout:{signout.pk}:round:1:step:1:sms:+447700900500" in keys


def test_a_refused_message_is_retried_with_backoff_by_the_scan(clock, signout, scan, settings):
    settings.SMS_BACKEND = DOUBLES + "RefusingBackend"
    clock.move_to(R + 15 * minute)
    (note, *_) = fire_overdue_without_sending(signout)
    assert notification_send(notification_id=note.pk) == "failed"
    note.refresh_from_db()
    assert note.retry_at == R + 15 * minute + datetime.timedelta(seconds=15)
    assert "503" in note.last_error
    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"
    clock.move_to(R + 15 * minute + datetime.timedelta(seconds=14))
    scan()
    assert Notification.objects.get(pk=note.pk).status == "failed"
    clock.move_to(R + 15 * minute + datetime.timedelta(seconds=15))
    scan()
    note.refresh_from_db()
    assert note.status == "sent" and note.attempts == 2
    assert [m.reference for m in sms.outbox].count(note.idempotency_key) == 1


def test_after_five_refusals_a_message_waits_for_a_person(clock, signout, settings):
    settings.SMS_BACKEND = DOUBLES + "RefusingBackend"
    clock.move_to(R + 15 * minute)
    (note, *_) = fire_overdue_without_sending(signout)
    for _ in range(5):
        assert notification_send(notification_id=note.pk) == "failed"
    note.refresh_from_db()
    assert note.attempts == 5 and note.retry_at is None and note.in_doubt
    assert notification_send(notification_id=note.pk) is None  # nothing sends it by itself


def test_a_send_that_crashed_half_way_is_marked_in_doubt_and_never_resent(
    clock, signout, scan, settings
):
    settings.SMS_BACKEND = DOUBLES + "DyingBackend"
    clock.move_to(R + 15 * minute)
    (note, *_) = fire_overdue_without_sending(signout)
    with pytest.raises(WorkerDied):
        notification_send(notification_id=note.pk)
    assert len(sms.outbox) == 1  # the provider got it; nobody recorded it
    assert Notification.objects.get(pk=note.pk).status == "sending"
    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"
    clock.move_to(R + 15 * minute + datetime.timedelta(seconds=119))
    scan()
    assert Notification.objects.get(pk=note.pk).status == "sending"
    clock.move_to(R + 17 * minute + datetime.timedelta(seconds=1))
    assert scan().marked_in_doubt == 1
    note.refresh_from_db()
    assert note.status == "unknown" and note.in_doubt
    for m in range(18, 60):
        clock.move_to(R + m * minute)
        scan()
    assert [m.reference for m in sms.outbox].count(note.idempotency_key) == 1
    assert notification_send(notification_id=note.pk) is None


def test_a_timeout_after_the_request_left_is_in_doubt_at_once(clock, signout, settings):
    settings.SMS_BACKEND = DOUBLES + "TimingOutBackend"
    clock.move_to(R + 15 * minute)
    (note, *_) = fire_overdue_without_sending(signout)
    assert notification_send(notification_id=note.pk) == "unknown"
    note.refresh_from_db()
    assert note.retry_at is None and "read timed out" in note.last_error


def test_a_message_lost_by_the_broker_is_enqueued_again_after_ten_seconds(clock, signout, scan):
    # Ten seconds, and the scan runs every five: a lost alert is handed back within 15 s.
    clock.move_to(R + 15 * minute)
    fire_overdue_without_sending(signout)
    assert Notification.objects.filter(status="pending").count() == 4
    clock.move_to(R + 15 * minute + datetime.timedelta(seconds=9))
    assert scan().requeued == 0
    clock.move_to(R + 15 * minute + datetime.timedelta(seconds=10))
    assert scan().requeued == 4
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert len(sms.outbox) == 3


def test_the_office_resends_a_message_in_doubt_from_the_board(
    clock, signout, scan, settings, olive, signed_in, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = DOUBLES + "TimingOutBackend"
    clock.move_to(R + 15 * minute)
    (note, *_) = fire_overdue_without_sending(signout)
    notification_send(notification_id=note.pk)
    settings.SMS_BACKEND = "tracking.sms.InMemoryBackend"
    client = signed_in(olive)
    board = client.get(reverse("tracking:board")).content.decode()
    assert "in doubt" in board
    assert reverse("tracking:resend", args=[note.pk]) in board
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tracking:resend", args=[note.pk]))
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.status == "sent" and note.resent_by == olive
    assert [m.reference for m in sms.outbox] == [note.idempotency_key]
    assert AuditEvent.objects.filter(event_type="notification.resent").count() == 1
    with pytest.raises(TrackingConflict):
        notification_resend(actor=olive, notification=note)  # a second click resends nothing
    assert "in doubt" not in client.get(reverse("tracking:board")).content.decode()
