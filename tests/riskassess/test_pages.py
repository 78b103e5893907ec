"""The assessment, sign-off, re-confirm and doorstep pages: what they show, and bad input giving
the form back with plain-English errors and nothing saved."""

import datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from riskassess import forms, services
from riskassess.models import HazardRow, RiskAssessment
from schools.models import Role
from schools.services import household_risk_flag_add
from tests.factories import (
    PREPARATION_ANSWERS,
    assessment_for,
    doorstep_answers,
    person,
    visit_draft,
)


def _form_data(visit, **overrides):
    """What the assessment page posts when the assessor changes nothing but `overrides`."""
    assessment = RiskAssessment.objects.filter(visit=visit).first()
    rows = services.rows_to_start_with(visit=visit, assessment=assessment)
    data = {
        "rows-TOTAL_FORMS": str(len(rows) + 1),
        "rows-INITIAL_FORMS": str(len(rows)),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "60",
        f"rows-{len(rows)}-key": "new",
        "version": str(assessment.version) if assessment else "",
    }
    for index, row in enumerate(rows):
        initial = forms.row_initial(row)
        for name in ("key", "hazard", "category", "harm", "severity", "likelihood"):
            data[f"rows-{index}-{name}"] = str(initial[name])
        data[f"rows-{index}-controls"] = initial["controls"] or ["two-visitors"]
        data[f"rows-{index}-other_controls"] = initial["other_controls"]
    answers = {**PREPARATION_ANSWERS, **(doorstep_answers() if visit.is_doorstep else {})}
    for name, value in answers.items():
        data[name] = value.isoformat() if isinstance(value, datetime.date) else value
    data.update(overrides)
    return data


def _url(name, visit):
    return reverse(f"riskassess:{name}", args=[visit.pk])


def test_the_page_starts_with_001s_hazards_and_the_households_flags(
    client, signed_in, visit, sam, dana
):
    # R-RA-2
    household_risk_flag_add(actor=dana, household=visit.household, kind="dog", notes="Alsatian")
    signed_in(sam)
    page = client.get(_url("assessment", visit)).content.decode()
    for hazard in (
        "Aggressive or violent parent, student or family member",
        "Driving",
        "Movement through public areas, e.g. to and from car parks",
        "Illness or injury, accident",
        "Attack by dog or other animal",
        "Flagged: dog or other animal at the address: Alsatian",
    ):
        assert hazard in page
    assert "Ask for dogs to be locked in a separate room" in page
    assert "Park facing the way out" in page
    assert "risk level is worked out (3×3 matrix)" in page
    assert "If you are refused entry" in page  # R-RA-4
    assert "Why is this family listed as vulnerable?" not in page


def test_the_doorstep_page_form_asks_the_000_questions(client, signed_in, doorstep_visit, sam):
    # R-RA-5
    signed_in(sam)
    page = client.get(_url("assessment", doorstep_visit)).content.decode()
    assert "Why is this family listed as vulnerable?" in page
    assert "Have you consulted your Lead DSL and Headteacher?" in page


def test_saving_the_page_makes_the_assessment(client, signed_in, visit, sam):
    # R-RA-1, R-RA-2, R-RA-3, R-RA-4
    signed_in(sam)
    data = _form_data(visit, **{"rows-1-severity": "2", "rows-1-likelihood": "2"})
    response = client.post(_url("assessment", visit), data)
    assert response.status_code == 302
    assessment = RiskAssessment.objects.get(visit=visit)
    assert assessment.assessor == sam and assessment.overall_risk == "medium"
    assert assessment.hazard_rows.count() == 5
    assert assessment.expected_present == PREPARATION_ANSWERS["expected_present"]
    page = client.get(_url("assessment", visit)).content.decode()
    assert "Risk assessment saved." in page


def test_the_blank_row_adds_a_hazard(client, signed_in, visit, sam):
    # R-RA-2: the assessor may add hazards.
    signed_in(sam)
    data = _form_data(
        visit,
        **{
            "rows-5-hazard": "Broken glass in the garden",
            "rows-5-category": "illness",
            "rows-5-severity": "2",
            "rows-5-likelihood": "2",
            "rows-5-controls": ["torch-and-phone"],
        },
    )
    assert client.post(_url("assessment", visit), data).status_code == 302
    added = HazardRow.objects.get(source="added")
    assert (added.hazard, added.risk_level) == ("Broken glass in the garden", "medium")


@pytest.mark.parametrize("severity", ["7", "0", "high", ""])
def test_a_severity_outside_the_scale_gives_the_form_back_and_saves_nothing(
    client, signed_in, visit, sam, severity
):
    # R-RA-2
    signed_in(sam)
    response = client.post(
        _url("assessment", visit), _form_data(visit, **{"rows-0-severity": severity})
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose a severity of 1 (minor), 2 (serious) or 3 (major) on the 3×3 matrix" in page
    assert "Nothing was saved" in page
    assert not RiskAssessment.objects.exists() and not HazardRow.objects.exists()


def test_a_hazard_row_of_another_visit_in_the_post_is_refused_and_nothing_saved(
    client, signed_in, visit, sam, tess, pupil
):
    # R-RA-2
    other = visit_draft(sam, pupil, [sam, tess])
    theirs = assessment_for(other, sam).hazard_rows.first()
    mine = assessment_for(visit, sam)
    signed_in(sam)
    data = _form_data(visit, **{"rows-0-key": f"row:{theirs.pk}", "rows-0-likelihood": "3"})
    response = client.post(_url("assessment", visit), data)
    assert response.status_code == 200
    assert "not part of this visit&#x27;s assessment" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.likelihood == 1
    assert RiskAssessment.objects.get(pk=mine.pk).version == mine.version


def test_an_empty_doorstep_answer_gives_the_form_back_and_saves_nothing(
    client, signed_in, doorstep_visit, sam
):
    # R-RA-5
    signed_in(sam)
    data = _form_data(doorstep_visit, why_escalated="", no_contact_typical="")
    response = client.post(_url("assessment", doorstep_visit), data)
    assert response.status_code == 200
    page = response.content.decode()
    # Under each question and again in the summary at the top.
    assert page.count("Every question of the doorstep assessment must be answered.") == 4
    assert not RiskAssessment.objects.exists()


def test_an_empty_preparation_answer_gives_the_form_back(client, signed_in, visit, sam):
    # R-RA-4
    signed_in(sam)
    response = client.post(_url("assessment", visit), _form_data(visit, contingency_plan=" "))
    assert "Answer this preparation question." in response.content.decode()
    assert not RiskAssessment.objects.exists()


def test_removing_a_flagged_row_through_the_page_is_refused(client, signed_in, visit, sam, dana):
    # R-RA-2
    household_risk_flag_add(actor=dana, household=visit.household, kind="aggressive_adult")
    assessment_for(visit, sam)
    signed_in(sam)
    response = client.post(_url("assessment", visit), _form_data(visit, **{"rows-5-remove": "on"}))
    assert "cannot be removed" in response.content.decode()
    assert HazardRow.objects.filter(source="flag").count() == 1


def test_saving_over_a_newer_version_says_who_changed_it(client, signed_in, visit, sam, tess):
    assessment_for(visit, sam)
    data = _form_data(visit, **{"rows-0-likelihood": "2"})
    assessment_for(visit, tess, others_attending="PC Jones")
    signed_in(sam)
    response = client.post(_url("assessment", visit), data)
    assert "Tess Example changed this risk assessment" in response.content.decode()
    assert RiskAssessment.objects.get(visit=visit).others_attending == "PC Jones"


@pytest.mark.parametrize(("who", "status"), [("olive", 403), ("max", 403), ("oscar", 404)])
def test_nobody_outside_the_visit_can_post_an_assessment(
    client, signed_in, visit, request, who, status
):
    # R-SEC-1
    signed_in(request.getfixturevalue(who))
    assert client.post(_url("assessment", visit), _form_data(visit)).status_code == status
    assert not RiskAssessment.objects.exists()


def test_a_dsl_signs_off_a_high_risk_assessment_on_its_page(client, signed_in, visit, sam, dana):
    # R-RA-3
    assessment = assessment_for(visit, sam, risk="high")
    signed_in(sam)
    page = client.get(_url("assessment", visit)).content.decode()
    assert "This is a <strong>high-risk</strong> visit" in page
    assert _url("sign_off", visit) not in page, "Sam cannot sign off, so is not offered it"
    assert client.post(_url("sign_off", visit), {"version": assessment.version}).status_code == 403
    signed_in(dana)
    assert _url("sign_off", visit) in client.get(_url("assessment", visit)).content.decode()
    response = client.post(_url("sign_off", visit), {"version": assessment.version})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.signed_off_by == dana


def test_the_assessor_is_told_why_they_cannot_sign_off(client, signed_in, visit, dana):
    # R-RA-3
    assessment_for(visit, dana, risk="high")
    signed_in(dana)
    page = client.get(_url("sign_off", visit)).content.decode()
    assert "somebody else must sign it off" in page
    assert "Sign off this assessment</button>" not in page


def test_a_stale_assessment_is_reconfirmed_in_one_step_and_audited(
    client, signed_in, visit, sam, time_machine
):
    # R-RA-8
    assessment = assessment_for(visit, sam)
    time_machine.move_to(datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC), tick=False)
    signed_in(sam)
    page = client.get(_url("assessment", visit)).content.decode()
    assert "The risk assessment is 7 days old" in page
    response = client.post(_url("reconfirm", visit), {"version": assessment.version})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.confirmed_at == datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC)
    assert AuditEvent.objects.filter(event_type="assessment.reconfirmed", actor=sam).exists()


def test_reconfirming_cannot_skip_a_new_risk_flag(client, signed_in, visit, sam, dana):
    # R-RA-8 with R-RA-2
    assessment = assessment_for(visit, sam)
    household_risk_flag_add(actor=dana, household=visit.household, kind="dog")
    signed_in(sam)
    response = client.post(_url("reconfirm", visit), {"version": assessment.version})
    assert response.status_code == 200
    assert "risk flags the assessment does not control yet (Dog or other animal)" in (
        response.content.decode()
    )
    before = assessment.confirmed_at
    assessment.refresh_from_db()
    assert assessment.confirmed_at == before


def test_the_doorstep_page_lists_the_missing_steps_and_the_visitors_checklist(
    client, signed_in, doorstep_visit, sam
):
    # R-RA-6 and the 000 interventions table
    signed_in(sam)
    page = client.get(_url("doorstep", doorstep_visit)).content.decode()
    assert "3 still missing" in page
    assert (
        "Call Mother&#x27;s mobile" in page and "Speak to the local social-care front door" in page
    )
    assert "You must go in twos" in page
    assert "push the pre-prepared note through the door" in page
    assert "Wash your hands thoroughly and sign back in." in page
    assert "Complete the doorstep risk assessment before submitting" in page  # R-RA-5


def test_the_doorstep_page_gives_the_000_decision_for_a_self_isolating_family(
    client, signed_in, doorstep_visit, sam
):
    # R-RA-7
    doorstep_visit.household.self_isolating = True
    doorstep_visit.household.save()
    signed_in(sam)
    page = client.get(_url("doorstep", doorstep_visit)).content.decode()
    assert "Not safe — the visit must not be undertaken" in page
    assert "Consider a follow-up call to CASS / First Response / MASH" in page
    assert "counterpart=social_care" in page


def test_the_doorstep_page_names_a_clinically_vulnerable_visitor(
    client, signed_in, sam, pupil, oakfield
):
    # R-REQ-5
    vera = person("vera", oakfield, Role.STAFF, clinically_vulnerable=True)
    visit = visit_draft(sam, pupil, [sam, vera], kind="doorstep")
    signed_in(sam)
    page = client.get(_url("doorstep", visit)).content.decode()
    assert "clinically vulnerable: cannot be a doorstep visitor" in page


def test_an_ordinary_visit_has_no_doorstep_page(client, signed_in, visit, sam):
    signed_in(sam)
    response = client.get(_url("doorstep", visit))
    assert response["Location"] == _url("assessment", visit)


def test_a_visit_that_is_out_shows_its_assessment_read_only(client, signed_in, visit, sam, dana):
    from django.utils import timezone

    from visits import authorisation, progress, requests

    assessment_for(visit, sam)
    requests.visit_submit(actor=sam, visit=visit)
    authorisation.visit_authorise(actor=dana, visit=visit)
    progress.visit_mark_out(actor=None, visit=visit, at=timezone.now())
    signed_in(sam)
    page = client.get(_url("assessment", visit)).content.decode()
    assert "can no longer be changed" in page
    assert "Save the risk assessment" not in page
    assert "Two people visit" in page
    response = client.post(_url("assessment", visit), _form_data(visit))
    assert "can no longer be changed" in response.content.decode()


def test_the_same_form_posted_twice_saves_once_without_a_conflict(client, signed_in, visit, sam):
    # A double-click on "Save": the second post is the first one again, not a rival change.
    signed_in(sam)
    data = _form_data(
        visit,
        **{
            "rows-5-hazard": "Broken glass in the garden",
            "rows-5-category": "illness",
            "rows-5-severity": "2",
            "rows-5-likelihood": "2",
            "rows-5-controls": ["torch-and-phone"],
        },
    )
    assert data["version"] == ""
    data["version"] = "0"
    for _ in range(2):
        assert client.post(_url("assessment", visit), data).status_code == 302
    assert RiskAssessment.objects.count() == 1 and HazardRow.objects.count() == 6
    assert AuditEvent.objects.filter(event_type="assessment.created").count() == 1
    changed = _form_data(visit, **{"rows-0-likelihood": "2"})
    for _ in range(2):
        assert client.post(_url("assessment", visit), changed).status_code == 302
    assert AuditEvent.objects.filter(event_type="assessment.changed").count() == 1
    # A different form from the same stale page is a real conflict.
    changed["rows-0-likelihood"] = "3"
    response = client.post(_url("assessment", visit), changed)
    assert "Sam Example changed this risk assessment" in response.content.decode()


def test_a_second_assessor_who_opened_the_page_before_the_first_saved_is_told(
    client, signed_in, visit, sam, tess
):
    signed_in(tess)
    stale = _form_data(visit, version="0", **{"rows-0-likelihood": "3"})
    assessment_for(visit, sam)
    response = client.post(_url("assessment", visit), stale)
    assert "Sam Example changed this risk assessment" in response.content.decode()
    assert RiskAssessment.objects.get(visit=visit).hazard_rows.first().likelihood == 1
