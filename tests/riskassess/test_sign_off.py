"""R-RA-3: a high-risk visit needs two visitors and the sign-off of a DSL, head or trust lead who
is not the assessor, before it can be authorised."""

from dataclasses import replace

import pytest

from audit.models import AuditEvent
from riskassess import services
from riskassess.gates import authorisation_blockers, is_high_risk
from schools import services as school_services
from tests.factories import PREPARATION_ANSWERS, UserFactory, assessment_for, visit_draft
from visits import authorisation, common, requests
from visits.models import Status


@pytest.fixture
def high_risk(visit, sam):
    assessment_for(visit, sam, risk="high")
    requests.visit_submit(actor=sam, visit=visit)
    return visit


def test_a_high_risk_visit_cannot_be_authorised_until_signed_off(high_risk, dana, hugh):
    # R-RA-3
    assert is_high_risk(high_risk)
    with pytest.raises(common.VisitBlocked, match="must sign it off first"):
        authorisation.visit_authorise(actor=dana, visit=high_risk)
    assessment = services.assessment_sign_off(
        actor=hugh, visit=high_risk, version=high_risk.risk_assessment.version
    )
    assert assessment.signed_off_by == hugh and assessment.signed_off_at is not None
    assert authorisation_blockers(high_risk) == []
    assert authorisation.visit_authorise(actor=dana, visit=high_risk).status == Status.AUTHORISED
    assert AuditEvent.objects.filter(event_type="assessment.signed_off", actor=hugh).exists()


def test_nobody_signs_off_their_own_assessment(pupil, sam, dana, hugh):
    # R-RA-3: "a manager other than the assessor"
    visit = visit_draft(sam, pupil, [sam, hugh])
    assessment = assessment_for(visit, dana, risk="high")
    with pytest.raises(services.AssessmentInvalid, match="somebody else must sign it off"):
        services.assessment_sign_off(actor=dana, visit=visit, version=assessment.version)
    assessment.refresh_from_db()
    assert assessment.signed_off_at is None


@pytest.mark.parametrize("who", ["sam", "tess", "olive", "max", "bea"])
def test_only_a_dsl_head_or_trust_lead_can_sign_off(high_risk, request, who):
    # R-RA-3
    person = request.getfixturevalue(who)
    with pytest.raises(services.AssessmentInvalid, match="Only a DSL, the Headteacher or a trust"):
        services.assessment_sign_off(
            actor=person, visit=high_risk, version=high_risk.risk_assessment.version
        )


def test_a_trust_safeguarding_lead_can_sign_off(high_risk, trust):
    # R-RA-3
    tara = UserFactory(username="tara")
    school_services.trust_role_add(actor=None, user=tara, trust=trust)
    assessment = services.assessment_sign_off(
        actor=tara, visit=high_risk, version=high_risk.risk_assessment.version
    )
    assert assessment.signed_off_by == tara


def test_changing_a_signed_off_assessment_needs_a_new_sign_off(high_risk, sam, hugh):
    # R-RA-3: the sign-off was of the assessment as it was.
    assessment = services.assessment_sign_off(
        actor=hugh, visit=high_risk, version=high_risk.risk_assessment.version
    )
    rows = [
        services.HazardRowInput(
            key=f"row:{r.pk}", severity=r.severity, likelihood=r.likelihood, controls=r.controls
        )
        for r in assessment.hazard_rows.all()
    ]
    rows[1] = replace(rows[1], likelihood=2)
    changed = services.assessment_save(
        actor=sam, visit=high_risk, rows=rows, answers=PREPARATION_ANSWERS
    )
    assert changed.signed_off_at is None and changed.signed_off_by is None
    assert any("sign it off first" in p for p in authorisation_blockers(high_risk))


def test_a_sign_off_of_a_version_that_has_since_changed_is_refused(high_risk, sam, dana):
    # R-RA-3: the signer signs what they read.
    read = high_risk.risk_assessment.version
    assessment_for(high_risk, sam, risk="high", others_attending="PC Jones")
    with pytest.raises(services.AssessmentConflict, match="changed after you opened it"):
        services.assessment_sign_off(actor=dana, visit=high_risk, version=read)


def test_the_second_signer_is_told_who_signed_first(high_risk, dana, hugh):
    version = high_risk.risk_assessment.version
    services.assessment_sign_off(actor=hugh, visit=high_risk, version=version)
    with pytest.raises(services.AssessmentConflict, match="Hugh Example already signed"):
        services.assessment_sign_off(actor=dana, visit=high_risk, version=version)
    # The same person clicking twice is fine.
    services.assessment_sign_off(actor=hugh, visit=high_risk, version=version)
    assert AuditEvent.objects.filter(event_type="assessment.signed_off").count() == 1


def test_a_high_risk_visit_needs_two_visitors_even_where_the_school_allows_one(
    sam, pupil, oakfield
):
    # R-RA-3 (and R-REQ-2)
    oakfield.minimum_visitors = 1
    oakfield.save()
    visit = visit_draft(sam, pupil, [sam])
    assessment_for(visit, sam, risk="medium")
    assert not requests.visit_submission_check(visit=visit).blockers
    assessment_for(visit, sam, risk="high")
    assert any("in pairs" in b for b in requests.visit_submission_check(visit=visit).blockers)


def test_a_low_risk_visit_needs_no_sign_off(visit, sam, dana):
    # R-RA-3 is for high risk only.
    assessment_for(visit, sam, risk="medium")
    requests.visit_submit(actor=sam, visit=visit)
    assert authorisation.visit_authorise(actor=dana, visit=visit).status == Status.AUTHORISED
