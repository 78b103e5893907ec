"""The leaders' figures for a set of schools and a period, in a fixed number of queries whatever
the number of schools or visits (tests count them). The requests, reasons, outcomes, records in
time, the weekly trend, the decisions' waits (median and 90th percentile), the children on the
visits and the escalations come from the schools' day rows (insights.summaries brings them up to
date first); concerns, actions, transfers and families missing contact take one small query each.

The period is about visits *requested* in it (submitted for authorisation), and what became of
them; concerns raised in it; file transfers due in it. Open and overdue actions, and families
missing contact in closure mode, are as they stand today.

In a trust-wide view, a count from 1 to 4 is shown as "fewer than 5" so that no child can be
identified from a small number (0 is shown: it identifies nobody).
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.utils import timezone

from records.models import Action, Concern, VisitRecord
from riskassess.selectors import closure_monitors
from schools.models import School
from transfers.models import FileTransfer
from visits.models import Reason

from .models import SchoolDay
from .periods import Period
from .summaries import summaries_refresh

SUPPRESS_BELOW = 5
COUNTED = ("requested", "authorised", "refused", "cancelled", "returned")
FEWER = "fewer than 5"


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list]] = field(default_factory=list)
    note: str = ""


def shown(value, suppress: bool):
    """A count as a trust-wide view shows it."""
    if suppress and isinstance(value, int) and 0 < value < SUPPRESS_BELOW:
        return FEWER
    return value


def _bounds(period: Period) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(period.start, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        period.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return since, until


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h"


def _grouped(queryset, key: str, **counts) -> dict:
    """{key value: {name: count}} from one GROUP BY query. The annotations are prefixed so that
    a count never shadows a field of the same name (PupilSeen.seen)."""
    rows = queryset.order_by().values(key).annotate(**{f"agg_{k}": v for k, v in counts.items()})
    return {row[key]: {k: row[f"agg_{k}"] for k in counts} for row in rows}


def _week_starts(period: Period) -> list[datetime.date]:
    """The Mondays of the weeks the period touches (at most 60)."""
    day = period.start - datetime.timedelta(days=period.start.weekday())
    starts = []
    while day <= period.end and len(starts) < 60:
        starts.append(day)
        day += datetime.timedelta(days=7)
    return starts


def _percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of sorted values: the value at rank ceil(fraction × n) (the
    median of 1, 2, 3 and 10 hours is 2 hours; their 90th percentile is 10 hours)."""
    if not values:
        return None
    rank = max(1, math.ceil(fraction * len(values)))
    return values[min(rank, len(values)) - 1]


def dashboard_figures(
    *, user, schools: list[School], period: Period, suppress: bool, today: datetime.date
) -> dict:
    ids = [school.pk for school in schools]
    since, until = _bounds(period)

    # The period's requests, decisions, children and escalations, from the day rows
    # (insights.summaries: brought up to date first), summed per school; the weekly trend
    # from the same rows (weeks from Monday, school time).
    summaries_refresh()
    week_starts = _week_starts(period)
    weekly = dict.fromkeys(week_starts, 0)
    requests: dict[int, dict] = {}
    children: dict[int, dict] = {}
    escalations: dict[int, dict] = {}
    wait_values: dict[int, list] = defaultdict(list)
    for (
        pk,
        day,
        *counted,
        recorded_in_time,
        seen,
        not_seen,
        alone,
        overdue,
        retried,
        manager,
        help_,
        breakdown,
    ) in SchoolDay.objects.filter(
        school_id__in=ids, day__gte=period.start, day__lte=period.end
    ).values_list(
        "school_id",
        "day",
        *COUNTED,
        "recorded_in_time",
        "seen",
        "not_seen",
        "seen_alone",
        "overdue",
        "retried",
        "manager",
        "help",
        "breakdown",
    ):
        counts = requests.setdefault(pk, defaultdict(int))
        for name, n in zip(COUNTED, counted, strict=True):
            counts[name] += n
        counts["recorded_in_time"] += recorded_in_time
        for reason, n in breakdown["reasons"].items():
            counts[f"reason_{reason}"] += n
        for outcome, n in breakdown["outcomes"].items():
            counts[f"outcome_{outcome}"] += n
        wait_values[pk].extend(breakdown["waits"])
        child = children.setdefault(pk, defaultdict(int))
        child["seen"] += seen
        child["not_seen"] += not_seen
        child["alone"] += alone
        ladder = escalations.setdefault(pk, defaultdict(int))
        ladder["overdue"] += overdue
        ladder["retried"] += retried
        ladder["manager"] += manager
        ladder["help"] += help_
        week = day - datetime.timedelta(days=day.weekday())
        if week in weekly:
            weekly[week] += counted[0]
    weeks = list(weekly.items())

    # The wait from the request to each decision: its median and 90th percentile per school.
    waits: dict[int, dict] = {}
    for pk in ids:
        values = sorted(wait_values.get(pk, ()))
        waits[pk] = {
            "n": len(values),
            "p50": _percentile(values, 0.5),
            "p90": _percentile(values, 0.9),
        }
    concerns = _grouped(
        Concern.objects.filter(school_id__in=ids, raised_at__gte=since, raised_at__lt=until),
        "school_id",
        **{f"n_{level}": Count("pk", filter=Q(level=level)) for level in Concern.Level.values},
    )
    actions = _grouped(
        Action.objects.filter(school_id__in=ids, status__in=Action.OPEN_STATUSES),
        "school_id",
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
    )
    transfers = _grouped(
        FileTransfer.objects.filter(
            school_id__in=ids, due_on__gte=period.start, due_on__lte=period.end
        ).exclude(status=FileTransfer.Status.CANCELLED),
        "school_id",
        due=Count("pk"),
        on_time=Count(
            "pk",
            filter=Q(status=FileTransfer.Status.RECEIVED, received_at__date__lte=F("due_on")),
        ),
        late=Count(
            "pk",
            filter=Q(status=FileTransfer.Status.RECEIVED, received_at__date__gt=F("due_on")),
        ),
        overdue=Count("pk", filter=Q(status__in=FileTransfer.OPEN_STATUSES, due_on__lt=today)),
    )
    missing = {
        monitor.school.pk: monitor
        for monitor in closure_monitors(user=user, today=today, raise_if_none=False)
        if monitor.school.pk in ids
    }

    def table(key, title, columns, values_of, note=""):
        out = Table(key=key, title=title, columns=columns, note=note)
        totals = [0] * len(columns)
        for school in schools:
            values = values_of(school.pk)
            for i, value in enumerate(values):
                if isinstance(value, int) and isinstance(totals[i], int):
                    totals[i] += value
                else:
                    totals[i] = None
            out.rows.append((school.name, [shown(v, suppress) for v in values]))
        if len(schools) > 1:
            out.rows.append(
                ("All schools", [shown(t, suppress) if t is not None else "—" for t in totals])
            )
        return out

    def get(source, pk, name):
        return source.get(pk, {}).get(name, 0)

    def wait_cells(pk):
        entry = waits[pk]
        if suppress and 0 < entry["n"] < SUPPRESS_BELOW:
            return [entry["n"], FEWER, FEWER]
        return [entry["n"], _hours(entry["p50"]), _hours(entry["p90"])]

    tables = [
        table(
            "requests",
            "Visits requested and what became of them",
            ["Requested", "Authorised", "Refused", "Cancelled"],
            lambda pk: [
                get(requests, pk, k) for k in ("requested", "authorised", "refused", "cancelled")
            ],
        ),
        table(
            "decisions",
            "Time from request to decision",
            ["Decisions", "Median", "90th percentile"],
            wait_cells,
            note="Authorised or refused; the wait from the request to the decision.",
        ),
        table(
            "reasons",
            "Visits by reason",
            [label for _value, label in Reason.choices],
            lambda pk: [get(requests, pk, f"reason_{value}") for value in Reason.values],
        ),
        table(
            "outcomes",
            "Visits by outcome (submitted records)",
            [label for _value, label in VisitRecord.Outcome.choices],
            lambda pk: [
                get(requests, pk, f"outcome_{value}") for value in VisitRecord.Outcome.values
            ],
        ),
        table(
            "children",
            "Children on the visits",
            ["Seen", "Not seen", "Seen alone"],
            lambda pk: [get(children, pk, k) for k in ("seen", "not_seen", "alone")],
        ),
        table(
            "escalations",
            "Overdue returns and how far they escalated",
            ["Overdue", "Office called again", "Manager alerted", "Help requested"],
            lambda pk: [get(escalations, pk, k) for k in ("overdue", "retried", "manager", "help")],
        ),
        table(
            "records",
            "Records completed within 24 hours of return",
            ["Visits returned", "Recorded within 24 hours"],
            lambda pk: [get(requests, pk, "returned"), get(requests, pk, "recorded_in_time")],
        ),
        table(
            "concerns",
            "Concerns raised, by category",
            [label for _value, label in Concern.Level.choices],
            lambda pk: [get(concerns, pk, f"n_{value}") for value in Concern.Level.values],
        ),
        table(
            "actions",
            "Actions open and overdue today",
            ["Open", "Overdue"],
            lambda pk: [get(actions, pk, "open"), get(actions, pk, "overdue")],
        ),
        table(
            "closure",
            "Families missing contact in closure mode (today)",
            ["Call due", "Tell the local authority"],
            lambda pk: [
                len(missing[pk].call_due) if pk in missing else 0,
                len(missing[pk].inform_local_authority) if pk in missing else 0,
            ],
        ),
        table(
            "transfers",
            "Child protection file transfers due",
            ["Due", "On time", "Late", "Overdue, not yet received"],
            lambda pk: [get(transfers, pk, k) for k in ("due", "on_time", "late", "overdue")],
        ),
    ]
    return {"tables": tables, "weeks": weeks}
