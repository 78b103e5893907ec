"""The leaders' figures for a set of schools and a period, computed in the database in a fixed
number of grouped queries, whatever the number of schools or visits (tests count them): one pass
over the period's visits (with their records) gives the requests, reasons, outcomes, records in
time and the weekly trend; one over the decisions gives the waits' median and 90th percentile;
one over the children on the visits; and one small query each for escalations, concerns,
actions and transfers.

The period is about visits *requested* in it (submitted for authorisation), and what became of
them; concerns raised in it; file transfers due in it. Open and overdue actions, and families
missing contact in closure mode, are as they stand today.

In a trust-wide view, a count from 1 to 4 is shown as "fewer than 5" so that no child can be
identified from a small number (0 is shown: it identifies nobody).
"""

import datetime
import math
from dataclasses import dataclass, field

from django.db.models import Aggregate, Count, F, FloatField, Func, Q
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from records.models import Action, Concern, PupilSeen, VisitRecord
from riskassess.selectors import closure_monitors
from schools.models import School
from tracking.models import SignOut
from transfers.models import FileTransfer
from visits.models import Authorisation, Reason, Visit
from visits.models import Status as VisitStatus

from .periods import Period

SUPPRESS_BELOW = 5
FEWER = "fewer than 5"
RECORD_WITHIN = datetime.timedelta(hours=24)


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list]] = field(default_factory=list)
    note: str = ""


class SecondsBetween(Func):
    """SecondsBetween(later, earlier): the seconds from `earlier` to `later`, computed natively
    by the database (on SQLite, Django's own datetime arithmetic calls back into Python for
    every row, too slow for 100,000 visits)."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))",
            arg_joiner=" - ",
            **extra,
        )


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


class Percentile(Aggregate):
    """Percentile(expression, fraction): the nearest-rank percentile of a group, the value at
    rank ceil(fraction × n) once the group is sorted (the median of 1, 2, 3 and 10 hours is
    2 hours; their 90th percentile is 10 hours), computed in the database in the same pass as
    the group's other aggregates.

    PostgreSQL: its own ordered-set aggregate `percentile_disc`, which is exactly this
    definition. SQLite has none: `sqlite_percentile` is registered on each SQLite connection
    (insights.apps) as the aggregate HOMEWARD_PERCENTILE, with the same rank arithmetic."""

    function = "PERCENTILE_DISC"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 < fraction <= 1:
            raise ValueError("A percentile's fraction is above 0 and at most 1.")
        # A number written into the SQL, never user input: the fraction is a constant here.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            function=SQLITE_PERCENTILE,
            template="%(function)s(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


SQLITE_PERCENTILE = "HOMEWARD_PERCENTILE"


class sqlite_percentile:  # noqa: N801 - sqlite3's aggregate protocol: a class with step/finalize
    """Percentile on SQLite (see Percentile): the values of the group, then the one at rank
    ceil(fraction × n), as PostgreSQL computes it (in floating point, as it does)."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(value)
            self.fraction = fraction

    def finalize(self):
        if not self.values:
            return None
        self.values.sort()
        rank = max(1, math.ceil(self.fraction * len(self.values)))
        return self.values[min(rank, len(self.values)) - 1]


def _week_starts(period: Period) -> list[datetime.date]:
    """The Mondays of the weeks the period touches (at most 60)."""
    day = period.start - datetime.timedelta(days=period.start.weekday())
    starts = []
    while day <= period.end and len(starts) < 60:
        starts.append(day)
        day += datetime.timedelta(days=7)
    return starts


def dashboard_figures(
    *, user, schools: list[School], period: Period, suppress: bool, today: datetime.date
) -> dict:
    ids = [school.pk for school in schools]
    since, until = _bounds(period)
    in_period = Q(submitted_at__gte=since, submitted_at__lt=until)
    visits = Visit.objects.filter(in_period, school_id__in=ids)

    # One pass over the period's visits (and their records), grouped by school; the weekly
    # trend (weeks from Monday, school time) as one filtered count per week, comparing
    # submitted_at with each week's bounds (cheap, where truncating every row's time to its
    # week in the school's time zone doubled the pass).
    week_starts = _week_starts(period)
    tz = timezone.get_current_timezone()

    def midnight(day):
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)

    visit_counts = {
        "requested": Count("pk"),
        "authorised": Count("pk", filter=Q(authorised_at__isnull=False)),
        "refused": Count("pk", filter=Q(status=VisitStatus.REFUSED)),
        "cancelled": Count("pk", filter=Q(status=VisitStatus.CANCELLED)),
        "returned": Count("pk", filter=Q(returned_at__isnull=False)),
        "recorded_in_time": Count(
            "pk",
            filter=Q(
                LessThanOrEqual(
                    SecondsBetween("record__submitted_at", "returned_at"),
                    RECORD_WITHIN.total_seconds(),
                ),
                returned_at__isnull=False,
                record__status=VisitRecord.Status.SUBMITTED,
            ),
        ),
        **{f"reason_{r}": Count("pk", filter=Q(reason=r)) for r in Reason.values},
        **{
            f"outcome_{o}": Count(
                "pk", filter=Q(record__status=VisitRecord.Status.SUBMITTED, record__outcome=o)
            )
            for o in VisitRecord.Outcome.values
        },
        **{
            f"week_{i}": Count(
                "pk",
                filter=Q(
                    submitted_at__gte=midnight(start),
                    submitted_at__lt=midnight(start + datetime.timedelta(days=7)),
                ),
            )
            for i, start in enumerate(week_starts)
        },
    }
    requests = _grouped(visits, "school_id", **visit_counts)
    weeks = [
        (start, sum(counts[f"week_{i}"] for counts in requests.values()))
        for i, start in enumerate(week_starts)
    ]

    # The wait from the request to each decision: its median and 90th percentile per school,
    # in the same grouped query as the count.
    decisions = (
        Authorisation.objects.filter(
            visit__school_id__in=ids,
            visit__submitted_at__gte=since,
            visit__submitted_at__lt=until,
            decision__in=[Authorisation.Decision.AUTHORISED, Authorisation.Decision.REFUSED],
        )
        .annotate(wait=SecondsBetween("decided_at", "visit__submitted_at"))
        .order_by()
        .values("visit__school_id")
        .annotate(n=Count("pk"), p50=Percentile("wait", 0.5), p90=Percentile("wait", 0.9))
    )
    waits: dict[int, dict] = {pk: {"n": 0, "p50": None, "p90": None} for pk in ids}
    for row in decisions:
        waits[row["visit__school_id"]] = {"n": row["n"], "p50": row["p50"], "p90": row["p90"]}
    children = _grouped(
        PupilSeen.objects.filter(
            record__school_id__in=ids,
            record__status=VisitRecord.Status.SUBMITTED,
            record__visit__submitted_at__gte=since,
            record__visit__submitted_at__lt=until,
        ),
        "record__school_id",
        seen=Count("pk", filter=Q(seen=True)),
        not_seen=Count("pk", filter=Q(seen=False)),
        alone=Count("pk", filter=Q(seen=True, seen_alone=True)),
    )
    escalations = _grouped(
        SignOut.objects.filter(
            school_id__in=ids,
            visit__submitted_at__gte=since,
            visit__submitted_at__lt=until,
        ),
        "school_id",
        overdue=Count("pk", filter=Q(steps__kind="overdue"), distinct=True),
        retried=Count("pk", filter=Q(steps__kind__in=["retry", "final_retry"]), distinct=True),
        manager=Count("pk", filter=Q(steps__kind="manager"), distinct=True),
        help=Count("pk", filter=Q(steps__kind="help"), distinct=True),
    )
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
