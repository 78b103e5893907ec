"""Calling a visit off: cancelling it (R-REQ-6; the office, the authoriser and the visitors
are told, and tracking stops the ladder of a visit cancelled while out, through
visits.signals.visit_cancelled) and a visitor withdrawing from it (R-REQ-5), which sends it back
for authorisation (R-AUTH-5).

Each transition checks its rules, moves the status with a conditional update (so two clicks,
or two DSLs, cannot both win) and writes the audit event in the same transaction.
"""

from django.db import transaction
from django.utils import timezone

from audit.services import audit_event_create
from schools.models import Role, User
from schools.services import board_changed

from . import signals
from .authorisation import visit_return_for_authorisation
from .common import VisitBlocked, VisitConflict
from .models import CANCELLABLE, EDITABLE, Status, Visit, Visitor
from .notify import visit_email_later


@transaction.atomic
def visit_cancel(*, actor: User, visit: Visit, reason: str) -> Visit:
    """R-REQ-6: who, when and why; the office and the authoriser are told."""
    if not reason.strip():
        raise VisitBlocked("Give the reason for cancelling the visit.")
    now = timezone.now()
    moved = Visit.objects.filter(pk=visit.pk, status__in=CANCELLABLE).update(
        status=Status.CANCELLED,
        cancelled_by=actor,
        cancelled_at=now,
        cancel_reason=reason.strip(),
        updated_at=now,
    )
    visit.refresh_from_db()
    if not moved:
        if visit.status == Status.CANCELLED:
            return visit
        raise VisitConflict(
            f"This visit is {visit.get_status_display().lower()}: the visitors have returned, "
            "so it can no longer be cancelled."
        )
    board_changed(visit.school_id)  # issue 15: the board's version, in this transaction
    audit_event_create(
        actor=actor,
        school=visit.school,
        obj=visit,
        event_type="visit.cancelled",
        changes={"reason": reason.strip()},
    )
    # A visit cancelled while out stops its escalation ladder (tracking owns the sign-out).
    signals.visit_cancelled.send(sender=Visit, visit=visit, actor=actor)
    office = User.objects.filter(
        memberships__school_id=visit.school_id, memberships__role=Role.OFFICE, is_active=True
    ).distinct()
    told = [*office, *([visit.authorised_by] if visit.authorised_by else [])]
    told += [v.user for v in visit.visitors.select_related("user") if v.user_id != actor.pk]
    visit_email_later(visit=visit, name="visit_cancelled", recipients=told)
    return visit


@transaction.atomic
def visitor_withdraw(*, actor: User, visit: Visit) -> Visit:
    """R-REQ-5: doorstep visits are voluntary; a visitor may withdraw. The visit then needs
    another visitor, and goes back for authorisation if it was authorised (R-AUTH-5)."""
    now = timezone.now()
    moved = Visitor.objects.filter(visit=visit, user=actor, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    if not moved:
        raise VisitBlocked("You are not a visitor on this visit.")
    if visit.status not in EDITABLE:
        raise VisitConflict("The visit has started; speak to the office instead.")
    audit_event_create(
        actor=actor, school=visit.school, obj=visit, event_type="visit.visitor_withdrew"
    )
    visit_return_for_authorisation(actor=actor, visit=visit, why="a visitor withdrew")
    if visit.status == Status.SUBMITTED:
        Visit.objects.filter(pk=visit.pk, status=Status.SUBMITTED).update(
            status=Status.CHANGES_REQUESTED
        )
    visit.refresh_from_db()
    return visit
