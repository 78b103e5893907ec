"""The 24-hour rule (R-REC-3): overdue records on the DSL dashboard, and one reminder before."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from records import services
from records.models import RecordReminder
from tests.auth import sign_in
from tests.factories import visit_returned

from .conftest import queries_for

LONDON = timezone.get_current_timezone()


@pytest.fixture(autouse=True)
def _back_at_school_on_a_tuesday_afternoon(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 24, 15, 0, tzinfo=LONDON), tick=False)


def _later(time_machine, **delta):
    time_machine.move_to(timezone.now() + datetime.timedelta(**delta), tick=False)


def test_a_record_not_completed_24_hours_after_return_is_overdue_for_the_dsls(
    client, returned_visit, sam, dana, complete_record, time_machine
):
    # R-REC-3
    _later(time_machine, hours=23, minutes=59)
    sign_in(client, dana)
    assert (
        f"#{returned_visit.pk}".encode()
        not in client.get(reverse("records:overdue_records")).content
    )
    _later(time_machine, minutes=1)
    sign_in(client, dana)
    page = client.get(reverse("records:overdue_records")).content
    assert f"#{returned_visit.pk}".encode() in page
    assert b"25/11/2026 15:00" in page  # due 24 hours after return, shown in school time
    assert f"#{returned_visit.pk}".encode() in client.get(reverse("records:dashboard")).content
    # The visit stays open until recorded; recording it takes it off the list.
    complete_record(returned_visit, sam)
    assert (
        f"#{returned_visit.pk}".encode()
        not in client.get(reverse("records:overdue_records")).content
    )


def test_the_deadline_is_the_schools_own_setting(
    client, returned_visit, oakfield, dana, time_machine
):
    # R-REC-3: **24 hours** is a school setting.
    oakfield.record_deadline_hours = 48
    oakfield.save()
    _later(time_machine, hours=30)
    sign_in(client, dana)
    assert (
        f"#{returned_visit.pk}".encode()
        not in client.get(reverse("records:overdue_records")).content
    )
    _later(time_machine, hours=18)
    sign_in(client, dana)
    assert (
        f"#{returned_visit.pk}".encode() in client.get(reverse("records:overdue_records")).content
    )


def test_the_due_time_is_right_across_the_clock_change(
    sam, tess, dana, hugh, olive, pupil, time_machine, client
):
    # R-REC-3: 24 hours after 16:00 BST on Saturday 24 October is 15:00 GMT on Sunday.
    time_machine.move_to(datetime.datetime(2026, 10, 24, 16, 0, tzinfo=LONDON), tick=False)
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    due = services.record_due_at(visit)
    assert due == datetime.datetime(2026, 10, 25, 15, 0, tzinfo=LONDON)
    sign_in(client, sam)
    assert b"25/10/2026 15:00" in client.get(reverse("records:record", args=[visit.pk])).content


def test_the_visitors_are_reminded_once_before_the_record_falls_due(
    returned_visit, sam, tess, dana, time_machine, django_capture_on_commit_callbacks
):
    # R-REC-3: reminded by email before it falls due; never twice.
    lead = settings.RECORD_REMINDER_HOURS_BEFORE
    _later(time_machine, hours=24 - lead, minutes=-1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.record_reminders_claim() == []
    assert mail.outbox == []
    _later(time_machine, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_reminders_claim()
    assert sorted(m.to[0] for m in mail.outbox) == [sam.email, tess.email]
    message = mail.outbox[0]
    assert "25/11/2026 15:00" in message.subject
    assert reverse("records:record_edit", args=[returned_visit.pk]) in message.body
    for private in ("Aisha", "Ahmed", "Elm Grove", "LS6"):
        assert private not in message.subject + message.body
    for _ in range(3):  # the scan runs every few minutes, and after the record is overdue
        _later(time_machine, minutes=10)
        with django_capture_on_commit_callbacks(execute=True):
            services.record_reminders_claim()
    _later(time_machine, hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_reminders_claim()
    assert len(mail.outbox) == 2
    assert RecordReminder.objects.get().status == RecordReminder.Status.SENT


def test_two_scans_at_once_send_one_reminder(
    returned_visit, time_machine, django_capture_on_commit_callbacks
):
    # R-REC-3: two beats, or a scan that runs twice, claim the visit once.
    _later(time_machine, hours=21)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = services.record_reminders_claim()
        second = services.record_reminders_claim()
    assert len(first) == 1 and second == []
    for callback in callbacks:
        callback()
    services.record_reminder_send(reminder_id=first[0])  # a duplicate delivery of the message
    assert len(mail.outbox) == 2  # one email to each of the two visitors


def test_a_lost_message_is_enqueued_again_and_still_sent_once(
    returned_visit, time_machine, django_capture_on_commit_callbacks
):
    # R-REC-3: the broker lost the send; a later scan re-enqueues the PENDING reminder.
    _later(time_machine, hours=21)
    with django_capture_on_commit_callbacks(execute=False):
        services.record_reminders_claim()  # committed, but the message never reaches a worker
    assert mail.outbox == []
    _later(time_machine, minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_reminders_claim()
    assert len(mail.outbox) == 2
    _later(time_machine, minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_reminders_claim()
    assert len(mail.outbox) == 2


def test_no_reminder_for_a_record_already_submitted(
    returned_visit, sam, complete_record, time_machine, django_capture_on_commit_callbacks
):
    # R-REC-3
    _later(time_machine, hours=21)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.record_reminders_claim()
    complete_record(returned_visit, sam)  # submitted before the worker picked the send up
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    assert RecordReminder.objects.get().status == RecordReminder.Status.SKIPPED


def test_beat_runs_the_reminder_scan():
    # R-REC-3: the reminder runs on Celery beat.
    from config.celery_app import app

    entry = settings.CELERY_BEAT_SCHEDULE["record-reminders"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["options"]["expires"] <= entry["schedule"].run_every.total_seconds()


def test_the_overdue_list_costs_the_same_queries_for_few_and_many(
    client, sam, tess, dana, hugh, olive, pupil, time_machine
):
    # R-REC-3
    visit_returned(sam, pupil, [sam, tess], dana)
    _later(time_machine, hours=25)
    sign_in(client, dana)
    few, _ = queries_for(client, reverse("records:overdue_records"))
    _later(time_machine, hours=-25)
    for _ in range(6):
        visit_returned(sam, pupil, [sam, tess], dana)
    _later(time_machine, hours=25)
    sign_in(client, dana)
    many, response = queries_for(client, reverse("records:overdue_records"))
    assert response.content.count(b">Overdue</span>") == 7
    assert many == few
