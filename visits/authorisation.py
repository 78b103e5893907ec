"""Authorising a visit (R-AUTH-1..5): who may decide (`authorisers_for`,
`authorisation_problems`), the decision itself (authorise, request changes, refuse), the
Headteacher's consultation on a doorstep visit, and sending an authorised visit back for
authorisation when its time, visitors, address or assessment changed.

Each transition checks its rules, moves the status with a conditional update (so two clicks,
or two DSLs, cannot both win) and writes the audit event in the same transaction.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from audit.services import audit_event_create
from schools.models import Membership, Role, User
from schools.roles import AUTHORISING_ROLES
from schools.services import board_changed

from . import signals
from .common import VisitBlocked, VisitConflict
from .models import Authorisation, Status, Visit
from .notify import visit_email_later


def _local(value: datetime.datetime) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i")


def authorisers_for(visit: Visit) -> list[User]:
    """The people who may authorise this visit (R-AUTH-1, R-AUTH-2)."""
    roles = [Role.HEAD] if visit.school.closure_mode else list(AUTHORISING_ROLES)
    excluded = {visit.requested_by_id, *visit.visitors.values_list("user_id", flat=True)}
    return list(
        User.objects.filter(
            memberships__school_id=visit.school_id, memberships__role__in=roles, is_active=True
        )
        .exclude(pk__in=excluded)
        .distinct()
    )


def authorisation_problems(*, actor: User, visit: Visit) -> list[str]:
    """Why `actor` may not decide on `visit` (R-AUTH-1, R-AUTH-2). Empty: they may."""
    problems = []
    roles = set(
        Membership.objects.filter(user=actor, school_id=visit.school_id).values_list(
            "role", flat=True
        )
    )
    is_trust_lead = (
        visit.school.trust_id is not None
        and actor.trust_roles.filter(trust_id=visit.school.trust_id).exists()
    )
    if visit.school.closure_mode:
        if Role.HEAD not in roles:
            problems.append(
                "The school is in closure mode: only the Headteacher authorises visits."
            )
    elif not (roles & set(AUTHORISING_ROLES)) and not is_trust_lead:
        problems.append("Only the Headteacher, the DSL or a Deputy DSL can authorise visits.")
    if visit.requested_by_id == actor.pk:
        problems.append("You requested this visit, so someone else must authorise it.")
    elif visit.visitors.filter(user=actor).exists():
        problems.append("You are a visitor on this visit, so someone else must authorise it.")
    return problems


def _decide(
    *,
    actor: User,
    visit: Visit,
    decision: str,
    new_status: str,
    conditions: str = "",
    reason: str = "",
    email: str,
) -> Visit:
    problems = authorisation_problems(actor=actor, visit=visit)
    if decision == Authorisation.Decision.AUTHORISED:
        # R-AUTH-3: a doorstep visit needs the Headteacher's consultation recorded.
        if visit.is_doorstep and visit.head_consulted_at is None:
            problems.append("A doorstep visit needs the Headteacher's consultation recorded first.")
        problems.extend(signals.messages_from(signals.authorisation_checks, visit=visit))
    if problems:
        raise VisitBlocked(problems)
    now = timezone.now()
    update = {"status": new_status, "updated_at": now}
    if decision == Authorisation.Decision.AUTHORISED:
        update.update(authorised_by=actor, authorised_at=now)
    moved = Visit.objects.filter(pk=visit.pk, status=Status.SUBMITTED).update(**update)
    if not moved:
        raise VisitConflict(_why_not_waiting(visit))
    board_changed(visit.school_id)  # issue 15: authorised visits wait on the sign-out board
    Authorisation.objects.create(
        visit=visit,
        decided_by=actor,
        decided_at=now,
        decision=decision,
        conditions=conditions,
        reason=reason,
    )
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=visit,
        event_type=f"visit.{decision}",
        changes={"conditions": conditions, "reason": reason},
    )
    visit.refresh_from_db()
    recipients = [visit.requested_by, *(v.user for v in visit.visitors.select_related("user"))]
    visit_email_later(visit=visit, name=email, recipients=recipients)
    return visit


def _why_not_waiting(visit: Visit) -> str:
    fresh = Visit.objects.get(pk=visit.pk)
    last = fresh.authorisations.select_related("decided_by").order_by("-decided_at").first()
    if last is not None and fresh.status in (
        Status.AUTHORISED,
        Status.REFUSED,
        Status.CHANGES_REQUESTED,
    ):
        return (
            f"This visit was already {last.get_decision_display().lower()} by "
            f"{last.decided_by} at {_local(last.decided_at)}."
        )
    return f"This visit is {fresh.get_status_display().lower()}, not waiting for authorisation."


@transaction.atomic
def visit_authorise(*, actor: User, visit: Visit, conditions: str = "") -> Visit:
    """R-AUTH-4: records who, when and any conditions — the 001 form's 'Visit authorised by'."""
    return _decide(
        actor=actor,
        visit=visit,
        decision=Authorisation.Decision.AUTHORISED,
        new_status=Status.AUTHORISED,
        conditions=conditions.strip(),
        email="visit_authorised",
    )


@transaction.atomic
def visit_request_changes(*, actor: User, visit: Visit, what_to_change: str) -> Visit:
    if not what_to_change.strip():
        raise VisitBlocked("Say what needs to change.")
    return _decide(
        actor=actor,
        visit=visit,
        decision=Authorisation.Decision.CHANGES_REQUESTED,
        new_status=Status.CHANGES_REQUESTED,
        reason=what_to_change.strip(),
        email="visit_changes_requested",
    )


@transaction.atomic
def visit_refuse(*, actor: User, visit: Visit, reason: str) -> Visit:
    # R-AUTH-4: a refusal needs a reason.
    if not reason.strip():
        raise VisitBlocked("Give the reason for refusing the visit.")
    return _decide(
        actor=actor,
        visit=visit,
        decision=Authorisation.Decision.REFUSED,
        new_status=Status.REFUSED,
        reason=reason.strip(),
        email="visit_refused",
    )


@transaction.atomic
def visit_return_for_authorisation(*, actor: User | None, visit: Visit, why: str) -> Visit:
    """R-AUTH-5: an authorised visit whose time, visitors, address or assessment changed goes
    back to the authorisers. Used by visit_draft_save and by the risk assessment service."""
    now = timezone.now()
    moved = Visit.objects.filter(pk=visit.pk, status=Status.AUTHORISED).update(
        status=Status.SUBMITTED,
        submitted_at=now,
        authorised_by=None,
        authorised_at=None,
        updated_at=now,
    )
    visit.refresh_from_db()
    if moved:
        board_changed(visit.school_id)  # issue 15: it leaves the board's waiting list
        audit_event_create(
            actor=actor,
            school=visit.school,
            obj=visit,
            event_type="visit.returned_for_authorisation",
            changes={"why": why},
        )
        visit_email_later(visit=visit, name="visit_submitted", recipients=authorisers_for(visit))
    return visit


@transaction.atomic
def visit_record_head_consultation(*, actor: User, visit: Visit, notes: str = "") -> Visit:
    """R-AUTH-3: the Headteacher records that they were consulted on a doorstep visit."""
    if not Membership.objects.filter(
        user=actor, school_id=visit.school_id, role=Role.HEAD
    ).exists():
        raise VisitBlocked("Only the Headteacher can record the Headteacher's consultation.")
    now = timezone.now()
    moved = Visit.objects.filter(pk=visit.pk, head_consulted_at__isnull=True).update(
        head_consulted_by=actor, head_consulted_at=now, updated_at=now
    )
    if moved:
        audit_event_create(
            actor=actor,
            school=visit.school,
            obj=visit,
            event_type="visit.head_consulted",
            changes={"notes": notes},
        )
    visit.refresh_from_db()
    return visit
