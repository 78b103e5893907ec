"""Replies at the same moment, on PostgreSQL (R-TRK-5, R-ESC-5): a provider posting the same
message from several workers acts once; a reply racing the manager step is decided once, by the
database."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tracking import ladder
from tracking.models import EscalationStep, Notification, SignOut, SmsReply
from tracking.replies import sms_reply_receive

from .test_concurrency import in_threads

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]

SAM = "+447700900101"


def receive(message_id, text, barrier=None):
    def run():
        if barrier is not None:
            barrier.wait(timeout=10)
        return sms_reply_receive(
            provider="twilio",
            provider_message_id=message_id,
            sender=SAM,
            text=text,
            enqueue=lambda ids: None,
        )

    return run


def test_one_message_posted_by_four_workers_at_once_acts_once(signout):
    # R-TRK-5: the unique row per provider message id decides.
    barrier = threading.Barrier(4)
    results = in_threads(*(receive("SMsame", "20", barrier) for _ in range(4)))
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    signout.refresh_from_db()
    assert signout.ladder_round == 2
    assert signout.events.filter(kind="extended").count() == 1
    assert SmsReply.objects.count() == 1
    assert Notification.objects.filter(idempotency_key__startswith="smsreply:").count() == 1


def test_many_different_replies_at_once_are_each_answered_once(signout):
    # R-TRK-5: 0 lost, 0 double-applied.
    barrier = threading.Barrier(6)
    in_threads(*(receive(f"SM{n}", "nonsense", barrier) for n in range(6)))
    assert SmsReply.objects.count() == 6
    assert Notification.objects.filter(idempotency_key__startswith="smsreply:").count() == 6


def test_safe_racing_the_manager_step_is_decided_once(signout, max):
    # R-TRK-5, R-ESC-6: whichever the database takes first, the visitors end up safe, the
    # manager step fires at most once and nothing fires after the reply.
    manager_due = signout.due_times()[-1]
    SignOut.objects.filter(pk=signout.pk).update(
        escalation_stage=signout.manager_step - 1, next_escalation_at=manager_due
    )
    barrier = threading.Barrier(2)

    def scan():
        barrier.wait(timeout=10)
        return ladder.signout_escalate(
            signout_id=signout.pk,
            now=manager_due + datetime.timedelta(seconds=1),
            enqueue=lambda ids: None,
        )

    in_threads(scan, receive("SMrace", "SAFE", barrier))
    signout.refresh_from_db()
    assert signout.state == "left_safely" and signout.next_escalation_at is None
    assert signout.events.filter(kind="phoned_in").count() == 1
    assert EscalationStep.objects.filter(signout=signout, kind="manager").count() <= 1
    assert SmsReply.objects.get().outcome == "applied"
    assert signout.last_contact_at <= timezone.now()
