"""Two scans at the same moment on PostgreSQL (R-TRK-6, R-ESC-5): a missed check-in starts the
ladder once, however the two interleave; a check-in racing the scan is decided by the database."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tracking import ladder, signouts
from tracking.models import EscalationStep, Notification, SignOut

from .conftest import authorised_visit, sign_out
from .test_concurrency import in_threads

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def long_visit(sam, tess, dana, olive, max, pupil, oakfield):
    oakfield.designated_manager = max
    oakfield.monitor_phone = "+447700900500"
    oakfield.checkin_interval_minutes = 30
    oakfield.save()
    visit = authorised_visit(sam, pupil, [sam, tess], dana)
    signout = sign_out(visit, olive, back_in=datetime.timedelta(hours=3))
    # The check-in fell due a minute ago.
    due = timezone.now() - datetime.timedelta(minutes=1)
    SignOut.objects.filter(pk=signout.pk).update(checkin_due_at=due)
    return signout


def both_read_before_either_claims(monkeypatch, barrier):
    read = ladder._checkin_read

    def read_then_wait(signout_id):
        signout = read(signout_id)
        barrier.wait(timeout=10)
        return signout

    monkeypatch.setattr(ladder, "_checkin_read", read_then_wait)


def test_two_scans_at_once_start_the_ladder_of_a_missed_check_in_once(monkeypatch, long_visit):
    # R-TRK-6, R-ESC-5
    both_read_before_either_claims(monkeypatch, threading.Barrier(2))
    now = timezone.now()

    def scan():
        return ladder.escalation_scan(now=now, enqueue=lambda ids: None).checkins_missed

    assert sorted(in_threads(scan, scan)) == [0, 1]
    assert EscalationStep.objects.filter(signout=long_visit, kind="overdue").count() == 1
    assert long_visit.events.filter(kind="missed_checkin").count() == 1
    assert Notification.objects.filter(template="overdue_visitor").count() == 2


def test_a_check_in_racing_the_scan_is_decided_once(monkeypatch, long_visit, sam):
    # R-TRK-6: either the check-in wins (nothing fires) or the scan does (the check-in then
    # stops its ladder); never both half-done.
    barrier = threading.Barrier(2)
    both_read_before_either_claims(monkeypatch, barrier)

    def scan():
        return ladder.escalation_scan(enqueue=lambda ids: None)

    def check_in():
        barrier.wait(timeout=10)
        return signouts.signout_check_in(actor=None, signout=long_visit, via="sms", visitor=sam)

    in_threads(scan, check_in)
    long_visit.refresh_from_db()
    assert long_visit.ladder_from_at is None and long_visit.checkin_due_at is not None
    assert long_visit.events.filter(kind="checked_in").count() == 1
    assert long_visit.events.filter(kind="missed_checkin").count() <= 1
