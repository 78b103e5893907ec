"""R-REC-8: the file is due at the new school within 5 school days of the pupil leaving, counted
with the missing-contact monitor's school calendar (weekends and the school's holidays skipped)."""

import datetime

import pytest

from riskassess.models import SchoolHoliday
from transfers.calendar import calendars_for, transfer_due_on

D = datetime.date


def _due(school, left_on):
    return transfer_due_on(calendar=calendars_for([school.pk])[school.pk], left_on=left_on)


@pytest.mark.django_db
def test_a_file_is_due_five_school_days_later_weekends_not_counted(oakfield):
    # Left Wednesday 25 Nov: Thu, Fri, Mon, Tue, Wed → due Wednesday 2 December.
    assert _due(oakfield, D(2026, 11, 25)) == D(2026, 12, 2)


@pytest.mark.django_db
def test_a_pupil_who_leaves_before_the_christmas_holiday_has_five_days_of_the_new_term(oakfield):
    SchoolHoliday.objects.create(
        school=oakfield, name="Christmas", starts_on=D(2026, 12, 21), ends_on=D(2027, 1, 1)
    )
    # Left Friday 18 Dec; term starts Monday 4 January: due Friday 8 January.
    assert _due(oakfield, D(2026, 12, 18)) == D(2027, 1, 8)


@pytest.mark.django_db
def test_an_inset_day_inside_the_five_days_pushes_the_deadline_by_one(oakfield, birchwood):
    SchoolHoliday.objects.create(
        school=oakfield, name="INSET day", starts_on=D(2026, 11, 30), ends_on=D(2026, 11, 30)
    )
    assert _due(oakfield, D(2026, 11, 25)) == D(2026, 12, 3)
    # Each school counts with its own holidays only.
    assert _due(birchwood, D(2026, 11, 25)) == D(2026, 12, 2)


@pytest.mark.django_db
def test_leaving_on_a_saturday_counts_from_the_monday(oakfield):
    assert _due(oakfield, D(2026, 11, 28)) == D(2026, 12, 4)
