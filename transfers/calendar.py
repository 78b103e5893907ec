"""The school-day deadline of a file transfer (R-REC-8): 5 school days after the pupil left,
counted with the same school calendar as the missing-contact monitor (riskassess.closure):
Monday to Friday outside the school's holidays."""

import datetime

from riskassess.closure import SchoolCalendar
from riskassess.models import SchoolHoliday

TRANSFER_SCHOOL_DAYS = 5
REMINDER_SCHOOL_DAYS = (3, 5)


def calendars_for(school_ids) -> dict[int, SchoolCalendar]:
    """One calendar per school, from one query."""
    holidays: dict[int, list] = {pk: [] for pk in school_ids}
    for holiday in SchoolHoliday.objects.filter(school_id__in=list(holidays)):
        holidays[holiday.school_id].append((holiday.starts_on, holiday.ends_on))
    return {pk: SchoolCalendar(days) for pk, days in holidays.items()}


def transfer_due_on(*, calendar: SchoolCalendar, left_on: datetime.date) -> datetime.date:
    """The 5th school day after the day the pupil left: the file must be at the new school by
    the end of it. A pupil who left on Friday 17 July before a summer holiday has their file due
    5 school days into the autumn term."""
    return calendar.nth_school_day_after(left_on, TRANSFER_SCHOOL_DAYS)


def reminder_due_on(*, calendar: SchoolCalendar, left_on: datetime.date, school_days: int):
    return calendar.nth_school_day_after(left_on, school_days)
