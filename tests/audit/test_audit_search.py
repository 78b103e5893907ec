"""R-SEC-2 / R-SEC-3: reads are audited like changes, and DSLs, Heads and trust leads search the
audit trail by pupil, person, kind and date, seeing only the schools where they read records."""

import datetime

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_event_create, audit_read
from contacts.models import ContactLog
from schools import services as school_services
from tests.factories import PupilFactory, UserFactory, visit_draft

URL = "audit:search"


def search(client, **filters):
    return client.get(reverse(URL), filters)


def shown_ids(response) -> set[int]:
    return {row["event"].pk for row in response.context["rows"]}


def test_opening_a_visit_is_an_audited_read(signed_in, dana, sam, tess, pupil):
    visit = visit_draft(sam, pupil, [sam, tess])
    signed_in(dana).get(reverse("visits:detail", kwargs={"pk": visit.pk}))
    event = AuditEvent.objects.get(event_type="read.visit")  # R-SEC-2
    assert (event.actor, event.object_type, event.object_id) == (
        dana,
        "visits.visit",
        str(visit.pk),
    )
    assert event.school == visit.school


def test_opening_a_pupil_s_page_is_an_audited_read(signed_in, sam, pupil):
    signed_in(sam).get(reverse("pupils:pupil_detail", kwargs={"pk": pupil.pk}))
    event = AuditEvent.objects.get(event_type="read.pupil")  # R-SEC-2
    assert (event.actor, event.object_id) == (sam, str(pupil.pk))


def test_printing_a_pdf_is_its_own_kind_of_audited_event(dana, sam, tess, pupil):
    visit = visit_draft(sam, pupil, [sam, tess])
    event = audit_read(actor=dana, obj=visit, what="pdf")  # R-SEC-3
    assert event.event_type == "read.pdf"
    assert event.school == visit.school


def test_a_dsl_finds_everything_about_one_pupil(signed_in, dana, sam, tess, pupil, household):
    other = PupilFactory(household=household, first_name="Zara", last_name="Quinn")
    visit = visit_draft(sam, pupil, [sam, tess])
    other_visit = visit_draft(sam, other, [sam, tess])
    log = ContactLog.objects.create(
        school=pupil.school,
        household=household,
        pupil=pupil,
        counterpart="family",
        channel="phone",
        outcome="no_answer",
        occurred_at=timezone.now(),
        recorded_by=sam,
    )
    about_log = audit_event_create(
        actor=sam, school=pupil.school, obj=log, event_type="contactlog.created"
    )
    about_pupil = audit_read(actor=sam, obj=pupil, what="pupil")
    about_other = audit_read(actor=sam, obj=other, what="pupil")
    response = search(signed_in(dana), pupil="Aisha")
    ids = shown_ids(response)
    assert {about_log.pk, about_pupil.pk} <= ids
    visit_events = AuditEvent.objects.filter(object_type="visits.visit", object_id=str(visit.pk))
    assert set(visit_events.values_list("pk", flat=True)) <= ids
    assert about_other.pk not in ids
    assert not ids & set(
        AuditEvent.objects.filter(
            object_id=str(other_visit.pk), object_type="visits.visit"
        ).values_list("pk", flat=True)
    )


def test_contact_log_events_written_before_it_moved_app_are_still_found(
    signed_in, dana, sam, pupil, household
):
    """The contact log lived in `records` until the audit app was made: its older events name
    it records.contactlog, and the trail is never rewritten (R-SEC-2)."""
    log = ContactLog.objects.create(
        school=pupil.school,
        household=household,
        pupil=pupil,
        counterpart="family",
        channel="phone",
        outcome="no_answer",
        occurred_at=timezone.now(),
        recorded_by=sam,
    )
    older = AuditEvent.objects.create(
        actor=sam,
        school=pupil.school,
        object_type="records.contactlog",
        object_id=str(log.pk),
        event_type="contactlog.created",
    )
    assert older.pk in shown_ids(search(signed_in(dana), pupil="Aisha"))


def test_a_dsl_filters_by_person_and_kind(signed_in, dana, sam, tess, pupil):
    by_sam = audit_read(actor=sam, obj=pupil, what="pupil")
    by_tess = audit_read(actor=tess, obj=pupil, what="pupil")
    client = signed_in(dana)
    assert shown_ids(search(client, actor=sam.pk, kind="read.pupil")) == {by_sam.pk}
    assert by_tess.pk in shown_ids(search(client, kind="read.pupil"))


def test_dates_are_school_days_in_uk_time_across_the_clock_change(signed_in, dana, sam, pupil):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    with time_machine.travel(datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)):
        summer = audit_read(actor=sam, obj=pupil, what="pupil")
    # 23:30 UTC on 30 November is 23:30 on 30 November in London (GMT).
    with time_machine.travel(datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)):
        winter = audit_read(actor=sam, obj=pupil, what="pupil")
    client = signed_in(dana)
    # Only this test's reads: the fixtures' own events are stamped with whatever "now" is.
    reads = {"actor": sam.pk, "kind": "read.pupil"}
    assert shown_ids(search(client, date_from="01/07/2026", date_to="01/07/2026", **reads)) == {
        summer.pk
    }
    assert shown_ids(search(client, date_from="30/11/2026", date_to="30/11/2026", **reads)) == {
        winter.pk
    }
    page = search(client, date_from="01/07/2026", date_to="01/07/2026").content.decode()
    assert "01/07/2026 00:30" in page


def test_other_schools_see_nothing_and_a_trust_lead_sees_the_trust(
    signed_in, client, dana, bea, oscar, pupil, trust
):
    oakfield_event = audit_read(actor=dana, obj=pupil, what="pupil")
    assert oakfield_event.pk not in shown_ids(search(signed_in(oscar)))  # R-SEC-1
    assert oakfield_event.pk not in shown_ids(search(signed_in(bea)))
    lead = UserFactory(username="tara")
    school_services.trust_role_add(actor=None, user=lead, trust=trust)
    assert oakfield_event.pk in shown_ids(search(signed_in(lead)))


def test_a_bad_search_is_explained_on_the_form_and_never_an_error(signed_in, dana):
    client = signed_in(dana)
    response = search(client, date_from="31/02/2026", actor="999999", kind="<script>")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid date" in page
    assert "<script>" not in page.split('id="main"')[1]
    response = search(client, date_from="02/03/2026", date_to="01/03/2026")
    assert "The end date is before the start date." in response.content.decode()


def test_changes_are_shown_escaped(signed_in, dana, pupil):
    audit_event_create(
        actor=dana,
        school=pupil.school,
        obj=pupil,
        event_type="pupil.changed",
        changes={"cultural_notes": ["", "<script>alert(1)</script>"]},
    )
    page = search(signed_in(dana)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_the_search_makes_the_same_number_of_queries_for_few_or_many_events(
    signed_in, dana, sam, pupil
):
    client = signed_in(dana)
    audit_read(actor=sam, obj=pupil, what="pupil")
    client.get(reverse(URL), {"pupil": "Aisha"})  # warm up whatever is cached per process
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(URL), {"pupil": "Aisha"})
    for _ in range(60):
        audit_read(actor=sam, obj=pupil, what="pupil")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(URL), {"pupil": "Aisha"})
    assert len(response.context["rows"]) == 50
    assert len(many) == len(few)


def test_opening_a_risk_assessment_is_an_audited_read(signed_in, dana, sam, tess, pupil):
    from tests.factories import assessment_for

    visit = visit_draft(sam, pupil, [sam, tess])
    assessment = assessment_for(visit, sam, risk="high")
    signed_in(dana).get(reverse("riskassess:assessment", kwargs={"visit_pk": visit.pk}))
    event = AuditEvent.objects.get(event_type="read.assessment")  # R-SEC-2
    assert (event.actor, event.object_id, event.school) == (dana, str(assessment.pk), visit.school)


def test_opening_a_household_s_contact_log_is_an_audited_read(signed_in, dana, household):
    signed_in(dana).get(reverse("riskassess:contact_log", kwargs={"household_pk": household.pk}))
    event = AuditEvent.objects.get(event_type="read.contact_log")  # R-SEC-2
    assert (event.actor, event.object_type, event.object_id) == (
        dana,
        "schools.household",
        str(household.pk),
    )


def test_opening_a_record_or_a_chronology_is_an_audited_read(signed_in, dana, sam, tess, pupil):
    visit = visit_draft(sam, pupil, [sam, tess])
    client = signed_in(dana)
    client.get(reverse("records:record", kwargs={"visit_pk": visit.pk}))
    client.get(reverse("records:chronology", kwargs={"pk": pupil.pk}))
    reads = set(AuditEvent.objects.filter(actor=dana).values_list("event_type", "object_id"))
    assert ("read.record", str(visit.pk)) in reads  # R-SEC-2
    assert ("read.chronology", str(pupil.pk)) in reads
