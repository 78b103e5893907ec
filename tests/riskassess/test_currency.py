"""R-RA-8: an assessment is re-confirmed when old or when the household's flags changed."""

import datetime

import pytest

from audit.models import AuditEvent
from riskassess.gates import assessment_currency
from riskassess.services import assessment_reconfirm
from schools.services import household_risk_flag_add
from tests.factories import assessment_for, visit_draft


@pytest.fixture
def visit(sam, tess, pupil):
    return visit_draft(sam, pupil, [sam, tess])


def test_a_fresh_assessment_is_current(visit, sam):
    # R-RA-8
    assessment_for(visit, sam)
    assert assessment_currency(visit) == []


def test_an_assessment_older_than_seven_days_must_be_reconfirmed(visit, sam, time_machine):
    # R-RA-8
    time_machine.move_to(datetime.datetime(2026, 11, 1, 9, tzinfo=datetime.UTC), tick=False)
    assessment_for(visit, sam)
    time_machine.move_to(datetime.datetime(2026, 11, 8, 9, tzinfo=datetime.UTC), tick=False)
    assert any("7 days old" in reason for reason in assessment_currency(visit))
    assessment_reconfirm(actor=sam, visit=visit)
    assert assessment_currency(visit) == []
    assert AuditEvent.objects.filter(event_type="assessment.reconfirmed").count() == 1


def test_a_risk_flag_added_after_the_assessment_makes_it_stale(visit, sam, dana, time_machine):
    # R-RA-8
    time_machine.move_to(datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.UTC), tick=False)
    assessment_for(visit, sam)
    time_machine.move_to(datetime.datetime(2026, 11, 2, 11, tzinfo=datetime.UTC), tick=False)
    household_risk_flag_add(actor=dana, household=visit.household, kind="dog")
    visit.household.refresh_from_db()
    assert any("risk flags changed" in reason for reason in assessment_currency(visit))
