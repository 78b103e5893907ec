"""The rules of requesting and authorising a visit, proven through the visit services
(visits.requests, visits.authorisation, visits.cancellation, visits.progress)."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from schools import services as school_services
from schools.models import ContactNumber, Role
from tests.factories import assessment_for, doorstep_contacts_logged, person, visit_draft
from visits import authorisation, cancellation, common, progress, requests
from visits.models import Authorisation, Status, Visit


@pytest.fixture(autouse=True)
def _a_wednesday_morning_at_school(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 9, 30, tzinfo=timezone.get_current_timezone()), tick=False
    )


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=day_offset)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def submitted(sam, tess, dana, hugh, olive, pupil, django_capture_on_commit_callbacks):
    visit = visit_draft(sam, pupil, [sam, tess])
    with django_capture_on_commit_callbacks(execute=True):
        return requests.visit_submit(actor=sam, visit=visit)


# R-REQ-1 ------------------------------------------------------------------------------------


def test_a_request_records_pupil_household_reason_times_and_visitors(sam, tess, pupil):
    # R-REQ-1
    visit = visit_draft(sam, pupil, [sam, tess], vehicle="Blue Fiesta AB12 CDE")
    assert visit.status == Status.DRAFT
    assert visit.household == pupil.household
    assert list(visit.pupils.all()) == [pupil]
    assert [v.user for v in visit.visitors.all()] == [sam, tess]
    assert visit.vehicle == "Blue Fiesta AB12 CDE"
    assert AuditEvent.objects.filter(event_type="visit.created", object_id=str(visit.pk)).exists()


def test_siblings_in_one_household_share_a_visit_but_other_households_do_not(
    sam, tess, pupil, oakfield
):
    # R-REQ-1
    from tests.factories import HouseholdFactory, PupilFactory

    sibling = PupilFactory(household=pupil.household, first_name="Zain")
    neighbour = PupilFactory(household=HouseholdFactory(school=oakfield))
    start = _at(1, 10)
    data = {
        "reason": "welfare",
        "purpose": "x",
        "planned_start": start,
        "planned_end": start + datetime.timedelta(hours=1),
        "planned_return": start + datetime.timedelta(hours=2),
    }
    visit = requests.visit_draft_save(
        actor=sam,
        school=oakfield,
        data=data,
        pupils=[pupil, sibling],
        visitors=[(sam, "lead"), (tess, "second")],
    )
    assert visit.pupils.count() == 2
    with pytest.raises(common.VisitBlocked, match="same household"):
        requests.visit_draft_save(
            actor=sam,
            school=oakfield,
            data=data,
            pupils=[pupil, neighbour],
            visitors=[(sam, "lead"), (tess, "second")],
        )


def test_a_visitor_from_another_school_is_refused_and_nothing_is_saved(sam, pupil, bea):
    with pytest.raises(common.VisitBlocked, match="members of staff at the school"):
        visit_draft(sam, pupil, [sam, bea])
    assert not Visit.objects.exists()


def test_the_office_cannot_be_named_as_a_visitor(sam, olive, pupil):
    with pytest.raises(common.VisitBlocked, match="members of staff"):
        visit_draft(sam, pupil, [sam, olive])


def test_the_same_form_posted_twice_creates_one_visit(sam, tess, pupil, oakfield):
    import uuid

    token = uuid.uuid4()
    start = _at(1, 10)
    data = {
        "reason": "welfare",
        "purpose": "x",
        "planned_start": start,
        "planned_end": start + datetime.timedelta(hours=1),
        "planned_return": start + datetime.timedelta(hours=2),
    }
    for _ in range(2):
        requests.visit_draft_save(
            actor=sam,
            school=oakfield,
            data=data,
            pupils=[pupil],
            visitors=[(sam, "lead"), (tess, "second")],
            request_token=token,
        )
    assert Visit.objects.count() == 1


# R-REQ-2 ------------------------------------------------------------------------------------


def test_a_visit_with_one_visitor_cannot_be_submitted(sam, pupil):
    # R-REQ-2: visits are made in pairs.
    visit = visit_draft(sam, pupil, [sam])
    with pytest.raises(common.VisitBlocked, match="Visits are made in pairs"):
        requests.visit_submit(actor=sam, visit=visit)
    visit.refresh_from_db()
    assert visit.status == Status.DRAFT


def test_a_school_that_allows_one_visitor_still_needs_two_for_a_doorstep_visit(
    sam, pupil, oakfield
):
    # R-REQ-2
    oakfield.minimum_visitors = 1
    oakfield.save()
    standard = visit_draft(sam, pupil, [sam])
    assert not requests.visit_submission_check(visit=standard).blockers
    doorstep = visit_draft(sam, pupil, [sam], kind="doorstep")
    assert "Visits are made in pairs: add a second visitor." in (
        requests.visit_submission_check(visit=doorstep).blockers
    )


def test_a_high_risk_visit_needs_two_visitors_whatever_the_school_minimum(sam, pupil, oakfield):
    # R-RA-3 through R-REQ-2
    oakfield.minimum_visitors = 1
    oakfield.save()
    visit = visit_draft(sam, pupil, [sam])
    assessment_for(visit, sam, risk="high")
    assert any("in pairs" in b for b in requests.visit_submission_check(visit=visit).blockers)


# R-REQ-3 ------------------------------------------------------------------------------------


def test_a_visit_that_ends_before_it_starts_is_refused(sam, tess, pupil):
    # R-REQ-3
    with pytest.raises(common.VisitBlocked, match="must end after it starts"):
        visit_draft(sam, pupil, [sam, tess], minutes=-30)
    assert not Visit.objects.exists()


def test_a_return_before_the_end_is_refused(sam, tess, pupil):
    # R-REQ-3
    start = _at(1, 10)
    with pytest.raises(common.VisitBlocked, match="return time must be after"):
        visit_draft(
            sam,
            pupil,
            [sam, tess],
            start=start,
            planned_return=start + datetime.timedelta(minutes=30),
        )


def test_a_start_in_the_past_blocks_submission_unless_unscheduled(sam, tess, pupil):
    # R-REQ-3
    visit = visit_draft(sam, pupil, [sam, tess], start=timezone.now() - datetime.timedelta(hours=1))
    blockers = requests.visit_submission_check(visit=visit).blockers
    assert any("planned start is in the past" in b for b in blockers)


# R-REQ-4 ------------------------------------------------------------------------------------


def test_an_evening_visit_warns_marks_out_of_hours_and_needs_a_manager(sam, tess, max, pupil):
    # R-REQ-4
    visit = visit_draft(sam, pupil, [sam, tess], start=_at(1, 18, 30))
    check = requests.visit_submission_check(visit=visit)
    assert check.out_of_hours
    assert any("Evening visits are strongly discouraged" in w for w in check.warnings)
    assert any("out-of-hours manager" in b for b in check.blockers)
    visit = requests.visit_draft_save(
        actor=sam,
        school=visit.school,
        visit=visit,
        data={"out_of_hours_manager": max},
        pupils=[pupil],
        visitors=[(sam, "lead"), (tess, "second")],
    )
    with pytest.raises(requests.WarningsNotConfirmed):
        requests.visit_submit(actor=sam, visit=visit)
    visit = requests.visit_submit(actor=sam, visit=visit, warnings_confirmed=True)
    assert visit.status == Status.SUBMITTED
    assert visit.out_of_hours and visit.evening_warning_seen_at is not None


def test_an_early_morning_visit_is_out_of_hours_too(sam, tess, pupil):
    # R-REQ-4
    visit = visit_draft(sam, pupil, [sam, tess], start=_at(1, 7, 15))
    assert requests.visit_submission_check(visit=visit).out_of_hours


def test_a_daytime_visit_is_not_out_of_hours(sam, tess, pupil):
    # R-REQ-4
    check = requests.visit_submission_check(visit=visit_draft(sam, pupil, [sam, tess]))
    assert not check.out_of_hours and not check.warnings and not check.blockers


# R-REQ-5 ------------------------------------------------------------------------------------


def test_a_clinically_vulnerable_visitor_cannot_go_on_a_doorstep_visit(sam, oakfield, pupil):
    # R-REQ-5
    vera = person("vera", oakfield, Role.STAFF, clinically_vulnerable=True)
    doorstep = visit_draft(sam, pupil, [sam, vera], kind="doorstep")
    assert any(
        "clinically vulnerable" in b
        for b in requests.visit_submission_check(visit=doorstep).blockers
    )
    standard = visit_draft(sam, pupil, [sam, vera])
    assert not requests.visit_submission_check(visit=standard).blockers


def test_a_visitor_may_withdraw_from_a_doorstep_visit_which_then_needs_another(
    sam, tess, hugh, pupil, django_capture_on_commit_callbacks
):
    # R-REQ-5: doorstep visits are voluntary.
    visit = visit_draft(sam, pupil, [sam, tess], kind="doorstep")
    visit = cancellation.visitor_withdraw(actor=tess, visit=visit)
    assert any("in pairs" in b for b in requests.visit_submission_check(visit=visit).blockers)


# R-REQ-6 ------------------------------------------------------------------------------------


def test_cancelling_records_who_when_why_and_tells_the_office_and_the_authoriser(
    submitted, sam, dana, olive, django_capture_on_commit_callbacks
):
    # R-REQ-6
    assessment_for(submitted, sam)
    with django_capture_on_commit_callbacks(execute=True):
        authorisation.visit_authorise(actor=dana, visit=submitted)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        visit = cancellation.visit_cancel(actor=sam, visit=submitted, reason="Family moved away")
    assert visit.status == Status.CANCELLED
    assert visit.cancelled_by == sam and visit.cancelled_at and visit.cancel_reason
    told = {m.to[0] for m in mail.outbox}
    assert {olive.email, dana.email} <= told


def test_a_cancellation_needs_a_reason(submitted, sam):
    # R-REQ-6
    with pytest.raises(common.VisitBlocked, match="reason"):
        cancellation.visit_cancel(actor=sam, visit=submitted, reason="  ")


def test_a_visit_cannot_be_cancelled_after_the_visitors_returned(submitted, sam, dana):
    # R-REQ-6
    assessment_for(submitted, sam)
    authorisation.visit_authorise(actor=dana, visit=submitted)
    progress.visit_mark_out(actor=None, visit=submitted, at=timezone.now())
    progress.visit_mark_returned(actor=None, visit=submitted, at=timezone.now())
    with pytest.raises(common.VisitConflict, match="can no longer be cancelled"):
        cancellation.visit_cancel(actor=sam, visit=submitted, reason="Too late")


# R-REQ-7 ------------------------------------------------------------------------------------


def test_an_unscheduled_visit_is_refused_for_a_household_never_visited(sam, tess, pupil):
    # R-REQ-7
    visit = visit_draft(
        sam,
        pupil,
        [sam, tess],
        start=timezone.now() - datetime.timedelta(minutes=5),
        unscheduled=True,
        risk_rechecked_at=timezone.now(),
    )
    blockers = requests.visit_submission_check(visit=visit).blockers
    assert any("without an earlier completed visit" in b for b in blockers)
    assert not any("in the past" in b for b in blockers)


def test_an_unscheduled_visit_needs_the_risk_rechecked_today(sam, tess, pupil):
    # R-REQ-7
    earlier = visit_draft(sam, pupil, [sam, tess], start=_at(-7, 10))
    Visit.objects.filter(pk=earlier.pk).update(status=Status.RECORDED)
    visit = visit_draft(
        sam,
        pupil,
        [sam, tess],
        start=timezone.now(),
        unscheduled=True,
        risk_rechecked_at=timezone.now() - datetime.timedelta(days=2),
    )
    blockers = requests.visit_submission_check(visit=visit).blockers
    assert any("Re-check the household's risk information today" in b for b in blockers)
    visit.risk_rechecked_at = timezone.now()
    visit.save()
    assert requests.visit_submission_check(visit=visit).blockers == []


# R-REQ-8 ------------------------------------------------------------------------------------


def test_a_household_with_fewer_than_two_numbers_warns_but_does_not_block(sam, tess, pupil):
    # R-REQ-8
    ContactNumber.objects.filter(household=pupil.household).first().delete()
    visit = visit_draft(sam, pupil, [sam, tess])
    check = requests.visit_submission_check(visit=visit)
    assert check.blockers == []
    assert any("1 current contact number" in w for w in check.warnings)
    visit = requests.visit_submit(actor=sam, visit=visit, warnings_confirmed=True)
    assert visit.few_numbers_warning_seen_at is not None


# Submission ---------------------------------------------------------------------------------


def test_submitting_emails_the_authorisers_a_link_without_the_childs_details(
    submitted, dana, hugh, sam, pupil
):
    to = {m.to[0] for m in mail.outbox}
    assert to == {dana.email, hugh.email}
    for message in mail.outbox:
        text = message.body + message.alternatives[0][0]
        assert f"/visits/{submitted.pk}/" in text
        for secret in (
            pupil.first_name,
            pupil.last_name,
            pupil.household.address_line_1,
            pupil.household.postcode,
        ):
            assert secret not in text + message.subject


def test_submitting_twice_is_harmless(submitted, sam):
    again = requests.visit_submit(actor=sam, visit=submitted)
    assert again.status == Status.SUBMITTED
    assert AuditEvent.objects.filter(event_type="visit.submitted").count() == 1


# R-AUTH-1 -----------------------------------------------------------------------------------


def test_only_an_authorising_role_can_authorise(submitted, sam, tess, olive, max, oakfield):
    # R-AUTH-1
    assessment_for(submitted, sam)
    for user in (olive, max):
        with pytest.raises(common.VisitBlocked, match="Only the Headteacher, the DSL"):
            authorisation.visit_authorise(actor=user, visit=submitted)
    deputy = person("deena", oakfield, Role.DEPUTY_DSL)
    assert authorisation.visit_authorise(actor=deputy, visit=submitted).status == Status.AUTHORISED


def test_a_home_visit_submitted_before_closure_is_not_authorised_during_it(
    submitted, sam, dana, hugh, oakfield
):
    # R-AUTH-1 (004): the DSL no longer authorises; R-CLO-1: nor does the Head a home visit.
    assessment_for(submitted, sam)
    oakfield.closure_mode = True
    oakfield.save()
    submitted.refresh_from_db()
    with pytest.raises(common.VisitBlocked, match="only the Headteacher authorises visits"):
        authorisation.visit_authorise(actor=dana, visit=submitted)
    with pytest.raises(common.VisitBlocked, match="only a doorstep visit can be authorised"):
        authorisation.visit_authorise(actor=hugh, visit=submitted)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_a_dsl_of_another_school_cannot_authorise(submitted, sam, bea):
    # R-AUTH-1
    assessment_for(submitted, sam)
    with pytest.raises(common.VisitBlocked):
        authorisation.visit_authorise(actor=bea, visit=submitted)


def test_a_trust_lead_can_authorise_in_the_trusts_schools(submitted, sam, trust):
    # R-AUTH-1
    from tests.factories import UserFactory

    tara = UserFactory(username="tara")
    school_services.trust_role_add(actor=None, user=tara, trust=trust)
    assessment_for(submitted, sam)
    assert authorisation.visit_authorise(actor=tara, visit=submitted).status == Status.AUTHORISED


# R-AUTH-2 -----------------------------------------------------------------------------------


def test_nobody_authorises_their_own_request_or_a_visit_they_are_on(pupil, dana, hugh, sam):
    # R-AUTH-2
    own = visit_draft(dana, pupil, [sam, hugh])
    requests.visit_submit(actor=dana, visit=own)
    assessment_for(own, sam)
    with pytest.raises(common.VisitBlocked, match="You requested this visit"):
        authorisation.visit_authorise(actor=dana, visit=own)
    with pytest.raises(common.VisitBlocked, match="You are a visitor on this visit"):
        authorisation.visit_authorise(actor=hugh, visit=own)


def test_the_requester_and_visitors_are_not_emailed_as_authorisers(pupil, dana, hugh, sam):
    # R-AUTH-2
    visit = visit_draft(dana, pupil, [sam, hugh])
    assert authorisation.authorisers_for(visit) == []


# R-AUTH-3 -----------------------------------------------------------------------------------


def test_a_doorstep_visit_needs_the_headteachers_consultation(sam, tess, dana, hugh, pupil):
    # R-AUTH-3
    visit = visit_draft(sam, pupil, [sam, tess], kind="doorstep")
    assessment_for(visit, sam)  # R-RA-5 and R-RA-6 come before a doorstep visit is submitted
    doorstep_contacts_logged(visit, sam)
    requests.visit_submit(actor=sam, visit=visit)
    with pytest.raises(common.VisitBlocked, match="Headteacher's consultation"):
        authorisation.visit_authorise(actor=dana, visit=visit)
    with pytest.raises(common.VisitBlocked, match="Only the Headteacher"):
        authorisation.visit_record_head_consultation(actor=dana, visit=visit)
    authorisation.visit_record_head_consultation(
        actor=hugh, visit=visit, notes="Agreed: last resort"
    )
    assert authorisation.visit_authorise(actor=dana, visit=visit).status == Status.AUTHORISED


# R-RA-1 through the gate ---------------------------------------------------------------------


def test_a_visit_without_a_risk_assessment_cannot_be_authorised(submitted, dana):
    # R-RA-1
    with pytest.raises(common.VisitBlocked, match="no risk assessment"):
        authorisation.visit_authorise(actor=dana, visit=submitted)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


# R-AUTH-4 -----------------------------------------------------------------------------------


def test_an_authorisation_records_who_when_and_conditions_and_emails_the_requester(
    submitted, sam, tess, dana, django_capture_on_commit_callbacks
):
    # R-AUTH-4
    assessment_for(submitted, sam)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        visit = authorisation.visit_authorise(actor=dana, visit=submitted, conditions="Take Tess")
    assert visit.authorised_by == dana and visit.authorised_at is not None
    decision = Authorisation.objects.get(visit=visit)
    assert decision.decision == "authorised" and decision.conditions == "Take Tess"
    assert {m.to[0] for m in mail.outbox} == {sam.email, tess.email}
    assert "authorised" in mail.outbox[0].subject


def test_a_refusal_needs_a_reason(submitted, dana):
    # R-AUTH-4
    with pytest.raises(common.VisitBlocked, match="reason for refusing"):
        authorisation.visit_refuse(actor=dana, visit=submitted, reason="")
    visit = authorisation.visit_refuse(actor=dana, visit=submitted, reason="Police are attending")
    assert visit.status == Status.REFUSED
    assert Authorisation.objects.get(visit=visit).reason == "Police are attending"


def test_changes_requested_go_back_to_the_requester_who_can_resubmit(submitted, sam, dana):
    # R-AUTH-4
    visit = authorisation.visit_request_changes(
        actor=dana, visit=submitted, what_to_change="Go before 3pm"
    )
    assert visit.status == Status.CHANGES_REQUESTED
    assert requests.visit_submit(actor=sam, visit=visit).status == Status.SUBMITTED


def test_the_second_dsl_to_decide_is_told_who_got_there_first(submitted, sam, dana, hugh):
    # R-AUTH-4: two DSLs at the same moment produce one authorisation.
    assessment_for(submitted, sam)
    stale_copy = Visit.objects.get(pk=submitted.pk)
    authorisation.visit_authorise(actor=dana, visit=submitted)
    with pytest.raises(
        common.VisitConflict, match="already authorised by Dana Example at 25/11/2026 09:30"
    ):
        authorisation.visit_authorise(actor=hugh, visit=stale_copy)
    assert Authorisation.objects.filter(visit=submitted).count() == 1


# R-AUTH-5 -----------------------------------------------------------------------------------


def test_changing_the_time_of_an_authorised_visit_sends_it_back_for_authorisation(
    submitted, sam, tess, dana, pupil
):
    # R-AUTH-5
    assessment_for(submitted, sam)
    authorisation.visit_authorise(actor=dana, visit=submitted)
    later = submitted.planned_start + datetime.timedelta(hours=1)
    visit = requests.visit_draft_save(
        actor=sam,
        school=submitted.school,
        visit=submitted,
        pupils=[pupil],
        visitors=[(sam, "lead"), (tess, "second")],
        data={
            "planned_start": later,
            "planned_end": later + datetime.timedelta(hours=1),
            "planned_return": later + datetime.timedelta(hours=2),
        },
    )
    assert visit.status == Status.SUBMITTED
    assert visit.authorised_by is None
    assert AuditEvent.objects.filter(event_type="visit.returned_for_authorisation").exists()


def test_changing_the_visitors_of_an_authorised_visit_sends_it_back(
    submitted, sam, tess, dana, hugh, pupil
):
    # R-AUTH-5
    assessment_for(submitted, sam)
    authorisation.visit_authorise(actor=dana, visit=submitted)
    visit = requests.visit_draft_save(
        actor=sam,
        school=submitted.school,
        visit=submitted,
        pupils=[pupil],
        visitors=[(sam, "lead"), (hugh, "second")],
        data={},
    )
    assert visit.status == Status.SUBMITTED


def test_changing_only_the_notes_of_an_authorised_visit_keeps_it_authorised(
    submitted, sam, tess, dana, pupil
):
    # R-AUTH-5 names time, visitors, address and assessment only.
    assessment_for(submitted, sam)
    authorisation.visit_authorise(actor=dana, visit=submitted)
    visit = requests.visit_draft_save(
        actor=sam,
        school=submitted.school,
        visit=submitted,
        pupils=[pupil],
        visitors=[(sam, "lead"), (tess, "second")],
        data={"cultural_notes": "Shoes off"},
    )
    assert visit.status == Status.AUTHORISED


# Lifecycle ----------------------------------------------------------------------------------


def test_an_unauthorised_visit_cannot_be_signed_out(submitted):
    # R-TRK-1
    with pytest.raises(common.VisitConflict):
        progress.visit_mark_out(actor=None, visit=submitted, at=timezone.now())


def test_a_refused_visit_cannot_be_edited(submitted, dana, sam, tess, pupil):
    authorisation.visit_refuse(actor=dana, visit=submitted, reason="No")
    with pytest.raises(common.VisitConflict, match="can no longer be changed"):
        requests.visit_draft_save(
            actor=sam,
            school=submitted.school,
            visit=submitted,
            pupils=[pupil],
            visitors=[(sam, "lead"), (tess, "second")],
            data={"purpose": "Again"},
        )
