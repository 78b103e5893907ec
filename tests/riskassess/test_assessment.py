"""The standard assessment through riskassess.services: 001's hazards, household flags, the
matrix, the overall risk, the 003 preparation, the audit trail and R-AUTH-5."""

import datetime
from dataclasses import replace

import pytest

from audit.models import AuditEvent
from riskassess import services
from riskassess.catalogue import CONTROL_MEASURES, MEASURES, STANDARD_HAZARDS
from riskassess.models import HazardRow, RiskAssessment
from schools.services import household_risk_flag_add
from tests.factories import PREPARATION_ANSWERS, assessment_for, visit_draft
from visits import authorisation, progress, requests
from visits.models import Status


def _rows(visit, assessment=None, **changes):
    """The rows the page starts with, as the assessor would post them unchanged."""
    rows = []
    for row in services.rows_to_start_with(visit=visit, assessment=assessment):
        if isinstance(row, HazardRow):
            row = services.HazardRowInput(
                key=f"row:{row.pk}",
                severity=row.severity,
                likelihood=row.likelihood,
                controls=tuple(row.controls),
                other_controls=row.other_controls,
                harm=row.harm,
            )
        rows.append(replace(row, **changes) if changes else row)
    return rows


def test_a_new_assessment_starts_with_the_five_hazards_of_001_as_001_rates_them(visit):
    # R-RA-2
    rows = services.rows_to_start_with(visit=visit, assessment=None)
    assert [r.hazard for r in rows] == [h.hazard for h in STANDARD_HAZARDS]
    assert [r.hazard for r in rows][:2] == [
        "Aggressive or violent parent, student or family member",
        "Driving",
    ]
    assert all(r.controls for r in rows), "001 gives every hazard its controls"
    assessment = services.assessment_save(
        actor=visit.requested_by, visit=visit, rows=rows, answers=PREPARATION_ANSWERS
    )
    assert assessment.overall_risk == "low"
    assert list(assessment.hazard_rows.values_list("risk_level", flat=True)) == ["low"] * 5


def test_the_catalogue_holds_the_measures_of_001_and_002():
    # R-RA-2
    texts = " | ".join(text for _, text, _, _ in CONTROL_MEASURES)
    for words in (
        "Park facing the way out",
        "Sit near the door",
        "dogs to be locked in a separate room",
        "charged",
        "signal",
        "lanyard that breaks if grabbed",
        "breakdown organisation",
        "attack alarm",
    ):
        assert words in texts
    assert {source for *_, source in CONTROL_MEASURES} == {"001", "002"}
    codes = [code for code, *_ in CONTROL_MEASURES]
    assert len(codes) == len(set(codes))
    for hazard in STANDARD_HAZARDS:
        assert set(hazard.controls) <= set(MEASURES)


def test_a_household_risk_flag_adds_a_row_that_must_be_controlled(visit, dana):
    # R-RA-2: flags pre-fill rows (002 "flagged risks").
    household_risk_flag_add(actor=dana, household=visit.household, kind="dog", notes="Two dogs")
    rows = services.rows_to_start_with(visit=visit, assessment=None)
    flag_rows = [r for r in rows if r.key.startswith("flag:")]
    assert [r.hazard for r in flag_rows] == [
        "Flagged: dog or other animal at the address: Two dogs"
    ]
    assert flag_rows[0].controls == ()
    with pytest.raises(services.AssessmentInvalid, match="at least one control measure"):
        services.assessment_save(
            actor=visit.requested_by, visit=visit, rows=rows, answers=PREPARATION_ANSWERS
        )
    assert not RiskAssessment.objects.exists()


def test_a_flag_row_cannot_be_removed_only_controlled(visit, sam, dana):
    # R-RA-2
    household_risk_flag_add(actor=dana, household=visit.household, kind="aggressive_adult")
    assessment = assessment_for(visit, sam)
    rows = _rows(visit, assessment)
    flag_index = next(i for i, r in enumerate(assessment.hazard_rows.all()) if r.risk_flag_id)
    removing = list(rows)
    removing[flag_index] = replace(rows[flag_index], remove=True)
    with pytest.raises(services.AssessmentInvalid, match="cannot be removed"):
        services.assessment_save(actor=sam, visit=visit, rows=removing, answers=PREPARATION_ANSWERS)
    leaving_out = rows[:flag_index] + rows[flag_index + 1 :]
    with pytest.raises(services.AssessmentInvalid, match="missing hazard rows"):
        services.assessment_save(
            actor=sam, visit=visit, rows=leaving_out, answers=PREPARATION_ANSWERS
        )
    assert assessment.hazard_rows.filter(risk_flag__isnull=False).count() == 1
    assert assessment.hazard_rows.count() == 6


def test_001s_hazards_cannot_be_removed_either(visit, sam):
    # R-RA-2
    assessment = assessment_for(visit, sam)
    rows = _rows(visit, assessment)
    with pytest.raises(services.AssessmentInvalid, match="cannot be removed"):
        services.assessment_save(
            actor=sam,
            visit=visit,
            rows=[replace(rows[0], remove=True), *rows[1:]],
            answers=PREPARATION_ANSWERS,
        )
    assert assessment.hazard_rows.count() == 5


def test_a_flag_recorded_after_the_assessment_appears_on_it_and_is_required(visit, sam, dana):
    # R-RA-2, R-RA-8
    assessment = assessment_for(visit, sam)
    household_risk_flag_add(actor=dana, household=visit.household, kind="previous_incident")
    rows = services.rows_to_start_with(visit=visit, assessment=assessment)
    assert rows[-1].key.startswith("flag:")
    without_it = [
        services.HazardRowInput(
            key=f"row:{r.pk}", severity=r.severity, likelihood=r.likelihood, controls=r.controls
        )
        for r in assessment.hazard_rows.all()
    ]
    with pytest.raises(services.AssessmentInvalid, match="missing hazard rows"):
        services.assessment_save(
            actor=sam, visit=visit, rows=without_it, answers=PREPARATION_ANSWERS
        )


def test_the_assessor_may_add_a_hazard_and_take_it_out_again(visit, sam):
    # R-RA-2: the assessor may add hazards.
    assessment = assessment_for(visit, sam)
    added = services.HazardRowInput(
        key="new",
        hazard="Steep icy steps to the front door",
        category="illness",
        severity=2,
        likelihood=3,
        controls=("torch-and-phone",),
    )
    assessment = services.assessment_save(
        actor=sam, visit=visit, rows=[*_rows(visit, assessment), added], answers=PREPARATION_ANSWERS
    )
    row = assessment.hazard_rows.get(source="added")
    assert (row.hazard, row.risk_level) == ("Steep icy steps to the front door", "high")
    assert assessment.overall_risk == "high"  # R-RA-3
    rows = _rows(visit, assessment)
    rows[-1] = replace(rows[-1], remove=True)
    assessment = services.assessment_save(
        actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS
    )
    assert not assessment.hazard_rows.filter(source="added").exists()
    assert assessment.overall_risk == "low"


def test_each_row_takes_its_level_from_the_matrix_and_the_visit_the_highest(visit, sam):
    # R-RA-2, R-RA-3
    rows = _rows(visit)
    rows[1] = replace(rows[1], severity=2, likelihood=2)  # driving: medium
    assessment = services.assessment_save(
        actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS
    )
    levels = list(assessment.hazard_rows.values_list("risk_level", flat=True))
    assert levels == ["low", "medium", "low", "low", "low"]
    assert assessment.overall_risk == "medium"


@pytest.mark.parametrize(("severity", "likelihood"), [(7, 1), (0, 2), (2, 4)])
def test_a_severity_or_likelihood_outside_the_scale_is_refused_and_nothing_saved(
    visit, sam, severity, likelihood
):
    # R-RA-2
    rows = _rows(visit)
    rows[0] = replace(rows[0], severity=severity, likelihood=likelihood)
    with pytest.raises(services.AssessmentInvalid, match="1, 2 or 3 on the 3×3 matrix"):
        services.assessment_save(actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS)
    assert not RiskAssessment.objects.exists()
    assert not HazardRow.objects.exists()


def test_a_hazard_row_of_another_visit_is_refused_and_nothing_is_saved(visit, sam, tess, pupil):
    # R-RA-2
    other = visit_draft(sam, pupil, [sam, tess])
    theirs = assessment_for(other, sam)
    mine = assessment_for(visit, sam)
    rows = _rows(visit, mine)
    stolen = theirs.hazard_rows.first()
    rows[0] = replace(rows[0], key=f"row:{stolen.pk}", severity=3, likelihood=3)
    with pytest.raises(services.AssessmentInvalid, match="not part of this visit's assessment"):
        services.assessment_save(actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS)
    stolen.refresh_from_db()
    assert (stolen.severity, stolen.likelihood) == (3, 1)
    assert mine.hazard_rows.count() == 5
    assert RiskAssessment.objects.get(pk=mine.pk).version == mine.version


def test_a_hazard_row_key_with_a_digit_int_cannot_read_is_refused_and_nothing_is_saved(visit, sam):
    # R-RA-2, issue 7: "²" is a digit to Python's str.isdigit(), not to int().
    mine = assessment_for(visit, sam)
    rows = _rows(visit, mine)
    rows[0] = replace(rows[0], key="row:²", severity=3, likelihood=3)
    with pytest.raises(services.AssessmentInvalid, match="not part of this visit's assessment"):
        services.assessment_save(actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS)
    assert RiskAssessment.objects.get(pk=mine.pk).version == mine.version


def test_the_preparation_questions_of_003_are_required(visit, sam):
    # R-RA-4
    answers = {**PREPARATION_ANSWERS, "refused_entry_plan": " ", "complete_by": None}
    with pytest.raises(services.AssessmentInvalid) as raised:
        services.assessment_save(actor=sam, visit=visit, rows=_rows(visit), answers=answers)
    message = " ".join(raised.value.messages)
    assert "If you are refused entry" in message and "The visit must happen by" in message
    assert "Answer the preparation questions" in message
    assert not RiskAssessment.objects.exists()


def test_the_preparation_answers_are_recorded(visit, sam):
    # R-RA-4
    assessment = assessment_for(visit, sam, must_not_be_present="Mr X: injunction; leave at once")
    assert assessment.must_not_be_present == "Mr X: injunction; leave at once"
    assert assessment.child_seen == "with_carer"
    assert assessment.complete_by == datetime.date(2030, 1, 31)


def test_changing_the_assessment_of_an_authorised_visit_sends_it_back_for_authorisation(
    visit, sam, dana
):
    # R-AUTH-5
    assessment = assessment_for(visit, sam)
    requests.visit_submit(actor=sam, visit=visit)
    authorisation.visit_authorise(actor=dana, visit=visit)
    rows = _rows(visit, assessment)
    rows[0] = replace(rows[0], likelihood=2)
    services.assessment_save(actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS)
    visit.refresh_from_db()
    assert visit.status == Status.SUBMITTED
    assert visit.authorised_by is None
    event = AuditEvent.objects.get(event_type="visit.returned_for_authorisation")
    assert event.changes == {"why": "the risk assessment changed"}


def test_saving_an_unchanged_assessment_keeps_the_visit_authorised(visit, sam, dana):
    # R-AUTH-5 applies to changes only.
    assessment = assessment_for(visit, sam)
    requests.visit_submit(actor=sam, visit=visit)
    authorisation.visit_authorise(actor=dana, visit=visit)
    again = services.assessment_save(
        actor=sam, visit=visit, rows=_rows(visit, assessment), answers=PREPARATION_ANSWERS
    )
    visit.refresh_from_db()
    assert visit.status == Status.AUTHORISED
    assert again.version == assessment.version
    assert not AuditEvent.objects.filter(event_type="assessment.changed").exists()


def test_the_assessment_of_a_visit_that_is_out_cannot_be_changed(visit, sam, dana):
    from django.utils import timezone

    assessment = assessment_for(visit, sam)
    requests.visit_submit(actor=sam, visit=visit)
    authorisation.visit_authorise(actor=dana, visit=visit)
    progress.visit_mark_out(actor=None, visit=visit, at=timezone.now())
    rows = _rows(visit, assessment)
    rows[0] = replace(rows[0], likelihood=3)
    with pytest.raises(services.AssessmentInvalid, match="out on the visit"):
        services.assessment_save(actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS)
    assert assessment.hazard_rows.first().likelihood == 1


def test_an_assessor_saving_over_somebody_elses_newer_version_is_refused(visit, sam, tess):
    # Two people edit at once: the second is told, and nothing of theirs is saved.
    assessment = assessment_for(visit, sam)
    seen = assessment.version
    rows = _rows(visit, assessment)
    services.assessment_save(
        actor=tess,
        visit=visit,
        rows=[replace(rows[0], likelihood=2), *rows[1:]],
        answers=PREPARATION_ANSWERS,
        version=seen,
    )
    with pytest.raises(services.AssessmentConflict, match="Tess Example changed this risk"):
        services.assessment_save(
            actor=sam,
            visit=visit,
            rows=[replace(rows[0], severity=1), *rows[1:]],
            answers=PREPARATION_ANSWERS,
            version=seen,
        )
    row = RiskAssessment.objects.get(pk=assessment.pk).hazard_rows.first()
    assert (row.severity, row.likelihood) == (3, 2)


def test_every_change_to_an_assessment_is_audited_with_what_changed(visit, sam, tess):
    # R-SEC-2
    assessment = assessment_for(visit, sam)
    created = AuditEvent.objects.get(event_type="assessment.created")
    assert created.actor == sam and created.object_id == str(assessment.pk)
    rows = _rows(visit, assessment)
    services.assessment_save(
        actor=tess,
        visit=visit,
        rows=[replace(rows[0], likelihood=3), *rows[1:]],
        answers={**PREPARATION_ANSWERS, "others_attending": "PC Jones"},
    )
    changed = AuditEvent.objects.get(event_type="assessment.changed")
    assert changed.actor == tess
    assert changed.changes["overall_risk"] == ["low", "high"]
    assert changed.changes["answers"]["others_attending"] == ["Nobody else.", "PC Jones"]
    hazard = "Aggressive or violent parent, student or family member"
    assert changed.changes["rows_changed"][hazard]["likelihood"] == [1, 3]
    assessment.refresh_from_db()
    assert assessment.assessor == tess  # the latest change is theirs (R-RA-3 sign-off)


def test_a_control_measure_not_in_the_catalogue_is_refused(visit, sam):
    # R-RA-2
    rows = _rows(visit)
    rows[0] = replace(rows[0], controls=("bring-a-dragon",))
    with pytest.raises(services.AssessmentInvalid, match="not in the catalogue"):
        services.assessment_save(actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS)


def test_a_written_in_control_measure_is_enough(visit, sam):
    # R-RA-2: "chosen from the 001 and 002 lists or written in"
    rows = _rows(visit)
    rows[4] = replace(rows[4], controls=(), other_controls="Dog warden told")
    assessment = services.assessment_save(
        actor=sam, visit=visit, rows=rows, answers=PREPARATION_ANSWERS
    )
    assert assessment.hazard_rows.get(standard_code="animals").other_controls == "Dog warden told"
