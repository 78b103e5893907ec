"""The Home Visit form (R-REC-1, R-REC-2, R-REC-5, R-REC-6), through the services and the page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from records import services
from records.models import PupilSeen, VisitRecord
from schools.models import Role
from tests.factories import PupilFactory, person, visit_draft, visit_returned
from visits.models import Status

from .conftest import COMPLETE, SEEN, record_answers


def _post_data(visit, *, version="", button="save", **fields):
    """What the browser posts for the whole form."""
    data = {"version": version, button: "1"}
    for name, value in {**COMPLETE, **fields}.items():
        data[name] = "on" if value is True else ("" if value in (False, None) else value)
    for pupil in visit.pupils.all():
        for name, value in SEEN.items():
            if name == "seen":
                value = "yes" if value else "no"
            if value is True:
                value = "on"
            if value is False:
                continue
            data[f"pupil-{pupil.pk}-{name}"] = value
    return data


# R-REC-1: who completes it, and when ------------------------------------------------------------


def test_only_the_visitors_complete_the_home_visit_form(returned_visit, dana):
    # R-REC-1
    with pytest.raises(services.RecordBlocked, match="Only the visitors"):
        services.record_save(actor=dana, visit=returned_visit, **record_answers(returned_visit))
    assert not VisitRecord.objects.exists()


def test_a_dsl_reads_the_record_but_gets_403_on_the_form(client, signed_in, returned_visit, dana):
    # R-REC-1, R-SEC-1
    signed_in(dana)
    assert client.get(reverse("records:record", args=[returned_visit.pk])).status_code == 200
    assert client.get(reverse("records:record_edit", args=[returned_visit.pk])).status_code == 403


def test_the_requester_who_did_not_go_cannot_read_the_record(oakfield, tess, dana, pupil, client):
    # R-SEC-1: the visitors, DSLs and the Headteacher read records; not the requester as such.
    uma = person("uma", oakfield, Role.STAFF)
    sam2 = person("sam2", oakfield, Role.STAFF)
    visit = visit_returned(uma, pupil, [sam2, tess], dana)
    from tests.auth import sign_in

    sign_in(client, uma)
    assert client.get(reverse("records:record", args=[visit.pk])).status_code == 403


def test_a_visitor_who_withdrew_does_not_complete_the_form(
    oakfield, sam, tess, dana, pupil, client
):
    # R-REC-1: the visitor withdrew (R-REQ-5) and did not go.
    from visits.models import Visitor

    uma = person("uma", oakfield, Role.STAFF)
    visit = visit_returned(sam, pupil, [sam, tess, uma], dana)
    Visitor.objects.filter(visit=visit, user=uma).update(withdrawn_at=timezone.now())
    with pytest.raises(services.RecordBlocked, match="Only the visitors"):
        services.record_save(actor=uma, visit=visit, **record_answers(visit))


def test_the_form_opens_only_when_the_visitors_are_back(sam, tess, pupil, client, signed_in):
    # R-REC-1: "After return the visitors complete the Home Visit form".
    visit = visit_draft(sam, pupil, [sam, tess])
    with pytest.raises(services.RecordBlocked, match="after the visitors have returned"):
        services.record_save(actor=sam, visit=visit, **record_answers(visit))
    signed_in(sam)
    response = client.post(
        reverse("records:record_edit", args=[visit.pk]), _post_data(visit, button="submit")
    )
    assert response.status_code == 200
    assert b"The form opens when the visitors are back" in response.content
    assert not VisitRecord.objects.exists()


# Saving and coming back, submitting ------------------------------------------------------------


def test_a_visitor_saves_a_draft_and_comes_back_to_it(client, signed_in, returned_visit, sam):
    # R-REC-1: "Visitors can save and come back".
    signed_in(sam)
    url = reverse("records:record_edit", args=[returned_visit.pk])
    response = client.post(url, _post_data(returned_visit, outcome_details="", comments="Half"))
    assert response.status_code == 302
    record = VisitRecord.objects.get(visit=returned_visit)
    assert record.status == VisitRecord.Status.DRAFT
    assert record.comments == "Half"
    returned_visit.refresh_from_db()
    assert returned_visit.status == Status.RETURNED
    page = client.get(url)
    assert b"Half" in page.content
    assert "I’ve been poorly".encode() in page.content


def test_submitting_a_complete_record_closes_the_visit(returned_visit, sam, complete_record):
    # R-REC-1, R-REC-3: submitting closes the visit (it stayed open until recorded).
    record = complete_record(returned_visit, sam)
    returned_visit.refresh_from_db()
    assert record.status == VisitRecord.Status.SUBMITTED
    assert record.submitted_by == sam
    assert returned_visit.status == Status.RECORDED
    assert returned_visit.recorded_at == record.submitted_at
    events = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"record.created", "record.submitted", "visit.recorded"} <= events


def test_submitting_through_the_page_goes_to_the_record(client, signed_in, returned_visit, tess):
    # R-REC-1
    signed_in(tess)
    response = client.post(
        reverse("records:record_edit", args=[returned_visit.pk]),
        _post_data(returned_visit, button="submit"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("records:record", args=[returned_visit.pk])
    assert b"The record is submitted and the visit is closed." in response.content
    returned_visit.refresh_from_db()
    assert returned_visit.status == Status.RECORDED


def test_a_record_without_an_outcome_or_acknowledgement_cannot_be_submitted(
    returned_visit, sam, complete_record
):
    # R-REC-1
    with pytest.raises(services.RecordBlocked) as blocked:
        complete_record(returned_visit, sam, outcome="", outcome_details="", acknowledgement="")
    problems = " ".join(blocked.value.messages)
    assert "Choose the outcome of the visit" in problems
    assert "parent or guardian's acknowledgement" in problems
    returned_visit.refresh_from_db()
    assert returned_visit.status == Status.RETURNED


def test_a_signed_acknowledgement_needs_the_typed_name_and_declined_does_not(
    returned_visit, sam, complete_record
):
    # R-REC-1: "typed name, or declined".
    with pytest.raises(services.RecordBlocked, match="Type the name"):
        complete_record(returned_visit, sam, acknowledged_by_name=" ")
    record = complete_record(
        returned_visit, sam, acknowledgement="declined", acknowledged_by_name=""
    )
    assert record.is_submitted


def test_each_child_needs_seen_or_not_and_why_not(returned_visit, sam, pupil, complete_record):
    # R-REC-2: seen, spoken to, seen alone, and if not why ("you cannot insist on seeing").
    unanswered = {pupil.pk: {"seen": None}}
    with pytest.raises(services.RecordBlocked, match="Say whether Aisha was seen"):
        complete_record(returned_visit, sam, pupils=unanswered)
    not_seen = {pupil.pk: {"seen": False, "why_not": ""}}
    with pytest.raises(services.RecordBlocked, match="Say why Aisha was not seen"):
        complete_record(returned_visit, sam, pupils=not_seen)
    not_alone = {pupil.pk: {**SEEN, "seen_alone": False, "why_not": ""}}
    with pytest.raises(services.RecordBlocked, match="Say why Aisha was not seen alone"):
        complete_record(returned_visit, sam, pupils=not_alone)
    explained = {
        pupil.pk: {
            **SEEN,
            "seen": False,
            "spoken_to": False,
            "child_said": "",
            "why_not": "Asleep upstairs; mother declined.",
        }
    }
    record = complete_record(
        returned_visit, sam, pupils=explained, outcome="family_spoken_to", outcome_details="x"
    )
    row = record.pupils_seen.get()
    assert (row.seen, row.why_not) == (False, "Asleep upstairs; mother declined.")


def test_a_child_spoken_to_needs_their_own_words_and_how_they_presented(
    returned_visit, sam, pupil, complete_record
):
    # R-REC-2
    silent = {pupil.pk: {**SEEN, "child_said": ""}}
    with pytest.raises(services.RecordBlocked, match="Write what Aisha said"):
        complete_record(returned_visit, sam, pupils=silent)
    unobserved = {pupil.pk: {**SEEN, "emotional_presentation": "", "hunger": ""}}
    with pytest.raises(services.RecordBlocked) as blocked:
        complete_record(returned_visit, sam, pupils=unobserved)
    assert "how Aisha presented, physically and emotionally" in " ".join(blocked.value.messages)
    assert "whether they seemed hungry" in " ".join(blocked.value.messages)


def test_the_childs_words_are_kept_exactly_as_typed(
    client, signed_in, returned_visit, sam, dana, complete_record
):
    # R-REC-2: quotes kept as quotes.
    complete_record(returned_visit, sam)
    row = PupilSeen.objects.get()
    assert row.child_said == SEEN["child_said"]
    signed_in(dana)
    page = client.get(reverse("records:record", args=[returned_visit.pk]))
    assert "“I’ve been poorly but I want to come back,” she said.".encode() in page.content
    assert b"&quot;I miss Miss Patel.&quot;" in page.content


def test_every_sibling_on_the_visit_gets_their_own_answers(
    sam, tess, dana, hugh, olive, pupil, complete_record
):
    # R-REC-2, R-REQ-1: siblings share a visit; each child is recorded.
    from visits.models import Visit

    sibling = PupilFactory(household=pupil.household, first_name="Zain", last_name="Ahmed")
    visit = visit_returned(sam, pupil, [sam, tess], dana)
    Visit.pupils.through.objects.create(visit=visit, pupil=sibling)
    with pytest.raises(services.RecordBlocked, match="Say whether Zain was seen"):
        complete_record(visit, sam, pupils={pupil.pk: dict(SEEN)})
    record = complete_record(visit, sam)
    assert record.pupils_seen.count() == 2


def test_the_pupils_answered_must_be_on_the_visit(returned_visit, sam, oakfield):
    stranger = PupilFactory(household__school=oakfield)
    with pytest.raises(services.RecordBlocked, match="Only the pupils on this visit"):
        services.record_save(
            actor=sam, visit=returned_visit, fields={}, pupils={stranger.pk: {"seen": True}}
        )


# R-REC-5: no one answered ----------------------------------------------------------------------


def test_no_answer_needs_the_sealed_addressed_note(returned_visit, sam, pupil, complete_record):
    # R-REC-5
    nobody = {
        "nobody_answered": True,
        "outcome": "no_answer",
        "outcome_details": "No answer at 10:05 or 10:20.",
        "acknowledgement": "not_available",
        "acknowledged_by_name": "",
        "family_wanted_help": "not_asked",
        "pupils": {
            pupil.pk: {**SEEN, "seen": False, "spoken_to": False, "why_not": "No one answered."}
        },
    }
    with pytest.raises(services.RecordBlocked, match="sealed, addressed note"):
        complete_record(returned_visit, sam, **nobody)
    record = complete_record(
        returned_visit,
        sam,
        **nobody,
        sealed_note_left=True,
        sealed_note_details="Through the letterbox, addressed to Ms Ahmed.",
    )
    assert record.sealed_note_left and record.is_submitted


def test_no_answer_cannot_also_say_the_child_was_seen(returned_visit, sam, complete_record):
    # R-REC-5
    with pytest.raises(services.RecordBlocked) as blocked:
        complete_record(returned_visit, sam, nobody_answered=True, sealed_note_left=True)
    problems = " ".join(blocked.value.messages)
    assert "the outcome is “No one answered”" in problems
    assert "Aisha cannot have been seen" in problems


# R-REC-6: the next contact -----------------------------------------------------------------------


def test_the_next_visit_or_contact_arranged_is_recorded(returned_visit, sam, complete_record):
    # R-REC-6
    monday = timezone.localdate() + datetime.timedelta(days=5)
    with pytest.raises(services.RecordBlocked, match="visit or a call"):
        complete_record(returned_visit, sam, next_contact_on=monday)
    record = complete_record(returned_visit, sam, next_contact_on=monday, next_contact_kind="phone")
    assert (record.next_contact_on, record.next_contact_kind) == (monday, "phone")


# Two visitors, double clicks, bad input ----------------------------------------------------------


def test_the_other_visitors_save_in_between_is_never_overwritten(returned_visit, sam, tess):
    first = services.record_save(
        actor=sam, visit=returned_visit, fields={"comments": "Sam's"}, pupils={}
    )
    opened_at = first.version
    services.record_save(
        actor=tess,
        visit=returned_visit,
        fields={"comments": "Tess's"},
        pupils={},
        version=opened_at,
    )
    with pytest.raises(services.RecordConflict, match="Another visitor saved"):
        services.record_save(
            actor=sam,
            visit=returned_visit,
            fields={"comments": "Sam again"},
            pupils={},
            version=opened_at,
        )
    assert VisitRecord.objects.get().comments == "Tess's"


def test_a_submitted_record_cannot_be_changed(returned_visit, sam, complete_record, client):
    complete_record(returned_visit, sam)
    with pytest.raises(services.RecordConflict, match="submitted by Sam Example"):
        services.record_save(actor=sam, visit=returned_visit, fields={"comments": "x"}, pupils={})
    from tests.auth import sign_in

    sign_in(client, sam)
    response = client.get(reverse("records:record_edit", args=[returned_visit.pk]))
    assert response.status_code == 302


def test_submitting_twice_closes_the_visit_once(returned_visit, sam, tess, complete_record):
    complete_record(returned_visit, sam)
    again = services.record_submit(actor=tess, visit=returned_visit)
    assert again.submitted_by == sam
    assert AuditEvent.objects.filter(event_type="visit.recorded").count() == 1


def test_bad_input_shows_the_form_again_and_saves_nothing(client, signed_in, returned_visit, sam):
    signed_in(sam)
    response = client.post(
        reverse("records:record_edit", args=[returned_visit.pk]),
        _post_data(returned_visit, outcome="not-an-outcome", next_contact_on="31/02/2026"),
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert b"Enter a valid date" in response.content
    assert not VisitRecord.objects.exists()


def test_an_incomplete_submission_keeps_the_draft_and_names_the_rules(
    client, signed_in, returned_visit, sam
):
    signed_in(sam)
    response = client.post(
        reverse("records:record_edit", args=[returned_visit.pk]),
        _post_data(returned_visit, button="submit", outcome_details="", comments="Kept"),
    )
    assert response.status_code == 200
    assert b"cannot be submitted yet" in response.content
    assert b"Describe the outcome of the visit." in response.content
    record = VisitRecord.objects.get()
    assert (record.status, record.comments) == ("draft", "Kept")
    # The page carries the new version, so saving again is not a conflict.
    assert f'value="{record.version}"'.encode() in response.content


def test_two_visitors_who_both_opened_a_blank_form_do_not_overwrite_each_other(
    client, returned_visit, sam, tess
):
    from tests.auth import sign_in

    sign_in(client, tess)
    url = reverse("records:record_edit", args=[returned_visit.pk])
    assert b'name="version" value="0"' in client.get(url).content
    client.post(url, _post_data(returned_visit, version="0", comments="Tess first"))
    sign_in(client, sam)
    response = client.post(
        url, _post_data(returned_visit, version="0", comments="Sam second"), follow=True
    )
    assert b"Another visitor saved this record while you were editing it." in response.content
    assert VisitRecord.objects.get().comments == "Tess first"


def test_the_admin_shows_records_read_only(admin_client, returned_visit, sam, complete_record):
    record = complete_record(returned_visit, sam)
    response = admin_client.get(reverse("admin:records_visitrecord_change", args=[record.pk]))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content
    assert admin_client.get(reverse("admin:records_action_add")).status_code == 403
