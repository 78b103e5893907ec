"""The COVID-19 doorstep visit (000): every question answered (R-RA-5), the contact log shows the
escalation steps were tried (R-RA-6), never to a self-isolating household (R-RA-7), and in
closure mode the only kind of visit (R-CLO-1)."""

import datetime

import pytest
from django.utils import timezone

from contacts.services import contact_log_create
from riskassess.doorstep import doorstep_steps, missing_steps
from riskassess.gates import authorisation_blockers, submission_blockers
from schools.models import Professional
from tests.factories import (
    ContactNumberFactory,
    assessment_for,
    doorstep_contacts_logged,
    visit_draft,
)
from visits import authorisation, common, requests
from visits.models import Status


def _call(visit, by, *, minutes_ago=30, **contact):
    contact.setdefault("counterpart", "family")
    return contact_log_create(
        actor=by,
        household=visit.household,
        channel="phone",
        outcome="no_answer",
        occurred_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        **contact,
    )


def _r_ra_6(visit) -> str:
    return next(
        (b for b in submission_blockers(visit) if "does not yet show these were tried" in b), ""
    )


def test_a_doorstep_visit_is_blocked_until_every_number_was_tried(doorstep_visit, sam):
    # R-RA-6: all family numbers, including emergency contacts.
    assessment_for(doorstep_visit, sam)
    household = doorstep_visit.household
    aunt = ContactNumberFactory(
        household=household, number="+447700900350", label="Aunt", emergency_contact=True
    )
    ContactNumberFactory(household=household, number="+447700900351", label="Old", current=False)
    blocker = _r_ra_6(doorstep_visit)
    assert "Call Mother's mobile (07700 900301)" in blocker
    assert "Call Grandparent" in blocker
    assert "Call Aunt (emergency contact)" in blocker
    assert "Old" not in blocker, "a number no longer current is not a step"
    for number in household.contact_numbers.filter(current=True).exclude(pk=aunt.pk):
        _call(doorstep_visit, sam, contact_number=number)
    blocker = _r_ra_6(doorstep_visit)
    assert "Call Aunt (emergency contact)" in blocker
    assert "Mother's mobile" not in blocker
    with pytest.raises(common.VisitBlocked, match="does not yet show these were tried"):
        requests.visit_submit(actor=sam, visit=doorstep_visit)
    doorstep_visit.refresh_from_db()
    assert doorstep_visit.status == Status.DRAFT


def test_the_social_care_front_door_must_be_tried(doorstep_visit, sam):
    # R-RA-6
    for number in doorstep_visit.household.contact_numbers.all():
        _call(doorstep_visit, sam, contact_number=number)
    assert [s.code for s in missing_steps(doorstep_visit)] == ["social_care"]
    _call(doorstep_visit, sam, counterpart="social_care", contacted="MASH duty desk")
    assert missing_steps(doorstep_visit) == []


def test_every_professional_and_the_allocated_social_worker_must_be_tried(
    doorstep_visit, sam, pupil, oakfield
):
    # R-RA-6: other professionals; for CP / CiN / LAC / EHCP / Early Help the social worker.
    support = Professional.objects.create(school=oakfield, name="Fay Moss", role="family_support")
    pupil.professionals.add(support)
    pupil.child_protection = True
    pupil.save()
    codes = {s.code for s in missing_steps(doorstep_visit)}
    assert f"professional:{support.pk}" in codes
    assert "social_worker" in codes, "a CP pupil with no social worker recorded still needs one"
    _call(doorstep_visit, sam, counterpart="professional", professional=support)
    _call(doorstep_visit, sam, counterpart="social_worker", contacted="Duty social worker")
    codes = {s.code for s in missing_steps(doorstep_visit)}
    assert f"professional:{support.pk}" not in codes and "social_worker" not in codes


def test_a_recorded_social_worker_is_the_step_by_name(doorstep_visit, sam, pupil, oakfield):
    # R-RA-6
    worker = Professional.objects.create(school=oakfield, name="Sol Reid", role="social_worker")
    pupil.professionals.add(worker)
    pupil.looked_after = True
    pupil.save()
    step = next(s for s in doorstep_steps(doorstep_visit) if s.code == f"professional:{worker.pk}")
    assert step.label == "Contact Sol Reid, the allocated social worker"
    assert "social_worker" not in {s.code for s in doorstep_steps(doorstep_visit)}
    assert step.prefill["counterpart"] == "social_worker"


def test_a_pupil_in_no_category_needs_no_social_worker(doorstep_visit):
    # R-RA-6 names CP / CiN / LAC / EHCP / Early Help only.
    assert "social_worker" not in {s.code for s in doorstep_steps(doorstep_visit)}


def test_attempts_older_than_the_assessment_age_limit_do_not_count(doorstep_visit, sam):
    # R-RA-6 with R-RA-8: the evidence is as fresh as the assessment.
    number = doorstep_visit.household.contact_numbers.first()
    _call(doorstep_visit, sam, contact_number=number, minutes_ago=8 * 24 * 60)
    assert f"number:{number.pk}" in {s.code for s in missing_steps(doorstep_visit)}
    _call(doorstep_visit, sam, contact_number=number, minutes_ago=6 * 24 * 60)
    assert f"number:{number.pk}" not in {s.code for s in missing_steps(doorstep_visit)}


def test_every_question_of_the_000_form_is_required(doorstep_visit, sam):
    # R-RA-5
    from riskassess.services import AssessmentInvalid

    with pytest.raises(AssessmentInvalid) as raised:
        assessment_for(doorstep_visit, sam, why_escalated="", sibling_schools_considered="  ")
    message = " ".join(raised.value.messages)
    assert "Why has the lack of contact escalated your concerns?" in message
    assert "Have you considered contacting other schools" in message
    assert "Answer every question of the doorstep assessment" in message
    from riskassess.models import RiskAssessment

    assert not RiskAssessment.objects.filter(visit=doorstep_visit).exists()


def test_a_doorstep_visit_without_its_assessment_cannot_be_submitted(doorstep_visit, sam):
    # R-RA-5
    doorstep_contacts_logged(doorstep_visit, sam)
    assert any(
        "Complete the doorstep risk assessment" in b for b in submission_blockers(doorstep_visit)
    )


def test_a_doorstep_visit_made_whole_can_be_submitted(doorstep_visit, sam):
    # R-RA-5, R-RA-6
    assessment_for(doorstep_visit, sam)
    doorstep_contacts_logged(doorstep_visit, sam)
    assert submission_blockers(doorstep_visit) == []
    assert requests.visit_submit(actor=sam, visit=doorstep_visit).status == Status.SUBMITTED


def test_a_self_isolating_household_blocks_a_doorstep_visit(doorstep_visit, sam, dana, hugh):
    # R-RA-7: "Not safe, the visit must not be undertaken", and a call to social care instead.
    assessment_for(doorstep_visit, sam)
    doorstep_contacts_logged(doorstep_visit, sam)
    household = doorstep_visit.household
    household.self_isolating = True
    household.save()
    blockers = submission_blockers(doorstep_visit)
    assert any(
        "Not safe — the visit must not be undertaken" in b
        and "CASS / First Response / MASH" in b
        and "instead" in b
        for b in blockers
    )
    with pytest.raises(common.VisitBlocked, match="Not safe"):
        requests.visit_submit(actor=sam, visit=doorstep_visit)


def test_a_household_that_starts_isolating_after_submission_blocks_authorisation(
    doorstep_visit, sam, dana, hugh
):
    # R-RA-7
    assessment_for(doorstep_visit, sam)
    doorstep_contacts_logged(doorstep_visit, sam)
    requests.visit_submit(actor=sam, visit=doorstep_visit)
    authorisation.visit_record_head_consultation(actor=hugh, visit=doorstep_visit)
    household = doorstep_visit.household
    household.self_isolating = True
    household.save()
    assert any("Not safe" in b for b in authorisation_blockers(doorstep_visit))
    with pytest.raises(common.VisitBlocked, match="Not safe"):
        authorisation.visit_authorise(actor=dana, visit=doorstep_visit)


def test_self_isolation_does_not_block_an_ordinary_visit_plan(visit):
    # R-RA-7 is about doorstep visits.
    visit.household.self_isolating = True
    visit.household.save()
    assert submission_blockers(visit) == []


def test_in_closure_mode_only_doorstep_visits_can_be_submitted(
    visit, doorstep_visit, sam, oakfield
):
    # R-CLO-1
    oakfield.closure_mode = True
    oakfield.save()
    visit.refresh_from_db()
    assert any(
        "closure mode" in b and "only doorstep visits" in b for b in submission_blockers(visit)
    )
    with pytest.raises(common.VisitBlocked, match="closure mode"):
        requests.visit_submit(actor=sam, visit=visit)
    doorstep_visit.refresh_from_db()
    assessment_for(doorstep_visit, sam)
    doorstep_contacts_logged(doorstep_visit, sam)
    assert submission_blockers(doorstep_visit) == []


def test_in_closure_mode_a_doorstep_visit_is_authorised_by_the_head_only(
    doorstep_visit, sam, dana, hugh, oakfield
):
    # R-CLO-1 with R-AUTH-1 and R-AUTH-3
    oakfield.closure_mode = True
    oakfield.save()
    doorstep_visit.refresh_from_db()
    assessment_for(doorstep_visit, sam)
    doorstep_contacts_logged(doorstep_visit, sam)
    requests.visit_submit(actor=sam, visit=doorstep_visit)
    authorisation.visit_record_head_consultation(actor=hugh, visit=doorstep_visit)
    with pytest.raises(common.VisitBlocked, match="only the Headteacher"):
        authorisation.visit_authorise(actor=dana, visit=doorstep_visit)
    assert authorisation.visit_authorise(actor=hugh, visit=doorstep_visit).status == "authorised"


def test_a_standard_visit_is_not_held_to_the_doorstep_steps(visit):
    # R-RA-6 is for doorstep visits.
    assert submission_blockers(visit) == []


def test_another_visit_in_the_same_week_counts_the_same_attempts(doorstep_visit, sam, tess, pupil):
    # R-RA-6 reads the household's log, not one visit's.
    doorstep_contacts_logged(doorstep_visit, sam)
    second = visit_draft(tess, pupil, [sam, tess], kind="doorstep")
    assert missing_steps(second) == []
