"""Closure-mode contact monitoring (R-CLO-2, 004 "Other pupils").

A family that has not acknowledged any contact from school for 5 school days (weekends and the
school's holidays skipped) is missing contact: a phone call is due within 24 hours and the Senior
DSL decides on social care. After 20 days without contact the local authority must be informed.

Counting, in the school's own dates (Europe/London):
- the count starts the day after the family's last acknowledged contact (ContactLog outcomes in
  ContactLog.ACKNOWLEDGED_OUTCOMES), or on the day the closure began if that is later: before
  the closure the children were in school;
- a day counts once it is over: today is not counted, so a family answered on Monday is missing
  from the Tuesday a week later (Tue, Wed, Thu, Fri, Mon without an answer);
- the call is due by the end of the first school day the family is missing;
- the 20 days for the local authority are calendar days (004 says "20 days", not school days),
  so holidays never delay telling the local authority.
"""

import datetime
from bisect import bisect_left
from dataclasses import dataclass, field


class SchoolCalendar:
    """Which days are school days for one school: Monday to Friday outside its holidays."""

    def __init__(self, holidays: list[tuple[datetime.date, datetime.date]]):
        self._holidays = sorted(holidays)

    def is_school_day(self, day: datetime.date) -> bool:
        if day.weekday() >= 5:
            return False
        return not any(start <= day <= end for start, end in self._holidays)

    def school_days_between(self, after: datetime.date, before: datetime.date) -> int:
        """School days strictly after `after` and strictly before `before`."""
        days = 0
        day = after + datetime.timedelta(days=1)
        while day < before:
            days += self.is_school_day(day)
            day += datetime.timedelta(days=1)
        return days

    def nth_school_day_after(self, start: datetime.date, n: int) -> datetime.date:
        """The n-th school day after `start` (n ≥ 1)."""
        day, found = start, 0
        while found < n:
            day += datetime.timedelta(days=1)
            found += self.is_school_day(day)
        return day


class FastCalendar(SchoolCalendar):
    """The same answers for many families at once: a running count of school days over the
    range the page needs, so each family is two look-ups however long it has been."""

    def __init__(self, holidays, first: datetime.date, last: datetime.date):
        super().__init__(holidays)
        self._first = first
        self._school_days: list[datetime.date] = []
        day = first
        while day <= last:
            if self.is_school_day(day):
                self._school_days.append(day)
            day += datetime.timedelta(days=1)

    def school_days_between(self, after: datetime.date, before: datetime.date) -> int:
        if after < self._first - datetime.timedelta(days=1):
            return super().school_days_between(after, before)
        start = bisect_left(self._school_days, after + datetime.timedelta(days=1))
        end = bisect_left(self._school_days, before)
        return max(0, end - start)


@dataclass
class MissingFamily:
    household: object
    pupils: list = field(default_factory=list)
    last_acknowledged_at: datetime.datetime | None = None
    counted_from: datetime.date | None = None
    school_days: int | None = None
    calendar_days: int | None = None
    call_due_on: datetime.date | None = None
    call_overdue: bool = False
    last_attempt_at: datetime.datetime | None = None
    last_attempt_outcome: str = ""
    inform_local_authority: bool = False


def assess_family(
    *,
    household,
    pupils: list,
    last_acknowledged_at: datetime.datetime | None,
    last_attempt_at: datetime.datetime | None,
    last_attempt_outcome: str,
    closure_started_on: datetime.date | None,
    calendar: SchoolCalendar,
    today: datetime.date,
    school_days_limit: int,
    local_authority_days: int,
    local_date,
) -> MissingFamily | None:
    """R-CLO-2 for one family: None when they are in contact, else why they are listed."""
    acknowledged_on = local_date(last_acknowledged_at) if last_acknowledged_at else None
    # The day before the closure is the children's last day in school: as good as a contact.
    last_in_school = closure_started_on - datetime.timedelta(days=1) if closure_started_on else None
    starts = [d for d in (acknowledged_on, last_in_school) if d is not None]
    family = MissingFamily(
        household=household,
        pupils=pupils,
        last_acknowledged_at=last_acknowledged_at,
        last_attempt_at=last_attempt_at,
        last_attempt_outcome=last_attempt_outcome,
    )
    if not starts:
        # Never acknowledged and no closure date to count from: listed, a call due today.
        family.call_due_on = today
        return family
    counted_from = max(starts)
    school_days = calendar.school_days_between(counted_from, today)
    if school_days < school_days_limit:
        return None
    family.counted_from = counted_from
    family.school_days = school_days
    family.calendar_days = (today - counted_from).days
    # The first school day the family is missing: the day after the N-th silent school day.
    last_silent = calendar.nth_school_day_after(counted_from, school_days_limit)
    family.call_due_on = calendar.nth_school_day_after(last_silent, 1)
    called = last_attempt_at is not None and local_date(last_attempt_at) > last_silent
    family.call_overdue = not called and today > family.call_due_on
    family.inform_local_authority = family.calendar_days >= local_authority_days
    return family
