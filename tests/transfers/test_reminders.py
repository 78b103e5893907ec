"""R-REC-8: the sending DSLs are reminded at 3 and at 5 school days, each reminder once, by a
scan that is safe to run twice; none once the file has gone."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from riskassess.models import SchoolHoliday
from transfers import services
from transfers.models import FileTransfer, TransferReminder

from .conftest import transfer_to_send

TZ = timezone.get_current_timezone()


def _at(day: datetime.date, hour=8):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


@pytest.fixture
def left_wednesday(oakfield, dana, emails_at_once):
    """A file to send for a pupil who left on Wednesday 25 November; due Wednesday 2 December."""
    transfer = transfer_to_send(oakfield, left_on=datetime.date(2026, 11, 25))
    FileTransfer.objects.filter(pk=transfer.pk).update(due_on=datetime.date(2026, 12, 2))
    return transfer


def _scan(time_machine, day):
    time_machine.move_to(_at(day), tick=False)
    services.transfer_reminders_claim()
    return list(mail.outbox)


def test_reminders_at_three_and_five_school_days_each_sent_once(time_machine, left_wednesday, dana):
    # Thu, Fri: nothing yet. Mon 30 Nov is the 3rd school day.
    assert _scan(time_machine, datetime.date(2026, 11, 27)) == []
    sent = _scan(time_machine, datetime.date(2026, 11, 30))
    assert len(sent) == 1 and sent[0].to == [dana.email]
    assert "Leo" not in sent[0].body and "Lewis" not in sent[0].body
    # A second scan the same day, and the next day: nothing more.
    _scan(time_machine, datetime.date(2026, 11, 30))
    assert len(_scan(time_machine, datetime.date(2026, 12, 1))) == 1
    # Wed 2 Dec, the 5th school day: the second reminder.
    assert len(_scan(time_machine, datetime.date(2026, 12, 2))) == 2
    assert len(_scan(time_machine, datetime.date(2026, 12, 3))) == 2
    assert sorted(TransferReminder.objects.values_list("school_days", "status")) == [
        (3, "sent"),
        (5, "sent"),
    ]


def test_holidays_delay_the_reminders(time_machine, left_wednesday, oakfield):
    SchoolHoliday.objects.create(
        school=oakfield,
        name="INSET",
        starts_on=datetime.date(2026, 11, 30),
        ends_on=datetime.date(2026, 11, 30),
    )
    assert _scan(time_machine, datetime.date(2026, 11, 30)) == []
    assert len(_scan(time_machine, datetime.date(2026, 12, 1))) == 1


def test_a_late_first_scan_sends_one_reminder_not_two(time_machine, left_wednesday):
    assert len(_scan(time_machine, datetime.date(2026, 12, 4))) == 1
    assert sorted(TransferReminder.objects.values_list("school_days", "status")) == [
        (3, "skipped"),
        (5, "sent"),
    ]


def test_no_reminder_once_the_file_has_been_received(time_machine, left_wednesday):
    FileTransfer.objects.filter(pk=left_wednesday.pk).update(
        status=FileTransfer.Status.RECEIVED, received_at=_at(datetime.date(2026, 11, 26))
    )
    assert _scan(time_machine, datetime.date(2026, 12, 4)) == []


def test_a_reminder_claimed_twice_is_sent_once(time_machine, left_wednesday):
    time_machine.move_to(_at(datetime.date(2026, 11, 30)), tick=False)
    reminder = TransferReminder.objects.create(transfer=left_wednesday, school_days=3)
    assert services.transfer_reminder_send(reminder_id=reminder.pk) is True
    assert services.transfer_reminder_send(reminder_id=reminder.pk) is False
    assert len(mail.outbox) == 1
