"""Reads of visits that apply the access rules (R-SEC-1).

- A visit of another school: 404.
- The requester and the visitors see their visit; DSLs, the Headteacher and trust leads
  (view_all_visits) see all of the school's; anyone else at the school: 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from core.numbers import is_whole_number
from schools.models import Pupil, User
from schools.selectors import schools_for_user, schools_requiring

from .models import Status, Visit, Visitor


def _with_everything(queryset: QuerySet[Visit]) -> QuerySet[Visit]:
    return queryset.select_related(
        "school",
        "household",
        "requested_by",
        "authorised_by",
        "cancelled_by",
        "out_of_hours_manager",
        "head_consulted_by",
        "risk_assessment",
    ).prefetch_related(
        "pupils",
        Prefetch("visitors", queryset=Visitor.objects.select_related("user__profile")),
    )


def visit_get(*, user: User, pk, perm: str | None = None) -> Visit:
    """One visit for `user`. `perm`, when given, is a School permission the action also needs
    (e.g. authorise_visits)."""
    try:
        visit = _with_everything(Visit.objects.filter(school__in=schools_for_user(user))).get(pk=pk)
    except Visit.DoesNotExist as error:
        raise Http404("Not found.") from error
    involved = visit.requested_by_id == user.pk or any(
        v.user_id == user.pk for v in visit.visitors.all()
    )
    if not (involved or user.has_perm("schools.view_all_visits", visit.school)):
        raise PermissionDenied("Only the visit's requester, visitors and DSLs can see it.")
    if perm and not user.has_perm(f"schools.{perm}", visit.school):
        raise PermissionDenied("Your role does not allow this.")
    return visit


def visit_queue(*, user: User) -> QuerySet[Visit]:
    """Visits waiting for authorisation at the schools where `user` authorises, oldest first."""
    schools = schools_requiring(user, "authorise_visits")
    # Only what the queue shows: it is the DSL's home page and must stay fast.
    return (
        Visit.objects.filter(school__in=schools, status=Status.SUBMITTED)
        .select_related("requested_by", "risk_assessment")
        .only(
            "pk",
            "kind",
            "reason",
            "reason_other",
            "planned_start",
            "submitted_at",
            "out_of_hours",
            "unscheduled",
            "school_id",
            "requested_by__first_name",
            "requested_by__last_name",
            "requested_by__username",
            "risk_assessment__overall_risk",
            "risk_assessment__visit_id",
        )
        .prefetch_related(
            Prefetch("pupils", queryset=Pupil.objects.only("pk", "first_name", "last_name"))
        )
        .order_by("submitted_at", "pk")
    )


def _involving(user: User) -> QuerySet[Visit]:
    """The visits `user` requested or is a visitor on, at their schools.

    "Is a visitor on" is an EXISTS, not a join: a join needs DISTINCT over every row of the
    trust's visits and visitors (issue 15), EXISTS lets PostgreSQL start from whatever index
    narrows the visits most and check each one with the (visit, user) unique index."""
    visitor = Visitor.objects.filter(visit=OuterRef("pk"), user=user)
    return Visit.objects.filter(
        Q(requested_by=user) | Exists(visitor), school__in=schools_for_user(user)
    )


def decision_facts(*, visit: Visit) -> dict:
    """What an authoriser reads before deciding besides the assessment (R-AUTH-6): the
    household's risk flags and each warning the requester confirmed when submitting (R-REQ-4,
    R-REQ-8), in plain words. Two queries whatever the household holds."""
    from schools.models import HouseholdRiskFlag

    flags = list(
        HouseholdRiskFlag.objects.filter(household_id=visit.household_id).select_related(
            "recorded_by"
        )
    )
    warnings = []
    school = visit.school
    if visit.evening_warning_seen_at:
        warnings.append(
            {
                "title": "Evening or out-of-hours visit",
                "text": f"The visit is outside the school's visiting hours "
                f"({school.morning_starts_at:%H:%M}–{school.evening_starts_at:%H:%M}); evening "
                "visits are strongly discouraged.",
                "seen_at": visit.evening_warning_seen_at,
            }
        )
    if visit.few_numbers_warning_seen_at:
        numbers = visit.household.contact_numbers.filter(current=True).count()
        warnings.append(
            {
                "title": "Fewer contact numbers than the school expects",
                "text": f"The household has {numbers} current contact "
                f"number{'' if numbers == 1 else 's'}; the school expects at least "
                f"{school.contact_numbers_minimum}.",
                "seen_at": visit.few_numbers_warning_seen_at,
            }
        )
    return {"household_flags": flags, "confirmed_warnings": warnings}


# What needs doing next, in the order a member of staff reads their dashboard.
DASHBOARD_GROUPS = (
    ("changes_requested", "Changes requested", (Status.CHANGES_REQUESTED,)),
    ("drafts", "Drafts to finish and submit", (Status.DRAFT,)),
    ("record_due", "Back: the Home Visit record is due", (Status.RETURNED,)),
    ("out", "Out on a visit now", (Status.OUT,)),
    ("authorised", "Authorised and upcoming", (Status.AUTHORISED,)),
    ("waiting", "Waiting for authorisation", (Status.SUBMITTED,)),
    ("closed", "Recently closed", (Status.RECORDED, Status.REFUSED, Status.CANCELLED)),
)


def my_visits_grouped(*, user: User, recent_days: int = 30) -> list[dict]:
    """The staff dashboard: the user's visits grouped by what needs doing next, one query."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(days=recent_days)
    # Issue 15: the open statuses named (the status index finds them) or a change in the last
    # `recent_days` (the updated_at index): the cost follows the visits still in play and
    # lately closed, not the trust's whole history.
    closed = (Status.RECORDED, Status.REFUSED, Status.CANCELLED)
    visits = (
        _involving(user)
        .filter(Q(status__in=[s for s in Status if s not in closed]) | Q(updated_at__gte=since))
        # Only what a row shows (templates/visits/includes/visit_row.html): fewer joins to plan.
        .select_related("household", "risk_assessment")
        .prefetch_related(
            Prefetch("pupils", queryset=Pupil.objects.only("pk", "first_name", "last_name")),
            Prefetch("visitors", queryset=Visitor.objects.select_related("user")),
        )
        .order_by("planned_start", "pk")
    )
    by_status: dict[str, list[Visit]] = {}
    for visit in visits:
        by_status.setdefault(visit.status, []).append(visit)
    return [
        {
            "key": key,
            "title": title,
            "visits": [v for status in statuses for v in by_status.get(status, [])],
        }
        for key, title, statuses in DASHBOARD_GROUPS
    ]


def calendar_visits(*, feed) -> QuerySet[Visit]:
    """The visits a calendar feed shows: from 30 days ago to 180 days ahead, drafts left out.

    A whole-school feed stops working when its owner no longer authorises at the school.
    """
    from datetime import timedelta

    from django.utils import timezone

    from .models import CalendarFeed

    now = timezone.now()
    visits = Visit.objects.exclude(status=Status.DRAFT).filter(
        planned_start__gte=now - timedelta(days=30), planned_start__lte=now + timedelta(days=180)
    )
    if feed.scope == CalendarFeed.Scope.SCHOOL:
        if not feed.user.has_perm("schools.authorise_visits", feed.school):
            return Visit.objects.none()
        visits = visits.filter(school=feed.school)
    else:
        visits = visits.filter(
            visitors__user=feed.user,
            visitors__withdrawn_at__isnull=True,
            school__in=schools_for_user(feed.user),
        )
    return (
        visits.select_related("school")
        .prefetch_related(Prefetch("visitors", queryset=Visitor.objects.select_related("user")))
        .distinct()
    )


def calendar_feed_for_token(*, token: str):
    from .models import CalendarFeed

    feed = (
        CalendarFeed.objects.select_related("user", "school")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404("No such calendar.")
    return feed


def households_short_of_numbers(*, user: User):
    """R-REQ-8: the data-quality page — households with fewer current numbers than the school
    expects."""
    from django.db.models import Count, F

    from schools.models import Household

    schools = schools_requiring(user, "view_all_visits")
    return (
        Household.objects.filter(school__in=schools)
        .annotate(current_numbers=Count("contact_numbers", filter=Q(contact_numbers__current=True)))
        .filter(current_numbers__lt=F("school__contact_numbers_minimum"))
        .select_related("school")
        .prefetch_related("pupils")
        .order_by("school__name", "postcode")
    )


# ---------------------------------------------------------------------------------------------
# Every visit of the school: the DSL's and the Headteacher's searchable list
# ---------------------------------------------------------------------------------------------

VISIT_SORTS = {
    "-start": ("-planned_start", "-pk"),
    "start": ("planned_start", "pk"),
    "status": ("status", "-planned_start", "-pk"),
    "-submitted": ("-submitted_at", "-pk"),
    "address": ("household__address_line_1", "-planned_start", "-pk"),
}
RISK_CHOICES = (("low", "Low"), ("medium", "Medium"), ("high", "High"), ("none", "Not assessed"))


def visit_list_schools(*, user: User) -> QuerySet:
    """The schools whose every visit `user` may list: DSLs, Heads and trust leads
    (view_all_visits). Anyone else: 403 (R-SEC-1)."""
    return schools_requiring(user, "view_all_visits")


def visit_list(*, user: User, filters: dict, now=None) -> QuerySet[Visit]:
    """Every visit at the schools where `user` sees all visits, filtered and sorted.

    `filters` are a VisitFilterForm's cleaned data. The queryset holds only what a list row
    shows, and each filter is a condition on the visit itself (subqueries, no joins that
    multiply rows), so a page costs the same queries however many visits the school has.
    """
    import datetime

    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    now = now or timezone.now()
    schools = list(visit_list_schools(user=user).only("pk", "record_deadline_hours"))
    school = filters.get("school")
    if school is not None:
        schools = [s for s in schools if s.pk == school.pk]
    visits = Visit.objects.filter(school_id__in=[s.pk for s in schools])

    pupils_on = Visit.pupils.through.objects.filter(visit_id=OuterRef("pk"))
    search = (filters.get("q") or "").strip()
    if search:
        condition = Q(household__address_line_1__icontains=search) | Q(
            household__postcode__icontains=search.replace(" ", "")
        )
        condition |= Q(household__postcode__icontains=search)
        words = search.split()
        named = pupils_on
        for word in words:
            named = named.filter(
                Q(pupil__first_name__icontains=word) | Q(pupil__last_name__icontains=word)
            )
        condition |= Exists(named)
        if is_whole_number(search.lstrip("#")):
            condition |= Q(pk=int(search.lstrip("#")))
        visits = visits.filter(condition)
    if filters.get("pupil"):
        visits = visits.filter(Exists(pupils_on.filter(pupil_id=filters["pupil"].pk)))
    if filters.get("household"):
        visits = visits.filter(household_id=filters["household"].pk)
    if filters.get("staff"):
        staff = filters["staff"]
        visits = visits.filter(
            Q(requested_by_id=staff.pk)
            | Exists(Visitor.objects.filter(visit_id=OuterRef("pk"), user_id=staff.pk))
        )
    if filters.get("status"):
        visits = visits.filter(status__in=filters["status"])
    risk = filters.get("risk")
    if risk == "none":
        visits = visits.filter(risk_assessment__isnull=True)
    elif risk:
        visits = visits.filter(risk_assessment__overall_risk=risk)
    if filters.get("date_from"):
        start = datetime.datetime.combine(filters["date_from"], datetime.time.min)
        visits = visits.filter(planned_start__gte=timezone.make_aware(start))
    if filters.get("date_to"):
        end = datetime.datetime.combine(
            filters["date_to"] + datetime.timedelta(days=1), datetime.time.min
        )
        visits = visits.filter(planned_start__lt=timezone.make_aware(end))
    if filters.get("doorstep"):
        visits = visits.filter(kind="doorstep")
    if filters.get("out_of_hours"):
        visits = visits.filter(out_of_hours=True)
    if filters.get("overdue_record"):
        # R-REC-3: back, and the record more than the school's deadline (24 h) past return.
        overdue = Q(pk__in=[])
        for each in schools:
            deadline = datetime.timedelta(hours=each.record_deadline_hours)
            overdue |= Q(school_id=each.pk, returned_at__lte=now - deadline)
        visits = visits.filter(overdue, status=Status.RETURNED)

    order = VISIT_SORTS.get(filters.get("sort") or "-start", VISIT_SORTS["-start"])
    return (
        visits.select_related("household", "requested_by", "risk_assessment", "school")
        .only(
            "pk",
            "status",
            "kind",
            "reason",
            "reason_other",
            "planned_start",
            "planned_end",
            "submitted_at",
            "returned_at",
            "out_of_hours",
            "unscheduled",
            "school__name",
            "school__record_deadline_hours",
            "household__address_line_1",
            "household__postcode",
            "requested_by__first_name",
            "requested_by__last_name",
            "requested_by__username",
            "risk_assessment__overall_risk",
            "risk_assessment__visit_id",
        )
        .prefetch_related(
            Prefetch("pupils", queryset=Pupil.objects.only("pk", "first_name", "last_name")),
            Prefetch(
                "visitors",
                queryset=Visitor.objects.select_related("user").only(
                    "pk",
                    "visit_id",
                    "withdrawn_at",
                    "user__first_name",
                    "user__last_name",
                    "user__username",
                ),
            ),
        )
        .order_by(*order)
    )


def visits_of_pupil(*, user: User, pupil: Pupil, limit: int = 20) -> tuple[list[Visit], bool]:
    """The pupil's visits that `user` may see, newest first: all of them for DSLs, Heads and
    trust leads (view_all_visits); for anyone else only those they requested or went on.
    Returns (up to `limit` visits, whether `user` may open the full list)."""
    from django.db.models import Exists, OuterRef

    sees_all = user.has_perm("schools.view_all_visits", pupil.school)
    visits = Visit.objects.filter(
        school_id=pupil.school_id,
        pk__in=Visit.pupils.through.objects.filter(pupil_id=pupil.pk).values("visit_id"),
    )
    if not sees_all:
        visits = visits.filter(
            Q(requested_by_id=user.pk)
            | Exists(Visitor.objects.filter(visit_id=OuterRef("pk"), user_id=user.pk))
        )
    rows = list(
        visits.select_related("requested_by", "risk_assessment").order_by("-planned_start", "-pk")[
            :limit
        ]
    )
    return rows, sees_all
