"""The decision page (R-AUTH-6): before deciding, the authoriser reads the risk assessment's
overall rating, every hazard with its controls, the household's flags, the doorstep answers and
each warning the requester confirmed."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from schools.models import ContactNumber, HouseholdRiskFlag
from tests.factories import (
    DOORSTEP_ANSWERS,
    HouseholdFactory,
    PupilFactory,
    assessment_for,
    visit_draft,
)
from visits import requests


@pytest.fixture(autouse=True)
def _a_wednesday_morning_at_school(time_machine):
    time_machine.move_to(
        datetime.datetime(2026, 11, 25, 9, 30, tzinfo=timezone.get_current_timezone()),
        tick=False,
    )


def _evening(days=1, hour=19):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def _flag(household, dana, kind=HouseholdRiskFlag.Kind.DOG, notes="Large dog, loose in the garden"):
    return HouseholdRiskFlag.objects.create(
        household=household, kind=kind, notes=notes, recorded_by=dana
    )


def test_dana_reads_the_rating_hazards_controls_flags_and_confirmed_warnings_before_deciding(
    signed_in, sam, tess, dana, max, pupil, household
):
    # R-AUTH-6 (with the warnings of R-REQ-4 and R-REQ-8)
    _flag(household, dana)
    ContactNumber.objects.filter(household=household, label="Grandparent").update(current=False)
    visit = visit_draft(sam, pupil, [sam, tess], start=_evening(), out_of_hours_manager=max)
    assessment = assessment_for(visit, sam, risk="medium")
    requests.visit_submit(actor=sam, visit=visit, warnings_confirmed=True)

    page = signed_in(dana).get(reverse("visits:decide", args=[visit.pk])).content.decode()

    assert "Overall risk:" in page and "Medium" in page
    flag_row = assessment.hazard_rows.get(risk_flag__isnull=False)
    assert escape(flag_row.hazard) in page and escape(flag_row.control_texts[0]) in page
    assert "Household risk flags" in page and "Large dog, loose in the garden" in page
    assert "Evening or out-of-hours visit" in page
    assert "The household has 1 current contact number; the school expects at least 2." in page
    assert "Warnings Sam Example read and confirmed" in page


def test_every_hazard_row_is_shown_with_its_own_controls(signed_in, sam, tess, dana, pupil):
    # R-AUTH-6
    from riskassess.models import HazardRow

    visit = visit_draft(sam, pupil, [sam, tess])
    assessment = assessment_for(visit, sam)
    page = signed_in(dana).get(reverse("visits:decide", args=[visit.pk])).content.decode()
    for row in HazardRow.objects.filter(assessment=assessment):
        assert escape(row.hazard) in page
        for text in row.control_texts:
            assert escape(text) in page


def test_a_visit_without_warnings_or_flags_says_so_plainly(signed_in, sam, tess, dana, pupil):
    # R-AUTH-6
    visit = visit_draft(sam, pupil, [sam, tess])
    page = signed_in(dana).get(reverse("visits:decide", args=[visit.pk])).content.decode()
    assert "No risk flags are recorded for this household." in page
    assert "Not yet assessed." in page
    assert "read and confirmed" not in page


def test_the_doorstep_answers_are_on_the_decision_page(signed_in, sam, tess, dana, pupil):
    # R-AUTH-6 (the 000 answers of R-RA-5)
    visit = visit_draft(sam, pupil, [sam, tess], kind="doorstep")
    assessment_for(visit, sam)
    page = signed_in(dana).get(reverse("visits:decide", args=[visit.pk])).content.decode()
    assert "Doorstep answers" in page
    assert DOORSTEP_ANSWERS["vulnerable_because"] in page
    assert escape(DOORSTEP_ANSWERS["agencies_told"]) in page


def test_the_decision_page_costs_the_same_queries_however_many_flags_and_hazards(
    signed_in, sam, tess, dana, oakfield
):
    # R-AUTH-6: constant query count
    client = signed_in(dana)

    def queries_for(flag_count):
        household = HouseholdFactory(school=oakfield)
        for number in ("+447700900351", "+441134960651"):
            ContactNumber.objects.create(household=household, number=number, label="Mobile")
        for index in range(flag_count):
            _flag(household, dana, notes=f"Flag {index}")
        child = PupilFactory(household=household)
        visit = visit_draft(sam, child, [sam, tess])
        assessment_for(visit, sam)
        client.get(reverse("visits:decide", args=[visit.pk]))  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("visits:decide", args=[visit.pk]))
        assert response.status_code == 200
        return len(queries)

    assert queries_for(1) == queries_for(4)
