"""The period a dashboard shows: a term (England's three terms, by fixed dates) or any range."""

import datetime
from dataclasses import dataclass

# (name, first month/day, last month/day); spring ends at Easter in practice: 31 March here.
TERMS = (
    ("autumn", "Autumn term", (9, 1), (12, 31)),
    ("spring", "Spring term", (1, 1), (3, 31)),
    ("summer", "Summer term", (4, 1), (8, 31)),
)


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def term_of(day: datetime.date) -> Period:
    for _key, label, (m1, d1), (m2, d2) in TERMS:
        start, end = datetime.date(day.year, m1, d1), datetime.date(day.year, m2, d2)
        if start <= day <= end:
            return Period(start, end, f"{label} {day.year}")
    raise AssertionError("the terms cover the year")


def term_choices(today: datetime.date) -> list[tuple[str, str]]:
    """This term and the five before it, as (value, label)."""
    choices, day = [], today
    for _ in range(6):
        period = term_of(day)
        choices.append((period.start.isoformat(), period.label))
        day = period.start - datetime.timedelta(days=1)
    return choices
