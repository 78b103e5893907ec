"""R-REC-8, to a school on Homeward: Dana marks Aisha as leaving, offers her file to Birchwood,
Bea accepts it there; the whole file becomes Birchwood's, Oakfield keeps the receipt."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contacts.models import ContactLog
from records import services as records_services
from records.models import Action, Concern, PupilSeen
from schools.models import Pupil
from tests.auth import sign_in
from tests.factories import visit_returned
from tests.records.conftest import record_answers
from transfers import services
from transfers.models import FileTransfer, ReceivedDocument, ReceivedFile


@pytest.fixture(autouse=True)
def _emails(emails_at_once):
    pass


@pytest.fixture(autouse=True)
def _a_thursday_in_term(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 26, 9, 0, tzinfo=timezone.get_current_timezone()), tick=False
    )


@pytest.fixture
def aisha_with_a_file(sam, tess, dana, hugh, pupil):
    """Aisha (UPN set) seen on a visit, with a concern and an action about her."""
    Pupil.objects.filter(pk=pupil.pk).update(upn="A123456789012")
    pupil.refresh_from_db()
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    records_services.record_save(actor=sam, visit=visit, **record_answers(visit))
    records_services.record_submit(actor=sam, visit=visit)
    records_services.concern_raise(
        actor=sam, visit=visit, level="concern", details="Bruise on her arm.", pupil=pupil
    )
    records_services.action_create(
        actor=sam,
        visit=visit,
        description="Call mum about the bruise.",
        owner=dana,
        due_on=timezone.localdate(),
        pupil=pupil,
    )
    return pupil


def _leave(client, dana, pupil, left_on="2026-11-26", to="Birchwood Academy"):
    sign_in(client, dana)
    return client.post(
        reverse("transfers:pupil_leaving", args=[pupil.pk]),
        {"left_on": left_on, "leaving_to": to},
    )


def test_marking_a_pupil_with_a_file_as_leaving_lists_their_file_with_its_deadline(
    client, dana, aisha_with_a_file
):
    response = _leave(client, dana, aisha_with_a_file)
    assert response.status_code == 302
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    # Left Thursday 26 Nov: Fri, Mon, Tue, Wed, Thu → due Thursday 3 December.
    assert transfer.due_on == datetime.date(2026, 12, 3)
    assert transfer.status == FileTransfer.Status.TO_SEND
    page = client.get(reverse("transfers:dashboard")).content.decode()
    assert "Aisha Ahmed" in page and "03/12/2026" in page
    assert AuditEvent.objects.filter(event_type="pupil.left").exists()
    assert AuditEvent.objects.filter(
        event_type="transfer.opened", school=dana.memberships.get().school
    ).exists()


def test_a_pupil_without_a_safeguarding_file_has_nothing_to_transfer(client, dana, pupil):
    _leave(client, dana, pupil)
    assert not FileTransfer.objects.exists()


def test_the_whole_file_becomes_birchwoods_when_bea_accepts_it(
    client, dana, hugh, bea, oakfield, birchwood, aisha_with_a_file
):
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    mail.outbox.clear()
    response = client.post(
        reverse("transfers:offer", args=[transfer.pk]), {"to_school": birchwood.pk}
    )
    assert response.status_code == 302
    # Birchwood's DSL is alerted, without the child's details.
    assert [m.to for m in mail.outbox] == [[bea.email]]
    assert "Aisha" not in mail.outbox[0].body and "Ahmed" not in mail.outbox[0].body

    sign_in(client, bea)
    assert "Review and accept" in client.get(reverse("transfers:dashboard")).content.decode()
    assert client.get(reverse("transfers:accept", args=[transfer.pk])).status_code == 200
    response = client.post(reverse("transfers:accept", args=[transfer.pk]))
    assert response.status_code == 302

    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.RECEIVED
    assert transfer.received_by == bea and transfer.on_time is True
    new_pupil = transfer.received_pupil
    assert new_pupil.school == birchwood and new_pupil.upn == "A123456789012"
    assert new_pupil.household.school == birchwood
    received = ReceivedFile.objects.get(transfer=transfer)
    titles = [d.title for d in received.documents.all()]
    assert titles[:2] == ["Whole safeguarding file", "Chronology (CSV)"]
    assert any(t.startswith("Risk assessment") for t in titles)
    chronology = received.documents.get(title="Chronology (CSV)")
    assert "Bruise on her arm." in bytes(chronology.content).decode("utf-8-sig")

    # Bea opens the file; the download is an audited document event at Birchwood.
    pdf = received.documents.get(title="Whole safeguarding file")
    response = client.get(reverse("transfers:document", args=[pdf.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        event_type="document.downloaded", school=birchwood, changes__document="transferred-file"
    ).exists()

    # Audited on both sides.
    for school in (oakfield, birchwood):
        assert AuditEvent.objects.filter(event_type="transfer.accepted", school=school).exists()
        assert AuditEvent.objects.filter(event_type="transfer.offered", school=school).exists()

    # Oakfield keeps the receipt and the fact that a file existed, not what was about Aisha.
    assert not PupilSeen.objects.filter(pupil=aisha_with_a_file).exists()
    assert not Concern.objects.filter(pupil=aisha_with_a_file).exists()
    assert not Action.objects.filter(pupil=aisha_with_a_file).exists()
    assert transfer.rows_removed["concerns"] == 1
    sign_in(client, dana)
    page = client.get(reverse("transfers:pupil", args=[aisha_with_a_file.pk])).content.decode()
    assert "Received" in page and "keeps the receipt only" in page
    # Dana cannot open Birchwood's copy.
    assert client.get(reverse("transfers:document", args=[pdf.pk])).status_code == 404


def test_a_school_that_keeps_its_own_copy_keeps_the_rows(
    client, dana, bea, oakfield, birchwood, aisha_with_a_file
):
    oakfield.transfer_sender_keeps = "file"
    oakfield.save()
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=transfer, to_school=birchwood)
    services.transfer_accept(actor=bea, transfer=transfer)
    assert Concern.objects.filter(pupil=aisha_with_a_file).exists()


def test_bea_declining_puts_the_file_back_on_danas_list(
    client, dana, bea, oakfield, birchwood, aisha_with_a_file
):
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=transfer, to_school=birchwood)
    mail.outbox.clear()
    sign_in(client, bea)
    client.post(reverse("transfers:decline", args=[transfer.pk]), {"reason": "Not our pupil."})
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.TO_SEND and transfer.to_school is None
    # Oakfield's DSL and Headteacher are told.
    assert sorted(m.to[0] for m in mail.outbox) == ["dana@school.example", "hugh@school.example"]
    for school in (oakfield, birchwood):
        assert AuditEvent.objects.filter(event_type="transfer.declined", school=school).exists()
    # Once declined, Birchwood no longer sees it.
    assert client.get(reverse("transfers:accept", args=[transfer.pk])).status_code == 404


def test_an_accepted_file_cannot_be_accepted_twice(dana, bea, birchwood, aisha_with_a_file, client):
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=transfer, to_school=birchwood)
    services.transfer_accept(actor=bea, transfer=transfer)
    with pytest.raises(services.TransferBlocked):
        services.transfer_accept(actor=bea, transfer=transfer)
    assert ReceivedFile.objects.count() == 1


def test_only_the_receiving_schools_dsl_can_accept(
    client, dana, bea, oscar, birchwood, aisha_with_a_file
):
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=transfer, to_school=birchwood)
    # Dana (the sender) and Oscar (another school) cannot accept it: not found.
    for user in (dana, oscar):
        sign_in(client, user)
        assert client.post(reverse("transfers:accept", args=[transfer.pk])).status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.OFFERED


def test_a_pupil_who_stays_has_the_open_transfer_cancelled(
    client, dana, bea, birchwood, oakfield, aisha_with_a_file
):
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=transfer, to_school=birchwood)
    client.post(reverse("transfers:pupil_returned", args=[aisha_with_a_file.pk]))
    transfer.refresh_from_db()
    assert transfer.status == FileTransfer.Status.CANCELLED
    assert AuditEvent.objects.filter(event_type="transfer.cancelled", school=birchwood).exists()
    # Birchwood can no longer accept it, and nothing moved.
    with pytest.raises(services.TransferBlocked):
        services.transfer_accept(actor=bea, transfer=transfer)
    assert Concern.objects.filter(pupil=aisha_with_a_file).exists()


def test_a_pupil_who_comes_back_later_brings_their_file_back_to_their_old_record(
    client, dana, bea, oakfield, birchwood, aisha_with_a_file
):
    """Aisha moves to Birchwood, then back to Oakfield: Birchwood sends her file back, and it is
    attached to Oakfield's own record of her (the same UPN), with everything she brought."""
    _leave(client, dana, aisha_with_a_file)
    first = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=first, to_school=birchwood)
    services.transfer_accept(actor=bea, transfer=first)
    at_birchwood = Pupil.objects.get(pk=first.received_pupil_id)

    sign_in(client, bea)
    client.post(
        reverse("transfers:pupil_leaving", args=[at_birchwood.pk]),
        {"left_on": "2026-11-26", "leaving_to": "Oakfield Primary School"},
    )
    back = FileTransfer.objects.get(pupil=at_birchwood, status=FileTransfer.Status.TO_SEND)
    services.transfer_offer(actor=bea, transfer=back, to_school=oakfield)
    services.transfer_accept(actor=dana, transfer=back)
    back.refresh_from_db()
    assert back.received_pupil_id == aisha_with_a_file.pk
    files = ReceivedFile.objects.filter(pupil=aisha_with_a_file)
    # Birchwood's file of her, and inside it the file Oakfield first sent.
    assert files.count() == 2 and set(files.values_list("school", flat=True)) == {oakfield.pk}
    assert ReceivedDocument.objects.filter(received_file__pupil=at_birchwood).count() == 0


def test_recording_a_file_that_arrived_on_paper(client, bea, birchwood):
    from tests.factories import HouseholdFactory, PupilFactory

    newcomer = PupilFactory(household=HouseholdFactory(school=birchwood))
    sign_in(client, bea)
    response = client.post(
        reverse("transfers:paper_file", args=[newcomer.pk]),
        {
            "from_school_name": "St Mary's, Bradford",
            "received_on": "2026-11-25",
            "kept_where": "DSL office, locked cabinet",
        },
    )
    assert response.status_code == 302
    received = ReceivedFile.objects.get(pupil=newcomer)
    assert received.kind == ReceivedFile.Kind.PAPER
    assert AuditEvent.objects.filter(event_type="transfer.paper_file_recorded").exists()
    page = client.get(reverse("transfers:pupil", args=[newcomer.pk])).content.decode()
    assert "St Mary&#x27;s, Bradford" in page and "locked cabinet" in page


def test_a_paper_file_cannot_arrive_in_the_future(bea, birchwood):
    from tests.factories import HouseholdFactory, PupilFactory

    newcomer = PupilFactory(household=HouseholdFactory(school=birchwood))
    with pytest.raises(services.TransferBlocked):
        services.paper_file_record(
            actor=bea,
            pupil=newcomer,
            from_school_name="X",
            received_on=datetime.date(2026, 12, 25),
            kept_where="Office",
        )
    assert not ReceivedFile.objects.exists()


def test_contact_log_rows_about_the_child_go_with_the_file(
    client, dana, bea, birchwood, aisha_with_a_file, sam
):
    ContactLog.objects.create(
        school=aisha_with_a_file.school,
        household=aisha_with_a_file.household,
        pupil=aisha_with_a_file,
        counterpart="family",
        channel="phone",
        outcome="spoke_to_parent",
        occurred_at=timezone.now(),
        recorded_by=sam,
        notes="Mum says Aisha is moving to Birchwood.",
    )
    _leave(client, dana, aisha_with_a_file)
    transfer = FileTransfer.objects.get(pupil=aisha_with_a_file)
    services.transfer_offer(actor=dana, transfer=transfer, to_school=birchwood)
    services.transfer_accept(actor=bea, transfer=transfer)
    chronology = ReceivedFile.objects.get(transfer=transfer).documents.get(title="Chronology (CSV)")
    assert "moving to Birchwood" in bytes(chronology.content).decode("utf-8-sig")
    assert not ContactLog.objects.filter(pupil=aisha_with_a_file).exists()
