"""Concerns raised on a record alert the DSLs at once (R-REC-4); only they read them (R-SEC-1)."""

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from records import services
from records.models import Concern
from tests.auth import sign_in

from .conftest import queries_for


def test_a_concern_alerts_the_schools_dsls_and_head_at_once_by_email(
    returned_visit, sam, dana, hugh, olive, bea, django_capture_on_commit_callbacks
):
    # R-REC-4
    with django_capture_on_commit_callbacks(execute=True):
        services.concern_raise(
            actor=sam, visit=returned_visit, level="concern", details="Bruise on the left arm."
        )
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == [dana.email, hugh.email]  # not the office, not another school's DSL
    message = mail.outbox[0]
    assert f"visit #{returned_visit.pk}" in message.subject
    assert reverse("records:record", args=[returned_visit.pk]) in message.body


def test_the_concern_email_names_no_child_and_no_address(
    returned_visit, sam, pupil, django_capture_on_commit_callbacks
):
    # R-REC-4; no child's name, date of birth or address in any email.
    with django_capture_on_commit_callbacks(execute=True):
        services.concern_raise(
            actor=sam,
            visit=returned_visit,
            level="immediate",
            details="Aisha said she is scared to go home.",
            pupil=pupil,
            instruction_seen=True,
        )
    assert mail.outbox
    for message in mail.outbox:
        text = message.subject + message.body + message.alternatives[0][0]
        for private in ("Aisha", "Ahmed", "Elm Grove", "LS6", "scared", "14/03/2017"):
            assert private not in text
        assert "URGENT" in message.subject


def test_immediate_risk_first_shows_the_instruction_to_call_and_saves_nothing(
    client, returned_visit, sam, django_capture_on_commit_callbacks
):
    # R-REC-4: "immediate risk of harm" shows the instruction to call the duty team / 999.
    sign_in(client, sam)
    url = reverse("records:concern_raise", args=[returned_visit.pk])
    form = {"level": "immediate", "details": "Child alone, front door open.", "pupil": ""}
    response = client.post(url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "call the duty team" in page.lower() and "999" in page
    assert 'id="immediate-instruction" class="alert alert-danger"' in page  # shown, not hidden
    assert not Concern.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "instruction_seen": "on"})
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert concern.is_immediate and concern.instruction_seen_at is not None
    assert mail.outbox


def test_the_service_refuses_immediate_risk_until_the_instruction_was_seen(returned_visit, sam):
    # R-REC-4
    with pytest.raises(services.ImmediateRiskInstructionNotSeen, match="999"):
        services.concern_raise(
            actor=sam, visit=returned_visit, level="immediate", details="Alone in the house."
        )
    assert not Concern.objects.exists()


def test_an_empty_concern_is_refused_with_a_plain_message(client, returned_visit, sam):
    sign_in(client, sam)
    response = client.post(
        reverse("records:concern_raise", args=[returned_visit.pk]),
        {"level": "concern", "details": "   "},
    )
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not Concern.objects.exists()


def test_open_concerns_stay_on_the_dsl_dashboard_until_one_acknowledges(
    client, returned_visit, sam, dana, hugh
):
    # R-REC-4: "and on their dashboard".
    concern = services.concern_raise(
        actor=sam, visit=returned_visit, level="concern", details="Bruise on the left arm."
    )
    sign_in(client, hugh)
    assert b"Bruise on the left arm." in client.get(reverse("records:dashboard")).content
    sign_in(client, dana)
    response = client.post(
        reverse("records:concern_acknowledge", args=[concern.pk]), {"notes": "Called MASH."}
    )
    assert response.status_code == 302
    concern.refresh_from_db()
    assert (concern.acknowledged_by, concern.acknowledgement_notes) == (dana, "Called MASH.")
    assert b"Bruise on the left arm." not in client.get(reverse("records:concerns")).content
    assert AuditEvent.objects.filter(event_type="concern.acknowledged").count() == 1
    again = services.concern_acknowledge(actor=hugh, concern=concern)
    assert again.acknowledged_by == dana  # the first acknowledgement stands


def test_staff_cannot_acknowledge_a_concern(returned_visit, sam, client):
    # R-REC-4, R-SEC-1
    concern = services.concern_raise(actor=sam, visit=returned_visit, level="concern", details="x")
    with pytest.raises(services.RecordBlocked, match="DSL or the Headteacher"):
        services.concern_acknowledge(actor=sam, concern=concern)
    sign_in(client, sam)
    url = reverse("records:concern_acknowledge", args=[concern.pk])
    assert client.get(url).status_code == 403


def test_the_office_and_the_manager_never_read_concerns(
    client, returned_visit, sam, olive, max, oscar
):
    # R-SEC-1: office staff never see concerns or records.
    services.concern_raise(actor=sam, visit=returned_visit, level="concern", details="Secret")
    for person in (olive, max):
        sign_in(client, person)
        for url in (
            reverse("records:record", args=[returned_visit.pk]),
            reverse("records:concerns"),
            reverse("records:concern_raise", args=[returned_visit.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 403
            assert b"Secret" not in response.content
    sign_in(client, oscar)
    assert client.get(reverse("records:record", args=[returned_visit.pk])).status_code == 404


def test_the_concerns_page_costs_the_same_queries_for_few_and_many(
    client, returned_visit, sam, dana
):
    services.concern_raise(actor=sam, visit=returned_visit, level="concern", details="one")
    sign_in(client, dana)
    url = reverse("records:concerns")
    few, _ = queries_for(client, url)
    for n in range(12):
        services.concern_raise(
            actor=sam,
            visit=returned_visit,
            level="immediate",
            details=f"{n}",
            instruction_seen=True,
        )
    many, response = queries_for(client, url)
    assert response.content.count(b"list-group-item-danger") == 12
    assert many == few
