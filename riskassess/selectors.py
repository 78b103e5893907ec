"""Reads of risk assessments, the contact log and closure-mode monitoring, applying the access
rules (R-SEC-1): another school's object is a 404; a role that may not read it is a 403. Office
staff and managers never read assessments or the contact log."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from contacts.models import ContactLog
from schools.models import Household, Pupil, School, User
from schools.selectors import object_for_user, schools_requiring, schools_with_permission
from visits.models import Visit
from visits.selectors import visit_get

from .closure import FastCalendar, MissingFamily, assess_family
from .models import ClosurePeriod, HazardRow, RiskAssessment, SchoolHoliday


def assessment_visit_get(*, user: User, visit_pk, perm: str | None = None) -> Visit:
    """The visit whose assessment `user` may read: its requester, its visitors, and the school's
    DSLs, Headteacher and trust leads (visits.selectors.visit_get). Office staff: 403."""
    return visit_get(user=user, pk=visit_pk, perm=perm)


def assessment_of(visit: Visit) -> RiskAssessment | None:
    return (
        RiskAssessment.objects.select_related("assessor", "signed_off_by")
        .prefetch_related(
            Prefetch("hazard_rows", queryset=HazardRow.objects.select_related("risk_flag"))
        )
        .filter(visit_id=visit.pk)
        .first()
    )


def contact_household_get(*, user: User, pk) -> Household:
    """A household whose contact log `user` may read and add to: staff and DSLs of its school
    (view_directory). Office staff and managers: 403 (R-SEC-1)."""
    queryset = Household.objects.select_related("school").prefetch_related(
        "contact_numbers", "pupils"
    )
    return object_for_user(queryset, user, pk=pk, perm="view_directory")


def contact_log_of(*, household: Household) -> QuerySet[ContactLog]:
    """R-REC-7: the household's contacts and attempts, newest first."""
    return ContactLog.objects.filter(household=household).select_related(
        "pupil", "contact_number", "professional", "recorded_by"
    )


# ---------------------------------------------------------------------------------------------
# Closure mode: families missing contact (R-CLO-2)
# ---------------------------------------------------------------------------------------------


@dataclass
class ClosureMonitor:
    school: School
    closure_started_on: datetime.date | None
    call_due: list[MissingFamily] = field(default_factory=list)
    inform_local_authority: list[MissingFamily] = field(default_factory=list)
    holidays: list[SchoolHoliday] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.call_due) + len(self.inform_local_authority)


def closure_monitors(
    *, user: User, today: datetime.date | None = None, raise_if_none: bool = True
) -> list[ClosureMonitor]:
    """R-CLO-2: for each school of the user's in closure mode where they read records (DSLs,
    the Headteacher, trust leads), the families with no acknowledged contact. The number of
    queries does not grow with the number of families."""
    schools_query = (
        schools_requiring(user, "view_records")
        if raise_if_none
        else schools_with_permission(user, "view_records")
    )
    schools = list(schools_query.filter(closure_mode=True).order_by("name"))
    if not schools:
        return []
    today = today or timezone.localdate()
    school_ids = [s.pk for s in schools]
    holidays: dict[int, list[SchoolHoliday]] = {pk: [] for pk in school_ids}
    for holiday in SchoolHoliday.objects.filter(school_id__in=school_ids):
        holidays[holiday.school_id].append(holiday)
    started: dict[int, datetime.date] = {}
    open_closures = ClosurePeriod.objects.filter(
        school_id__in=school_ids, starts_on__lte=today, ends_on__isnull=True
    ).order_by("starts_on")
    for closure in open_closures:
        started[closure.school_id] = closure.starts_on  # the latest open closure wins

    contacts = ContactLog.objects.filter(household=OuterRef("pk")).order_by("-occurred_at", "-id")
    households = (
        Household.objects.filter(school_id__in=school_ids)
        .filter(Exists(Pupil.objects.filter(household=OuterRef("pk"))))
        .annotate(
            last_acknowledged_at=Subquery(
                contacts.filter(outcome__in=ContactLog.ACKNOWLEDGED_OUTCOMES).values("occurred_at")[
                    :1
                ]
            ),
            last_attempt_at=Subquery(contacts.values("occurred_at")[:1]),
            last_attempt_outcome=Subquery(contacts.values("outcome")[:1]),
        )
        .prefetch_related(Prefetch("pupils", queryset=Pupil.objects.order_by("first_name")))
        .order_by("address_line_1", "pk")
    )
    households = list(households)

    earliest = min(
        [today]
        + list(started.values())
        + [timezone.localdate(h.last_acknowledged_at) for h in households if h.last_acknowledged_at]
    )
    monitors = {
        school.pk: ClosureMonitor(
            school=school,
            closure_started_on=started.get(school.pk),
            holidays=[h for h in holidays[school.pk] if h.ends_on >= today],
        )
        for school in schools
    }
    calendars = {
        school.pk: FastCalendar(
            [(h.starts_on, h.ends_on) for h in holidays[school.pk]],
            earliest,
            today,
        )
        for school in schools
    }
    outcomes = dict(ContactLog.Outcome.choices)
    for household in households:
        school = monitors[household.school_id].school
        family = assess_family(
            household=household,
            pupils=list(household.pupils.all()),
            last_acknowledged_at=household.last_acknowledged_at,
            last_attempt_at=household.last_attempt_at,
            last_attempt_outcome=outcomes.get(household.last_attempt_outcome or "", ""),
            closure_started_on=started.get(household.school_id),
            calendar=calendars[household.school_id],
            today=today,
            school_days_limit=school.missing_contact_school_days,
            local_authority_days=school.inform_local_authority_days,
            local_date=timezone.localdate,
        )
        if family is None:
            continue
        monitor = monitors[household.school_id]
        if family.inform_local_authority:
            monitor.inform_local_authority.append(family)
        else:
            monitor.call_due.append(family)
    for monitor in monitors.values():
        monitor.call_due.sort(key=lambda f: (f.call_due_on or today, -(f.school_days or 99)))
        monitor.inform_local_authority.sort(key=lambda f: -(f.calendar_days or 0))
    return [monitors[s.pk] for s in schools]
