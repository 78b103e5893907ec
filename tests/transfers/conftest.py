"""Worlds for the file transfer tests (R-REC-8), built straight into the tables where the test
is not about how they came to be."""

import datetime

import pytest
from django.utils import timezone

from schools.models import School
from tests.factories import HouseholdFactory, PupilFactory, school_create
from transfers.models import FileTransfer, ReceivedDocument, ReceivedFile


def transfer_to_send(school, *, left_on=datetime.date(2026, 11, 27), **pupil_fields):
    pupil = PupilFactory(
        household=HouseholdFactory(school=school),
        first_name=pupil_fields.pop("first_name", "Leo"),
        last_name=pupil_fields.pop("last_name", "Lewis"),
        left_on=left_on,
        leaving_to="Elsewhere Primary",
        **pupil_fields,
    )
    return FileTransfer.objects.create(
        pupil=pupil,
        school=school,
        left_on=left_on,
        due_on=left_on + datetime.timedelta(days=7),
        created_at=timezone.now(),
    )


def received_file(pupil, *, by, from_school_name="Hillside Infants"):
    received = ReceivedFile.objects.create(
        school=pupil.school,
        pupil=pupil,
        kind=ReceivedFile.Kind.HOMEWARD,
        from_school_name=from_school_name,
        received_on=datetime.date(2025, 9, 1),
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    ReceivedDocument.objects.create(
        received_file=received,
        title="Whole safeguarding file",
        filename="safeguarding-file.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.7 earlier file",
        size=21,
    )
    return received


def offered_file(*, to_school):
    sender = School.objects.filter(name="Birchwood Academy").first() or school_create(
        "Birchwood Academy", "100002", trust=to_school.trust
    )
    transfer = transfer_to_send(sender, first_name="Mia", last_name="Moss")
    FileTransfer.objects.filter(pk=transfer.pk).update(
        status=FileTransfer.Status.OFFERED,
        route=FileTransfer.Route.HOMEWARD,
        to_school=to_school,
        to_school_name=to_school.name,
        started_at=timezone.now(),
    )
    transfer.refresh_from_db()
    return transfer


@pytest.fixture
def emails_at_once(monkeypatch):
    """The test runs inside one transaction that never commits: run the tasks transfers hands
    to the workers "on commit" at once instead, in process."""
    import importlib

    from transfers import notify

    def run(task_name, /, **kwargs):
        module, name = task_name.rsplit(".", 1)
        getattr(importlib.import_module(module), name)(**kwargs)

    monkeypatch.setattr(notify, "enqueue", run)
