"""Requesting a visit: the request drafted and edited (R-REQ-1, R-REQ-3; an authorised visit
whose time, visitors or address change goes back for authorisation, R-AUTH-5), the checks before
submission (R-REQ-2..5, R-REQ-7, R-REQ-8, and the gates other apps add through visits.signals)
and the submission itself, which emails the authorisers.

Each transition checks its rules, moves the status with a conditional update (so two clicks,
or two DSLs, cannot both win) and writes the audit event in the same transaction.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import Household, Membership, Pupil, Role, School, User

from . import signals
from .authorisation import authorisers_for, visit_return_for_authorisation
from .common import VisitBlocked, VisitConflict
from .models import EDITABLE, Status, Visit, Visitor
from .notify import visit_email_later

# Fields whose change after authorisation sends a visit back for authorisation (R-AUTH-5).
REAUTHORISE_FIELDS = ("planned_start", "planned_end", "planned_return", "household_id", "kind")
VISIT_FIELDS = (
    "kind",
    "reason",
    "reason_other",
    "purpose",
    "outcome_wanted",
    "who_must_be_seen",
    "announced",
    "parents_told_how",
    "parents_told_at",
    "planned_start",
    "planned_end",
    "planned_return",
    "returns_to_school",
    "vehicle",
    "interpreter_needed",
    "interpreter_language",
    "cultural_notes",
    "unscheduled",
    "out_of_hours_manager",
)
VISITING_ROLES = (Role.STAFF, Role.DSL, Role.DEPUTY_DSL, Role.HEAD)


class WarningsNotConfirmed(Exception):
    def __init__(self, warnings: list[str]):
        super().__init__("; ".join(warnings))
        self.warnings = warnings


@dataclass
class SubmissionCheck:
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    out_of_hours: bool = False
    evening_warning: bool = False
    few_numbers_warning: bool = False


def _visit_changes(visit: Visit, before: dict) -> dict:
    changes = {}
    for name in (*VISIT_FIELDS, "household_id"):
        attname = f"{name}_id" if name == "out_of_hours_manager" else name
        new, old = getattr(visit, attname), before.get(attname)
        if new != old:
            changes[name] = [None if old is None else str(old), None if new is None else str(new)]
    return changes


# ---------------------------------------------------------------------------------------------
# Request: drafts and edits
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def visit_draft_save(
    *,
    actor: User,
    school: School,
    data: dict,
    pupils: list[Pupil],
    visitors: list[tuple[User, str]],
    visit: Visit | None = None,
    request_token: uuid.UUID | None = None,
) -> Visit:
    """Create a draft, or change a visit that can still be changed (R-REQ-1).

    Changing the time, visitors or address of an authorised visit returns it for
    authorisation (R-AUTH-5).
    """
    if visit is None and request_token is not None:
        existing = Visit.objects.filter(request_token=request_token, requested_by=actor).first()
        if existing is not None:
            return existing  # the same form posted twice (a double-click): one visit
    household = _check_request(school=school, data=data, pupils=pupils, visitors=visitors)

    if visit is None:
        visit = Visit(school=school, requested_by=actor, household=household)
        if request_token is not None:
            visit.request_token = request_token
        before = {}
    else:
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.status not in EDITABLE:
            raise VisitConflict(
                f"This visit is {visit.get_status_display().lower()} and can no longer be changed."
            )
        before = {f.attname: getattr(visit, f.attname) for f in Visit._meta.concrete_fields}
        visit.household = household
    for name, value in data.items():
        setattr(visit, name, value)
    visit.full_clean(exclude=["pupils", "request_token"])
    adding = visit.pk is None
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        # Two posts of one form raced past the check above: the other one saved the visit.
        return Visit.objects.get(request_token=visit.request_token)
    visit.pupils.set(pupils)
    visitors_before = set(visit.visitors.values_list("user_id", "role_on_visit"))
    _visitors_set(visit=visit, visitors=visitors)
    visitors_after = {(user.pk, role) for user, role in visitors}

    changes = _visit_changes(visit, before)
    if visitors_before != visitors_after:
        changes["visitors"] = [sorted(u for u, _ in visitors_before), sorted(visitors_after)]
    audit_event_create(
        actor=actor,
        school=school,
        obj=visit,
        event_type="visit.created" if adding else "visit.changed",
        changes=changes,
    )
    if not adding and before.get("status") == Status.AUTHORISED:
        reauthorise = any(name in changes for name in REAUTHORISE_FIELDS)
        visitors_changed = {u for u, _ in visitors_before} != {u for u, _ in visitors_after}
        if reauthorise or visitors_changed:
            visit_return_for_authorisation(
                actor=actor, visit=visit, why="time, visitors or address changed"
            )
            visit.refresh_from_db()
    return visit


def _check_request(*, school, data, pupils, visitors) -> Household:
    problems = []
    if not pupils:
        problems.append("Choose the pupil the visit is about.")
    elif any(p.school_id != school.pk for p in pupils):
        problems.append("Every pupil on a visit must belong to the school.")
    elif len({p.household_id for p in pupils}) > 1:
        problems.append("Pupils on one visit must live in the same household (siblings).")
    visitor_ids = [user.pk for user, _ in visitors]
    if len(set(visitor_ids)) != len(visitor_ids):
        problems.append("Each visitor can be named once.")
    eligible = set(
        Membership.objects.filter(
            school=school, user_id__in=visitor_ids, role__in=VISITING_ROLES, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if set(visitor_ids) - eligible:
        problems.append("Visitors must be members of staff at the school.")
    start, end, back = (data.get(k) for k in ("planned_start", "planned_end", "planned_return"))
    # R-REQ-3: the planned return is after the end, which is after the start.
    if start and end and end <= start:
        problems.append("The visit must end after it starts.")
    if end and back and back < end:
        problems.append("The return time must be after the visit ends.")
    manager = data.get("out_of_hours_manager")
    if manager is not None and not Membership.objects.filter(school=school, user=manager).exists():
        problems.append("The out-of-hours manager must be a member of the school.")
    if problems:
        raise VisitBlocked(problems)
    return pupils[0].household


def _visitors_set(*, visit: Visit, visitors: list[tuple[User, str]]) -> None:
    wanted = {user.pk: role for user, role in visitors}
    visit.visitors.exclude(user_id__in=wanted).delete()
    for user_id, role in wanted.items():
        Visitor.objects.update_or_create(
            visit=visit, user_id=user_id, defaults={"role_on_visit": role}
        )


# ---------------------------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------------------------


def visit_submission_check(
    *, visit: Visit, now: datetime.datetime | None = None
) -> SubmissionCheck:
    """What stops the visit being submitted, and what the requester must be warned about."""
    now = now or timezone.now()
    school = visit.school
    check = SubmissionCheck()
    active = list(visit.visitors.filter(withdrawn_at__isnull=True).select_related("user__profile"))

    # R-REQ-2 (and R-RA-3): visits are made in pairs. A school may lower the minimum to 1 only
    # for visits that are neither doorstep nor high risk.
    minimum = school.minimum_visitors
    if visit.is_doorstep:
        minimum = max(minimum, 2)
    if len(active) < minimum:
        check.blockers.append(
            "Visits are made in pairs: add a second visitor."
            if minimum == 2
            else f"This visit needs at least {minimum} visitors."
        )

    # R-REQ-3: not in the past, unless phoned in from the field (R-REQ-7).
    if visit.planned_start < now and not visit.unscheduled:
        check.blockers.append(
            "The planned start is in the past. Correct it, or record the visit as unscheduled."
        )

    # R-REQ-4: evening visits warn and need an out-of-hours manager.
    start, end = timezone.localtime(visit.planned_start), timezone.localtime(visit.planned_end)
    early, late = school.morning_starts_at, school.evening_starts_at
    if (
        start.time() < early
        or start.time() > late
        or end.time() > late
        or end.time() < early
        or end.date() != start.date()
    ):
        check.out_of_hours = check.evening_warning = True
        check.warnings.append(
            f"Evening visits are strongly discouraged: this visit is outside "
            f"{early:%H:%M}–{late:%H:%M}."
        )
        if visit.out_of_hours_manager_id is None:
            check.blockers.append("An out-of-hours visit needs a named out-of-hours manager.")

    # R-REQ-5: nobody clinically vulnerable on a doorstep visit.
    if visit.is_doorstep:
        vulnerable = [
            str(v.user)
            for v in active
            if getattr(getattr(v.user, "profile", None), "clinically_vulnerable", False)
        ]
        if vulnerable:
            check.blockers.append(
                f"{', '.join(vulnerable)} is clinically vulnerable and cannot be a visitor on a "
                "doorstep visit."
            )

    # R-REQ-7: unscheduled visits only to households visited before, risk re-checked today.
    if visit.unscheduled:
        visited_before = (
            Visit.objects.filter(household_id=visit.household_id, status=Status.RECORDED)
            .exclude(pk=visit.pk)
            .exists()
        )
        if not visited_before:
            check.blockers.append(
                "An unscheduled visit is never made to a household without an earlier completed "
                "visit."
            )
        if visit.risk_rechecked_at is None or (
            timezone.localdate(visit.risk_rechecked_at) != timezone.localdate(now)
        ):
            check.blockers.append(
                "Re-check the household's risk information today before an unscheduled visit."
            )

    # R-REQ-8: households hold at least two current numbers.
    numbers = visit.household.contact_numbers.filter(current=True).count()
    if numbers < school.contact_numbers_minimum:
        check.few_numbers_warning = True
        check.warnings.append(
            f"The household has {numbers} current contact number{'s' if numbers != 1 else ''}; "
            f"the school expects at least {school.contact_numbers_minimum}."
        )

    check.blockers.extend(signals.messages_from(signals.submission_checks, visit=visit))
    return check


@transaction.atomic
def visit_submit(*, actor: User, visit: Visit, warnings_confirmed: bool = False) -> Visit:
    """Send a draft (or a changed visit) for authorisation; the authorisers are emailed."""
    now = timezone.now()
    check = visit_submission_check(visit=visit, now=now)
    if check.blockers:
        raise VisitBlocked(check.blockers)
    if check.warnings and not warnings_confirmed:
        raise WarningsNotConfirmed(check.warnings)
    moved = Visit.objects.filter(
        pk=visit.pk, status__in=[Status.DRAFT, Status.CHANGES_REQUESTED]
    ).update(
        status=Status.SUBMITTED,
        submitted_at=now,
        out_of_hours=check.out_of_hours,
        evening_warning_seen_at=now if check.evening_warning else None,
        few_numbers_warning_seen_at=now if check.few_numbers_warning else None,
        updated_at=now,
    )
    visit.refresh_from_db()
    if not moved:
        if visit.status == Status.SUBMITTED:
            return visit  # submitted twice (a double-click): once is enough
        raise VisitConflict(
            f"This visit is {visit.get_status_display().lower()}: it cannot be submitted."
        )
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=visit,
        event_type="visit.submitted",
        changes={"warnings_seen": check.warnings, "out_of_hours": check.out_of_hours},
    )
    visit_email_later(visit=visit, name="visit_submitted", recipients=authorisers_for(visit))
    return visit
