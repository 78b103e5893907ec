"""Keeps the leaders' day rows (insights.models.SchoolDay) true to the visits.

Every dashboard render calls `summaries_refresh()` first. It looks for what changed since the
last refresh, through indexes: visits (`Visit.updated_at`, which every service that moves a
visit sets), records (`VisitRecord.updated_at`) and ladder steps (`EscalationStep.fired_at`).
Each changed visit's day is counted again, and so is the day it was counted under before
(`VisitDay`: a visit requested again after changes moves to a later day). Nothing changed: four
small lookups and no writes. The look-back starts `OVERLAP` before the last refresh began, so a
change committed just after a refresh read the tables is still seen by the next one. The
figures are then read from a few thousand day rows, whatever the number of visits
(bench/dashboard.py).

Deleting a row the figures count (retention, or the sending school's copy after a file
transfer) leaves nothing to look for, so insights.receivers leaves its visit in `Recount`. A
state row never filled (a new installation) counts every day again; so does the nightly
task (insights.tasks.summaries_rebuild), a safety net for writes made outside the services
(the shell), and `manage.py insights_rebuild` after data loaded by hand.

Refreshes take turns: the state row is locked for the whole refresh (on SQLite the database's
single writer does the same).
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from records.models import PupilSeen, VisitRecord
from tracking.models import EscalationStep
from visits.models import Authorisation, Visit
from visits.models import Status as VisitStatus

from .models import Recount, SchoolDay, SummaryState, VisitDay

OVERLAP = datetime.timedelta(minutes=5)
# More changed visits than this since the last refresh (a bulk import, a long pause): count
# every day again, which costs about the same and needs no long lists in the SQL.
REBUILD_ABOVE = 2000
RECORD_WITHIN = datetime.timedelta(hours=24)


def school_day(moment: datetime.datetime) -> datetime.date:
    """The day a moment falls on, in school time (the dashboards' periods are school days)."""
    return timezone.localdate(moment, timezone.get_default_timezone())


def summaries_refresh(*, rebuild: bool = False) -> int:
    """Bring the day rows up to date; returns how many school days were counted again."""
    now = timezone.now()
    with transaction.atomic():
        state = _state_locked()
        if rebuild or state.changes_since is None:
            counted = _rebuild()
        else:
            changed = _changed_visits(since=state.changes_since)
            if not changed:
                return 0
            counted = _rebuild() if len(changed) > REBUILD_ABOVE else _recount(changed)
        SummaryState.objects.filter(pk=state.pk).update(changes_since=now - OVERLAP)
    return counted


def summaries_recount(visit_id: int) -> None:
    """Ask the next refresh to count this visit's day again (a row it counts was deleted)."""
    Recount.objects.bulk_create([Recount(visit_id=visit_id)], ignore_conflicts=True)


def _state_locked() -> SummaryState:
    state = SummaryState.objects.select_for_update().filter(pk=1).first()
    if state is None:  # the first refresh ever makes the row (two at once: one makes it)
        SummaryState.objects.get_or_create(pk=1)
        state = SummaryState.objects.select_for_update().get(pk=1)
    return state


def _changed_visits(*, since: datetime.datetime) -> set[int]:
    changed = set(Recount.objects.values_list("visit_id", flat=True))
    changed.update(
        Visit.objects.filter(updated_at__gte=since).order_by().values_list("pk", flat=True)
    )
    changed.update(
        VisitRecord.objects.filter(updated_at__gte=since)
        .order_by()
        .values_list("visit_id", flat=True)
    )
    changed.update(
        EscalationStep.objects.filter(fired_at__gte=since)
        .order_by()
        .values_list("signout__visit_id", flat=True)
    )
    return changed


def _recount(changed: set[int]) -> int:
    ids = list(changed)
    Recount.objects.filter(visit_id__in=ids).delete()
    days = set(VisitDay.objects.filter(visit_id__in=ids).values_list("school_id", "day"))
    VisitDay.objects.filter(visit_id__in=ids).delete()
    new = [
        VisitDay(visit_id=pk, school_id=school_id, day=school_day(submitted))
        for pk, school_id, submitted in Visit.objects.filter(pk__in=ids, submitted_at__isnull=False)
        .order_by()
        .values_list("pk", "school_id", "submitted_at")
    ]
    VisitDay.objects.bulk_create(new)
    days.update((row.school_id, row.day) for row in new)
    if not days:
        return 0  # drafts: nothing the figures count
    by_school: dict[int, set] = defaultdict(set)
    for school_id, day in days:
        by_school[school_id].add(day)
    where = Q()
    for school_id, school_days in by_school.items():
        where |= Q(school_id=school_id, day__in=sorted(school_days))
    SchoolDay.objects.filter(where).delete()
    visit_days = {
        visit_id: (school_id, day)
        for visit_id, school_id, day in VisitDay.objects.filter(where).values_list(
            "visit_id", "school_id", "day"
        )
    }
    SchoolDay.objects.bulk_create(_count(visit_days, restrict=True))
    return len(days)


def _rebuild() -> int:
    Recount.objects.all().delete()
    VisitDay.objects.all().delete()
    visit_days = {
        pk: (school_id, school_day(submitted))
        for pk, school_id, submitted in Visit.objects.filter(submitted_at__isnull=False)
        .order_by()
        .values_list("pk", "school_id", "submitted_at")
        .iterator(chunk_size=10000)
    }
    VisitDay.objects.bulk_create(
        (
            VisitDay(visit_id=pk, school_id=school_id, day=day)
            for pk, (school_id, day) in visit_days.items()
        ),
        batch_size=5000,
    )
    SchoolDay.objects.all().delete()
    rows = _count(visit_days, restrict=False)
    SchoolDay.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _count(visit_days: dict[int, tuple[int, datetime.date]], *, restrict: bool) -> list[SchoolDay]:
    """The day rows of these visits ({visit id: (school id, day)}, every visit of each day they
    name), from four flat queries whatever their number: a row per visit, decision, child seen
    and ladder step, added up here. `restrict`: ask only for these visits (a refresh; by
    primary key, a few thousand at most); otherwise read every row (a rebuild)."""

    def of(path: str) -> Q:
        return Q(**{f"{path}__in": list(visit_days)}) if restrict else Q()

    rows: dict[tuple, SchoolDay] = {}

    def row(visit_id) -> SchoolDay | None:
        key = visit_days.get(visit_id)
        if key is None:
            return None  # a draft, or a visit outside the days asked for
        if key not in rows:
            rows[key] = SchoolDay(
                school_id=key[0],
                day=key[1],
                breakdown={"reasons": {}, "outcomes": {}, "waits": []},
            )
        return rows[key]

    submitted = VisitRecord.Status.SUBMITTED
    for pk, status, reason, authorised_at, returned_at, record_status, outcome, recorded_at in (
        Visit.objects.filter(of("pk"))
        .order_by()
        .values_list(
            "pk",
            "status",
            "reason",
            "authorised_at",
            "returned_at",
            "record__status",
            "record__outcome",
            "record__submitted_at",
        )
        .iterator(chunk_size=10000)
    ):
        day = row(pk)
        if day is None:
            continue
        day.requested += 1
        day.authorised += authorised_at is not None
        day.refused += status == VisitStatus.REFUSED
        day.cancelled += status == VisitStatus.CANCELLED
        reasons = day.breakdown["reasons"]
        reasons[reason] = reasons.get(reason, 0) + 1
        if record_status == submitted and outcome:
            outcomes = day.breakdown["outcomes"]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if returned_at is not None:
            day.returned += 1
            day.recorded_in_time += (
                record_status == submitted and recorded_at - returned_at <= RECORD_WITHIN
            )

    decided = [Authorisation.Decision.AUTHORISED, Authorisation.Decision.REFUSED]
    for visit_id, decided_at, requested_at in (
        Authorisation.objects.filter(of("visit_id"), decision__in=decided)
        .order_by()
        .values_list("visit_id", "decided_at", "visit__submitted_at")
        .iterator(chunk_size=10000)
    ):
        if (day := row(visit_id)) is not None:  # whole seconds
            day.breakdown["waits"].append(round((decided_at - requested_at).total_seconds()))

    for visit_id, seen, alone in (
        PupilSeen.objects.filter(of("record__visit_id"), record__status=submitted)
        .order_by()
        .values_list("record__visit_id", "seen", "seen_alone")
        .iterator(chunk_size=10000)
    ):
        if (day := row(visit_id)) is not None:
            day.seen += seen is True
            day.not_seen += seen is False
            day.seen_alone += seen is True and alone is True

    # How far each sign-out's ladder went: each kind counted once per sign-out.
    reached: dict[int, set] = defaultdict(set)
    for signout_id, visit_id, kind in (
        EscalationStep.objects.filter(of("signout__visit_id"))
        .order_by()
        .values_list("signout_id", "signout__visit_id", "kind")
        .iterator(chunk_size=10000)
    ):
        reached[(visit_id, signout_id)].add(kind)
    for (visit_id, _signout_id), kinds in reached.items():
        if (day := row(visit_id)) is not None:
            day.overdue += "overdue" in kinds
            day.retried += bool(kinds & {"retry", "final_retry"})
            day.manager += "manager" in kinds
            day.help += "help" in kinds
    return list(rows.values())
